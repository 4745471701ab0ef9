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

/// A second group over the worked example's continuum, codes C and D (hand-computed with exact
/// fractions, position by position): |uα D_o = 6, D_e = 12960/839; cuα D_o = 6, D_e = 2835/191.
fn second_group() -> Unitizing {
    Unitizing {
        begin: 0,
        length: 30,
        coders: 2,
        segments: vec![
            seg(0, 0, 5, "C"),
            seg(0, 10, 16, "D"),
            seg(0, 20, 30, "C"),
            seg(1, 1, 5, "C"),
            seg(1, 10, 13, "D"),
            seg(1, 13, 16, "C"),
            seg(1, 22, 27, "C"),
        ],
    }
}

#[test]
fn pooled_across_one_group_is_that_group() {
    let p = pooled_across_groups(&[example()]).unwrap();
    near(p.binary.clone(), 2787.0 / 4480.0, 1e-12);
    near(p.cu_alpha.clone(), 1405.0 / 2197.0, 1e-12);
    let f = UnitizedFamily::new(&example()).unwrap();
    assert_eq!(p.binary, f.binary(), "bit for bit");
    assert_eq!(p.cu_alpha, f.cu_alpha().0, "bit for bit");
    near(p.binary, 0.622098, 1e-6);
    near(p.cu_alpha, 0.639508, 1e-6);
    assert_eq!(p.groups, 1);
}

#[test]
fn pooled_across_two_groups_lies_between_them() {
    let (first, second) = (example(), second_group());
    let f2 = UnitizedFamily::new(&second).unwrap();
    near(f2.binary(), 1.0 - 6.0 / (12960.0 / 839.0), 1e-12);
    near(f2.cu_alpha().0, 1.0 - 6.0 / (2835.0 / 191.0), 1e-12);
    let p = pooled_across_groups(&[first.clone(), second.clone()]).unwrap();
    // 1 − (6 + 6) / (26880/1693 + 12960/839) and 1 − (6 + 6) / (2197/132 + 2835/191).
    near(p.binary.clone(), 2287373.0 / 3707800.0, 1e-12);
    near(p.cu_alpha.clone(), 491303.0 / 793847.0, 1e-12);
    let f1 = UnitizedFamily::new(&first).unwrap();
    let between = |pooled: f64, a: f64, b: f64| pooled > a.min(b) && pooled < a.max(b);
    assert!(between(
        p.binary.value().unwrap(),
        f1.binary().value().unwrap(),
        f2.binary().value().unwrap()
    ));
    assert!(between(
        p.cu_alpha.value().unwrap(),
        f1.cu_alpha().0.value().unwrap(),
        f2.cu_alpha().0.value().unwrap()
    ));
    assert_eq!(
        pooled_across_families(&[f1, f2]).unwrap(),
        p,
        "the families form gives the same"
    );
}

#[test]
fn pooled_is_undefined_without_expected_disagreement() {
    let empty = Unitizing {
        begin: 0,
        length: 30,
        coders: 2,
        segments: vec![],
    };
    let p = pooled_across_groups(&[empty.clone(), empty]).unwrap();
    assert!(p.binary.undefined_reason().unwrap().contains("no group"));
    assert!(p.cu_alpha.undefined_reason().unwrap().contains("no group"));
    let none = pooled_across_groups(&[]).unwrap();
    assert!(none.binary.undefined_reason().is_some() && none.groups == 0);
    // A group coded by only one coder adds to |uα but nothing to cuα.
    let lone = Unitizing {
        begin: 0,
        length: 30,
        coders: 2,
        segments: vec![seg(0, 2, 5, "A")],
    };
    let p = pooled_across_groups(&[lone]).unwrap();
    assert!(p.binary.value().is_some());
    assert!(p.cu_alpha.undefined_reason().is_some());
    // Groups on different continua are refused.
    let shorter = Unitizing {
        length: 20,
        ..example()
    };
    assert!(matches!(
        pooled_across_groups(&[example(), shorter]),
        Err(UnitizingError::DifferentGroups { .. })
    ));
}

