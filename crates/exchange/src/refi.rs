//! A study ⇄ a REFI-QDA project (`docs/refi-qda.md` sets out the mapping and its conventions).
//!
//! What the standard has no place for travels in documented conventions that other tools show
//! as ordinary text: a code's theory component and indicators as `between:` lines at the end of
//! its Description; a coding's contrast flag as a `between:contrast` line in its selection's
//! Description; a source's speaker turns as the JSON text variable `between: structure`;
//! memos on participants and dyads, and case-study narratives, as Notes whose Description says
//! `between:about=KIND:GUID`. A passage attributed to a participant or dyad is a selection of
//! its own that the case's `SelectionRef` names.

use std::collections::{BTreeMap, HashMap, HashSet};

use between_core::text::CharIndex;
use between_core::*;
use between_refi as refi;
use between_study::{StudyBundle, Workbench};
use uuid::Uuid;

use crate::ExchangeError;

/// Written as the project's `origin`.
pub const ORIGIN: &str = concat!("between ", env!("CARGO_PKG_VERSION"));

const CONVENTION: &str = "between:";
const CONTRAST: &str = "between:contrast";
const CASE_KIND: &str = "between: case";
const KIND: &str = "between: kind";
const STRUCTURE: &str = "between: structure";
const ROLE: &str = "role";
const NAME: &str = "name";
const CLINICIAN: &str = "clinician";
const PATIENT: &str = "patient";
const SINCE: &str = "relationship start";
const INTERVIEWER: &str = "interviewer";
const DATE: &str = "interview date";
const DURATION: &str = "duration (minutes)";
const OTHERS: &str = "others present";
const GUIDE: &str = "guide version";
const CONSENT: &str = "consent recorded";

/// A GUID derived from another and a purpose (stable across exports of the same study).
fn derived(from: &Uuid, purpose: &str) -> Uuid {
    Uuid::new_v5(from, purpose.as_bytes())
}

/// The GUID of a coding's selection: the coding's own with its node bits turned (stable,
/// unique, and cheap for hundreds of thousands of codings).
fn selection_guid(coding: &Uuid) -> String {
    Uuid::from_u128(coding.as_u128() ^ 0x5e1e_c710_u128).to_string()
}

fn user_guid(name: &str) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("between-user:{}", name.to_lowercase()).as_bytes(),
    )
    .to_string()
}

/// The speaker turns, speakers and marks of a source, as the `between: structure` variable.
#[derive(serde::Serialize, serde::Deserialize)]
struct Structure {
    turns: Vec<Turn>,
    speakers: Vec<StructureSpeaker>,
    #[serde(default)]
    markers: Vec<Marker>,
    #[serde(default)]
    blind: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StructureSpeaker {
    label: String,
    role: Role,
    /// The participant's label.
    participant: Option<String>,
}

// ---- export ---------------------------------------------------------------------------------

/// The study as a project. `base_path` is the study's folder, against which relative recording
/// paths are written (`relative:///…`).
pub fn to_refi(bundle: &StudyBundle, base_path: Option<&str>) -> (refi::Project, refi::Report) {
    let mut coders: Vec<String> = bundle.codings.iter().map(|c| c.coder.clone()).collect();
    coders.dedup();
    let (mut exporter, mut project, report) = Exporter::new(bundle, &coders, base_path);
    let mut by_source: HashMap<SourceId, Vec<&Coding>> = HashMap::new();
    for c in &bundle.codings {
        by_source.entry(c.source).or_default().push(c);
    }
    for s in &bundle.sources {
        let codings = by_source.remove(&s.id).unwrap_or_default();
        match exporter.source(s, &codings) {
            ExportedSource::Text(t) => project.text_sources.push(t),
            ExportedSource::Media(m) => project.media_sources.push(m),
        }
    }
    (project, report)
}

/// One source as written: a text source, or a recording with its transcript.
enum ExportedSource {
    Text(refi::TextSource),
    Media(refi::MediaSource),
}

/// What writing the sources needs of the rest of the study (the whole project but its
/// sources is made first; the sources then come one at a time).
struct Exporter<'b> {
    labels: HashMap<ParticipantId, &'b str>,
    vars: Variables,
    on: HashMap<MemoTarget, Vec<String>>,
    passages: HashMap<SourceId, Vec<&'b Memo>>,
    media: HashMap<SourceId, &'b Media>,
    attributions: HashMap<SourceId, Vec<&'b Attribution>>,
}

impl<'b> Exporter<'b> {
    /// The project without its sources, from a bundle whose sources may be shells (only their
    /// ids, participants, dyads, kinds, interview data and blind flags are read) and whose
    /// codings may be missing: `coders` names the coders, in the codings' order.
    fn new(
        bundle: &'b StudyBundle,
        coders: &[String],
        base_path: Option<&str>,
    ) -> (Self, refi::Project, refi::Report) {
        let mut report = refi::Report::default();
        let labels: HashMap<ParticipantId, &str> = bundle
            .participants
            .iter()
            .map(|p| (p.id, p.label.as_str()))
            .collect();
        // Users: every coder, memo author and attributor.
        let mut names: Vec<String> = coders
            .iter()
            .cloned()
            .chain(bundle.memos.iter().map(|m| m.author.clone()))
            .chain(bundle.attributions.iter().map(|a| a.attributed_by.clone()))
            .collect();
        names.sort_by_key(|n| n.to_lowercase());
        names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let users = names
            .iter()
            .map(|n| refi::User {
                guid: user_guid(n),
                name: Some(n.clone()),
                id: None,
            })
            .collect();
        // Memos by what they are about.
        let mut on: HashMap<MemoTarget, Vec<String>> = HashMap::new();
        let mut notes = Vec::new();
        let mut passages: HashMap<SourceId, Vec<&Memo>> = HashMap::new();
        for m in &bundle.memos {
            let about = match (m.target, m.passage) {
                (MemoTarget::Source(s), Some(_)) => {
                    passages.entry(s).or_default().push(m);
                    None
                }
                (MemoTarget::Participant(p), _) => {
                    Some(format!("{CONVENTION}about=participant:{p}"))
                }
                (MemoTarget::Dyad(d), _) => Some(format!("{CONVENTION}about=dyad:{d}")),
                (target, _) => {
                    on.entry(target).or_default().push(m.id.to_string());
                    None
                }
            };
            notes.push(refi::Note {
                guid: m.id.to_string(),
                name: Some(m.title.clone()),
                text: m.text.clone(),
                creating_user: Some(user_guid(&m.author)),
                creation_date_time: Some(m.created_at.clone()),
                modifying_user: None,
                modified_date_time: Some(m.updated_at.clone()),
                description: about,
            });
        }
        for case in &bundle.cases {
            let about = match case.subject {
                CaseSubject::Dyad(d) => format!("{CONVENTION}about=case-study:dyad:{d}"),
                CaseSubject::Clinician(p) => format!("{CONVENTION}about=case-study:clinician:{p}"),
            };
            notes.push(refi::Note {
                guid: case.id.to_string(),
                name: Some("Case study".into()),
                text: case.text.clone(),
                modified_date_time: Some(case.updated_at.clone()),
                description: Some(about),
                ..Default::default()
            });
        }
        let refs = |t: MemoTarget| on.get(&t).cloned().unwrap_or_default();
        // Codes as a tree.
        let codes = code_tree(&bundle.codes, &refs);
        // The selections each case names: its attributed passages.
        let mut attributed: HashMap<AttributionTarget, Vec<String>> = HashMap::new();
        let mut attributions: HashMap<SourceId, Vec<&Attribution>> = HashMap::new();
        for a in &bundle.attributions {
            attributed
                .entry(a.about)
                .or_default()
                .push(a.id.to_string());
            attributions.entry(a.source).or_default().push(a);
        }
        let mut attributed_to =
            |about: AttributionTarget| attributed.remove(&about).unwrap_or_default();
        // Variables: cases' and sources'.
        let mut vars = Variables::default();
        let mut cases = Vec::new();
        for p in &bundle.participants {
            let mut values = vec![
                vars.text(CASE_KIND, "participant"),
                vars.text(ROLE, p.role.as_str()),
            ];
            if let Some(n) = &p.name {
                values.push(vars.text(NAME, n));
            }
            for (k, v) in &p.attributes {
                values.push(vars.typed(k, v, &bundle.participants));
            }
            cases.push(refi::Case {
                guid: p.id.to_string(),
                name: Some(p.label.clone()),
                description: None,
                code_refs: Vec::new(),
                values,
                source_refs: bundle
                    .sources
                    .iter()
                    .filter(|s| s.participant == Some(p.id))
                    .map(|s| s.id.to_string())
                    .collect(),
                selection_refs: attributed_to(AttributionTarget::Participant(p.id)),
            });
        }
        for d in &bundle.dyads {
            let mut values = vec![
                vars.text(CASE_KIND, "dyad"),
                vars.text(
                    CLINICIAN,
                    labels.get(&d.clinician).copied().unwrap_or_default(),
                ),
                vars.text(PATIENT, labels.get(&d.patient).copied().unwrap_or_default()),
            ];
            if let Some(since) = &d.relationship_start {
                values.push(vars.text(SINCE, since));
            }
            cases.push(refi::Case {
                guid: d.id.to_string(),
                name: Some(d.label.clone()),
                description: Some(d.notes.clone()).filter(|n| !n.is_empty()),
                code_refs: Vec::new(),
                values,
                source_refs: bundle
                    .sources
                    .iter()
                    .filter(|s| s.dyad == Some(d.id))
                    .map(|s| s.id.to_string())
                    .collect(),
                selection_refs: attributed_to(AttributionTarget::Dyad(d.id)),
            });
        }
        // The sources' variables, in the order their values make them (which depends only on
        // the interview data, never on the text or turns).
        for s in &bundle.sources {
            source_variables(&mut vars, s);
        }
        // Document groups: the sources of each kind.
        let mut sets = Vec::new();
        for kind in SourceKind::ALL {
            let members: Vec<String> = bundle
                .sources
                .iter()
                .filter(|s| s.kind == *kind)
                .map(|s| s.id.to_string())
                .collect();
            if !members.is_empty() {
                sets.push(refi::Set {
                    guid: Uuid::new_v5(
                        &Uuid::NAMESPACE_OID,
                        format!("between-set:{kind}").as_bytes(),
                    )
                    .to_string(),
                    name: format!("{kind} sources"),
                    description: Some(format!("{CONVENTION}kind={kind}")),
                    member_sources: members,
                    ..Default::default()
                });
            }
        }
        if bundle.sources.iter().any(|s| s.blind) {
            report.warnings.push(
                "blind coding is kept in each source's `between: structure` variable only".into(),
            );
        }
        let project = refi::Project {
            name: bundle.name.clone(),
            origin: Some(ORIGIN.into()),
            base_path: base_path.map(String::from),
            users,
            codes,
            variables: vars.list.clone(),
            cases,
            notes,
            sets,
            description: Some(bundle.description.clone()).filter(|d| !d.is_empty()),
            note_refs: refs(MemoTarget::Study),
            ..Default::default()
        };
        let media = bundle.media.iter().map(|m| (m.source, m)).collect();
        let exporter = Exporter {
            labels,
            vars,
            on,
            passages,
            media,
            attributions,
        };
        (exporter, project, report)
    }

