//! Exemplar quotes chosen by the team: codings that stand for a theory component (or a code)
//! in the paper's table of components, in the team's order. Choosing them is the team's
//! editorial decision: owners only (see [`crate::policy`]).

use between_core::*;

use crate::{StudyError, StudyResult, Workbench, now};

impl Workbench {
    /// What an exemplar stands for, as a user names it: `component:ID`, `code:PATH`, or bare —
    /// a theory component's id first, then a code.
    pub fn exemplar_target(&self, reference: &str) -> StudyResult<ExemplarFor> {
        let theory = self.theory()?;
        let component = |id: &str| -> StudyResult<ExemplarFor> {
            match theory.as_ref().and_then(|t| t.component(id.trim())) {
                Some(c) => Ok(ExemplarFor::Component(c.id.clone())),
                None => Err(StudyError::Unknown {
                    what: "theory component",
                    key: id.to_string(),
                }),
            }
        };
        let code = |r: &str| -> StudyResult<ExemplarFor> {
            Ok(ExemplarFor::Code(self.code_paths()?.resolve(r)?.id))
        };
        match reference.split_once(':') {
            Some(("component", id)) => component(id),
            Some(("code", path)) => code(path),
            _ => component(reference).or_else(|_| code(reference)),
        }
    }

    /// The team's exemplars, by target, then position.
    pub fn exemplars(&self) -> StudyResult<Vec<Exemplar>> {
        Ok(self.store.exemplars()?)
    }

    /// Marks a coding as an exemplar quote of `target`, at `position` (1 first; at the end when
    /// `None`). The coding must be evidence for the target: coded with the component's code (or
    /// one of its sub-dimensions) or with the code (or one under it), and not a contrast case.
    pub fn choose_exemplar(
        &mut self,
        coding: CodingId,
        target: ExemplarFor,
        position: Option<i64>,
    ) -> StudyResult<Exemplar> {
        self.must_manage("choose exemplar quotes")?;
        let coding = self.store.coding(coding)?;
        if coding.contrast {
            return Err(StudyError::Invalid(
                "a contrast case is never evidence for a component, so it cannot be its exemplar"
                    .into(),
            ));
        }
        let paths = self.code_paths()?;
        let ancestry = {
            let mut chain = Vec::new();
            let mut at = paths.get(coding.code);
            while let Some(code) = at {
                if chain.len() > paths.codes().len() {
                    break;
                }
                chain.push(code);
                at = code.parent.and_then(|p| paths.get(p));
            }
            chain
        };
        let fits = match &target {
            ExemplarFor::Component(id) => {
                let theory = self.theory()?;
                let Some(wanted) = theory.as_ref().and_then(|t| t.component(id)) else {
                    return Err(StudyError::Unknown {
                        what: "theory component",
                        key: id.clone(),
                    });
                };
                // The coding's component is the target or one of its sub-dimensions.
                let mut under = Vec::new();
                let mut stack = vec![wanted];
                while let Some(c) = stack.pop() {
                    under.push(c.id.as_str());
                    stack.extend(&c.subs);
                }
                ancestry
                    .iter()
                    .find_map(|c| c.component.as_deref())
                    .is_some_and(|c| under.contains(&c))
            }
            ExemplarFor::Code(id) => ancestry.iter().any(|c| c.id == *id),
        };
        if !fits {
            let what = match &target {
                ExemplarFor::Component(id) => format!("component '{id}'"),
                ExemplarFor::Code(id) => format!("code '{}'", paths.path(*id)),
            };
            return Err(StudyError::Invalid(format!(
                "this coding ({}) is not evidence for {what}; choose one coded with it",
                paths.path(coding.code)
            )));
        }
        let existing = self.store.exemplars()?;
        let count = existing.iter().filter(|e| e.target == target).count() as i64;
        if existing
            .iter()
            .any(|e| e.target == target && e.coding == coding.id)
        {
            return Err(StudyError::Invalid(
                "this coding is already an exemplar of it".into(),
            ));
        }
        let exemplar = Exemplar {
            coding: coding.id,
            target,
            position: position.unwrap_or(count + 1).clamp(1, count + 1),
            chosen_by: self.actor.name.clone(),
            chosen_at: now(),
        };
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.insert_exemplar(&exemplar)?;
        tx.commit()?;
        Ok(exemplar)
    }

    /// Unmarks an exemplar; the ones after it move up.
    pub fn drop_exemplar(&mut self, coding: CodingId, target: &ExemplarFor) -> StudyResult<()> {
        self.must_manage("choose exemplar quotes")?;
        let mut tx = self.store.transaction(&self.actor.name)?;
        if !tx.delete_exemplar(coding, target)? {
            return Err(StudyError::Unknown {
                what: "exemplar",
                key: coding.to_string(),
            });
        }
        tx.commit()?;
        Ok(())
    }
}
