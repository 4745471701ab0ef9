//! The codebook: codes from the study's theory plus open codes, as a tree.

use std::collections::HashMap;

use between_core::*;
use between_model::Theory;

use crate::{MemoView, StudyError, StudyResult, Workbench};

/// Colour of open codes that have no parent to inherit one from.
const OPEN_CODE_COLOUR: &str = "#555555";

/// Codes by id with their paths (`Valuing/Presence/Empathy`), for resolving what users type.
#[derive(Clone, Debug)]
pub struct CodePath {
    codes: Vec<Code>,
    paths: HashMap<CodeId, String>,
}

impl CodePath {
    pub fn new(codes: Vec<Code>) -> Self {
        let by_id: HashMap<CodeId, &Code> = codes.iter().map(|c| (c.id, c)).collect();
        let paths = codes
            .iter()
            .map(|c| {
                let mut names = vec![c.name.as_str()];
                let mut at = c.parent;
                // Bounded by the number of codes, so a damaged cycle cannot loop forever.
                for _ in 0..codes.len() {
                    let Some(p) = at.and_then(|id| by_id.get(&id)) else {
                        break;
                    };
                    names.push(&p.name);
                    at = p.parent;
                }
                names.reverse();
                (c.id, names.join("/"))
            })
            .collect();
        Self { codes, paths }
    }

    pub fn codes(&self) -> &[Code] {
        &self.codes
    }

    pub fn path(&self, id: CodeId) -> &str {
        self.paths.get(&id).map_or("?", String::as_str)
    }

    pub fn get(&self, id: CodeId) -> Option<&Code> {
        self.codes.iter().find(|c| c.id == id)
    }

    /// A code by id, full path (`Valuing/Presence`), unique name or end of a path, or theory
    /// component id.
    pub fn resolve(&self, reference: &str) -> StudyResult<&Code> {
        let wanted = reference.trim().trim_matches('/');
        if let Some(code) = wanted.parse::<CodeId>().ok().and_then(|id| self.get(id)) {
            return Ok(code);
        }
        let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
        if let Some(c) = self.codes.iter().find(|c| same(self.path(c.id), wanted)) {
            return Ok(c);
        }
        // A name, or the end of a path (`Presence/Empathy`), that fits exactly one code.
        let suffix = format!("/{}", wanted.to_lowercase());
        let named: Vec<&Code> = self
            .codes
            .iter()
            .filter(|c| {
                same(&c.name, wanted)
                    || (wanted.contains('/') && self.path(c.id).to_lowercase().ends_with(&suffix))
            })
            .collect();
        match named.as_slice() {
            [one] => return Ok(one),
            [] => {}
            many => {
                return Err(StudyError::AmbiguousCode {
                    reference: reference.to_string(),
                    paths: many.iter().map(|c| self.path(c.id).to_string()).collect(),
                });
            }
        }
        if let Some(c) = self
            .codes
            .iter()
            .find(|c| c.component.as_deref() == Some(wanted))
        {
            return Ok(c);
        }
        Err(StudyError::UnknownCode(reference.to_string()))
    }

    /// `id` and every code below it.
    pub fn descendants(&self, id: CodeId) -> Vec<CodeId> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            out.extend(
                self.codes
                    .iter()
                    .filter(|c| c.parent == Some(parent))
                    .map(|c| c.id),
            );
            i += 1;
        }
        out
    }
}

/// A code in the tree, with how often it is used.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CodeNode {
    pub code: Code,
    pub path: String,
    pub depth: usize,
    pub codings: usize,
}

impl Workbench {
    pub(crate) fn add_theory_codes(&mut self, theory: &Theory) -> StudyResult<()> {
        let seeds = theory.codebook();
        let mut ids: Vec<CodeId> = Vec::with_capacity(seeds.len());
        let mut tx = self.store.transaction(&self.actor.name)?;
        for seed in seeds {
            let code = Code {
                id: CodeId::new(),
                parent: seed.parent.map(|i| ids[i]),
                name: seed.name,
                colour: seed.colour,
                definition: seed.definition,
                indicators: seed.indicators,
                component: Some(seed.component),
                version: 1,
            };
            tx.insert_code(&code)?;
            ids.push(code.id);
        }
        tx.commit()?;
        Ok(())
    }

