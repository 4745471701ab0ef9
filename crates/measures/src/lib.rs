//! Relationship measures in a study (`docs/measures.md`): the instruments it uses (built-ins,
//! and its own, stored), questionnaire responses entered by hand, imported from CSV, or
//! completed through one-time links, scores over time per dyad or clinician, and the long
//! export with its data dictionary. A workflow over a [`Workbench`], not a part of it: every
//! write goes through [`Workbench::transaction`] after a [`policy`] check, and every read of
//! responses keeps only what [`policy::may_see_response`] lets the actor see.

use std::collections::HashSet;

use between_core::*;
use between_instruments::{Format, Instrument, Respondent};
use between_study::{StudyError, StudyResult, Workbench, policy};

mod export;
mod items;
mod joint;
mod link;
mod scores;

pub use export::{DICTIONARY_COLUMNS, EXPORT_COLUMNS, Export};
pub use items::ItemTable;
pub use joint::{JointDisplay, JointRow, SCORE_RULE};
pub use link::{DEFAULT_LINK_DAYS, LinkForm, MAX_LINK_DAYS, NewLink, REFUSED_LINK};
pub use scores::{
    ORDER_RULE, Point, RuptureAt, RuptureCriterion, RuptureRule, ScoresOverTime, Subject,
    Trajectory,
};

/// The measures of one study, acting as the workbench's account.
#[derive(Debug)]
pub struct Measures<'a> {
    bench: &'a mut Workbench,
}

/// A response as someone gives it: names, not ids (participant and dyad labels).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewResponse {
    pub instrument: String,
    /// `None`: the study's newest version of it, or the built-in's.
    pub version: Option<String>,
    pub participant: String,
    pub dyad: Option<String>,
    pub occasion: Occasion,
    pub answers: ResponseAnswers,
}

/// A response with the names it refers to, for listings.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ResponseView {
    #[serde(flatten)]
    pub response: Response,
    pub participant_label: String,
    pub dyad_label: Option<String>,
    /// By the instrument's rule ([`Instrument::scoring_rule`]).
    pub scores: between_instruments::Scores,
}

/// The participant and dyad a response names, and its instrument, once checked.
struct Resolved {
    instrument: Instrument,
    participant: Participant,
    dyad: Option<Dyad>,
}

impl<'a> Measures<'a> {
    pub fn of(bench: &'a mut Workbench) -> Self {
        Self { bench }
    }

    /// The study these measures belong to (to read its findings beside them).
    pub fn bench(&self) -> &Workbench {
        self.bench
    }

    /// Every instrument the study can use: the built-ins, then its own (every version).
    pub fn instruments(&self) -> StudyResult<Vec<Instrument>> {
        let mut all = between_instruments::builtin();
        for stored in self.bench.store().study_instruments()? {
            all.push(parse_stored(&stored)?);
        }
        Ok(all)
    }

    /// An instrument by id and version; without a version, the study's newest version of it,
    /// else the built-in one.
    pub fn instrument(&self, id: &str, version: Option<&str>) -> StudyResult<Instrument> {
        let all: Vec<Instrument> = self
            .instruments()?
            .into_iter()
            .filter(|i| i.id == id)
            .collect();
        if all.is_empty() {
            return Err(StudyError::Unknown {
                what: "instrument",
                key: format!("{id}' (`between measure instrument list` shows them)"),
            });
        }
        match version {
            // Stored ones follow the built-ins, oldest first: the last is the newest.
            None => Ok(all.into_iter().next_back().expect("not empty")),
            Some(v) => {
                let versions: Vec<String> = all.iter().map(|i| i.version.clone()).collect();
                all.into_iter().find(|i| i.version == v).ok_or_else(|| {
                    StudyError::Invalid(format!(
                        "instrument '{id}' has no version '{v}'; it has {}",
                        versions.join(", ")
                    ))
                })
            }
        }
    }

