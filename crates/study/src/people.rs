//! Participants and dyads.

use std::collections::BTreeMap;

use between_core::*;

use crate::{StudyError, StudyResult, Workbench};

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
        let mut tx = self.store.transaction(&self.actor)?;
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
        let mut tx = self.store.transaction(&self.actor)?;
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
