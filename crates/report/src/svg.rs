//! SVG figures drawn from findings: self-contained, no external fonts or assets.
//!
//! - [`model`]: the model figures — the theory's structure as the paper draws it, and the same
//!   layout weighted by evidence ([`ModelView`]).
//! - [`saturation_chart`]: codes per interview in the order conducted, the stopping point
//!   marked.
//! - [`trajectory`]: scores over time, one line per series, ruptures and repairs marked.
//!
//! Everything is laid out from the data: no component of any theory is named here.

pub mod model;
pub mod trajectory;

pub use model::ModelView;

use std::fmt::Write;

use between_findings::saturation::{Saturation, Verdict};

/// Text made safe for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and line breaks are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";
const DEFAULT_COLOUR: &str = "#7f7f7f";

fn colour(c: Option<&str>) -> String {
    // Only a `#rrggbb` colour goes into an attribute; anything else falls back.
    match c {
        Some(c)
            if c.len() == 7
                && c.starts_with('#')
                && c[1..].chars().all(|h| h.is_ascii_hexdigit()) =>
        {
            c.to_string()
        }
        _ => DEFAULT_COLOUR.to_string(),
    }
}

fn header(out: &mut String, width: f64, height: f64, title: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" {FONT}>\
         <title>{}</title><rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>",
        escape(title)
    );
}

fn text(out: &mut String, x: f64, y: f64, size: f64, anchor: &str, extra: &str, content: &str) {
    let _ = write!(
        out,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"{anchor}\" {extra}>{}</text>",
        escape(content)
    );
}

/// A round step for axis ticks, about `target` ticks over `max`.
fn tick_step(max: usize, target: usize) -> usize {
    let raw = (max as f64 / target.max(1) as f64).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    step.max(1.0) as usize
}

