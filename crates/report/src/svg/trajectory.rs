//! Scores over time: one line per series (the total and each subscale) on the instrument's own
//! scale, with the ruptures and repairs found on one series marked and the rule stated.

use std::fmt::Write;

use between_psychometrics::{Rupture, RuptureRule, ruptures};

use super::model::{Rect, text_box, text_width, wrap};
use super::{escape, header, text};

/// One measurement: when (a date "2025-03-04" or "session 3") and its score, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub when: String,
    pub value: Option<f64>,
}

/// A named line: the total, or one subscale.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// The ruptures found on one series, with the rule that found them in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Marked {
    /// Index into [`Trajectory::series`].
    pub series: usize,
    /// Indices are into that series' points.
    pub found: Vec<Rupture>,
    pub rule: String,
}

impl Marked {
    /// The ruptures of `series[which]` under `rule`. A missing score is skipped, so
    /// "consecutive" means consecutive scored measurements; the indices are into all points.
    pub fn find(
        series: &[Series],
        which: usize,
        rule: RuptureRule,
    ) -> Result<Marked, TrajectoryError> {
        let s = series.get(which).ok_or(TrajectoryError::NoSuchSeries {
            which,
            count: series.len(),
        })?;
        let (at, values): (Vec<usize>, Vec<f64>) = s
            .points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.value.map(|v| (i, v)))
            .unzip();
        let invalid =
            |e: between_psychometrics::PsychometricsError| TrajectoryError::Rule(e.to_string());
        let found = ruptures(&values, rule)
            .map_err(invalid)?
            .into_iter()
            .map(|r| Rupture {
                before: at[r.before],
                after: at[r.after],
                repaired_at: r.repaired_at.map(|i| at[i]),
                ..r
            })
            .collect();
        Ok(Marked {
            series: which,
            found,
            rule: rule.describe().map_err(invalid)?,
        })
    }
}

/// What a trajectory chart draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    pub title: String,
    /// The instrument's scale, the y axis's extent.
    pub min: f64,
    pub max: f64,
    /// Every series has the same times, in time order.
    pub series: Vec<Series>,
    pub ruptures: Option<Marked>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrajectoryError {
    #[error("the scale's minimum ({min}) must be below its maximum ({max})")]
    Scale { min: f64, max: f64 },
    #[error("a trajectory needs at least one series")]
    NoSeries,
    #[error("series '{0}' has no measurements")]
    EmptySeries(String),
    #[error(
        "series '{series}' is measured at different times from '{first}': every series must have the same times in the same order"
    )]
    Times { series: String, first: String },
    #[error("series '{series}' at {when}: {value} is outside the scale {min} to {max}")]
    OutOfScale {
        series: String,
        when: String,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error("ruptures are marked on series {which} (0-based), but there are {count} series")]
    NoSuchSeries { which: usize, count: usize },
    #[error("a rupture refers to measurement {index} (0-based) of '{series}', which has no score")]
    Unscored { series: String, index: usize },
    #[error("invalid rupture rule: {0}")]
    Rule(String),
}

const WIDTH: f64 = 760.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 48.0;
const PLOT_H: f64 = 260.0;
const LABEL: f64 = 10.0;
const ROW: f64 = 14.0;
const RUPTURE: &str = "#c0392b";
const REPAIR: &str = "#2e8b3d";
/// Neither red nor green, which the markers use.
const PALETTE: [&str; 6] = [
    "#1f3b73", "#d98c00", "#2a9d8f", "#8e44ad", "#6b4f2a", "#c2185b",
];

