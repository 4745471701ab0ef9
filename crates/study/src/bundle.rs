//! A study's exchangeable content as plain domain objects — what an exchange format (REFI-QDA)
//! maps — and bringing such content into a study in one change.

use std::collections::{HashMap, HashSet};

use between_core::*;

use crate::{StudyError, StudyResult, Workbench};

/// Everything of a study that moves between tools. Codes come parents first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StudyBundle {
    pub name: String,
    pub description: String,
    pub participants: Vec<Participant>,
    pub dyads: Vec<Dyad>,
    pub codes: Vec<Code>,
    pub sources: Vec<Source>,
    pub codings: Vec<Coding>,
    pub memos: Vec<Memo>,
    pub media: Vec<Media>,
    pub cases: Vec<Case>,
}

/// What bringing a bundle in did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Merged {
    pub participants: usize,
    pub dyads: usize,
    /// Codes added; codes that matched one of the study's (by id, then by path) are reused.
    pub codes_added: usize,
    pub codes_matched: usize,
    pub sources: usize,
    pub codings: usize,
    pub memos: usize,
    /// Objects already in the study (same id) that were left as they are.
    pub already_there: usize,
    /// Differences a person should know about (a matched code with another colour, say).
    pub conflicts: Vec<String>,
}

impl Workbench {
    /// The study's content, for an export.
    pub fn bundle(&self) -> StudyResult<StudyBundle> {
        let (mut bundle, _) = self.bundle_skeleton()?;
        // The bundle owns its copies; reading them through the cache would keep every text
        // twice (a corpus of the whole study, say).
        for shell in &mut bundle.sources {
            *shell = self.source_uncached(shell)?;
        }
        bundle.codings = self.store.codings(&Default::default())?;
        Ok(bundle)
    }

    /// The study's content without its sources' texts, turns and speakers and without codings
    /// (each source a shell: id, name, kind, participant, dyad, interview, blind flag), and the
    /// names of its coders: what an export writes before its sources, which it then reads one
    /// at a time ([`Workbench::source_uncached`], [`Workbench::source_codings`]).
    pub fn bundle_skeleton(&self) -> StudyResult<(StudyBundle, Vec<String>)> {
        let study = self.store.study()?;
        let paths = self.code_paths()?;
        let sources = self
            .store
            .source_infos()?
            .into_iter()
            .map(|info| Source {
                id: info.id,
                name: info.name,
                kind: info.kind,
                participant: info.participant,
                dyad: info.dyad,
                text: String::new(),
                turns: Vec::new(),
                speakers: Vec::new(),
                markers: Vec::new(),
                interview: info.interview,
                imported_at: info.imported_at,
                blind: info.blind,
                version: 0,
            })
            .collect();
        let mut coders: Vec<String> = Vec::new();
        for (_, coder, _) in self.store.coding_counts_by_source()? {
            if !coders.contains(&coder) {
                coders.push(coder);
            }
        }
        let bundle = StudyBundle {
            name: study.name,
            description: study.description,
            participants: self.store.participants()?,
            dyads: self.store.dyads()?,
            codes: paths.codes().to_vec(),
            sources,
            codings: Vec::new(),
            memos: self.store.memos(None)?,
            media: self.store.media()?,
            cases: self.store.cases()?,
        };
        Ok((bundle, coders))
    }

    /// The whole source of a shell from [`Workbench::bundle_skeleton`] (whose blind flag it
    /// keeps): from the Workbench's cache when it is there, else read from the store without
    /// being kept (an export reads every source once and should not hold them all).
    pub fn source_uncached(&self, shell: &Source) -> StudyResult<Source> {
        let mut s = match self.sources.borrow().get(&shell.id) {
            Some(s) => (**s).clone(),
            None => self.store.source(shell.id)?,
        };
        s.blind = shell.blind;
        Ok(s)
    }

    /// A source's text, read from the store (not kept).
    pub fn source_text(&self, id: SourceId) -> StudyResult<String> {
        if let Some(s) = self.sources.borrow().get(&id) {
            return Ok(s.text.clone());
        }
        Ok(self.store.source_text(id)?)
    }

    /// A source's codings, in the order of [`Workbench::bundle`]'s (start, end, id).
    pub fn source_codings(&self, id: SourceId) -> StudyResult<Vec<Coding>> {
        Ok(self.store.codings(&between_store::CodingFilter {
            source: Some(id),
            ..Default::default()
        })?)
    }

