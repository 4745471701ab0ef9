//! The document view in a real browser (headless Chromium driven through chromedriver's W3C
//! WebDriver protocol): logging in through the form, coding a selection of accented text with
//! the code picker, the stored coding being exactly the selected text, its margin bracket, live
//! updates in a second coder's browser, and blind mode hiding one coder's work from another.
//! And the agreement page: comparing two coders, the coefficient shown being the API's, the
//! disagreement viewer accepting one coder's version into the consensus coder and recording a
//! discussion memo on the passage, an auditor reading it without the means to change it, and a
//! coder refused it in blind mode.
//!
//! Needs `chromium` and `chromedriver` (at /usr/bin, or where `CHROME_BIN` and `CHROMEDRIVER`
//! say); without them the test fails rather than passing unseen. Screenshots of every step are
//! kept in `target/browser-screenshots/`, each test's under a prefix of its own (the tests run
//! in parallel, and each clears only its own).

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

/// How long any one condition may take to come true in the browser.
const WAIT: Duration = Duration::from_secs(15);
/// The source coded in the test: Spanish names with accents and curly apostrophes.
const SOURCE: &str = "p02-fernandez.txt";
/// The W3C name of an element reference in WebDriver JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn screenshot_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/browser-screenshots"
    ))
}

/// Makes the screenshot folder and removes the screenshots of an earlier run of the test whose
/// files start with `prefix`, leaving those of the other tests (which may be running now).
fn fresh_screenshots(prefix: &str) -> PathBuf {
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).unwrap();
    for entry in std::fs::read_dir(&shots).unwrap().map_while(Result::ok) {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    shots
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coding_in_the_browser_is_exact_live_and_blind() {
    in_browsers("coding-", |_| {}, scenario).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_exchanges_refi_qda_files_in_the_browser() {
    in_browsers("exchange-", |_| {}, exchange_scenario).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_plays_with_its_transcript() {
    in_browsers("media-", link_a_recording, media_scenario).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_codebook_and_queries_pages_state_how_they_count() {
    in_browsers("counts-", |_| {}, counts_scenario).await;
}

/// Starts the demo server and chromedriver and runs `scenario` against them, its screenshots
/// named with `prefix`. The scenario runs as its own task so that a failing step still lets us
/// take a screenshot of every browser and close them: Chrome outlives a killed chromedriver
/// otherwise.
async fn in_browsers<F, Run>(prefix: &'static str, prepare: fn(&Path), scenario: F)
where
    F: FnOnce(Driver, String, HashMap<String, String>, Instant) -> Run,
    Run: Future<Output = ()> + Send + 'static,
{
    let started = Instant::now();
    let shots = fresh_screenshots(prefix);
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let demo = Demo::start(dir.path());
    let (_chromedriver, driver) = Driver::start(prefix).await;
    eprintln!("[{:?}] server and chromedriver ready", started.elapsed());
    let outcome = tokio::spawn(scenario(
        driver.clone(),
        demo.origin.clone(),
        demo.passwords.clone(),
        started,
    ))
    .await;
    driver.quit_all(outcome.is_err()).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    eprintln!(
        "[{:?}] done; screenshots in {}",
        started.elapsed(),
        shots.display()
    );
}

async fn scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let step = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let password = |name: &str| {
        passwords
            .get(name)
            .unwrap_or_else(|| panic!("no password for {name}"))
            .clone()
    };

    // ---- 1. maria logs in through the form and opens an accented transcript ----------------
    let a = driver.browser("maria").await;
    log_in(&a, &origin, "maria", &password("maria")).await;
    a.screenshot("01-dashboard.png").await;
    let source_id = open_source(&a, SOURCE).await;
    a.screenshot("02-document.png").await;
    step("maria sees the document");

    // ---- 2. she selects a passage across two text segments and codes it "Hope" ------------
    let before: BTreeSet<String> = ids(&codings(&a, &source_id).await);
    // From inside an uncoded stretch to inside a passage both coders coded, so the selection
    // starts and ends in different `span.seg`s (and the end sits within nested marks).
    let picked = a
        .eval(SELECT_JS, json!(["Lucía, it’s Dr Osei", "Maybe ten"]))
        .await;
    let selected = picked["text"].as_str().unwrap().to_string();
    assert!(
        selected.contains('í') && selected.contains('’'),
        "not the accented passage: {selected:?}"
    );
    assert_ne!(
        picked["startSeg"], picked["endSeg"],
        "the selection should span segments: {picked}"
    );
    a.wait_until(
        "the code picker to open with the focus in it",
        "return document.activeElement && document.activeElement.id === 'code-picker-input'",
        json!([]),
    )
    .await;
    let input = a.find("#code-picker-input").await;
    a.type_into(&input, "Hope").await;
    a.wait_until(
        "the picker to offer Hope first",
        "const o = document.querySelector('.picker-option[aria-selected=\"true\"] .option-path');
         return o && o.textContent === 'Hope'",
        json!([]),
    )
    .await;
    a.screenshot("03-picker.png").await;
    a.type_into(&input, "\u{E007}").await; // Enter
    a.wait_until("the coding to be saved", PICKER_DONE_JS, json!([]))
        .await;
    let after = codings(&a, &source_id).await;
    let new: Vec<&Value> = after
        .iter()
        .filter(|c| !before.contains(c["id"].as_str().unwrap()))
        .collect();
    assert_eq!(new.len(), 1, "expected one new coding, got {new:?}");
    let hope = new[0].clone();
    let hope_id = hope["id"].as_str().unwrap().to_string();
    assert_eq!(hope["coder"], "maria");
    assert_eq!(hope["path"], "Hope");
    step("maria coded the selection");

    // ---- 3. after a reload, what is stored and shown is exactly what she selected ----------
    a.refresh().await;
    let shown = a
        .wait_until(
            "the new coding's highlight and bracket",
            SHOWN_JS,
            json!([hope_id]),
        )
        .await;
    assert_eq!(
        shown["text"].as_str().unwrap(),
        selected,
        "the highlight differs from the selection"
    );
    assert_eq!(
        hope["quote"].as_str().unwrap(),
        selected,
        "the stored quote differs from the selection"
    );
    let bracket = shown["bracket"].as_str().unwrap();
    assert!(
        bracket.contains("Hope"),
        "the margin bracket lacks the code name: {bracket:?}"
    );
    a.screenshot("04-coded.png").await;
    step("the coding survives a reload, exactly");

    // ---- 4. sam, on the same document, sees maria's next coding without reloading ----------
    let b = driver.browser("sam").await;
    // The page's live stream must be subscribed before maria codes, or the event is missed;
    // the server sends a `ready` event once it is, which this hook counts.
    b.on_new_document(SSE_READY_HOOK).await;
    log_in(&b, &origin, "sam", &password("sam")).await;
    open_source(&b, SOURCE).await;
    b.wait_until(
        "the live stream to be ready",
        "return window.__sseReady > 0",
        json!([]),
    )
    .await;
    let phrase = "Ms Fernández is my mother";
    let live = a
        .eval_async(
            &format!(
                "{API_JS}
                 const [source, code, phrase] = args;
                 const text = (await api('GET', `/sources/${{source}}`)).text;
                 const at = text.indexOf(phrase);
                 if (at < 0) throw new Error(`no ${{phrase}} in the text`);
                 const start = Array.from(text.slice(0, at)).length; // code points, as the API counts
                 const end = start + Array.from(phrase).length;
                 const view = await api('POST', '/codings', {{ source, code, start, end, contrast: false, memo: null }});
                 return view.coding.id;"
            ),
            json!([source_id, hope["code"], phrase]),
        )
        .await;
    let live_id = live.as_str().unwrap().to_string();
    let seen = b
        .wait_until(
            "maria's new coding in sam's view",
            SHOWN_JS,
            json!([live_id]),
        )
        .await;
    assert_eq!(seen["text"], phrase);
    b.screenshot("05-live.png").await;
    step("sam saw maria's coding live");

    // ---- 5. blind mode: once paul makes the source blind, sam sees only sam's codings -----
    let visible = codings(&b, &source_id).await;
    let by = |coder: &str| -> BTreeSet<String> {
        ids(&visible
            .iter()
            .filter(|c| c["coder"] == coder)
            .cloned()
            .collect::<Vec<_>>())
    };
    let (marias, sams) = (by("maria"), by("sam"));
    assert!(
        marias.contains(&hope_id) && marias.contains(&live_id),
        "sam should see maria's codings before blind mode"
    );
    assert!(!sams.is_empty(), "sam has codings in the sample");
    // Paul logs in in maria's browser (his cookie replaces hers) and switches blind mode on.
    a.eval_async(
        &format!(
            "{API_JS}
             const [name, password, source] = args;
             const session = await api('POST', '/session', {{ name, password }}, null);
             await api('PUT', '/blind', {{ source, blind: true }}, session.csrf_token);
             return null;"
        ),
        json!(["paul", password("paul"), source_id]),
    )
    .await;
    b.refresh().await;
    b.wait_until(
        "sam's view in blind mode",
        "return document.querySelector('.badge-blind') && document.querySelector('.turn-text mark.coding')",
        json!([]),
    )
    .await;
    let blind = codings(&b, &source_id).await;
    assert!(
        blind.iter().all(|c| c["coder"] == "sam"),
        "sam still receives others' codings: {blind:?}"
    );
    assert_eq!(ids(&blind), sams, "sam's own codings should all remain");
    let marks = b
        .eval(
            "return [...document.querySelectorAll('mark.coding')].map(m => [m.dataset.codingId, m.dataset.coder])",
            json!([]),
        )
        .await;
    let marks: Vec<(String, String)> = serde_json::from_value(marks).unwrap();
    let mark_ids: BTreeSet<String> = marks.iter().map(|(id, _)| id.clone()).collect();
    assert!(
        marks.iter().all(|(_, coder)| coder == "sam"),
        "highlights of others remain: {marks:?}"
    );
    assert!(
        mark_ids.is_disjoint(&marias),
        "maria's highlights remain in sam's view"
    );
    assert_eq!(
        mark_ids, sams,
        "each of sam's codings should stay highlighted"
    );
    b.screenshot("06-blind.png").await;
    step("blind mode hides maria's codings from sam");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passage_is_attributed_with_the_keyboard_and_a_suggestion_confirmed() {
    in_browsers("attribution-", |_| {}, attribution_scenario).await;
}

/// maria selects a passage of Dr Osei's interview, presses A, types P03 and Enter: the passage
/// is attributed to patient P03, shown beside the text, and still there after a reload. Then she
/// confirms one suggested attribution with a click, and only that one is stored.
async fn attribution_scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let step = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let a = driver.browser("maria").await;
    log_in(&a, &origin, "maria", &passwords["maria"]).await;
    let source = open_source(&a, "c1-osei.txt").await;
    let before = attributions(&a, &source).await;

    a.eval(SELECT_JS, json!(["I listen first", "first.", false]))
        .await;
    let transcript = a.find(".transcript").await;
    a.type_into(&transcript, "a").await;
    a.wait_until(
        "the about… chooser with the focus in it",
        "return document.activeElement && document.activeElement.id === 'about-chooser-input'",
        json!([]),
    )
    .await;
    let input = a.find("#about-chooser-input").await;
    a.type_into(&input, "P03").await;
    a.wait_until(
        "the chooser to offer P03 first",
        "const o = document.querySelector('.about-chooser .picker-option[aria-selected=\"true\"] .option-path');
         return o && o.textContent === 'about P03'",
        json!([]),
    )
    .await;
    a.screenshot("01-chooser.png").await;
    a.type_into(&input, "\u{E007}").await; // Enter
    a.wait_until(
        "the chooser to close",
        "const alert = document.querySelector('#message.message-error');
         if (alert && alert.textContent) return { fail: alert.textContent };
         return document.querySelector('#about-chooser-input') === null",
        json!([]),
    )
    .await;
    let after = attributions(&a, &source).await;
    let new: Vec<&Value> = after.iter().filter(|v| !before.contains(v)).collect();
    assert_eq!(new.len(), 1, "expected one new attribution: {new:?}");
    assert_eq!(
        (&new[0]["about"], &new[0]["quote"], &new[0]["by"]),
        (&json!("P03"), &json!("I listen first."), &json!("maria"))
    );
    let id = new[0]["id"].as_str().unwrap().to_string();
    a.wait_until("the passage's bar beside it", ABOUT_BAR_JS, json!([id]))
        .await;
    a.screenshot("02-attributed.png").await;
    a.refresh().await;
    let label = a
        .wait_until(
            "the passage's bar beside it after a reload",
            ABOUT_BAR_JS,
            json!([id]),
        )
        .await;
    assert_eq!(label, "P03");
    step("the attribution is shown, and stays after a reload");

    // Suggestions: listed, and nothing attributed until a click on Confirm.
    // The panel is above the transcript, under the sticky toolbar once the page has scrolled.
    a.eval("window.scrollTo(0, 0)", json!([])).await;
    let summary = a.find("details.suggestions summary").await;
    a.click(&summary).await;
    let key = a
        .wait_until(
            "the suggestions",
            "const s = document.querySelector('.suggestion[data-key]');
             return s && s.dataset.key",
            json!([]),
        )
        .await;
    assert_eq!(
        attributions(&a, &source).await,
        after,
        "listing stores nothing"
    );
    a.screenshot("03-suggestions.png").await;
    let confirm = a
        .find(&format!(
            ".suggestion[data-key=\"{}\"] button.primary",
            key.as_str().unwrap().replace('"', "\\\"")
        ))
        .await;
    a.eval(
        "args[0].scrollIntoView({ block: 'center' })",
        json!([{ ELEMENT: confirm }]),
    )
    .await;
    a.click(&confirm).await;
    a.wait_until(
        "the confirmed suggestion to leave the list",
        "const alert = document.querySelector('#message.message-error');
         if (alert && alert.textContent) return { fail: alert.textContent };
         return ![...document.querySelectorAll('.suggestion')].some((s) => s.dataset.key === args[0])",
        json!([key]),
    )
    .await;
    let confirmed = attributions(&a, &source).await;
    assert_eq!(confirmed.len(), after.len() + 1, "exactly one more");
    let (_, span, about) = suggestion_key(key.as_str().unwrap());
    assert!(
        confirmed
            .iter()
            .any(|v| v["about"] == about && v["span"] == span && v["by"] == "maria"),
        "the confirmed turn is attributed: {confirmed:?}"
    );
    a.screenshot("04-confirmed.png").await;
    step("a suggestion is attributed once confirmed");
}

/// `SOURCE:START-END:LABEL` taken apart (a test's sources have no `:` in their names).
fn suggestion_key(key: &str) -> (String, Value, String) {
    let parts: Vec<&str> = key.split(':').collect();
    let (start, end) = parts[1].split_once('-').unwrap();
    let span = json!({"start": start.parse::<u64>().unwrap(), "end": end.parse::<u64>().unwrap()});
    (parts[0].to_string(), span, parts[2].to_string())
}

/// A source's attributions as the API gives them, flattened.
async fn attributions(b: &Browser, source: &str) -> Vec<Value> {
    let v = b
        .eval_async(
            &format!(
                "{API_JS}
                 return (await api('GET', `/sources/${{args[0]}}/attributions`)).map((v) => ({{
                   id: v.attribution.id, span: v.attribution.span, about: v.about, quote: v.quote, by: v.attribution.attributed_by,
                 }}));"
            ),
            json!([source]),
        )
        .await;
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agreement_page_compares_adjudicates_and_respects_roles() {
    in_browsers("agreement-", |_| {}, agreement_scenario).await;
}

async fn agreement_scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let step = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let password = |name: &str| {
        passwords
            .get(name)
            .unwrap_or_else(|| panic!("no password for {name}"))
            .clone()
    };

    // ---- 1. paul follows the nav link; maria and sam are chosen; he compares by characters -
    let p = driver.browser("paul").await;
    log_in(&p, &origin, "paul", &password("paul")).await;
    let link = p.find_by("link text", "Agreement").await;
    p.click(&link).await;
    let chosen = p
        .wait_until(
            "the agreement form with its coders",
            "if (location.pathname !== '/s/demo/agreement') return null;
             const boxes = [...document.querySelectorAll('main#agreement input[data-coder]')];
             return boxes.length ? boxes.map((b) => [b.value, b.checked]) : null",
            json!([]),
        )
        .await;
    let chosen: Vec<(String, bool)> = serde_json::from_value(chosen).unwrap();
    assert_eq!(
        chosen,
        [("maria".to_string(), true), ("sam".to_string(), true)],
        "the coders offered and checked"
    );
    let characters = p
        .find(".agreement-form select option[value=\"characters\"]")
        .await;
    p.click(&characters).await;
    p.screenshot("01-form.png").await;
    let compare = p.find(".agreement-form button[type=submit]").await;
    p.click(&compare).await;
    step("paul compares maria and sam");

    // ---- 2. both tables appear; the overall |uα is the API's ------------------------------
    let shown = p
        .wait_until("the coefficient tables", TABLES_JS, json!([]))
        .await;
    let api_overall = p
        .eval_async(
            &format!(
                "{API_JS}
                 const r = await api('GET', '/agreement?coders=maria,sam');
                 const m = r.overall.find((m) => m.name.includes('|uα'));
                 return {{ unit: r.unit, value: m.value, fixed: m.value.toFixed(3) }};"
            ),
            json!([]),
        )
        .await;
    assert_eq!(api_overall["unit"], "characters");
    assert_eq!(
        shown["overall"], api_overall["fixed"],
        "the page's overall |uα differs from the API's {api_overall}"
    );
    let value = api_overall["value"].as_f64().unwrap();
    assert!(value > 0.0 && value < 1.0, "|uα = {value}");
    assert!(
        shown["codes"].as_u64().unwrap() > 0,
        "no row in the per-code table"
    );
    assert!(
        shown["unit"].as_str().unwrap().contains("unit: characters"),
        "the report does not say its unit: {shown}"
    );
    p.eval(
        "document.querySelector('.agreement-results').scrollIntoView({ block: 'start' })",
        json!([]),
    )
    .await;
    p.screenshot("02-coefficients.png").await;
    step("the tables show the API's coefficients");

    // ---- 3. disagreements first; paul accepts sam's version of a boundary difference -----
    let cards = p
        .wait_until(
            "the disagreement viewer's passages",
            "const cards = [...document.querySelectorAll('.disagreements article.passage')];
             return cards.length ? cards.map((c) => ({ key: c.dataset.key, difference: c.dataset.difference,
               start: Number(c.dataset.start), end: Number(c.dataset.end) })) : null",
            json!([]),
        )
        .await;
    let cards = cards.as_array().unwrap().clone();
    assert_eq!(cards[0]["difference"], "missing", "disagreements first");
    let order: Vec<&str> = cards
        .iter()
        .map(|c| c["difference"].as_str().unwrap())
        .collect();
    assert!(
        order.is_sorted_by_key(|d| ["missing", "boundaries", "agreed"]
            .iter()
            .position(|x| x == d)),
        "passages out of order: {order:?}"
    );
    let card = cards
        .iter()
        .find(|c| c["difference"] == "boundaries")
        .expect("a passage whose stretches differ")
        .clone();
    let key = card["key"].as_str().unwrap().to_string();
    let in_card = |css: &str| format!("article.passage[data-key=\"{key}\"] {css}");
    let accept = p.find(&in_card("button[data-accept=\"sam\"]")).await;
    p.click(&accept).await;
    p.wait_until(
        "the accepted badge on the passage",
        "const alert = document.querySelector('#message.message-error');
         if (alert && alert.textContent) return { fail: alert.textContent };
         const card = document.querySelector(`article.passage[data-key=\"${CSS.escape(args[0])}\"]`);
         const badge = card && card.querySelector('[data-accepted=\"sam\"]');
         if (!badge) return null;
         card.scrollIntoView({ block: 'start' });
         return true",
        json!([key]),
    )
    .await;
    p.screenshot("03-accepted.png").await;
    let passage = passage_by_key(&p, &key).await;
    assert_eq!(passage["accepted"], "sam");
    let quotes = |codings: &Value| -> Vec<(String, String)> {
        let mut q: Vec<(String, String)> = codings
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["coding"]["coder"].as_str().unwrap().to_string(),
                    c["quote"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        q.sort();
        q
    };
    let sams = quotes(&passage["versions"][1]["codings"]);
    assert_eq!(passage["versions"][1]["coder"], "sam");
    assert!(!sams.is_empty(), "sam coded the passage");
    let consensus = quotes(&passage["consensus"]);
    assert_eq!(
        consensus,
        sams.iter()
            .map(|(_, q)| ("consensus".to_string(), q.clone()))
            .collect::<Vec<_>>(),
        "the consensus coder's codings are not exactly sam's"
    );
    step("paul accepted sam's version");

    // ---- 4. a discussion memo on the passage ----------------------------------------------
    let note = "We keep sam’s boundaries: the hope begins with the question.";
    let textarea = p.find(&in_card(".discussion textarea")).await;
    p.type_into(&textarea, note).await;
    let record = p.find(&in_card("button[data-discuss]")).await;
    p.click(&record).await;
    p.wait_until(
        "the discussion memo on the passage",
        "const alert = document.querySelector('#message.message-error');
         if (alert && alert.textContent) return { fail: alert.textContent };
         const card = document.querySelector(`article.passage[data-key=\"${CSS.escape(args[0])}\"]`);
         const memo = card && [...card.querySelectorAll('.discussion .memo-text')].find((m) => m.textContent === args[1]);
         if (!memo) return null;
         card.scrollIntoView({ block: 'start' });
         return true",
        json!([key, note]),
    )
    .await;
    p.screenshot("04-discussion.png").await;
    let memos = p
        .eval_async(
            &format!("{API_JS} return (await api('GET', '/memos')).filter((m) => m.memo.text === args[0]);"),
            json!([note]),
        )
        .await;
    let memos = memos.as_array().unwrap();
    assert_eq!(memos.len(), 1, "one discussion memo: {memos:?}");
    let memo = &memos[0]["memo"];
    assert_eq!(memo["author"], "paul");
    assert_eq!(memo["target"]["kind"], "source", "{memo}");
    assert_eq!(
        (&memo["passage"]["start"], &memo["passage"]["end"]),
        (&card["start"], &card["end"]),
        "the memo is not on the card's passage: {memo}"
    );
    step("paul recorded a discussion of the passage");

    // ---- 5. ada, an auditor, reads the page but cannot adjudicate -------------------------
    let a = driver.browser("ada").await;
    log_in(&a, &origin, "ada", &password("ada")).await;
    a.goto(&format!("{origin}/s/demo/agreement")).await;
    a.wait_until(
        "the agreement form for ada",
        "return document.querySelectorAll('main#agreement input[data-coder]:checked').length === 2",
        json!([]),
    )
    .await;
    let compare = a.find(".agreement-form button[type=submit]").await;
    a.click(&compare).await;
    a.wait_until("the coefficient tables", TABLES_JS, json!([]))
        .await;
    let seen = a
        .wait_until(
            "the passages, read only",
            "const card = document.querySelector(`article.passage[data-key=\"${CSS.escape(args[0])}\"]`);
             if (!card) return null;
             card.scrollIntoView({ block: 'start' });
             return {
               accept: document.querySelectorAll('button[data-accept]').length,
               textareas: document.querySelectorAll('.discussion textarea').length,
               record: document.querySelectorAll('button[data-discuss]').length,
               accepted: card.querySelector('[data-accepted]')?.dataset.accepted ?? null,
               discussion: [...card.querySelectorAll('.discussion .memo-text')].map((m) => m.textContent),
             }",
            json!([key]),
        )
        .await;
    assert_eq!(seen["accept"], 0, "an auditor is offered Accept: {seen}");
    assert_eq!(seen["textareas"], 0, "an auditor is offered a memo: {seen}");
    assert_eq!(seen["record"], 0, "{seen}");
    assert_eq!(seen["accepted"], "sam", "{seen}");
    assert_eq!(seen["discussion"], json!([note]), "{seen}");
    a.screenshot("05-auditor.png").await;
    step("ada reads the comparison without the means to change it");

    // ---- 6. in blind mode a coder may not compare ----------------------------------------
    let m = driver.browser("maria").await;
    log_in(&m, &origin, "maria", &password("maria")).await;
    p.eval_async(
        &format!("{API_JS} await api('PUT', '/blind', {{ blind: true }}); return null;"),
        json!([]),
    )
    .await;
    m.goto(&format!("{origin}/s/demo/agreement")).await;
    let refused = m
        .wait_until(
            "the blind-mode refusal",
            "const alert = document.querySelector('#message.message-error');
             return alert && alert.textContent ? {
               text: alert.textContent,
               tables: document.querySelectorAll('main#agreement table').length,
               form: document.querySelector('.agreement-form').getClientRects().length > 0,
             } : null",
            json!([]),
        )
        .await;
    let text = refused["text"].as_str().unwrap();
    assert!(
        text.contains("Not allowed") && text.contains("blind"),
        "not a clear blind-mode refusal: {text:?}"
    );
    assert_eq!(refused["tables"], 0, "maria sees a table: {refused}");
    assert_eq!(
        refused["form"], false,
        "maria is offered the form: {refused}"
    );
    m.screenshot("06-blind-refused.png").await;
    step("maria is refused the comparison in blind mode");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deidentify_page_previews_and_applies() {
    in_browsers("deidentify-", |_| {}, deidentify_scenario).await;
}

/// The owner adds a candidate to the mapping, previews, confirms the apply; the document's
/// codings then quote the pseudonym.
async fn deidentify_scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let step = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let p = driver.browser("paul").await;
    log_in(&p, &origin, "paul", &passwords["paul"]).await;
    let link = p.find_by("link text", "De-identify").await;
    p.click(&link).await;
    p.wait_until(
        "the candidates",
        "return document.querySelector('main#deidentify button[data-term=\"George\"]')",
        json!([]),
    )
    .await;
    let george = p.find("main#deidentify button[data-term=\"George\"]").await;
    p.click(&george).await;
    let pseudonym = p
        .eval(
            "return document.querySelector('.deidentify-mapping input[data-field=pseudonym]').value",
            json!([]),
        )
        .await;
    assert_eq!(pseudonym, "[Person 1]", "a candidate fills a row");
    let preview = p.find_by("xpath", "//button[text()='Preview']").await;
    p.click(&preview).await;
    let totals = p
        .wait_until(
            "the preview",
            "const t = document.querySelector('.deidentify-totals'); return t && t.textContent",
            json!([]),
        )
        .await;
    assert!(
        totals.as_str().unwrap().contains("19 replacements"),
        "{totals}"
    );
    p.screenshot("01-preview.png").await;
    step("the owner previews George → [Person 1]");
    p.eval("window.confirm = () => true; return true", json!([]))
        .await;
    let apply = p.find_by("xpath", "//button[text()='Apply…']").await;
    p.click(&apply).await;
    p.wait_until(
        "the apply",
        "return document.querySelector('.deidentify-applied')",
        json!([]),
    )
    .await;
    p.screenshot("02-applied.png").await;
    let quotes = p
        .eval_async(
            &format!(
                "{API_JS}
                 const sources = await api('GET', '/sources');
                 const s = sources.find((s) => s.name === 'p01-whitfield.txt');
                 return (await api('GET', `/sources/${{s.id}}/codings`)).map((v) => v.quote).join('\\n');"
            ),
            json!([]),
        )
        .await;
    let quotes = quotes.as_str().unwrap();
    assert!(
        quotes.contains("[Person 1]") && !quotes.contains("George"),
        "{quotes}"
    );
    step("applied: the codings quote the pseudonym");
}

/// The codebook writes contrast codings apart, as the API counts them; the Queries page offers
/// what interviews record, and its dyad table says its rule, has a column for the clinicians'
/// words about no particular dyad and a row of column totals.
async fn counts_scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let step = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let p = driver.browser("paul").await;
    log_in(&p, &origin, "paul", &passwords["paul"]).await;
    p.goto(&format!("{origin}/s/demo/codebook")).await;
    let shown = p
        .wait_until(
            "the codebook's counts",
            "const c = [...document.querySelectorAll('main#codebook .code-item')];
             return c.length > 0 && c.map((i) => [i.dataset.codeId, i.querySelector('.code-count').textContent]);",
            json!([]),
        )
        .await;
    let book = p
        .eval_async(
            &format!("{API_JS} return await api('GET', '/codebook');"),
            json!([]),
        )
        .await;
    let mut with_contrast = 0;
    for item in shown.as_array().unwrap() {
        let node = book
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["code"]["id"] == item[0])
            .expect("a code the API lists");
        let (codings, contrast) = (&node["codings"], node["contrast"].as_u64().unwrap());
        let expected = match contrast {
            0 => codings.to_string(),
            n => {
                with_contrast += 1;
                format!("{codings} (+{n} contrast)")
            }
        };
        assert_eq!(item[1], expected.as_str(), "{}", node["path"]);
    }
    assert!(with_contrast > 0, "the sample has contrast codings");
    p.screenshot("01-codebook.png").await;
    step("the codebook counts contrast apart");

    p.goto(&format!("{origin}/s/demo/query")).await;
    p.wait_until(
        "the interviews' groupings",
        "return document.querySelector('main#query option[value=\"interview:others_present\"]')",
        json!([]),
    )
    .await;
    p.eval(
        "document.querySelector('main#query section[data-section=matrix] select').value = 'dyad'; return true",
        json!([]),
    )
    .await;
    let show = p
        .find("main#query section[data-section=matrix] button[type=submit]")
        .await;
    p.click(&show).await;
    let rule = p
        .wait_until(
            "the dyad table's rule",
            "const r = document.querySelector('.matrix-rule'); return r && r.textContent",
            json!([]),
        )
        .await;
    assert!(rule.as_str().unwrap().contains("counts for none"), "{rule}");
    let table = p
        .eval(
            "return {
               heads: [...document.querySelectorAll('.matrix-table thead th')].map((t) => t.textContent),
               totals: document.querySelectorAll('.matrix-table tfoot tr.matrix-totals td.number').length,
             };",
            json!([]),
        )
        .await;
    let heads: Vec<&str> = table["heads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(heads.contains(&"(about no particular dyad)"), "{heads:?}");
    assert_eq!(
        table["totals"].as_u64().unwrap() as usize,
        heads.len() - 3,
        "a total under every group's column: {heads:?}"
    );
    p.screenshot("02-dyads.png").await;
    step("the dyad table says its rule");
}

/// One passage of the maria–sam comparison as the API gives it, found by the viewer's key.
async fn passage_by_key(b: &Browser, key: &str) -> Value {
    b.eval_async(
        &format!(
            "{API_JS}
             const d = await api('GET', '/disagreements?coders=maria,sam');
             const p = d.passages.find((p) => `${{p.source}}:${{p.code}}:${{p.span.start}}:${{p.span.end}}` === args[0]);
             if (!p) throw new Error(`no passage ${{args[0]}}`);
             return p;"
        ),
        json!([key]),
    )
    .await
}

async fn exchange_scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let p = driver.browser("paul").await;
    log_in(&p, &origin, "paul", &passwords["paul"]).await;
    let link = p.find_by("link text", "Exchange").await;
    p.click(&link).await;
    // The download link gives the study as a zip.
    let download = p
        .wait_until(
            "the export link",
            "const a = [...document.querySelectorAll('main#exchange a.button')].find((a) => a.href.endsWith('project.qdpx'));
             return a ? a.getAttribute('href') : null",
            json!([]),
        )
        .await;
    let zip = p
        .eval_async(
            "const r = await fetch(args[0], { credentials: 'same-origin' });
             const bytes = new Uint8Array(await r.arrayBuffer());
             return [r.status, String.fromCharCode(bytes[0], bytes[1]), bytes.length];",
            json!([download]),
        )
        .await;
    assert_eq!(zip[0], 200, "{zip}");
    assert_eq!(zip[1], "PK", "a zip: {zip}");
    // Another tool's codebook, chosen in the file input and merged.
    // chromedriver wants a canonical path.
    let taguette = std::fs::canonicalize(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/refi-qda/samples/taguette-1.4.1_codebook.qdc"
    ))
    .unwrap();
    let input = p
        .find("main#exchange input[type=file][accept='.qdc']")
        .await;
    p.type_into(&input, taguette.to_str().unwrap()).await;
    let merge = p
        .find_by("xpath", "//button[text()='Merge the codebook']")
        .await;
    p.click(&merge).await;
    let shown = p
        .wait_until(
            "the merge's result",
            "const alert = document.querySelector('#message.message-error');
             if (alert && alert.textContent) return { fail: alert.textContent };
             const r = document.querySelector('.exchange-result');
             return r && !r.hidden ? r.textContent : null",
            json!([]),
        )
        .await;
    let shown = shown.as_str().unwrap();
    assert!(shown.contains("3 new codes"), "{shown}");
    assert!(
        shown.contains("Sets"),
        "Taguette's empty <Sets/> is noted: {shown}"
    );
    p.screenshot("01-merged.png").await;
    let codebook = p
        .eval_async(
            &format!("{API_JS} return (await api('GET', '/codebook')).map((n) => n.path);"),
            json!([]),
        )
        .await;
    let paths: Vec<String> = serde_json::from_value(codebook).unwrap();
    assert!(
        paths.iter().filter(|p| !p.contains('/')).count() >= 3,
        "{paths:?}"
    );
    eprintln!(
        "[{:?}] the owner exported and merged a codebook",
        started.elapsed()
    );
}

/// The source whose turns carry times (`[00:00:04] INTERVIEWER: …`).
const TIMED: &str = "c2-ruiz.txt";

/// Writes the demo study before it is served and links a recording to the timed interview:
/// 13 minutes of 8 kHz silence, as long as the interview.
fn link_a_recording(dir: &Path) {
    let between = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_between"))
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
    };
    between(&["demo", "--no-serve", "--out", "demo.between"]);
    let seconds: u32 = 13 * 60;
    let data = 8000 * seconds;
    let mut wav = Vec::with_capacity(44 + data as usize);
    for part in [
        &b"RIFF"[..],
        &(36 + data).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(),
        &1u16.to_le_bytes(),
        &8000u32.to_le_bytes(),
        &8000u32.to_le_bytes(),
        &1u16.to_le_bytes(),
        &8u16.to_le_bytes(),
        b"data",
        &data.to_le_bytes(),
    ] {
        wav.extend_from_slice(part);
    }
    wav.resize(44 + data as usize, 128);
    std::fs::write(dir.join("ruiz.wav"), wav).unwrap();
    between(&["media", "attach", "demo.between", TIMED, "ruiz.wav"]);
}

