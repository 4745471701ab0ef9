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

/// The attributes of every element of `class`.
fn with_class(svg: &str, class: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut found = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let attributes: std::collections::HashMap<String, String> = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("attribute");
                        (name_of(a.key.into_inner()), a.value.to_string())
                    })
                    .collect();
                if attributes.get("class").map(String::as_str) == Some(class) {
                    found.push(attributes);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    found
}

#[test]
fn a_bar_is_as_tall_as_its_new_codes_on_the_labelled_axis() {
    let corpus = sample();
    let s = saturation(&corpus, &Coders::All, StoppingRule::default()).expect("saturation");
    let svg = saturation_chart(&s);
    let number = |a: &std::collections::HashMap<String, String>, key: &str| -> f64 {
        a[key].parse().expect(key)
    };
    // The axis: each tick's value and height, from the SVG alone.
    let ticks: Vec<(f64, f64)> = with_class(&svg, "tick")
        .iter()
        .map(|t| (number(t, "data-value"), number(t, "y1")))
        .collect();
    assert!(ticks.len() >= 2, "{ticks:?}");
    let (first, last) = (ticks[0], ticks[ticks.len() - 1]);
    assert_eq!(first.0, 0.0, "the axis starts at 0");
    let per_code = (first.1 - last.1) / (last.0 - first.0);
    // Every tick lies on that one scale, and the axis is labelled.
    for (v, y) in &ticks {
        assert!((first.1 - y - v * per_code).abs() < 0.11, "tick {v} at {y}");
    }
    assert!(svg.contains("codes: new per interview (bars), cumulative (lines)"));
    let bars = with_class(&svg, "new-codes");
    assert!(!bars.is_empty());
    for bar in &bars {
        let step = &s.interviews[number(bar, "data-position") as usize - 1];
        let (y, height) = (number(bar, "y"), number(bar, "height"));
        assert!(
            (height / per_code - step.new_codes.len() as f64).abs() < 0.05,
            "interview {}: {height} px is {} codes, not {}",
            step.position,
            height / per_code,
            step.new_codes.len()
        );
        assert!((y + height - first.1).abs() < 0.11, "the bar stands on 0");
    }
    // Interview 1's bar reads as its own new codes, which are all the codes so far.
    let one = bars
        .iter()
        .find(|b| b["data-position"] == "1")
        .expect("bar 1");
    assert!((number(one, "height") / per_code - s.interviews[0].cumulative as f64).abs() < 0.05);
}

#[test]
fn a_contradicted_verdict_is_said_in_words_and_not_in_green() {
    let corpus = sample();
    let s = saturation(&corpus, &Coders::All, StoppingRule::default()).expect("saturation");
    assert!(s.verdict.contradicted(), "{}", s.statement);
    let svg = saturation_chart(&s);
    let verdict = svg
        .split("<g id=\"verdict\"")
        .nth(1)
        .and_then(|g| g.split("</g>").next())
        .expect("the verdict");
    assert!(!verdict.contains("#2e6b37"), "not green: {verdict}");
    assert!(verdict.contains("contradicted"), "{verdict}");
    assert!(svg.contains("contradicted later"));
    let marks = with_class(&svg, "contradiction");
    let Verdict::Reached {
        contradicted_by, ..
    } = &s.verdict
    else {
        unreachable!()
    };
    assert_eq!(marks.len(), contradicted_by.len());
    // Guest's method: its parameters are in the chart's words.
    let guest = saturation(
        &corpus,
        &Coders::All,
        between_findings::saturation::GUEST_DEFAULT,
    )
    .expect("saturation");
    let svg = saturation_chart(&guest);
    elements(&svg);
    assert!(
        svg.contains("Guest, Namey &amp; Chen 2020: base 4"),
        "{}",
        guest.statement
    );
}
