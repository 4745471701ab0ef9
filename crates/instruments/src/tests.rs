#![allow(clippy::unwrap_used)] // a failing test step should stop the test

use super::*;

/// A small valid instrument: 5 items on 1–5, `a` (items 1–5, item 2 reverse-keyed), summed.
const SMALL: &str = r#"
id = "small"
name = "Small"
version = "1"
status = "test"
respondent = "patient"
licence = "test"

[scale]
min = 1
max = 5

[[scale.anchor]]
value = 1
label = "never"

[scoring]
method = "sum"

[[subscale]]
id = "a"
name = "A"

  [[subscale.link]]
  theory = "therapeutic-alliance"
  component = "bond"

[[item]]
id = "1"
text = "one"
subscale = "a"

[[item]]
id = "2"
text = "two"
subscale = "a"
reverse = true

[[item]]
id = "3"
text = "three"
subscale = "a"

[[item]]
id = "4"
text = "four"
subscale = "a"

[[item]]
id = "5"
text = "five"
subscale = "a"
"#;

fn small() -> Instrument {
    Instrument::parse(SMALL, Format::Toml, "small.toml").unwrap()
}

/// The problems `edit` causes in SMALL, as one error text.
fn problems_after(edit: impl FnOnce(&mut Instrument)) -> String {
    let mut i = small();
    edit(&mut i);
    i.validate("edited.toml").unwrap_err().to_string()
}

#[track_caller]
fn assert_problem(edit: impl FnOnce(&mut Instrument), expected: &str) {
    let message = problems_after(edit);
    assert!(message.starts_with("edited.toml: "), "{message}");
    assert!(message.contains(expected), "{message} lacks {expected:?}");
}

