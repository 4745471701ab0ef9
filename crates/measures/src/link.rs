//! One-time links (capability URLs) through which a participant completes a questionnaire
//! with no account. The token — 32 random bytes, URL-safe base64 — is given once, when the
//! link is made; the study keeps only its SHA-256. A link is used once, before it expires;
//! an unknown, expired or used token gets the same refusal ([`REFUSED_LINK`]).

use base64::Engine as _;
use between_core::*;
use between_instruments::Instrument;
use between_study::{StudyError, StudyResult, policy};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{Measures, check_answers};

/// How long a link lasts when no one says.
pub const DEFAULT_LINK_DAYS: u32 = 7;
/// The longest a link may last.
pub const MAX_LINK_DAYS: u32 = 30;

/// The one refusal for a token that is unknown, expired or used: it says not which.
pub const REFUSED_LINK: &str = "this questionnaire link cannot be used: it may be mistyped, expired or already used; ask the study team for a new one";

/// A link to make.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewLink {
    pub instrument: String,
    pub version: Option<String>,
    pub participant: String,
    pub dyad: Option<String>,
    pub occasion: Occasion,
    /// `None`: [`DEFAULT_LINK_DAYS`].
    pub days: Option<u32>,
}

/// What a link's form shows: the instrument and nothing else of the study.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LinkForm {
    pub instrument: Instrument,
    pub expires_at: String,
}

fn hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn format_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("a UTC time formats")
}

fn refused() -> StudyError {
    StudyError::Forbidden(REFUSED_LINK.into())
}

impl Measures<'_> {
    /// Makes a one-time link; returns it and its token, which is shown this once.
    pub fn create_link(&mut self, new: NewLink) -> StudyResult<(ResponseLink, String)> {
        policy::may_enter_responses(self.bench.actor())?;
        let days = new.days.unwrap_or(DEFAULT_LINK_DAYS);
        if !(1..=MAX_LINK_DAYS).contains(&days) {
            return Err(StudyError::Invalid(format!(
                "a link lasts from 1 to {MAX_LINK_DAYS} days, not {days}"
            )));
        }
        let r = self.resolve(
            &new.instrument,
            new.version.as_deref(),
            &new.participant,
            new.dyad.as_deref(),
            &new.occasion,
        )?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| StudyError::Invalid(format!("no randomness for the token: {e}")))?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = OffsetDateTime::now_utc();
        let link = ResponseLink {
            id: ResponseLinkId::new(),
            token_hash: hash(&token),
            instrument: r.instrument.id,
            instrument_version: r.instrument.version,
            participant: r.participant.id,
            dyad: r.dyad.map(|d| d.id),
            occasion: new.occasion,
            created_by: self.bench.actor().name.clone(),
            created_at: format_time(now),
            expires_at: format_time(now + time::Duration::days(days.into())),
            used_at: None,
        };
        let mut tx = self.bench.transaction(policy::may_enter_responses)?;
        tx.insert_response_link(&link)?;
        tx.commit()?;
        Ok((link, token))
    }

    /// The link's form, while it can be used at `at`.
    pub fn link_form_at(&self, token: &str, at: OffsetDateTime) -> StudyResult<LinkForm> {
        let link = self.usable_link(token, at)?;
        Ok(LinkForm {
            instrument: self.instrument(&link.instrument, Some(&link.instrument_version))?,
            expires_at: link.expires_at,
        })
    }

    pub fn link_form(&self, token: &str) -> StudyResult<LinkForm> {
        self.link_form_at(token, OffsetDateTime::now_utc())
    }

    /// Stores the answers given through a link as a self-completed response and marks the
    /// link used, in one transaction; at `at` (the current time, but in tests).
    pub fn redeem_at(
        &mut self,
        token: &str,
        answers: ResponseAnswers,
        at: OffsetDateTime,
    ) -> StudyResult<Response> {
        let link = self.usable_link(token, at)?;
        let instrument = self.instrument(&link.instrument, Some(&link.instrument_version))?;
        check_answers(&instrument, &answers)?;
        let response = Response {
            id: ResponseId::new(),
            instrument: link.instrument.clone(),
            instrument_version: link.instrument_version.clone(),
            participant: link.participant,
            dyad: link.dyad,
            occasion: link.occasion.clone(),
            // Whoever made the link vouches for it; the mode says the participant answered.
            entered_by: link.created_by.clone(),
            entered_at: format_time(at),
            mode: EntryMode::SelfCompleted,
            answers,
        };
        let mut tx = self.bench.transaction(policy::may_redeem_link)?;
        // A use that raced this one is refused by the store's trigger, and nothing is kept.
        tx.use_response_link(link.id, &response.entered_at)
            .map_err(|_| refused())?;
        tx.insert_response(&response)?;
        tx.commit()?;
        Ok(response)
    }

    pub fn redeem(&mut self, token: &str, answers: ResponseAnswers) -> StudyResult<Response> {
        self.redeem_at(token, answers, OffsetDateTime::now_utc())
    }

    /// Every link made (never their tokens), for the team to see which are open.
    pub fn links(&self) -> StudyResult<Vec<ResponseLink>> {
        policy::may_enter_responses(self.bench.actor())?;
        Ok(self.bench.store().response_links()?)
    }

    fn usable_link(&self, token: &str, at: OffsetDateTime) -> StudyResult<ResponseLink> {
        let link = self
            .bench
            .store()
            .response_link(&hash(token))?
            .ok_or_else(refused)?;
        let expires = OffsetDateTime::parse(&link.expires_at, &Rfc3339).map_err(|_| refused())?;
        if link.used_at.is_some() || at >= expires {
            return Err(refused());
        }
        Ok(link)
    }
}
