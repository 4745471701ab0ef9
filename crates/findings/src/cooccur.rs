//! Code co-occurrence: codes × codes, each cell the pairs of codings of the two codes that
//! occur together. Two codings go together when they are in the same source, by the same coder
//! (two coders' codings meeting says they agree or not, not that the codes co-occur), neither is
//! a contrast coding, their codes differ, and they overlap, start in the same speaker turn, or
//! lie within N characters of each other (overlapping ones included).
//!
//! With sub-codes included, a coding of a sub-code counts as a coding of each code above it
//! too; a pair then counts for every two codes its codings count for, but never for a code
//! with itself or with a code above or below it (`docs/findings.md`, "Co-occurrence").

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use between_core::CodeId;
use serde::Serialize;

use crate::{CodingFilter, Corpus};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proximity {
    Overlap,
    SameTurn,
    /// At most this many characters apart.
    Near(usize),
}

impl fmt::Display for Proximity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proximity::Overlap => f.write_str("overlap"),
            Proximity::SameTurn => f.write_str("turn"),
            Proximity::Near(n) => write!(f, "near {n}"),
        }
    }
}

impl Proximity {
    /// `overlap`, `turn`, or `near` with a distance.
    pub fn parse(mode: &str, within: Option<usize>) -> Result<Self, String> {
        match (mode.trim().to_lowercase().as_str(), within) {
            ("overlap", _) => Ok(Proximity::Overlap),
            ("turn" | "same-turn", _) => Ok(Proximity::SameTurn),
            ("near", Some(n)) => Ok(Proximity::Near(n)),
            ("near", None) => Err("near needs a distance in characters (--within N)".into()),
            (other, _) => Err(format!(
                "unknown co-occurrence mode '{other}': expected overlap, turn or near"
            )),
        }
    }
}

impl FromStr for Proximity {
    type Err = String;
    /// `overlap`, `turn`, `near:N`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            Some((mode, n)) => {
                let n = n
                    .trim()
                    .parse()
                    .map_err(|_| format!("'{n}' is not a distance"))?;
                Proximity::parse(mode, Some(n))
            }
            None => Proximity::parse(s, None),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CodeLabel {
    pub id: CodeId,
    pub path: String,
}

/// Codes × codes; `counts[i][j]` pairs of codings of codes `i` and `j` (symmetric, zero on the
/// diagonal).
#[derive(Clone, Debug, Serialize)]
pub struct Cooccurrence {
    pub mode: String,
    /// A coding of a sub-code counted as a coding of each code above it too.
    pub include_subcodes: bool,
    pub codes: Vec<CodeLabel>,
    pub counts: Vec<Vec<usize>>,
    /// Per pair of code positions (smaller first): the pairs of codings behind the cell, as
    /// indexes into the corpus's codings, the first counted for the smaller position.
    #[serde(skip)]
    pairs: HashMap<(u32, u32), Vec<(u32, u32)>>,
}

impl Cooccurrence {
    /// The pairs of codings behind a cell, as positions in the corpus's `codings`, the first
    /// of each pair being the one counted for `a`.
    pub fn pairs(&self, a: CodeId, b: CodeId) -> Vec<(u32, u32)> {
        let find = |id: CodeId| self.codes.iter().position(|c| c.id == id);
        let (Some(i), Some(j)) = (find(a), find(b)) else {
            return Vec::new();
        };
        let key = (i.min(j) as u32, i.max(j) as u32);
        self.pairs.get(&key).map_or_else(Vec::new, |list| {
            list.iter()
                .map(|&(x, y)| if i < j { (x, y) } else { (y, x) })
                .collect()
        })
    }
}

