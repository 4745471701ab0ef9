//! Importing transcripts: every file is read and parsed first, then all are stored in one
//! transaction, so a failing batch leaves the study exactly as it was.

use std::collections::HashSet;
use std::path::Path;

use between_core::*;
use between_ingest::{
    Format, ParseOptions, Transcript, decode_with, merge_dialogue, parse_textgrid,
};

use crate::{StudyError, StudyResult, Workbench, now};

/// Files larger than this are refused unless the caller raises the limit.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Says who a speaker label stands for: a participant (by label) or just a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeakerAssignment {
    pub label: String,
    pub participant: Option<String>,
    pub role: Option<Role>,
}

impl std::str::FromStr for SpeakerAssignment {
    type Err = String;
    /// `LABEL=P01` or `LABEL=interviewer` (a role).
    fn from_str(s: &str) -> Result<Self, String> {
        let (label, who) = s
            .rsplit_once('=')
            .ok_or_else(|| format!("'{s}' is not LABEL=PARTICIPANT or LABEL=ROLE"))?;
        let (label, who) = (label.trim().to_string(), who.trim());
        if label.is_empty() || who.is_empty() {
            return Err(format!("'{s}' is not LABEL=PARTICIPANT or LABEL=ROLE"));
        }
        Ok(match who.parse::<Role>() {
            Ok(role) => SpeakerAssignment {
                label,
                participant: None,
                role: Some(role),
            },
            Err(_) => SpeakerAssignment {
                label,
                participant: Some(who.to_string()),
                role: None,
            },
        })
    }
}

#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub kind: SourceKind,
    /// Label of the participant whose account this is.
    pub participant: Option<String>,
    /// Label of the dyad the source belongs to.
    pub dyad: Option<String>,
    pub interview: InterviewInfo,
    pub speakers: Vec<SpeakerAssignment>,
    /// Source name for a single file (default: the file name).
    pub name: Option<String>,
    pub max_bytes: u64,
    /// The files' format (`Auto`: by extension, then by content).
    pub format: Format,
    pub parse: ParseOptions,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            kind: SourceKind::Interview,
            participant: None,
            dyad: None,
            interview: InterviewInfo::default(),
            speakers: Vec::new(),
            name: None,
            max_bytes: DEFAULT_MAX_BYTES,
            format: Format::Auto,
            parse: ParseOptions::default(),
        }
    }
}

/// A file's name and contents, for callers that already hold the bytes (an upload, the sample).
#[derive(Clone, Debug)]
pub struct ImportFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportedSource {
    pub name: String,
    pub id: SourceId,
    pub characters: usize,
    pub turns: usize,
    pub speakers: Vec<Speaker>,
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ImportReport {
    pub sources: Vec<ImportedSource>,
    pub bytes: u64,
}

impl Workbench {
    /// Reads and imports files from disk. `progress` is told each file as it is parsed.
    pub fn import_paths(
        &mut self,
        paths: &[impl AsRef<Path>],
        options: &ImportOptions,
        progress: &mut dyn FnMut(&str, u64),
    ) -> StudyResult<ImportReport> {
        self.must_manage("import transcripts")?;
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let path = path.as_ref();
            let shown = path.display().to_string();
            let size = std::fs::metadata(path)
                .map_err(|source| StudyError::Io {
                    file: shown.clone(),
                    source,
                })?
                .len();
            if size > options.max_bytes {
                return Err(StudyError::TooLarge {
                    file: shown,
                    size,
                    limit: options.max_bytes,
                });
            }
            let bytes = std::fs::read(path).map_err(|source| StudyError::Io {
                file: shown.clone(),
                source,
            })?;
            let name = path
                .file_name()
                .map_or(shown, |n| n.to_string_lossy().into_owned());
            files.push(ImportFile { name, bytes });
        }
        self.import_files(files, options, progress)
    }

