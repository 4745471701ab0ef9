//! `between scale alpha|icc|rci|score|ruptures`: psychometrics on a plain CSV, no study; and
//! `between scale STUDY --instrument ID`: the same figures for a study's answers.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use between_psychometrics as psy;
use serde_json::{Value, json as value};

use super::Ctx;
use super::json;
use crate::args::{Format, ScaleArgs, ScaleCmd};

fn read(path: &Path) -> Result<Vec<Vec<Option<f64>>>> {
    let origin = path.display().to_string();
    let file = File::open(path).with_context(|| format!("{origin}: cannot open"))?;
    Ok(between_exchange::read_matrix_csv(io::BufReader::new(file), &origin)?.rows)
}

/// A figure with its name in words: "name  value".
fn figure(v: Option<f64>) -> String {
    v.map_or_else(|| "undefined".into(), |v| format!("{v:.3}"))
}

pub(super) fn run(ctx: &Ctx, a: ScaleArgs) -> Result<()> {
    let cmd = match (a.cmd, a.study, a.instrument) {
        (Some(cmd), _, _) => cmd,
        (None, Some(study), Some(instrument)) => {
            let mut bench = ctx.open(&study)?;
            let table = between_measures::Measures::of(&mut bench)
                .item_table(&instrument, a.version.as_deref())?;
            let label = format!(
                "{}: {} version {} ({} responses)",
                study.display(),
                table.instrument.id,
                table.instrument.version,
                table.rows.len()
            );
            let scale = (
                f64::from(table.instrument.scale.min),
                f64::from(table.instrument.scale.max),
            );
            return alpha_of(&table.rows, &label, Some(scale), a.format);
        }
        _ => anyhow::bail!(
            "give a subcommand (alpha, icc, rci, score, ruptures) or a study with --instrument ID"
        ),
    };
    match cmd {
        ScaleCmd::Alpha {
            data,
            min,
            max,
            format,
        } => alpha_of(
            &read(&data)?,
            &data.display().to_string(),
            min.zip(max),
            format,
        ),
        ScaleCmd::Icc { data, format } => {
            let icc = psy::icc(&read(&data)?)
                .with_context(|| format!("{}: intraclass correlations", data.display()))?;
            if format == Format::Json {
                return json(&icc);
            }
            outln!("Shrout & Fleiss intraclass correlations (rows are targets, columns raters):");
            for (name, rule, v) in [
                ("ICC1", "one-way random, a single rater", icc.ICC1),
                (
                    "ICC2",
                    "two-way random, absolute agreement, a single rater",
                    icc.ICC2,
                ),
                (
                    "ICC3",
                    "two-way mixed, consistency, a single rater",
                    icc.ICC3,
                ),
                ("ICC1k", "one-way random, the mean of the raters", icc.ICC1k),
                (
                    "ICC2k",
                    "two-way random, absolute agreement, the mean of the raters",
                    icc.ICC2k,
                ),
                (
                    "ICC3k",
                    "two-way mixed, consistency, the mean of the raters",
                    icc.ICC3k,
                ),
            ] {
                outln!("{name:<6} {v:>7.3}  {rule}");
            }
            Ok(())
        }
        ScaleCmd::Rci {
            pre,
            post,
            sd_pre,
            reliability,
            format,
        } => {
            let rc = psy::reliable_change(pre, post, sd_pre, reliability)?;
            if format == Format::Json {
                return json(&rc);
            }
            outln!(
                "reliable change index {:.3}  ((post − pre) / √2·SE, SE = sd_pre·√(1 − reliability))",
                rc.rci
            );
            outln!(
                "{} change {}  (reliable when |RCI| > 1.96)",
                if rc.reliable {
                    "reliable"
                } else {
                    "not a reliable"
                },
                value!(rc.direction).as_str().unwrap_or_default()
            );
            Ok(())
        }
        ScaleCmd::Score {
            data,
            min,
            max,
            reverse,
            format,
        } => {
            let scores = psy::score(&read(&data)?, min, max, &reverse)
                .with_context(|| format!("{}: scoring", data.display()))?;
            if format == Format::Json {
                return json(&scores);
            }
            outln!(
                "row  total  mean  (items {} reversed as min + max − x; no score when an item is missing)",
                if reverse.is_empty() {
                    "none".to_string()
                } else {
                    format!("{reverse:?}")
                }
            );
            for (i, (t, m)) in scores.totals.iter().zip(&scores.means).enumerate() {
                outln!("{:>3}  {}  {}", i + 1, figure(*t), figure(*m));
            }
            Ok(())
        }
        ScaleCmd::Ruptures {
            series,
            threshold,
            sd,
            reliability,
            format,
        } => {
            let rule = match (threshold, sd.zip(reliability)) {
                (Some(t), _) => psy::RuptureRule::Threshold(t),
                (None, Some((sd, reliability))) => {
                    psy::RuptureRule::ReliableChange { sd, reliability }
                }
                (None, None) => anyhow::bail!("give --threshold, or --sd and --reliability"),
            };
            let found = psy::ruptures(&series, rule)?;
            let rule_text = rule.describe()?;
            if format == Format::Json {
                return json(&value!({"rule": rule_text, "ruptures": found}));
            }
            outln!("{rule_text} Measurements are numbered from 1.");
            for r in &found {
                outln!(
                    "rupture from measurement {} to {} (a drop of {:.3}): {}",
                    r.before + 1,
                    r.after + 1,
                    r.drop,
                    r.repaired_at
                        .map_or("not repaired".into(), |i| format!("repaired at {}", i + 1))
                );
            }
            if found.is_empty() {
                outln!("no rupture");
            }
            Ok(())
        }
    }
}

