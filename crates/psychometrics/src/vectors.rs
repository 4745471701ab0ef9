//! Every case of `shared/psychometrics-vectors/public.json` (values from pingouin and numpy),
//! read at test time.

use serde_json::Value;

use crate::{cronbach_alpha, icc, reliable_change, score};

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/psychometrics-vectors/public.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("the vectors are JSON");
    file["cases"].as_array().expect("a list of cases").clone()
}

fn matrix(v: &Value) -> Vec<Vec<Option<f64>>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("a row")
                .iter()
                .map(Value::as_f64)
                .collect()
        })
        .collect()
}

fn close(id: &str, what: &str, got: f64, want: &Value, tolerance: f64) {
    let want = want
        .as_f64()
        .unwrap_or_else(|| panic!("{id}: {what} is not a number"));
    assert!(
        (got - want).abs() <= tolerance,
        "{id}: {what} is {got}, expected {want} (± {tolerance})"
    );
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

#[test]
fn every_public_vector_passes() {
    let cases = cases();
    assert_eq!(cases.len(), 40, "the README promises 40 cases");
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for case in &cases {
        let id = case["id"].as_str().expect("an id");
        let kind = case["kind"].as_str().expect("a kind");
        *seen.entry(kind.to_string()).or_default() += 1;
        let want = &case["expected"];
        let tol = f(&case["tolerance"]);
        match kind {
            "cronbach_alpha" => {
                assert_eq!(case["missing"], "listwise", "{id}");
                let got = cronbach_alpha(&matrix(&case["data"])).unwrap();
                close(id, "alpha", got.alpha, &want["alpha"], tol);
                let ci_tol = f(&case["ci_tolerance"]);
                close(id, "ci95 low", got.ci95[0], &want["ci95"][0], ci_tol);
                close(id, "ci95 high", got.ci95[1], &want["ci95"][1], ci_tol);
                assert_eq!(
                    Some(got.n_complete as u64),
                    want["n_complete"].as_u64(),
                    "{id}"
                );
                let items = want["items"].as_array().expect("items");
                assert_eq!(got.items.len(), items.len(), "{id}");
                for (g, w) in got.items.iter().zip(items) {
                    assert_eq!(Some(g.item as u64), w["item"].as_u64(), "{id}");
                    let r = g.corrected_item_total.expect("items vary");
                    close(
                        id,
                        "corrected item-total r",
                        r,
                        &w["corrected_item_total"],
                        tol,
                    );
                    match (g.alpha_if_deleted, &w["alpha_if_deleted"]) {
                        (None, Value::Null) => {}
                        (Some(a), w) => close(id, "alpha if deleted", a, w, tol),
                        (None, w) => panic!("{id}: alpha if deleted missing, expected {w}"),
                    }
                }
            }
            "icc" => {
                let got = icc(&matrix(&case["data"])).unwrap();
                for (name, value) in [
                    ("ICC1", got.ICC1),
                    ("ICC2", got.ICC2),
                    ("ICC3", got.ICC3),
                    ("ICC1k", got.ICC1k),
                    ("ICC2k", got.ICC2k),
                    ("ICC3k", got.ICC3k),
                ] {
                    close(id, name, value, &want[name], tol);
                }
            }
            "rci" => {
                let got = reliable_change(
                    f(&case["pre"]),
                    f(&case["post"]),
                    f(&case["sd_pre"]),
                    f(&case["reliability"]),
                )
                .unwrap();
                close(id, "rci", got.rci, &want["rci"], tol);
                assert_eq!(Some(got.reliable), want["reliable"].as_bool(), "{id}");
                assert_eq!(
                    serde_json::to_value(got.direction).unwrap(),
                    want["direction"],
                    "{id}"
                );
            }
            "reverse_score" => {
                let scale = &case["scale"];
                let reverse: Vec<usize> = case["reverse_items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|v| v.as_u64().expect("an item number") as usize)
                    .collect();
                let got =
                    score(&matrix(&case["data"]), f(&scale[0]), f(&scale[1]), &reverse).unwrap();
                for (what, got, want) in [
                    ("total", &got.totals, &want["totals"]),
                    ("mean", &got.means, &want["means"]),
                ] {
                    let want = want.as_array().expect("a list");
                    assert_eq!(got.len(), want.len(), "{id}");
                    for (g, w) in got.iter().zip(want) {
                        close(id, what, g.expect("complete rows"), w, tol);
                    }
                }
            }
            other => panic!("{id}: unknown kind {other}"),
        }
    }
    assert_eq!(seen.len(), 4, "every kind is covered: {seen:?}");
}
