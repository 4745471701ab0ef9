//! A study's exchangeable content as plain domain objects — what an exchange format (REFI-QDA)
//! maps — and bringing such content into a study in one change.

use std::collections::{HashMap, HashSet};

use between_core::*;

use crate::{CodePath, StudyError, StudyResult, Workbench, checked_code_name};

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
    /// Passages attributed to the participant or dyad they speak about.
    pub attributions: Vec<Attribution>,
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
    pub attributions: usize,
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
            attributions: self.store.attributions(None)?,
        };
        Ok((bundle, coders))
    }

    /// The whole source of a shell from [`Workbench::bundle_skeleton`] (whose blind flag it
    /// keeps): from the Workbench's cache when it is there, else read from the store without
    /// being kept (an export reads every source once and should not hold them all).
    pub fn source_uncached(&self, shell: &Source) -> StudyResult<Source> {
        let cached = self.source_cache()?.by_id.get(&shell.id).cloned();
        let mut s = match cached {
            Some(s) => (*s).clone(),
            None => self.store.source(shell.id)?,
        };
        s.blind = shell.blind;
        Ok(s)
    }

    /// A source's text, read from the store (not kept).
    pub fn source_text(&self, id: SourceId) -> StudyResult<String> {
        if let Some(s) = self.source_cache()?.by_id.get(&id) {
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
        let mut codings: HashMap<SourceId, Vec<Coding>> = HashMap::new();
        for c in bundle.codings {
            codings.entry(c.source).or_default().push(c);
        }
        let mut media: HashMap<SourceId, Media> =
            bundle.media.into_iter().map(|m| (m.source, m)).collect();
        let mut merge = self.begin_merge()?;
        merge.people(bundle.participants, bundle.dyads)?;
        merge.codes(bundle.codes)?;
        for s in bundle.sources {
            let id = s.id;
            merge.source(
                s,
                codings.remove(&id).unwrap_or_default(),
                media.remove(&id),
            )?;
        }
        // Codings of sources the bundle does not carry (already in the study, say).
        for (_, rest) in codings {
            merge.codings(rest)?;
        }
        merge.attributions(bundle.attributions)?;
        merge.memos(bundle.memos, bundle.cases)?;
        merge.commit()
    }

    /// Starts bringing content into this study as one change, in the order of a
    /// [`StudyBundle`]'s parts: people, codes, then each source with its codings, then memos
    /// and case studies, and attributions (after the sources they are in);
    /// [`BundleMerge::commit`] lands it all, dropping it lands nothing.
    /// A large import goes through this a source at a time, never holding the whole.
    pub fn begin_merge(&mut self) -> StudyResult<BundleMerge<'_>> {
        self.may_exchange()?;
        let folder = self.study_folder();
        let actor = self.actor.name.clone();
        self.lock_sources().by_id.clear();
        let Workbench { store, .. } = self;
        let mut tx = store.transaction(&actor)?;
        // A bulk import writes more than the page cache holds; a small cache spills to the
        // write-ahead log instead of growing with the import.
        tx.limit_cache_for_bulk()?;
        let infos = tx.source_infos()?;
        let known_codings: HashSet<CodingId> = tx
            .codings(&Default::default())?
            .into_iter()
            .map(|c| c.id)
            .collect();
        let known_memos: HashSet<MemoId> = tx.memos(None)?.into_iter().map(|m| m.id).collect();
        let known_attributions: HashSet<AttributionId> =
            tx.attributions(None)?.into_iter().map(|a| a.id).collect();
        Ok(BundleMerge {
            paths: CodePath::new(tx.codes()?),
            existing_people: tx.participants()?,
            existing_dyads: tx.dyads()?,
            source_ids: infos.iter().map(|s| s.id).collect(),
            source_names: infos.into_iter().map(|s| (s.name, s.id)).collect(),
            known_codings,
            known_memos,
            known_attributions,
            tx,
            people: HashMap::new(),
            dyads: HashMap::new(),
            codes: HashMap::new(),
            added_depths: HashMap::new(),
            new_people: HashSet::new(),
            new_dyads: HashSet::new(),
            added_sources: HashSet::new(),
            merged: Merged::default(),
            folder,
        })
    }
}

