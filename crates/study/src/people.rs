//! Participants and dyads.

use std::collections::BTreeMap;

use between_core::*;

use crate::{StudyError, StudyResult, Workbench, now};

#[derive(Clone, Debug, Default)]
pub struct NewParticipant {
    pub label: String,
    pub role: Option<Role>,
    pub name: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default)]
pub struct NewDyad {
    /// Participant labels.
    pub clinician: String,
    pub patient: String,
    /// Defaults to `CLINICIAN-PATIENT`.
    pub label: Option<String>,
    pub relationship_start: Option<String>,
    pub notes: String,
}

impl Workbench {
    pub fn add_participant(&mut self, new: NewParticipant) -> StudyResult<Participant> {
        self.must_manage("add participants")?;
        let label = new.label.trim().to_string();
        if label.is_empty() {
            return Err(StudyError::Invalid(
                "a participant needs a label (e.g. P01)".into(),
            ));
        }
        let role = new.role.unwrap_or(Role::Other);
        if role == Role::Interviewer {
            return Err(StudyError::Invalid(
                "interviewers are not participants; the interviewer is recorded with each interview".into(),
            ));
        }
        let participant = Participant {
            id: ParticipantId::new(),
            label,
            role,
            name: new.name.filter(|n| !n.trim().is_empty()),
            attributes: new.attributes,
            version: 1,
        };
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.insert_participant(&participant)?;
        tx.commit()?;
        Ok(participant)
    }

    pub fn participants(&self) -> StudyResult<Vec<Participant>> {
        Ok(self.store.participants()?)
    }

    pub fn participant(&self, label: &str) -> StudyResult<Participant> {
        self.store
            .participants()?
            .into_iter()
            .find(|p| p.label.eq_ignore_ascii_case(label.trim()))
            .ok_or_else(|| StudyError::Unknown {
                what: "participant",
                key: label.to_string(),
            })
    }

    pub fn add_dyad(&mut self, new: NewDyad) -> StudyResult<Dyad> {
        self.must_manage("add dyads")?;
        let clinician = self.participant(&new.clinician)?;
        let patient = self.participant(&new.patient)?;
        if clinician.role != Role::Clinician {
            return Err(StudyError::Invalid(format!(
                "{} is a {}, not a clinician",
                clinician.label, clinician.role
            )));
        }
        if patient.role != Role::Patient {
            return Err(StudyError::Invalid(format!(
                "{} is a {}, not a patient",
                patient.label, patient.role
            )));
        }
        let dyad = Dyad {
            id: DyadId::new(),
            label: new
                .label
                .unwrap_or_else(|| format!("{}-{}", clinician.label, patient.label)),
            clinician: clinician.id,
            patient: patient.id,
            relationship_start: new.relationship_start.filter(|s| !s.trim().is_empty()),
            notes: new.notes,
            version: 1,
        };
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.insert_dyad(&dyad)?;
        tx.commit()?;
        Ok(dyad)
    }

    pub fn dyads(&self) -> StudyResult<Vec<Dyad>> {
        Ok(self.store.dyads()?)
    }

    pub fn dyad(&self, label: &str) -> StudyResult<Dyad> {
        self.store
            .dyads()?
            .into_iter()
            .find(|d| d.label.eq_ignore_ascii_case(label.trim()))
            .ok_or_else(|| StudyError::Unknown {
                what: "dyad",
                key: label.to_string(),
            })
    }
}

impl Workbench {
    /// What a case study is of, as a user names it: `dyad:LABEL` or `clinician:LABEL`.
    pub fn case_subject(&self, subject: &str) -> StudyResult<CaseSubject> {
        let (kind, key) = subject.split_once(':').unwrap_or(("", subject));
        match kind.trim().to_lowercase().as_str() {
            "dyad" => Ok(CaseSubject::Dyad(self.dyad(key)?.id)),
            "clinician" => {
                let p = self.participant(key)?;
                if p.role != Role::Clinician {
                    return Err(StudyError::Invalid(format!(
                        "{} is a {}, not a clinician",
                        p.label, p.role
                    )));
                }
                Ok(CaseSubject::Clinician(p.id))
            }
            _ => Err(StudyError::Invalid(format!(
                "'{subject}' is not dyad:LABEL or clinician:LABEL"
            ))),
        }
    }

    /// The case study of a dyad or clinician, if one has been written.
    pub fn case(&self, subject: CaseSubject) -> StudyResult<Option<Case>> {
        Ok(self
            .store
            .cases()?
            .into_iter()
            .find(|c| c.subject == subject))
    }

    /// Writes a case study's narrative. `read_version` is the version the writer started from
    /// (`None` for a new one); if someone saved in between, this is a conflict, not an overwrite.
    pub fn write_case(
        &mut self,
        subject: CaseSubject,
        text: &str,
        read_version: Option<i64>,
    ) -> StudyResult<Case> {
        // Case-study narratives are the team's writing: owners and coders.
        self.must_write()?;
        let existing = self.case(subject)?;
        let case = match (existing, read_version) {
            (Some(c), Some(v)) => Case {
                text: text.to_string(),
                updated_at: now(),
                version: v,
                ..c
            },
            (Some(c), None) => {
                return Err(between_store::StoreError::Conflict {
                    entity: "case study",
                    id: c.id.to_string(),
                    expected: 0,
                    current: Some(c.version),
                }
                .into());
            }
            (None, _) => Case {
                id: CaseId::new(),
                subject,
                text: text.to_string(),
                updated_at: now(),
                version: 1,
            },
        };
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.upsert_case(&case)?;
        tx.commit()?;
        Ok(self.case(subject)?.unwrap_or(case))
    }
}
