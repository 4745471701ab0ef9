//! Code co-occurrence: codes × codes, each cell the pairs of codings of the two codes that
//! occur together. Two codings go together when they are in the same source, by the same coder
//! (two coders' codings meeting says they agree or not, not that the codes co-occur), neither is
//! a contrast coding, their codes differ, and they overlap, start in the same speaker turn, or
//! lie within N characters of each other (overlapping ones included).

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
    pub codes: Vec<CodeLabel>,
    pub counts: Vec<Vec<usize>>,
    /// Per pair of code positions (smaller first): indexes into the corpus's codings.
    #[serde(skip)]
    pairs: HashMap<(u32, u32), Vec<(u32, u32)>>,
}

impl Cooccurrence {
    /// The pairs of codings behind a cell, as positions in the corpus's `codings`, the first
    /// of each pair being of `a`.
    pub fn pairs(&self, corpus: &Corpus, a: CodeId, b: CodeId) -> Vec<(u32, u32)> {
        let find = |id: CodeId| self.codes.iter().position(|c| c.id == id);
        let (Some(i), Some(j)) = (find(a), find(b)) else {
            return Vec::new();
        };
        let key = (i.min(j) as u32, i.max(j) as u32);
        self.pairs.get(&key).map_or_else(Vec::new, |list| {
            list.iter()
                .map(|&(x, y)| {
                    if corpus.codings[x as usize].code == a {
                        (x, y)
                    } else {
                        (y, x)
                    }
                })
                .collect()
        })
    }
}

impl Corpus {
    /// Co-occurrence of `codes` (or of every code used), by `proximity`.
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
                    if let Some(p) = self.code_position(c.code) {
                        used[p] = true;
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
        let n = chosen.len();
        let mut counts = vec![vec![0usize; n]; n];
        let mut pairs: HashMap<(u32, u32), Vec<(u32, u32)>> = HashMap::new();
        let mut by_coder: HashMap<&str, Vec<(u32, u32)>> = HashMap::new();
        for source in &self.sources {
            let range = self.source_range(source.id);
            by_coder.values_mut().for_each(Vec::clear);
            for (k, coding) in self.codings[range.clone()].iter().enumerate() {
                if coding.contrast || !filter.admits(coding) {
                    continue;
                }
                if let Some(&p) = position.get(&coding.code) {
                    by_coder
                        .entry(coding.coder.as_str())
                        .or_default()
                        .push(((range.start + k) as u32, p));
                }
            }
            for list in by_coder.values() {
                let mut add = |x: (u32, u32), y: (u32, u32)| {
                    if x.1 == y.1 {
                        return;
                    }
                    let (a, b) = if x.1 < y.1 { (x, y) } else { (y, x) };
                    counts[a.1 as usize][b.1 as usize] += 1;
                    counts[b.1 as usize][a.1 as usize] += 1;
                    pairs.entry((a.1, b.1)).or_default().push((a.0, b.0));
                };
                let span = |x: (u32, u32)| self.codings[x.0 as usize].span;
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
                        let turn_of = |x: (u32, u32)| {
                            let start = span(x).start;
                            let i = source.turns.partition_point(|t| t.span.end <= start);
                            source
                                .turns
                                .get(i)
                                .filter(|t| t.span.start <= start)
                                .map(|_| i)
                        };
                        let mut keyed: Vec<(usize, (u32, u32))> = list
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
        let pairs = near5.pairs(&corpus, trust, hope);
        assert_eq!(pairs.len(), 3);
        for (t, h) in pairs {
            let code = |at: u32| corpus.codings[at as usize].code;
            assert_eq!((code(t), code(h)), (trust, hope), "the first is of a");
        }
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
