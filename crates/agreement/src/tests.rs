use super::*;
use proptest::prelude::*;
use serde_json::Value;

fn table(case: &Value) -> Vec<Vec<Option<f64>>> {
    case["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_array().unwrap().iter().map(Value::as_f64).collect())
        .collect()
}

/// Computes a vector case, or `None` for a statistic not implemented here.
fn compute(case: &Value) -> Option<Coefficient> {
    if case["statistic"] == "krippendorff_u_alpha" {
        return None; // checked with the other unitized tests, in unitized/tests.rs
    }
    let data = table(case);
    let categories: Vec<f64> = match case["categories"].as_array() {
        Some(c) => c.iter().map(|v| v.as_f64().unwrap()).collect(),
        None => categories_of(&data),
    };
    Some(match case["statistic"].as_str().unwrap() {
        "krippendorff_alpha" => {
            let level = match case["level"].as_str().unwrap() {
                "nominal" => Level::Nominal,
                "ordinal" => Level::Ordinal,
                "interval" => Level::Interval,
                _ => Level::Ratio,
            };
            krippendorff_alpha(&data, level)
        }
        "cohen_kappa" => {
            let weights = match case["weights"].as_str().unwrap_or("unweighted") {
                "linear" => Weights::Linear,
                "quadratic" => Weights::Quadratic,
                _ => Weights::Unweighted,
            };
            cohen_kappa(&data, &categories, weights)
        }
        "scott_pi" => scott_pi(&data),
        "fleiss_kappa" => fleiss_kappa(&data, &categories),
        "gwet_ac1" => gwet_ac1(&data, &categories),
        "brennan_prediger" => brennan_prediger(&data, &categories),
        "percent_agreement" => percent_agreement(&data, &categories),
        _ => return None,
    })
}

#[test]
fn every_public_vector_passes() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/agreement-vectors/public.json"
    );
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(path).expect("shared/agreement-vectors is beside the repository"),
    )
    .unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for case in file["cases"].as_array().unwrap() {
        let Some(got) = compute(case) else { continue };
        checked += 1;
        let id = case["id"].as_str().unwrap();
        match (case["expected"].as_f64(), got.value()) {
            (Some(e), Some(g)) if (e - g).abs() <= case["tolerance"].as_f64().unwrap() => {}
            (None, None) => {}
            (e, _) => failures.push(format!(
                "{id}: expected {e:?} ({}), got {got:?}",
                case["undefined_reason"]
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 160, "only {checked} cases were checked");
}

#[test]
fn undefined_is_said_not_nan() {
    let one_value = vec![vec![Some(1.0), Some(1.0)], vec![Some(1.0), Some(1.0)]];
    assert!(
        krippendorff_alpha(&one_value, Level::Nominal)
            .undefined_reason()
            .unwrap()
            .contains("no variation")
    );
    assert!(
        cohen_kappa(&one_value, &[1.0], Weights::Unweighted)
            .undefined_reason()
            .is_some()
    );
    let lonely = vec![vec![Some(1.0), None], vec![None, Some(2.0)]];
    assert!(
        krippendorff_alpha(&lonely, Level::Nominal)
            .undefined_reason()
            .unwrap()
            .contains("pairable")
    );
    assert!(
        scott_pi(&lonely)
            .undefined_reason()
            .unwrap()
            .contains("both coders")
    );
    assert!(
        fleiss_kappa(&lonely, &[1.0, 2.0])
            .undefined_reason()
            .is_some()
    );
    assert!(
        cohen_kappa(
            &[vec![Some(1.0), Some(2.0), Some(1.0)]],
            &[1.0, 2.0],
            Weights::Unweighted
        )
        .undefined_reason()
        .unwrap()
        .contains("two coders")
    );
}

fn arb_table() -> impl Strategy<Value = Vec<Vec<Option<f64>>>> {
    (2usize..4).prop_flat_map(|coders| {
        proptest::collection::vec(
            proptest::collection::vec(
                proptest::option::weighted(0.85, (1u8..5).prop_map(f64::from)),
                coders,
            ),
            2..25,
        )
    })
}

fn all(data: &Table) -> Vec<Option<f64>> {
    let categories = [1.0, 2.0, 3.0, 4.0];
    let mut out = vec![
        krippendorff_alpha(data, Level::Nominal).value(),
        krippendorff_alpha(data, Level::Ordinal).value(),
        krippendorff_alpha(data, Level::Interval).value(),
        krippendorff_alpha(data, Level::Ratio).value(),
        fleiss_kappa(data, &categories).value(),
        gwet_ac1(data, &categories).value(),
        gwet_ac2(data, &categories, Weights::Linear).value(),
        gwet_ac2(data, &categories, Weights::Quadratic).value(),
        brennan_prediger(data, &categories).value(),
        percent_agreement(data, &categories).value(),
    ];
    if data[0].len() == 2 {
        out.push(scott_pi(data).value());
        for w in [Weights::Unweighted, Weights::Linear, Weights::Quadratic] {
            out.push(cohen_kappa(data, &categories, w).value());
        }
    }
    out
}

fn close(a: &[Option<f64>], b: &[Option<f64>]) -> bool {
    a.iter().zip(b).all(|(x, y)| match (x, y) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    })
}

proptest! {
    #[test]
    fn perfect_agreement_is_one(values in proptest::collection::vec(1u8..5, 2..20), coders in 2usize..5) {
        let data: Vec<Vec<Option<f64>>> = values.iter().map(|v| vec![Some(f64::from(*v)); coders]).collect();
        for value in all(&data).into_iter().flatten() {
            prop_assert!((value - 1.0).abs() < 1e-12, "{value}");
        }
    }

    #[test]
    fn coders_can_be_listed_in_any_order(data in arb_table()) {
        let reversed: Vec<Vec<Option<f64>>> = data.iter().map(|u| u.iter().rev().copied().collect()).collect();
        prop_assert!(close(&all(&data), &all(&reversed)));
    }

    #[test]
    fn nominal_coefficients_ignore_the_labels(data in arb_table()) {
        // 1→4, 2→3, 3→1, 4→2: a bijection of labels (declared categories relabelled too).
        let relabel = |v: f64| [4.0, 3.0, 1.0, 2.0][v as usize - 1];
        let other: Vec<Vec<Option<f64>>> = data.iter().map(|u| u.iter().map(|v| v.map(relabel)).collect()).collect();
        let nominal = |d: &Table| {
            let c = [1.0, 2.0, 3.0, 4.0];
            let mut v = vec![
                krippendorff_alpha(d, Level::Nominal).value(),
                fleiss_kappa(d, &c).value(),
                gwet_ac1(d, &c).value(),
                brennan_prediger(d, &c).value(),
                percent_agreement(d, &c).value(),
            ];
            if d[0].len() == 2 {
                v.push(scott_pi(d).value());
                v.push(cohen_kappa(d, &c, Weights::Unweighted).value());
            }
            v
        };
        prop_assert!(close(&nominal(&data), &nominal(&other)));
    }
}

proptest! {
    /// Tables with many distinct values take another path to the same coincidences.
    #[test]
    fn both_coincidence_paths_agree(data in proptest::collection::vec(proptest::collection::vec(proptest::option::of(-3i8..9), 3), 1..30)) {
        let data: Vec<Vec<Option<f64>>> = data.iter().map(|u| u.iter().map(|v| v.map(f64::from)).collect()).collect();
        let (a_values, a) = coincidences(&data);
        let (b_values, b) = coincidences_of_many(&data);
        prop_assert_eq!(a_values, b_values);
        prop_assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-12));
    }
}

