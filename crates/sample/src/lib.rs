//! The sample study that ships inside `between`: a FICTIONAL study of three clinicians and ten
//! of their patients, written by the developers (see `study/CAST.md`). It is built through the
//! same operations a researcher uses, so it exercises them too.

use std::collections::BTreeMap;
use std::path::Path;

use between_core::{InterviewInfo, Role, SourceKind};
use between_store::OpenOptions;
use between_study::*;
use serde::Deserialize;

/// Every file of the sample, by its path in `study/`.
pub const FILES: &[(&str, &str)] = &[
    ("study.toml", include_str!("../study/study.toml")),
    ("codings/c1.toml", include_str!("../study/codings/c1.toml")),
    ("codings/c2.toml", include_str!("../study/codings/c2.toml")),
    ("codings/c3.toml", include_str!("../study/codings/c3.toml")),
    (
        "interviews/c1-osei.txt",
        include_str!("../study/interviews/c1-osei.txt"),
    ),
    (
        "interviews/c2-ruiz.txt",
        include_str!("../study/interviews/c2-ruiz.txt"),
    ),
    (
        "interviews/c3-marsh.txt",
        include_str!("../study/interviews/c3-marsh.txt"),
    ),
    (
        "interviews/p01-whitfield.txt",
        include_str!("../study/interviews/p01-whitfield.txt"),
    ),
    (
        "interviews/p02-fernandez.txt",
        include_str!("../study/interviews/p02-fernandez.txt"),
    ),
    (
        "interviews/p03-adeyemi.txt",
        include_str!("../study/interviews/p03-adeyemi.txt"),
    ),
    (
        "interviews/p04-kowalczyk.txt",
        include_str!("../study/interviews/p04-kowalczyk.txt"),
    ),
    (
        "interviews/p05-brooks.txt",
        include_str!("../study/interviews/p05-brooks.txt"),
    ),
    (
        "interviews/p06-novak.txt",
        include_str!("../study/interviews/p06-novak.txt"),
    ),
    (
        "interviews/p07-watanabe.txt",
        include_str!("../study/interviews/p07-watanabe.txt"),
    ),
    (
        "interviews/p08-carter.txt",
        include_str!("../study/interviews/p08-carter.txt"),
    ),
    (
        "interviews/p09-haddad.txt",
        include_str!("../study/interviews/p09-haddad.txt"),
    ),
    (
        "interviews/p10-grant.txt",
        include_str!("../study/interviews/p10-grant.txt"),
    ),
    (
        "fieldnotes/c1-field-notes.txt",
        include_str!("../study/fieldnotes/c1-field-notes.txt"),
    ),
    (
        "fieldnotes/c2-field-notes.txt",
        include_str!("../study/fieldnotes/c2-field-notes.txt"),
    ),
    (
        "fieldnotes/c3-field-notes.txt",
        include_str!("../study/fieldnotes/c3-field-notes.txt"),
    ),
    (
        "journal/bennett-journal-1.txt",
        include_str!("../study/journal/bennett-journal-1.txt"),
    ),
    (
        "journal/bennett-journal-2.txt",
        include_str!("../study/journal/bennett-journal-2.txt"),
    ),
    (
        "measures/wai-sr.csv",
        include_str!("../study/measures/wai-sr.csv"),
    ),
];