    fn refs(&self, t: MemoTarget) -> Vec<String> {
        self.on.get(&t).cloned().unwrap_or_default()
    }

    /// A source (whole, with its text and turns) and its codings in the study's order.
    fn source(&mut self, s: &Source, codings: &[&Coding]) -> ExportedSource {
        let values = source_values(&mut self.vars, s, &self.labels);
        let on = &self.on;
        let refs = |t: MemoTarget| on.get(&t).cloned().unwrap_or_default();
        let attributions = self.attributions.get(&s.id).map_or(&[][..], Vec::as_slice);
        let mut selections = selections(s, codings, attributions, &refs);
        for m in self.passages.get(&s.id).into_iter().flatten() {
            let Some(p) = m.passage else { continue };
            selections.push(refi::Selection {
                guid: derived(&m.id.0, "passage").to_string(),
                start: p.start,
                end: p.end,
                note_refs: vec![m.id.to_string()],
                ..Default::default()
            });
        }
        let internal = format!("internal://{}.txt", s.id);
        match self.media.get(&s.id) {
            Some(m) => {
                let path = if std::path::Path::new(&m.path).is_absolute() {
                    format!("absolute:///{}", m.path.trim_start_matches('/'))
                } else {
                    format!("relative:///{}", m.path)
                };
                let sync_points = sync_points(s, &selections);
                ExportedSource::Media(refi::MediaSource {
                    kind: if m.is_video() {
                        refi::MediaKind::Video
                    } else {
                        refi::MediaKind::Audio
                    },
                    guid: derived(&s.id.0, "recording").to_string(),
                    name: Some(s.name.clone()),
                    path: Some(path),
                    current_path: None,
                    description: None,
                    transcripts: vec![refi::Transcript {
                        guid: s.id.to_string(),
                        name: Some(s.name.clone()),
                        text: s.text.clone(),
                        plain_text_path: Some(internal),
                        sync_points,
                        selections,
                    }],
                    selections: Vec::new(),
                    codings: Vec::new(),
                    note_refs: self.refs(MemoTarget::Source(s.id)),
                    values,
                })
            }
            None => ExportedSource::Text(refi::TextSource {
                guid: s.id.to_string(),
                name: Some(s.name.clone()),
                text: s.text.clone(),
                plain_text_path: Some(internal),
                description: None,
                creation_date_time: Some(s.imported_at.clone()),
                selections,
                note_refs: self.refs(MemoTarget::Source(s.id)),
                values,
                ..Default::default()
            }),
        }
    }
}

/// A transcript's sync points: one per timed turn, and one at every selection's ends (QDA-XML
/// places transcript selections between sync points), timed by interpolating between turns.
fn sync_points(s: &Source, selections: &[refi::Selection]) -> Vec<refi::SyncPoint> {
    let timed: Vec<(usize, u64)> = s
        .turns
        .iter()
        .filter_map(|t| Some((t.span.start, t.start_ms?)))
        .collect();
    let time_at = |pos: usize| -> u64 {
        let after = timed.iter().position(|(p, _)| *p > pos);
        match after {
            None => timed.last().map_or(0, |t| t.1),
            Some(0) => timed[0].1,
            Some(i) => {
                let ((p0, t0), (p1, t1)) = (timed[i - 1], timed[i]);
                let share = (pos - p0) as f64 / (p1 - p0) as f64;
                t0 + ((t1.saturating_sub(t0)) as f64 * share) as u64
            }
        }
    };
    let mut positions: Vec<usize> = timed.iter().map(|t| t.0).collect();
    positions.extend(selections.iter().flat_map(|sel| [sel.start, sel.end]));
    positions.sort_unstable();
    positions.dedup();
    positions
        .into_iter()
        .map(|pos| refi::SyncPoint {
            guid: derived(&s.id.0, &format!("sync at {pos}")).to_string(),
            time_ms: time_at(pos),
            position: pos,
        })
        .collect()
}

/// The codebook as a hierarchy, built without recursion (a study made before codes had a
/// depth limit may hold a chain of any depth).
fn code_tree(codes: &[Code], refs: &dyn Fn(MemoTarget) -> Vec<String>) -> Vec<refi::Code> {
    let mut children: HashMap<Option<CodeId>, Vec<&Code>> = HashMap::new();
    for c in codes {
        children.entry(c.parent).or_default().push(c);
    }
    // Parents before children; then built in reverse, so children are built first.
    let mut order: Vec<&Code> = Vec::with_capacity(codes.len());
    let mut left: Vec<&Code> = children.get(&None).cloned().unwrap_or_default();
    left.reverse();
    while let Some(c) = left.pop() {
        order.push(c);
        left.extend(children.get(&Some(c.id)).into_iter().flatten().rev());
    }
    let mut built: HashMap<Option<CodeId>, Vec<refi::Code>> = HashMap::new();
    for c in order.into_iter().rev() {
        let mut below = built.remove(&Some(c.id)).unwrap_or_default();
        below.reverse();
        let mut code = refi_code(c, refs);
        code.children = below;
        built.entry(c.parent).or_default().push(code);
    }
    let mut top = built.remove(&None).unwrap_or_default();
    top.reverse();
    top
}

/// One code as REFI-QDA has it, without its children.
fn refi_code(c: &Code, refs: &dyn Fn(MemoTarget) -> Vec<String>) -> refi::Code {
    let mut lines: Vec<String> = Vec::new();
    if let Some(component) = &c.component {
        lines.push(format!("{CONVENTION}component={component}"));
    }
    lines.extend(
        c.indicators
            .iter()
            .map(|i| format!("{CONVENTION}indicator={i}")),
    );
    let description = match (c.definition.is_empty(), lines.is_empty()) {
        (true, true) => None,
        (false, true) => Some(c.definition.clone()),
        (true, false) => Some(lines.join("\n")),
        (false, false) => Some(format!("{}\n\n{}", c.definition, lines.join("\n"))),
    };
    refi::Code {
        guid: c.id.to_string(),
        name: c.name.clone(),
        is_codable: true,
        color: Some(c.colour.to_ascii_uppercase()),
        description,
        note_refs: refs(MemoTarget::Code(c.id)),
        children: Vec::new(),
    }
}