/// An import in progress: one open transaction ([`Workbench::begin_merge`]).
pub struct BundleMerge<'w> {
    tx: Box<dyn between_store::Transaction + 'w>,
    paths: CodePath,
    existing_people: Vec<Participant>,
    existing_dyads: Vec<Dyad>,
    source_ids: HashSet<SourceId>,
    source_names: HashMap<String, SourceId>,
    known_codings: HashSet<CodingId>,
    known_memos: HashSet<MemoId>,
    known_attributions: HashSet<AttributionId>,
    /// The file's ids → the study's.
    people: HashMap<ParticipantId, ParticipantId>,
    dyads: HashMap<DyadId, DyadId>,
    codes: HashMap<CodeId, CodeId>,
    /// How deep each code added so far sits (the study's own are in `paths`).
    added_depths: HashMap<CodeId, usize>,
    new_people: HashSet<ParticipantId>,
    new_dyads: HashSet<DyadId>,
    added_sources: HashSet<SourceId>,
    merged: Merged,
    /// The study's folder: recordings are linked only from inside it.
    folder: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for BundleMerge<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleMerge")
            .field("merged", &self.merged)
            .finish_non_exhaustive()
    }
}

impl BundleMerge<'_> {
    fn person(&self, id: ParticipantId) -> ParticipantId {
        self.people.get(&id).copied().unwrap_or(id)
    }

    fn dyad(&self, id: DyadId) -> DyadId {
        self.dyads.get(&id).copied().unwrap_or(id)
    }

    /// Participants and dyads, by label.
    pub fn people(&mut self, participants: Vec<Participant>, dyads: Vec<Dyad>) -> StudyResult<()> {
        for p in participants {
            match self
                .existing_people
                .iter()
                .find(|e| e.label.eq_ignore_ascii_case(&p.label))
            {
                Some(e) => {
                    if e.role != p.role {
                        self.merged.conflicts.push(format!(
                            "participant {}: the study has them as {}, the file as {}; kept {}",
                            e.label, e.role, p.role, e.role
                        ));
                    }
                    self.people.insert(p.id, e.id);
                    self.merged.already_there += 1;
                }
                None => {
                    self.people.insert(p.id, p.id);
                    self.tx.insert_participant(&p)?;
                    self.new_people.insert(p.id);
                    self.merged.participants += 1;
                }
            }
        }
        for mut d in dyads {
            match self
                .existing_dyads
                .iter()
                .find(|e| e.label.eq_ignore_ascii_case(&d.label))
            {
                Some(e) => {
                    self.dyads.insert(d.id, e.id);
                    self.merged.already_there += 1;
                }
                None => {
                    self.dyads.insert(d.id, d.id);
                    d.clinician = self.person(d.clinician);
                    d.patient = self.person(d.patient);
                    self.tx.insert_dyad(&d)?;
                    self.new_dyads.insert(d.id);
                    self.merged.dyads += 1;
                }
            }
        }
        Ok(())
    }

    /// Codes, parents first: by id, then by path under the (matched) parent. A new code
    /// needs a valid name ([`checked_code_name`]) and may sit at most [`MAX_CODE_DEPTH`] deep.
    pub fn codes(&mut self, codes: Vec<Code>) -> StudyResult<()> {
        for mut c in codes {
            let parent = c.parent.map(|p| self.codes.get(&p).copied().unwrap_or(p));
            c.name = checked_code_name(&c.name)?.to_string();
            let by_id = self.paths.get(c.id).cloned();
            let paths = &self.paths;
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
                        self.merged.conflicts.push(format!(
                            "code {}: the file's colour or definition differs; the study's are kept",
                            self.paths.path(e.id)
                        ));
                    }
                    self.codes.insert(c.id, e.id);
                    self.merged.codes_matched += 1;
                }
                None => {
                    let depth = 1 + parent.map_or(0, |p| {
                        self.added_depths
                            .get(&p)
                            .copied()
                            .unwrap_or_else(|| self.paths.depth(p))
                    });
                    if depth > MAX_CODE_DEPTH {
                        return Err(StudyError::Invalid(format!(
                            "code {} would be {depth} levels deep, more than the limit of {MAX_CODE_DEPTH}",
                            shown_name(&c.name)
                        )));
                    }
                    self.added_depths.insert(c.id, depth);
                    self.codes.insert(c.id, c.id);
                    c.parent = parent;
                    c.version = 1;
                    self.tx
                        .insert_code(&c)
                        .map_err(|e| StudyError::from(e).at(format!("code {}", c.name)))?;
                    self.merged.codes_added += 1;
                }
            }
        }
        Ok(())
    }

    /// A source with its codings and recording, by id (one already there is left alone, with
    /// its codings); a name taken by another source is refused.
    pub fn source(
        &mut self,
        mut s: Source,
        codings: Vec<Coding>,
        media: Option<Media>,
    ) -> StudyResult<()> {
        if self.source_ids.contains(&s.id) {
            self.merged.already_there += 1;
            return self.codings(codings);
        }
        if self.source_names.contains_key(&s.name) {
            return Err(StudyError::Invalid(format!(
                "{}: the study already has another source of that name; rename one first",
                s.name
            )));
        }
        s.participant = s.participant.map(|p| self.person(p));
        s.dyad = s.dyad.map(|d| self.dyad(d));
        for sp in &mut s.speakers {
            sp.participant = sp.participant.map(|p| self.person(p));
        }
        s.version = 1;
        self.tx
            .insert_source(&s)
            .map_err(|e| StudyError::from(e).at(&s.name))?;
        self.source_ids.insert(s.id);
        self.source_names.insert(s.name.clone(), s.id);
        self.added_sources.insert(s.id);
        self.merged.sources += 1;
        if let Some(m) = media {
            // Whoever mapped the bundle should have checked; a file of the server outside the
            // study is never linked from one.
            let folder = self.folder.as_deref().ok_or_else(|| {
                StudyError::Invalid(format!(
                    "{}: the study has no folder to link its recording from",
                    s.name
                ))
            })?;
            let linked = crate::recording_inside(folder, std::path::Path::new(&m.path), m.source)
                .map_err(|why| {
                StudyError::Invalid(format!("{}: the recording is not linked: {why}", s.name))
            })?;
            self.tx.set_media(&Media {
                attached_at: m.attached_at,
                ..linked
            })?;
        }
        self.codings(codings)
    }

    /// Codings of sources already brought in (or in the study), by id.
    pub fn codings(&mut self, codings: Vec<Coding>) -> StudyResult<()> {
        let mut new = Vec::with_capacity(codings.len());
        for mut c in codings {
            if !self.known_codings.insert(c.id) {
                self.merged.already_there += 1;
                continue;
            }
            c.code = self.codes.get(&c.code).copied().unwrap_or(c.code);
            c.version = 1;
            new.push(c);
        }
        // In the order of the (source, start, end) index, so that its pages fill one after
        // another (a UUID's bytes order as its text does).
        new.sort_by_key(|c| (c.source, c.span.start, c.span.end));
        if !new.is_empty() {
            self.tx.insert_codings(&new)?;
        }
        self.merged.codings += new.len();
        Ok(())
    }

    /// Memos (by id) and case studies of people and dyads brought in.
    pub fn memos(&mut self, memos: Vec<Memo>, cases: Vec<Case>) -> StudyResult<()> {
        for mut m in memos {
            if !self.known_memos.insert(m.id) {
                self.merged.already_there += 1;
                continue;
            }
            m.target = match m.target {
                MemoTarget::Code(id) => {
                    MemoTarget::Code(self.codes.get(&id).copied().unwrap_or(id))
                }
                MemoTarget::Dyad(id) => MemoTarget::Dyad(self.dyad(id)),
                MemoTarget::Participant(id) => MemoTarget::Participant(self.person(id)),
                other => other,
            };
            m.version = 1;
            self.tx.insert_memo(&m)?;
            self.merged.memos += 1;
        }
        for case in cases {
            let subject = match case.subject {
                CaseSubject::Dyad(d) => CaseSubject::Dyad(self.dyad(d)),
                CaseSubject::Clinician(p) => CaseSubject::Clinician(self.person(p)),
            };
            let new = match subject {
                CaseSubject::Dyad(d) => self.new_dyads.contains(&d),
                CaseSubject::Clinician(p) => self.new_people.contains(&p),
            };
            if new {
                self.tx.upsert_case(&Case {
                    subject,
                    version: 0,
                    ..case
                })?;
            }
        }
        Ok(())
    }

    /// Attributed passages of sources brought in (or in the study), by id; whom they are about
    /// as the people were matched.
    pub fn attributions(&mut self, attributions: Vec<Attribution>) -> StudyResult<()> {
        for mut a in attributions {
            if !self.known_attributions.insert(a.id) {
                self.merged.already_there += 1;
                continue;
            }
            a.about = match a.about {
                AttributionTarget::Participant(p) => AttributionTarget::Participant(self.person(p)),
                AttributionTarget::Dyad(d) => AttributionTarget::Dyad(self.dyad(d)),
            };
            self.tx.insert_attribution(&a)?;
            self.merged.attributions += 1;
        }
        Ok(())
    }

    /// Names the study (a study made for the import takes the file's name).
    pub fn name_study(&mut self, name: &str, description: &str) -> StudyResult<()> {
        Ok(self.tx.update_study(name, description)?)
    }

    /// Lands everything brought in.
    pub fn commit(self) -> StudyResult<Merged> {
        self.tx.commit()?;
        Ok(self.merged)
    }
}
