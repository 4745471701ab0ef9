use super::*;
use quick_xml::events::{BytesStart, Event};

fn series(name: &str, values: &[Option<f64>]) -> Series {
    Series {
        name: name.to_string(),
        points: values
            .iter()
            .enumerate()
            .map(|(i, v)| Point {
                when: format!("session {}", i + 1),
                value: *v,
            })
            .collect(),
    }
}

fn chart(series: Vec<Series>) -> Trajectory {
    Trajectory {
        title: "Alliance".into(),
        min: 1.0,
        max: 5.0,
        series,
        ruptures: None,
    }
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.attributes()
        .map(|a| a.expect("attribute"))
        .find(|a| a.key.as_ref() == name)
        .map(|a| a.value.into_owned())
}

fn num(e: &BytesStart, name: &str) -> f64 {
    attr(e, name)
        .unwrap_or_else(|| panic!("{name}"))
        .parse()
        .expect("a number")
}

/// What the chart drew, read back from the SVG.
#[derive(Debug, Default)]
struct Drawn {
    width: f64,
    height: f64,
    /// (series, index, cx, cy)
    points: Vec<(usize, usize, f64, f64)>,
    /// Each series' path data.
    paths: Vec<(usize, String)>,
    /// (value, y) of the y axis's ticks.
    ticks: Vec<(f64, f64)>,
    /// (class, x) of each marker.
    markers: Vec<(String, f64)>,
    /// Unrotated texts, with their boxes as the layout estimates them.
    texts: Vec<(String, Rect)>,
    rotated: Vec<String>,
}