/// A source's codings, each a selection with its coding, then its attributed passages, each a
/// selection of its own (the attribution's GUID, named by its case's `SelectionRef`).
fn selections(
    s: &Source,
    codings: &[&Coding],
    attributions: &[&Attribution],
    refs: &dyn Fn(MemoTarget) -> Vec<String>,
) -> Vec<refi::Selection> {
    let index = CharIndex::new(&s.text);
    let mut users: HashMap<&str, String> = HashMap::new();
    let attributed = attributions.iter().map(|a| refi::Selection {
        guid: a.id.to_string(),
        name: index.slice(a.span).map(String::from),
        start: a.span.start,
        end: a.span.end,
        creating_user: Some(user_guid(&a.attributed_by)),
        creation_date_time: Some(a.attributed_at.clone()).filter(|t| !t.is_empty()),
        ..Default::default()
    });
    let mut selections: Vec<refi::Selection> = codings
        .iter()
        .map(|c| {
            let user = users
                .entry(c.coder.as_str())
                .or_insert_with(|| user_guid(&c.coder))
                .clone();
            let mut lines = Vec::new();
            if c.contrast {
                lines.push(CONTRAST.to_string());
            }
            if let Some(memo) = &c.memo {
                lines.push(memo.clone());
            }
            refi::Selection {
                guid: selection_guid(&c.id.0),
                name: index.slice(c.span).map(String::from),
                start: c.span.start,
                end: c.span.end,
                creating_user: Some(user.clone()),
                creation_date_time: Some(c.created_at.clone()),
                modifying_user: Some(user.clone()),
                modified_date_time: Some(c.updated_at.clone()),
                description: Some(lines.join("\n")).filter(|d| !d.is_empty()),
                codings: vec![refi::Coding {
                    guid: c.id.to_string(),
                    code: c.code.to_string(),
                    creating_user: Some(user),
                    creation_date_time: Some(c.created_at.clone()),
                    note_refs: refs(MemoTarget::Coding(c.id)),
                }],
                note_refs: Vec::new(),
            }
        })
        .collect();
    selections.extend(attributed);
    selections
}

/// Makes the variables a source's values need (they depend on its interview data only).
fn source_variables(vars: &mut Variables, s: &Source) {
    let shell = Source {
        id: s.id,
        name: String::new(),
        kind: s.kind,
        participant: None,
        dyad: None,
        text: String::new(),
        turns: Vec::new(),
        speakers: Vec::new(),
        markers: Vec::new(),
        interview: s.interview.clone(),
        imported_at: String::new(),
        blind: s.blind,
        version: 0,
    };
    source_values(vars, &shell, &HashMap::new());
}

fn source_values(
    vars: &mut Variables,
    s: &Source,
    labels: &HashMap<ParticipantId, &str>,
) -> Vec<refi::VariableValue> {
    let info = &s.interview;
    let mut values = vec![vars.text(KIND, s.kind.as_str())];
    if let Some(v) = &info.interviewer {
        values.push(vars.text(INTERVIEWER, v));
    }
    if let Some(v) = &info.date {
        values.push(if is_date(v) {
            vars.value(DATE, refi::VariableType::Date, refi::Value::Date(v.clone()))
        } else {
            vars.text(&format!("{DATE} (as written)"), v)
        });
    }
    if let Some(v) = info.duration_minutes {
        values.push(vars.value(
            DURATION,
            refi::VariableType::Integer,
            refi::Value::Integer(i64::from(v)),
        ));
    }
    if !info.others_present.is_empty() {
        values.push(vars.text(OTHERS, &info.others_present.join(", ")));
    }
    if let Some(v) = &info.guide_version {
        values.push(vars.text(GUIDE, v));
    }
    if let Some(v) = info.consent_recorded {
        values.push(vars.value(
            CONSENT,
            refi::VariableType::Boolean,
            refi::Value::Boolean(v),
        ));
    }
    let structure = Structure {
        turns: s.turns.clone(),
        speakers: s
            .speakers
            .iter()
            .map(|sp| StructureSpeaker {
                label: sp.label.clone(),
                role: sp.role,
                participant: sp
                    .participant
                    .and_then(|p| labels.get(&p).map(|l| l.to_string())),
            })
            .collect(),
        markers: s.markers.clone(),
        blind: s.blind,
    };
    values.push(vars.text(
        STRUCTURE,
        &serde_json::to_string(&structure).unwrap_or_default(),
    ));
    values
}

fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && v.chars()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// The project's variables, made as values need them (one per name and type).
#[derive(Default)]
struct Variables {
    list: Vec<refi::Variable>,
}

impl Variables {
    fn value(
        &mut self,
        name: &str,
        kind: refi::VariableType,
        value: refi::Value,
    ) -> refi::VariableValue {
        let guid = match self.list.iter().find(|v| v.name == name && v.kind == kind) {
            Some(v) => v.guid.clone(),
            None => {
                let guid = Uuid::new_v5(
                    &Uuid::NAMESPACE_OID,
                    format!("between-variable:{name}:{kind:?}").as_bytes(),
                )
                .to_string();
                self.list.push(refi::Variable {
                    guid: guid.clone(),
                    name: name.to_string(),
                    kind,
                    description: None,
                });
                guid
            }
        };
        refi::VariableValue {
            variable: guid,
            value,
        }
    }

    fn text(&mut self, name: &str, value: &str) -> refi::VariableValue {
        self.value(
            name,
            refi::VariableType::Text,
            refi::Value::Text(value.to_string()),
        )
    }

    /// A participant attribute, typed by what every participant's value of it looks like.
    fn typed(&mut self, name: &str, value: &str, all: &[Participant]) -> refi::VariableValue {
        let values: Vec<&str> = all
            .iter()
            .filter_map(|p| p.attributes.get(name).map(String::as_str))
            .collect();
        if values.iter().all(|v| v.parse::<i64>().is_ok())
            && let Ok(n) = value.parse()
        {
            return self.value(name, refi::VariableType::Integer, refi::Value::Integer(n));
        }
        if values.iter().all(|v| matches!(*v, "true" | "false")) {
            return self.value(
                name,
                refi::VariableType::Boolean,
                refi::Value::Boolean(value == "true"),
            );
        }
        if values.iter().all(|v| is_date(v)) {
            return self.value(
                name,
                refi::VariableType::Date,
                refi::Value::Date(value.into()),
            );
        }
        self.text(name, value)
    }
}

/// A study as a `.qdpx` (zip) project, with what was not carried over.
pub fn export_qdpx(bench: &Workbench) -> Result<(Vec<u8>, refi::Report), ExchangeError> {
    let (cursor, report) = export_qdpx_to(bench, std::io::Cursor::new(Vec::new()))?;
    Ok((cursor.into_inner(), report))
}

/// A study as a `.qdpx` (zip) project written into `out` (a file, say) as it is made: the
/// sources are read from the study one at a time (twice: for `project.qde`, then for their
/// texts), never all in memory. The bytes are [`export_qdpx`]'s.
pub fn export_qdpx_to<W: std::io::Write + std::io::Seek + Send>(
    bench: &Workbench,
    out: W,
) -> Result<(W, refi::Report), ExchangeError> {
    bench.may_exchange()?;
    let (skeleton, coders) = bench.bundle_skeleton()?;
    let folder = bench.study_folder().map(|f| f.display().to_string());
    let (exporter, head, mut report) = Exporter::new(&skeleton, &coders, folder.as_deref());
    report_study_only(bench, &mut report)?;
    let mut feed = StudyFeed {
        bench,
        skeleton: &skeleton,
        exporter,
    };
    let out = refi::write_qdpx_to(&head, &mut feed, out)?;
    Ok((out, report))
}

/// A study's sources, read one at a time, as the writer asks for them.
struct StudyFeed<'b> {
    bench: &'b Workbench,
    skeleton: &'b StudyBundle,
    exporter: Exporter<'b>,
}

impl<'b> StudyFeed<'b> {
    /// The sources in the order they are written: text sources, then recordings.
    fn order(&self) -> Vec<&'b Source> {
        let skeleton: &'b StudyBundle = self.skeleton;
        let media = |s: &&Source| self.exporter.media.contains_key(&s.id);
        let text = skeleton.sources.iter().filter(|s| !media(s));
        let recorded = skeleton.sources.iter().filter(media);
        text.chain(recorded).collect()
    }
}

fn study_error(e: between_study::StudyError) -> refi::RefiError {
    refi::RefiError::Write {
        what: "the study".into(),
        why: e.to_string(),
    }
}

impl refi::SourceFeed for StudyFeed<'_> {
    fn any(&mut self) -> Result<bool, refi::RefiError> {
        Ok(!self.skeleton.sources.is_empty())
    }

    fn sources(
        &mut self,
        each: &mut dyn FnMut(refi::SourceItem<'_>) -> Result<(), refi::RefiError>,
    ) -> Result<(), refi::RefiError> {
        for shell in self.order() {
            let s = self.bench.source_uncached(shell).map_err(study_error)?;
            let codings = self.bench.source_codings(s.id).map_err(study_error)?;
            let codings: Vec<&Coding> = codings.iter().collect();
            match self.exporter.source(&s, &codings) {
                ExportedSource::Text(t) => each(refi::SourceItem::Text(&t))?,
                ExportedSource::Media(m) => each(refi::SourceItem::Media(&m))?,
            }
        }
        Ok(())
    }

    fn texts(
        &mut self,
        each: &mut dyn FnMut(&str, &str) -> Result<(), refi::RefiError>,
    ) -> Result<(), refi::RefiError> {
        for shell in self.order() {
            let text = self.bench.source_text(shell.id).map_err(study_error)?;
            each(&shell.id.to_string(), &text)?;
        }
        Ok(())
    }
}

