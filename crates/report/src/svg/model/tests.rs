use super::*;
use between_findings::Proximity;
use between_findings::propositions::{Reading, SideRule, support};
use between_findings::triangulation::{Coders, triangulate};
use between_model::{Basis, Theory};
use between_study::StudyBundle;
use quick_xml::events::{BytesStart, Event};

/// The sample study's content and theory.
fn sample_parts() -> (StudyBundle, Option<Theory>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let wb = between_sample::materialise(&dir.path().join("s.between"), &Default::default())
        .expect("sample");
    (wb.bundle().expect("bundle"), wb.theory().expect("theory"))
}

fn supported(corpus: &Corpus, rule: SideRule) -> Support {
    let t = triangulate(corpus, &Coders::All).expect("triangulation");
    support(corpus, &t, rule)
}

/// A `<text>` as drawn: its box estimated as the layout estimates it, and the component whose
/// group holds it, if any.
#[derive(Debug)]
struct Text {
    content: String,
    rect: Rect,
    owner: Option<String>,
    subtitle: bool,
}

#[derive(Debug, Default)]
struct Drawn {
    width: f64,
    height: f64,
    texts: Vec<Text>,
    /// Each component's shape (box or circle), by its bounding box.
    nodes: Vec<(String, Rect)>,
    /// The radii of the legend's node-size circles.
    legend_sizes: Vec<f64>,
    /// Points along the propositions' edges.
    edges: Vec<Point>,
}

/// An open `<g>`: the component it draws, and what else it is.
#[derive(Default)]
struct Group {
    component: Option<String>,
    legend: bool,
    subtitle: bool,
    proposition: bool,
}

/// The segments of a path as the figure writes them (absolute M, C and L).
fn segments(d: &str) -> Vec<Segment> {
    let mut numbers = d
        .split(|c: char| c.is_whitespace() || c == ',' || c.is_ascii_alphabetic())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<f64>().expect("a coordinate"));
    let mut point = || (numbers.next().expect("x"), numbers.next().expect("y"));
    let mut at = (0.0, 0.0);
    let mut out = Vec::new();
    for command in d.chars().filter(char::is_ascii_alphabetic) {
        match command {
            'M' => at = point(),
            'C' => {
                let (b, c, e) = (point(), point(), point());
                out.push(Segment::Curve(at, b, c, e));
                at = e;
            }
            'L' => {
                let e = point();
                out.push(Segment::Line(at, e));
                at = e;
            }
            other => panic!("unexpected path command {other}"),
        }
    }
    out
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .map(|a| a.expect("attribute"))
        .find(|a| a.key.as_ref() == name)
        .map(|a| a.value.into_owned())
}

fn number(e: &BytesStart, name: &str) -> f64 {
    attr(e, name)
        .unwrap_or_else(|| panic!("{name}"))
        .parse()
        .expect("a number")
}

