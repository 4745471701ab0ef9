//! Fuzz targets for every transcript format (see `between-fuzz`): no input may panic, abort or
//! take over 5 s, and what parses keeps the documented shape (turns in text order, not
//! overlapping, inside the text; markers inside the text).

use std::path::PathBuf;

use between_fuzz::{Seeds, fuzz, zip};
use between_ingest::{Format, ParseOptions, Transcript, parse};

fn repo(rest: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rest)
}

fn shared(rest: &str) -> PathBuf {
    repo("../shared").join(rest)
}

/// The option sets every input is parsed with: the defaults, a speaker pattern, a legacy
/// encoding, a default TextGrid speaker.
fn option_sets() -> [ParseOptions; 3] {
    [
        ParseOptions::default(),
        ParseOptions {
            speaker_pattern: Some(r"^(?P<time>\[[0-9:]+\])?\s*(?P<speaker>[A-Z]{1,3}):\s*".into()),
            default_speaker: Some("patient".into()),
            ..ParseOptions::default()
        },
        ParseOptions {
            encoding: Some("windows-1252".into()),
            delimiter: Some(b';'),
            ..ParseOptions::default()
        },
    ]
}

/// The shape [`Transcript`] promises.
fn check(t: &Transcript, input: &[u8]) {
    let length = t.text.chars().count();
    let mut previous_end = 0;
    for turn in &t.turns {
        let span = turn.span;
        assert!(
            previous_end <= span.start && span.start <= span.end && span.end <= length,
            "turn {span:?} out of order or outside the text ({length} characters; previous ended at {previous_end}); input {:?}",
            String::from_utf8_lossy(input)
        );
        previous_end = span.end;
    }
    for marker in &t.markers {
        assert!(
            marker.span.start <= marker.span.end && marker.span.end <= length,
            "marker {:?} outside the text",
            marker.span
        );
    }
}

fn target(name: &'static str, format: Format) -> impl Fn(&[u8]) + Send + 'static {
    let options = option_sets();
    move |input| {
        for o in &options {
            if let Ok(t) = parse(name, input, format, o) {
                check(&t, input);
            }
        }
        // Detection must cope with anything, and what it picks must parse or fail cleanly.
        if let Ok(t) = parse("upload", input, Format::Auto, &options[0]) {
            check(&t, input);
        }
    }
}

const MARKERS: &[&str] = &[
    "<UNSURE>",
    "</UNSURE>",
    "<UNIN/>",
    "<INAUDIBLE_SPEECH/>",
    "<v ",
    ">",
    "</v>",
    "<b>",
    "DR:",
    "PT: ",
    "[00:01:02]",
    "\r\n",
    "\n\n",
    "\u{feff}",
    "\u{202e}",
    "é",
    "🙂",
    "\"",
    "\t",
    "-1",
    "99999999999999999999",
    "1e309",
    "NaN",
];

fn text_tokens(extra: &[&str]) -> Seeds {
    Seeds::new().tokens(MARKERS).tokens(extra)
}

#[test]
fn fuzz_txt() {
    let seeds = text_tokens(&["\u{85}"])
        .tokens(&[b"\xff\xfe".as_slice(), b"\xfe\xff", b"\x93\x94", b"\xc3"])
        .files(repo("crates/sample/study/interviews"), &[".txt"], 4)
        .files(repo("crates/sample/study/fieldnotes"), &[".txt"], 1)
        .sample(b"[00:00:05] DR: Hello.\nPT: Hi <UNSURE>there</UNSURE>.\n\nDR:\n".to_vec())
        .sample(vec![
            0xFF, 0xFE, b'D', 0, b'R', 0, b':', 0, b' ', 0, b'h', 0, b'i', 0,
        ]);
    fuzz("ingest-txt", &seeds, target("fuzz.txt", Format::Txt));
}

fn docx(body: &str) -> Vec<u8> {
    zip(&[
        (
            "[Content_Types].xml".into(),
            br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#.to_vec(),
        ),
        (
            "word/document.xml".into(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}<w:sectPr/></w:body></w:document>"#
            )
            .into_bytes(),
        ),
        ("word/styles.xml".into(), b"<w:styles/>".to_vec()),
    ])
}