    /// Adds an instrument of the study's own from its definition (TOML or JSON), validated;
    /// an id and version already in use (built-in or added) is refused.
    pub fn add_instrument(
        &mut self,
        text: &str,
        format: Format,
        origin: &str,
    ) -> StudyResult<Instrument> {
        policy::may_add_instrument(self.bench.actor())?;
        let instrument = Instrument::parse(text, format, origin)
            .map_err(|e| StudyError::Invalid(e.to_string()))?;
        if self
            .instruments()?
            .iter()
            .any(|i| i.id == instrument.id && i.version == instrument.version)
        {
            return Err(StudyError::Invalid(format!(
                "instrument '{}' version '{}' already exists; give the changed instrument a new version",
                instrument.id, instrument.version
            )));
        }
        let stored = StudyInstrument {
            id: instrument.id.clone(),
            version: instrument.version.clone(),
            definition: instrument.to_json(),
            added_by: self.bench.actor().name.clone(),
            added_at: between_study::now(),
        };
        let mut tx = self.bench.transaction(policy::may_add_instrument)?;
        tx.insert_study_instrument(&stored)?;
        tx.commit()?;
        Ok(instrument)
    }

    /// Says which account a clinician participant is (once): their own measures become theirs.
    pub fn link_clinician_account(&mut self, participant: &str, account: &str) -> StudyResult<()> {
        let p = self.participant(participant)?;
        let mut tx = self.bench.transaction(policy::may_add_instrument)?;
        tx.link_clinician_account(&ClinicianAccount {
            participant: p.id,
            account: account.trim().to_string(),
            shared: false,
        })?;
        Ok(tx.commit()?)
    }

    /// Shares a clinician's own measures with the study's owners, or stops: theirs to decide.
    pub fn share_self_care(&mut self, participant: &str, shared: bool) -> StudyResult<()> {
        let p = self.participant(participant)?;
        let own = self
            .bench
            .store()
            .clinician_accounts()?
            .into_iter()
            .find(|c| c.participant == p.id)
            .ok_or_else(|| {
                StudyError::Invalid(format!(
                    "{} is not linked to an account; an owner links them with `between measure account`",
                    p.label
                ))
            })?;
        let mut tx = self
            .bench
            .transaction(|who| policy::may_share_self_care(who, &own))?;
        tx.set_self_care_shared(p.id, shared)?;
        Ok(tx.commit()?)
    }

    /// Enters one response by hand. Nothing is stored when anything in it is wrong.
    pub fn enter(&mut self, new: NewResponse) -> StudyResult<Response> {
        policy::may_enter_responses(self.bench.actor())?;
        let response = self.checked(&new, EntryMode::Hand)?;
        let mut tx = self.bench.transaction(policy::may_enter_responses)?;
        tx.insert_response(&response)?;
        tx.commit()?;
        Ok(response)
    }

    /// Imports a table of responses (wide or long, `docs/measures.md`) of one instrument, all
    /// or nothing: every row is checked first, and an error names the line and column.
    pub fn import_csv(
        &mut self,
        input: impl std::io::Read,
        origin: &str,
        shape: between_exchange::ResponseShape,
        instrument: &str,
        version: Option<&str>,
    ) -> StudyResult<Vec<Response>> {
        policy::may_enter_responses(self.bench.actor())?;
        let rows = between_exchange::read_responses_csv(input, origin, shape)
            .map_err(|e| StudyError::Invalid(e.to_string()))?;
        let version = self.instrument(instrument, version)?.version;
        let mut keys = HashSet::new();
        let mut responses = Vec::with_capacity(rows.len());
        for row in rows {
            let new = NewResponse {
                instrument: instrument.to_string(),
                version: Some(version.clone()),
                participant: row.participant.clone(),
                dyad: row.dyad.clone(),
                occasion: Occasion {
                    date: row.date.clone(),
                    session: row.session,
                },
                answers: row
                    .answers
                    .iter()
                    .map(|a| (a.item.clone(), a.value))
                    .collect(),
            };
            let response = self.checked(&new, EntryMode::Imported).map_err(|e| {
                let column = item_column(&e, &row);
                e.at(match column {
                    Some(c) => format!("{origin}, line {}, column {c}", row.line),
                    None => format!("{origin}, line {}", row.line),
                })
            })?;
            if !keys.insert(duplicate_key(&response)) {
                return Err(StudyError::Invalid(
                    "the same response (participant, dyad, date and session) appears twice in the table"
                        .into(),
                )
                .at(format!("{origin}, line {}", row.line)));
            }
            responses.push(response);
        }
        let mut tx = self.bench.transaction(policy::may_enter_responses)?;
        for r in &responses {
            tx.insert_response(r)?;
        }
        tx.commit()?;
        Ok(responses)
    }

