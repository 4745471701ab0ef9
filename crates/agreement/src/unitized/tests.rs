use super::*;

fn seg(coder: usize, begin: i64, end: i64, code: &str) -> Segment {
    Segment {
        coder,
        begin,
        length: end - begin,
        code: code.into(),
    }
}

/// The worked example of `shared/design/unitized-alpha.md` §3.
fn example() -> Unitizing {
    Unitizing {
        begin: 0,
        length: 30,
        coders: 2,
        segments: vec![
            seg(0, 2, 8, "A"),
            seg(0, 12, 20, "B"),
            seg(0, 24, 28, "A"),
            seg(1, 3, 9, "A"),
            seg(1, 12, 15, "A"),
            seg(1, 15, 20, "B"),
        ],
    }
}

#[track_caller]
fn near(c: Coefficient, expected: f64, tolerance: f64) {
    let v = c.value().unwrap_or_else(|| panic!("undefined: {c:?}"));
    assert!((v - expected).abs() <= tolerance, "{v} is not {expected}");
}

#[test]
fn the_2004_form_reproduces_the_worked_example() {
    let d = example();
    let a = u_alpha_2004(&d, "A").unwrap();
    assert!(
        (a.observed - 0.03).abs() < 1e-12 && (a.expected - 2947.0 / 51930.0).abs() < 1e-12,
        "{a:?}"
    );
    near(a.alpha(), 13891.0 / 29470.0, 1e-12);
    near(
        u_alpha_2004(&d, "B").unwrap().alpha(),
        3019.0 / 3885.0,
        1e-12,
    );
    near(u_alpha_2004_overall(&d).unwrap(), 0.606341, 1e-6);
}

#[test]
fn the_2016_family_reproduces_the_worked_example() {
    let d = example();
    let f = UnitizedFamily::new(&d).unwrap();
    near(f.u_alpha(), 2117.0 / 3810.0, 1e-12);
    near(f.binary(), 2787.0 / 4480.0, 1e-12);
    near(binary_for_code(&d, "A").unwrap(), 2597.0 / 7790.0, 1e-12);
    near(binary_for_code(&d, "B").unwrap(), 2189.0 / 3055.0, 1e-12);
    let (cu, coverage) = f.cu_alpha();
    near(cu, 1405.0 / 2197.0, 1e-12);
    assert!((coverage - 26.0 / 60.0).abs() < 1e-12);
    let (a, cov_a) = f.code_alpha("A").unwrap();
    near(a, 1360.0 / 2197.0, 1e-12);
    assert!((cov_a - 13.0 / 19.0).abs() < 1e-12);
    let (b, cov_b) = f.code_alpha("B").unwrap();
    near(b, 1450.0 / 2197.0, 1e-12);
    assert!((cov_b - 1.0).abs() < 1e-12);
    assert!(f.code_alpha("Z").is_none());
}

#[test]
fn edge_cases_as_the_design_note_gives_them() {
    // A[2,5) against a coder who coded nothing.
    let lone = Unitizing {
        begin: 0,
        length: 10,
        coders: 2,
        segments: vec![seg(0, 2, 5, "A")],
    };
    let f = UnitizedFamily::new(&lone).unwrap();
    near(f.u_alpha(), -0.1, 1e-12);
    near(f.binary(), -0.1, 1e-12);
    assert!(f.cu_alpha().0.undefined_reason().is_some());
    near(u_alpha_2004(&lone, "A").unwrap().alpha(), -0.7, 1e-12);
    // Same code, split differently: the 2016 family sees no disagreement, the 2004 form does.
    let split = Unitizing {
        begin: 0,
        length: 10,
        coders: 2,
        segments: vec![seg(0, 0, 3, "A"), seg(0, 3, 6, "A"), seg(1, 0, 6, "A")],
    };
    let f = UnitizedFamily::new(&split).unwrap();
    near(f.u_alpha(), 1.0, 1e-12);
    near(f.binary(), 1.0, 1e-12);
    near(u_alpha_2004(&split, "A").unwrap().alpha(), 0.084, 1e-3);
    // Nothing coded: undefined, not NaN.
    let none = Unitizing {
        begin: 0,
        length: 10,
        coders: 2,
        segments: vec![],
    };
    assert!(
        UnitizedFamily::new(&none)
            .unwrap()
            .binary()
            .undefined_reason()
            .is_some()
    );
    assert!(
        u_alpha_2004_overall(&none)
            .unwrap()
            .undefined_reason()
            .is_some()
    );
    // Refusals name what is wrong.
    let overlap = Unitizing {
        begin: 0,
        length: 10,
        coders: 2,
        segments: vec![seg(0, 0, 5, "A"), seg(0, 3, 8, "B")],
    };
    assert_eq!(
        UnitizedFamily::new(&overlap).unwrap_err().to_string(),
        "coder 0's segments overlap at [3, 5) (A and B); a coder's codes here must not overlap"
    );
    assert!(
        u_alpha_2004(&overlap, "A").is_ok(),
        "different categories may overlap in the 2004 form"
    );
    let outside = Unitizing {
        begin: 0,
        length: 10,
        coders: 2,
        segments: vec![seg(1, 8, 12, "A")],
    };
    assert!(matches!(
        u_alpha_2004(&outside, "A"),
        Err(UnitizingError::Outside { .. })
    ));
    let alone = Unitizing {
        begin: 0,
        length: 10,
        coders: 1,
        segments: vec![],
    };
    assert_eq!(
        UnitizedFamily::new(&alone).unwrap_err(),
        UnitizingError::TooFewCoders
    );
}

#[test]
fn the_published_u_alpha_vectors_pass() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/agreement-vectors/public.json"
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    for case in file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["statistic"] == "krippendorff_u_alpha")
    {
        // The 1995 examples use continuous lengths; the 2004 integer form meets them with
        // positions scaled ×100 (DKPro's tests do the same).
        let scale = if case["id"].as_str().unwrap().contains("k1995") {
            100
        } else {
            1
        };
        let int = |v: &serde_json::Value| v.as_i64().unwrap() * scale;
        let data = Unitizing {
            begin: int(&case["continuum"]["begin"]),
            length: int(&case["continuum"]["length"]),
            coders: case["n_coders"].as_u64().unwrap() as usize,
            segments: case["segments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| Segment {
                    coder: s["coder"].as_u64().unwrap() as usize,
                    begin: int(&s["begin"]),
                    length: int(&s["length"]),
                    code: s["code"].as_str().unwrap().into(),
                })
                .collect(),
        };
        let got = match case["variant"].as_str().unwrap() {
            "overall" => u_alpha_2004_overall(&data).unwrap(),
            _ => u_alpha_2004(&data, case["category"].as_str().unwrap())
                .unwrap()
                .alpha(),
        };
        near(
            got,
            case["expected"].as_f64().unwrap(),
            case["tolerance"].as_f64().unwrap(),
        );
        checked += 1;
    }
    assert_eq!(checked, 7);
}