fn drawn(svg: &str) -> Drawn {
    crate::svg::tests::elements(svg);
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut d = Drawn::default();
    let mut groups: Vec<Group> = Vec::new();
    let mut open_text: Option<(BytesStart, String)> = None;
    let owner = |groups: &[Group]| groups.iter().rev().find_map(|g| g.component.clone());
    let shape = |e: &BytesStart, groups: &[Group], d: &mut Drawn| {
        let rect = match e.name().as_ref() {
            "rect" if attr(e, "x").is_some() => Rect {
                x0: number(e, "x"),
                y0: number(e, "y"),
                x1: number(e, "x") + number(e, "width"),
                y1: number(e, "y") + number(e, "height"),
            },
            "circle" => {
                let (x, y, r) = (number(e, "cx"), number(e, "cy"), number(e, "r"));
                if groups.iter().any(|g| g.legend) && attr(e, "fill").as_deref() == Some("#bbbbbb")
                {
                    d.legend_sizes.push(r);
                }
                Rect {
                    x0: x - r,
                    y0: y - r,
                    x1: x + r,
                    y1: y + r,
                }
            }
            "path" if groups.iter().any(|g| g.proposition) => {
                let d_attr = attr(e, "d").expect("d");
                d.edges
                    .extend(segments(&d_attr).iter().flat_map(Segment::samples));
                return;
            }
            _ => return,
        };
        if let Some(id) = owner(groups) {
            d.nodes.push((id, rect));
        }
    };
    loop {
        match reader.read_event().expect("well-formed") {
            Event::Start(e) => match e.name().as_ref() {
                "svg" => {
                    d.width = number(&e, "width");
                    d.height = number(&e, "height");
                }
                "g" => {
                    let class = attr(&e, "class");
                    groups.push(Group {
                        component: attr(&e, "data-component")
                            .filter(|_| class.as_deref() == Some("component")),
                        legend: attr(&e, "id").as_deref() == Some("legend"),
                        subtitle: class.as_deref() == Some("subtitle"),
                        proposition: class.as_deref() == Some("proposition"),
                    });
                }
                "text" => open_text = Some((e.into_owned(), String::new())),
                _ => shape(&e, &groups, &mut d),
            },
            Event::Empty(e) => shape(&e, &groups, &mut d),
            Event::Text(t) => {
                if let Some((_, content)) = &mut open_text {
                    content.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, content)) = &mut open_text {
                    content.push_str(
                        quick_xml::escape::resolve_predefined_entity(&r).expect("entity"),
                    );
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "g" => {
                    groups.pop();
                }
                "text" => {
                    let (e, content) = open_text.take().expect("open text");
                    let rect = text_box(
                        number(&e, "x"),
                        number(&e, "y"),
                        number(&e, "font-size"),
                        &attr(&e, "text-anchor").unwrap_or_default(),
                        &content,
                        attr(&e, "font-weight").as_deref() == Some("bold"),
                    );
                    d.texts.push(Text {
                        content,
                        rect,
                        owner: owner(&groups),
                        subtitle: groups.iter().any(|g| g.subtitle),
                    });
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    d
}

/// No text meets another text, another component's node or an edge, and every text is on the
/// figure.
fn assert_readable(svg: &str, what: &str) {
    let d = drawn(svg);
    assert!(!d.nodes.is_empty(), "{what}: nodes drawn");
    assert!(!d.edges.is_empty(), "{what}: edges drawn");
    for (i, a) in d.texts.iter().enumerate() {
        let on_figure = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: d.width,
            y1: d.height,
        };
        assert!(
            on_figure.x0 <= a.rect.x0
                && a.rect.x1 <= on_figure.x1
                && on_figure.y0 <= a.rect.y0
                && a.rect.y1 <= on_figure.y1,
            "{what}: '{}' runs off the figure ({:?}, {} × {})",
            a.content,
            a.rect,
            d.width,
            d.height
        );
        for b in &d.texts[i + 1..] {
            assert!(
                !a.rect.intersects(&b.rect),
                "{what}: '{}' {:?} overlaps '{}' {:?}",
                a.content,
                a.rect,
                b.content,
                b.rect
            );
        }
        if let Some(p) = d.edges.iter().find(|p| a.rect.contains(**p)) {
            panic!(
                "{what}: '{}' {:?} lies on an edge at {p:?}",
                a.content, a.rect
            );
        }
        for (id, node) in &d.nodes {
            assert!(
                a.owner.as_ref() == Some(id) || !a.rect.intersects(node),
                "{what}: '{}' overlaps the node of {id}",
                a.content
            );
        }
    }
}

fn both_views(corpus: &Corpus, s: &Support, what: &str) -> [String; 2] {
    ModelView::ALL.map(|view| {
        let svg = view.draw(corpus, s);
        assert_readable(&svg, &format!("{what}, {}", view.as_str()));
        svg
    })
}

#[test]
fn no_label_overlaps_another_or_a_node_in_the_sample_study() {
    let (bundle, theory) = sample_parts();
    let corpus = Corpus::new(bundle, theory);
    for rule in [SideRule::Any, SideRule::All] {
        both_views(&corpus, &supported(&corpus, rule), "sample study");
    }
}

#[test]
fn no_label_overlaps_another_or_a_node_with_one_dyad() {
    let (mut bundle, theory) = sample_parts();
    bundle.dyads.truncate(1);
    let corpus = Corpus::new(bundle, theory);
    let s = supported(&corpus, SideRule::Any);
    assert_eq!(s.dyad_count, 1);
    let [_, evidence] = both_views(&corpus, &s, "one dyad");
    assert_eq!(
        drawn(&evidence).legend_sizes.len(),
        1,
        "one dyad: one node size to show"
    );
}

#[test]
fn no_label_overlaps_another_or_a_node_under_each_built_in_theory() {
    let (bundle, _) = sample_parts();
    for theory in between_model::builtin() {
        let id = theory.id.clone();
        let corpus = Corpus::new(bundle.clone(), Some(theory));
        both_views(&corpus, &supported(&corpus, SideRule::Any), &id);
    }
}

#[test]
fn the_structure_runs_from_competencies_through_processes_and_outcomes_to_the_concept() {
    let (bundle, theory) = sample_parts();
    let corpus = Corpus::new(bundle, theory);
    let theory = corpus.theory.as_ref().expect("theory");
    let d = drawn(&ModelView::Structure.draw(&corpus, &supported(&corpus, SideRule::Any)));
    let centre_of_kind = |kind: Kind| {
        let xs: Vec<f64> = d
            .nodes
            .iter()
            .filter(|(id, _)| theory.component(id).expect("a component").kind == kind)
            .map(|(_, r)| (r.x0 + r.x1) / 2.0)
            .collect();
        assert!(!xs.is_empty(), "{kind:?} drawn");
        assert!(
            xs.iter().all(|x| (x - xs[0]).abs() < 0.1),
            "one column per kind"
        );
        xs[0]
    };
    let order = [
        Kind::Competency,
        Kind::Process,
        Kind::Outcome,
        Kind::Concept,
    ]
    .map(centre_of_kind);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert_eq!(
        d.nodes.len(),
        theory.components.len(),
        "a box per component"
    );
}

#[test]
fn each_proposition_is_a_numbered_junction_and_an_assumption_is_dashed() {
    let (bundle, theory) = sample_parts();
    let corpus = Corpus::new(bundle, theory);
    let s = supported(&corpus, SideRule::Any);
    let theory = corpus.theory.as_ref().expect("theory");
    for view in ModelView::ALL {
        let svg = view.draw(&corpus, &s);
        let label = |p: &PropositionSupport| match view {
            ModelView::Structure => format!("P{} {}", p.number, p.relation.replace('-', " ")),
            ModelView::Evidence => format!("P{} {}/{}", p.number, p.both, s.dyad_count),
        };
        let groups: Vec<&str> = svg.split("<g class=\"proposition\"").skip(1).collect();
        assert_eq!(groups.len(), theory.propositions.len());
        let texts: Vec<String> = drawn(&svg).texts.into_iter().map(|t| t.content).collect();
        for (p, group) in s.propositions.iter().zip(&groups) {
            assert!(texts.contains(&label(p)), "{}", label(p));
            let edges = &group[..group.find("</g>").expect("closed")];
            let assumed = theory.propositions[p.number - 1].basis == Basis::ProjectAssumption;
            assert_eq!(edges.contains("stroke-dasharray"), assumed, "P{}", p.number);
        }
    }
}

#[test]
fn the_evidence_figure_states_the_rule_of_its_numbers_in_full() {
    let (bundle, theory) = sample_parts();
    let corpus = Corpus::new(bundle, theory);
    for rule in [SideRule::Any, SideRule::All] {
        let s = supported(&corpus, rule);
        let d = drawn(&ModelView::Evidence.draw(&corpus, &s));
        let subtitle: Vec<String> = d
            .texts
            .iter()
            .filter(|t| t.subtitle)
            .map(|t| t.content.clone())
            .collect();
        assert!(subtitle.len() > 1, "wrapped, not cut: {subtitle:?}");
        assert_eq!(
            subtitle.join(" "),
            format!("{} dyads. {}", s.dyad_count, support_rule(&s))
        );
        for c in s.components.iter().filter(|c| c.depth == 0) {
            let count = format!("{}/{} dyads", c.dyads, s.dyad_count);
            assert!(
                d.texts
                    .iter()
                    .any(|t| t.owner.as_deref() == Some(&c.id) && t.content == count),
                "{}: {count}",
                c.id
            );
        }
        let mut sizes = d.legend_sizes.clone();
        sizes.dedup();
        assert_eq!(sizes, d.legend_sizes, "no two legend circles alike");
    }
    // The reading's own words, whichever reading counted.
    let turn = Reading {
        together: Some(Proximity::SameTurn),
        ..Reading::from(SideRule::All)
    };
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    for s in [
        supported(&corpus, SideRule::Any),
        supported(&corpus, SideRule::All),
        support(&corpus, &t, turn),
    ] {
        assert!(support_rule(&s).ends_with(&s.rule_text), "{}", s.rule_text);
    }
}

/// The sample is written so that its propositions differ (some dyads leave some out), and
/// the evidence figure shows it: each junction reads its own n/N, and an edge supported in
/// fewer dyads is drawn thinner.
#[test]
fn the_evidence_figure_tells_the_samples_propositions_apart() {
    let (bundle, theory) = sample_parts();
    let corpus = Corpus::new(bundle, theory);
    let s = supported(&corpus, SideRule::Any);
    let svg = ModelView::Evidence.draw(&corpus, &s);
    let d = drawn(&svg);
    let width = |number: usize| -> f64 {
        let group = format!("<g class=\"proposition\" data-number=\"{number}\">");
        let rest = &svg[svg.find(&group).expect("the proposition's group")..];
        let at = rest.find("stroke-width=\"").expect("an edge") + "stroke-width=\"".len();
        rest[at..]
            .split('"')
            .next()
            .unwrap()
            .parse()
            .expect("a width")
    };
    for p in &s.propositions {
        let label = format!("P{} {}/{}", p.number, p.both, s.dyad_count);
        assert!(d.texts.iter().any(|t| t.content == label), "{label}");
    }
    let counts: std::collections::BTreeSet<usize> = s.propositions.iter().map(|p| p.both).collect();
    assert!(counts.len() >= 3, "the propositions differ: {counts:?}");
    assert!(counts.contains(&s.dyad_count) && counts.iter().any(|&n| n < s.dyad_count));
    for a in &s.propositions {
        for b in s.propositions.iter().filter(|b| a.both < b.both) {
            assert!(
                width(a.number) < width(b.number),
                "P{} ({}) is not thinner than P{} ({})",
                a.number,
                a.both,
                b.number,
                b.both
            );
        }
    }
}

#[test]
fn labels_are_escaped() {
    let (bundle, theory) = sample_parts();
    let mut corpus = Corpus::new(bundle, theory);
    let theory = corpus.theory.as_mut().expect("theory");
    theory.name = "A <b>&\"theory\"".into();
    let s = supported(&corpus, SideRule::Any);
    let mut s = s;
    s.components[0].name = "Care & <concern>".into();
    for view in ModelView::ALL {
        let svg = view.draw(&corpus, &s);
        crate::svg::tests::elements(&svg);
        assert!(svg.contains("Care &amp; &lt;concern&gt;"));
        assert!(!svg.contains("<b>"));
        assert!(!svg.contains("href"), "no external assets");
    }
}

#[test]
fn views_are_named() {
    for view in ModelView::ALL {
        assert_eq!(view.as_str().parse::<ModelView>(), Ok(view));
    }
    assert!(
        "both"
            .parse::<ModelView>()
            .unwrap_err()
            .contains("structure or evidence")
    );
}