    /// The responses the actor may see ([`policy::may_see_response`]), with names and scores.
    pub fn responses(&self) -> StudyResult<Vec<ResponseView>> {
        let store = self.bench.store();
        let participants = store.participants()?;
        let dyads = store.dyads()?;
        let instruments = self.instruments()?;
        let linked = store.clinician_accounts()?;
        let who = self.bench.actor();
        let mut seen = Vec::new();
        for response in store.responses()? {
            let Some(instrument) = instruments
                .iter()
                .find(|i| i.id == response.instrument && i.version == response.instrument_version)
            else {
                return Err(StudyError::Invalid(format!(
                    "a stored response names instrument '{}' version '{}', which this version of between does not know",
                    response.instrument, response.instrument_version
                )));
            };
            let own = linked
                .iter()
                .find(|c| c.participant == response.participant);
            if !policy::may_see_response(who, instrument.respondent == Respondent::Clinician, own) {
                continue;
            }
            let scores = instrument
                .score(&response.answers)
                .map_err(|e| StudyError::Invalid(e.to_string()))?;
            let label = |id| {
                participants
                    .iter()
                    .find(|p| p.id == id)
                    .map_or_else(String::new, |p| p.label.clone())
            };
            seen.push(ResponseView {
                participant_label: label(response.participant),
                dyad_label: response
                    .dyad
                    .and_then(|d| dyads.iter().find(|x| x.id == d))
                    .map(|d| d.label.clone()),
                scores,
                response,
            });
        }
        Ok(seen)
    }

    fn participant(&self, label: &str) -> StudyResult<Participant> {
        self.bench
            .store()
            .participants()?
            .into_iter()
            .find(|p| p.label.eq_ignore_ascii_case(label.trim()))
            .ok_or_else(|| StudyError::Unknown {
                what: "participant",
                key: label.trim().to_string(),
            })
    }

    fn dyad(&self, label: &str) -> StudyResult<Dyad> {
        self.bench
            .store()
            .dyads()?
            .into_iter()
            .find(|d| d.label.eq_ignore_ascii_case(label.trim()))
            .ok_or_else(|| StudyError::Unknown {
                what: "dyad",
                key: label.trim().to_string(),
            })
    }

    /// The instrument, participant and dyad a response names, checked against each other.
    fn resolve(
        &self,
        instrument: &str,
        version: Option<&str>,
        participant: &str,
        dyad: Option<&str>,
        occasion: &Occasion,
    ) -> StudyResult<Resolved> {
        let instrument = self.instrument(instrument, version)?;
        let participant = self.participant(participant)?;
        let dyad = dyad.map(|d| self.dyad(d)).transpose()?;
        if let Some(d) = &dyad
            && participant.id != d.clinician
            && participant.id != d.patient
        {
            return Err(StudyError::Invalid(format!(
                "{} is not in dyad {}",
                participant.label, d.label
            )));
        }
        let expected = match instrument.respondent {
            Respondent::Patient => Some(Role::Patient),
            Respondent::Clinician => Some(Role::Clinician),
            Respondent::Observer => None,
        };
        if let Some(role) = expected
            && participant.role != role
        {
            return Err(StudyError::Invalid(format!(
                "{} is answered by a {}; {} is a {}",
                instrument.id, role, participant.label, participant.role
            )));
        }
        check_occasion(occasion)?;
        Ok(Resolved {
            instrument,
            participant,
            dyad,
        })
    }

