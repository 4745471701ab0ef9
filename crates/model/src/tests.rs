use super::*;
use proptest::prelude::*;

fn hrm() -> Theory {
    resolve("healing-relationship-model").unwrap()
}

fn ids_of_kind(t: &Theory, kind: Kind) -> Vec<&str> {
    t.components()
        .into_iter()
        .filter(|(_, c)| c.kind == kind)
        .map(|(_, c)| c.id.as_str())
        .collect()
}

#[test]
fn builtin_theories_are_valid_and_distinct() {
    let all = builtin();
    assert_eq!(all.len(), 3);
    let ids: HashSet<_> = all.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    let idc = all
        .iter()
        .find(|t| t.id == "interpersonal-dynamics")
        .unwrap();
    assert_eq!(
        idc.status, "configurable default",
        "the perspectives are labelled as a default"
    );
    assert_eq!(ids_of_kind(idc, Kind::Perspective).len(), 4);
    let alliance = all.iter().find(|t| t.id == "therapeutic-alliance").unwrap();
    assert_eq!(ids_of_kind(alliance, Kind::Element).len(), 3);
    assert_eq!(ids_of_kind(alliance, Kind::Event), ["rupture", "repair"]);
}

#[test]
fn healing_model_is_complete() {
    let t = hrm();
    let subs = |id: &str| {
        t.component(id)
            .unwrap()
            .subs
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids_of_kind(&t, Kind::Process),
        ["valuing", "appreciating-power", "abiding"]
    );
    assert_eq!(
        ids_of_kind(&t, Kind::Outcome),
        ["trust", "hope", "feeling-known"]
    );
    assert_eq!(ids_of_kind(&t, Kind::Competency).len(), 4);
    assert_eq!(
        subs("healing"),
        ["cure", "lessening-suffering", "finding-meaning"]
    );
    assert_eq!(
        subs("valuing"),
        ["nonjudgmental-stance", "connecting", "presence"]
    );
    assert_eq!(
        subs("presence"),
        [
            "full-attention",
            "acceptance-of-illness-experience",
            "empathy"
        ]
    );
    assert_eq!(
        subs("appreciating-power"),
        ["partnering", "education", "pushing"]
    );
    assert_eq!(
        subs("abiding"),
        [
            "interpersonal-continuity",
            "major-health-crises",
            "caring-actions",
            "not-giving-up"
        ]
    );
    assert_eq!(t.components().len(), 27);
    assert!(
        t.components().iter().all(|(_, c)| !c.definition.is_empty()),
        "every component is defined"
    );
    assert_eq!(
        t.markers.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["contrast"]
    );
    let trust = t.propositions.iter().find(|p| p.to == ["trust"]).unwrap();
    assert_eq!(trust.from, ["valuing", "abiding"]);
    assert_eq!(trust.basis, Basis::StatedInSource);
    assert!(
        t.propositions
            .iter()
            .any(|p| p.basis == Basis::ProjectAssumption)
    );
}

#[test]
fn codebook_mirrors_the_component_tree() {
    let t = hrm();
    let book = t.codebook();
    assert_eq!(book.len(), 27);
    let at = |component: &str| book.iter().position(|s| s.component == component).unwrap();
    let empathy = &book[at("empathy")];
    assert_eq!(empathy.parent, Some(at("presence")));
    assert_eq!(book[at("presence")].parent, Some(at("valuing")));
    assert_eq!(book[at("valuing")].parent, None);
    assert_eq!(
        empathy.colour,
        book[at("valuing")].colour,
        "sub-dimensions inherit colour"
    );
    assert!(
        book.iter()
            .enumerate()
            .all(|(i, s)| s.parent.is_none_or(|p| p < i)),
        "parents first"
    );
}