/// The saturation chart on one axis of codes: new codes per interview (bars, shaded by the
/// interviewee's role) and cumulative codes (step lines) overall and per top-level component;
/// the verdict in words above (green only when it holds), the stopping point and its
/// confirming run marked, and the interviews that contradict it.
pub fn saturation_chart(saturation: &Saturation) -> String {
    const WIDTH: f64 = 960.0;
    const LEFT: f64 = 64.0;
    const RIGHT: f64 = 32.0;
    const PLOT_H: f64 = 300.0;

    let verdict_lines = model::wrap(&saturation.statement, 11.0, WIDTH - LEFT - RIGHT);
    let top = 48.0 + 14.0 * verdict_lines.len() as f64;
    let steps = &saturation.interviews;
    let n = steps.len().max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let slot = plot_w / n as f64;
    let bottom = top + PLOT_H;
    let legend_rows = 2 + saturation.components.len().div_ceil(3);
    let height = bottom + 56.0 + legend_rows as f64 * 16.0 + 40.0;
    // One scale for bars and lines: an interview's new codes are never more than the
    // cumulative count, so the cumulative maximum bounds both.
    let max_total = steps.last().map_or(0, |s| s.cumulative).max(1);
    let total_step = tick_step(max_total, 6);
    let total_top = max_total.div_ceil(total_step) * total_step;
    let y_codes = |v: usize| bottom - PLOT_H * v as f64 / total_top as f64;
    let x_at = |position: usize| LEFT + (position - 1) as f64 * slot;

    let mut out = String::new();
    header(
        &mut out,
        WIDTH,
        height,
        "Saturation: codes introduced per interview",
    );
    text(
        &mut out,
        WIDTH / 2.0,
        22.0,
        15.0,
        "middle",
        "font-weight=\"bold\"",
        "Codes introduced per interview, in the order conducted",
    );
    // The verdict: green only when it holds; a verdict later data contradicts is not.
    let verdict_colour = if saturation.verdict.holds() {
        "#2e6b37"
    } else if saturation.verdict.contradicted() {
        "#a3320b"
    } else {
        "#8a4b00"
    };
    let _ = write!(out, "<g id=\"verdict\" fill=\"{verdict_colour}\">");
    for (i, line) in verdict_lines.iter().enumerate() {
        text(
            &mut out,
            WIDTH / 2.0,
            40.0 + 14.0 * i as f64,
            11.0,
            "middle",
            "",
            line,
        );
    }
    out.push_str("</g>");

    // Axes and grid: one axis of codes, each tick a grid line with its value.
    let _ = write!(
        out,
        "<g id=\"axes\" stroke=\"#888888\"><line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{:.1}\" y2=\"{bottom}\"/><line x1=\"{LEFT}\" y1=\"{top}\" x2=\"{LEFT}\" y2=\"{bottom}\"/></g>",
        LEFT + plot_w
    );
    out.push_str("<g id=\"y-axis\">");
    for v in (0..=total_top).step_by(total_step) {
        let y = y_codes(v);
        let _ = write!(
            out,
            "<line class=\"tick\" data-value=\"{v}\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#eeeeee\"/>",
            LEFT + plot_w
        );
        text(
            &mut out,
            LEFT - 6.0,
            y + 4.0,
            10.0,
            "end",
            "",
            &v.to_string(),
        );
    }
    out.push_str("</g>");
    let x_step = tick_step(steps.len().max(1), 12);
    for position in (1..=steps.len()).filter(|p| *p == 1 || p % x_step == 0) {
        let x = x_at(position) + slot / 2.0;
        text(
            &mut out,
            x,
            bottom + 14.0,
            10.0,
            "middle",
            "",
            &position.to_string(),
        );
    }
    text(
        &mut out,
        LEFT + plot_w / 2.0,
        bottom + 30.0,
        11.0,
        "middle",
        "",
        "interview, in the order conducted",
    );
    text(
        &mut out,
        16.0,
        top + PLOT_H / 2.0,
        11.0,
        "middle",
        &format!("transform=\"rotate(-90 16 {:.1})\"", top + PLOT_H / 2.0),
        "codes: new per interview (bars), cumulative (lines)",
    );

    // The confirming run, shaded, and the stopping point.
    if let Verdict::Reached {
        at, confirmed_by, ..
    } = &saturation.verdict
    {
        let x0 = x_at(*at) + slot;
        let x1 = x_at(*confirmed_by) + slot;
        let _ = write!(
            out,
            "<rect id=\"confirming-run\" x=\"{x0:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{PLOT_H}\" fill=\"#fdf1c7\"/>",
            (x1 - x0).max(1.0)
        );
    }

    // Bars.
    out.push_str("<g id=\"new-codes\">");
    let bar_w = (slot * 0.7).max(0.5);
    for s in steps {
        let x = x_at(s.position) + (slot - bar_w) / 2.0;
        if !s.coded {
            let _ = write!(
                out,
                "<rect x=\"{x:.2}\" y=\"{:.1}\" width=\"{bar_w:.2}\" height=\"4\" fill=\"#bbbbbb\"><title>{}</title></rect>",
                bottom + 1.0,
                escape(&format!("{} ({}): not coded yet", s.position, s.name))
            );
            continue;
        }
        let new = s.new_codes.len();
        if new == 0 {
            continue;
        }
        let fill = match s.role {
            Some(between_core::Role::Clinician) => "#2e6b37",
            _ => "#8cc084",
        };
        let y = y_codes(new);
        let _ = write!(
            out,
            "<rect class=\"new-codes\" data-position=\"{}\" x=\"{x:.2}\" y=\"{y:.1}\" width=\"{bar_w:.2}\" height=\"{:.1}\" fill=\"{fill}\"><title>{}</title></rect>",
            s.position,
            bottom - y,
            escape(&format!(
                "{} ({}{}): {} new codes, {} so far",
                s.position,
                s.name,
                s.participant
                    .as_deref()
                    .map(|p| format!(", {p}"))
                    .unwrap_or_default(),
                new,
                s.cumulative
            ))
        );
    }
    out.push_str("</g>");

    // Lines: per component (thin), then the total (thick) on top.
    let step_path = |values: &mut dyn Iterator<Item = usize>| {
        let mut d = format!("M{LEFT:.1},{bottom:.1}");
        for (i, v) in values.enumerate() {
            let _ = write!(d, " V{:.1} H{:.1}", y_codes(v), x_at(i + 1) + slot);
        }
        d
    };
    out.push_str("<g id=\"components\">");
    for (c, component) in saturation.components.iter().enumerate() {
        let d = step_path(&mut steps.iter().map(|s| s.cumulative_by_component[c]));
        let _ = write!(
            out,
            "<path d=\"{d}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.3\" stroke-opacity=\"0.9\"><title>{}</title></path>",
            colour(component.colour.as_deref()),
            escape(&component.name)
        );
    }
    out.push_str("</g>");
    let d = step_path(&mut steps.iter().map(|s| s.cumulative));
    let _ = write!(
        out,
        "<path id=\"cumulative\" d=\"{d}\" fill=\"none\" stroke=\"#111111\" stroke-width=\"2.5\"><title>all codes</title></path>"
    );

    if let Verdict::Reached {
        at,
        contradicted_by,
        ..
    } = &saturation.verdict
    {
        let x = x_at(*at) + slot;
        let _ = write!(
            out,
            "<line id=\"stopping-point\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#c0392b\" stroke-width=\"2\" stroke-dasharray=\"5 3\"/>",
            top - 4.0
        );
        let label = if contradicted_by.is_empty() {
            format!("stopping point: interview {at}")
        } else {
            format!("stopping point by the rule: interview {at}, contradicted later")
        };
        text(
            &mut out,
            x + 4.0,
            top + 10.0,
            10.0,
            "start",
            "fill=\"#c0392b\"",
            &label,
        );
        // Each contradicting interview, marked above its bar.
        for later in contradicted_by {
            text(
                &mut out,
                x_at(later.position) + slot / 2.0,
                y_codes(later.new_codes) - 4.0,
                12.0,
                "middle",
                "class=\"contradiction\" fill=\"#a3320b\" font-weight=\"bold\"",
                "!",
            );
        }
    }

    // Legend.
    let mut ly = bottom + 50.0;
    let item = |out: &mut String, x: f64, y: f64, swatch: String, label: &str| {
        out.push_str(&swatch);
        text(out, x + 24.0, y + 4.0, 10.0, "start", "", label);
    };
    item(
        &mut out,
        LEFT,
        ly,
        format!(
            "<line x1=\"{LEFT}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"#111111\" stroke-width=\"2.5\"/>",
            LEFT + 18.0
        ),
        "all codes, cumulative",
    );
    let x2 = LEFT + 190.0;
    item(
        &mut out,
        x2,
        ly,
        format!(
            "<rect x=\"{x2}\" y=\"{}\" width=\"18\" height=\"8\" fill=\"#2e6b37\"/>",
            ly - 4.0
        ),
        "new codes, clinician interview",
    );
    let x3 = LEFT + 400.0;
    item(
        &mut out,
        x3,
        ly,
        format!(
            "<rect x=\"{x3}\" y=\"{}\" width=\"18\" height=\"8\" fill=\"#8cc084\"/>",
            ly - 4.0
        ),
        "new codes, patient interview",
    );
    let x4 = LEFT + 600.0;
    item(
        &mut out,
        x4,
        ly,
        format!(
            "<rect x=\"{x4}\" y=\"{}\" width=\"18\" height=\"4\" fill=\"#bbbbbb\"/>",
            ly - 2.0
        ),
        "not coded yet (skipped by the rule)",
    );
    ly += 16.0;
    for (c, component) in saturation.components.iter().enumerate() {
        let x = LEFT + (c % 3) as f64 * 260.0;
        let y = ly + (c / 3) as f64 * 16.0;
        item(
            &mut out,
            x,
            y,
            format!(
                "<line x1=\"{x}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{}\" stroke-width=\"1.3\"/>",
                x + 18.0,
                colour(component.colour.as_deref())
            ),
            &format!("{} (cumulative)", component.name),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests;