#[test]
fn fuzz_docx() {
    let paragraphs = "<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>DR OSEI:</w:t></w:r><w:r><w:t xml:space=\"preserve\"> How are you &amp; yours?</w:t></w:r></w:p>\
        <w:p><w:r><w:t>PT: Fine <UNIN/>, thanks.</w:t></w:r><w:r><w:br/><w:tab/><w:t>Second line</w:t></w:r></w:p>";
    let table = "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>00:01:02</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>DR</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:tc></w:tr>\
        <w:tr><w:tc><w:p><w:r><w:t>PT</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Hi</w:t></w:r></w:p></w:tc></w:tr></w:tbl>";
    let interview =
        std::fs::read_to_string(repo("crates/sample/study/interviews/p01-whitfield.txt"))
            .expect("sample interview");
    let from_sample: String = interview
        .lines()
        .take(40)
        .map(|l| {
            let l = l.replace('&', "&amp;").replace('<', "&lt;");
            format!("<w:p><w:r><w:t xml:space=\"preserve\">{l}</w:t></w:r></w:p>")
        })
        .collect();
    let seeds = text_tokens(&[
        "<w:p>",
        "</w:p>",
        "<w:r>",
        "</w:r>",
        "<w:t>",
        "</w:t>",
        "<w:b/>",
        "<w:b w:val=\"0\"/>",
        "<w:tbl>",
        "<w:tr>",
        "<w:tc>",
        "</w:tc>",
        "</w:tr>",
        "</w:tbl>",
        "<w:br/>",
        "&amp;",
        "&#0;",
        "&#x1F642;",
        "<![CDATA[x]]>",
        "<!DOCTYPE x [<!ENTITY e \"ee\">]>",
        "&e;",
    ])
    .sample(docx(paragraphs))
    .sample(docx(table))
    .sample(docx(&from_sample));
    fuzz("ingest-docx", &seeds, target("fuzz.docx", Format::Docx));
}

#[test]
fn fuzz_vtt() {
    let seeds = text_tokens(&["WEBVTT", " --> ", "00:00:01.000", "NOTE ", "STYLE", "::cue", "<c.loud>", "</c>", "<00:00:01.500>", " align:start"])
        .sample(
            "WEBVTT\n\nNOTE a comment\n\n1\n00:01.000 --> 00:02.000 align:start\n<v Zoë>Salut 🙂\n\n00:00:02.500 --> 00:00:04.000\n<v Dr Osei><b>Hello</b> <UNIN/>\nDR: again\n\n00:05.000 --> 00:04.000\nbackwards\n"
                .as_bytes()
                .to_vec(),
        )
        .sample(b"WEBVTT\r\n\r\n00:00:01.000 --> 00:00:03.000\r\nPT: one\r\n\r\n00:00:02.000 --> 00:00:04.000\r\nDR: overlapping\r\n".to_vec());
    fuzz("ingest-vtt", &seeds, target("fuzz.vtt", Format::Vtt));
}

#[test]
fn fuzz_srt() {
    let seeds = text_tokens(&[" --> ", "00:00:01,000", "1\n", "<i>", "</i>", "{\\an8}"])
        .sample(b"1\n00:00:01,000 --> 00:00:02,000\nA: hi\n\n2\n00:00:02,500 --> 00:00:04,000\n<i>B:</i> hello\nsecond line\n\n3\n00:00:03,000 --> 00:00:05,000\nA: overlap\n".to_vec())
        .sample(b"\xef\xbb\xbf1\r\n00:00:01,000 --> 00:00:02,000\r\n- Dash speaker\r\n- Another\r\n".to_vec());
    fuzz("ingest-srt", &seeds, target("fuzz.srt", Format::Srt));
}

#[test]
fn fuzz_textgrid() {
    let short = "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n0\n1\n<exists>\n2\n\"IntervalTier\"\n\"Speaker\"\n0\n1\n1\n0\n1\n\"<UNIN/> oui\"\n\"TextTier\"\n\"points\"\n0\n1\n1\n0.5\n\"p\"\n";
    let seeds = text_tokens(&[
        "xmin = ",
        "xmax = ",
        "intervals [1]:",
        "intervals: size = ",
        "item [2]:",
        "class = \"IntervalTier\"",
        "class = \"TextTier\"",
        "name = \"\"",
        "text = \"\"\"\"",
        "<exists>",
        "0.000000001",
        "1e308",
    ])
    .files(shared("data/primock57/transcripts"), &[".TextGrid"], 3)
    .sample(short.as_bytes().to_vec());
    fuzz(
        "ingest-textgrid",
        &seeds,
        target("fuzz.TextGrid", Format::TextGrid),
    );
}

#[test]
fn fuzz_csv() {
    let seeds = text_tokens(&[",", ";", "\"\"", "speaker", "start", "end", "text", "00:00:01.5", "1.5"])
        .sample(b"speaker,start,end,text\nDR,0,1.5,\"Hello, there\"\nPT,00:00:01.000,00:00:02.000,Hi <UNIN/>\nDR,3,2,backwards\n".to_vec())
        .sample(b"Who;Begin;End;Said\nA;1;2;x\n".to_vec())
        .sample(b"speaker\ttext\nA\tok\nB\t\"quoted\ttab\"\n".to_vec());
    let (csv, tsv) = (
        target("fuzz.csv", Format::Csv),
        target("fuzz.tsv", Format::Tsv),
    );
    fuzz("ingest-csv", &seeds, move |input| {
        csv(input);
        tsv(input);
    });
}