async fn media_scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let step = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let m = driver.browser("maria").await;
    log_in(&m, &origin, "maria", &passwords["maria"]).await;
    let source_id = open_source(&m, TIMED).await;
    // The player has read the file's header through the server (a range request).
    let duration = m
        .wait_until(
            "the recording's length",
            "const p = document.querySelector('.media-bar audio.player');
             return p && p.readyState >= 1 && isFinite(p.duration) ? p.duration : null",
            json!([]),
        )
        .await;
    assert!(
        (duration.as_f64().unwrap() - 780.0).abs() < 1.0,
        "{duration}"
    );
    m.screenshot("01-player.png").await;
    step("the recording is loaded");

    // Clicking a turn's time seeks there and marks that turn.
    let seek = m
        .find_by(
            "css selector",
            "button.ts.seek[aria-label='Play from 00:00:14']",
        )
        .await;
    m.click(&seek).await;
    let current = m
        .wait_until(
            "the turn at 00:00:14 to be current",
            "const p = document.querySelector('audio.player');
             const t = document.querySelector('.turn.turn-current');
             return t && Math.abs(p.currentTime - 14) < 0.01
               ? { text: t.querySelector('.turn-text').textContent, seek: t.querySelector('.ts').textContent }
               : null",
            json!([]),
        )
        .await;
    assert_eq!(current["seek"], "00:00:14");
    assert!(
        current["text"]
            .as_str()
            .unwrap()
            .starts_with("Let's start there, then."),
        "{current}"
    );
    // Playback (here: the position moving on) marks the turn being heard.
    let heard = m
        .eval_async(
            "const p = document.querySelector('audio.player');
             const seeked = new Promise((r) => p.addEventListener('seeked', r, { once: true }));
             p.currentTime = 25;
             await seeked;
             const t = document.querySelector('.turn.turn-current');
             return t ? t.querySelector('.ts').textContent : null;",
            json!([]),
        )
        .await;
    assert_eq!(
        heard, "00:00:19",
        "the turn that started at 0:19 is still being heard at 0:25"
    );
    m.screenshot("02-current-turn.png").await;
    step("seeking marks the current turn");

    // The current turn is coded in one step.
    let before: BTreeSet<String> = ids(&codings(&m, &source_id).await);
    let code_turn = m.find("button.code-turn").await;
    m.click(&code_turn).await;
    let input = m.find("#code-picker-input").await;
    m.type_into(&input, "Hope").await;
    m.wait_until(
        "the picker to offer Hope first",
        "const o = document.querySelector('.picker-option[aria-selected=\"true\"] .option-path');
         return o && o.textContent === 'Hope'",
        json!([]),
    )
    .await;
    m.type_into(&input, "\u{E007}").await; // Enter
    m.wait_until("the coding to be saved", PICKER_DONE_JS, json!([]))
        .await;
    let after = codings(&m, &source_id).await;
    let new: Vec<&Value> = after
        .iter()
        .filter(|c| !before.contains(c["id"].as_str().unwrap()))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    let turn_text = m
        .eval(
            "return document.querySelector('.turn.turn-current .turn-text').textContent",
            json!([]),
        )
        .await;
    assert_eq!(
        new[0]["quote"], turn_text,
        "the coding is the whole current turn"
    );
    assert!(
        new[0]["quote"]
            .as_str()
            .unwrap()
            .starts_with("So, Eastgate")
    );
    step("the current turn was coded");

    // Marking the transcript as checked against its recording.
    let check = m.find(".verification button").await;
    m.click(&check).await;
    let line = m
        .wait_until(
            "the check to be recorded",
            "const v = document.querySelector('.verification[data-verified=\"yes\"]');
             return v ? v.textContent : null",
            json!([]),
        )
        .await;
    assert!(
        line.as_str()
            .unwrap()
            .contains("Checked against the recording by maria"),
        "{line}"
    );
    m.screenshot("03-checked.png").await;
    step("the transcript is marked as checked");
}