/// A study as a bare `.qde` project (texts inline), with what was not carried over.
pub fn export_qde(bench: &Workbench) -> Result<(String, refi::Report), ExchangeError> {
    let (mut project, report) = export_project(bench)?;
    for s in &mut project.text_sources {
        s.plain_text_path = None;
    }
    for t in project
        .media_sources
        .iter_mut()
        .flat_map(|m| &mut m.transcripts)
    {
        t.plain_text_path = None;
    }
    Ok((refi::write_project(&project)?, report))
}

/// A study's codebook as a `.qdc`.
pub fn export_qdc(bench: &Workbench) -> Result<String, ExchangeError> {
    let (project, _) = export_project(bench)?;
    Ok(refi::write_codebook(&refi::Codebook {
        origin: Some(ORIGIN.into()),
        codes: project.codes,
        sets: Vec::new(),
    }))
}

fn export_project(bench: &Workbench) -> Result<(refi::Project, refi::Report), ExchangeError> {
    bench.may_exchange()?;
    let bundle = bench.bundle()?;
    let folder = bench.study_folder().map(|f| f.display().to_string());
    let (project, mut report) = to_refi(&bundle, folder.as_deref());
    report_study_only(bench, &mut report)?;
    Ok((project, report))
}

/// What a study keeps that REFI-QDA has no place for, beyond its bundle.
fn report_study_only(bench: &Workbench, report: &mut refi::Report) -> Result<(), ExchangeError> {
    report.drop(
        "exemplar quote",
        bench.exemplars()?.len(),
        "REFI-QDA has no exemplar quotes; the team's choices stay in the study",
    );
    Ok(())
}

/// A `.qdpx` or `.qde` file as a study's content, with what was not carried over.
pub fn read_project_file(
    name: &str,
    bytes: &[u8],
    unit: refi::PositionUnit,
) -> Result<(StudyBundle, refi::Report), ExchangeError> {
    let options = refi::ReadOptions {
        unit,
        ..Default::default()
    };
    let (project, mut report) = refi::read_project(name, bytes, &options)?;
    let bundle = from_refi(name, project, &mut report)?;
    Ok((bundle, report))
}

/// A `.qdc` codebook as a study's content (codes only).
pub fn read_codebook_file(
    name: &str,
    bytes: &[u8],
) -> Result<(StudyBundle, refi::Report), ExchangeError> {
    let (codebook, mut report) = refi::read_codebook(name, bytes)?;
    report.drop("Set", codebook.sets.len(), "between has no code groups");
    let project = refi::Project {
        codes: codebook.codes,
        origin: codebook.origin,
        ..Default::default()
    };
    let bundle = from_refi(name, project, &mut report)?;
    Ok((bundle, report))
}

// ---- import ---------------------------------------------------------------------------------

/// A project (read from `file`) as a study's content. What has no place in a study is listed
/// in `report`.
pub fn from_refi(
    file: &str,
    mut project: refi::Project,
    report: &mut refi::Report,
) -> Result<StudyBundle, ExchangeError> {
    let (mut importer, head) = Importer::head(file, &project, report)?;
    let mut bundle = StudyBundle {
        participants: head.participants,
        dyads: head.dyads,
        codes: head.codes,
        ..StudyBundle::default()
    };
    let sources = std::mem::take(&mut project.text_sources)
        .into_iter()
        .map(refi::ReadSource::Text)
        .chain(
            std::mem::take(&mut project.media_sources)
                .into_iter()
                .map(refi::ReadSource::Media),
        );
    for source in sources {
        for doc in importer.source(source, report)? {
            if let Some(file) = &doc.recording {
                report.warnings.push(format!(
                    "{}: the recording {} is not linked: a project read apart from a study links no files",
                    doc.source.name,
                    file.display()
                ));
            }
            bundle.sources.push(doc.source);
            bundle.codings.extend(doc.codings);
            bundle.attributions.extend(doc.attributions);
        }
    }
    let tail = importer.tail(project, report)?;
    bundle.name = tail.name;
    bundle.description = tail.description;
    bundle.memos = tail.memos;
    bundle.cases = tail.cases;
    Ok(bundle)
}

/// Reads a project (a `.qdpx` or `.qde`, from a file or bytes) straight into `bench` as one
/// change, a source at a time: the project is never held whole, so a large one needs little
/// memory. Nothing lands unless all of it does. `name_study` gives the study the project's
/// name and description (a study made for the import).
pub fn import_project(
    bench: &mut Workbench,
    file_name: &str,
    input: refi::ProjectInput<'_>,
    unit: refi::PositionUnit,
    name_study: bool,
) -> Result<(between_study::Merged, refi::Report), ExchangeError> {
    let streamed = |streamed| refi::ReadOptions {
        unit,
        streamed,
        ..Default::default()
    };
    // Recordings are linked only from inside the study's folder (symlinks followed): a project
    // must not hand the study's readers other files of the machine.
    let folder = bench.study_folder();
    let mut attempt = |options: refi::ReadOptions| {
        let mut merge = bench.begin_merge()?;
        let mut unlinked = Vec::new();
        let mut report = read_alongside(file_name, input, &options, &mut |part| match part {
            Part::Head(head) => {
                merge.people(head.participants, head.dyads)?;
                merge
                    .codes(head.codes)
                    .map_err(|e| ExchangeError::Study(e.at(file_name)))
            }
            Part::Doc(doc) => {
                let Imported {
                    source,
                    codings,
                    attributions,
                    recording,
                } = *doc;
                let media = recording.and_then(|file| {
                    let linked = folder
                        .as_deref()
                        .ok_or_else(|| "the study has no folder to link it from".to_string())
                        .and_then(|f| between_study::recording_inside(f, &file, source.id));
                    linked
                        .map_err(|why| {
                            unlinked.push(format!(
                                "{}: the recording {} is not linked: {why}",
                                source.name,
                                file.display()
                            ))
                        })
                        .ok()
                });
                merge.source(source, codings, media)?;
                Ok(merge.attributions(attributions)?)
            }
            Part::Tail(tail) => {
                merge.memos(tail.memos, tail.cases)?;
                if name_study {
                    merge.name_study(&tail.name, &tail.description)?;
                }
                Ok(())
            }
        })?;
        let merged = merge.commit()?;
        report.warnings.append(&mut unlinked);
        Ok::<_, ExchangeError>((merged, report))
    };
    match attempt(streamed(true)) {
        // A project out of the schema's order is read whole (what was written is rolled back).
        Err(ExchangeError::Refi(refi::RefiError::NotStreamable { .. })) => attempt(streamed(false)),
        other => other,
    }
}

/// How many parts of a project the reading thread may be ahead of the study.
const READ_AHEAD: usize = 1;

/// Reads a project and maps it to a study's objects ([`refi::read_project_into`] into an
/// [`Importer`]) on a thread of its own, while `take` writes each part on this one as it
/// comes: reading (inflating, parsing XML, mapping) and writing the study (SQLite) take about
/// as long each, and overlap. A failure on either side stops both.
fn read_alongside(
    file_name: &str,
    input: refi::ProjectInput<'_>,
    options: &refi::ReadOptions,
    take: &mut dyn FnMut(Part) -> Result<(), ExchangeError>,
) -> Result<refi::Report, ExchangeError> {
    std::thread::scope(|scope| {
        let (parts, received) = std::sync::mpsc::sync_channel(READ_AHEAD);
        let reader = scope.spawn(move || {
            let mut forward = Forward {
                file: file_name,
                parts,
                importer: None,
            };
            refi::read_project_into(file_name, input, options, &mut forward)
        });
        let taken = received.iter().try_for_each(&mut *take);
        // A reader waiting to hand on a part stops when no one is left to take it.
        drop(received);
        let read = reader.join().unwrap_or_else(|_| {
            Err(ReadFailed::Exchange(problem(format!(
                "{file_name}: the thread reading it stopped unexpectedly"
            ))))
        });
        taken?;
        match read {
            Ok(report) => Ok(report),
            Err(ReadFailed::Exchange(e)) => Err(e),
            // Parts are taken until the reader is done, so it never finds no one taking them.
            Err(ReadFailed::NoOneTaking) => Err(problem(format!(
                "{file_name}: the import stopped before the project's end"
            ))),
        }
    })
}

/// A part of a project as the reading thread hands it on, mapped to the study's objects.
enum Part {
    Head(Head),
    Doc(Box<Imported>),
    Tail(Tail),
}