fn drawn(svg: &str) -> Drawn {
    crate::svg::tests::elements(svg);
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut d = Drawn::default();
    let mut series: Vec<Option<usize>> = Vec::new();
    let mut open_text: Option<(BytesStart, String)> = None;
    loop {
        let event = reader.read_event().expect("well-formed");
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let e = e.into_owned();
                let name = e.name().as_ref().to_string();
                match name.as_str() {
                    "svg" => {
                        d.width = num(&e, "width");
                        d.height = num(&e, "height");
                    }
                    "circle" => {
                        let s = series.iter().rev().find_map(|s| *s).expect("in a series");
                        let i = num(&e, "data-index") as usize;
                        d.points.push((s, i, num(&e, "cx"), num(&e, "cy")));
                    }
                    "path" => {
                        if let Some(s) = series.last().copied().flatten() {
                            d.paths.push((s, attr(&e, "d").expect("d")));
                        }
                    }
                    "line" if attr(&e, "class").as_deref() == Some("tick") => {
                        d.ticks.push((num(&e, "data-value"), num(&e, "y1")));
                    }
                    "text" => open_text = Some((e.clone(), String::new())),
                    _ => {}
                }
                if name == "g" {
                    if let Some(class @ ("rupture" | "repair")) = attr(&e, "class").as_deref() {
                        d.markers.push((class.to_string(), num(&e, "data-x")));
                    }
                    series.push(attr(&e, "data-series").map(|s| s.parse().expect("index")));
                }
            }
            Event::Text(t) => {
                if let Some((_, content)) = open_text.as_mut() {
                    content.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, content)) = open_text.as_mut() {
                    content.push_str(
                        quick_xml::escape::resolve_predefined_entity(&r).expect("entity"),
                    );
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "g" => {
                    series.pop();
                }
                "text" => {
                    let (e, content) = open_text.take().expect("open text");
                    if attr(&e, "transform").is_some() {
                        d.rotated.push(content);
                    } else {
                        let size = num(&e, "font-size");
                        let bold = attr(&e, "font-weight").is_some();
                        let anchor = attr(&e, "text-anchor").expect("anchor");
                        let rect =
                            text_box(num(&e, "x"), num(&e, "y"), size, &anchor, &content, bold);
                        d.texts.push((content, rect));
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    d
}

fn assert_no_overlaps(d: &Drawn) {
    for (i, (a, ra)) in d.texts.iter().enumerate() {
        assert!(
            0.0 <= ra.x0 && ra.x1 <= d.width && 0.0 <= ra.y0 && ra.y1 <= d.height,
            "'{a}' {ra:?} runs off the figure ({} × {})",
            d.width,
            d.height
        );
        for (b, rb) in &d.texts[i + 1..] {
            assert!(!ra.intersects(rb), "'{a}' {ra:?} overlaps '{b}' {rb:?}");
        }
    }
}

/// The x of measurement `i` of `series`, as drawn.
fn x_of(d: &Drawn, series: usize, i: usize) -> f64 {
    d.points
        .iter()
        .find(|p| p.0 == series && p.1 == i)
        .map(|p| p.2)
        .expect("point drawn")
}

#[test]
fn points_land_on_the_scale_ticks_and_evenly_in_time() {
    let t = chart(vec![
        series("total", &[Some(1.0), Some(3.0), Some(5.0), Some(2.5)]),
        series("bond", &[Some(5.0), Some(4.0), Some(3.0), Some(1.0)]),
    ]);
    let d = drawn(&trajectory(&t).expect("chart"));
    let values: Vec<f64> = d.ticks.iter().map(|t| t.0).collect();
    assert_eq!(
        values,
        [1.0, 2.0, 3.0, 4.0, 5.0],
        "a tick at each scale point"
    );
    let y_of = |v: f64| d.ticks.iter().find(|t| t.0 == v).expect("tick").1;
    let (lo, hi) = (y_of(1.0), y_of(5.0));
    assert!(hi < lo, "higher scores are higher up");
    for (s, values) in [(0, [1.0, 3.0, 5.0, 2.5]), (1, [5.0, 4.0, 3.0, 1.0])] {
        for (i, v) in values.into_iter().enumerate() {
            let (_, _, _, cy) = *d
                .points
                .iter()
                .find(|p| p.0 == s && p.1 == i)
                .expect("point");
            let expected = lo + (hi - lo) * (v - 1.0) / 4.0;
            assert!(
                (cy - expected).abs() < 0.01,
                "series {s} point {i}: {cy} vs {expected}"
            );
        }
    }
    let xs: Vec<f64> = (0..4).map(|i| x_of(&d, 0, i)).collect();
    let gap = xs[1] - xs[0];
    assert!(gap > 0.0);
    for w in xs.windows(2) {
        assert!(((w[1] - w[0]) - gap).abs() < 0.01, "evenly spaced: {xs:?}");
    }
    assert_eq!(x_of(&d, 1, 2), xs[2], "series share the time axis");
}

#[test]
fn a_missing_score_breaks_the_line() {
    let t = chart(vec![series(
        "total",
        &[Some(2.0), Some(3.0), None, Some(4.0), Some(4.5)],
    )]);
    let d = drawn(&trajectory(&t).expect("chart"));
    let (_, path) = d.paths.iter().find(|p| p.0 == 0).expect("path");
    let runs: Vec<usize> = path
        .split('M')
        .filter(|r| !r.trim().is_empty())
        .map(|r| r.matches('L').count() + 1)
        .collect();
    assert_eq!(runs, [2, 2], "two runs of two points: {path}");
    assert!(
        !d.points.iter().any(|p| p.1 == 2),
        "no point where no score"
    );
}

#[test]
fn rupture_and_repair_markers_sit_at_their_measurements() {
    let total = series(
        "total",
        &[
            Some(4.5),
            Some(4.4),
            Some(2.0),
            None,
            Some(3.0),
            Some(4.6),
            Some(4.7),
        ],
    );
    let mut t = chart(vec![total, series("goal", &[Some(3.0); 7])]);
    let marked = Marked::find(&t.series, 0, RuptureRule::Threshold(1.0)).expect("ruptures");
    assert_eq!(
        marked
            .found
            .iter()
            .map(|r| (r.before, r.after, r.repaired_at))
            .collect::<Vec<_>>(),
        [(1, 2, Some(5))],
        "indices are into all points, the missing one skipped"
    );
    t.ruptures = Some(marked);
    let svg = trajectory(&t).expect("chart");
    let d = drawn(&svg);
    let rupture: Vec<f64> = d
        .markers
        .iter()
        .filter(|m| m.0 == "rupture")
        .map(|m| m.1)
        .collect();
    let repair: Vec<f64> = d
        .markers
        .iter()
        .filter(|m| m.0 == "repair")
        .map(|m| m.1)
        .collect();
    let between = (x_of(&d, 0, 1) + x_of(&d, 0, 2)) / 2.0;
    assert_eq!(rupture.len(), 1);
    assert!(
        (rupture[0] - between).abs() < 0.01,
        "between its two measurements"
    );
    assert_eq!(repair.len(), 1);
    assert!((repair[0] - x_of(&d, 0, 5)).abs() < 0.01, "at the repair");
    let texts: Vec<&str> = d.texts.iter().map(|t| t.0.as_str()).collect();
    assert!(texts.contains(&"rupture, session 3"), "{texts:?}");
    assert!(texts.contains(&"repair, session 6"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("A rupture is a drop")),
        "the rule is shown: {texts:?}"
    );
    assert_no_overlaps(&d);
}

#[test]
fn no_text_overlaps_with_many_times_and_crowded_markers() {
    // Forty dated sessions, alternating drops and returns: every time label and marker
    // label competes for room.
    let values: Vec<Option<f64>> = (0..40)
        .map(|i| Some(if i % 2 == 0 { 60.0 } else { 20.0 }))
        .collect();
    let mut total = series("total", &values);
    for (i, p) in total.points.iter_mut().enumerate() {
        p.when = format!("2025-{:02}-{:02}", 1 + i / 28, 1 + i % 28);
    }
    let subscales: Vec<Series> = ["goal", "task", "bond", "a rather long subscale name"]
        .iter()
        .map(|n| {
            let mut s = total.clone();
            s.name = n.to_string();
            s
        })
        .collect();
    let mut t = Trajectory {
        title: "Working alliance, dyad D-01".into(),
        min: 12.0,
        max: 60.0,
        series: std::iter::once(total).chain(subscales).collect(),
        ruptures: None,
    };
    t.ruptures = Some(Marked::find(&t.series, 0, RuptureRule::Threshold(5.0)).expect("rule"));
    let d = drawn(&trajectory(&t).expect("chart"));
    assert_eq!(d.markers.len(), 20 + 19, "each rupture and each repair");
    assert!(d.ticks.len() >= 3, "ticks over a wide scale: {:?}", d.ticks);
    assert_no_overlaps(&d);
    assert_eq!(d.rotated, ["score (12 to 60)"]);
    let leftmost = d.texts.iter().map(|t| t.1.x0).fold(f64::MAX, f64::min);
    assert!(leftmost > 22.0, "the rotated axis title has its own margin");
}

#[test]
fn titles_and_labels_are_escaped() {
    let mut s = series("bond <&> \"x\"", &[Some(2.0), Some(3.0)]);
    s.points[0].when = "s<1>&".into();
    let mut t = chart(vec![s]);
    t.title = "Dyad <D&1>".into();
    let svg = trajectory(&t).expect("chart");
    let d = drawn(&svg);
    let texts: Vec<&str> = d.texts.iter().map(|t| t.0.as_str()).collect();
    assert!(texts.contains(&"Dyad <D&1>"), "{texts:?}");
    assert!(texts.contains(&"s<1>&"), "{texts:?}");
    assert!(texts.contains(&"bond <&> \"x\""), "{texts:?}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let ok = || chart(vec![series("total", &[Some(2.0), Some(3.0)])]);
    let mut t = ok();
    t.min = 5.0;
    assert_eq!(
        trajectory(&t),
        Err(TrajectoryError::Scale { min: 5.0, max: 5.0 })
    );
    t = ok();
    t.series.clear();
    assert_eq!(trajectory(&t), Err(TrajectoryError::NoSeries));
    t = ok();
    t.series.push(series("bond", &[]));
    assert_eq!(
        trajectory(&t),
        Err(TrajectoryError::EmptySeries("bond".into()))
    );
    t = ok();
    t.series.push(series("bond", &[Some(2.0)]));
    assert!(matches!(trajectory(&t), Err(TrajectoryError::Times { .. })));
    t = ok();
    t.series[0].points[1].value = Some(7.0);
    let e = trajectory(&t).expect_err("out of scale");
    assert_eq!(
        e.to_string(),
        "series 'total' at session 2: 7 is outside the scale 1 to 5"
    );
    t = ok();
    t.series[0].points[1].value = None;
    t.ruptures = Some(Marked {
        series: 0,
        found: vec![Rupture {
            before: 0,
            after: 1,
            drop: 1.0,
            repaired_at: None,
        }],
        rule: "r".into(),
    });
    assert_eq!(
        trajectory(&t),
        Err(TrajectoryError::Unscored {
            series: "total".into(),
            index: 1
        })
    );
    assert!(matches!(
        Marked::find(&ok().series, 3, RuptureRule::Threshold(1.0)),
        Err(TrajectoryError::NoSuchSeries { which: 3, count: 1 })
    ));
    assert!(matches!(
        Marked::find(&ok().series, 0, RuptureRule::Threshold(-1.0)),
        Err(TrajectoryError::Rule(_))
    ));
}