/// Logs in through the HTML form and waits for the dashboard.
async fn log_in(b: &Browser, origin: &str, name: &str, password: &str) {
    b.goto(&format!("{origin}/s/demo/login")).await;
    let field = b.find("input[name=name]").await;
    b.type_into(&field, name).await;
    let field = b.find("input[name=password]").await;
    b.type_into(&field, password).await;
    let submit = b.find("form button[type=submit]").await;
    b.click(&submit).await;
    b.wait_until(
        "the dashboard after logging in",
        "return location.pathname === '/s/demo/' && document.body.dataset.account === args[0]
            && document.querySelector('a[href*=\"/sources/\"]') !== null",
        json!([name]),
    )
    .await;
}

/// Follows the dashboard's link to a source; returns the source's id once the transcript, its
/// highlights and their brackets are drawn.
async fn open_source(b: &Browser, name: &str) -> String {
    let link = b.find_by("link text", name).await;
    let href = b
        .eval(
            "return args[0].getAttribute('href')",
            json!([{ ELEMENT: link }]),
        )
        .await;
    let id = href
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    b.click(&link).await;
    b.wait_until(
        "the transcript with its highlights",
        "return document.querySelector('main#document .turn-text mark.coding')
            && document.querySelector('.margin .bracket')",
        json!([]),
    )
    .await;
    id
}

