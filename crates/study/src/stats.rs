//! Counts of what a study holds and how it is coded, by the one rule every count of codings
//! follows: contrast codings are counted apart, never added in (`docs/findings.md`, "Counting
//! codings").

use std::collections::BTreeMap;
use std::fmt;

use crate::{StudyResult, Workbench};

/// Codings counted by the one rule: `codings` are evidence (not contrast), `contrast` the
/// contrast codings beside them. Written "15 (+10 contrast)".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    /// Codings that are not contrast codings.
    pub codings: usize,
    /// Contrast codings, apart.
    pub contrast: usize,
}

impl Count {
    /// Counts one coding (`n` of them) on the side its contrast flag says.
    pub fn add(&mut self, contrast: bool, n: usize) {
        if contrast {
            self.contrast += n;
        } else {
            self.codings += n;
        }
    }

    /// The count in words, as a title line gives it: "15 codings (+10 contrast)".
    pub fn in_words(&self) -> String {
        match self.contrast {
            0 => format!("{} codings", self.codings),
            n => format!("{} codings (+{n} contrast)", self.codings),
        }
    }

    /// Every coding, of either side: what moves when a code is merged, say.
    pub fn all(&self) -> usize {
        self.codings + self.contrast
    }
}

impl std::iter::Sum for Count {
    fn sum<I: Iterator<Item = Count>>(counts: I) -> Count {
        counts.fold(Count::default(), |a, b| Count {
            codings: a.codings + b.codings,
            contrast: a.contrast + b.contrast,
        })
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The width asked for pads the number, so columns of counts line up.
        fmt::Display::fmt(&self.codings, f)?;
        if self.contrast > 0 {
            write!(f, " (+{} contrast)", self.contrast)?;
        }
        Ok(())
    }
}

/// The study's counts. Per dyad they are a query (`between-findings`, grouping by dyad), since
/// which dyads a passage counts for depends on its attributions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub study: String,
    pub theory: Option<String>,
    pub sources: usize,
    /// Codings that are not contrast codings…
    pub codings: usize,
    /// …and contrast codings, apart.
    pub contrast: usize,
    pub codes: usize,
    pub participants: usize,
    pub dyads: usize,
    pub memos: usize,
    /// By code path (codes with no codings included).
    pub by_code: BTreeMap<String, Count>,
    /// By the role of the speaker where the coding starts (`unknown` when none).
    pub by_role: BTreeMap<String, Count>,
    pub by_coder: BTreeMap<String, Count>,
}

impl Stats {
    /// All the study's codings, counted by the rule.
    pub fn count(&self) -> Count {
        Count {
            codings: self.codings,
            contrast: self.contrast,
        }
    }
}

impl Workbench {
    pub fn stats(&self) -> StudyResult<Stats> {
        let study = self.study()?;
        let codes = self.codebook()?;
        let views = self.codings(None, None, None)?;
        let by_code: BTreeMap<String, Count> =
            codes.iter().map(|n| (n.path.clone(), n.count)).collect();
        let (mut all, mut by_role, mut by_coder) =
            (Count::default(), BTreeMap::new(), BTreeMap::new());
        for v in &views {
            let role = v.role.map_or("unknown".to_string(), |r| r.to_string());
            all.add(v.coding.contrast, 1);
            for (map, key) in [
                (&mut by_role, role),
                (&mut by_coder, v.coding.coder.clone()),
            ] {
                let count: &mut Count = map.entry(key).or_default();
                count.add(v.coding.contrast, 1);
            }
        }
        Ok(Stats {
            study: study.name,
            theory: study.theory.map(|t| format!("{} {}", t.name, t.version)),
            sources: self.store.source_infos()?.len(),
            codings: all.codings,
            contrast: all.contrast,
            codes: codes.len(),
            participants: self.store.participants()?.len(),
            dyads: self.store.dyads()?.len(),
            memos: self.store.memos(None)?.len(),
            by_code,
            by_role,
            by_coder,
        })
    }
}
