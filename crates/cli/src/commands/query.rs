//! `between query STUDY freq|matrix|cooccur|codes …` and `between search STUDY TEXT`: the
//! questions of `between-findings`, printed as tables (or CSV, JSON).

use std::io::{self, Write};

use anyhow::{Context, Result, bail};
use between_core::CodeId;
use between_findings::{
    CodeQuery, CodingFilter, Corpus, Excerpt, Grouping, Matrix, Proximity, SearchFilter, TextQuery,
};

use super::{Ctx, csv_stdout, json};
use crate::args::{
    CaseKind, CodingChoice, CooccurMode, ListFormat, QueryArgs, QueryCmd, SearchArgs,
};

fn codes_of(corpus: &Corpus, references: &[String]) -> Result<Option<Vec<CodeId>>> {
    if references.is_empty() {
        return Ok(None);
    }
    references
        .iter()
        .map(|r| Ok(corpus.resolve_code(r)?.id))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn filter_of(choice: &CodingChoice) -> CodingFilter {
    CodingFilter {
        coders: (!choice.coders.is_empty()).then(|| choice.coders.clone()),
        include_subcodes: choice.include_subcodes,
    }
}

/// Prints rows as aligned columns (numbers to the right).
fn table(header: &[String], rows: &[Vec<String>]) -> Result<()> {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    outln!("{}", line(header));
    for r in rows {
        outln!("{}", line(r));
    }
    Ok(())
}

fn csv_out(header: &[String], rows: &[Vec<String>]) -> Result<()> {
    let mut w = csv_stdout();
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.flush()?;
    Ok(())
}

fn emit(format: ListFormat, header: &[String], rows: &[Vec<String>]) -> Result<()> {
    match format {
        ListFormat::Csv => csv_out(header, rows),
        _ => table(header, rows),
    }
}

pub(super) fn query(ctx: &Ctx, a: QueryArgs) -> Result<()> {
    let corpus = ctx.corpus(&a.study)?;
    match a.query {
        QueryCmd::Freq { by, choice, format } => {
            let by: Grouping = by.parse().map_err(anyhow::Error::msg)?;
            by_group(&corpus, &by, &choice, format, frequencies)
        }
        QueryCmd::Matrix {
            cases,
            attribute,
            choice,
            format,
        } => {
            let by = match (attribute, cases) {
                (Some(key), _) => Grouping::Attribute(key),
                (None, Some(CaseKind::Dyads)) => Grouping::Dyad,
                (None, Some(CaseKind::Sources)) => Grouping::Source,
                (None, _) => Grouping::Participant,
            };
            by_group(&corpus, &by, &choice, format, matrix)
        }
        QueryCmd::Cooccur {
            mode,
            within,
            choice,
            format,
        } => {
            let proximity = match (mode, within) {
                (CooccurMode::Overlap, _) => Proximity::Overlap,
                (CooccurMode::Turn, _) => Proximity::SameTurn,
                (CooccurMode::Near, Some(n)) => Proximity::Near(n),
                (CooccurMode::Near, None) => bail!("--mode near needs --within N (characters)"),
            };
            let codes = codes_of(&corpus, &choice.codes)?;
            let m = corpus.cooccurrence(proximity, codes.as_deref(), &filter_of(&choice));
            if format == ListFormat::Json {
                return json(&m);
            }
            let rolled_up = if m.include_subcodes {
                ", sub-codes counted for the codes above"
            } else {
                ""
            };
            let mut header = vec![format!("code × code ({}{rolled_up})", m.mode)];
            header.extend(m.codes.iter().map(|c| c.path.clone()));
            let rows: Vec<Vec<String>> = m
                .codes
                .iter()
                .zip(&m.counts)
                .map(|(c, counts)| {
                    let mut row = vec![c.path.clone()];
                    row.extend(counts.iter().map(usize::to_string));
                    row
                })
                .collect();
            emit(format, &header, &rows)
        }
        QueryCmd::Codes {
            expression,
            context,
            include_subcodes,
            contrast,
            coders,
            limit,
            format,
        } => {
            let q = CodeQuery::parse(&expression, &corpus, include_subcodes)
                .with_context(|| format!("in the query '{expression}'"))?;
            let filter = CodingFilter {
                coders: (!coders.is_empty()).then_some(coders),
                include_subcodes,
            };
            let r = corpus.code_query(&q, &filter, contrast, context, 0..limit);
            match format {
                ListFormat::Json => json(&r),
                _ => {
                    excerpts(&r.passages, format, &[])?;
                    if format == ListFormat::Text {
                        outln!(
                            "{} passages in {} sources{}",
                            r.total,
                            r.sources,
                            shown_note(r.passages.len(), r.total)
                        );
                    }
                    Ok(())
                }
            }
        }
    }
}

/// The codes chosen × the groups of `by`: JSON, or printed by `print`.
fn by_group(
    corpus: &Corpus,
    by: &Grouping,
    choice: &CodingChoice,
    format: ListFormat,
    print: fn(&Matrix, ListFormat) -> Result<()>,
) -> Result<()> {
    let codes = codes_of(corpus, &choice.codes)?;
    let m = corpus.matrix(by, codes.as_deref(), &filter_of(choice))?;
    if format == ListFormat::Json {
        return json(&m);
    }
    print(&m, format)?;
    if format == ListFormat::Text {
        outln!("\n{}", m.rule);
    }
    Ok(())
}

fn shown_note(shown: usize, total: usize) -> String {
    if shown < total {
        format!(" (the first {shown} shown; --limit shows more)")
    } else {
        String::new()
    }
}

/// One line per code and group: codings, contrast codings, sources, cases.
fn frequencies(m: &Matrix, format: ListFormat) -> Result<()> {
    let header: Vec<String> = [
        "code",
        m.by.as_str(),
        "codings",
        "contrast",
        "sources",
        "cases",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rows = Vec::new();
    for row in &m.rows {
        let cells = m
            .columns
            .iter()
            .map(|c| c.label.as_str())
            .zip(&row.cells)
            .chain([("total", &row.total)]);
        for (label, cell) in cells {
            if cell.codings + cell.contrast == 0 {
                continue;
            }
            rows.push(vec![
                row.path.clone(),
                label.to_string(),
                cell.codings.to_string(),
                cell.contrast.to_string(),
                cell.sources.to_string(),
                cell.cases.to_string(),
            ]);
        }
    }
    emit(format, &header, &rows)
}

/// Codes × groups, codings per cell; the contrast codings in a column of their own.
fn matrix(m: &Matrix, format: ListFormat) -> Result<()> {
    let mut header = vec![format!("code × {}", m.by)];
    header.extend(m.columns.iter().map(|c| c.label.clone()));
    header.extend(["total".to_string(), "contrast".to_string()]);
    let rows: Vec<Vec<String>> = m
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![r.path.clone()];
            row.extend(r.cells.iter().map(|c| c.codings.to_string()));
            row.extend([r.total.codings.to_string(), r.total.contrast.to_string()]);
            row
        })
        .collect();
    emit(format, &header, &rows)
}

