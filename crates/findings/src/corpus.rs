//! The study snapshot every finding is computed over, with its indexes.

use std::collections::HashMap;
use std::ops::Range;

use between_core::*;
use between_model::Theory;
use between_study::{CodePath, StudyBundle, StudyError};

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("unknown {what} '{given}'")]
    Unknown { what: &'static str, given: String },
    /// A code reference that names no code, or several (the codebook's own answer).
    #[error(transparent)]
    Code(#[from] StudyError),
}

/// A study's content and theory, indexed for analysis. Codings are sorted by source (in the
/// bundle's source order), then start, then end.
#[derive(Debug)]
pub struct Corpus {
    pub name: String,
    pub theory: Option<Theory>,
    pub participants: Vec<Participant>,
    pub dyads: Vec<Dyad>,
    pub sources: Vec<Source>,
    pub codings: Vec<Coding>,
    pub memos: Vec<Memo>,
    pub cases: Vec<Case>,
    /// Passages attributed to whom they are about, by source (in `sources` order), then start.
    pub attributions: Vec<Attribution>,
    /// The team's exemplar quotes, by target then position (empty unless built by [`Corpus::of`]).
    pub exemplars: Vec<Exemplar>,
    source_index: HashMap<SourceId, usize>,
    code_index: HashMap<CodeId, usize>,
    participant_index: HashMap<ParticipantId, usize>,
    dyad_index: HashMap<DyadId, usize>,
    /// The codes (parents before children) with their paths, as the study resolves them.
    codebook: CodePath,
    /// Per code: the theory component it stands for, itself or through its nearest ancestor.
    code_components: Vec<Option<String>>,
    /// Per source: its codings' range in `codings`.
    source_codings: Vec<Range<usize>>,
    /// Per source: its attributions' range in `attributions`.
    source_attributions: Vec<Range<usize>>,
    /// The text search index, built on first use (`Corpus::search_index`).
    pub(crate) search: std::sync::OnceLock<crate::search::SearchIndex>,
}

impl Corpus {
    pub fn new(bundle: StudyBundle, theory: Option<Theory>) -> Self {
        let StudyBundle {
            name,
            participants,
            dyads,
            codes,
            sources,
            mut codings,
            memos,
            cases,
            mut attributions,
            ..
        } = bundle;
        let source_index: HashMap<SourceId, usize> =
            sources.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        let code_index: HashMap<CodeId, usize> =
            codes.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let participant_index = participants
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i))
            .collect();
        let dyad_index = dyads.iter().enumerate().map(|(i, d)| (d.id, i)).collect();

        let codebook = CodePath::new(codes);
        let code_components = codebook
            .codes()
            .iter()
            .map(|code| {
                ancestors_and_self(&codebook, &code_index, code).find_map(|c| c.component.clone())
            })
            .collect();

        codings
            .retain(|c| source_index.contains_key(&c.source) && code_index.contains_key(&c.code));
        codings.sort_by_key(|c| (source_index[&c.source], c.span.start, c.span.end));
        let source_codings = ranges_by_source(&codings, sources.len(), |c| source_index[&c.source]);
        attributions.retain(|a| source_index.contains_key(&a.source));
        attributions.sort_by_key(|a| (source_index[&a.source], a.span.start, a.span.end));
        let source_attributions =
            ranges_by_source(&attributions, sources.len(), |a| source_index[&a.source]);
        Self {
            name,
            theory,
            participants,
            dyads,
            sources,
            codings,
            memos,
            cases,
            attributions,
            exemplars: Vec::new(),
            source_index,
            code_index,
            participant_index,
            dyad_index,
            codebook,
            code_components,
            source_codings,
            source_attributions,
            search: std::sync::OnceLock::new(),
        }
    }

    /// The open study as it is now.
    pub fn of(bench: &between_study::Workbench) -> between_study::StudyResult<Self> {
        let mut corpus = Self::new(bench.bundle()?, bench.theory()?);
        corpus.exemplars = bench.exemplars()?;
        Ok(corpus)
    }

    pub fn source(&self, id: SourceId) -> Option<&Source> {
        self.source_index.get(&id).map(|&i| &self.sources[i])
    }

    pub fn source_position(&self, id: SourceId) -> Option<usize> {
        self.source_index.get(&id).copied()
    }

    /// The codebook, parents before children.
    pub fn codes(&self) -> &[Code] {
        self.codebook.codes()
    }

    pub fn code(&self, id: CodeId) -> Option<&Code> {
        self.code_index.get(&id).map(|&i| &self.codes()[i])
    }

    /// The code, then its parent, grandparent… up to the top.
    pub fn ancestors_and_self<'a>(&'a self, code: &'a Code) -> impl Iterator<Item = &'a Code> {
        ancestors_and_self(&self.codebook, &self.code_index, code)
    }

    pub fn code_position(&self, id: CodeId) -> Option<usize> {
        self.code_index.get(&id).copied()
    }

    /// `Valuing/Presence/Empathy`.
    pub fn code_path(&self, id: CodeId) -> &str {
        self.codebook.path(id)
    }

    /// The theory component a code stands for, itself or through its nearest ancestor.
    pub fn code_component(&self, id: CodeId) -> Option<&str> {
        self.code_index
            .get(&id)
            .and_then(|&i| self.code_components[i].as_deref())
    }

    pub fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.participant_index
            .get(&id)
            .map(|&i| &self.participants[i])
    }

    pub fn dyad(&self, id: DyadId) -> Option<&Dyad> {
        self.dyad_index.get(&id).map(|&i| &self.dyads[i])
    }

    /// A participant by label (case-insensitive).
    pub fn participant_by_label(&self, label: &str) -> Result<&Participant, CorpusError> {
        self.participants
            .iter()
            .find(|p| p.label.eq_ignore_ascii_case(label.trim()))
            .ok_or_else(|| CorpusError::Unknown {
                what: "participant",
                given: label.to_string(),
            })
    }

    /// A dyad by label (case-insensitive).
    pub fn dyad_by_label(&self, label: &str) -> Result<&Dyad, CorpusError> {
        self.dyads
            .iter()
            .find(|d| d.label.eq_ignore_ascii_case(label.trim()))
            .ok_or_else(|| CorpusError::Unknown {
                what: "dyad",
                given: label.to_string(),
            })
    }

    /// A code by id, full path, unique name or end of a path, or theory component id
    /// ([`CodePath::resolve`]).
    pub fn resolve_code(&self, reference: &str) -> Result<&Code, CorpusError> {
        Ok(self.codebook.resolve(reference)?)
    }

    /// The code and every code under it.
    pub fn code_and_descendants(&self, id: CodeId) -> Vec<CodeId> {
        self.codebook.descendants(id)
    }

    /// A source's codings, by start then end.
    pub fn codings_of(&self, source: SourceId) -> &[Coding] {
        self.source_index
            .get(&source)
            .map_or(&[][..], |&i| &self.codings[self.source_codings[i].clone()])
    }

    /// Where a source's codings are in `codings` (empty for an unknown source).
    pub(crate) fn source_range(&self, source: SourceId) -> Range<usize> {
        self.source_index
            .get(&source)
            .map_or(0..0, |&i| self.source_codings[i].clone())
    }

    /// The role of who said a coding's first character (the speaker of its turn).
    pub fn speaker_role(&self, coding: &Coding) -> Option<Role> {
        self.source(coding.source)?
            .speaker_at(coding.span.start)
            .map(|s| s.role)
    }

    /// Whose account a source is.
    pub fn account_of(&self, source: &Source) -> Option<&Participant> {
        source.participant.and_then(|p| self.participant(p))
    }

    /// A source's attributions, by start then end.
    pub fn attributions_of(&self, source: SourceId) -> &[Attribution] {
        self.source_index.get(&source).map_or(&[][..], |&i| {
            &self.attributions[self.source_attributions[i].clone()]
        })
    }

    /// The dyads a whole source speaks for when none of its passages is attributed: the dyad
    /// it names, else (a patient's account) the patient's one dyad. A clinician's source
    /// speaks for no dyad by itself: only its attributed passages do (`docs/findings.md`,
    /// "Accounts and attribution").
    pub fn general_dyads_of(&self, source: &Source) -> Vec<&Dyad> {
        if let Some(d) = source.dyad.and_then(|d| self.dyad(d)) {
            return vec![d];
        }
        match self.account_of(source) {
            Some(p) if p.role == Role::Patient => {
                let mut theirs = self.dyads.iter().filter(|d| d.patient == p.id);
                match (theirs.next(), theirs.next()) {
                    (Some(only), None) => vec![only],
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// The dyads an attribution names: a dyad; for a participant, the dyads that pair them
    /// with the source's participant, or, when none does (a field note, say), every dyad of
    /// theirs.
    pub fn dyads_of_attribution(&self, source: &Source, about: AttributionTarget) -> Vec<&Dyad> {
        match about {
            AttributionTarget::Dyad(d) => self.dyad(d).into_iter().collect(),
            AttributionTarget::Participant(p) => {
                let theirs: Vec<&Dyad> = self
                    .dyads
                    .iter()
                    .filter(|d| d.clinician == p || d.patient == p)
                    .collect();
                let paired: Vec<&Dyad> = match source.participant {
                    Some(own) => theirs
                        .iter()
                        .copied()
                        .filter(|d| d.clinician == own || d.patient == own)
                        .collect(),
                    None => Vec::new(),
                };
                if paired.is_empty() { theirs } else { paired }
            }
        }
    }

    /// The dyads a passage of a source speaks for, the one rule every finding counts by: the
    /// dyads named by the attributions it overlaps (shares a character with); when it
    /// overlaps none, [`Corpus::general_dyads_of`] its source. Empty: the passage is about no
    /// particular dyad (a clinician's general account, a journal).
    pub fn dyads_of_passage(&self, source: &Source, span: Span) -> Vec<&Dyad> {
        let mut dyads: Vec<&Dyad> = Vec::new();
        let mut attributed = false;
        for a in self.attributions_of(source.id) {
            if a.span.start >= span.end {
                break;
            }
            if a.span.end > span.start {
                attributed = true;
                for d in self.dyads_of_attribution(source, a.about) {
                    if !dyads.iter().any(|seen| seen.id == d.id) {
                        dyads.push(d);
                    }
                }
            }
        }
        if attributed {
            dyads.sort_by_key(|d| self.dyad_index[&d.id]);
            dyads
        } else {
            self.general_dyads_of(source)
        }
    }

    /// Every dyad some passage of a source speaks for (its general dyads and those its
    /// attributions name), in dyad order: whose case the source belongs to.
    pub fn dyads_of(&self, source: &Source) -> Vec<&Dyad> {
        let mut dyads = self.general_dyads_of(source);
        for a in self.attributions_of(source.id) {
            for d in self.dyads_of_attribution(source, a.about) {
                if !dyads.iter().any(|seen| seen.id == d.id) {
                    dyads.push(d);
                }
            }
        }
        dyads.sort_by_key(|d| self.dyad_index[&d.id]);
        dyads
    }

    /// The code points of `span` in a source (empty when it does not fit).
    pub fn text_of<'a>(&self, source: &'a Source, span: Span) -> &'a str {
        text::slice(&source.text, span).unwrap_or_default()
    }
}

/// Per source position, the range of `items` (sorted by source position) that belong to it.
fn ranges_by_source<T>(
    items: &[T],
    sources: usize,
    position: impl Fn(&T) -> usize,
) -> Vec<Range<usize>> {
    (0..sources)
        .map(|s| {
            let start = items.partition_point(|x| position(x) < s);
            let end = items.partition_point(|x| position(x) <= s);
            start..end
        })
        .collect()
}

/// `code`, then its ancestors; bounded by the number of codes, so a damaged cycle cannot loop.
fn ancestors_and_self<'a>(
    codebook: &'a CodePath,
    index: &'a HashMap<CodeId, usize>,
    code: &'a Code,
) -> impl Iterator<Item = &'a Code> {
    let codes = codebook.codes();
    std::iter::successors(Some(code), move |c| {
        c.parent.and_then(|p| index.get(&p)).map(|&i| &codes[i])
    })
    .take(codes.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample;

    #[test]
    fn indexes_the_sample_study() {
        let corpus = sample();
        assert_eq!(corpus.dyads.len(), 10);
        let total: usize = corpus
            .sources
            .iter()
            .map(|s| corpus.codings_of(s.id).len())
            .sum();
        assert_eq!(total, corpus.codings.len());
        for s in &corpus.sources {
            let cs = corpus.codings_of(s.id);
            assert!(cs.iter().all(|c| c.source == s.id));
            assert!(cs.windows(2).all(|w| w[0].span.start <= w[1].span.start));
        }
        let humour = corpus.resolve_code("Humour").expect("open code");
        assert!(corpus.code_path(humour.id).ends_with("/Humour"));
        assert!(
            corpus.code_component(humour.id).is_some(),
            "inherits its parent's component"
        );
        let c1 = corpus.participant_by_label("c1").expect("C1");
        let osei = corpus
            .sources
            .iter()
            .find(|s| {
                s.participant == Some(c1.id) && s.dyad.is_none() && s.kind == SourceKind::Interview
            })
            .expect("C1's interview");
        assert!(
            corpus.general_dyads_of(osei).is_empty(),
            "a clinician's interview speaks for no dyad by itself"
        );
    }
}