/// Why the reading thread stopped.
enum ReadFailed {
    Exchange(ExchangeError),
    /// The side taking the parts failed (and says why).
    NoOneTaking,
}

impl From<refi::RefiError> for ReadFailed {
    fn from(e: refi::RefiError) -> Self {
        ReadFailed::Exchange(e.into())
    }
}

impl From<ExchangeError> for ReadFailed {
    fn from(e: ExchangeError) -> Self {
        ReadFailed::Exchange(e)
    }
}

/// Maps each part read and hands it to the thread bringing it into the study.
struct Forward<'f> {
    file: &'f str,
    parts: std::sync::mpsc::SyncSender<Part>,
    importer: Option<Importer>,
}

impl Forward<'_> {
    fn send(&self, part: Part) -> Result<(), ReadFailed> {
        self.parts.send(part).map_err(|_| ReadFailed::NoOneTaking)
    }
}

impl refi::ProjectSink for Forward<'_> {
    type Error = ReadFailed;

    fn head(
        &mut self,
        project: &refi::Project,
        report: &mut refi::Report,
    ) -> Result<(), ReadFailed> {
        let (importer, head) = Importer::head(self.file, project, report)?;
        self.importer = Some(importer);
        self.send(Part::Head(head))
    }

    fn source(
        &mut self,
        source: refi::ReadSource,
        report: &mut refi::Report,
    ) -> Result<(), ReadFailed> {
        let importer = self.importer.as_mut().expect("the head comes first");
        for doc in importer.source(source, report)? {
            self.send(Part::Doc(Box::new(doc)))?;
        }
        Ok(())
    }

    fn tail(
        &mut self,
        project: refi::Project,
        report: &mut refi::Report,
    ) -> Result<(), ReadFailed> {
        let importer = self.importer.take().expect("the head comes first");
        let tail = importer.tail(project, report)?;
        self.send(Part::Tail(tail))
    }
}

/// What comes before the sources.
struct Head {
    participants: Vec<Participant>,
    dyads: Vec<Dyad>,
    codes: Vec<Code>,
}

/// What comes after them.
struct Tail {
    name: String,
    description: String,
    memos: Vec<Memo>,
    cases: Vec<Case>,
}

/// One document of the project as a study's source.
struct Imported {
    source: Source,
    codings: Vec<Coding>,
    /// Its passages a case's `SelectionRef` names, attributed to the case's participant or dyad.
    attributions: Vec<Attribution>,
    /// The file of its recording as the project names it (relative ones start at the study's
    /// folder); linked only if it lies inside that folder.
    recording: Option<std::path::PathBuf>,
}

/// Maps a project to a study's objects in the order it is read: the head (codebook, cases),
/// each source, the tail (notes). Keeps only what later parts refer to.
struct Importer {
    users: HashMap<String, String>,
    variables: HashMap<String, String>,
    code_ids: HashSet<CodeId>,
    participants: Vec<(String, ParticipantId)>,
    case_of_source: HashMap<String, (Option<ParticipantId>, Option<DyadId>)>,
    case_ids: HashSet<Uuid>,
    /// Where each note is attached.
    note_targets: HashMap<String, (MemoTarget, Option<Span>)>,
    names_taken: HashSet<String>,
    /// Selections that carry a comment and no coding: passage memos.
    annotations: Vec<Memo>,
    base_path: Option<String>,
    /// The selections cases name (normalised GUIDs) and whom they are attributed to, until
    /// they are met; what is left at the end could not be attributed.
    attributing: HashMap<String, Vec<CaseRef>>,
    /// Why a selection a case names was met but not attributed (by its normalised GUID).
    not_attributed: HashMap<String, &'static str>,
}

/// A case's reference to a selection: what it attributes the selection to, and the case's name
/// (for the report).
struct CaseRef {
    about: AttributionTarget,
    case: String,
}

fn problem(message: String) -> ExchangeError {
    ExchangeError::File {
        origin: "project".into(),
        message,
    }
}

fn id(guid: &str, what: &str) -> Result<Uuid, ExchangeError> {
    Uuid::parse_str(guid.trim_matches(|c| c == '{' || c == '}'))
        .map_err(|_| problem(format!("{what} '{guid}' is not a GUID")))
}

impl Importer {
    fn who(&self, g: &Option<String>) -> String {
        g.as_ref()
            .and_then(|g| self.users.get(&g.to_ascii_lowercase()).cloned())
            .unwrap_or_else(|| "imported".into())
    }

    fn named(&self, values: &[refi::VariableValue]) -> BTreeMap<String, String> {
        named_values(&self.variables, values)
    }

    fn by_label(&self, l: &str) -> Option<ParticipantId> {
        self.participants
            .iter()
            .find(|(label, _)| label.eq_ignore_ascii_case(l))
            .map(|(_, id)| *id)
    }

    /// The notes on each code of a hierarchy.
    fn attach_code_notes(&mut self, tree: &[refi::Code]) -> Result<(), ExchangeError> {
        for (_, c) in refi::Code::walk(tree) {
            let target = MemoTarget::Code(CodeId(id(&c.guid, "code")?));
            self.attach(&c.note_refs, target, None);
        }
        Ok(())
    }

    fn attach(&mut self, refs: &[String], target: MemoTarget, passage: Option<Span>) {
        for r in refs {
            self.note_targets
                .entry(r.to_ascii_lowercase())
                .or_insert((target, passage));
        }
    }

    /// The codebook and cases of the project read from `file`.
    fn head(
        file: &str,
        project: &refi::Project,
        report: &mut refi::Report,
    ) -> Result<(Importer, Head), ExchangeError> {
        let users: HashMap<String, String> = project
            .users
            .iter()
            .map(|u| {
                (
                    u.guid.to_ascii_lowercase(),
                    u.name
                        .clone()
                        .or_else(|| u.id.clone())
                        .unwrap_or_else(|| u.guid.clone()),
                )
            })
            .collect();
        let variables: HashMap<String, String> = project
            .variables
            .iter()
            .map(|v| (v.guid.to_ascii_lowercase(), v.name.clone()))
            .collect();
        let named = |values: &[refi::VariableValue]| named_values(&variables, values);
        // Codes.
        let mut codes = Vec::new();
        let mut renamed = 0;
        import_codes(file, &project.codes, &mut codes, &mut renamed)?;
        if renamed > 0 {
            report.warnings.push(format!(
                "{renamed} code names had a '/' or a sibling of the same name; between renamed them"
            ));
        }
        let categories = count_categories(&project.codes);
        if categories > 0 {
            report.warnings.push(format!(
                "{categories} categories (isCodable=\"false\") became codes; between applies any code"
            ));
        }
        let code_ids: HashSet<CodeId> = codes.iter().map(|c| c.id).collect();
        // Cases: participants and dyads.
        let mut participants: Vec<Participant> = Vec::new();
        let mut dyad_cases = Vec::new();
        let mut case_of_source: HashMap<String, (Option<ParticipantId>, Option<DyadId>)> =
            HashMap::new();
        let mut labels_taken: HashSet<String> = HashSet::new();
        let mut attributing: HashMap<String, Vec<CaseRef>> = HashMap::new();
        for (i, case) in project.cases.iter().enumerate() {
            let mut values = named(&case.values);
            let kind = values.remove(CASE_KIND);
            if kind.as_deref() == Some("dyad") {
                dyad_cases.push((case, values));
                continue;
            }
            let mut label = case
                .name
                .clone()
                .unwrap_or_else(|| format!("Case {}", i + 1));
            while !labels_taken.insert(label.to_lowercase()) {
                label.push('\'');
            }
            let role = match values.remove(ROLE).as_deref() {
                Some("clinician") => Role::Clinician,
                Some("patient") => Role::Patient,
                _ => Role::Other,
            };
            let p = Participant {
                id: ParticipantId(id(&case.guid, "case")?),
                label,
                role,
                name: values.remove(NAME),
                attributes: values,
                version: 1,
            };
            for s in &case.source_refs {
                case_of_source.entry(s.to_ascii_lowercase()).or_default().0 = Some(p.id);
            }
            name_selections(
                &mut attributing,
                case,
                AttributionTarget::Participant(p.id),
                &p.label,
            );
            participants.push(p);
        }
        let by_label = |l: &str| {
            participants
                .iter()
                .find(|p| p.label.eq_ignore_ascii_case(l))
                .map(|p| p.id)
        };
        let mut dyads = Vec::new();
        for (case, values) in dyad_cases {
            let (Some(c), Some(p)) = (
                values.get(CLINICIAN).and_then(|l| by_label(l)),
                values.get(PATIENT).and_then(|l| by_label(l)),
            ) else {
                report.drop("Case", 1, "a dyad whose clinician or patient is not a case");
                report.drop(
                    "SelectionRef",
                    case.selection_refs.len(),
                    "of a case not carried over",
                );
                continue;
            };
            let d = Dyad {
                id: DyadId(id(&case.guid, "case")?),
                label: case.name.clone().unwrap_or_else(|| case.guid.clone()),
                clinician: c,
                patient: p,
                relationship_start: values.get(SINCE).cloned(),
                notes: case.description.clone().unwrap_or_default(),
                version: 1,
            };
            for s in &case.source_refs {
                case_of_source.entry(s.to_ascii_lowercase()).or_default().1 = Some(d.id);
            }
            name_selections(
                &mut attributing,
                case,
                AttributionTarget::Dyad(d.id),
                &d.label,
            );
            dyads.push(d);
        }
        let case_ids: HashSet<Uuid> = participants
            .iter()
            .map(|p| p.id.0)
            .chain(dyads.iter().map(|d| d.id.0))
            .collect();
        let mut importer = Importer {
            users,
            variables,
            code_ids,
            participants: participants
                .iter()
                .map(|p| (p.label.clone(), p.id))
                .collect(),
            case_of_source,
            case_ids,
            note_targets: HashMap::new(),
            names_taken: HashSet::new(),
            annotations: Vec::new(),
            base_path: project.base_path.clone(),
            attributing,
            not_attributed: HashMap::new(),
        };
        // Notes, and where they are attached (the project's own note references come with
        // the tail).
        importer.attach_code_notes(&project.codes)?;
        Ok((
            importer,
            Head {
                participants,
                dyads,
                codes,
            },
        ))
    }