/// Keyword in context; `notes` add a column per excerpt (e.g. "already coded").
fn excerpts(list: &[Excerpt], format: ListFormat, notes: &[&str]) -> Result<()> {
    if format == ListFormat::Csv {
        let header: Vec<String> = [
            "source", "start", "end", "speaker", "role", "before", "text", "after", "note",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows: Vec<Vec<String>> = list
            .iter()
            .enumerate()
            .map(|(i, e)| {
                vec![
                    e.source_name.clone(),
                    e.span.start.to_string(),
                    e.span.end.to_string(),
                    e.speaker.clone().unwrap_or_default(),
                    e.role.map(|r| r.to_string()).unwrap_or_default(),
                    e.before.clone(),
                    e.text.clone(),
                    e.after.clone(),
                    notes.get(i).unwrap_or(&"").to_string(),
                ]
            })
            .collect();
        return csv_out(&header, &rows);
    }
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    for (i, e) in list.iter().enumerate() {
        let who = e.speaker.as_deref().unwrap_or("?");
        let note = notes.get(i).filter(|n| !n.is_empty());
        outln!(
            "{} {}–{} {who}{}",
            e.source_name,
            e.span.start,
            e.span.end,
            note.map(|n| format!(" [{n}]")).unwrap_or_default()
        );
        outln!(
            "    …{} [{}] {}…",
            flat(&e.before),
            flat(&e.text),
            flat(&e.after)
        );
    }
    Ok(())
}

pub(super) fn search(ctx: &Ctx, a: SearchArgs) -> Result<()> {
    let mut bench = ctx.open(&a.study)?;
    let corpus = Corpus::of(&bench)?;
    let query = TextQuery::parse(&a.text).with_context(|| format!("in the search '{}'", a.text))?;
    let sources = if a.sources.is_empty() {
        None
    } else {
        Some(
            a.sources
                .iter()
                .map(|name| {
                    corpus
                        .sources
                        .iter()
                        .find(|s| s.name == *name)
                        .map(|s| s.id)
                        .with_context(|| format!("no source '{name}'"))
                })
                .collect::<Result<Vec<_>>>()?,
        )
    };
    let filter = SearchFilter {
        sources,
        role: a.role,
    };
    let (Some(code), Some(coder)) = (&a.code_all, &a.coder) else {
        let r = corpus.search(&query, &filter, a.context, 0..a.limit);
        if a.format == ListFormat::Json {
            return json(&r);
        }
        excerpts(&r.hits, a.format, &[])?;
        if a.format == ListFormat::Text {
            outln!(
                "{} hits in {} sources{}",
                r.total,
                r.sources,
                shown_note(r.hits.len(), r.total)
            );
        }
        return Ok(());
    };
    let code = corpus.resolve_code(code)?.id;
    let plan = corpus.plan_code_all(&query, &filter, code, coder, a.context);
    if !a.apply {
        if a.format == ListFormat::Json {
            return json(&plan);
        }
        let shown: Vec<Excerpt> = plan
            .hits
            .iter()
            .take(a.limit)
            .map(|h| h.excerpt.clone())
            .collect();
        let notes: Vec<&str> = plan
            .hits
            .iter()
            .take(a.limit)
            .map(|h| if h.already_coded { "already coded" } else { "" })
            .collect();
        excerpts(&shown, a.format, &notes)?;
        if a.format == ListFormat::Text {
            outln!(
                "preview: {} hits in {} sources; {} would be coded {} as {}, {} already are (left as they are). Add --apply to code them.",
                plan.hits.len(),
                plan.sources,
                plan.to_code,
                plan.code_path,
                plan.coder,
                plan.already_coded
            );
        }
        return Ok(());
    }
    let batch = plan.batch(&corpus);
    let made = if batch.is_empty() {
        0
    } else {
        bench.apply_codings(batch)?.len()
    };
    if a.format == ListFormat::Json {
        return json(&serde_json::json!({
            "coded": made,
            "already_coded": plan.already_coded,
            "code": plan.code_path,
            "coder": plan.coder,
        }));
    }
    outln!(
        "coded {made} hits with {} as {} in one change ({} already coded, left as they are)",
        plan.code_path,
        plan.coder,
        plan.already_coded
    );
    Ok(())
}
