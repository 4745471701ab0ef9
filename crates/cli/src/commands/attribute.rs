//! `between attribute STUDY add|remove|list|import|suggest|confirm`: passages attributed to the
//! participants or dyads they speak about.

use std::io::{self, Write};

use anyhow::{Context, Result};
use between_core::{Span, text};
use between_study::{AttributionView, Workbench};

use super::{Ctx, json, open};
use crate::args::{AttributeArgs, AttributeCmd, Format};

/// Characters of a passage shown in a text listing.
const SHOWN: usize = 70;

pub(super) fn attribute(ctx: &Ctx, a: AttributeArgs) -> Result<()> {
    let mut bench = ctx.open(&a.study)?;
    match a.action {
        AttributeCmd::Add {
            source,
            quote,
            occurrence,
            start,
            end,
            about,
        } => {
            let made = match (quote, start, end) {
                (Some(q), _, _) => bench.attribute_quote(&source, &q, occurrence, &about)?,
                (None, Some(start), Some(end)) => {
                    bench.attribute(&source, Span { start, end }, &about)?
                }
                _ => anyhow::bail!("give --quote, or --start and --end"),
            };
            print_made(&bench, &made)
        }
        AttributeCmd::Remove { id } => {
            let id = id
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("'{id}' is not an attribution id (a UUID)"))?;
            let gone = bench.remove_attribution(id)?;
            outln!("removed attribution {}", gone.id);
            Ok(())
        }
        AttributeCmd::List { source, format } => {
            let views = bench.attributions(source.as_deref())?;
            match format {
                Format::Json => json(&views),
                Format::Text => print_views(&views),
            }
        }
        AttributeCmd::Import { file } => {
            let origin = file.display().to_string();
            let made = bench
                .import_attributions_csv(open(&file)?)
                .with_context(|| origin.clone())?;
            outln!("attributed {} passage(s) from {origin}", made.len());
            Ok(())
        }
        AttributeCmd::Suggest {
            source,
            aliases,
            format,
        } => {
            let aliases = aliases
                .iter()
                .map(|a| match a.rsplit_once('=') {
                    Some((words, who)) => Ok((words.trim().to_string(), who.trim().to_string())),
                    None => Err(anyhow::anyhow!(
                        "--alias '{a}': give WORDS=LABEL, as in --alias \"the Boss=C1\""
                    )),
                })
                .collect::<Result<Vec<_>>>()?;
            let suggestions = bench.attribution_suggestions(source.as_deref(), &aliases)?;
            if format == Format::Json {
                return json(&suggestions);
            }
            for s in &suggestions {
                outln!("{}", s.key);
                outln!("    {}", s.why);
            }
            outln!(
                "{} suggestion(s); nothing is attributed until you confirm: between attribute STUDY confirm KEY...",
                suggestions.len()
            );
            Ok(())
        }
        AttributeCmd::Confirm { keys } => {
            let made = bench.confirm_suggestions(&keys)?;
            print_made(&bench, &made)
        }
    }
}

/// What was just attributed, as a listing shows it.
fn print_made(bench: &Workbench, made: &[between_core::Attribution]) -> Result<()> {
    let views: Vec<AttributionView> = bench
        .attributions(None)?
        .into_iter()
        .filter(|v| made.iter().any(|m| m.id == v.attribution.id))
        .collect();
    outln!("attributed {} passage(s)", views.len());
    print_views(&views)
}

fn print_views(views: &[AttributionView]) -> Result<()> {
    for v in views {
        let a = &v.attribution;
        let quote = text::char_len(&v.quote);
        let shown: String = v.quote.chars().take(SHOWN).collect();
        let more = if quote > SHOWN { "…" } else { "" };
        outln!(
            "{}  {} {}-{}  about {}  by {}  \"{}{more}\"",
            a.id,
            v.source,
            a.span.start,
            a.span.end,
            v.about,
            a.attributed_by,
            shown.replace('\n', " ")
        );
    }
    Ok(())
}