    /// A source as the study's sources: a text source is one, a recording one per transcript.
    fn source(
        &mut self,
        source: refi::ReadSource,
        report: &mut refi::Report,
    ) -> Result<Vec<Imported>, ExchangeError> {
        match &source {
            refi::ReadSource::Text(s) => {
                let doc = Doc {
                    guid: &s.guid,
                    name: s.name.as_deref(),
                    text: &s.text,
                    selections: &s.selections,
                    whole: &s.codings,
                    note_refs: &s.note_refs,
                    values: &s.values,
                    sync_points: &[],
                    recording: None,
                    created: s.creation_date_time.as_deref(),
                };
                Ok(vec![self.doc(doc, report)?])
            }
            refi::ReadSource::Media(m) => {
                if m.transcripts.is_empty() {
                    report.drop(
                        if m.kind == refi::MediaKind::Audio {
                            "AudioSource"
                        } else {
                            "VideoSource"
                        },
                        1,
                        "a recording without a transcript: between holds transcripts",
                    );
                }
                report.drop(
                    "AudioSelection/VideoSelection",
                    m.selections.len(),
                    "between codes transcripts, not stretches of time",
                );
                for sel in &m.selections {
                    self.not_attributed_because(
                        &sel.guid,
                        "a stretch of time of a recording; between attributes passages of text",
                    );
                }
                let mut out = Vec::new();
                for t in &m.transcripts {
                    let doc = Doc {
                        guid: &t.guid,
                        name: t.name.as_deref().or(m.name.as_deref()),
                        text: &t.text,
                        selections: &t.selections,
                        whole: &m.codings,
                        note_refs: &m.note_refs,
                        values: &m.values,
                        sync_points: &t.sync_points,
                        recording: Some(m),
                        created: None,
                    };
                    out.push(self.doc(doc, report)?);
                }
                Ok(out)
            }
        }
    }

    fn doc(&mut self, doc: Doc<'_>, report: &mut refi::Report) -> Result<Imported, ExchangeError> {
        let mut codings = Vec::new();
        let mut attributions = Vec::new();
        let mut recording = None;
        let source_id = SourceId(id(doc.guid, "source")?);
        let values = self.named(doc.values);
        let mut name = doc
            .name
            .map(String::from)
            .unwrap_or_else(|| doc.guid.to_string());
        while !self.names_taken.insert(name.clone()) {
            name.push('\'');
        }
        let length = text::char_len(doc.text);
        let structure: Option<Structure> = values
            .get(STRUCTURE)
            .and_then(|j| serde_json::from_str(j).ok())
            .filter(|s: &Structure| {
                s.turns
                    .iter()
                    .all(|t| t.span.end <= length && t.span.start <= t.span.end)
                    && s.markers.iter().all(|m| m.span.end <= length)
            });
        let (turns, speakers, markers, blind) = match structure {
            Some(s) => (
                s.turns,
                s.speakers
                    .into_iter()
                    .map(|sp| Speaker {
                        participant: sp.participant.as_deref().and_then(|l| self.by_label(l)),
                        label: sp.label,
                        role: sp.role,
                    })
                    .collect(),
                s.markers,
                s.blind,
            ),
            None => {
                let parsed = between_ingest::parse_plain(doc.text.to_string());
                let mut turns = parsed.turns;
                if !doc.sync_points.is_empty() {
                    turns = timed_turns(doc.text, doc.sync_points);
                }
                let speakers = parsed_speakers(&turns);
                (turns, speakers, parsed.markers, false)
            }
        };
        let (participant, dyad) = self
            .case_of_source
            .get(&doc.guid.to_ascii_lowercase())
            .copied()
            .unwrap_or_default();
        let kind = values
            .get(KIND)
            .and_then(|k| k.parse().ok())
            .unwrap_or(SourceKind::Interview);
        let interview = InterviewInfo {
            interviewer: values.get(INTERVIEWER).cloned(),
            date: values
                .get(DATE)
                .or_else(|| values.get(&format!("{DATE} (as written)")))
                .cloned(),
            duration_minutes: values.get(DURATION).and_then(|v| v.parse().ok()),
            others_present: values
                .get(OTHERS)
                .map(|v| v.split(", ").map(String::from).collect())
                .unwrap_or_default(),
            guide_version: values.get(GUIDE).cloned(),
            consent_recorded: values.get(CONSENT).map(|v| v == "true"),
        };
        self.attach(doc.note_refs, MemoTarget::Source(source_id), None);
        for sel in doc.selections {
            let span = Span {
                start: sel.start,
                end: sel.end,
            };
            if span.end <= span.start || span.end > length {
                report.warnings.push(format!(
                    "{name}: selection {} ({}..{}) lies outside the text of {length} characters; left out",
                    sel.guid, sel.start, sel.end
                ));
                self.not_attributed_because(&sel.guid, "it lies outside its text");
                continue;
            }
            self.attach(&sel.note_refs, MemoTarget::Source(source_id), Some(span));
            let attributed =
                self.attribute(sel, source_id, participant, span, &mut attributions, report)?;
            let (contrast, memo) = selection_notes(sel.description.as_deref());
            if sel.codings.is_empty() && sel.note_refs.is_empty() {
                // An annotation (MAXQDA's comments, ATLAS.ti 26's memos): a passage memo.
                match &memo {
                    Some(text) => self.annotations.push(Memo {
                        id: MemoId(id(&sel.guid, "selection")?),
                        target: MemoTarget::Source(source_id),
                        passage: Some(span),
                        author: self.who(&sel.creating_user),
                        title: sel.name.clone().unwrap_or_else(|| "Comment".into()),
                        text: text.clone(),
                        created_at: sel.creation_date_time.clone().unwrap_or_default(),
                        updated_at: sel.modified_date_time.clone().unwrap_or_default(),
                        version: 1,
                    }),
                    None if attributed => {}
                    None => report.drop(
                        "PlainTextSelection",
                        1,
                        "a selection with no coding, note, comment or case",
                    ),
                }
                continue;
            }
            for c in &sel.codings {
                let code = CodeId(id(&c.code, "code")?);
                if !self.code_ids.contains(&code) {
                    report.warnings.push(format!(
                        "{name}: a coding names no code of the codebook ({}); left out",
                        c.code
                    ));
                    continue;
                }
                let coding_id = CodingId(id(&c.guid, "coding")?);
                self.attach(&c.note_refs, MemoTarget::Coding(coding_id), None);
                let created = c
                    .creation_date_time
                    .clone()
                    .or_else(|| sel.creation_date_time.clone())
                    .unwrap_or_default();
                codings.push(Coding {
                    id: coding_id,
                    source: source_id,
                    code,
                    span,
                    coder: self.who(
                        &c.creating_user
                            .clone()
                            .or_else(|| sel.creating_user.clone()),
                    ),
                    contrast,
                    memo: memo.clone(),
                    updated_at: sel
                        .modified_date_time
                        .clone()
                        .unwrap_or_else(|| created.clone()),
                    created_at: created,
                    version: 1,
                });
            }
        }
        for c in doc.whole {
            let code = CodeId(id(&c.code, "code")?);
            if length == 0 || !self.code_ids.contains(&code) {
                continue;
            }
            codings.push(Coding {
                id: CodingId(id(&c.guid, "coding")?),
                source: source_id,
                code,
                span: Span {
                    start: 0,
                    end: length,
                },
                coder: self.who(&c.creating_user),
                contrast: false,
                memo: None,
                created_at: c.creation_date_time.clone().unwrap_or_default(),
                updated_at: c.creation_date_time.clone().unwrap_or_default(),
                version: 1,
            });
        }
        if let Some(m) = doc.recording {
            match recording_file(m, self.base_path.as_deref()) {
                Some(file) => recording = Some(file),
                None => report.warnings.push(format!(
                    "{name}: the recording {} is not a path between can link (only relative:/// and absolute:/// files)",
                    m.path.as_deref().unwrap_or("(none)")
                )),
            }
        }
        Ok(Imported {
            source: Source {
                id: source_id,
                name,
                kind,
                participant,
                dyad,
                text: doc.text.to_string(),
                turns,
                speakers,
                markers,
                interview,
                imported_at: doc.created.map(String::from).unwrap_or_default(),
                blind,
                version: 1,
            },
            codings,
            attributions,
            recording,
        })
    }

