//! The model figures, laid out from the theory's kinds as the paper draws its model:
//! competencies → processes → outcomes → the concept they explain.
//!
//! - [`ModelView::Structure`]: the model as its theory states it — a box per component, each
//!   proposition a numbered junction (`P#`, as in the support table) with its relation, a
//!   project assumption dashed.
//! - [`ModelView::Evidence`]: the same columns weighted by a study — node area by the dyads
//!   with evidence, edge width by the dyads where both sides are; the subtitle states the rule
//!   ([`support_rule`]).
//!
//! Every text is placed where its estimated box ([`text_box`]) meets no other text, no node,
//! caption or legend: the layout keeps the boxes it has drawn and tries positions in turn.
//! Nothing here names a component of any theory.

use std::fmt::Write;

use between_findings::Corpus;
use between_findings::propositions::{PropositionSupport, Support};
use between_model::Kind;

use super::{colour, escape, header, text};

/// Which model figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelView {
    /// The model's structure as the paper draws it.
    Structure,
    /// The same layout weighted by the study's evidence.
    Evidence,
}

impl ModelView {
    pub const ALL: [ModelView; 2] = [ModelView::Structure, ModelView::Evidence];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Structure => "structure",
            Self::Evidence => "evidence",
        }
    }

    /// The figure as SVG.
    pub fn draw(self, corpus: &Corpus, support: &Support) -> String {
        Layout::new(self, corpus, support).draw()
    }
}

impl std::str::FromStr for ModelView {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown model figure '{s}': expected structure or evidence"))
    }
}

/// The rule behind the evidence figure's numbers, stated in full in its subtitle: what the
/// figure's n/N mean, then the reading `Support` counted by, in its own words.
pub fn support_rule(support: &Support) -> String {
    format!(
        "A component's n/N (node area) is the dyads, of N, with evidence of it in either account; \
         a proposition's n/N (edge width) is the dyads that support it. {}",
        support.rule_text
    )
}

/// A box on the figure, in user units (y down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn intersects(&self, other: &Rect) -> bool {
        self.x0 < other.x1 && other.x0 < self.x1 && self.y0 < other.y1 && other.y0 < self.y1
    }

    fn padded(self, by: f64) -> Rect {
        Rect {
            x0: self.x0 - by,
            y0: self.y0 - by,
            x1: self.x1 + by,
            y1: self.y1 + by,
        }
    }

    fn contains(&self, (x, y): Point) -> bool {
        self.x0 <= x && x <= self.x1 && self.y0 <= y && y <= self.y1
    }
}

/// The estimated width of `content` set in Helvetica or Arial at `size`: per-character widths
/// rounded up from the fonts' metrics, so an estimate is never much narrower than the text.
pub fn text_width(content: &str, size: f64, bold: bool) -> f64 {
    let em: f64 = content
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '’' | '|' | '!' | ' ' => 0.3,
            'f' | 't' | 'r' | 'I' | '(' | ')' | '/' | '-' | '[' | ']' => 0.4,
            'm' | 'w' | 'M' | 'W' | '—' => 0.9,
            c if c.is_uppercase() => 0.72,
            _ => 0.58,
        })
        .sum();
    em * size * if bold { 1.1 } else { 1.0 }
}

/// The box a `<text>` occupies, from its anchor point on the baseline.
pub fn text_box(x: f64, y: f64, size: f64, anchor: &str, content: &str, bold: bool) -> Rect {
    let w = text_width(content, size, bold);
    let x0 = match anchor {
        "middle" => x - w / 2.0,
        "end" => x - w,
        _ => x,
    };
    Rect {
        x0,
        y0: y - 0.8 * size,
        x1: x0 + w,
        y1: y + 0.25 * size,
    }
}