#[test]
fn many_distinct_values_are_handled() {
    let data: Vec<Vec<Option<f64>>> = (0..200)
        .map(|i| vec![Some(f64::from(i)), Some(f64::from(i + i % 3))])
        .collect();
    let alpha = krippendorff_alpha(&data, Level::Interval).value().unwrap();
    assert!(alpha > 0.99 && alpha < 1.0, "{alpha}");
    let (values, _) = coincidences(&data);
    assert!(values.len() > FEW && values.windows(2).all(|w| w[0] < w[1]));
}

proptest! {
    #[test]
    fn binary_counts_give_the_table_values(cells in proptest::collection::vec((any::<bool>(), any::<bool>()), 1..40)) {
        let table: Vec<Vec<Option<f64>>> = cells.iter().map(|(a, b)| vec![Some(f64::from(u8::from(*a))), Some(f64::from(u8::from(*b)))]).collect();
        let count = |x: bool, y: bool| cells.iter().filter(|c| **c == (x, y)).count() as u64;
        let (percent, kappa) = binary_agreement(count(true, true), count(true, false), count(false, true), count(false, false));
        prop_assert!(close(&[percent.value()], &[percent_agreement(&table, &[0.0, 1.0]).value()]));
        prop_assert!(close(&[kappa.value()], &[cohen_kappa(&table, &[0.0, 1.0], Weights::Unweighted).value()]));
    }
}

/// Gwet's (2014) 4-raters example as the irrCAC package ships it (`cac_raw4raters`, categories
/// 1–5), with the values irrCAC 0.4.4 computes (`CAC(…, weights=…).gwet()`, 15 digits): AC1
/// 0.775444068126995, AC2 linear 0.858739136432611, quadratic 0.914000723551605 — Gwet's
/// handbook prints 0.7754 and irrCAC's README 0.8587 and 0.9140.
#[test]
fn gwet_ac2_reproduces_irrcac_on_gwets_example() {
    let n = None;
    let data: Vec<Vec<Option<f64>>> = [
        [Some(1.0), Some(1.0), n, Some(1.0)],
        [Some(2.0), Some(2.0), Some(3.0), Some(2.0)],
        [Some(3.0), Some(3.0), Some(3.0), Some(3.0)],
        [Some(3.0), Some(3.0), Some(3.0), Some(3.0)],
        [Some(2.0), Some(2.0), Some(2.0), Some(2.0)],
        [Some(1.0), Some(2.0), Some(3.0), Some(4.0)],
        [Some(4.0), Some(4.0), Some(4.0), Some(4.0)],
        [Some(1.0), Some(1.0), Some(2.0), Some(1.0)],
        [Some(2.0), Some(2.0), Some(2.0), Some(2.0)],
        [n, Some(5.0), Some(5.0), Some(5.0)],
        [n, n, Some(1.0), Some(1.0)],
        [n, n, Some(3.0), n],
    ]
    .iter()
    .map(|u| u.to_vec())
    .collect();
    let categories = [1.0, 2.0, 3.0, 4.0, 5.0];
    for (weights, expected) in [
        (Weights::Unweighted, 0.775444068126995),
        (Weights::Linear, 0.858739136432611),
        (Weights::Quadratic, 0.914000723551605),
    ] {
        let value = gwet_ac2(&data, &categories, weights).value().unwrap();
        assert!((value - expected).abs() < 1e-12, "{weights:?}: {value}");
    }
    assert_eq!(
        gwet_ac1(&data, &categories),
        gwet_ac2(&data, &categories, Weights::Unweighted)
    );
    assert_eq!(
        Statistic::Ac1.title(Level::Nominal, Weights::Quadratic),
        "Gwet's AC2 (quadratic weights)"
    );
}