    /// Imports files already in memory: all of them, or none.
    pub fn import_files(
        &mut self,
        files: Vec<ImportFile>,
        options: &ImportOptions,
        progress: &mut dyn FnMut(&str, u64),
    ) -> StudyResult<ImportReport> {
        self.must_manage("import transcripts")?;
        if options.name.is_some() && files.len() > 1 {
            return Err(StudyError::Invalid(
                "a source name can only be given when importing one file".into(),
            ));
        }
        let participants = self.participants()?;
        let participant = options
            .participant
            .as_deref()
            .map(|l| self.participant(l))
            .transpose()?;
        let dyad = options.dyad.as_deref().map(|l| self.dyad(l)).transpose()?;
        let mut taken: HashSet<String> = self
            .store
            .source_infos()?
            .into_iter()
            .map(|s| s.name)
            .collect();
        let stamp = now();
        let mut report = ImportReport::default();
        let mut sources = Vec::with_capacity(files.len());
        for file in &files {
            let size = file.bytes.len() as u64;
            if size > options.max_bytes {
                return Err(StudyError::TooLarge {
                    file: file.name.clone(),
                    size,
                    limit: options.max_bytes,
                });
            }
        }
        for (name, transcript, size) in transcripts(files, options)? {
            let name = options.name.clone().unwrap_or(name);
            if !taken.insert(name.clone()) {
                return Err(StudyError::Invalid(format!(
                    "{name}: a source of that name is already in the study (or twice in this import)"
                )));
            }
            let (speakers, mut warnings) =
                assign_speakers(&transcript, options, participant.as_ref(), &participants)
                    .map_err(|e| e.at(&name))?;
            warnings.extend(transcript.warnings.iter().cloned());
            let source = Source {
                id: SourceId::new(),
                name,
                kind: options.kind,
                participant: participant.as_ref().map(|p| p.id),
                dyad: dyad.as_ref().map(|d| d.id),
                text: transcript.text,
                turns: transcript.turns,
                speakers,
                markers: transcript.markers,
                interview: options.interview.clone(),
                imported_at: stamp.clone(),
                blind: false,
                version: 1,
            };
            progress(&source.name, size);
            report.bytes += size;
            report.sources.push(ImportedSource {
                name: source.name.clone(),
                id: source.id,
                characters: text::char_len(&source.text),
                turns: source.turns.len(),
                speakers: source.speakers.clone(),
                warnings,
            });
            sources.push(source);
        }
        let mut tx = self.store.transaction(&self.actor.name)?;
        for source in &sources {
            tx.insert_source(source)
                .map_err(|e| StudyError::from(e).at(&source.name))?;
        }
        tx.commit()?;
        Ok(report)
    }

    pub fn sources(&self) -> StudyResult<Vec<between_store::SourceInfo>> {
        Ok(self.store.source_infos()?)
    }

    /// Sources by id or name.
    pub(crate) fn source_ids(&self, sources: &[String]) -> StudyResult<Vec<SourceId>> {
        sources
            .iter()
            .map(|n| match n.parse::<SourceId>() {
                Ok(id) => Ok(self.store.source(id)?.id),
                Err(_) => self
                    .store
                    .source_id_by_name(n)?
                    .ok_or_else(|| StudyError::Unknown {
                        what: "source",
                        key: n.clone(),
                    }),
            })
            .collect()
    }