/// Splits `label` at spaces into lines no wider than `width` set at `size` (a longer word
/// stands alone).
pub(super) fn wrap(label: &str, size: f64, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in label.split_whitespace() {
        match lines.last_mut() {
            Some(line) if text_width(&format!("{line} {word}"), size, false) <= width => {
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

type Point = (f64, f64);

const MARGIN: f64 = 24.0;
/// Between columns: room for the junctions and their labels; more for each junction.
const GAP: f64 = 150.0;
const GAP_PER_JUNCTION: f64 = 50.0;
/// Between nodes of a column: room for edges that pass through it.
const ROW_GAP: f64 = 40.0;
const BOX_W: f64 = 150.0;
const NAME_SIZE: f64 = 12.0;
const LABEL_SIZE: f64 = 10.0;
const MAX_R: f64 = 30.0;
const MIN_R: f64 = 7.0;
/// How far from a junction its label may go, tried nearest first.
const LABEL_REACH: f64 = 160.0;

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Left,
    Right,
}

struct Node {
    /// Index in `Support::components`.
    component: usize,
    column: usize,
    /// The name, wrapped.
    lines: Vec<String>,
    /// The circle's radius on the evidence figure; none on the structure figure (a box).
    radius: Option<f64>,
    /// Footprint: the shape and its labels.
    w: f64,
    h: f64,
    x: f64,
    top: f64,
}

impl Node {
    fn footprint(&self) -> Rect {
        Rect {
            x0: self.x - self.w / 2.0,
            y0: self.top,
            x1: self.x + self.w / 2.0,
            y1: self.top + self.h,
        }
    }

    /// Where edges meet it: the circle's centre line, or the box's middle.
    fn anchor_y(&self) -> f64 {
        self.top + self.radius.unwrap_or(self.h / 2.0)
    }

    fn half_width(&self) -> f64 {
        self.radius.unwrap_or(self.w / 2.0)
    }

    fn side(&self, side: Side, gap: f64) -> Point {
        let dx = self.half_width() + gap;
        match side {
            Side::Left => (self.x - dx, self.anchor_y()),
            Side::Right => (self.x + dx, self.anchor_y()),
        }
    }
}

#[derive(Clone, Copy)]
enum Segment {
    Curve(Point, Point, Point, Point),
    Line(Point, Point),
}

impl Segment {
    /// A curve leaving and arriving horizontally.
    fn s_curve(a: Point, b: Point) -> Segment {
        let mx = (a.0 + b.0) / 2.0;
        Segment::Curve(a, (mx, a.1), (mx, b.1), b)
    }

    fn reversed(self) -> Segment {
        match self {
            Segment::Curve(a, b, c, d) => Segment::Curve(d, c, b, a),
            Segment::Line(a, b) => Segment::Line(b, a),
        }
    }

    /// Points along the segment, at most about 3 units apart.
    fn samples(&self) -> Vec<Point> {
        let length = match *self {
            Segment::Line(a, b) => distance(a, b),
            Segment::Curve(a, b, c, d) => distance(a, b) + distance(b, c) + distance(c, d),
        };
        let n = (length / 3.0).ceil().max(1.0) as usize;
        (0..=n).map(|k| self.at(k as f64 / n as f64)).collect()
    }

    fn at(&self, t: f64) -> Point {
        match *self {
            Segment::Line(a, b) => (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t),
            Segment::Curve(a, b, c, d) => {
                let u = 1.0 - t;
                let f = |p: f64, q: f64, r: f64, s: f64| {
                    u * u * u * p + 3.0 * u * u * t * q + 3.0 * u * t * t * r + t * t * t * s
                };
                (f(a.0, b.0, c.0, d.0), f(a.1, b.1, c.1, d.1))
            }
        }
    }
}

fn distance(a: Point, b: Point) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

fn path_data(route: &[Segment]) -> String {
    let mut d = String::new();
    for (i, s) in route.iter().enumerate() {
        let start = match s {
            Segment::Curve(a, ..) | Segment::Line(a, _) => *a,
        };
        if i == 0 {
            let _ = write!(d, "M{:.1},{:.1}", start.0, start.1);
        }
        let _ = match s {
            Segment::Curve(_, b, c, e) => write!(
                d,
                " C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                b.0, b.1, c.0, c.1, e.0, e.1
            ),
            Segment::Line(_, b) => write!(d, " L{:.1},{:.1}", b.0, b.1),
        };
    }
    d
}

/// A proposition's junction: its edges meet at (x, y) in the gap right of column `gap`.
struct Junction {
    proposition: usize,
    gap: usize,
    x: f64,
    y: f64,
    sources: Vec<usize>,
    targets: Vec<usize>,
    /// Which side of its nodes the sources leave from, and the targets are entered from.
    exit: Side,
    entry: Side,
}

/// The SVG being written, with the boxes of everything placed so far.
struct Canvas {
    out: String,
    taken: Vec<Rect>,
}

impl Canvas {
    fn text(&mut self, x: f64, y: f64, size: f64, anchor: &str, extra: &str, content: &str) {
        let bold = extra.contains("bold");
        self.taken.push(text_box(x, y, size, anchor, content, bold));
        text(&mut self.out, x, y, size, anchor, extra, content);
    }

    fn free(&self, r: &Rect) -> bool {
        self.taken.iter().all(|t| !t.padded(2.0).intersects(r))
    }
}

struct Layout<'a> {
    view: ModelView,
    support: &'a Support,
    title: String,
    nodes: Vec<Node>,
    /// Per used column: its left edge and width.
    columns: Vec<(f64, f64)>,
    /// Per column: the width of the gap right of it.
    gaps: Vec<f64>,
    headings: Vec<String>,
}

impl<'a> Layout<'a> {
    fn new(view: ModelView, corpus: &Corpus, support: &'a Support) -> Self {
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
        let members: Vec<usize> = (0..support.components.len())
            .filter(|&i| {
                let c = &support.components[i];
                c.depth == 0 || named.contains(c.id.as_str())
            })
            .collect();
        let mut used: Vec<usize> = members
            .iter()
            .map(|&i| column_of(support.components[i].kind))
            .collect();
        used.sort_unstable();
        used.dedup();
        let nodes: Vec<Node> = members
            .iter()
            .map(|&i| {
                let column = used
                    .iter()
                    .position(|&c| c == column_of(support.components[i].kind))
                    .unwrap_or(0);
                node(view, support, i, column)
            })
            .collect();
        let headings: Vec<String> = (0..used.len())
            .map(|col| {
                let mut kinds: Vec<&str> = nodes
                    .iter()
                    .filter(|n| n.column == col)
                    .map(|n| support.components[n.component].kind.as_str())
                    .collect();
                kinds.dedup();
                kinds
                    .iter()
                    .map(|k| plural(k))
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
            .collect();
        // Placed once the junctions are known (`place_columns`).
        let columns = headings
            .iter()
            .enumerate()
            .map(|(col, heading)| {
                let width = nodes
                    .iter()
                    .filter(|n| n.column == col)
                    .map(|n| n.w)
                    .fold(text_width(heading, NAME_SIZE, false), f64::max);
                (0.0, width)
            })
            .collect();
        Layout {
            view,
            support,
            title,
            nodes,
            columns,
            gaps: Vec::new(),
            headings,
        }
    }

    /// Columns left to right, each gap wide enough for its junctions; the last gap is the
    /// right margin unless junctions stand there.
    fn place_columns(&mut self, junctions: &[Junction]) {
        let last = self.columns.len().saturating_sub(1);
        self.gaps = (0..self.columns.len())
            .map(|g| {
                let n = junctions.iter().filter(|j| j.gap == g).count();
                if g == last && n == 0 {
                    MARGIN
                } else {
                    GAP.max(GAP_PER_JUNCTION * (n + 1) as f64)
                }
            })
            .collect();
        let mut left = MARGIN;
        for (col, gap) in self.columns.iter_mut().zip(&self.gaps) {
            col.0 = left;
            left += col.1 + gap;
        }
    }

    fn centre(&self, col: usize) -> f64 {
        self.columns[col].0 + self.columns[col].1 / 2.0
    }

    /// The right edge of column `col`; the gap `col` lies right of it.
    fn right(&self, col: usize) -> f64 {
        self.columns[col].0 + self.columns[col].1
    }

    /// The figure's visible title.
    fn heading(&self) -> String {
        match self.view {
            ModelView::Structure => self.title.clone(),
            ModelView::Evidence => format!(
                "{}: evidence in {} dyads",
                self.title, self.support.dyad_count
            ),
        }
    }

    fn node_of(&self, id: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| self.support.components[n.component].id == id)
    }

    fn draw(mut self) -> String {
        let dyads = self.support.dyad_count;
        let junctions_unplaced = self.junction_plan();
        self.place_columns(&junctions_unplaced);
        let content_right = self
            .columns
            .len()
            .checked_sub(1)
            .map_or(2.0 * MARGIN, |last| self.right(last) + self.gaps[last]);
        let (subtitle, figure_title) = match self.view {
            ModelView::Structure => (
                "The model as its theory states it: components in columns by kind; each \
                 proposition (P#, numbered as in the support table) joins its components at a \
                 point, marked with its relation; dashed: a project assumption."
                    .to_string(),
                format!("{}: the model", self.title),
            ),
            ModelView::Evidence => (
                format!("{dyads} dyads. {}", support_rule(self.support)),
                format!("{}: evidence and support", self.title),
            ),
        };
        let width = content_right
            .max(640.0)
            .max(text_width(&self.heading(), 16.0, true) + 2.0 * MARGIN);
        let mut canvas = Canvas {
            out: String::new(),
            taken: Vec::new(),
        };
        let heading = self.heading();
        canvas.text(
            width / 2.0,
            26.0,
            16.0,
            "middle",
            "font-weight=\"bold\"",
            &heading,
        );
        let mut y = 46.0;
        canvas.out.push_str("<g class=\"subtitle\">");
        for line in wrap(&subtitle, 11.0, width - 2.0 * MARGIN) {
            canvas.text(width / 2.0, y, 11.0, "middle", "fill=\"#444444\"", &line);
            y += 14.0;
        }
        canvas.out.push_str("</g>");
        let headings_y = y + 14.0;
        for col in 0..self.columns.len() {
            let x = self.centre(col);
            let label = self.headings[col].clone();
            canvas.text(
                x,
                headings_y,
                NAME_SIZE,
                "middle",
                "fill=\"#333333\" font-style=\"italic\"",
                &label,
            );
        }
        let plot_top = headings_y + 22.0;
        self.place_nodes(plot_top);
        let junctions = self.place_junctions(junctions_unplaced, plot_top);
        let routes: Vec<Vec<(Vec<Segment>, bool)>> =
            junctions.iter().map(|j| self.routes(j)).collect();

        // Edges, beneath everything.
        canvas.out.push_str(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#444444\"/></marker></defs>",
        );
        canvas.out.push_str("<g id=\"propositions\">");
        let mut samples: Vec<Point> = Vec::new();
        let mut bottom = plot_top;
        for (j, edges) in junctions.iter().zip(&routes) {
            let p = &self.support.propositions[j.proposition];
            let (stroke, opacity) = self.stroke(p);
            let dash = if p.basis == between_model::Basis::StatedInSource.as_str() {
                ""
            } else {
                " stroke-dasharray=\"6 4\""
            };
            let _ = write!(
                canvas.out,
                "<g class=\"proposition\" data-number=\"{}\"><title>{}</title>",
                p.number,
                escape(&self.describe(p))
            );
            for (route, arrow) in edges {
                for point in route.iter().flat_map(Segment::samples) {
                    bottom = bottom.max(point.1 + stroke);
                    samples.push(point);
                }
                let _ = write!(
                    canvas.out,
                    "<path d=\"{}\" fill=\"none\" stroke=\"#444444\" stroke-width=\"{stroke:.2}\" stroke-opacity=\"{opacity}\"{dash}{}/>",
                    path_data(route),
                    if *arrow {
                        " marker-end=\"url(#arrow)\""
                    } else {
                        ""
                    }
                );
            }
            let _ = write!(
                canvas.out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#444444\"/></g>",
                j.x, j.y
            );
            canvas.taken.push(Rect {
                x0: j.x - 4.0,
                y0: j.y - 4.0,
                x1: j.x + 4.0,
                y1: j.y + 4.0,
            });
        }
        canvas.out.push_str("</g>");

        // Nodes.
        canvas.out.push_str("<g id=\"components\">");
        for n in &self.nodes {
            self.draw_node(&mut canvas, n);
            bottom = bottom.max(n.top + n.h);
        }
        canvas.out.push_str("</g>");

        // Junction labels, where they meet nothing drawn, no edge either; nearest the junction.
        canvas.out.push_str("<g id=\"proposition-labels\">");
        let mut unplaced = Vec::new();
        for j in &junctions {
            let label = self.junction_label(&self.support.propositions[j.proposition]);
            match best_place(&canvas, width, plot_top, j, &label, &samples) {
                Some((x, y)) => {
                    self.draw_label(&mut canvas, j, x, y, &label);
                    bottom = bottom.max(y + 3.0);
                }
                None => unplaced.push((j, label)),
            }
        }
        // A label with no room near its junction goes below the plot, led to it by a line.
        for (j, label) in unplaced {
            let y = bottom + 18.0;
            self.draw_label(&mut canvas, j, j.x, y, &label);
            bottom = y + 3.0;
        }
        canvas.out.push_str("</g>");

        let height = self.legend(&mut canvas, width, bottom + 22.0);
        let mut out = String::new();
        header(&mut out, width, height, &figure_title);
        out.push_str(&canvas.out);
        out.push_str("</svg>");
        out
    }

    /// The gap each proposition's junction takes and which sides its edges use: forward
    /// (targets right of every source) in the gap before the targets; backward in the gap after
    /// them; otherwise right of all its components.
    fn junction_plan(&self) -> Vec<Junction> {
        let mut out = Vec::new();
        for (i, p) in self.support.propositions.iter().enumerate() {
            let ends = |ids: &[String]| -> Vec<usize> {
                ids.iter().filter_map(|id| self.node_of(id)).collect()
            };
            let (sources, targets) = (ends(&p.from), ends(&p.to));
            if sources.is_empty() || targets.is_empty() {
                continue;
            }
            let columns = |nodes: &[usize]| {
                let cols = nodes.iter().map(|&n| self.nodes[n].column);
                (cols.clone().min().unwrap_or(0), cols.max().unwrap_or(0))
            };
            let ((from_min, from_max), (to_min, to_max)) = (columns(&sources), columns(&targets));
            let (gap, exit, entry) = if to_min > from_max {
                (to_min - 1, Side::Right, Side::Left)
            } else if to_max < from_min {
                (to_max, Side::Left, Side::Right)
            } else {
                (from_max.max(to_max), Side::Right, Side::Right)
            };
            out.push(Junction {
                proposition: i,
                gap,
                x: 0.0,
                y: 0.0,
                sources,
                targets,
                exit,
                entry,
            });
        }
        out
    }

    fn place_nodes(&mut self, plot_top: f64) {
        let heights: Vec<f64> = (0..self.columns.len())
            .map(|col| {
                let members: Vec<&Node> = self.nodes.iter().filter(|n| n.column == col).collect();
                members.iter().map(|n| n.h).sum::<f64>()
                    + ROW_GAP * members.len().saturating_sub(1) as f64
            })
            .collect();
        let tallest = heights.iter().copied().fold(0.0, f64::max);
        for (col, height) in heights.into_iter().enumerate() {
            let mut top = plot_top + (tallest - height) / 2.0;
            let x = self.centre(col);
            for n in self.nodes.iter_mut().filter(|n| n.column == col) {
                n.x = x;
                n.top = top;
                top += n.h + ROW_GAP;
            }
        }
    }

    /// Junctions spread across their gap, at the mean height of their components, apart from
    /// each other.
    fn place_junctions(&self, mut junctions: Vec<Junction>, plot_top: f64) -> Vec<Junction> {
        const APART: f64 = 36.0;
        let mut placed: Vec<Junction> = Vec::new();
        let in_gap = |g: usize, js: &[Junction]| js.iter().filter(|j| j.gap == g).count();
        let counts: Vec<usize> = (0..self.columns.len())
            .map(|g| in_gap(g, &junctions))
            .collect();
        for mut j in junctions.drain(..) {
            let ends: Vec<f64> = j
                .sources
                .iter()
                .chain(&j.targets)
                .map(|&n| self.nodes[n].anchor_y())
                .collect();
            let mean = ends.iter().sum::<f64>() / ends.len() as f64;
            let k = in_gap(j.gap, &placed);
            j.x =
                self.right(j.gap) + self.gaps[j.gap] * (k + 1) as f64 / (counts[j.gap] + 1) as f64;
            j.y = (0..)
                .map(|k: i32| {
                    mean + APART * f64::from((k + 1) / 2) * if k % 2 == 1 { 1.0 } else { -1.0 }
                })
                .find(|&y| {
                    y >= plot_top + 6.0
                        && placed.iter().all(|o| {
                            // Apart, and never level with another in its gap, whose edges
                            // would run on top of its own.
                            let dy = (o.y - y).abs();
                            ((o.x - j.x).abs() >= 40.0 || dy >= APART)
                                && (o.gap != j.gap || dy >= APART / 2.0)
                        })
                })
                .unwrap_or(mean);
            placed.push(j);
        }
        placed
    }

    /// The edges of a junction, each with whether it ends in an arrow (into a target).
    fn routes(&self, j: &Junction) -> Vec<(Vec<Segment>, bool)> {
        let into = j
            .sources
            .iter()
            .map(|&n| (self.route(n, j.exit, 0.0, j), false));
        let out_of = j.targets.iter().map(|&n| {
            let route = self.route(n, j.entry, 2.0, j);
            (
                route.into_iter().rev().map(Segment::reversed).collect(),
                true,
            )
        });
        into.chain(out_of).collect()
    }

    /// From a node's side to the junction; through the columns between at a height where no
    /// node stands.
    fn route(&self, n: usize, side: Side, clearance: f64, j: &Junction) -> Vec<Segment> {
        let node = &self.nodes[n];
        let shape = node.side(side, clearance);
        // Straight out past the node's labels (wider than a small circle), then curving.
        let start = match side {
            Side::Left => (shape.0.min(node.x - node.w / 2.0), shape.1),
            Side::Right => (shape.0.max(node.x + node.w / 2.0), shape.1),
        };
        let mut route = Vec::new();
        if start != shape {
            route.push(Segment::Line(shape, start));
        }
        let end = (j.x, j.y);
        let crossed: Vec<usize> = match side {
            Side::Right => (node.column + 1..=j.gap).collect(),
            Side::Left => (j.gap + 1..node.column).collect(),
        };
        if crossed.is_empty() {
            route.push(Segment::s_curve(start, end));
            return route;
        }
        let lane = self.lane(&crossed, (start.1 + end.1) / 2.0);
        let (a, b) = match side {
            Side::Right => (
                self.right(node.column) + self.gaps[node.column] * 0.35,
                self.right(j.gap) + (j.x - self.right(j.gap)) / 2.0,
            ),
            Side::Left => (
                self.columns[node.column].0 - self.gaps[node.column - 1] * 0.35,
                j.x + (self.columns[j.gap + 1].0 - j.x) / 2.0,
            ),
        };
        route.extend([
            Segment::s_curve(start, (a, lane)),
            Segment::Line((a, lane), (b, lane)),
            Segment::s_curve((b, lane), end),
        ]);
        route
    }

    /// A height nearest `near` that passes at least a margin clear of every node in `columns`.
    fn lane(&self, columns: &[usize], near: f64) -> f64 {
        const CLEAR: f64 = 14.0;
        let mut spans: Vec<(f64, f64)> = self
            .nodes
            .iter()
            .filter(|n| columns.contains(&n.column))
            .map(|n| (n.top - CLEAR, n.top + n.h + CLEAR))
            .collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::new();
        for s in spans {
            match merged.last_mut() {
                Some(last) if s.0 <= last.1 => last.1 = last.1.max(s.1),
                _ => merged.push(s),
            }
        }
        let mut candidates: Vec<f64> = merged.iter().flat_map(|&(a, b)| [a, b]).collect();
        candidates.extend(merged.windows(2).map(|w| (w[0].1 + w[1].0) / 2.0));
        candidates
            .into_iter()
            .min_by(|a, b| (a - near).abs().total_cmp(&(b - near).abs()))
            .unwrap_or(near)
    }

    fn stroke(&self, p: &PropositionSupport) -> (f64, f64) {
        match self.view {
            ModelView::Structure => (1.6, 0.8),
            ModelView::Evidence => {
                let share = share(p.both, self.support.dyad_count);
                (1.0 + 7.0 * share, if p.both == 0 { 0.35 } else { 0.75 })
            }
        }
    }

    fn describe(&self, p: &PropositionSupport) -> String {
        let edge = format!(
            "P{}: {} {} {} ({})",
            p.number,
            p.from_names.join(" + "),
            p.relation,
            p.to_names.join(" + "),
            p.basis
        );
        match self.view {
            ModelView::Structure => edge,
            ModelView::Evidence => format!(
                "{edge} — both sides evidenced in {} of {} dyads, source only {}, target only {}, neither {}",
                p.both, self.support.dyad_count, p.source_only, p.target_only, p.neither
            ),
        }
    }

    fn junction_label(&self, p: &PropositionSupport) -> String {
        match self.view {
            ModelView::Structure => format!("P{} {}", p.number, p.relation.replace('-', " ")),
            ModelView::Evidence => {
                format!("P{} {}/{}", p.number, p.both, self.support.dyad_count)
            }
        }
    }

    fn draw_label(&self, canvas: &mut Canvas, j: &Junction, x: f64, y: f64, label: &str) {
        let b = text_box(x, y, LABEL_SIZE, "middle", label, false);
        // A label set apart from its junction is led to it.
        let nearest = (j.x.clamp(b.x0, b.x1), j.y.clamp(b.y0, b.y1));
        if (nearest.0 - j.x).hypot(nearest.1 - j.y) > 12.0 {
            let _ = write!(
                canvas.out,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888888\" stroke-width=\"0.8\" stroke-dasharray=\"2 2\"/>",
                j.x, j.y, nearest.0, nearest.1
            );
        }
        canvas.text(
            x,
            y,
            LABEL_SIZE,
            "middle",
            "fill=\"#222222\" paint-order=\"stroke\" stroke=\"#ffffff\" stroke-width=\"3\"",
            label,
        );
    }

    fn draw_node(&self, canvas: &mut Canvas, n: &Node) {
        let c = &self.support.components[n.component];
        let dyads = self.support.dyad_count;
        let fill = colour(c.colour.as_deref());
        let tooltip = match self.view {
            ModelView::Structure => format!("{} ({})", c.name, c.kind.as_str()),
            ModelView::Evidence => format!(
                "{}: evidence in {} of {} dyads ({} in both accounts)",
                c.name, c.dyads, dyads, c.both_accounts
            ),
        };
        let _ = write!(
            canvas.out,
            "<g class=\"component\" data-component=\"{}\"><title>{}</title>",
            escape(&c.id),
            escape(&tooltip)
        );
        match n.radius {
            None => {
                let _ = write!(
                    canvas.out,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"6\" fill=\"{fill}\" fill-opacity=\"0.16\" stroke=\"{fill}\" stroke-width=\"1.5\"/>",
                    n.x - n.w / 2.0,
                    n.top,
                    n.w,
                    n.h
                );
                let mut y = n.top + 19.0;
                for line in &n.lines {
                    canvas.text(n.x, y, NAME_SIZE, "middle", "fill=\"#111111\"", line);
                    y += 15.0;
                }
            }
            Some(r) => {
                let _ = write!(
                    canvas.out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"{fill}\" fill-opacity=\"0.85\" stroke=\"#222222\" stroke-width=\"1\"/>",
                    n.x,
                    n.top + r
                );
                let mut y = n.top + 2.0 * r + 13.0;
                for line in &n.lines {
                    canvas.text(n.x, y, 11.0, "middle", "fill=\"#111111\"", line);
                    y += 13.0;
                }
                canvas.text(
                    n.x,
                    y,
                    LABEL_SIZE,
                    "middle",
                    "fill=\"#555555\"",
                    &format!("{}/{} dyads", c.dyads, dyads),
                );
            }
        }
        canvas.taken.push(n.footprint());
        canvas.out.push_str("</g>");
    }

    /// The legend below `top`, its items flowing in rows; returns the figure's height.
    fn legend(&self, canvas: &mut Canvas, width: f64, top: f64) -> f64 {
        let dyads = self.support.dyad_count;
        let mut rows: Vec<Vec<(Swatch, String)>> = Vec::new();
        if self.view == ModelView::Evidence {
            let mut sizes = vec![dyads.min(1), dyads.div_ceil(2), dyads];
            sizes.dedup();
            let mut row: Vec<(Swatch, String)> = sizes
                .into_iter()
                .map(|n| (Swatch::Circle(radius(n, dyads)), n.to_string()))
                .collect();
            row.push((
                Swatch::None,
                format!("node area: dyads with evidence of the component, of {dyads}"),
            ));
            rows.push(row);
            let mut counts = vec![0, (dyads as f64 / 2.0).round() as usize, dyads];
            counts.dedup();
            rows.push(
                counts
                    .into_iter()
                    .map(|n| {
                        (
                            Swatch::Line(1.0 + 7.0 * share(n, dyads), false),
                            format!("{n} of {dyads} dyads with both sides evidenced"),
                        )
                    })
                    .collect(),
            );
        }
        let (solid, number) = match self.view {
            ModelView::Structure => (
                1.6,
                "P# and relation: a proposition, numbered as in the support table",
            ),
            ModelView::Evidence => (
                2.0,
                "P# n/N: a proposition, numbered as in the support table; n/N dyads with both sides evidenced",
            ),
        };
        let mut kinds = vec![(Swatch::Dot, number.to_string())];
        if self.view == ModelView::Structure {
            kinds.push((
                Swatch::Line(solid, false),
                "stated in the theory's source".into(),
            ));
        }
        kinds.push((
            Swatch::Line(solid, true),
            "project assumption (not in the published theory)".into(),
        ));
        rows.push(kinds);

        let left = MARGIN + 12.0;
        let right = width - MARGIN - 12.0;
        // Items flow left to right, a row starting a new line and wrapping when full.
        let mut lines: Vec<Vec<(f64, Swatch, String)>> = Vec::new();
        for row in rows {
            let mut line = Vec::new();
            let mut x = left;
            for (swatch, label) in row {
                let w = swatch.width() + 6.0 + text_width(&label, LABEL_SIZE, false);
                if x > left && x + w > right {
                    lines.push(std::mem::take(&mut line));
                    x = left;
                }
                line.push((x, swatch, label));
                x += w + 18.0;
            }
            lines.push(line);
        }
        let mut body = String::new();
        let mut legend = Canvas {
            out: String::new(),
            taken: Vec::new(),
        };
        legend.text(
            left,
            top + 18.0,
            11.0,
            "start",
            "font-weight=\"bold\"",
            "Legend",
        );
        let mut y = top + 30.0;
        for line in lines {
            let h = line
                .iter()
                .map(|(_, swatch, _)| swatch.height())
                .fold(14.0, f64::max);
            let mid = y + h / 2.0;
            for (x, swatch, label) in line {
                swatch.draw(&mut body, x, mid);
                legend.text(
                    x + swatch.width() + 6.0,
                    mid + 3.5,
                    LABEL_SIZE,
                    "start",
                    "",
                    &label,
                );
            }
            y += h + 10.0;
        }
        let bottom = y + 2.0;
        let _ = write!(
            canvas.out,
            "<g id=\"legend\"><rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#cccccc\"/>{body}{}</g>",
            MARGIN,
            width - 2.0 * MARGIN,
            bottom - top,
            legend.out
        );
        canvas.taken.extend(legend.taken);
        bottom + 14.0
    }
}

#[derive(Clone, Copy)]
enum Swatch {
    None,
    Dot,
    Circle(f64),
    Line(f64, bool),
}

impl Swatch {
    fn width(self) -> f64 {
        match self {
            Swatch::None => -6.0,
            Swatch::Dot => 8.0,
            Swatch::Circle(r) => 2.0 * r,
            Swatch::Line(..) => 36.0,
        }
    }

    fn height(self) -> f64 {
        match self {
            Swatch::Circle(r) => 2.0 * r,
            Swatch::Line(w, _) => w,
            _ => 8.0,
        }
    }

    fn draw(self, out: &mut String, x: f64, y: f64) {
        let _ = match self {
            Swatch::None => Ok(()),
            Swatch::Dot => write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#444444\"/>",
                x + 4.0
            ),
            Swatch::Circle(r) => write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\" fill=\"#bbbbbb\" stroke=\"#222222\"/>",
                x + r
            ),
            Swatch::Line(w, dashed) => write!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#444444\" stroke-width=\"{w:.2}\"{}/>",
                x + 36.0,
                if dashed {
                    " stroke-dasharray=\"6 4\""
                } else {
                    ""
                }
            ),
        };
    }
}

