//! SVG figures drawn from findings: self-contained, no external fonts or assets.
//!
//! - [`model_figure`]: the theory's components as nodes in columns by kind (competencies →
//!   processes → outcomes → the concept), node area by the dyads with evidence, each
//!   proposition a junction whose edges' width is the dyads where both sides are evidenced.
//! - [`saturation_chart`]: codes per interview in the order conducted, the stopping point
//!   marked.
//!
//! Everything is laid out from the data: no component of any theory is named here.

use std::fmt::Write;

use between_findings::Corpus;
use between_findings::propositions::Support;
use between_findings::saturation::{Saturation, Verdict};
use between_model::Kind;

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

/// Splits a label into lines of about `width` characters at spaces.
fn wrap(label: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in label.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// Left-to-right column of a kind: what supports, what builds, what results, what it explains.
fn column_of(kind: Kind) -> usize {
    match kind {
        Kind::Competency | Kind::Perspective => 0,
        Kind::Process | Kind::Element | Kind::Dimension | Kind::Facet => 1,
        Kind::Outcome | Kind::Event => 2,
        Kind::Concept => 3,
    }
}

fn plural(word: &str) -> String {
    if let Some(stem) = word.strip_suffix('y') {
        format!("{stem}ies")
    } else if word.ends_with('s') {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// The model figure: theory components by kind in columns, sized by evidence, propositions as
/// junctions weighted by support.
pub fn model_figure(corpus: &Corpus, support: &Support) -> String {
    const COLUMN: f64 = 270.0;
    const ROW: f64 = 105.0;
    const TOP: f64 = 78.0;
    const LEFT: f64 = 150.0;
    const MAX_R: f64 = 30.0;
    const MIN_R: f64 = 7.0;

    let title = corpus
        .theory
        .as_ref()
        .map_or_else(|| "Model".to_string(), |t| t.name.clone());
    // Nodes: top-level components, and any sub-component a proposition names.
    let named: std::collections::HashSet<&str> = support
        .propositions
        .iter()
        .flat_map(|p| p.from.iter().chain(&p.to))
        .map(String::as_str)
        .collect();
    let nodes: Vec<usize> = (0..support.components.len())
        .filter(|&i| {
            let c = &support.components[i];
            c.depth == 0 || named.contains(c.id.as_str())
        })
        .collect();
    let mut used: Vec<usize> = nodes
        .iter()
        .map(|&i| column_of(support.components[i].kind))
        .collect();
    used.sort_unstable();
    used.dedup();
    let column = |i: usize| {
        used.iter()
            .position(|&c| c == column_of(support.components[i].kind))
            .unwrap_or(0)
    };
    let mut per_column = vec![Vec::new(); used.len()];
    for &i in &nodes {
        per_column[column(i)].push(i);
    }
    let rows = per_column.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let dyads = support.dyad_count;
    let radius = |n: usize| {
        if dyads == 0 {
            MIN_R
        } else {
            // Area proportional to the share of dyads.
            MIN_R + (MAX_R - MIN_R) * (n as f64 / dyads as f64).sqrt()
        }
    };
    let mut place = vec![(0.0, 0.0); support.components.len()];
    for (col, members) in per_column.iter().enumerate() {
        let offset = (rows - members.len()) as f64 * ROW / 2.0;
        for (row, &i) in members.iter().enumerate() {
            place[i] = (
                LEFT + col as f64 * COLUMN,
                TOP + MAX_R + offset + row as f64 * ROW,
            );
        }
    }
    let width = LEFT * 2.0 + (used.len().max(1) - 1) as f64 * COLUMN;
    let plot_bottom = TOP + rows as f64 * ROW + 10.0;
    let height = plot_bottom + 120.0;

    let mut out = String::new();
    header(
        &mut out,
        width,
        height,
        &format!("{title}: evidence and support"),
    );
    out.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"11\" markerHeight=\"11\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#444444\"/></marker></defs>",
    );
    text(
        &mut out,
        width / 2.0,
        24.0,
        16.0,
        "middle",
        "font-weight=\"bold\"",
        &title,
    );
    text(
        &mut out,
        width / 2.0,
        42.0,
        11.0,
        "middle",
        "fill=\"#555555\"",
        &format!(
            "{} dyads; a side of a proposition is evidenced when {} of its components is",
            dyads,
            match support.rule {
                between_findings::propositions::SideRule::Any => "any",
                between_findings::propositions::SideRule::All => "each",
            }
        ),
    );
    for (col, members) in per_column.iter().enumerate() {
        let mut kinds: Vec<&str> = members
            .iter()
            .map(|&i| support.components[i].kind.as_str())
            .collect();
        kinds.dedup();
        let label = kinds
            .iter()
            .map(|k| plural(k))
            .collect::<Vec<_>>()
            .join(" / ");
        text(
            &mut out,
            LEFT + col as f64 * COLUMN,
            64.0,
            12.0,
            "middle",
            "fill=\"#333333\" font-style=\"italic\"",
            &label,
        );
    }

    // Propositions: edges into a junction, out to the targets.
    out.push_str("<g id=\"propositions\">");
    let mut junctions: Vec<(f64, f64)> = Vec::new();
    for p in &support.propositions {
        let ends = |ids: &[String]| -> Vec<usize> {
            ids.iter()
                .filter_map(|id| support.components.iter().position(|c| &c.id == id))
                .filter(|i| nodes.contains(i))
                .collect()
        };
        let (from, to) = (ends(&p.from), ends(&p.to));
        if from.is_empty() || to.is_empty() {
            continue;
        }
        let from_x = from.iter().map(|&i| place[i].0).fold(f64::MIN, f64::max);
        let to_x = to.iter().map(|&i| place[i].0).fold(f64::MAX, f64::min);
        let jx = if to_x > from_x {
            from_x + COLUMN.min(to_x - from_x) / 2.0
        } else {
            from_x + COLUMN / 3.0
        };
        let all: Vec<usize> = from.iter().chain(&to).copied().collect();
        let mut jy = all.iter().map(|&i| place[i].1).sum::<f64>() / all.len() as f64;
        while junctions
            .iter()
            .any(|&(x, y)| (x - jx).abs() < 40.0 && (y - jy).abs() < 22.0)
        {
            jy += 24.0;
        }
        junctions.push((jx, jy));
        let share = if dyads == 0 {
            0.0
        } else {
            p.both as f64 / dyads as f64
        };
        let stroke = 1.0 + 7.0 * share;
        let dash = if p.basis == between_model::Basis::StatedInSource.as_str() {
            ""
        } else {
            " stroke-dasharray=\"6 4\""
        };
        let opacity = if p.both == 0 { 0.35 } else { 0.75 };
        let _ = write!(
            out,
            "<g class=\"proposition\" data-number=\"{}\"><title>{}</title>",
            p.number,
            escape(&format!(
                "P{}: {} {} {} — both sides evidenced in {} of {} dyads, source only {}, target only {}, neither {}",
                p.number,
                p.from_names.join(" + "),
                p.relation,
                p.to_names.join(" + "),
                p.both,
                dyads,
                p.source_only,
                p.target_only,
                p.neither
            ))
        );
        for &i in &from {
            let (x, y) = place[i];
            let x1 = x + radius(support.components[i].dyads);
            let mx = (x1 + jx) / 2.0;
            let _ = write!(
                out,
                "<path d=\"M{x1:.1},{y:.1} C{mx:.1},{y:.1} {mx:.1},{jy:.1} {jx:.1},{jy:.1}\" fill=\"none\" stroke=\"#444444\" stroke-width=\"{stroke:.2}\" stroke-opacity=\"{opacity}\"{dash}/>"
            );
        }
        for &i in &to {
            let (x, y) = place[i];
            let x2 = x - radius(support.components[i].dyads) - 2.0;
            let mx = (x2 + jx) / 2.0;
            let _ = write!(
                out,
                "<path d=\"M{jx:.1},{jy:.1} C{mx:.1},{jy:.1} {mx:.1},{y:.1} {x2:.1},{y:.1}\" fill=\"none\" stroke=\"#444444\" stroke-width=\"{stroke:.2}\" stroke-opacity=\"{opacity}\"{dash} marker-end=\"url(#arrow)\"/>"
            );
        }
        let _ = write!(
            out,
            "<circle cx=\"{jx:.1}\" cy=\"{jy:.1}\" r=\"4\" fill=\"#444444\"/>"
        );
        text(
            &mut out,
            jx,
            jy - 7.0,
            10.0,
            "middle",
            "fill=\"#222222\" paint-order=\"stroke\" stroke=\"#ffffff\" stroke-width=\"3\"",
            &format!("P{} {}/{}", p.number, p.both, dyads),
        );
        out.push_str("</g>");
    }
    out.push_str("</g>");

    // Nodes.
    out.push_str("<g id=\"components\">");
    for &i in &nodes {
        let c = &support.components[i];
        let (x, y) = place[i];
        let r = radius(c.dyads);
        let _ = write!(
            out,
            "<g class=\"component\" data-component=\"{}\"><title>{}</title><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" fill=\"{}\" fill-opacity=\"0.85\" stroke=\"#222222\" stroke-width=\"1\"/>",
            escape(&c.id),
            escape(&format!(
                "{}: evidence in {} of {} dyads ({} in both accounts)",
                c.name, c.dyads, dyads, c.both_accounts
            )),
            colour(c.colour.as_deref()),
        );
        let mut ly = y + r + 13.0;
        for line in wrap(&c.name, 24) {
            text(&mut out, x, ly, 11.0, "middle", "fill=\"#111111\"", &line);
            ly += 13.0;
        }
        text(
            &mut out,
            x,
            ly,
            10.0,
            "middle",
            "fill=\"#555555\"",
            &format!("{}/{} dyads", c.dyads, dyads),
        );
        out.push_str("</g>");
    }
    out.push_str("</g>");

    // Legend.
    let ly = plot_bottom + 20.0;
    let _ = write!(
        out,
        "<g id=\"legend\"><rect x=\"20\" y=\"{:.1}\" width=\"{:.1}\" height=\"96\" fill=\"none\" stroke=\"#cccccc\"/>",
        ly - 14.0,
        width - 40.0
    );
    text(
        &mut out,
        32.0,
        ly + 4.0,
        11.0,
        "start",
        "font-weight=\"bold\"",
        "Legend",
    );
    let sizes = [dyads.min(1), dyads.div_ceil(2), dyads];
    let mut x = 40.0;
    for n in sizes {
        let r = radius(n);
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"#bbbbbb\" stroke=\"#222222\"/>",
            x + r,
            ly + 42.0
        );
        text(
            &mut out,
            x + r,
            ly + 42.0 + r + 12.0,
            10.0,
            "middle",
            "",
            &format!("{n}"),
        );
        x += 2.0 * r + 18.0;
    }
    text(
        &mut out,
        x,
        ly + 30.0,
        10.0,
        "start",
        "",
        "node area: dyads with evidence in either account",
    );
    let ex = x;
    for (k, share) in [0.0, 0.5, 1.0].into_iter().enumerate() {
        let y = ly + 46.0 + k as f64 * 14.0;
        let _ = write!(
            out,
            "<line x1=\"{ex:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#444444\" stroke-width=\"{:.2}\"/>",
            ex + 40.0,
            1.0 + 7.0 * share
        );
        text(
            &mut out,
            ex + 48.0,
            y + 4.0,
            10.0,
            "start",
            "",
            &format!(
                "{} of {dyads} dyads with both sides evidenced",
                (share * dyads as f64).round()
            ),
        );
    }
    let tx = ex + 280.0;
    let _ = write!(
        out,
        "<line x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#444444\" stroke-width=\"2\" stroke-dasharray=\"6 4\"/>",
        ly + 46.0,
        tx + 40.0,
        ly + 46.0
    );
    text(
        &mut out,
        tx + 48.0,
        ly + 50.0,
        10.0,
        "start",
        "",
        "project assumption (not in the published theory)",
    );
    text(
        &mut out,
        tx,
        ly + 68.0,
        10.0,
        "start",
        "",
        "P#: proposition number in the support table; n/N: dyads with both sides evidenced",
    );
    out.push_str("</g></svg>");
    out
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

    let verdict_lines = wrap(&saturation.statement, 150);
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
