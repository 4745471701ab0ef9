//! Counts of what a study holds and how it is coded.

use std::collections::BTreeMap;

use crate::{StudyResult, Workbench};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub codings: usize,
    /// Of those, contrast codings (reported apart, never as evidence).
    pub contrast: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub study: String,
    pub theory: Option<String>,
    pub sources: usize,
    pub codings: usize,
    pub codes: usize,
    pub participants: usize,
    pub dyads: usize,
    pub memos: usize,
    /// By code path (codes with no codings included).
    pub by_code: BTreeMap<String, Count>,
    /// By the role of the speaker where the coding starts (`unknown` when none).
    pub by_role: BTreeMap<String, Count>,
    /// By the dyad of the coded source (`none` when it has none).
    pub by_dyad: BTreeMap<String, Count>,
    pub by_coder: BTreeMap<String, Count>,
}

impl Workbench {
    pub fn stats(&self) -> StudyResult<Stats> {
        let study = self.study()?;
        let codes = self.codebook()?;
        let views = self.codings(None, None, None)?;
        let mut by_code: BTreeMap<String, Count> = codes
            .iter()
            .map(|n| (n.path.clone(), Count::default()))
            .collect();
        let (mut by_role, mut by_dyad, mut by_coder) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for v in &views {
            let role = v.role.map_or("unknown".to_string(), |r| r.to_string());
            let dyad = v.dyad.clone().unwrap_or_else(|| "none".to_string());
            for (map, key) in [
                (&mut by_code, v.code_path.clone()),
                (&mut by_role, role),
                (&mut by_dyad, dyad),
                (&mut by_coder, v.coding.coder.clone()),
            ] {
                let count: &mut Count = map.entry(key).or_default();
                count.codings += 1;
                count.contrast += usize::from(v.coding.contrast);
            }
        }
        Ok(Stats {
            study: study.name,
            theory: study.theory.map(|t| format!("{} {}", t.name, t.version)),
            sources: self.store.source_infos()?.len(),
            codings: views.len(),
            codes: codes.len(),
            participants: self.store.participants()?.len(),
            dyads: self.store.dyads()?.len(),
            memos: self.store.memos(None)?.len(),
            by_code,
            by_role,
            by_dyad,
            by_coder,
        })
    }
}