    pub fn source(&self, name: &str) -> StudyResult<Source> {
        let id = self
            .store
            .source_id_by_name(name)?
            .ok_or_else(|| StudyError::Unknown {
                what: "source",
                key: name.to_string(),
            })?;
        Ok(self.store.source(id)?)
    }
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn looks_like_interviewer(label: &str, interviewer: Option<&str>) -> bool {
    let w = words(label);
    let first = w.first().map(String::as_str);
    matches!(
        first,
        Some("interviewer" | "int" | "i" | "q" | "researcher" | "moderator")
    ) || interviewer.is_some_and(|name| !w.is_empty() && w.iter().all(|x| words(name).contains(x)))
}

/// The role a label's first word implies (`PATIENT`, `Dr Lee`, `Nurse`), else `other`.
fn role_by_title(label: &str) -> Role {
    match words(label).first().map(String::as_str) {
        Some("patient" | "pt") => Role::Patient,
        Some("clinician" | "doctor" | "dr" | "gp" | "nurse" | "np" | "physician") => {
            Role::Clinician
        }
        _ => Role::Other,
    }
}

/// Whether a transcript label names this participant: the label, the name, or the words of the
/// label all found in the name (`DR OSEI` for "Dr Amara Osei").
fn names(label: &str, p: &Participant) -> bool {
    let w = words(label);
    if w.is_empty() {
        return false;
    }
    w == words(&p.label)
        || p.name
            .as_deref()
            .is_some_and(|n| words(n) == w || w.iter().all(|x| words(n).contains(x)))
}

/// Who each speaker label of the transcript is, and warnings for those left unlinked.
fn assign_speakers(
    transcript: &Transcript,
    options: &ImportOptions,
    owner: Option<&Participant>,
    participants: &[Participant],
) -> StudyResult<(Vec<Speaker>, Vec<String>)> {
    let mut speakers = Vec::new();
    let mut unresolved = Vec::new();
    for label in transcript.speakers() {
        let explicit = options
            .speakers
            .iter()
            .find(|a| a.label.eq_ignore_ascii_case(label));
        let speaker = if let Some(a) = explicit {
            match &a.participant {
                Some(p) => {
                    let p = participants
                        .iter()
                        .find(|x| x.label.eq_ignore_ascii_case(p))
                        .ok_or_else(|| StudyError::Unknown {
                            what: "participant",
                            key: p.clone(),
                        })?;
                    Speaker {
                        label: label.to_string(),
                        role: p.role,
                        participant: Some(p.id),
                    }
                }
                None => Speaker {
                    label: label.to_string(),
                    role: a.role.unwrap_or(Role::Other),
                    participant: None,
                },
            }
        } else if looks_like_interviewer(label, options.interview.interviewer.as_deref()) {
            Speaker {
                label: label.to_string(),
                role: Role::Interviewer,
                participant: None,
            }
        } else {
            let matching: Vec<&Participant> =
                participants.iter().filter(|p| names(label, p)).collect();
            match matching.as_slice() {
                [p] => Speaker {
                    label: label.to_string(),
                    role: p.role,
                    participant: Some(p.id),
                },
                _ => {
                    unresolved.push(speakers.len());
                    Speaker {
                        label: label.to_string(),
                        role: role_by_title(label),
                        participant: None,
                    }
                }
            }
        };
        speakers.push(speaker);
    }
    // One unlinked voice in someone's interview, and that someone not yet heard: it is them.
    if let (Some(owner), [only]) = (owner, unresolved.as_slice())
        && !speakers.iter().any(|s| s.participant == Some(owner.id))
    {
        let s = &mut speakers[*only];
        s.role = owner.role;
        s.participant = Some(owner.id);
        unresolved.clear();
    }
    // A label that names a role (`PATIENT:`) needs no link to be useful; an unknown voice does.
    let warnings = unresolved
        .iter()
        .filter(|&&i| speakers[i].role == Role::Other)
        .map(|&i| {
            format!(
                "speaker '{}' is not linked to a participant (role '{}'); use --speaker '{}=LABEL' to link it",
                speakers[i].label, speakers[i].role, speakers[i].label
            )
        })
        .collect();
    Ok((speakers, warnings))
}

/// Every file parsed, as `(source name, transcript, bytes read)`. Praat TextGrids that share a
/// name up to a last `_speaker` part (`day1_consultation01_doctor.TextGrid` and
/// `…_patient.TextGrid`) are one consultation recorded a channel per speaker: they become one
/// dialogue ordered by time, named for the shared part, each channel's speaker named by its part.
fn transcripts(
    files: Vec<ImportFile>,
    options: &ImportOptions,
) -> StudyResult<Vec<(String, Transcript, u64)>> {
    let format_of = |f: &ImportFile| match options.format {
        Format::Auto => Format::detect(&f.name, &f.bytes),
        given => given,
    };
    let channel = |name: &str| -> Option<(String, String)> {
        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
        let (consultation, speaker) = stem.rsplit_once('_')?;
        (!consultation.is_empty() && !speaker.is_empty())
            .then(|| (consultation.to_string(), capitalised(speaker)))
    };
    // How many TextGrids share each consultation name: two or more are channels of one.
    let mut channels: std::collections::HashMap<String, usize> = Default::default();
    for f in files.iter().filter(|f| format_of(f) == Format::TextGrid) {
        if let Some((c, _)) = channel(&f.name) {
            *channels.entry(c).or_default() += 1;
        }
    }
    let mut out: Vec<(String, Transcript, u64)> = Vec::new();
    let mut grids: Vec<(String, Vec<between_ingest::TextGrid>, u64)> = Vec::new();
    for file in files {
        let size = file.bytes.len() as u64;
        let format = format_of(&file);
        if format == Format::TextGrid
            && let Some((consultation, speaker)) = channel(&file.name)
            && channels[&consultation] > 1
        {
            let grid = parse_textgrid(&file.name, &file.bytes, Some(&speaker))?;
            match grids.iter_mut().find(|(c, _, _)| *c == consultation) {
                Some((_, g, bytes)) => {
                    g.push(grid);
                    *bytes += size;
                }
                None => grids.push((consultation, vec![grid], size)),
            }
            continue;
        }
        // Field notes and journals are prose: a line like "Practical resolutions:" is not a
        // speaker. They are one unlabelled turn.
        let transcript = match (options.kind, format) {
            (SourceKind::FieldNote | SourceKind::Journal, Format::Txt) => {
                let text = decode_with(&file.bytes, options.parse.encoding.as_deref()).map_err(
                    |source| StudyError::Decode {
                        file: file.name.clone(),
                        source,
                    },
                )?;
                between_ingest::prose(text)
            }
            _ => between_ingest::parse(&file.name, &file.bytes, format, &options.parse)?,
        };
        out.push((file.name, transcript, size));
    }
    for (consultation, g, bytes) in grids {
        out.push((consultation, merge_dialogue(g), bytes));
    }
    Ok(out)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