fn share(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// A node's radius: area proportional to the share of dyads with evidence.
fn radius(n: usize, dyads: usize) -> f64 {
    MIN_R + (MAX_R - MIN_R) * share(n, dyads).sqrt()
}

fn node(view: ModelView, support: &Support, component: usize, column: usize) -> Node {
    let c = &support.components[component];
    let (lines, radius, w, h) = match view {
        ModelView::Structure => {
            let lines = wrap(&c.name, NAME_SIZE, BOX_W - 16.0);
            let widest = lines
                .iter()
                .map(|l| text_width(l, NAME_SIZE, false))
                .fold(0.0, f64::max);
            let h = 16.0 + 15.0 * lines.len() as f64;
            (lines, None, BOX_W.max(widest + 16.0), h)
        }
        ModelView::Evidence => {
            let r = radius(c.dyads, support.dyad_count);
            let lines = wrap(&c.name, 11.0, BOX_W);
            let count = format!("{}/{} dyads", c.dyads, support.dyad_count);
            let w = lines
                .iter()
                .map(|l| text_width(l, 11.0, false))
                .fold(text_width(&count, LABEL_SIZE, false), f64::max)
                .max(2.0 * r);
            let h = 2.0 * r + 16.0 + 13.0 * lines.len() as f64;
            (lines, Some(r), w, h)
        }
    };
    Node {
        component,
        column,
        lines,
        radius,
        w,
        h,
        x: 0.0,
        top: 0.0,
    }
}

/// Where a junction's label goes (its centre and baseline): the free position nearest the
/// junction that meets nothing drawn and no edge. None when nothing within reach is free.
fn best_place(
    canvas: &Canvas,
    width: f64,
    plot_top: f64,
    j: &Junction,
    label: &str,
    edges: &[Point],
) -> Option<(f64, f64)> {
    let w = text_width(label, LABEL_SIZE, false);
    let step = 4.0;
    let reach = (LABEL_REACH / step) as i32;
    let mut best: Option<(f64, f64, f64)> = None;
    for k in -reach..=reach {
        let dy = f64::from(k) * step;
        for m in -3..=3 {
            let dx = f64::from(m) * (w / 2.0 + 8.0);
            let distance = dx.hypot(dy);
            if best.is_some_and(|(d, ..)| d <= distance) {
                continue;
            }
            // The box's middle at the offset: the baseline a little below it.
            let (x, y) = (j.x + dx, j.y + dy + 3.5);
            let b = text_box(x, y, LABEL_SIZE, "middle", label, false);
            let clear = b.padded(2.0);
            if b.x0 < 4.0
                || b.x1 > width - 4.0
                || b.y0 < plot_top
                || !canvas.free(&b)
                || edges.iter().any(|p| clear.contains(*p))
            {
                continue;
            }
            best = Some((distance, x, y));
        }
    }
    best.map(|(_, x, y)| (x, y))
}

#[cfg(test)]
mod tests;