/// The interviewer of every sample interview.
const INTERVIEWER: &str = "Dr Paul Bennett";
/// Who the audit log says built the sample.
const ACTOR: &str = "sample";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    study: StudyPart,
    participant: Vec<ParticipantPart>,
    dyad: Vec<DyadPart>,
    source: Vec<SourcePart>,
    memo: Vec<MemoPart>,
    #[serde(default)]
    attribution: Vec<AttributionPart>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StudyPart {
    name: String,
    description: String,
    theory: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantPart {
    label: String,
    role: Role,
    name: String,
    attributes: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DyadPart {
    clinician: String,
    patient: String,
    since: String,
    #[serde(default)]
    notes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcePart {
    file: String,
    #[serde(default = "interview")]
    kind: SourceKind,
    participant: Option<String>,
    dyad: Option<String>,
    date: String,
    duration_minutes: Option<u32>,
    guide_version: Option<String>,
    #[serde(default)]
    others_present: Vec<String>,
    #[serde(default)]
    speakers: BTreeMap<String, String>,
}

fn interview() -> SourceKind {
    SourceKind::Interview
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemoPart {
    on: String,
    author: String,
    title: String,
    text: String,
}

/// A passage attributed to whom it speaks about: `quote`, or from the start of `from` to the
/// end of `to` (each occurring once in the source).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttributionPart {
    source: String,
    about: String,
    quote: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodingFile {
    #[serde(default)]
    open_code: Vec<OpenCode>,
    coding: Vec<CodingPart>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenCode {
    name: String,
    parent: Option<String>,
    #[serde(default)]
    definition: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodingPart {
    source: String,
    code: String,
    coder: String,
    quote: String,
    #[serde(default)]
    contrast: bool,
    memo: Option<String>,
}

fn file(path: &str) -> &'static str {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("the sample has no file {path}"))
}

/// A source's name in the study: its file name.
fn source_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parse<T: for<'de> Deserialize<'de>>(path: &str) -> StudyResult<T> {
    toml::from_str(file(path)).map_err(|e| StudyError::Invalid(format!("sample {path}: {e}")))
}

/// Writes the sample study to a new study file at `path`.
pub fn materialise(path: &Path, options: &OpenOptions) -> StudyResult<Workbench> {
    let manifest: Manifest = parse("study.toml")?;
    let theory = between_model::resolve(&manifest.study.theory)?;
    let new = NewStudy {
        name: manifest.study.name.clone(),
        description: manifest.study.description.clone(),
        theory: Some(theory),
    };
    let mut bench = Workbench::create(path, new, options, ACTOR)?;
    if let Err(e) = fill(&mut bench, manifest) {
        drop(bench);
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(bench)
}

fn fill(bench: &mut Workbench, manifest: Manifest) -> StudyResult<()> {
    for p in manifest.participant {
        bench.add_participant(NewParticipant {
            label: p.label,
            role: Some(p.role),
            name: Some(p.name),
            attributes: p.attributes,
        })?;
    }
    for d in manifest.dyad {
        bench.add_dyad(NewDyad {
            clinician: d.clinician,
            patient: d.patient,
            label: None,
            relationship_start: Some(d.since),
            notes: d.notes,
        })?;
    }
    for s in manifest.source {
        let is_interview = s.kind == SourceKind::Interview;
        let options = ImportOptions {
            kind: s.kind,
            participant: s.participant,
            dyad: s.dyad,
            interview: InterviewInfo {
                interviewer: Some(INTERVIEWER.to_string()),
                date: Some(s.date),
                duration_minutes: s.duration_minutes,
                others_present: s.others_present,
                guide_version: s.guide_version,
                consent_recorded: is_interview.then_some(true),
            },
            speakers: s
                .speakers
                .iter()
                .map(|(label, who)| {
                    format!("{label}={who}")
                        .parse()
                        .map_err(StudyError::Invalid)
                })
                .collect::<StudyResult<_>>()?,
            name: None,
            ..Default::default()
        };
        let file = ImportFile {
            name: source_name(&s.file).to_string(),
            bytes: file(&s.file).as_bytes().to_vec(),
        };
        bench.import_files(vec![file], &options, &mut |_, _| {})?;
    }
    for path in ["codings/c1.toml", "codings/c2.toml", "codings/c3.toml"] {
        let codings: CodingFile = parse(path)?;
        for open in codings.open_code {
            bench.add_code(&open.name, open.parent.as_deref(), None, &open.definition)?;
        }
        let batch = codings
            .coding
            .into_iter()
            .map(|c| NewCoding {
                source: source_name(&c.source).to_string(),
                code: c.code,
                target: CodingTarget::Quote {
                    text: c.quote,
                    occurrence: None,
                },
                coder: Some(c.coder),
                memo: c.memo,
                contrast: c.contrast,
            })
            .collect();
        bench
            .apply_codings(batch)
            .map_err(|e| e.at(format!("sample {path}")))?;
    }
    for m in manifest.memo {
        bench.add_memo(&TargetRef(m.on), &m.title, &m.text, Some(&m.author))?;
    }
    let batch = manifest
        .attribution
        .into_iter()
        .enumerate()
        .map(|(i, a)| attribution(bench, a).map_err(|e| e.at(format!("attribution {}", i + 1))))
        .collect::<StudyResult<_>>()?;
    bench
        .attribute_all(batch)
        .map_err(|e| e.at("sample study.toml"))?;
    // Alliance measures (WAI-SR structure, fictional answers) for three dyads over several
    // sessions; C2-P06's third falls and later recovers: one rupture and its repair.
    let path = "measures/wai-sr.csv";
    between_measures::Measures::of(bench).import_csv(
        file(path).as_bytes(),
        &format!("sample {path}"),
        between_exchange::ResponseShape::Wide,
        "wai-sr",
        None,
    )?;
    Ok(())
}

/// An `[[attribution]]` entry as the passage it names.
fn attribution(bench: &Workbench, a: AttributionPart) -> StudyResult<NewAttribution> {
    let name = source_name(&a.source).to_string();
    let target = match (a.quote, a.from, a.to) {
        (Some(text), None, None) => CodingTarget::Quote {
            text,
            occurrence: None,
        },
        (None, Some(from), Some(to)) => {
            let text = bench.source(&name)?.text;
            let find = |quote: &str| {
                between_core::text::find_quote(&text, quote, None).map_err(|error| {
                    StudyError::Quote {
                        source_name: name.clone(),
                        error,
                    }
                })
            };
            let (from, to) = (find(&from)?, find(&to)?);
            if to.end <= from.start {
                return Err(StudyError::Invalid(format!(
                    "{name}: `to` comes before `from`"
                )));
            }
            CodingTarget::Offsets {
                start: from.start,
                end: to.end,
            }
        }
        _ => {
            return Err(StudyError::Invalid(format!(
                "{name}: give quote, or from and to"
            )));
        }
    };
    Ok(NewAttribution {
        source: name,
        target,
        about: vec![a.about],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The demo's alliance measures: three dyads over several sessions; with a reliable drop
    /// (WAI-SR total, sd 7, reliability .90: more than 6.1 points) only C2-P06 ruptures, from
    /// 51 at session 2 to 38 at session 3, and is repaired at session 5 (52 ≥ 51).
    #[test]
    fn the_sample_measures_show_one_rupture_and_its_repair() {
        use between_measures::{Measures, RuptureCriterion, Subject};
        let dir = tempfile::tempdir().unwrap();
        let mut wb = materialise(&dir.path().join("s.between"), &OpenOptions::default()).unwrap();
        let measures = Measures::of(&mut wb);
        let criterion = RuptureCriterion {
            rule: between_psychometrics::RuptureRule::ReliableChange {
                sd: 7.0,
                reliability: 0.9,
            },
            score: "total".into(),
        };
        let mut ruptured = Vec::new();
        for dyad in ["C1-P01", "C2-P06", "C3-P08"] {
            let over = measures
                .scores(&Subject::Dyad(dyad.into()), Some(&criterion))
                .unwrap();
            let [t] = &over.trajectories[..] else {
                panic!("{dyad}: one series, not {}", over.trajectories.len())
            };
            assert!(t.points.len() >= 3, "{dyad}: several sessions");
            for r in &t.ruptures {
                ruptured.push((
                    dyad,
                    r.before.session,
                    r.after.session,
                    r.drop,
                    r.repaired.as_ref().and_then(|o| o.session),
                ));
            }
        }
        assert_eq!(ruptured, [("C2-P06", Some(2), Some(3), 13.0, Some(5))]);
        let none = measures
            .scores(&Subject::Dyad("C1-P02".into()), None)
            .unwrap();
        assert!(none.trajectories.is_empty());
    }

    #[test]
    fn every_file_of_the_sample_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("study");
        let mut on_disk = BTreeSet::new();
        for dir in [
            "",
            "codings",
            "interviews",
            "fieldnotes",
            "journal",
            "measures",
        ] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let ext = path.extension().and_then(|e| e.to_str());
                if matches!(ext, Some("txt" | "toml" | "csv")) {
                    on_disk.insert(
                        path.strip_prefix(&root)
                            .unwrap()
                            .to_string_lossy()
                            .replace('\\', "/"),
                    );
                }
            }
        }
        let embedded: BTreeSet<String> = FILES.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn the_sample_study_is_what_the_issue_describes() {
        let dir = tempfile::tempdir().unwrap();
        let bench =
            materialise(&dir.path().join("sample.between"), &OpenOptions::default()).unwrap();
        let stats = bench.stats().unwrap();
        let people = bench.participants().unwrap();
        let count = |role| people.iter().filter(|p| p.role == role).count();
        assert_eq!(
            (count(Role::Clinician), count(Role::Patient), stats.dyads),
            (3, 10, 10)
        );
        let sources = bench.sources().unwrap();
        let interviews: Vec<_> = sources
            .iter()
            .filter(|s| s.kind == SourceKind::Interview)
            .collect();
        assert_eq!(interviews.len(), 13);
        for s in &interviews {
            let words = bench
                .source(&s.name)
                .unwrap()
                .text
                .split_whitespace()
                .count();
            assert!(
                (800..=2100).contains(&words),
                "{} has {words} words",
                s.name
            );
        }
        assert!(sources.iter().any(|s| s.kind == SourceKind::FieldNote));
        assert!(sources.iter().any(|s| s.kind == SourceKind::Journal));
        assert!(
            interviews
                .iter()
                .filter(|s| s.interview.others_present.contains(&"spouse".to_string()))
                .count()
                >= 2
        );
        assert_eq!(stats.by_coder.keys().collect::<Vec<_>>(), ["maria", "sam"]);
        assert!(
            stats
                .by_coder
                .values()
                .all(|c| c.codings > 150 && c.contrast > 10)
        );
        assert!(stats.by_role["clinician"].codings > 50 && stats.by_role["patient"].codings > 100);
        assert!(
            !stats.by_role.contains_key("unknown"),
            "every coding starts in a known speaker's turn"
        );
        let unused: Vec<_> = stats
            .by_code
            .iter()
            .filter(|(_, c)| c.codings == 0)
            .map(|(p, _)| p)
            .collect();
        assert!(
            unused.is_empty(),
            "every code of the model is used: {unused:?}"
        );
        assert!(stats.memos >= 8);
        // The two coders disagree somewhere: not every span of maria's is coded alike by sam.
        let of = |coder| -> BTreeSet<(String, usize, usize, String)> {
            bench
                .codings(None, None, Some(coder))
                .unwrap()
                .into_iter()
                .map(|v| {
                    (
                        v.source,
                        v.coding.span.start,
                        v.coding.span.end,
                        v.code_path,
                    )
                })
                .collect()
        };
        let (maria, sam) = (of("maria"), of("sam"));
        let same = maria.intersection(&sam).count();
        assert!(
            same > 0 && same < maria.len(),
            "{same} of {} identical",
            maria.len()
        );
        let audit = bench.store().audit_log(10).unwrap();
        assert!(audit.iter().all(|e| e.actor == ACTOR));
    }

    #[test]
    fn the_clinicians_accounts_are_attributed_to_the_patients_they_speak_about() {
        let dir = tempfile::tempdir().unwrap();
        let bench =
            materialise(&dir.path().join("sample.between"), &OpenOptions::default()).unwrap();
        let attributed = bench.attributions(None).unwrap();
        for clinician in ["c1-osei.txt", "c2-ruiz.txt", "c3-marsh.txt"] {
            assert!(
                attributed.iter().any(|a| a.source == clinician),
                "{clinician} has no attribution"
            );
        }
        let notes = attributed
            .iter()
            .filter(|a| a.source.ends_with("field-notes.txt"))
            .count();
        assert!(notes > 0, "field notes about patients are attributed");
        let c1 = bench.source("c1-osei.txt").unwrap();
        let boss =
            between_core::text::find_quote(&c1.text, "George calls me the Boss", None).unwrap();
        let about_boss: BTreeSet<&str> = attributed
            .iter()
            .filter(|a| {
                a.source == "c1-osei.txt"
                    && a.attribution.span.start <= boss.start
                    && boss.end <= a.attribution.span.end
            })
            .map(|a| a.about.as_str())
            .collect();
        assert_eq!(about_boss, BTreeSet::from(["P01"]));
        // Not everything: Dr Osei on her own way of working is about no particular patient.
        let general = between_core::text::find_quote(&c1.text, "I listen first.", None).unwrap();
        assert!(!attributed.iter().any(|a| a.source == "c1-osei.txt"
            && a.attribution.span.start < general.end
            && general.start < a.attribution.span.end));
    }

    #[test]
    fn the_global_coefficient_pools_the_groups_of_sibling_codes() {
        let dir = tempfile::tempdir().unwrap();
        let b = materialise(&dir.path().join("s.between"), &OpenOptions::default());
        let b = match b {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        let coders = ["maria".to_string(), "sam".to_string()];
        let report = b
            .agreement(&coders, &[], &[], AgreementUnit::Characters)
            .unwrap();
        assert!(report.groups.len() > 1, "{:?}", report.groups);
        let binaries: Vec<f64> = report
            .groups
            .iter()
            .filter_map(|g| g.measures[0].value)
            .collect();
        let global = report
            .overall
            .iter()
            .find(|m| m.name.starts_with("global α-binary"))
            .unwrap()
            .value
            .unwrap();
        // A pooled ratio lies between the groups' own values.
        let (low, high) = binaries
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(
            low <= global && global <= high,
            "{low} <= {global} <= {high}"
        );
        // Every code row carries its (k)uα, defined or with a reason.
        assert!(report.codes.iter().all(|c| {
            let k = c.measures.last().unwrap();
            k.name.starts_with("(k)uα") && (k.value.is_some() || k.undefined_reason.is_some())
        }));
    }
}