fn answers(pairs: &[(&str, Option<i32>)]) -> Answers {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn the_missing_percentage_defaults_to_twenty() {
    assert_eq!(small().scoring.max_missing_percent, 20);
}

#[test]
fn toml_and_json_are_one_structure() {
    for original in builtin().into_iter().chain([small()]) {
        let json = original.to_json();
        let from_json = Instrument::parse(&json, Format::Json, "x.json").unwrap();
        assert_eq!(from_json, original);
        let toml = from_json.to_toml();
        let back = Instrument::parse(&toml, Format::Toml, "x.toml").unwrap();
        assert_eq!(back, original, "{toml}");
    }
}

#[test]
fn the_format_follows_the_file_name() {
    assert_eq!(Format::of_file_name("a/b.JSON"), Format::Json);
    assert_eq!(Format::of_file_name("b.toml"), Format::Toml);
    assert_eq!(Format::of_file_name("noextension"), Format::Toml);
}

#[test]
fn syntax_errors_and_unknown_keys_name_the_file() {
    let e = Instrument::parse("id = ", Format::Toml, "bad.toml").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("bad.toml: not a valid instrument file")
    );
    let misspelt = SMALL.replace("reverse = true", "reversed = true");
    let e = Instrument::parse(&misspelt, Format::Toml, "typo.toml").unwrap_err();
    assert!(e.to_string().contains("reversed"), "{e}");
    let e = Instrument::parse("{}", Format::Json, "x.json").unwrap_err();
    assert!(e.to_string().starts_with("x.json: not a valid"), "{e}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_parsing() {
    let big = " ".repeat(MAX_FILE_BYTES + 1);
    let e = Instrument::parse(&big, Format::Toml, "big.toml").unwrap_err();
    assert!(e.to_string().contains("more than the limit"), "{e}");
}

#[test]
fn every_validation_rule_says_what_is_wrong() {
    assert_problem(|i| i.id = "Not Kebab".into(), "instrument id 'Not Kebab'");
    assert_problem(|i| i.name = " ".into(), "name is empty");
    assert_problem(|i| i.version.clear(), "version is empty");
    assert_problem(|i| i.licence.clear(), "licence is empty");
    assert_problem(
        |i| i.status = "x".repeat(501),
        "status is longer than the limit",
    );
    assert_problem(
        |i| i.citations = vec!["c".into(); 21],
        "21 citations, more than the limit of 20",
    );
    assert_problem(|i| i.items[1].id = "1".into(), "item id '1' is used twice");
    assert_problem(
        |i| i.items[0].id = "-x".into(),
        "item id '-x' must be kebab-case",
    );
    assert_problem(
        |i| i.subscales.push(i.subscales[0].clone()),
        "subscale id 'a' is used twice",
    );
    assert_problem(
        |i| i.items[2].subscale = "b".into(),
        "item '3' is in subscale 'b', which is not declared",
    );
    assert_problem(
        |i| {
            i.subscales.push(Subscale {
                id: "empty".into(),
                name: "Empty".into(),
                links: vec![],
            })
        },
        "subscale 'empty' has no items",
    );
    assert_problem(|i| i.items[0].text = "  ".into(), "item '1' has no text");
    assert_problem(
        |i| i.items[0].text = "x".repeat(MAX_TEXT_CHARS + 1),
        "item '1': text is longer than the limit of 1000 characters",
    );
    assert_problem(|i| i.items.clear(), "at least one item");
    assert_problem(
        |i| {
            let item = i.items[0].clone();
            i.items = (0..=MAX_ITEMS)
                .map(|n| Item {
                    id: format!("i{n}"),
                    ..item.clone()
                })
                .collect();
        },
        "501 items, more than the limit of 500",
    );
    assert_problem(
        |i| i.scale.max = 1,
        "scale: min (1) must be less than max (1)",
    );
    assert_problem(
        |i| i.scale.max = 200,
        "scale: 200 points, more than the limit of 101",
    );
    assert_problem(|i| i.scale.min = -5000, "must lie between -1000 and 1000");
    assert_problem(
        |i| i.scale.anchors[0].value = 6,
        "scale: anchor 'never' is at 6, outside the scale 1–5",
    );
    assert_problem(
        |i| i.scale.anchors.push(i.scale.anchors[0].clone()),
        "scale: two anchors at 1",
    );
    assert_problem(
        |i| i.scale.anchors[0].label.clear(),
        "scale: anchor at 1 is empty",
    );
    assert_problem(
        |i| i.scoring.max_missing_percent = 101,
        "max_missing_percent is 101, which is not a percentage",
    );
    assert_problem(
        |i| i.subscales[0].links[0].theory = "no-such-theory".into(),
        "subscale 'a': links to theory 'no-such-theory', which is not a built-in theory",
    );
    assert_problem(
        |i| {
            i.items[0].links.push(Link {
                theory: "therapeutic-alliance".into(),
                component: "trust".into(),
            })
        },
        "item '1': links to 'trust', which is not a component of therapeutic-alliance",
    );
}

#[test]
fn all_problems_are_reported_at_once() {
    let message = problems_after(|i| {
        i.name.clear();
        i.items[0].subscale = "zz".into();
    });
    assert!(message.contains("name is empty"), "{message}");
    assert!(message.contains("subscale 'zz'"), "{message}");
}

#[test]
fn reverse_keyed_items_count_as_min_plus_max_minus_x() {
    let scores = small()
        .score(&answers(&[
            ("1", Some(5)),
            ("2", Some(5)),
            ("3", Some(1)),
            ("4", Some(2)),
            ("5", Some(3)),
        ]))
        .unwrap();
    // item 2 answered 5 counts 1 + 5 − 5 = 1
    let a = scores.subscale("a").unwrap();
    assert_eq!(a.score, Some(5.0 + 1.0 + 1.0 + 2.0 + 3.0));
    assert!(!a.prorated);
    assert_eq!(scores.total.score, a.score);
}

#[test]
fn the_mean_method_averages_keyed_items() {
    let mut i = small();
    i.scoring.method = Method::Mean;
    let scores = i
        .score(&answers(&[
            ("1", Some(4)),
            ("2", Some(2)),
            ("3", Some(4)),
            ("4", Some(4)),
            ("5", Some(4)),
        ]))
        .unwrap();
    assert_eq!(scores.total.score, Some(4.0));
}

#[test]
fn exactly_the_allowed_share_missing_is_prorated() {
    // 1 of 5 missing is 20 %: prorated, mean of answered (3 + 5 + 1 + 3) / 4 = 3 × 5 items
    let scores = small()
        .score(&answers(&[
            ("1", Some(3)),
            ("2", Some(1)),
            ("3", Some(1)),
            ("4", None),
            ("5", Some(3)),
        ]))
        .unwrap();
    let a = scores.subscale("a").unwrap();
    assert_eq!(a.score, Some(15.0));
    assert!(a.prorated);
    assert_eq!((a.answered, a.items), (4, 5));
}

#[test]
fn more_than_the_allowed_share_missing_has_no_score() {
    // 2 of 5 missing is 40 %; an item absent from the answers is missing too
    let scores = small()
        .score(&answers(&[("1", Some(3)), ("2", Some(1)), ("3", None)]))
        .unwrap();
    let a = scores.subscale("a").unwrap();
    assert_eq!(a.score, None);
    assert!(!a.prorated);
    assert_eq!(scores.total.score, None);
}

#[test]
fn the_missing_share_is_configurable_and_nothing_answered_has_no_score() {
    let mut i = small();
    i.scoring.max_missing_percent = 40;
    let two_missing = answers(&[("1", Some(2)), ("2", Some(4)), ("3", Some(2))]);
    assert_eq!(i.score(&two_missing).unwrap().total.score, Some(10.0));
    i.scoring.max_missing_percent = 100;
    assert_eq!(i.score(&Answers::new()).unwrap().total.score, None);
    i.scoring.max_missing_percent = 0;
    assert_eq!(
        i.score(&answers(&[("1", Some(2))])).unwrap().total.score,
        None
    );
}

#[test]
fn unknown_items_and_values_off_the_scale_are_errors_naming_the_item() {
    let e = small().score(&answers(&[("9", Some(1))])).unwrap_err();
    assert_eq!(e.to_string(), "item '9' is not an item of small");
    let e = small().score(&answers(&[("3", Some(6))])).unwrap_err();
    assert_eq!(e.to_string(), "item '3': 6 is outside the scale 1–5");
    let e = small().score(&answers(&[("4", Some(0))])).unwrap_err();
    assert!(e.to_string().starts_with("item '4'"), "{e}");
}

#[test]
fn subscales_and_total_follow_the_rule_each_on_its_own() {
    let wai = find("wai-sr").unwrap();
    // every goal item answered 4, one task item left out: task has no score (25 % > 20 %)
    let mut given: Answers = wai.items.iter().map(|i| (i.id.clone(), Some(4))).collect();
    let task_item = wai.items_of("task").next().unwrap().id.clone();
    given.insert(task_item, None);
    let scores = wai.score(&given).unwrap();
    assert_eq!(scores.subscale("goal").unwrap().score, Some(16.0));
    assert_eq!(scores.subscale("task").unwrap().score, None);
    // the total: 1 of 12 missing (8 %), prorated to 4 × 12
    assert_eq!(scores.total.score, Some(48.0));
    assert!(scores.total.prorated);
}

#[test]
fn every_built_in_validates_and_links_to_existing_components() {
    let theories = between_model::builtin();
    let all = builtin();
    assert_eq!(all.len(), BUILTIN.len());
    for i in &all {
        for link in i
            .subscales
            .iter()
            .flat_map(|s| &s.links)
            .chain(i.items.iter().flat_map(|it| &it.links))
        {
            let theory = theories.iter().find(|t| t.id == link.theory).unwrap();
            assert!(theory.component(&link.component).is_some(), "{link:?}");
        }
        assert!(!i.citations.is_empty(), "{} has no citation", i.id);
    }
}

#[test]
fn the_published_structures_are_as_cited() {
    let wai = find("wai-sr").unwrap();
    assert_eq!(wai.items.len(), 12);
    assert_eq!((wai.scale.min, wai.scale.max), (1, 5));
    assert_eq!(wai.scoring.method, Method::Sum);
    for (subscale, component) in [("goal", "goals"), ("task", "tasks"), ("bond", "bond")] {
        assert_eq!(wai.items_of(subscale).count(), 4, "{subscale}");
        let s = wai.subscales.iter().find(|s| s.id == subscale).unwrap();
        assert_eq!(s.links[0].component, component);
    }
    let maas = find("maas").unwrap();
    assert_eq!(maas.items.len(), 15);
    assert_eq!((maas.scale.min, maas.scale.max), (1, 6));
    assert_eq!(maas.scoring.method, Method::Mean);
    assert_eq!(maas.anchor(1), Some("Almost always"));
    assert_eq!(maas.anchor(6), Some("Almost never"));
}

#[test]
fn the_healing_relationship_questionnaires_cover_the_model_and_say_they_are_unvalidated() {
    let model = between_model::resolve("healing-relationship-model").unwrap();
    // every sub-dimension of a process (leaves of the tree) and every outcome
    let mut wanted = Vec::new();
    for (_, c) in model.components() {
        let process_leaf = c.kind == between_model::Kind::Dimension && c.subs.is_empty();
        if process_leaf || c.kind == between_model::Kind::Outcome {
            wanted.push(c.id.clone());
        }
    }
    assert!(wanted.len() >= 15, "{wanted:?}");
    for id in [
        "healing-relationship-patient",
        "healing-relationship-clinician",
    ] {
        let i = find(id).unwrap();
        assert_eq!(i.status, "unvalidated, for piloting");
        assert!(i.name.contains("unvalidated, for piloting"), "{}", i.name);
        for component in &wanted {
            assert!(
                i.items.iter().any(|it| it
                    .links
                    .iter()
                    .any(|l| l.theory == model.id && &l.component == component)),
                "{id} has no item on {component}"
            );
        }
    }
    assert_eq!(
        find("healing-relationship-clinician").unwrap().respondent,
        Respondent::Clinician
    );
    assert_eq!(
        find("healing-relationship-patient").unwrap().respondent,
        Respondent::Patient
    );
}

#[test]
fn an_unknown_instrument_points_to_the_list() {
    let e = find("wai").unwrap_err();
    assert!(e.to_string().contains("between instrument list"), "{e}");
}

#[test]
fn item_texts_from_a_table_replace_the_placeholders() {
    let rows: Vec<_> = (1..=5)
        .map(|n| (n as u64 + 1, n.to_string(), format!(" wording {n} ")))
        .collect();
    let worded = small().with_item_texts(&rows, "words.csv").unwrap();
    assert_eq!(worded.items[2].text, "wording 3");
    assert_eq!(worded.items[2].subscale, "a");
}

#[test]
fn item_texts_with_unknown_missing_or_repeated_items_are_refused() {
    let rows = vec![
        (2, "1".to_string(), "a".to_string()),
        (3, "1".to_string(), "b".to_string()),
        (4, "7".to_string(), "c".to_string()),
    ];
    let e = small()
        .with_item_texts(&rows, "words.csv")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("words.csv: "), "{e}");
    assert!(
        e.contains("line 3: item '1' again (first on line 2)"),
        "{e}"
    );
    assert!(
        e.contains("line 4: item '7' is not an item of small"),
        "{e}"
    );
    for missing in ["2", "3", "4", "5"] {
        assert!(e.contains(&format!("item '{missing}' has no row")), "{e}");
    }
}

#[test]
fn the_scoring_rule_in_words_states_the_method_keying_and_missing_share() {
    let text = small().scoring_rule();
    assert!(text.contains("the sum of its items"), "{text}");
    assert!(text.contains("1 + 5 − x"), "{text}");
    assert!(text.contains("at most 20 %"), "{text}");
    assert!(text.contains("× the number of items"), "{text}");
}

#[test]
fn the_documented_example_is_a_valid_instrument() {
    let doc = include_str!("../../../docs/instrument-format.md");
    let example = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let i = Instrument::parse(example, Format::Toml, "docs/instrument-format.md").unwrap();
    assert!(i.items.iter().any(|it| it.reverse && !it.links.is_empty()));
}