/// Alpha and the item statistics of `data` (named `origin` in errors).
fn alpha_of(
    data: &[Vec<Option<f64>>],
    origin: &str,
    scale: Option<(f64, f64)>,
    format: Format,
) -> Result<()> {
    let context = || format!("{origin}: reliability");
    let alpha = psy::cronbach_alpha(&data).with_context(context)?;
    let missing = psy::missing_shares(&data)?;
    // ω needs three items and shared variance; without them it is reported as undefined.
    let omega = psy::one_factor_omega(&data).ok().map(|o| o.omega);
    let floor_ceiling = scale
        .map(|(min, max)| psy::floor_ceiling(&data, min, max))
        .transpose()
        .with_context(context)?;
    if format == Format::Json {
        let mut out = serde_json::to_value(&alpha)?;
        if let Some(items) = out["items"].as_array_mut() {
            for (item, m) in items.iter_mut().zip(&missing) {
                item["missing"] = value!(m);
            }
        }
        out["n_rows"] = value!(data.len());
        out["omega"] = value!(omega);
        if let Some(fc) = &floor_ceiling {
            out["floor_ceiling"] = serde_json::to_value(fc)?;
        }
        return json::<Value>(&out);
    }
    outln!(
        "Cronbach's alpha {:.3}  (k/(k − 1)·(1 − Σ item variances / variance of the total), over the {} of {} rows with no missing item)",
        alpha.alpha,
        alpha.n_complete,
        data.len()
    );
    outln!(
        "Feldt 95 % interval [{:.3}, {:.3}]",
        alpha.ci95[0],
        alpha.ci95[1]
    );
    outln!(
        "McDonald's omega {}  (one factor, iterated principal axes on the covariance matrix)",
        figure(omega)
    );
    outln!("item  item–total r  alpha if deleted  missing");
    outln!(
        "      (r with the sum of the other items; alpha of the other items; share of all rows empty)"
    );
    for (i, m) in alpha.items.iter().zip(&missing) {
        outln!(
            "{:>4}  {:>12}  {:>16}  {:>6.1} %",
            i.item,
            figure(i.corrected_item_total),
            figure(i.alpha_if_deleted),
            m * 100.0
        );
    }
    if let Some(fc) = floor_ceiling {
        outln!("floor / ceiling: share of the answers at the scale's minimum / maximum");
        for i in &fc.items {
            outln!(
                "{:>4}  {:>5.1} % / {:>5.1} %  of {} answers",
                i.item,
                i.share.floor * 100.0,
                i.share.ceiling * 100.0,
                i.share.answered
            );
        }
        outln!(
            "total {:>5.1} % / {:>5.1} %  of {} respondents with every item",
            fc.total.floor * 100.0,
            fc.total.ceiling * 100.0,
            fc.total.answered
        );
    }
    Ok(())
}