    /// Brings `bundle` into this study in one change: everything, or (at the first problem)
    /// nothing. Participants and dyads match by label, codes by id and then by path (a new
    /// code goes under its matched parent), everything else by id; what is already there is
    /// left alone. A source whose name is taken by another source is refused.
    pub fn merge_bundle(&mut self, bundle: StudyBundle) -> StudyResult<Merged> {
        let mut merged = Merged::default();
        // People: by label.
        let mut people: HashMap<ParticipantId, ParticipantId> = HashMap::new();
        let existing: Vec<Participant> = self.store.participants()?;
        let mut new_people = Vec::new();
        for p in bundle.participants {
            match existing
                .iter()
                .find(|e| e.label.eq_ignore_ascii_case(&p.label))
            {
                Some(e) => {
                    if e.role != p.role {
                        merged.conflicts.push(format!(
                            "participant {}: the study has them as {}, the file as {}; kept {}",
                            e.label, e.role, p.role, e.role
                        ));
                    }
                    people.insert(p.id, e.id);
                    merged.already_there += 1;
                }
                None => {
                    people.insert(p.id, p.id);
                    new_people.push(p);
                }
            }
        }
        let person = |id: ParticipantId| people.get(&id).copied().unwrap_or(id);
        let mut dyads: HashMap<DyadId, DyadId> = HashMap::new();
        let existing_dyads = self.store.dyads()?;
        let mut new_dyads = Vec::new();
        for mut d in bundle.dyads {
            match existing_dyads
                .iter()
                .find(|e| e.label.eq_ignore_ascii_case(&d.label))
            {
                Some(e) => {
                    dyads.insert(d.id, e.id);
                    merged.already_there += 1;
                }
                None => {
                    dyads.insert(d.id, d.id);
                    d.clinician = person(d.clinician);
                    d.patient = person(d.patient);
                    new_dyads.push(d);
                }
            }
        }
        // Codes: by id, then by path under the (matched) parent.
        let paths = self.code_paths()?;
        let mut codes: HashMap<CodeId, CodeId> = HashMap::new();
        let mut new_codes: Vec<Code> = Vec::new();
        for mut c in bundle.codes {
            let parent = c.parent.map(|p| codes.get(&p).copied().unwrap_or(p));
            let by_id = paths.get(c.id).cloned();
            let by_path = || {
                paths
                    .codes()
                    .iter()
                    .find(|e| e.parent == parent && e.name.eq_ignore_ascii_case(&c.name))
                    .cloned()
            };
            match by_id.or_else(by_path) {
                Some(e) => {
                    if !e.colour.eq_ignore_ascii_case(&c.colour) || e.definition != c.definition {
                        merged.conflicts.push(format!(
                            "code {}: the file's colour or definition differs; the study's are kept",
                            paths.path(e.id)
                        ));
                    }
                    codes.insert(c.id, e.id);
                    merged.codes_matched += 1;
                }
                None => {
                    codes.insert(c.id, c.id);
                    c.parent = parent;
                    c.version = 1;
                    new_codes.push(c);
                }
            }
        }
        // Sources: by id; a name taken by another source is refused.
        let infos = self.store.source_infos()?;
        let ids: HashSet<SourceId> = infos.iter().map(|s| s.id).collect();
        let names: HashMap<String, SourceId> =
            infos.iter().map(|s| (s.name.clone(), s.id)).collect();
        let mut new_sources = Vec::new();
        for mut s in bundle.sources {
            if ids.contains(&s.id) {
                merged.already_there += 1;
                continue;
            }
            if names.contains_key(&s.name) {
                return Err(StudyError::Invalid(format!(
                    "{}: the study already has another source of that name; rename one first",
                    s.name
                )));
            }
            s.participant = s.participant.map(person);
            s.dyad = s.dyad.map(|d| dyads.get(&d).copied().unwrap_or(d));
            for sp in &mut s.speakers {
                sp.participant = sp.participant.map(person);
            }
            s.version = 1;
            new_sources.push(s);
        }
        let known_codings: HashSet<CodingId> = self
            .store
            .codings(&Default::default())?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let mut new_codings = Vec::new();
        for mut c in bundle.codings {
            if known_codings.contains(&c.id) {
                merged.already_there += 1;
                continue;
            }
            c.code = codes.get(&c.code).copied().unwrap_or(c.code);
            c.version = 1;
            new_codings.push(c);
        }
        // In the order of the (source, start, end) index, so that its pages fill one after
        // another (a UUID's bytes order as its text does).
        new_codings.sort_by_key(|c| (c.source, c.span.start, c.span.end));
        let known_memos: HashSet<MemoId> =
            self.store.memos(None)?.into_iter().map(|m| m.id).collect();
        let mut new_memos = Vec::new();
        for mut m in bundle.memos {
            if known_memos.contains(&m.id) {
                merged.already_there += 1;
                continue;
            }
            m.target = match m.target {
                MemoTarget::Code(id) => MemoTarget::Code(codes.get(&id).copied().unwrap_or(id)),
                MemoTarget::Dyad(id) => MemoTarget::Dyad(dyads.get(&id).copied().unwrap_or(id)),
                MemoTarget::Participant(id) => MemoTarget::Participant(person(id)),
                other => other,
            };
            m.version = 1;
            new_memos.push(m);
        }
        let mut tx = self.store.transaction(&self.actor)?;
        for p in &new_people {
            tx.insert_participant(p)?;
        }
        for d in &new_dyads {
            tx.insert_dyad(d)?;
        }
        for c in &new_codes {
            tx.insert_code(c)
                .map_err(|e| StudyError::from(e).at(format!("code {}", c.name)))?;
        }
        for s in &new_sources {
            tx.insert_source(s)
                .map_err(|e| StudyError::from(e).at(&s.name))?;
        }
        tx.insert_codings(&new_codings)?;
        for m in &new_memos {
            tx.insert_memo(m)?;
        }
        let added: HashSet<SourceId> = new_sources.iter().map(|s| s.id).collect();
        for m in bundle.media.iter().filter(|m| added.contains(&m.source)) {
            tx.set_media(m)?;
        }
        for case in &bundle.cases {
            let subject = match case.subject {
                CaseSubject::Dyad(d) => CaseSubject::Dyad(dyads.get(&d).copied().unwrap_or(d)),
                CaseSubject::Clinician(p) => CaseSubject::Clinician(person(p)),
            };
            let new = match subject {
                CaseSubject::Dyad(d) => new_dyads.iter().any(|x| x.id == d),
                CaseSubject::Clinician(p) => new_people.iter().any(|x| x.id == p),
            };
            if new {
                tx.upsert_case(&Case {
                    subject,
                    version: 0,
                    ..case.clone()
                })?;
            }
        }
        tx.commit()?;
        self.sources.borrow_mut().clear();
        merged.participants = new_people.len();
        merged.dyads = new_dyads.len();
        merged.codes_added = new_codes.len();
        merged.sources = new_sources.len();
        merged.codings = new_codings.len();
        merged.memos = new_memos.len();
        Ok(merged)
    }
}