    /// Attributes a selection to each case that names it (a case of the participant whose
    /// own account the source is excepted: the passage is theirs already). The first case's
    /// attribution takes the selection's GUID (so between's own attributions keep their ids),
    /// any other one a GUID derived from it and the case. Whether any case named it.
    fn attribute(
        &mut self,
        sel: &refi::Selection,
        source: SourceId,
        own: Option<ParticipantId>,
        span: Span,
        out: &mut Vec<Attribution>,
        report: &mut refi::Report,
    ) -> Result<bool, ExchangeError> {
        let Some(cases) = self.attributing.remove(&refi::normalize_guid(&sel.guid)) else {
            return Ok(false);
        };
        let selection = id(&sel.guid, "selection")?;
        let mut targets: Vec<AttributionTarget> = Vec::new();
        for CaseRef { about, case } in cases {
            if targets.contains(&about) {
                continue;
            }
            if own.is_some_and(|p| about == AttributionTarget::Participant(p)) {
                let why = "a passage of the participant's own account (it is theirs already)";
                report.warn(format!(
                    "case {case}: selection {} is not attributed to it: {why}",
                    sel.guid
                ));
                report.drop("SelectionRef", 1, why);
                continue;
            }
            let attribution_id = match (targets.is_empty(), about) {
                (true, _) => selection,
                (false, AttributionTarget::Participant(p)) => {
                    derived(&selection, &format!("attribution:{p}"))
                }
                (false, AttributionTarget::Dyad(d)) => {
                    derived(&selection, &format!("attribution:{d}"))
                }
            };
            targets.push(about);
            out.push(Attribution {
                id: AttributionId(attribution_id),
                source,
                span,
                about,
                attributed_by: self.who(&sel.creating_user),
                attributed_at: sel.creation_date_time.clone().unwrap_or_default(),
            });
        }
        Ok(true)
    }

    /// Notes why a selection cases name cannot be attributed, for the report at the end.
    fn not_attributed_because(&mut self, guid: &str, why: &'static str) {
        let key = refi::normalize_guid(guid);
        if self.attributing.contains_key(&key) {
            self.not_attributed.insert(key, why);
        }
    }

    /// Notes as memos (where they were attached) and case studies; the project's name.
    fn tail(
        mut self,
        project: refi::Project,
        report: &mut refi::Report,
    ) -> Result<Tail, ExchangeError> {
        self.attach(&project.note_refs, MemoTarget::Study, None);
        // Memos: each note where it was attached; case studies and memos on people by convention.
        let mut memos = std::mem::take(&mut self.annotations);
        let mut cases = Vec::new();
        let case_ids = &self.case_ids;
        for n in project.notes {
            let about = n
                .description
                .as_deref()
                .and_then(|d| d.strip_prefix(&format!("{CONVENTION}about=")))
                .map(str::to_string);
            let on_case = |rest: &str| -> Option<(String, Uuid)> {
                let (kind, guid) = rest.rsplit_once(':')?;
                let guid = Uuid::parse_str(guid)
                    .ok()
                    .filter(|g| case_ids.contains(g))?;
                Some((kind.to_string(), guid))
            };
            if let Some((kind, guid)) = about.as_deref().and_then(on_case) {
                let subject = match kind.as_str() {
                    "case-study:dyad" => Some(CaseSubject::Dyad(DyadId(guid))),
                    "case-study:clinician" => Some(CaseSubject::Clinician(ParticipantId(guid))),
                    _ => None,
                };
                if let Some(subject) = subject {
                    cases.push(Case {
                        id: CaseId(id(&n.guid, "note")?),
                        subject,
                        text: n.text,
                        updated_at: n.modified_date_time.unwrap_or_default(),
                        version: 1,
                    });
                    continue;
                }
            }
            let (target, passage) = match about.as_deref().and_then(on_case) {
                Some((kind, guid)) if kind == "dyad" => (MemoTarget::Dyad(DyadId(guid)), None),
                Some((kind, guid)) if kind == "participant" => {
                    (MemoTarget::Participant(ParticipantId(guid)), None)
                }
                _ => self
                    .note_targets
                    .get(&n.guid.to_ascii_lowercase())
                    .copied()
                    .unwrap_or((MemoTarget::Study, None)),
            };
            let created = n.creation_date_time.clone().unwrap_or_default();
            memos.push(Memo {
                id: MemoId(id(&n.guid, "note")?),
                target,
                passage,
                author: self.who(&n.creating_user),
                title: n.name.unwrap_or_default(),
                text: if n.text.trim().is_empty() {
                    "(the note had no text)".into()
                } else {
                    n.text
                },
                updated_at: n.modified_date_time.unwrap_or_else(|| created.clone()),
                created_at: created,
                version: 1,
            });
        }
        let own_sets = project
            .sets
            .iter()
            .filter(|s| {
                s.description
                    .as_deref()
                    .is_some_and(|d| d.starts_with(&format!("{CONVENTION}kind=")))
            })
            .count();
        report.drop(
            "Set",
            project.sets.len() - own_sets,
            "between has no document or code groups (a source's kind is kept)",
        );
        self.report_not_attributed(&project.cases, report);
        Ok(Tail {
            name: project.name,
            description: project.description.unwrap_or_default(),
            memos,
            cases,
        })
    }
}

impl Importer {
    /// Names each selection a case refers to that became no attribution, and why. References
    /// to a GUID the project does not have were named by the reader already (and are gone from
    /// `cases`, the cases as checked).
    fn report_not_attributed(&mut self, cases: &[refi::Case], report: &mut refi::Report) {
        let kept: HashSet<String> = cases
            .iter()
            .flat_map(|c| c.selection_refs.iter().map(|g| refi::normalize_guid(g)))
            .collect();
        let unplaced: HashSet<String> = report
            .unplaced
            .iter()
            .map(|u| refi::normalize_guid(&u.selection))
            .collect();
        let mut left: Vec<(String, String, &str)> = Vec::new();
        for (guid, refs) in self.attributing.drain() {
            if !kept.contains(&guid) {
                continue;
            }
            let why = match self.not_attributed.get(&guid) {
                Some(why) => *why,
                None if unplaced.contains(&guid) => "it could not be placed in its text",
                None => "it is not a selection of a text between reads",
            };
            left.extend(refs.into_iter().map(|r| (r.case, guid.clone(), why)));
        }
        left.sort();
        for (case, guid, why) in left {
            report.warn(format!(
                "case {case}: selection {guid} is not attributed to it: {why}"
            ));
            report.drop("SelectionRef", 1, why);
        }
    }
}

/// Keeps the selections `case` names, to attribute each to `about` when it is met.
fn name_selections(
    attributing: &mut HashMap<String, Vec<CaseRef>>,
    case: &refi::Case,
    about: AttributionTarget,
    name: &str,
) {
    for r in &case.selection_refs {
        attributing
            .entry(refi::normalize_guid(r))
            .or_default()
            .push(CaseRef {
                about,
                case: name.to_string(),
            });
    }
}

/// A case's or source's values by variable name.
fn named_values(
    variables: &HashMap<String, String>,
    values: &[refi::VariableValue],
) -> BTreeMap<String, String> {
    values
        .iter()
        .filter_map(|v| {
            let name = variables.get(&v.variable.to_ascii_lowercase())?;
            Some((name.clone(), value_text(&v.value)))
        })
        .collect()
}

/// A document of the project, from a text source or a recording's transcript.
struct Doc<'a> {
    guid: &'a str,
    name: Option<&'a str>,
    text: &'a str,
    selections: &'a [refi::Selection],
    whole: &'a [refi::Coding],
    note_refs: &'a [String],
    values: &'a [refi::VariableValue],
    sync_points: &'a [refi::SyncPoint],
    recording: Option<&'a refi::MediaSource>,
    created: Option<&'a str>,
}

/// The contrast flag and the memo in a selection's Description.
fn selection_notes(description: Option<&str>) -> (bool, Option<String>) {
    let Some(d) = description else {
        return (false, None);
    };
    let contrast = d.lines().next() == Some(CONTRAST);
    let rest = if contrast {
        d.split_once('\n').map_or("", |(_, r)| r)
    } else {
        d
    };
    (
        contrast,
        Some(rest.to_string()).filter(|r| !r.trim().is_empty()),
    )
}

