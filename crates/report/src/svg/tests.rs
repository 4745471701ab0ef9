use super::*;
use between_findings::Corpus;
use between_findings::saturation::{StoppingRule, saturation};
use between_findings::triangulation::Coders;
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
pub(super) fn elements(svg: &str) -> Vec<String> {
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