/// The codings of a source the page's account may see, as the API gives them, flattened.
async fn codings(b: &Browser, source: &str) -> Vec<Value> {
    let v = b
        .eval_async(
            &format!(
                "{API_JS}
                 return (await api('GET', `/sources/${{args[0]}}/codings`)).map((v) => ({{
                   id: v.coding.id, coder: v.coding.coder, code: v.coding.code, path: v.code_path, quote: v.quote,
                 }}));"
            ),
            json!([source]),
        )
        .await;
    serde_json::from_value(v).unwrap()
}

fn ids(codings: &[Value]) -> BTreeSet<String> {
    codings
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

// ---- in-page scripts ---------------------------------------------------------------------

/// Calls the study's API with the page's cookie; `csrf` defaults to the page's token (`null`
/// sends none, as for logging in).
const API_JS: &str = "
const api = async (method, path, body, csrf) => {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = csrf === undefined ? document.body.dataset.csrf : csrf;
  if (method !== 'GET' && token !== null) headers['X-CSRF-Token'] = token;
  const r = await fetch(`/api/v1/studies/${document.body.dataset.study}${path}`, {
    method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} answered ${r.status}: ${text}`);
  return text ? JSON.parse(text) : null;
};";

/// Selects, as a user's drag would, the text of one turn from the start of `args[0]` to the
/// end of `args[1]`, and ends it with the mouseup the page listens for (unless `args[2]` is
/// `false`: a selection made with the keyboard).
const SELECT_JS: &str = "
const [from, to, dragged] = args;
const turn = [...document.querySelectorAll('.turn-text')].find((t) => {
  const i = t.textContent.indexOf(from);
  return i >= 0 && t.textContent.indexOf(to, i) > i;
});
if (!turn) throw new Error(`no turn holds ${from} … ${to}`);
const at = turn.textContent.indexOf(from);
const until = turn.textContent.indexOf(to, at) + to.length;
// A UTF-16 index into the turn's text as a DOM point in one of its text nodes.
const point = (index, isEnd) => {
  const walk = document.createTreeWalker(turn, NodeFilter.SHOW_TEXT);
  let seen = 0;
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (isEnd ? index <= seen + n.data.length : index < seen + n.data.length) return [n, index - seen];
    seen += n.data.length;
  }
  throw new Error(`index ${index} is outside the turn`);
};
const [startNode, startOffset] = point(at, false);
const [endNode, endOffset] = point(until, true);
startNode.parentElement.scrollIntoView({ block: 'center' });
const range = document.createRange();
range.setStart(startNode, startOffset);
range.setEnd(endNode, endOffset);
const selection = window.getSelection();
selection.removeAllRanges();
selection.addRange(range);
if (dragged !== false) endNode.parentElement.dispatchEvent(new MouseEvent('mouseup', { bubbles: true, view: window }));
const segOf = (n) => n.parentElement.closest('span.seg').dataset.start;
return { text: range.toString(), startSeg: segOf(startNode), endSeg: segOf(endNode) };";

/// Done once the picker has closed after applying; fails at once on an error alert.
const PICKER_DONE_JS: &str = "
const alert = document.querySelector('#message.message-error');
if (alert) return { fail: alert.textContent };
return document.querySelector('#code-picker-input') === null";

/// The joined text of a coding's highlights and its bracket's text, once both are drawn;
/// scrolls the highlight into view for the screenshot.
const SHOWN_JS: &str = "
const id = CSS.escape(args[0]);
const marks = [...document.querySelectorAll(`mark.coding[data-coding-id=\"${id}\"]`)];
const bracket = document.querySelector(`.bracket[data-coding-id=\"${id}\"]`);
if (!marks.length || !bracket) return null;
marks[0].scrollIntoView({ block: 'center' });
return { text: marks.map((m) => m.textContent).join(''), bracket: bracket.textContent };";

/// An attribution's label, once its bar is drawn level with its passage (within a line; the
/// bars are laid out again when the text reflows); scrolls it into view for the screenshot.
const ABOUT_BAR_JS: &str = "
const bar = document.querySelector(`.about-bar[data-attribution-id=\"${CSS.escape(args[0])}\"]`);
const words = [...document.querySelectorAll('.turn-text span.seg')].find((t) => t.textContent.startsWith('I listen first.'));
if (!bar || !words) return null;
bar.scrollIntoView({ block: 'center' });
const level = Math.abs(bar.getBoundingClientRect().top - words.getBoundingClientRect().top) < 30;
return level && bar.textContent;";

/// Once the overall and per-code tables are drawn: the overall |uα as shown, the number of
/// per-code rows and the report's line on what was compared; fails at once on an error alert.
const TABLES_JS: &str = "
const alert = document.querySelector('#message.message-error');
if (alert && alert.textContent) return { fail: alert.textContent };
const rows = [...document.querySelectorAll('table.agreement-overall tbody tr')];
const codes = document.querySelectorAll('table.agreement-table tbody tr').length;
if (!rows.length || !codes) return null;
const row = rows.find((r) => r.querySelector('th').textContent.includes('|uα'));
if (!row) return { fail: `no |uα row among ${rows.map((r) => r.textContent)}` };
const about = document.querySelector('.agreement-results p.meta');
return { overall: row.querySelector('td').textContent, codes, unit: about ? about.textContent : '' };";

/// Counts the `ready` events of every EventSource the page opens; installed through the
/// DevTools protocol so that it runs before the page's own scripts.
const SSE_READY_HOOK: &str = "
window.__sseReady = 0;
const Native = window.EventSource;
window.EventSource = class extends Native {
  constructor(...a) {
    super(...a);
    this.addEventListener('ready', () => { window.__sseReady += 1; });
  }
};";

// ---- the demo server ---------------------------------------------------------------------

/// A child process that is killed when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `between demo` serving the fictional sample study.
struct Demo {
    _process: Reaped,
    origin: String,
    passwords: HashMap<String, String>,
}

impl Demo {
    fn start(dir: &Path) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_between"))
            .arg("demo")
            .arg("--out")
            .arg(dir.join("demo.between"))
            .args(["--bind", "127.0.0.1:0"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the between binary runs");
        let stdout = child.stdout.take().unwrap();
        let process = Reaped(child);
        let (tx, rx) = mpsc::channel();
        // Keeps reading to the end, so that the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let (mut origin, mut passwords, mut seen) = (None, HashMap::new(), Vec::new());
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(e) => panic!("between demo did not start ({e:?}); its output: {seen:#?}"),
            };
            // `serving demo at http://127.0.0.1:PORT/s/demo/`
            if let Some(url) = line.strip_prefix("serving demo at ") {
                origin = Some(url.trim().trim_end_matches("/s/demo/").to_string());
            }
            // `  maria  (coder) password: XXXX`
            if let Some((who, pw)) = line.split_once(" password: ") {
                let name = who.split_whitespace().next().unwrap_or_default();
                passwords.insert(name.to_string(), pw.trim().to_string());
            }
            if line.starts_with("press Ctrl-C") {
                break;
            }
            seen.push(line);
        }
        let origin = origin.unwrap_or_else(|| panic!("no `serving` line in {seen:#?}"));
        Demo {
            _process: process,
            origin,
            passwords,
        }
    }
}

// ---- a small WebDriver client ------------------------------------------------------------

fn tool(env: &str, default: &str) -> PathBuf {
    let path = PathBuf::from(std::env::var_os(env).unwrap_or_else(|| default.into()));
    assert!(
        path.exists(),
        "{} is missing: the browser test needs Chromium and chromedriver (install them, e.g. \
         `apt-get install chromium chromium-driver`, or set {env} to the program)",
        path.display()
    );
    path
}

/// chromedriver, and the browser sessions opened through it (closed by [`Driver::quit_all`]).
#[derive(Clone)]
struct Driver {
    http: reqwest::Client,
    base: String,
    chromium: PathBuf,
    /// Starts the name of every screenshot taken through this driver's browsers.
    shots: &'static str,
    sessions: Arc<Mutex<Vec<(String, tempfile::TempDir)>>>,
}

impl Driver {
    async fn start(shots: &'static str) -> (Reaped, Driver) {
        let chromium = tool("CHROME_BIN", "/usr/bin/chromium");
        let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut process = Reaped(
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display())),
        );
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..150 {
            if let Some(status) = process.0.try_wait().unwrap() {
                panic!("chromedriver exited at start ({status})");
            }
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == true
            {
                let sessions = Arc::default();
                return (
                    process,
                    Driver {
                        http,
                        base,
                        chromium,
                        shots,
                        sessions,
                    },
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver at {base} was not ready within 15 s");
    }

    /// A new headless browser with a profile of its own (so its own cookies).
    async fn browser(&self, who: &'static str) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,900",
        ]
        .map(String::from)
        .into_iter()
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": self.chromium, "args": args },
            "timeouts": { "script": WAIT.as_millis() as u64, "pageLoad": 30_000, "implicit": 0 },
        }}});
        let value = request(
            &self.http,
            Method::POST,
            &format!("{}/session", self.base),
            Some(caps),
        )
        .await
        .unwrap_or_else(|e| panic!("no browser session for {who}: {e}"));
        let id = value["sessionId"].as_str().unwrap();
        let url = format!("{}/session/{id}", self.base);
        self.sessions.lock().unwrap().push((url.clone(), profile));
        Browser {
            http: self.http.clone(),
            url,
            who,
            shots: self.shots,
        }
    }

    /// Closes every browser, first taking a screenshot of each if the test failed.
    async fn quit_all(&self, failed: bool) {
        let sessions = std::mem::take(&mut *self.sessions.lock().unwrap());
        for (n, (url, profile)) in sessions.into_iter().enumerate() {
            if failed
                && let Ok(png) =
                    request(&self.http, Method::GET, &format!("{url}/screenshot"), None).await
            {
                let path = screenshot_dir().join(format!("{}failed-{n}.png", self.shots));
                let _ = std::fs::write(&path, base64_decode(png.as_str().unwrap_or_default()));
                eprintln!("screenshot at failure: {}", path.display());
            }
            let _ = request(&self.http, Method::DELETE, &url, None).await;
            drop(profile); // only once Chrome has stopped using it
        }
    }
}