/// The project's codes as the study's, parents first. A name with '/' or the name of a
/// sibling is changed (and counted in `renamed`); a name the study cannot take, or a code
/// deeper than [`MAX_CODE_DEPTH`], is refused naming `file` and the code.
fn import_codes(
    file: &str,
    tree: &[refi::Code],
    out: &mut Vec<Code>,
    renamed: &mut usize,
) -> Result<(), ExchangeError> {
    let refused = |message: String| ExchangeError::File {
        origin: file.to_string(),
        message,
    };
    // Along the path to the current code: the ancestors' ids and each level's sibling names.
    let mut parents: Vec<CodeId> = Vec::new();
    let mut siblings: Vec<HashSet<String>> = Vec::new();
    for (depth, c) in refi::Code::walk(tree) {
        if depth > MAX_CODE_DEPTH {
            return Err(refused(format!(
                "the code {} ({}) is {depth} levels deep, more than the limit of {MAX_CODE_DEPTH}",
                shown_name(&c.name),
                c.guid
            )));
        }
        parents.truncate(depth - 1);
        siblings.truncate(depth);
        if siblings.len() < depth {
            siblings.push(HashSet::new());
        }
        let mut name = c.name.replace('/', "∕").trim().to_string();
        if name.is_empty() {
            name = "(unnamed)".into();
        }
        let name_taken = &mut siblings[depth - 1];
        while !name_taken.insert(name.to_lowercase()) {
            name.push('\'');
        }
        if name != c.name {
            *renamed += 1;
        }
        code_name(&name).map_err(|e| {
            refused(format!(
                "the code {} ({}) has a name between cannot take: {e}",
                shown_name(&name),
                c.guid
            ))
        })?;
        let (mut definition, mut component, mut indicators) = (Vec::new(), None, Vec::new());
        for line in c.description.as_deref().unwrap_or_default().lines() {
            if let Some(v) = line.strip_prefix(&format!("{CONVENTION}component=")) {
                component = Some(v.to_string());
            } else if let Some(v) = line.strip_prefix(&format!("{CONVENTION}indicator=")) {
                indicators.push(v.to_string());
            } else {
                definition.push(line);
            }
        }
        let code = Code {
            id: CodeId(id(&c.guid, "code")?),
            parent: parents.last().copied(),
            name,
            colour: c
                .color
                .clone()
                .unwrap_or_else(|| "#888888".into())
                .to_lowercase(),
            definition: definition.join("\n").trim_end().to_string(),
            indicators,
            component,
            version: 1,
        };
        parents.push(code.id);
        out.push(code);
    }
    Ok(())
}

fn count_categories(tree: &[refi::Code]) -> usize {
    refi::Code::walk(tree)
        .filter(|(_, c)| !c.is_codable)
        .count()
}

/// Turns of a transcript cut at its sync points, each timed (for transcripts without labels).
fn timed_turns(text: &str, points: &[refi::SyncPoint]) -> Vec<Turn> {
    let length = text::char_len(text);
    let mut points: Vec<&refi::SyncPoint> =
        points.iter().filter(|p| p.position <= length).collect();
    points.sort_by_key(|p| p.position);
    points.dedup_by_key(|p| p.position);
    let chars: Vec<char> = text.chars().collect();
    let mut turns = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let end = points.get(i + 1).map_or(length, |n| n.position);
        let (mut a, mut b) = (p.position, end);
        while a < b && chars[a].is_whitespace() {
            a += 1;
        }
        while b > a && chars[b - 1].is_whitespace() {
            b -= 1;
        }
        if b > a {
            turns.push(Turn {
                span: Span { start: a, end: b },
                speaker: None,
                start_ms: Some(p.time_ms),
                end_ms: points.get(i + 1).map(|n| n.time_ms),
            });
        }
    }
    turns
}

fn parsed_speakers(turns: &[Turn]) -> Vec<Speaker> {
    let mut seen: Vec<Speaker> = Vec::new();
    for label in turns.iter().filter_map(|t| t.speaker.as_deref()) {
        if !seen.iter().any(|s| s.label == label) {
            seen.push(Speaker {
                label: label.to_string(),
                role: Role::Other,
                participant: None,
            });
        }
    }
    seen
}

/// The file a recording's `absolute:///` or `relative:///` path names (a relative one against
/// the project's base path, or else the study's folder), whether or not it may be linked.
fn recording_file(m: &refi::MediaSource, base: Option<&str>) -> Option<std::path::PathBuf> {
    let path = m.path.as_deref()?;
    if let Some(rest) = path.strip_prefix("absolute:///") {
        return Some(std::path::PathBuf::from(format!("/{rest}")));
    }
    let rest = path.strip_prefix("relative:///")?;
    Some(match base {
        Some(base) => std::path::Path::new(base).join(rest),
        None => std::path::PathBuf::from(rest),
    })
}

fn value_text(v: &refi::Value) -> String {
    match v {
        refi::Value::Text(t) | refi::Value::Date(t) | refi::Value::DateTime(t) => t.clone(),
        refi::Value::Boolean(b) => b.to_string(),
        refi::Value::Integer(i) => i.to_string(),
        refi::Value::Float(f) => f.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn many_sources() -> Vec<u8> {
        let project = refi::Project {
            name: "many".into(),
            text_sources: (0..50)
                .map(|i| refi::TextSource {
                    guid: Uuid::new_v4().to_string(),
                    name: Some(format!("source {i}")),
                    text: "some words".into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        refi::write_qdpx(&project).expect("written")
    }

    /// A streamed import hands each source on with its attributions (the cases that name
    /// them come first, in the head).
    #[test]
    fn attributions_travel_with_their_source_when_streamed() {
        let (people, texts) = (Uuid::new_v4(), [Uuid::new_v4(), Uuid::new_v4()]);
        let bundle = StudyBundle {
            participants: vec![Participant {
                id: ParticipantId(people),
                label: "P01".into(),
                role: Role::Patient,
                name: None,
                attributes: BTreeMap::new(),
                version: 1,
            }],
            sources: texts
                .iter()
                .enumerate()
                .map(|(i, id)| Source {
                    id: SourceId(*id),
                    name: format!("note {i}"),
                    kind: SourceKind::FieldNote,
                    participant: None,
                    dyad: None,
                    text: "George came in with June today.".into(),
                    turns: Vec::new(),
                    speakers: Vec::new(),
                    markers: Vec::new(),
                    interview: InterviewInfo::default(),
                    imported_at: String::new(),
                    blind: false,
                    version: 1,
                })
                .collect(),
            attributions: texts
                .iter()
                .map(|id| Attribution {
                    id: AttributionId::new(),
                    source: SourceId(*id),
                    span: Span { start: 0, end: 6 },
                    about: AttributionTarget::Participant(ParticipantId(people)),
                    attributed_by: "Amal".into(),
                    attributed_at: "2026-01-05T10:00:00Z".into(),
                })
                .collect(),
            ..StudyBundle::default()
        };
        let (project, _) = to_refi(&bundle, None);
        let bytes = refi::write_qdpx(&project).expect("written");
        let options = refi::ReadOptions {
            streamed: true,
            ..Default::default()
        };
        let mut per_source = Vec::new();
        read_alongside(
            "notes.qdpx",
            refi::ProjectInput::Bytes(&bytes),
            &options,
            &mut |part| {
                if let Part::Doc(doc) = part {
                    per_source.push((doc.source.id, doc.attributions));
                }
                Ok(())
            },
        )
        .expect("read");
        let expected: Vec<(SourceId, Vec<Attribution>)> = bundle
            .attributions
            .iter()
            .map(|a| (a.source, vec![a.clone()]))
            .collect();
        assert_eq!(per_source, expected);
    }

    #[test]
    fn a_failure_while_taking_parts_stops_the_reader_and_is_what_is_said() {
        let bytes = many_sources();
        let options = refi::ReadOptions::default();
        let input = refi::ProjectInput::Bytes(&bytes);
        let mut taken = 0;
        let mut take_three = |part| {
            if let Part::Doc(_) = part {
                if taken == 3 {
                    return Err(problem("the study is full".into()));
                }
                taken += 1;
            }
            Ok(())
        };
        let err = read_alongside("many.qdpx", input, &options, &mut take_three).unwrap_err();
        assert!(err.to_string().contains("the study is full"), "{err}");
        assert_eq!(taken, 3);

        let mut parts = Vec::new();
        read_alongside("many.qdpx", input, &options, &mut |part| {
            parts.push(match part {
                Part::Head(_) => "head".to_string(),
                Part::Doc(d) => d.source.name,
                Part::Tail(_) => "tail".to_string(),
            });
            Ok(())
        })
        .expect("read");
        let expected: Vec<String> = ["head".to_string()]
            .into_iter()
            .chain((0..50).map(|i| format!("source {i}")))
            .chain(["tail".to_string()])
            .collect();
        assert_eq!(parts, expected, "every part, in order");
    }
}