#[test]
fn bad_theory_files_say_what_is_wrong() {
    let base = "id = \"t\"\nname = \"T\"\nversion = \"1\"\n";
    let err = |text: &str| Theory::from_toml(text, "my.toml").unwrap_err().to_string();
    assert!(err("id = ").contains("my.toml: not a valid theory file"));
    let dup = format!(
        "{base}[[component]]\nid = \"a\"\nname = \"A\"\nkind = \"process\"\n[[component.sub]]\nid = \"a\"\nname = \"B\"\nkind = \"dimension\"\n"
    );
    assert!(
        err(&dup).contains("component id 'a' is used twice"),
        "{}",
        err(&dup)
    );
    let edge = format!(
        "{base}[[component]]\nid = \"a\"\nname = \"A\"\nkind = \"process\"\n[[proposition]]\nfrom = [\"a\"]\nto = [\"b\"]\nrelation = \"leads-to\"\nbasis = \"stated-in-source\"\n"
    );
    assert!(
        err(&edge).contains("'b', which is not a component"),
        "{}",
        err(&edge)
    );
    let kind = format!("{base}[[component]]\nid = \"a\"\nname = \"A\"\nkind = \"vibe\"\n");
    assert!(
        err(&kind).contains("unknown variant `vibe`"),
        "{}",
        err(&kind)
    );
    let typo = format!(
        "{base}[[component]]\nid = \"a\"\nname = \"A\"\nkind = \"process\"\ndefinitoin = \"x\"\n"
    );
    assert!(
        err(&typo).contains("definitoin"),
        "unknown keys are refused: {}",
        err(&typo)
    );
    assert!(matches!(
        resolve("no-such-theory"),
        Err(TheoryError::Unknown(_))
    ));
}

/// A theory whose components nest `depth` deep, one chain (`[[component.sub.sub]]`…).
fn chain_theory(depth: usize) -> String {
    let mut text = String::from("id = \"t\"\nname = \"T\"\nversion = \"1\"\n");
    for level in 1..=depth {
        let header = std::iter::once("component")
            .chain(std::iter::repeat_n("sub", level - 1))
            .collect::<Vec<_>>()
            .join(".");
        text += &format!(
            "[[{header}]]\nid = \"c{level}\"\nname = \"C{level}\"\nkind = \"dimension\"\n"
        );
    }
    text
}

#[test]
fn deep_theory_files_are_refused_naming_the_file() {
    let at_limit = Theory::from_toml(&chain_theory(MAX_CODE_DEPTH), "deep.toml").expect("64 deep");
    assert_eq!(at_limit.codebook().len(), MAX_CODE_DEPTH);
    assert_eq!(
        at_limit.codebook()[MAX_CODE_DEPTH - 1].parent,
        Some(MAX_CODE_DEPTH - 2)
    );
    let err = Theory::from_toml(&chain_theory(MAX_CODE_DEPTH + 1), "deep.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("deep.toml: ")
            && err.contains("'c65' is nested 65 deep, more than the limit of 64"),
        "{err}"
    );
    // Deeper than the TOML reader goes: its own limit, as a clean error.
    let header = format!("[[component{}]]\n", ".sub".repeat(10_000));
    let arrays = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    for text in [header, arrays] {
        let err = Theory::from_toml(&text, "deep.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("deep.toml: not a valid theory file"),
            "{err}"
        );
    }
    let json = format!(
        "{{\"component\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let err = Theory::from_json(&json, "deep.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("deep.json: not a valid theory file"),
        "{err}"
    );
    let tab = chain_theory(1).replace("name = \"C1\"", "name = \"C\\t1\"");
    let err = Theory::from_toml(&tab, "tab.toml").unwrap_err().to_string();
    assert!(err.contains("control character U+0009"), "{err}");
}