fn check(t: &Trajectory) -> Result<(), TrajectoryError> {
    if !(t.min.is_finite() && t.max.is_finite() && t.min < t.max) {
        return Err(TrajectoryError::Scale {
            min: t.min,
            max: t.max,
        });
    }
    let first = t.series.first().ok_or(TrajectoryError::NoSeries)?;
    for s in &t.series {
        if s.points.is_empty() {
            return Err(TrajectoryError::EmptySeries(s.name.clone()));
        }
        if !s
            .points
            .iter()
            .map(|p| &p.when)
            .eq(first.points.iter().map(|p| &p.when))
        {
            return Err(TrajectoryError::Times {
                series: s.name.clone(),
                first: first.name.clone(),
            });
        }
        for p in &s.points {
            match p.value {
                Some(v) if !(v.is_finite() && t.min <= v && v <= t.max) => {
                    return Err(TrajectoryError::OutOfScale {
                        series: s.name.clone(),
                        when: p.when.clone(),
                        value: v,
                        min: t.min,
                        max: t.max,
                    });
                }
                _ => {}
            }
        }
    }
    if let Some(m) = &t.ruptures {
        let s = t
            .series
            .get(m.series)
            .ok_or(TrajectoryError::NoSuchSeries {
                which: m.series,
                count: t.series.len(),
            })?;
        let indices = m
            .found
            .iter()
            .flat_map(|r| [Some(r.before), Some(r.after), r.repaired_at])
            .flatten();
        for index in indices {
            if s.points.get(index).and_then(|p| p.value).is_none() {
                return Err(TrajectoryError::Unscored {
                    series: s.name.clone(),
                    index,
                });
            }
        }
    }
    Ok(())
}