    /// A response checked whole (instrument and version, participant, dyad, time, every
    /// answer, not a duplicate of one stored), ready to store.
    fn checked(&self, new: &NewResponse, mode: EntryMode) -> StudyResult<Response> {
        let r = self.resolve(
            &new.instrument,
            new.version.as_deref(),
            &new.participant,
            new.dyad.as_deref(),
            &new.occasion,
        )?;
        check_answers(&r.instrument, &new.answers)?;
        let response = Response {
            id: ResponseId::new(),
            instrument: r.instrument.id.clone(),
            instrument_version: r.instrument.version.clone(),
            participant: r.participant.id,
            dyad: r.dyad.map(|d| d.id),
            occasion: new.occasion.clone(),
            entered_by: self.bench.actor().name.clone(),
            entered_at: between_study::now(),
            mode,
            answers: new.answers.clone(),
        };
        let key = duplicate_key(&response);
        if self
            .bench
            .store()
            .responses()?
            .iter()
            .any(|stored| duplicate_key(stored) == key)
        {
            return Err(StudyError::Invalid(format!(
                "{} already has a response to {} {} for this dyad, date and session (a duplicate submission)",
                r.participant.label, r.instrument.id, r.instrument.version
            )));
        }
        Ok(response)
    }
}

/// What makes two responses the same submission (the store's `response_once`).
fn duplicate_key(r: &Response) -> (String, String, ParticipantId, Option<DyadId>, Occasion) {
    (
        r.instrument.clone(),
        r.instrument_version.clone(),
        r.participant,
        r.dyad,
        r.occasion.clone(),
    )
}

fn parse_stored(stored: &StudyInstrument) -> StudyResult<Instrument> {
    Instrument::parse(
        &stored.definition,
        Format::Json,
        &format!("the study's instrument {} {}", stored.id, stored.version),
    )
    .map_err(|e| StudyError::Invalid(e.to_string()))
}

/// A date (`YYYY-MM-DD`, a real day) or a session number (from 1), or both.
fn check_occasion(o: &Occasion) -> StudyResult<()> {
    if o.date.is_none() && o.session.is_none() {
        return Err(StudyError::Invalid(
            "a response needs a date (YYYY-MM-DD) or a session number, or both".into(),
        ));
    }
    if let Some(d) = &o.date {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        if d.len() != 10 || time::Date::parse(d, format).is_err() {
            return Err(StudyError::Invalid(format!(
                "'{d}' is not a date of the form YYYY-MM-DD"
            )));
        }
    }
    if o.session == Some(0) {
        return Err(StudyError::Invalid("session numbers start at 1".into()));
    }
    Ok(())
}

/// Every answer names an item of the instrument and lies on its scale; at least one is given.
fn check_answers(instrument: &Instrument, answers: &ResponseAnswers) -> StudyResult<()> {
    if answers.values().all(Option::is_none) {
        return Err(StudyError::Invalid(format!(
            "the response answers no item of {}",
            instrument.id
        )));
    }
    instrument
        .score(answers)
        .map(drop)
        .map_err(|e| StudyError::Invalid(format!("{e} (version {})", instrument.version)))
}

/// The column of the cell an answer error is about, when it is about one.
fn item_column(e: &StudyError, row: &between_exchange::ResponseRow) -> Option<usize> {
    let text = e.to_string();
    row.answers
        .iter()
        .find(|a| text.contains(&format!("item '{}'", a.item)))
        .map(|a| a.column)
}

#[cfg(test)]
mod tests;