impl Corpus {
    /// Co-occurrence of `codes` (or of every code used, and with sub-codes every code above
    /// one used), by `proximity`.
    pub fn cooccurrence(
        &self,
        proximity: Proximity,
        codes: Option<&[CodeId]>,
        filter: &CodingFilter,
    ) -> Cooccurrence {
        let chosen: Vec<CodeId> = match codes {
            Some(c) => c.to_vec(),
            None => {
                let mut used = vec![false; self.codes().len()];
                for c in &self.codings {
                    if let Some(code) = self.code(c.code) {
                        let counted = if filter.include_subcodes {
                            usize::MAX
                        } else {
                            1
                        };
                        for counted in self.ancestors_and_self(code).take(counted) {
                            if let Some(p) = self.code_position(counted.id) {
                                used[p] = true;
                            }
                        }
                    }
                }
                self.codes()
                    .iter()
                    .zip(used)
                    .filter(|(_, u)| *u)
                    .map(|(c, _)| c.id)
                    .collect()
            }
        };
        let position: HashMap<CodeId, u32> = chosen
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, i as u32))
            .collect();
        // Per code of the codebook, the chosen codes a coding of it counts for: itself, and
        // with sub-codes every code above it.
        let counted = if filter.include_subcodes {
            usize::MAX
        } else {
            1
        };
        let targets: Vec<Vec<u32>> = self
            .codes()
            .iter()
            .map(|code| {
                self.ancestors_and_self(code)
                    .take(counted)
                    .filter_map(|c| position.get(&c.id).copied())
                    .collect()
            })
            .collect();
        let n = chosen.len();
        let mut counts = vec![vec![0usize; n]; n];
        let mut pairs: HashMap<(u32, u32), Vec<(u32, u32)>> = HashMap::new();
        // Per coder: (index into the corpus's codings, the codebook position of its code).
        let mut by_coder: HashMap<&str, Vec<(u32, usize)>> = HashMap::new();
        for source in &self.sources {
            let range = self.source_range(source.id);
            by_coder.values_mut().for_each(Vec::clear);
            for (k, coding) in self.codings[range.clone()].iter().enumerate() {
                if coding.contrast || !filter.admits(coding) {
                    continue;
                }
                if let Some(p) = self.code_position(coding.code)
                    && !targets[p].is_empty()
                {
                    by_coder
                        .entry(coding.coder.as_str())
                        .or_default()
                        .push(((range.start + k) as u32, p));
                }
            }
            for list in by_coder.values() {
                // Two codings that go together count for each pair of codes they count for,
                // but never for a code with itself, nor for a code with one the other coding
                // also counts for (with sub-codes, a code and a code above it: the sub-code's
                // coding is already a coding of the code above).
                let mut add = |x: (u32, usize), y: (u32, usize)| {
                    let (tx, ty) = (&targets[x.1], &targets[y.1]);
                    for &a in tx {
                        for &b in ty {
                            if a == b || tx.contains(&b) || ty.contains(&a) {
                                continue;
                            }
                            counts[a as usize][b as usize] += 1;
                            counts[b as usize][a as usize] += 1;
                            let pair = if a < b { (x.0, y.0) } else { (y.0, x.0) };
                            pairs.entry((a.min(b), a.max(b))).or_default().push(pair);
                        }
                    }
                };
                let span = |x: (u32, usize)| self.codings[x.0 as usize].span;
                match proximity {
                    Proximity::Overlap | Proximity::Near(_) => {
                        let reach = match proximity {
                            Proximity::Near(d) => d + 1,
                            _ => 0,
                        };
                        // Sorted by start: later codings start no earlier, so stop at the
                        // first that starts out of reach.
                        for (i, &x) in list.iter().enumerate() {
                            let end = span(x).end + reach;
                            for &y in &list[i + 1..] {
                                if span(y).start >= end {
                                    break;
                                }
                                add(x, y);
                            }
                        }
                    }
                    Proximity::SameTurn => {
                        let turn_of = |x: (u32, usize)| {
                            let start = span(x).start;
                            let i = source.turns.partition_point(|t| t.span.end <= start);
                            source
                                .turns
                                .get(i)
                                .filter(|t| t.span.start <= start)
                                .map(|_| i)
                        };
                        let mut keyed: Vec<(usize, (u32, usize))> = list
                            .iter()
                            .filter_map(|&x| turn_of(x).map(|t| (t, x)))
                            .collect();
                        keyed.sort_by_key(|(t, x)| (*t, x.0));
                        for group in keyed.chunk_by(|a, b| a.0 == b.0) {
                            for (i, &(_, x)) in group.iter().enumerate() {
                                for &(_, y) in &group[i + 1..] {
                                    add(x, y);
                                }
                            }
                        }
                    }
                }
            }
        }
        Cooccurrence {
            mode: proximity.to_string(),
            include_subcodes: filter.include_subcodes,
            codes: chosen
                .iter()
                .map(|&id| CodeLabel {
                    id,
                    path: self.code_path(id).to_string(),
                })
                .collect(),
            counts,
            pairs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query_fixtures::two_turns;
    use crate::test_support::sample;

    fn fixture() -> Corpus {
        two_turns(&[
            (0, "Hope", 27, 31, "ann", false),
            (0, "Hope", 17, 31, "bob", false),
            (0, "Trust", 17, 22, "cat", true),
        ])
    }

    fn count(m: &Cooccurrence, a: &str, b: &str) -> usize {
        let i = m.codes.iter().position(|c| c.path == a).expect("a");
        let j = m.codes.iter().position(|c| c.path == b).expect("b");
        assert_eq!(m.counts[i][j], m.counts[j][i], "symmetric");
        m.counts[i][j]
    }

    #[test]
    fn pairs_by_overlap_turn_and_distance() {
        let corpus = fixture();
        let f = CodingFilter::default();
        let overlap = corpus.cooccurrence(Proximity::Overlap, None, &f);
        // ann's Hope 3..12 with Trust 8..12; bob's Hope meets no code of bob's; cat's is a contrast.
        assert_eq!(count(&overlap, "Hope", "Trust"), 1);
        assert_eq!(count(&overlap, "Hope", "Hope"), 0);
        let turn = corpus.cooccurrence(Proximity::SameTurn, None, &f);
        // Turn A: ann's Hope + Trust; turn B: ann's Trust 17..22 + Hope 27..31.
        assert_eq!(count(&turn, "Hope", "Trust"), 2);
        // Trust 17..22 and Hope 27..31 are 5 characters apart.
        let near4 = corpus.cooccurrence(Proximity::Near(4), None, &f);
        let near5 = corpus.cooccurrence(Proximity::Near(5), None, &f);
        assert_eq!(count(&near4, "Hope", "Trust"), 1);
        // Near 5 adds Hope 3..12 with Trust 17..22 and Trust 17..22 with Hope 27..31.
        assert_eq!(count(&near5, "Hope", "Trust"), 3);
        let hope = corpus.resolve_code("Hope").expect("hope").id;
        let trust = corpus.resolve_code("Trust").expect("trust").id;
        let pairs = near5.pairs(trust, hope);
        assert_eq!(pairs.len(), 3);
        for (t, h) in pairs {
            let code = |at: u32| corpus.codings[at as usize].code;
            assert_eq!((code(t), code(h)), (trust, hope), "the first is of a");
        }
    }

    /// A hand-made study over the healing relationship model, with one interview of patient
    /// P1 (turns by line):
    ///
    /// ```text
    /// INTERVIEWER: How is she with you?
    /// P1: She really listens to me, so I trust her.
    /// P1: She never gave up on me. She stays. I have hope again.
    /// ```
    ///
    /// Coder `a`: full-attention (Valuing/Presence/Full attention) on "She really listens to
    /// me, so I trust her" and trust on "I trust her."; not-giving-up (Abiding/Not giving up)
    /// on "She never gave up on me.", abiding on "She stays." and hope on "I have hope again.".
    /// Coder `b`: valuing on "She really listens to me" (overlapping a's trust, but a pair
    /// needs one coder), hope on "I have hope again." and abiding on "She stays." as a
    /// contrast case (never paired).
    ///
    /// Worked by hand:
    /// - Valuing ~ Trust, overlap: a's only codings that overlap are full-attention and trust.
    ///   Without sub-codes that pair is Full attention ~ Trust, and Valuing ~ Trust is 0 (b's
    ///   valuing meets no code of b's). With sub-codes, full-attention counts as Presence and
    ///   Valuing too: Valuing ~ Trust is 1.
    /// - Abiding ~ Hope, same turn: in the last turn a has not-giving-up, abiding and hope;
    ///   b's hope has only b's contrast coding beside it. Without sub-codes, abiding + hope is
    ///   the one pair: 1. With sub-codes, not-giving-up + hope counts for Abiding too: 2.
    ///   Overlapping, they are 0 either way (those three codings do not overlap).
    /// - A code with its own sub-code: without sub-codes, a's abiding and not-giving-up in one
    ///   turn are Abiding ~ Not giving up 1; with sub-codes 0 (the sub-code's coding is a
    ///   coding of Abiding, and a code never co-occurs with itself); likewise Valuing ~
    ///   Presence.
    fn healing_study() -> Corpus {
        use between_core::Role;
        use between_study::{
            CodingTarget, ImportFile, ImportOptions, NewCoding, NewParticipant, NewStudy, Workbench,
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let mut wb = Workbench::create(
            &dir.path().join("cooccur.between"),
            NewStudy {
                name: "cooccur".into(),
                theory: Some(between_model::resolve("healing-relationship-model").expect("theory")),
                ..Default::default()
            },
            &between_store::OpenOptions::default(),
            "a",
        )
        .expect("study");
        wb.add_participant(NewParticipant {
            label: "P1".into(),
            role: Some(Role::Patient),
            ..Default::default()
        })
        .expect("participant");
        let text = "INTERVIEWER: How is she with you?\n\
                    P1: She really listens to me, so I trust her.\n\
                    P1: She never gave up on me. She stays. I have hope again.\n";
        wb.import_files(
            vec![ImportFile {
                name: "p1.txt".into(),
                bytes: text.as_bytes().to_vec(),
            }],
            &ImportOptions {
                participant: Some("P1".into()),
                ..Default::default()
            },
            &mut |_, _| {},
        )
        .expect("import");
        let coding = |code: &str, quote: &str, coder: &str, contrast: bool| NewCoding {
            source: "p1.txt".into(),
            code: code.into(),
            target: CodingTarget::Quote {
                text: quote.into(),
                occurrence: None,
            },
            coder: Some(coder.into()),
            memo: None,
            contrast,
        };
        wb.apply_codings(vec![
            coding(
                "full-attention",
                "She really listens to me, so I trust her",
                "a",
                false,
            ),
            coding("trust", "I trust her.", "a", false),
            coding("not-giving-up", "She never gave up on me.", "a", false),
            coding("abiding", "She stays.", "a", false),
            coding("hope", "I have hope again.", "a", false),
            coding("valuing", "She really listens to me", "b", false),
            coding("hope", "I have hope again.", "b", false),
            coding("abiding", "She stays.", "b", true),
        ])
        .expect("codings");
        Corpus::of(&wb).expect("corpus")
    }

    #[test]
    fn subcodes_roll_up_to_every_code_above_but_never_pair_a_code_with_itself() {
        let corpus = healing_study();
        let id = |c: &str| corpus.resolve_code(c).expect(c).id;
        let cell = |m: &Cooccurrence, a: &str, b: &str| {
            let find = |c: &str| m.codes.iter().position(|l| l.id == id(c));
            match (find(a), find(b)) {
                (Some(i), Some(j)) => {
                    assert_eq!(m.counts[i][j], m.counts[j][i], "symmetric");
                    m.counts[i][j]
                }
                _ => 0,
            }
        };
        let of = |proximity, include_subcodes| {
            corpus.cooccurrence(
                proximity,
                None,
                &CodingFilter {
                    coders: None,
                    include_subcodes,
                },
            )
        };
        let (overlap, overlap_up) = (of(Proximity::Overlap, false), of(Proximity::Overlap, true));
        let (turn, turn_up) = (
            of(Proximity::SameTurn, false),
            of(Proximity::SameTurn, true),
        );
        assert!(!overlap.include_subcodes && overlap_up.include_subcodes);

        assert_eq!(cell(&overlap, "valuing", "trust"), 0);
        assert_eq!(cell(&overlap_up, "valuing", "trust"), 1);
        assert_eq!(cell(&overlap, "full-attention", "trust"), 1);
        assert_eq!(cell(&overlap_up, "presence", "trust"), 1);
        assert_eq!(cell(&overlap, "abiding", "hope"), 0);
        assert_eq!(cell(&overlap_up, "abiding", "hope"), 0);

        assert_eq!(cell(&turn, "abiding", "hope"), 1);
        assert_eq!(cell(&turn_up, "abiding", "hope"), 2);
        assert_eq!(cell(&turn, "valuing", "trust"), 0);
        assert_eq!(cell(&turn_up, "valuing", "trust"), 1);

        assert_eq!(cell(&turn, "abiding", "not-giving-up"), 1);
        assert_eq!(cell(&turn_up, "abiding", "not-giving-up"), 0);
        assert_eq!(cell(&turn_up, "valuing", "presence"), 0);
        assert_eq!(cell(&turn_up, "valuing", "full-attention"), 0);
        for m in [&overlap, &overlap_up, &turn, &turn_up] {
            assert!((0..m.codes.len()).all(|i| m.counts[i][i] == 0), "diagonal");
        }

        // The pairs behind a rolled-up cell: each first coding is one counted for Abiding.
        let (abiding, hope) = (id("abiding"), id("hope"));
        let pairs = turn_up.pairs(hope, abiding);
        assert_eq!(pairs.len(), 2);
        let code = |at: u32| corpus.codings[at as usize].code;
        let mut under: Vec<CodeId> = pairs.iter().map(|&(_, y)| code(y)).collect();
        under.sort();
        let mut expected = vec![abiding, id("not-giving-up")];
        expected.sort();
        assert_eq!(under, expected);
        assert!(
            pairs.iter().all(|&(x, _)| code(x) == hope),
            "the first is of a"
        );
    }

    #[test]
    fn sample_pairs_grow_with_the_distance() {
        let corpus = sample();
        let f = CodingFilter::default();
        let overlap = corpus.cooccurrence(Proximity::Overlap, None, &f);
        let near0 = corpus.cooccurrence(Proximity::Near(0), None, &f);
        let near_far = corpus.cooccurrence(Proximity::Near(1_000_000), None, &f);
        for i in 0..overlap.codes.len() {
            for j in 0..overlap.codes.len() {
                assert!(overlap.counts[i][j] <= near0.counts[i][j]);
                assert!(near0.counts[i][j] <= near_far.counts[i][j]);
            }
        }
        // Pairs in one turn are pairs in one source, so within any distance.
        let turn = corpus.cooccurrence(Proximity::SameTurn, None, &f);
        for (t, far) in turn
            .counts
            .iter()
            .flatten()
            .zip(near_far.counts.iter().flatten())
        {
            assert!(t <= far);
        }
        assert!(turn.counts.iter().flatten().sum::<usize>() > 0);
    }
}