/// One WebDriver command; its `value`, or the WebDriver error as text.
async fn request(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut req = http.request(method.clone(), url);
    if let Some(body) = body {
        req = req.json(&body);
    } else if method == Method::POST {
        req = req.json(&json!({}));
    }
    let response = req
        .send()
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let ok = response.status().is_success();
    let mut v: Value = response
        .json()
        .await
        .map_err(|e| format!("{method} {url}: {e}"))?;
    let value = v["value"].take();
    if ok {
        Ok(value)
    } else {
        Err(format!("{}: {}", value["error"], value["message"]))
    }
}

/// One browser session.
struct Browser {
    http: reqwest::Client,
    url: String,
    who: &'static str,
    shots: &'static str,
}

impl Browser {
    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        request(
            &self.http,
            method.clone(),
            &format!("{}{path}", self.url),
            body,
        )
        .await
        .unwrap_or_else(|e| panic!("{}'s browser, {method} {path}: {e}", self.who))
    }

    async fn goto(&self, url: &str) {
        self.cmd(Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn refresh(&self) {
        self.cmd(Method::POST, "/refresh", None).await;
    }

    async fn find(&self, css: &str) -> String {
        self.find_by("css selector", css).await
    }

    async fn find_by(&self, using: &str, value: &str) -> String {
        let found = self
            .cmd(
                Method::POST,
                "/element",
                Some(json!({ "using": using, "value": value })),
            )
            .await;
        found[ELEMENT].as_str().unwrap().to_string()
    }

    /// Types into an element as keystrokes (WebDriver key codes such as `\u{E007}` included).
    async fn type_into(&self, element: &str, text: &str) {
        self.cmd(
            Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, element: &str) {
        self.cmd(Method::POST, &format!("/element/{element}/click"), None)
            .await;
    }

    /// Runs `body` (a function body, its arguments in `args`) in the page.
    async fn eval(&self, body: &str, args: Value) -> Value {
        let script = format!("const args = Array.from(arguments);\n{body}");
        self.cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Runs `body` as an async function in the page and returns what it resolves to.
    async fn eval_async(&self, body: &str, args: Value) -> Value {
        let script = format!(
            "const args = Array.from(arguments); const done = args.pop();
             (async () => {{ {body}\n }})().then(
               (v) => done({{ ok: v === undefined ? null : v }}),
               (e) => done({{ error: String((e && e.stack) || e) }}));"
        );
        let mut v = self
            .cmd(
                Method::POST,
                "/execute/async",
                Some(json!({ "script": script, "args": args })),
            )
            .await;
        if let Some(e) = v.get("error") {
            panic!(
                "{}'s browser: script failed: {}",
                self.who,
                e.as_str().unwrap_or_default()
            );
        }
        v["ok"].take()
    }

    /// Polls `body` until it returns something truthy (returned) or `{fail}` (a failure);
    /// script errors count as "not yet", as a page may be between two documents.
    async fn wait_until(&self, what: &str, body: &str, args: Value) -> Value {
        let script = format!("const args = Array.from(arguments);\n{body}");
        let payload = json!({ "script": script, "args": args });
        let deadline = Instant::now() + WAIT;
        let url = format!("{}/execute/sync", self.url);
        loop {
            let last = match request(&self.http, Method::POST, &url, Some(payload.clone())).await {
                Ok(v) if v.get("fail").is_some() => {
                    panic!("{}'s browser, waiting for {what}: {}", self.who, v["fail"])
                }
                Ok(v) if !(v.is_null() || v == false) => return v,
                Ok(v) => format!("last answer {v}"),
                Err(e) => format!("last error {e}"),
            };
            if Instant::now() >= deadline {
                panic!("{}'s browser: waited {WAIT:?} for {what}; {last}", self.who);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs `source` in every document this browser opens from now on, before its scripts.
    async fn on_new_document(&self, source: &str) {
        let cmd = json!({ "cmd": "Page.addScriptToEvaluateOnNewDocument", "params": { "source": source } });
        self.cmd(Method::POST, "/goog/cdp/execute", Some(cmd)).await;
    }

    async fn screenshot(&self, name: &str) {
        let png = base64_decode(
            self.cmd(Method::GET, "/screenshot", None)
                .await
                .as_str()
                .unwrap(),
        );
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        std::fs::write(screenshot_dir().join(format!("{}{name}", self.shots)), png).unwrap();
    }
}

/// Standard base64 (screenshots arrive so); small enough not to need a crate.
fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue, // padding and line breaks
        };
        acc = ((acc << 6) | u32::from(v)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[tokio::test]
async fn a_dyad_case_is_written_an_exemplar_marked_and_clinicians_compared() {
    in_browsers("cases-", |_| {}, cases_scenario).await;
}

/// The owner opens a dyad's case study, writes and saves its narrative, reloads and finds it,
/// marks a patient's excerpt as the component's exemplar, and opens the cross-case view, where
/// that excerpt is now the clinician's key excerpt for the component.
async fn cases_scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let step = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let p = driver.browser("paul").await;
    log_in(&p, &origin, "paul", &passwords["paul"]).await;
    let link = p.find_by("link text", "Cases").await;
    p.click(&link).await;
    let dyad = p.find_by("link text", "C1-P01").await;
    p.click(&dyad).await;
    p.wait_until(
        "the dyad's case page",
        "return location.pathname.endsWith('/cases/dyad/C1-P01') && document.querySelector('#narrative textarea')",
        json!([]),
    )
    .await;
    let narrative = "George and Dr Osei tell the snow visit alike — “twenty years”.";
    let area = p.find("#narrative textarea").await;
    p.type_into(&area, narrative).await;
    let save = p.find("#narrative button[type=submit]").await;
    p.click(&save).await;
    p.wait_until(
        "the narrative saved",
        "return document.getElementById('narrative-status').textContent.includes('saved (version 1)')",
        json!([]),
    )
    .await;
    p.screenshot("01-narrative-saved.png").await;
    step("the narrative is saved as version 1");
    p.refresh().await;
    let text = p
        .wait_until(
            "the narrative after reloading",
            "const t = document.querySelector('#narrative textarea'); return t && t.value",
            json!([]),
        )
        .await;
    assert_eq!(text, narrative);
    step("after reloading, the narrative is there");

    let coding = p
        .eval(
            "const b = document.querySelector('#component-abiding .account:last-child button.mark-exemplar');
             return b && b.dataset.coding",
            json!([]),
        )
        .await;
    let coding = coding
        .as_str()
        .expect("an abiding excerpt in the patient's account")
        .to_string();
    let button = p
        .find(&format!(
            "#component-abiding button.mark-exemplar[data-coding=\"{coding}\"]"
        ))
        .await;
    p.click(&button).await;
    p.wait_until(
        "the exemplar marked",
        "const q = document.querySelector(`#component-abiding blockquote.exemplar[data-coding=\"${args[0]}\"]`);
         return q && q.textContent.includes('exemplar 1')",
        json!([coding]),
    )
    .await;
    p.screenshot("02-exemplar-marked.png").await;
    step("the owner marks an abiding excerpt as the exemplar");

    p.goto(&format!("{origin}/s/demo/cases")).await;
    let key = p
        .wait_until(
            "the cross-case comparison",
            "const row = document.querySelector('#comparison tr[data-component=abiding]');
             const q = row && row.querySelector('td blockquote.exemplar');
             return q && q.textContent",
            json!([]),
        )
        .await;
    let columns = p
        .eval(
            "return document.querySelectorAll('#comparison thead th').length",
            json!([]),
        )
        .await;
    assert_eq!(columns, 4, "a component column and three clinicians");
    let quote = p
        .eval_async(
            &format!(
                "{API_JS}
                 const e = await api('GET', '/exemplars');
                 return e[0].text;"
            ),
            json!([]),
        )
        .await;
    assert!(
        key.as_str().unwrap().contains(quote.as_str().unwrap()),
        "{key} lacks {quote}"
    );
    p.screenshot("03-cross-case.png").await;
    step("the cross-case view shows the exemplar as C1's key excerpt for abiding");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dyad_matrix_the_model_and_saturation_in_the_browser() {
    in_browsers("model-", |_| {}, model_scenario).await;
}

/// The matrix: a cell evidenced in both accounts shows quotes from each; the presence view;
/// the model page's table and figure; saturation's verdict following k.
async fn model_scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let step = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let b = driver.browser("ada").await;
    log_in(&b, &origin, "ada", &passwords["ada"]).await;

    // ---- the dyads × components matrix ------------------------------------------------------
    let link = b.find_by("link text", "Dyads").await;
    b.click(&link).await;
    let evidenced = "return document.querySelector('table.matrix button.cell.presence-both')";
    b.wait_until("the matrix", evidenced, json!([])).await;
    let cell = b.eval(evidenced, json!([])).await;
    let key = b
        .eval(
            "return [args[0].dataset.dyad, args[0].dataset.component]",
            json!([cell]),
        )
        .await;
    b.eval("args[0].click(); return true", json!([cell])).await;
    let shown = b
        .wait_until(
            "the cell's quotes",
            "const c = document.querySelectorAll('#cell-detail .excerpts.clinician li blockquote');
             const p = document.querySelectorAll('#cell-detail .excerpts.patient li blockquote');
             const h = document.querySelector('#cell-detail .excerpts.patient h3');
             return c.length > 0 && p.length > 0 ? [c.length, p.length, p[0].textContent, h.textContent, c[0].textContent] : null",
            json!([]),
        )
        .await;
    let api_cell = b
        .eval_async(
            &format!(
                "{API_JS}
                 return await api('GET', `/findings/triangulation/cell?dyad=${{args[0]}}&component=${{args[1]}}`);"
            ),
            key.clone(),
        )
        .await;
    let patient = &api_cell["patient"];
    assert_eq!(
        shown[0],
        json!(api_cell["clinician"]["evidence"].as_array().unwrap().len())
    );
    assert_eq!(
        shown[1],
        json!(patient["evidence"].as_array().unwrap().len())
    );
    assert_eq!(shown[2], patient["evidence"][0]["text"]);
    assert_eq!(shown[4], api_cell["clinician"]["evidence"][0]["text"]);
    assert!(
        shown[3].as_str().unwrap().contains(&format!(
            "{} passages, {} codings",
            patient["passages"],
            patient["evidence"].as_array().unwrap().len()
        )),
        "the list's heading counts what the cell counts: {}",
        shown[3]
    );
    // A clinician's unattributed passages are tabled apart, about no particular patient, and
    // their list is headed by the passages the table counts.
    let general = b
        .wait_until(
            "the general evidence",
            "const g = [...document.querySelectorAll('#general-evidence button.cell.general[data-participant=\"C1\"]')]
                 .find((g) => g.textContent !== '0');
             if (!g) return null;
             g.click();
             return g.textContent",
            json!([]),
        )
        .await;
    let heading = b
        .wait_until(
            "C1's passages about no particular patient",
            "const h = document.querySelector('#cell-detail .excerpts.general h3');
             return h ? h.textContent : null",
            json!([]),
        )
        .await;
    assert!(
        heading
            .as_str()
            .unwrap()
            .contains(&format!("({} passages,", general.as_str().unwrap())),
        "{heading}"
    );
    // The page states the rule its counts follow, as the API gives it.
    let rule = b
        .eval_async(
            &format!("{API_JS} return (await api('GET', '/findings/triangulation')).rule_text;"),
            json!([]),
        )
        .await;
    assert!(
        rule.as_str()
            .unwrap()
            .contains("about no particular patient")
    );
    b.wait_until(
        "the rule",
        "const r = document.getElementById('accounts-rule');
         return r && r.textContent === args[0] ? true : null",
        json!([rule]),
    )
    .await;
    b.screenshot("01-cell-quotes.png").await;
    step("a cell shows quotes from the clinician's and the patient's account");
    b.eval(
        "const s = document.querySelector('main#model-findings select');
         s.value = 'presence'; s.dispatchEvent(new Event('change')); return true",
        json!([]),
    )
    .await;
    b.wait_until(
        "the presence view",
        "const c = document.querySelector('table.matrix button.cell.presence-both');
         return Boolean(c) && c.firstChild.textContent === 'both'",
        json!([]),
    )
    .await;

    // ---- the model page -----------------------------------------------------------------------
    let link = b.find_by("link text", "Model").await;
    b.click(&link).await;
    let drawn = b
        .wait_until(
            "the figure and the propositions",
            "const drawn = (id) => { const img = document.getElementById(id); return img !== null && img.complete && img.naturalWidth > 0; };
             const rows = document.querySelectorAll('table.propositions-table tbody tr');
             const ready = drawn('model-figure') && drawn('model-evidence-figure') && rows.length > 0;
             const href = (id) => document.getElementById(id).getAttribute('href');
             return ready ? [rows.length, href('model-figure-download'), href('model-evidence-figure-download')] : null",
            json!([]),
        )
        .await;
    let support = b
        .eval_async(
            &format!("{API_JS} return await api('GET', '/findings/propositions');"),
            json!([]),
        )
        .await;
    assert_eq!(
        drawn[0],
        json!(support["propositions"].as_array().unwrap().len())
    );
    assert!(
        drawn[1]
            .as_str()
            .unwrap()
            .ends_with("/findings/figure.svg?rule=any")
    );
    assert!(
        drawn[2]
            .as_str()
            .unwrap()
            .ends_with("/findings/figure.svg?view=evidence&rule=any")
    );
    let rule = "const r = document.getElementById('support-rule');
                return r && r.textContent.includes(args[0]) ? r.textContent : null";
    b.wait_until("the rule in force", rule, json!([support["rule_text"]]))
        .await;
    b.screenshot("02-model.png").await;
    step("the model page shows the proposition table, its rule and both model figures");
    // A stricter reading: both sides in the same turn; the page says so and counts by it.
    b.eval(
        "const s = document.querySelector('main#model-findings select[id^=together]');
         s.value = 'turn'; s.dispatchEvent(new Event('change')); return true",
        json!([]),
    )
    .await;
    let turn = b
        .eval_async(
            &format!("{API_JS} return await api('GET', '/findings/propositions?together=turn');"),
            json!([]),
        )
        .await;
    assert_ne!(turn["rule_text"], support["rule_text"]);
    b.wait_until("the stricter rule", rule, json!([turn["rule_text"]]))
        .await;
    let both = b
        .eval(
            "return [...document.querySelectorAll('table.propositions-table tbody tr')]
                 .map((r) => Number(r.children[3].textContent))",
            json!([]),
        )
        .await;
    let expected: Vec<Value> = turn["propositions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["both"].clone())
        .collect();
    assert_eq!(both, json!(expected));
    let evidence_src = b
        .eval(
            "return document.getElementById('model-evidence-figure').getAttribute('src')",
            json!([]),
        )
        .await;
    assert!(
        evidence_src
            .as_str()
            .unwrap()
            .contains("view=evidence&rule=any&together=turn"),
        "the evidence figure counts by the reading in force: {evidence_src}"
    );
    step(
        "reading both sides in the same turn changes the rule, the counts and the evidence figure",
    );

    // ---- saturation: k changes the verdict ------------------------------------------------------
    let link = b.find_by("link text", "Saturation").await;
    b.click(&link).await;
    let verdict = "const v = document.getElementById('saturation-verdict');
                   const img = document.getElementById('saturation-chart');
                   const ready = v !== null && img !== null && img.complete && img.naturalWidth > 0
                       && img.src.includes(args[0]) && v.textContent.includes(args[1]);
                   return ready ? v.textContent : null";
    let default = b
        .wait_until("the default verdict", verdict, json!(["k=3", "Saturation"]))
        .await;
    b.eval(
        "const k = document.querySelector('main#model-findings input[type=number]');
         k.value = '30'; k.dispatchEvent(new Event('change')); return true",
        json!([]),
    )
    .await;
    let strict = b
        .wait_until("a stricter verdict", verdict, json!(["k=30", "not yet"]))
        .await;
    assert_ne!(default, strict);
    // Guest, Namey & Chen's method, its parameters in the verdict's words.
    b.eval(
        "const m = document.querySelector('main#model-findings select');
         m.value = 'guest'; m.dispatchEvent(new Event('change')); return true",
        json!([]),
    )
    .await;
    b.wait_until(
        "Guest's verdict",
        verdict,
        json!([
            "method=guest",
            "Guest, Namey & Chen 2020: base 4 coded interviews, run 2"
        ]),
    )
    .await;
    b.screenshot("03-saturation.png").await;
    step("changing k changes the saturation verdict");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_page_searches_codes_all_hits_and_opens_matrix_cells() {
    in_browsers("query-", |_| {}, query_scenario).await;
}

/// A coder searches, reads the hits in context, previews coding them all, confirms, and sees
/// them coded (a second preview has nothing left to code); then opens a cell of the code ×
/// dyad matrix to its excerpts.
async fn query_scenario(
    driver: Driver,
    origin: String,
    passwords: HashMap<String, String>,
    started: Instant,
) {
    let step = |what: &str| eprintln!("[{:?}] {what}", started.elapsed());
    let m = driver.browser("maria").await;
    log_in(&m, &origin, "maria", &passwords["maria"]).await;
    let link = m.find_by("link text", "Queries").await;
    m.click(&link).await;
    m.wait_until(
        "the queries page",
        "return document.querySelector('main#query button[data-tab=search]')",
        json!([]),
    )
    .await;
    let tab = m.find("main#query button[data-tab=search]").await;
    m.click(&tab).await;
    let input = m
        .find("section[data-section=search] input[type=search]")
        .await;
    m.type_into(&input, "\"I hope\"").await;
    let search = m
        .find("section[data-section=search] form button[type=submit]")
        .await;
    m.click(&search).await;
    let hits = m
        .wait_until(
            "the hits in context",
            "const rows = document.querySelectorAll('.search-out tr.kwic');
             return rows.length ? [...rows].map((r) => r.querySelector('mark').textContent) : null",
            json!([]),
        )
        .await;
    let hits: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(
        !hits.is_empty() && hits.iter().all(|h| h.eq_ignore_ascii_case("i hope")),
        "{hits:?}"
    );
    m.screenshot("01-kwic.png").await;
    step("maria searches and reads the hits in context");

    let hope = m
        .eval_async(
            &format!(
                "{API_JS}
                 const book = await api('GET', '/codebook');
                 return book.find((n) => n.code.component === 'hope').code.id;"
            ),
            json!([]),
        )
        .await;
    m.eval(
        "const s = document.querySelector('.code-all select'); s.value = args[0];
         s.dispatchEvent(new Event('change')); return s.value",
        json!([hope]),
    )
    .await;
    let preview = m
        .find_by("xpath", "//button[text()='Preview coding every hit']")
        .await;
    m.click(&preview).await;
    let to_code = m
        .wait_until(
            "the preview",
            "const p = document.querySelector('.plan-summary'); return p && Number(p.dataset.toCode)",
            json!([]),
        )
        .await
        .as_u64()
        .unwrap();
    assert!(to_code > 0, "maria has not coded these hits yet");
    m.screenshot("02-preview.png").await;
    step("the preview says what would be coded");
    let confirm = m
        .find_by("xpath", &format!("//button[text()='Code {to_code} hits']"))
        .await;
    m.click(&confirm).await;
    let coded = m
        .wait_until(
            "the codings made",
            "const p = document.querySelector('.applied'); return p && Number(p.dataset.coded)",
            json!([]),
        )
        .await;
    assert_eq!(coded.as_u64(), Some(to_code));
    let quotes = m
        .eval_async(
            &format!(
                "{API_JS}
                 const mine = await api('GET', `/codings?coder=maria&code=${{args[0]}}`);
                 return mine.filter((v) => v.quote.toLowerCase() === 'i hope').length;"
            ),
            json!([hope]),
        )
        .await;
    assert!(quotes.as_u64().unwrap() >= to_code, "{quotes}");
    m.click(&preview).await;
    m.wait_until(
        "nothing left to code",
        "const p = document.querySelector('.plan-summary'); return p && p.dataset.toCode === '0'",
        json!([]),
    )
    .await;
    m.screenshot("03-coded.png").await;
    step("every hit is coded, once");

    let tab = m.find("main#query button[data-tab=matrix]").await;
    m.click(&tab).await;
    m.eval(
        "const s = document.querySelector('section[data-section=matrix] select'); s.value = 'dyad'; return s.value",
        json!([]),
    )
    .await;
    let show = m
        .find("section[data-section=matrix] form button[type=submit]")
        .await;
    m.click(&show).await;
    let count = m
        .wait_until(
            "the code × dyad matrix",
            "const b = document.querySelector('.matrix-out td button[data-code]'); return b && Number(b.textContent)",
            json!([]),
        )
        .await
        .as_u64()
        .unwrap();
    let cell = m.find(".matrix-out td button[data-code]").await;
    m.click(&cell).await;
    let rows = m
        .wait_until(
            "the cell's excerpts",
            "const rows = document.querySelectorAll('.cell-out table:first-of-type tbody tr.kwic'); return rows.length || null",
            json!([]),
        )
        .await;
    assert_eq!(
        rows.as_u64(),
        Some(count),
        "one excerpt per coding in the cell"
    );
    m.screenshot("04-cell.png").await;
    step("a matrix cell opens to its excerpts");

    // The UI's client reads a list the server cuts into pages whole, each row once.
    let paged = m
        .eval_async(
            &format!(
                "{API_JS}
                 const {{ apiAll }} = await import('/assets/api.js');
                 const whole = await api('GET', '/codings');
                 const pages = await apiAll('/codings?limit=7');
                 const ids = new Set(pages.map((v) => v.coding.id));
                 return [whole.length, pages.length, ids.size,
                         whole.every((v) => ids.has(v.coding.id))];"
            ),
            json!([]),
        )
        .await;
    let total = paged[0].as_u64().unwrap();
    assert!(total > 7, "{paged}");
    assert_eq!(paged, json!([total, total, total, true]));
    step("a list is followed page by page");
}
