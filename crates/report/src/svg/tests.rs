use super::*;
use between_findings::propositions::{SideRule, support};
use between_findings::saturation::{StoppingRule, saturation};
use between_findings::triangulation::{Coders, triangulate};
use quick_xml::events::Event;

fn sample() -> Corpus {
    let dir = tempfile::tempdir().expect("tempdir");
    let wb = between_sample::materialise(&dir.path().join("s.between"), &Default::default())
        .expect("sample");
    Corpus::of(&wb).expect("corpus")
}

fn name_of(name: &str) -> String {
    name.to_string()
}

/// Parses the whole document, checking every element is closed; returns the element names.
fn elements(svg: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut open: Vec<String> = Vec::new();
    let mut names = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = name_of(e.name().into_inner());
                names.push(name.clone());
                open.push(name);
            }
            Event::Empty(e) => names.push(name_of(e.name().into_inner())),
            Event::End(e) => {
                assert_eq!(
                    open.pop().as_deref(),
                    Some(&*name_of(e.name().into_inner()))
                );
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    names
}

#[test]
fn the_model_figure_is_valid_svg_with_a_node_per_top_level_component_and_a_junction_per_proposition()
 {
    let corpus = sample();
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let s = support(&corpus, &t, SideRule::Any);
    let svg = model_figure(&corpus, &s);
    let names = elements(&svg);
    assert_eq!(names.first().map(String::as_str), Some("svg"));
    let theory = corpus.theory.as_ref().expect("theory");
    assert_eq!(
        svg.matches("class=\"component\"").count(),
        theory.components.len()
    );
    assert_eq!(
        svg.matches("class=\"proposition\"").count(),
        theory.propositions.len()
    );
    for c in &theory.components {
        assert!(svg.contains(&escape(&c.name)), "label for {}", c.id);
    }
    assert!(!svg.contains("href"), "no external assets");
}

#[test]
fn labels_are_escaped() {
    let mut corpus = sample();
    let theory = corpus.theory.as_mut().expect("theory");
    theory.name = "A <b>&\"theory\"".into();
    theory.components[0].name = "Care & <concern>".into();
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let svg = model_figure(&corpus, &support(&corpus, &t, SideRule::Any));
    elements(&svg);
    assert!(svg.contains("Care &amp; &lt;concern&gt;"));
    assert!(!svg.contains("<b>"));
}

#[test]
fn the_saturation_chart_marks_the_stopping_point_only_when_reached() {
    let corpus = sample();
    let reached = saturation(
        &corpus,
        &Coders::All,
        StoppingRule::new(1, 1).expect("rule"),
    );
    let reached = reached.expect("saturation");
    let svg = saturation_chart(&reached);
    elements(&svg);
    assert_eq!(
        matches!(reached.verdict, Verdict::Reached { .. }),
        svg.contains("id=\"stopping-point\"")
    );
    let never = saturation(
        &corpus,
        &Coders::All,
        StoppingRule::new(1000, 1).expect("rule"),
    )
    .expect("saturation");
    assert!(matches!(never.verdict, Verdict::NotYet { .. }));
    let svg = saturation_chart(&never);
    elements(&svg);
    assert!(!svg.contains("id=\"stopping-point\""));
    assert!(svg.contains("not yet reached"));
}
