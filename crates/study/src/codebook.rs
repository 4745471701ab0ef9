//! The codebook: codes from the study's theory plus open codes, as a tree.

use std::collections::HashMap;

use between_core::*;
use between_model::Theory;

use crate::{Count, MemoView, StudyError, StudyResult, Workbench};

/// Colour of open codes that have no parent to inherit one from.
const OPEN_CODE_COLOUR: &str = "#555555";

/// Codes by id with their paths (`Valuing/Presence/Empathy`), for resolving what users type.
#[derive(Clone, Debug)]
pub struct CodePath {
    codes: Vec<Code>,
    paths: HashMap<CodeId, String>,
    /// How deep each code sits: 1 at the top.
    depths: HashMap<CodeId, usize>,
}

impl CodePath {
    pub fn new(codes: Vec<Code>) -> Self {
        let by_id: HashMap<CodeId, &Code> = codes.iter().map(|c| (c.id, c)).collect();
        let mut depths = HashMap::with_capacity(codes.len());
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
                depths.insert(c.id, names.len());
                (c.id, names.join("/"))
            })
            .collect();
        Self {
            codes,
            paths,
            depths,
        }
    }

    /// How deep the code sits (1 at the top; 0 for no code).
    pub fn depth(&self, id: CodeId) -> usize {
        self.depths.get(&id).copied().unwrap_or(0)
    }

    /// How many levels the code and the codes below it span (1 for a code without sub-codes).
    fn height(&self, id: CodeId) -> usize {
        let top = self.depth(id);
        self.descendants(id)
            .into_iter()
            .map(|d| self.depth(d) + 1 - top)
            .max()
            .unwrap_or(1)
    }

    /// Refuses a change that would put a code deeper than [`MAX_CODE_DEPTH`]: `what` would
    /// span `height` levels below a code at depth `under` (0: the top level).
    fn check_depth(&self, what: &str, under: usize, height: usize) -> StudyResult<()> {
        let deepest = under + height;
        if deepest > MAX_CODE_DEPTH {
            return Err(StudyError::Invalid(format!(
                "{what}: codes would be {deepest} levels deep, more than the limit of {MAX_CODE_DEPTH}"
            )));
        }
        Ok(())
    }

    /// Refuses a new code `name` under `parent` that would sit deeper than the limit.
    fn check_child_depth(&self, parent: Option<&Code>, name: &str) -> StudyResult<()> {
        let under = parent.map_or(0, |p| self.depth(p.id));
        self.check_depth(&format!("cannot add {}", shown_name(name)), under, 1)
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

/// A code in the tree, with how often it is used (contrast codings apart: `codings` and
/// `contrast` in JSON).
#[derive(Clone, Debug, serde::Serialize)]
pub struct CodeNode {
    pub code: Code,
    pub path: String,
    pub depth: usize,
    #[serde(flatten)]
    pub count: Count,
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
        self.codebook_counting(self.coding_counts()?)
    }

    /// Every code's codings, contrast apart (codes without any are absent).
    pub(crate) fn coding_counts(&self) -> StudyResult<HashMap<CodeId, Count>> {
        let mut counts: HashMap<CodeId, Count> = HashMap::new();
        for (code, contrast, n) in self.store.coding_counts()? {
            counts.entry(code).or_default().add(contrast, n);
        }
        Ok(counts)
    }

    /// The codebook as `viewer` may see it: its counts leave out codings hidden from them.
    pub fn codebook_seen_by(&self, viewer: &Account) -> StudyResult<Vec<CodeNode>> {
        self.codebook_counting(self.coding_counts_seen_by(viewer)?)
    }

    fn codebook_counting(&self, counts: HashMap<CodeId, Count>) -> StudyResult<Vec<CodeNode>> {
        let paths = self.code_paths()?;
        let mut children: HashMap<Option<CodeId>, Vec<&Code>> = HashMap::new();
        for c in paths.codes() {
            children.entry(c.parent).or_default().push(c);
        }
        let below = |parent: Option<CodeId>, depth: usize| {
            let list = children.get(&parent).map_or(&[][..], Vec::as_slice);
            list.iter().rev().map(move |c| (*c, depth))
        };
        // Depth first without recursion: a tree of any depth cannot exhaust the stack.
        let mut out = Vec::new();
        let mut stack: Vec<(&Code, usize)> = below(None, 0).collect();
        while let Some((c, depth)) = stack.pop() {
            out.push(CodeNode {
                code: c.clone(),
                path: paths.path(c.id).to_string(),
                depth,
                count: counts.get(&c.id).copied().unwrap_or_default(),
            });
            stack.extend(below(Some(c.id), depth + 1));
        }
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
        paths.check_child_depth(parent, &code.name)?;
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
            let name = checked_code_name(name).map_err(|e| e.at(at()))?;
            let exists = paths.codes().iter().any(|c| {
                c.parent == parent_code.as_ref().map(|p| p.id) && c.name.eq_ignore_ascii_case(name)
            });
            if !exists {
                let code =
                    new_code(name, parent_code.as_ref(), None, "").map_err(|e| e.at(at()))?;
                paths
                    .check_child_depth(parent_code.as_ref(), &code.name)
                    .map_err(|e| e.at(at()))?;
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
            code.name = checked_code_name(name)?.to_string();
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
                paths.check_depth(
                    &format!(
                        "cannot move '{}' under '{}'",
                        paths.path(code.id),
                        paths.path(p)
                    ),
                    paths.depth(p),
                    paths.height(code.id),
                )?;
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
        // The sub-codes of `from` move under `into`, one level below it.
        paths.check_depth(
            &format!(
                "cannot merge '{}' into '{}'",
                paths.path(source.id),
                paths.path(target.id)
            ),
            paths.depth(target.id),
            paths.height(source.id) - 1,
        )?;
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
    let name = checked_code_name(name)?;
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

/// A code name as kept ([`between_core::code_name`]), or why it is refused.
pub fn checked_code_name(name: &str) -> StudyResult<&str> {
    code_name(name).map_err(|e| name_error(name, e))
}

fn name_error(name: &str, e: NameError) -> StudyError {
    StudyError::Invalid(format!("{} is not a code name: {e}", shown_name(name)))
}

#[cfg(test)]
mod tests {
    use between_store::OpenOptions;

    use super::*;
    use crate::NewStudy;

    fn empty(dir: &tempfile::TempDir) -> Workbench {
        let path = dir.path().join("t.between");
        Workbench::create(&path, NewStudy::default(), &OpenOptions::default(), "t").unwrap()
    }

    /// A chain `prefix1/prefix2/…` of `depth` codes at the top level; the last one's id.
    fn chain(b: &mut Workbench, prefix: &str, depth: usize) -> CodeId {
        let mut parent: Option<String> = None;
        for level in 1..=depth {
            let code = b
                .add_code(&format!("{prefix}{level}"), parent.as_deref(), None, "")
                .unwrap();
            parent = Some(code.id.to_string());
        }
        parent.unwrap().parse().unwrap()
    }

    #[test]
    fn codes_nest_at_most_max_code_depth_whatever_adds_or_moves_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = empty(&dir);
        let deepest = chain(&mut b, "a", MAX_CODE_DEPTH);
        let deepest = deepest.to_string();
        let err = b.add_code("x", Some(&deepest), None, "").unwrap_err();
        assert!(
            err.to_string()
                .contains("65 levels deep, more than the limit of 64"),
            "{err}"
        );
        let err = b
            .add_codes(&[("x".into(), Some(deepest.clone()))])
            .unwrap_err();
        assert!(err.to_string().starts_with("row 1: "), "{err}");
        // A chain of two moved under a code 63 deep would end 65 deep.
        let b2 = chain(&mut b, "b", 2);
        let parent_b2 = b.code_paths().unwrap().get(b2).unwrap().parent.unwrap();
        let a63 = b
            .code_paths()
            .unwrap()
            .resolve("a63")
            .unwrap()
            .id
            .to_string();
        let err = b.move_code("b1", Some(&a63)).unwrap_err();
        assert!(err.to_string().contains("cannot move 'b1' under"), "{err}");
        assert!(err.to_string().contains("65 levels deep"), "{err}");
        // …while its leaf fits there; and merging `b1` into `a63` puts `b2` 64 deep.
        b.move_code("b2", Some(&a63)).unwrap();
        b.move_code("b2", Some(&parent_b2.to_string())).unwrap();
        b.merge_codes("b1", &a63).unwrap();
        chain(&mut b, "c", 3);
        let err = b.merge_codes("c1", &a63).unwrap_err();
        assert!(err.to_string().contains("cannot merge 'c1'"), "{err}");
        assert!(err.to_string().contains("65 levels deep"), "{err}");
        let depths: Vec<usize> = b.codebook().unwrap().iter().map(|n| n.depth).collect();
        assert_eq!(depths.iter().max(), Some(&(MAX_CODE_DEPTH - 1)));
    }

    #[test]
    fn code_names_are_checked_wherever_codes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = empty(&dir);
        for bad in ["a\tb", "a\nb", "a\0b", "evil\u{202E}txt", ""] {
            let err = b.add_code(bad, None, None, "").unwrap_err().to_string();
            assert!(err.contains("is not a code name"), "{bad:?}: {err}");
        }
        let long = "x".repeat(100_000);
        let err = b.add_code(&long, None, None, "").unwrap_err().to_string();
        assert!(
            err.contains("100000 characters, more than the limit of 200") && err.len() < 200,
            "{err}"
        );
        let ok = b.add_code("  Hope ", None, None, "").unwrap();
        assert_eq!(ok.name, "Hope");
        let err = b.rename_code("Hope", "Ho\npe").unwrap_err().to_string();
        assert!(err.contains("control character U+000A"), "{err}");
        let err = b.add_codes(&[("a\u{2066}b".into(), None)]).unwrap_err();
        assert!(err.to_string().starts_with("row 1: "), "{err}");
        assert_eq!(b.codebook().unwrap().len(), 1);
    }
}