    pub fn code_paths(&self) -> StudyResult<CodePath> {
        Ok(CodePath::new(self.store.codes()?))
    }

    /// The codebook as a depth-first tree, with coding counts.
    pub fn codebook(&self) -> StudyResult<Vec<CodeNode>> {
        self.codebook_counting(self.store.coding_counts()?.into_iter().collect())
    }

    /// The codebook as `viewer` may see it: its counts leave out codings hidden from them.
    pub fn codebook_seen_by(&self, viewer: &Account) -> StudyResult<Vec<CodeNode>> {
        self.codebook_counting(self.coding_counts_seen_by(viewer)?)
    }

    fn codebook_counting(&self, counts: HashMap<CodeId, usize>) -> StudyResult<Vec<CodeNode>> {
        let paths = self.code_paths()?;
        let mut out = Vec::new();
        fn walk(
            paths: &CodePath,
            counts: &HashMap<CodeId, usize>,
            parent: Option<CodeId>,
            depth: usize,
            out: &mut Vec<CodeNode>,
        ) {
            for c in paths.codes().iter().filter(|c| c.parent == parent) {
                out.push(CodeNode {
                    code: c.clone(),
                    path: paths.path(c.id).to_string(),
                    depth,
                    codings: counts.get(&c.id).copied().unwrap_or(0),
                });
                walk(paths, counts, Some(c.id), depth + 1, out);
            }
        }
        walk(&paths, &counts, None, 0, &mut out);
        Ok(out)
    }

    /// Adds an open code (or any code) under `parent`, inheriting its colour unless given one.
    pub fn add_code(
        &mut self,
        name: &str,
        parent: Option<&str>,
        colour: Option<&str>,
        definition: &str,
    ) -> StudyResult<Code> {
        self.must_write()?;
        let paths = self.code_paths()?;
        let parent = parent.map(|p| paths.resolve(p)).transpose()?;
        let code = new_code(name, parent, colour, definition)?;
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.insert_code(&code)?;
        tx.commit()?;
        Ok(code)
    }