/// The per-position definition the sweep replaced: every coder's value at every position.
fn naive_family(data: &Unitizing) -> UnitizedFamily {
    let codes: Vec<String> = std::iter::once(String::new())
        .chain(data.codes().into_iter().map(String::from))
        .collect();
    let index = |c: &str| codes.iter().position(|x| x == c).unwrap();
    let (q, m, length) = (codes.len(), data.coders, data.length as usize);
    let mut values = vec![vec![0usize; length]; m];
    for s in &data.segments {
        for p in s.begin..s.begin + s.length {
            values[s.coder][(p - data.begin) as usize] = index(&s.code);
        }
    }
    let mut pairs = vec![vec![0i128; q]; q];
    for pos in 0..length {
        for i in 0..m {
            for j in 0..m {
                if i != j {
                    pairs[values[i][pos]][values[j][pos]] += 1;
                }
            }
        }
    }
    let mut self_pairs = vec![0i128; q];
    let mut pairable = vec![0i128; q];
    for s in &data.segments {
        let k = index(&s.code);
        self_pairs[k] += i128::from(s.length).pow(2);
        let start = (s.begin - data.begin) as usize;
        let covered: i128 = (0..m)
            .filter(|&j| j != s.coder)
            .map(|j| {
                values[j][start..start + s.length as usize]
                    .iter()
                    .filter(|&&x| x != 0)
                    .count() as i128
            })
            .sum();
        pairable[k] += covered * covered;
    }
    // Gaps: the maximal uncoded stretches of each coder, counted linearly.
    for row in &values {
        let mut pos = 0;
        while pos < length {
            if row[pos] == 0 {
                let start = pos;
                while pos < length && row[pos] == 0 {
                    pos += 1;
                }
                self_pairs[0] += (pos - start) as i128;
            } else {
                pos += 1;
            }
        }
    }
    UnitizedFamily {
        codes,
        pairs,
        self_pairs,
        pairable,
        m: m as i128,
        begin: data.begin,
        length: i128::from(data.length),
    }
}

/// The pairwise definition of the 2004 form that the sorted sweep replaced.
fn naive_2004(data: &Unitizing, category: &str) -> Disagreement {
    let (m, l) = (data.coders as i128, data.length as i128);
    let partitions: Vec<Vec<(i64, i64, bool)>> = data
        .units_by_coder(|c| c == category)
        .unwrap()
        .iter()
        .map(|u| data.sections(u, |_| true, false))
        .collect();
    let mut squared: i128 = 0;
    for i in 0..data.coders {
        for j in i + 1..data.coders {
            for &(b1, l1, v1) in &partitions[i] {
                for &(b2, l2, v2) in &partitions[j] {
                    if (b1 + l1).min(b2 + l2) - b1.max(b2) <= 0 {
                        continue;
                    }
                    squared += match (v1, v2) {
                        (true, true) => {
                            i128::from(b1 - b2).pow(2) + i128::from((b1 + l1) - (b2 + l2)).pow(2)
                        }
                        (true, false) if b1 >= b2 && b1 + l1 <= b2 + l2 => i128::from(l1).pow(2),
                        (false, true) if b2 >= b1 && b2 + l2 <= b1 + l1 => i128::from(l2).pow(2),
                        _ => 0,
                    };
                }
            }
        }
    }
    let observed = 2.0 * squared as f64 / (m * (m - 1) * l * l) as f64;
    let all = partitions.iter().flatten();
    let units: Vec<i128> = all
        .clone()
        .filter(|s| s.2)
        .map(|s| i128::from(s.1))
        .collect();
    let gaps: Vec<i128> = all.filter(|s| !s.2).map(|s| i128::from(s.1)).collect();
    let n = units.len() as i128;
    let mut numerator: i128 = 0;
    for &u in &units {
        let placements: i128 = gaps.iter().filter(|&&g| g >= u).map(|&g| g - u + 1).sum();
        numerator += (n - 1) * u * (u - 1) * (2 * u - 1) / 3 + u * u * placements;
    }
    let denominator = m * l * (m * l - 1) - units.iter().map(|&u| u * (u - 1)).sum::<i128>();
    let expected = if numerator == 0 || denominator == 0 {
        0.0
    } else {
        2.0 / l as f64 * numerator as f64 / denominator as f64
    };
    Disagreement { observed, expected }
}

