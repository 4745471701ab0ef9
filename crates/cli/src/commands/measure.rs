//! `between measure STUDY …`: translation over `between_measures` (the workflow, checks and
//! rules are there; permissions in `study::policy`).

use std::fs::File;
use std::io::{self, Write};

use anyhow::{Context, Result, bail};
use between_core::{Occasion, ResponseAnswers};
use between_exchange::ResponseShape;
use between_instruments::Format as InstrumentFormat;
use between_measures::{
    DICTIONARY_COLUMNS, EXPORT_COLUMNS, Measures, NewLink, NewResponse, RuptureCriterion,
    RuptureRule, Subject,
};

use super::{Ctx, json};
use crate::args::{Format, MeasureArgs, MeasureCmd, MeasureInstrumentCmd, ShapeArg, Switch};

pub(super) fn run(ctx: &Ctx, a: MeasureArgs) -> Result<()> {
    let mut bench = ctx.open(&a.study)?;
    let mut m = Measures::of(&mut bench);
    match a.action {
        MeasureCmd::Instrument(MeasureInstrumentCmd::Add { file }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let name = file.display().to_string();
            let i = m.add_instrument(&text, InstrumentFormat::of_file_name(&name), &name)?;
            outln!("added instrument {} version {}", i.id, i.version);
        }
        MeasureCmd::Instrument(MeasureInstrumentCmd::List) => {
            outln!(
                "{:<32} {:<8} {:<10} {:>5}  name",
                "id",
                "version",
                "responds",
                "items"
            );
            for i in m.instruments()? {
                outln!(
                    "{:<32} {:<8} {:<10} {:>5}  {}",
                    i.id,
                    i.version,
                    i.respondent.as_str(),
                    i.items.len(),
                    i.name
                );
            }
        }
        MeasureCmd::Enter {
            instrument,
            version,
            participant,
            dyad,
            date,
            session,
            answers,
        } => {
            let r = m.enter(NewResponse {
                instrument,
                version,
                participant,
                dyad,
                occasion: Occasion { date, session },
                answers: parse_answers(&answers)?,
            })?;
            outln!("entered response {} ({} answers)", r.id, r.answers.len());
        }
        MeasureCmd::Import {
            format,
            instrument,
            version,
            file,
        } => {
            let input = File::open(&file).with_context(|| format!("reading {}", file.display()))?;
            let shape = match format {
                ShapeArg::Wide => ResponseShape::Wide,
                ShapeArg::Long => ResponseShape::Long,
            };
            let origin = file.display().to_string();
            let stored = m.import_csv(input, &origin, shape, &instrument, version.as_deref())?;
            outln!("imported {} responses from {origin}", stored.len());
        }
        MeasureCmd::List { format } => {
            let views = m.responses()?;
            match format {
                Format::Json => json(&views)?,
                Format::Text => {
                    outln!(
                        "Scores by each instrument's rule (`between instrument show ID`); - = no score."
                    );
                    for v in views {
                        let r = &v.response;
                        outln!(
                            "{}  {} {}  {}  {}  {}  {}  total {}",
                            r.id,
                            r.instrument,
                            r.instrument_version,
                            v.participant_label,
                            v.dyad_label.as_deref().unwrap_or("-"),
                            occasion(&r.occasion),
                            r.mode,
                            number(v.scores.total.score)
                        );
                    }
                }
            }
        }
        MeasureCmd::Scores {
            dyad,
            clinician,
            threshold,
            sd,
            reliability,
            score,
            format,
        } => {
            let subject = match (dyad, clinician) {
                (Some(d), _) => Subject::Dyad(d),
                (None, Some(c)) => Subject::Clinician(c),
                (None, None) => bail!("give --dyad or --clinician"),
            };
            let rule = match (threshold, sd, reliability) {
                (Some(t), _, _) => Some(RuptureRule::Threshold(t)),
                (None, Some(sd), Some(reliability)) => {
                    Some(RuptureRule::ReliableChange { sd, reliability })
                }
                _ => None,
            };
            let criterion = rule.map(|rule| RuptureCriterion { rule, score });
            let found = m.scores(&subject, criterion.as_ref())?;
            match format {
                Format::Json => json(&found)?,
                Format::Text => {
                    outln!("{}", found.order_rule);
                    if let Some(rule) = &found.rupture_rule {
                        outln!("{rule}");
                    }
                    for t in &found.trajectories {
                        outln!(
                            "\n{} {} — {}{}",
                            t.instrument,
                            t.instrument_version,
                            t.participant,
                            t.dyad
                                .as_deref()
                                .map(|d| format!(" in {d}"))
                                .unwrap_or_default()
                        );
                        outln!("  {}", t.scoring_rule);
                        for p in &t.points {
                            let subscales: Vec<String> = p
                                .scores
                                .subscales
                                .iter()
                                .map(|s| format!("{} {}", s.subscale, number(s.score.score)))
                                .collect();
                            outln!(
                                "  {}  total {}  {}",
                                occasion(&p.occasion),
                                number(p.scores.total.score),
                                subscales.join("  ")
                            );
                        }
                        for r in &t.ruptures {
                            outln!(
                                "  rupture ({}): {} → {}, down {:.2}; {}",
                                r.score,
                                occasion(&r.before),
                                occasion(&r.after),
                                r.drop,
                                r.repaired.as_ref().map_or(
                                    "not repaired".to_string(),
                                    |o| format!("repaired at {}", occasion(o))
                                )
                            );
                        }
                    }
                }
            }
        }
        MeasureCmd::Link {
            participant,
            instrument,
            version,
            dyad,
            date,
            session,
            days,
        } => {
            let (link, token) = m.create_link(NewLink {
                instrument,
                version,
                participant,
                dyad,
                occasion: Occasion { date, session },
                days: Some(days),
            })?;
            outln!("token: {token}");
            outln!(
                "It opens the questionnaire once, until {}; it is shown only now (the study keeps its hash).",
                link.expires_at
            );
        }
        MeasureCmd::Account {
            participant,
            account,
        } => {
            m.link_clinician_account(&participant, &account)?;
            outln!(
                "{participant} is the account {account}: their own measures are theirs until they share them"
            );
        }
        MeasureCmd::Share {
            participant,
            switch,
        } => {
            let on = switch == Switch::On;
            m.share_self_care(&participant, on)?;
            outln!(
                "{participant}'s own measures are {} with the study's owners",
                if on { "shared" } else { "not shared" }
            );
        }
        MeasureCmd::Joint {
            instrument,
            version,
            csv,
            format,
        } => {
            let corpus = between_findings::Corpus::of(m.bench())?;
            let joint = m.joint_display(&corpus, &instrument, version.as_deref())?;
            let (columns, rows) = joint.table();
            if let Some(path) = &csv {
                let file =
                    File::create(path).with_context(|| format!("writing {}", path.display()))?;
                let header: Vec<&str> = columns.iter().map(String::as_str).collect();
                between_exchange::write_table_csv(&header, &rows, io::BufWriter::new(file))
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            match format {
                Format::Json => json(&joint)?,
                Format::Text => {
                    outln!("{}", columns.join("\t"));
                    for row in &rows {
                        outln!("{}", row.join("\t"));
                    }
                    outln!("{}", joint.score_rule);
                    outln!(
                        "Evidence (passages per linked component): {}",
                        joint.evidence_rule
                    );
                }
            }
        }
        MeasureCmd::Export { long, dictionary } => {
            let export = m.export()?;
            let write = |path: &std::path::Path, columns: &[&str], rows: &[Vec<String>]| {
                let file =
                    File::create(path).with_context(|| format!("writing {}", path.display()))?;
                between_exchange::write_table_csv(columns, rows, io::BufWriter::new(file))
                    .with_context(|| format!("writing {}", path.display()))
            };
            write(&long, &EXPORT_COLUMNS, &export.rows)?;
            write(&dictionary, &DICTIONARY_COLUMNS, &export.dictionary)?;
            outln!(
                "wrote {} answers to {} and {} variables to {}",
                export.rows.len(),
                long.display(),
                export.dictionary.len(),
                dictionary.display()
            );
        }
    }
    Ok(())
}

/// `ITEM=VALUE` pairs; an empty value is an item left out.
fn parse_answers(pairs: &[String]) -> Result<ResponseAnswers> {
    let mut answers = ResponseAnswers::new();
    for pair in pairs {
        let Some((item, value)) = pair.split_once('=') else {
            bail!("'{pair}': an answer is ITEM=VALUE");
        };
        let value = match value.trim() {
            "" => None,
            v => Some(
                v.parse::<i32>()
                    .with_context(|| format!("'{pair}': '{v}' is not a whole number"))?,
            ),
        };
        if answers.insert(item.trim().to_string(), value).is_some() {
            bail!("item '{}' is answered twice", item.trim());
        }
    }
    Ok(answers)
}

fn occasion(o: &Occasion) -> String {
    match (&o.date, o.session) {
        (Some(d), Some(s)) => format!("{d} session {s}"),
        (Some(d), None) => d.clone(),
        (None, Some(s)) => format!("session {s}"),
        (None, None) => "-".into(),
    }
}

fn number(x: Option<f64>) -> String {
    x.map_or("-".into(), |x| format!("{x:.2}"))
}