/// The scale's points when there are few, else a round step over them.
fn ticks(min: f64, max: f64) -> Vec<f64> {
    let range = max - min;
    let step = if min.fract() == 0.0 && max.fract() == 0.0 && range <= 12.0 {
        1.0
    } else {
        let raw = range / 6.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * magnitude)
    };
    let first = (min / step).ceil() as i64;
    let last = (max / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// A label over a marker: its anchor x (kept on the figure) and its box.
struct Placed {
    x: f64,
    row: usize,
}

/// Puts each label (x, text) in the first row above the plot where it overlaps no other.
fn place(labels: &[(f64, String)], baseline: impl Fn(usize) -> f64) -> Vec<Placed> {
    let mut taken: Vec<Rect> = Vec::new();
    labels
        .iter()
        .map(|(x, content)| {
            let half = text_width(content, LABEL, false) / 2.0;
            let x = x.clamp(half + 4.0, WIDTH - half - 4.0);
            let row = (0..)
                .find(|r| {
                    let b = text_box(x, baseline(*r), LABEL, "middle", content, false);
                    let padded = Rect {
                        x0: b.x0 - 4.0,
                        x1: b.x1 + 4.0,
                        ..b
                    };
                    !taken.iter().any(|t| t.intersects(&padded))
                })
                .unwrap_or(0);
            taken.push(text_box(x, baseline(row), LABEL, "middle", content, false));
            Placed { x, row }
        })
        .collect()
}

/// The chart as a self-contained SVG document.
pub fn trajectory(t: &Trajectory) -> Result<String, TrajectoryError> {
    check(t)?;
    let plot_w = WIDTH - LEFT - RIGHT;
    let times: Vec<&str> = t.series[0].points.iter().map(|p| p.when.as_str()).collect();
    let slot = plot_w / times.len() as f64;
    let x_at = |i: usize| LEFT + slot * (i as f64 + 0.5);

    let subtitle = t.ruptures.as_ref().map(|m| {
        let found = match m.found.len() {
            0 => format!("No rupture on {}.", t.series[m.series].name),
            n => format!(
                "{n} rupture{} marked on {}.",
                if n == 1 { "" } else { "s" },
                t.series[m.series].name
            ),
        };
        wrap(&format!("{} {found}", m.rule), 11.0, plot_w)
    });
    let subtitle = subtitle.unwrap_or_default();
    let band_top = 40.0 + ROW * subtitle.len() as f64;
    let baseline = |row: usize| band_top + 10.0 + ROW * row as f64;

    // Markers: a rupture between its two measurements, a repair at its measurement.
    let mut markers: Vec<(f64, String, bool)> = Vec::new();
    for r in t.ruptures.iter().flat_map(|m| &m.found) {
        markers.push((
            (x_at(r.before) + x_at(r.after)) / 2.0,
            format!("rupture, {}", times[r.after]),
            true,
        ));
        if let Some(at) = r.repaired_at {
            markers.push((x_at(at), format!("repair, {}", times[at]), false));
        }
    }
    markers.sort_by(|a, b| a.0.total_cmp(&b.0));
    let labels: Vec<(f64, String)> = markers.iter().map(|(x, l, _)| (*x, l.clone())).collect();
    let placed = place(&labels, baseline);
    let rows = placed.iter().map(|p| p.row + 1).max().unwrap_or(0);
    let top = band_top + ROW * rows as f64 + 10.0;
    let bottom = top + PLOT_H;
    let y_at = |v: f64| bottom - PLOT_H * (v - t.min) / (t.max - t.min);

    // Time labels, every `every`-th so that none overlaps the next.
    let widest = times
        .iter()
        .map(|w| text_width(w, LABEL, false))
        .fold(0.0, f64::max);
    let every = ((widest + 8.0) / slot).ceil().max(1.0) as usize;

    // Legend rows, wrapped by measured width.
    let mut legend: Vec<(String, String)> = t
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), PALETTE[i % PALETTE.len()].to_string()))
        .collect();
    let mut legend_at = Vec::new();
    let (mut lx, mut ly) = (LEFT, bottom + 40.0);
    let has_markers = !markers.is_empty();
    if has_markers {
        legend.push(("rupture".into(), RUPTURE.into()));
        legend.push(("repair".into(), REPAIR.into()));
    }
    for (name, _) in &legend {
        let w = 24.0 + text_width(name, LABEL, false) + 16.0;
        if lx + w > WIDTH - RIGHT && lx > LEFT {
            lx = LEFT;
            ly += 16.0;
        }
        legend_at.push((lx, ly));
        lx += w;
    }
    let height = ly + 24.0;

    let mut out = String::new();
    header(&mut out, WIDTH, height, &t.title);
    text(
        &mut out,
        WIDTH / 2.0,
        22.0,
        15.0,
        "middle",
        "font-weight=\"bold\"",
        &t.title,
    );
    out.push_str("<g id=\"rule\" fill=\"#444444\">");
    for (i, line) in subtitle.iter().enumerate() {
        text(
            &mut out,
            WIDTH / 2.0,
            40.0 + ROW * i as f64,
            11.0,
            "middle",
            "",
            line,
        );
    }
    out.push_str("</g>");

    // Axes: a grid line and label at each tick of the scale.
    let _ = write!(
        out,
        "<g id=\"axes\" stroke=\"#888888\"><line x1=\"{LEFT}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\"/><line x1=\"{LEFT}\" y1=\"{top:.1}\" x2=\"{LEFT}\" y2=\"{bottom:.1}\"/></g>",
        LEFT + plot_w
    );
    out.push_str("<g id=\"y-axis\">");
    for v in ticks(t.min, t.max) {
        let y = y_at(v);
        let _ = write!(
            out,
            "<line class=\"tick\" data-value=\"{v}\" x1=\"{LEFT}\" y1=\"{y:.2}\" x2=\"{:.1}\" y2=\"{y:.2}\" stroke=\"#eeeeee\"/>",
            LEFT + plot_w
        );
        text(&mut out, LEFT - 6.0, y + 4.0, LABEL, "end", "", &number(v));
    }
    text(
        &mut out,
        16.0,
        top + PLOT_H / 2.0,
        11.0,
        "middle",
        &format!(
            "class=\"axis-title\" transform=\"rotate(-90 16 {:.1})\"",
            top + PLOT_H / 2.0
        ),
        &format!("score ({} to {})", number(t.min), number(t.max)),
    );
    out.push_str("</g><g id=\"x-axis\">");
    for (i, when) in times.iter().enumerate() {
        let x = x_at(i);
        let _ = write!(
            out,
            "<line x1=\"{x:.2}\" y1=\"{bottom:.1}\" x2=\"{x:.2}\" y2=\"{:.1}\" stroke=\"#888888\"/>",
            bottom + 4.0
        );
        if i % every == 0 {
            text(&mut out, x, bottom + 16.0, LABEL, "middle", "", when);
        }
    }
    out.push_str("</g>");

    // Markers under the lines: a dashed guide from the label down through the plot.
    out.push_str("<g id=\"markers\">");
    for ((x, label, rupture), p) in markers.iter().zip(&placed) {
        let (class, colour, shape) = if *rupture {
            (
                "rupture",
                RUPTURE,
                format!("M{:.2},{:.1} l-5,-8 h10 z", x, top + 8.0),
            )
        } else {
            (
                "repair",
                REPAIR,
                format!("M{:.2},{:.1} l-5,8 h10 z", x, top),
            )
        };
        let _ = write!(
            out,
            "<g class=\"{class}\" data-x=\"{x:.2}\"><line x1=\"{x:.2}\" y1=\"{:.1}\" x2=\"{x:.2}\" y2=\"{bottom:.1}\" stroke=\"{colour}\" stroke-dasharray=\"3 3\" stroke-opacity=\"0.6\"/><path d=\"{shape}\" fill=\"{colour}\"/>",
            baseline(p.row) + 3.0
        );
        text(
            &mut out,
            p.x,
            baseline(p.row),
            LABEL,
            "middle",
            &format!("fill=\"{colour}\""),
            label,
        );
        out.push_str("</g>");
    }
    out.push_str("</g>");

    // Lines: a missing score ends a run; the first series (the total) drawn thickest, last.
    for (i, s) in t.series.iter().enumerate().rev() {
        let colour = PALETTE[i % PALETTE.len()];
        let width = if i == 0 { 2.5 } else { 1.5 };
        let mut d = String::new();
        let mut joined = false;
        for (j, p) in s.points.iter().enumerate() {
            match p.value {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{:.2},{:.2} ",
                        if joined { "L" } else { "M" },
                        x_at(j),
                        y_at(v)
                    );
                    joined = true;
                }
                None => joined = false,
            }
        }
        let _ = write!(
            out,
            "<g class=\"series\" data-series=\"{i}\"><path d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"{width}\"/>",
            d.trim_end()
        );
        for (j, p) in s.points.iter().enumerate() {
            if let Some(v) = p.value {
                let _ = write!(
                    out,
                    "<circle data-index=\"{j}\" cx=\"{:.2}\" cy=\"{:.2}\" r=\"{}\" fill=\"{colour}\"><title>{}</title></circle>",
                    x_at(j),
                    y_at(v),
                    width + 1.5,
                    escape(&format!("{}, {}: {}", s.name, p.when, number(v)))
                );
            }
        }
        out.push_str("</g>");
    }
    // The drop of each rupture, drawn over its series.
    if let Some(m) = &t.ruptures {
        let s = &t.series[m.series];
        for r in &m.found {
            let value = |i: usize| s.points[i].value.unwrap_or(t.min);
            let _ = write!(
                out,
                "<line class=\"drop\" x1=\"{:.2}\" y1=\"{:.2}\" x2=\"{:.2}\" y2=\"{:.2}\" stroke=\"{RUPTURE}\" stroke-width=\"3\"/>",
                x_at(r.before),
                y_at(value(r.before)),
                x_at(r.after),
                y_at(value(r.after))
            );
        }
    }

    out.push_str("<g id=\"legend\">");
    for ((name, colour), (x, y)) in legend.iter().zip(legend_at) {
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2.5\"/>",
            x + 18.0
        );
        text(&mut out, x + 24.0, y + 4.0, LABEL, "start", "", name);
    }
    out.push_str("</g></svg>");
    Ok(out)
}

#[cfg(test)]
mod tests;