const CODES: [&str; 3] = ["A", "B", "C"];

/// Lays `(gap, length, code)` steps out from `begin`, stopping at the continuum's end.
fn lay_out(coder: usize, begin: i64, end: i64, steps: &[(i64, i64, usize)]) -> Vec<Segment> {
    let mut at = begin;
    let mut out = Vec::new();
    for &(gap, length, code) in steps {
        let b = at + gap;
        if b + length > end {
            break;
        }
        out.push(seg(coder, b, b + length, CODES[code]));
        at = b + length;
    }
    out
}

type Steps = Vec<(i64, i64, usize)>;

fn steps() -> impl proptest::strategy::Strategy<Value = Steps> {
    proptest::collection::vec((0i64..5, 1i64..9, 0usize..CODES.len()), 0..8)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    #[test]
    fn the_sweep_counts_what_the_positions_count(
        begin in -5i64..5,
        length in 1i64..48,
        coders in proptest::collection::vec(steps(), 2..=4),
    ) {
        let end = begin + length;
        let mut segments: Vec<Segment> = coders
            .iter()
            .enumerate()
            .flat_map(|(i, s)| lay_out(i, begin, end, s))
            .collect();
        segments.reverse(); // the order given must not matter
        let data = Unitizing { begin, length, coders: coders.len(), segments };
        let sweep = UnitizedFamily::new(&data).unwrap();
        let naive = naive_family(&data);
        proptest::prop_assert_eq!(&sweep.codes, &naive.codes);
        proptest::prop_assert_eq!(&sweep.pairs, &naive.pairs);
        proptest::prop_assert_eq!(&sweep.self_pairs, &naive.self_pairs);
        proptest::prop_assert_eq!(&sweep.pairable, &naive.pairable);
        proptest::prop_assert_eq!(sweep.u_alpha(), naive.u_alpha());
        proptest::prop_assert_eq!(sweep.binary(), naive.binary());
        proptest::prop_assert_eq!(sweep.cu_alpha(), naive.cu_alpha());
        for code in CODES {
            proptest::prop_assert_eq!(sweep.code_alpha(code), naive.code_alpha(code));
            // |uα per code: the data with only that code's segments, position by position.
            let only = Unitizing {
                segments: data.segments.iter().filter(|s| s.code == code).cloned().collect(),
                ..data.clone()
            };
            proptest::prop_assert_eq!(
                binary_for_code(&data, code).unwrap(),
                naive_family(&only).binary()
            );
        }
    }

    #[test]
    fn the_2004_sweep_matches_the_pairwise_definition(
        begin in -5i64..5,
        length in 1i64..48,
        coders in proptest::collection::vec(proptest::collection::vec(steps(), CODES.len()), 2..=4),
    ) {
        // Each category laid out on its own, so different categories may overlap (the 2004
        // form allows that).
        let end = begin + length;
        let segments: Vec<Segment> = coders
            .iter()
            .enumerate()
            .flat_map(|(i, per_code)| {
                per_code.iter().enumerate().flat_map(move |(k, s)| {
                    let steps: Steps = s.iter().map(|&(g, l, _)| (g, l, k)).collect();
                    lay_out(i, begin, end, &steps)
                })
            })
            .collect();
        let data = Unitizing { begin, length, coders: coders.len(), segments };
        for code in CODES {
            proptest::prop_assert_eq!(u_alpha_2004(&data, code).unwrap(), naive_2004(&data, code));
        }
    }
}