    /// Adds many codes at once, parents named by path or name, all or nothing. Codes that
    /// already exist under the same parent are left as they are. Returns how many were added.
    pub fn add_codes(&mut self, rows: &[(String, Option<String>)]) -> StudyResult<usize> {
        self.must_write()?;
        let mut paths = self.code_paths()?;
        let mut added = Vec::new();
        for (i, (name, parent)) in rows.iter().enumerate() {
            let at = || format!("row {}", i + 1);
            let parent_code = match parent.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) => Some(paths.resolve(p).map_err(|e| e.at(at()))?.clone()),
                None => None,
            };
            let exists = paths.codes().iter().any(|c| {
                c.parent == parent_code.as_ref().map(|p| p.id)
                    && c.name.eq_ignore_ascii_case(name.trim())
            });
            if !exists {
                let code =
                    new_code(name, parent_code.as_ref(), None, "").map_err(|e| e.at(at()))?;
                added.push(code.clone());
                let mut codes = paths.codes().to_vec();
                codes.push(code);
                paths = CodePath::new(codes);
            }
        }
        let mut tx = self.store.transaction(&self.actor.name)?;
        for code in &added {
            tx.insert_code(code)?;
        }
        tx.commit()?;
        Ok(added.len())
    }

    pub fn rename_code(&mut self, reference: &str, new_name: &str) -> StudyResult<Code> {
        let code = self.code_paths()?.resolve(reference)?.clone();
        self.change_code(code, Some(new_name), None)
    }

    /// Moves a code (with its sub-codes) under another, or to the top level with `None`.
    pub fn move_code(&mut self, reference: &str, new_parent: Option<&str>) -> StudyResult<Code> {
        let paths = self.code_paths()?;
        let code = paths.resolve(reference)?.clone();
        let parent = new_parent
            .map(|p| paths.resolve(p).map(|p| p.id))
            .transpose()?;
        self.change_code(code, None, Some(parent))
    }

    /// Renames and/or moves code `id` as one change, provided it is still at `version` (the
    /// version the editor saw); otherwise a conflict. `parent: Some(None)` moves to the top.
    pub fn edit_code(
        &mut self,
        id: CodeId,
        version: i64,
        name: Option<&str>,
        parent: Option<Option<CodeId>>,
    ) -> StudyResult<Code> {
        let mut code = self
            .code_paths()?
            .get(id)
            .cloned()
            .ok_or_else(|| StudyError::UnknownCode(id.to_string()))?;
        code.version = version;
        self.change_code(code, name, parent)
    }

    /// Writes a code's new name and/or parent; the store refuses it if `code.version` is stale.
    /// Renaming and moving codes change everyone's coding: owners only.
    fn change_code(
        &mut self,
        mut code: Code,
        name: Option<&str>,
        parent: Option<Option<CodeId>>,
    ) -> StudyResult<Code> {
        self.must_manage("rename or move codes")?;
        if let Some(name) = name {
            if name.trim().is_empty() || name.contains('/') {
                return Err(StudyError::Invalid(format!(
                    "'{name}' is not a code name: it must be non-empty and without '/'"
                )));
            }
            code.name = name.trim().to_string();
        }
        if let Some(parent) = parent {
            let paths = self.code_paths()?;
            if let Some(p) = parent {
                if paths.get(p).is_none() {
                    return Err(StudyError::UnknownCode(p.to_string()));
                }
                if paths.descendants(code.id).contains(&p) {
                    return Err(StudyError::Invalid(format!(
                        "cannot move '{}' under '{}', which is inside it",
                        paths.path(code.id),
                        paths.path(p)
                    )));
                }
            }
            code.parent = parent;
        }
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.update_code(&code)?;
        tx.commit()?;
        code.version += 1;
        Ok(code)
    }

    /// Merges `from` into `into`: its codings, memos and sub-codes move to `into`, then `from`
    /// is deleted; one transaction. Returns how many codings moved.
    pub fn merge_codes(&mut self, from: &str, into: &str) -> StudyResult<usize> {
        self.must_manage("merge codes")?;
        let paths = self.code_paths()?;
        let source = paths.resolve(from)?.clone();
        let target = paths.resolve(into)?.clone();
        if paths.descendants(source.id).contains(&target.id) {
            return Err(StudyError::Invalid(format!(
                "cannot merge '{}' into '{}', which is itself or inside it",
                paths.path(source.id),
                paths.path(target.id)
            )));
        }
        let mut tx = self.store.transaction(&self.actor.name)?;
        let moved = tx.recode_all(source.id, target.id)?;
        tx.retarget_memos(MemoTarget::Code(source.id), MemoTarget::Code(target.id))?;
        for child in paths.codes().iter().filter(|c| c.parent == Some(source.id)) {
            let mut child = child.clone();
            child.parent = Some(target.id);
            tx.update_code(&child)?;
        }
        tx.delete_code(&source)?;
        tx.commit()?;
        Ok(moved)
    }

    /// The codes directly under a code (a group of codes meant to be mutually exclusive).
    pub fn sub_codes(&self, reference: &str) -> StudyResult<Vec<CodeId>> {
        let paths = self.code_paths()?;
        let parent = paths.resolve(reference)?.id;
        Ok(paths
            .codes()
            .iter()
            .filter(|c| c.parent == Some(parent))
            .map(|c| c.id)
            .collect())
    }

    /// Memos about one code.
    pub fn code_memos(&self, reference: &str) -> StudyResult<Vec<MemoView>> {
        let code = self.code_paths()?.resolve(reference)?.id;
        self.memos(Some(MemoTarget::Code(code)))
    }
}

fn new_code(
    name: &str,
    parent: Option<&Code>,
    colour: Option<&str>,
    definition: &str,
) -> StudyResult<Code> {
    let name = name.trim();
    if name.is_empty() || name.contains('/') {
        return Err(StudyError::Invalid(format!(
            "'{name}' is not a code name: it must be non-empty and without '/'"
        )));
    }
    let colour = match colour {
        Some(c) if is_colour(c) => c.to_string(),
        Some(c) => return Err(StudyError::Invalid(format!("colour '{c}' is not #rrggbb"))),
        None => parent.map_or(OPEN_CODE_COLOUR.to_string(), |p| p.colour.clone()),
    };
    Ok(Code {
        id: CodeId::new(),
        parent: parent.map(|p| p.id),
        name: name.to_string(),
        colour,
        definition: definition.to_string(),
        indicators: Vec::new(),
        component: None,
        version: 1,
    })
}