#[test]
fn user_theory_files_load_from_a_path() {
    let dir = std::env::temp_dir().join(format!("between-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut t = hrm();
    t.id = "our-revised-model".into();
    t.components.retain(|c| c.id != "hope");
    t.propositions
        .retain(|p| !p.to.contains(&"hope".to_string()) && !p.from.contains(&"hope".to_string()));
    let toml_path = dir.join("ours.toml");
    let json_path = dir.join("ours.json");
    std::fs::write(&toml_path, t.to_toml()).unwrap();
    std::fs::write(&json_path, t.to_json()).unwrap();
    assert_eq!(resolve(toml_path.to_str().unwrap()).unwrap(), t);
    assert_eq!(Theory::from_path(&json_path).unwrap(), t);
    std::fs::remove_dir_all(dir).unwrap();
}

fn arb_text() -> impl Strategy<Value = String> {
    "[a-zA-Zé🙂 ,.'\"\\\\\n—-]{0,30}"
}

fn arb_component(depth: u32) -> BoxedStrategy<Component> {
    let kinds = prop_oneof![
        Just(Kind::Process),
        Just(Kind::Dimension),
        Just(Kind::Outcome),
        Just(Kind::Perspective)
    ];
    let leaf = (
        kinds,
        "[A-Za-zé][A-Za-zé ]{0,11}",
        arb_text(),
        proptest::collection::vec(arb_text(), 0..3),
        proptest::option::of("#[0-9a-f]{6}"),
    );
    if depth == 0 {
        leaf.prop_map(|(kind, name, definition, indicators, colour)| Component {
            id: String::new(),
            name,
            kind,
            definition,
            indicators,
            colour,
            subs: vec![],
        })
        .boxed()
    } else {
        (
            leaf,
            proptest::collection::vec(arb_component(depth - 1), 0..3),
        )
            .prop_map(
                |((kind, name, definition, indicators, colour), subs)| Component {
                    id: String::new(),
                    name,
                    kind,
                    definition,
                    indicators,
                    colour,
                    subs,
                },
            )
            .boxed()
    }
}

fn number_ids(cs: &mut [Component], next: &mut usize) {
    for c in cs {
        c.id = format!("c-{next}");
        *next += 1;
        number_ids(&mut c.subs, next);
    }
}

proptest! {
    #[test]
    fn theory_files_round_trip(
        mut components in proptest::collection::vec(arb_component(2), 1..4),
        description in arb_text(),
        edges in proptest::collection::vec((0usize..50, 0usize..50, any::<bool>(), arb_text()), 0..4),
    ) {
        let mut n = 0;
        number_ids(&mut components, &mut n);
        let propositions = edges
            .into_iter()
            .map(|(a, b, stated, note)| Proposition {
                from: vec![format!("c-{}", a % n)],
                to: vec![format!("c-{}", b % n)],
                relation: "leads-to".into(),
                basis: if stated { Basis::StatedInSource } else { Basis::ProjectAssumption },
                note,
            })
            .collect();
        let theory = Theory {
            id: "generated".into(),
            name: "Generated".into(),
            version: "1".into(),
            status: String::new(),
            description,
            citations: vec![],
            components,
            propositions,
            markers: vec![Marker { id: "contrast".into(), name: "Contrast".into(), definition: String::new() }],
        };
        prop_assert_eq!(&Theory::from_toml(&theory.to_toml(), "t").unwrap(), &theory);
        prop_assert_eq!(&Theory::from_json(&theory.to_json(), "t").unwrap(), &theory);
        prop_assert_eq!(theory.codebook().len(), n);
    }
}

/// The edges each built-in theory may call "stated in source": those the sources we hold state
/// (`shared/domain/healing-relationships.md`, which names what no source states). Every other
/// edge must be labelled a project assumption.
#[test]
fn only_edges_the_sources_state_are_labelled_stated_in_source() {
    let edge = |from: &[&str], to: &[&str]| {
        let ids = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        (ids(from), ids(to))
    };
    let competencies = [
        "self-confidence",
        "emotional-self-management",
        "mindfulness",
        "clinical-knowledge",
    ];
    let processes = ["valuing", "appreciating-power", "abiding"];
    let outcomes = ["trust", "hope", "feeling-known"];
    let perspectives = [
        "past-relationships",
        "present-relationships",
        "other-patients",
        "staff-relationships",
    ];
    let stated = [
        (
            "healing-relationship-model",
            vec![
                edge(&competencies, &processes),
                edge(&["valuing", "abiding"], &["trust"]),
                edge(&["valuing", "abiding"], &["feeling-known"]),
                edge(&processes, &outcomes),
                edge(&outcomes, &["healing"]),
            ],
        ),
        (
            "therapeutic-alliance",
            vec![
                edge(&["goals", "tasks", "bond"], &["alliance"]),
                edge(&["rupture"], &["repair"]),
                edge(&["clinician-mindfulness"], &["alliance"]),
            ],
        ),
        (
            "interpersonal-dynamics",
            vec![edge(&perspectives, &["formulation"])],
        ),
    ];
    for (id, expected) in stated {
        let theory = resolve(id).unwrap();
        let labelled: Vec<_> = theory
            .propositions
            .iter()
            .filter(|p| p.basis == Basis::StatedInSource)
            .map(|p| (p.from.clone(), p.to.clone()))
            .collect();
        assert_eq!(labelled, expected, "{id}");
        for p in &theory.propositions {
            if p.basis == Basis::ProjectAssumption {
                assert!(!p.note.is_empty(), "{id}: an assumption says why it is one");
            }
        }
    }
    let hrm = hrm();
    let to_hope = hrm
        .propositions
        .iter()
        .find(|p| p.from == ["self-confidence", "emotional-self-management"] && p.to == ["hope"])
        .expect("kept as an assumption a study can test");
    assert_eq!(to_hope.basis, Basis::ProjectAssumption);
    assert_eq!(
        hrm.component("self-confidence").unwrap().definition,
        "Projecting confidence in the healer's ability to heal.",
        "the paper's Table 3"
    );
}
