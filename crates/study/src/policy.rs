//! Who may do what, decided here and nowhere else. The actor is always explicit: a server sets
//! the logged-in account on the `Workbench` for each request (`Workbench::act_as`), the command
//! line acts as the local owner (whoever holds the study file owns it). Every `Workbench`
//! method that changes or reveals guarded data asks one of these functions first; front ends
//! ask [`capabilities`] only to decide what to offer, never to decide what is allowed.
//!
//! The rules: owners do everything; coders code, attribute passages, write memos and case
//! narratives, add codes and check transcripts, and change only their own codings and remove
//! only their own attributions; auditors only read. In blind mode a
//! coder sees only their own codings. A consensus coder is never an account. Owners and
//! coders enter questionnaire responses; a clinician's own (self-care) measures are seen only
//! by that clinician's account, and by owners once shared ([`may_see_response`]).

use std::collections::{HashMap, HashSet};

use between_core::*;

use crate::{Count, MemoView, StudyError, StudyResult, Workbench};

/// The person at the command line (or a program using the library directly): holding the
/// study file, they own it.
pub fn local_owner(name: &str) -> Account {
    Account {
        id: AccountId::default(),
        name: name.to_string(),
        role: AccountRole::Owner,
        created_at: String::new(),
        version: 0,
    }
}

/// An actor who may read but change nothing by themselves: a server between requests, or its
/// batch writer, which checks each request's own account.
pub fn bystander(name: &str) -> Account {
    Account {
        role: AccountRole::Auditor,
        ..local_owner(name)
    }
}

/// What an actor may do, for a front end deciding what to offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Capabilities {
    /// Code, write memos and case narratives, add codes, check transcripts.
    pub write: bool,
    /// Everything else: the codebook's structure, blind mode, exemplar quotes, exchange,
    /// de-identification, accounts, people, imports, recordings.
    pub manage: bool,
    /// Sees only their own codings where blind coding is on.
    pub blinded: bool,
}

pub fn capabilities(who: &Account) -> Capabilities {
    Capabilities {
        write: may_write(who).is_ok(),
        manage: may_manage(who, "").is_ok(),
        blinded: who.role == AccountRole::Coder,
    }
}

/// Coding, memos, case narratives, new codes, transcript checks: owners and coders.
pub fn may_write(who: &Account) -> StudyResult<()> {
    match who.role {
        AccountRole::Owner | AccountRole::Coder => Ok(()),
        AccountRole::Auditor => Err(StudyError::Forbidden(format!(
            "{} is an auditor and may only read",
            who.name
        ))),
    }
}

/// The study's management (`what`, said in the refusal): owners only.
pub fn may_manage(who: &Account, what: &str) -> StudyResult<()> {
    match who.role {
        AccountRole::Owner => Ok(()),
        AccountRole::Coder | AccountRole::Auditor => Err(StudyError::Forbidden(format!(
            "only an owner may {what}; {} is a {}",
            who.name, who.role
        ))),
    }
}

/// Exchanging the study as a file (export or import) reaches all of it: owners only.
pub fn may_exchange(who: &Account) -> StudyResult<()> {
    may_manage(who, "export or import the study as a project")
}

/// De-identification and its mapping hold the study's identifying terms: owners only.
pub fn may_deidentify(who: &Account) -> StudyResult<()> {
    may_manage(who, "de-identify the study or see its mapping")
}

/// Coding or writing a memo under `name`: a writer as themselves; an owner as anyone (the
/// command line records codings made elsewhere under their coders' names).
pub fn may_write_as(who: &Account, name: &str) -> StudyResult<()> {
    may_write(who)?;
    if who.role == AccountRole::Owner || name.trim().eq_ignore_ascii_case(&who.name) {
        Ok(())
    } else {
        Err(StudyError::Forbidden(format!(
            "{} may write only as themselves, not as '{name}'",
            who.name
        )))
    }
}

/// Changing or removing a coding: its coder, or an owner.
pub fn may_change_coding(who: &Account, coding: &Coding) -> StudyResult<()> {
    may_write(who)?;
    if who.role == AccountRole::Owner || coding.coder.eq_ignore_ascii_case(&who.name) {
        Ok(())
    } else {
        Err(StudyError::Forbidden(format!(
            "this coding is {}'s; only they or an owner may change it",
            coding.coder
        )))
    }
}

/// Attributing a passage to whom it is about: owners and coders.
pub fn may_attribute(who: &Account) -> StudyResult<()> {
    may_write(who)
}

/// Removing an attribution: whoever made it (a coder), or an owner.
pub fn may_remove_attribution(who: &Account, attribution: &Attribution) -> StudyResult<()> {
    may_write(who)?;
    if who.role == AccountRole::Owner || attribution.attributed_by.eq_ignore_ascii_case(&who.name) {
        Ok(())
    } else {
        Err(StudyError::Forbidden(format!(
            "this attribution is {}'s; only they or an owner may remove it",
            attribution.attributed_by
        )))
    }
}

/// Adding an instrument to the study, and saying which account a clinician participant is:
/// owners only.
pub fn may_add_instrument(who: &Account) -> StudyResult<()> {
    may_manage(who, "add instruments or link a clinician to their account")
}

/// Entering or importing questionnaire responses, and making one-time links: owners and coders.
pub fn may_enter_responses(who: &Account) -> StudyResult<()> {
    may_write(who)
}

/// Completing a questionnaire through a one-time link: the link's token is the permission
/// (checked by its hash, expiry and single use), so anyone holding it, with or without an
/// account.
pub fn may_redeem_link(_who: &Account) -> StudyResult<()> {
    Ok(())
}

/// Whether `who` sees a response. A clinician's self-care measure — an instrument the
/// clinician answers (`clinician_respondent`), answered by a clinician participant linked to
/// an account (`linked`) — is seen only by that account, and by owners once the clinician
/// shares it; everything else by every role.
pub fn may_see_response(
    who: &Account,
    clinician_respondent: bool,
    linked: Option<&ClinicianAccount>,
) -> bool {
    match linked {
        Some(own) if clinician_respondent => {
            own.account.eq_ignore_ascii_case(&who.name)
                || (own.shared && who.role == AccountRole::Owner)
        }
        _ => true,
    }
}

/// Sharing one's own measures with the study's owners, or not: only the clinician's account.
pub fn may_share_self_care(who: &Account, own: &ClinicianAccount) -> StudyResult<()> {
    if own.account.eq_ignore_ascii_case(&who.name) {
        Ok(())
    } else {
        Err(StudyError::Forbidden(format!(
            "only {} decides whether their own measures are shared",
            own.account
        )))
    }
}

/// Where blind coding is on: the whole study, or some sources.
#[derive(Clone, Debug, Default)]
pub struct Blindness {
    pub study: bool,
    pub sources: HashSet<SourceId>,
}

impl Blindness {
    /// Whether blind coding is on for `source` (by itself or study-wide).
    pub fn covers(&self, source: SourceId) -> bool {
        self.study || self.sources.contains(&source)
    }

    /// Whether blind coding hides anything from `viewer`.
    pub fn restricts(&self, viewer: &Account) -> bool {
        viewer.role == AccountRole::Coder && (self.study || !self.sources.is_empty())
    }

    /// Whether `viewer` may not see a coding of `coder`'s in `source`: in a blind study or
    /// source, a coder sees only their own.
    pub fn hides(&self, viewer: &Account, source: SourceId, coder: &str) -> bool {
        hides_work_of(viewer, coder, self.covers(source))
    }

    /// Whether `viewer` must not see `memo`; `coding` is the coding it is on, if it is on one.
    /// A memo on a source (or a passage of one) or a coding is blind where its source is; a
    /// memo on anything else (the study, a code, a person) only when the whole study is.
    pub fn hides_memo(&self, viewer: &Account, memo: &Memo, coding: Option<&Coding>) -> bool {
        let blind = match (&memo.target, coding) {
            (_, Some(c)) => {
                if self.hides(viewer, c.source, &c.coder) {
                    return true;
                }
                self.covers(c.source)
            }
            (MemoTarget::Source(source), None) => self.covers(*source),
            _ => self.study,
        };
        hides_work_of(viewer, &memo.author, blind)
    }

    /// Comparing coders shows everyone's codings: owners and auditors may always, a coder only
    /// where nothing compared is blind (`compared`: the sources, with their names for the
    /// refusal).
    pub fn may_compare(&self, who: &Account, compared: &[(SourceId, &str)]) -> StudyResult<()> {
        if who.role != AccountRole::Coder {
            return Ok(());
        }
        if self.study {
            return Err(StudyError::Forbidden(
                "blind coding is on for this study; only owners and auditors compare coders until it is off".into(),
            ));
        }
        match compared.iter().find(|(id, _)| self.sources.contains(id)) {
            Some((_, name)) => Err(StudyError::Forbidden(format!(
                "blind coding is on for '{name}'; only owners and auditors compare coders on it"
            ))),
            None => Ok(()),
        }
    }
}

impl Workbench {
    /// Who the next calls act as (a server sets the logged-in account per request).
    pub fn act_as(&mut self, who: Account) {
        self.actor = who;
    }

    pub fn actor(&self) -> &Account {
        &self.actor
    }

    /// The acting account's capabilities.
    pub fn capabilities(&self) -> Capabilities {
        capabilities(&self.actor)
    }

    /// Asks [`may_write`] for the acting account.
    pub(crate) fn must_write(&self) -> StudyResult<()> {
        may_write(&self.actor)
    }

    /// Asks [`may_manage`] for the acting account.
    pub(crate) fn must_manage(&self, what: &str) -> StudyResult<()> {
        may_manage(&self.actor, what)
    }

    /// Asks [`may_exchange`] for the acting account.
    pub fn may_exchange(&self) -> StudyResult<()> {
        may_exchange(&self.actor)
    }

    /// Asks [`may_deidentify`] for the acting account.
    pub(crate) fn must_deidentify(&self) -> StudyResult<()> {
        may_deidentify(&self.actor)
    }

    /// Where blind coding is on now.
    pub fn blindness(&self) -> StudyResult<Blindness> {
        Ok(Blindness {
            study: self.store.study()?.blind,
            sources: self.store.blind_sources()?.into_iter().collect(),
        })
    }

    /// [`Blindness::may_compare`] over sources named by the user (none: every source).
    pub fn may_compare(&self, who: &Account, sources: &[String]) -> StudyResult<()> {
        let blindness = self.blindness()?;
        if who.role != AccountRole::Coder || (!blindness.study && blindness.sources.is_empty()) {
            return blindness.may_compare(who, &[]);
        }
        let chosen: Vec<SourceId> = if sources.is_empty() {
            blindness.sources.iter().copied().collect()
        } else {
            self.source_ids(sources)?
        };
        let mut named = Vec::with_capacity(chosen.len());
        for id in chosen {
            named.push((id, self.cached_source(id)?));
        }
        let compared: Vec<(SourceId, &str)> =
            named.iter().map(|(id, s)| (*id, s.name.as_str())).collect();
        blindness.may_compare(who, &compared)
    }

    /// How many codings of each code `viewer` may see, contrast apart (codes without any are
    /// absent).
    pub fn coding_counts_seen_by(&self, viewer: &Account) -> StudyResult<HashMap<CodeId, Count>> {
        let blind = self.blindness()?;
        if !blind.restricts(viewer) {
            return self.coding_counts();
        }
        let mut counts: HashMap<CodeId, Count> = HashMap::new();
        for c in self.store.codings(&Default::default())? {
            if !blind.hides(viewer, c.source, &c.coder) {
                counts.entry(c.code).or_default().add(c.contrast, 1);
            }
        }
        Ok(counts)
    }

    /// Keeps the memos `viewer` may see: where blind coding is on, a coder sees only their own
    /// memos, and none on a coding hidden from them (whoever wrote it).
    pub fn visible_memos(
        &self,
        viewer: &Account,
        memos: Vec<MemoView>,
    ) -> StudyResult<Vec<MemoView>> {
        let blind = self.blindness()?;
        if !blind.restricts(viewer) {
            return Ok(memos);
        }
        let mut seen = Vec::with_capacity(memos.len());
        for view in memos {
            let coding = match view.memo.target {
                MemoTarget::Coding(id) => Some(self.store.coding(id)?),
                _ => None,
            };
            if !blind.hides_memo(viewer, &view.memo, coding.as_ref()) {
                seen.push(view);
            }
        }
        Ok(seen)
    }

    /// Every name that is or has been an account's, for [`consensus_coder`].
    pub(crate) fn account_names(&self) -> StudyResult<Vec<String>> {
        Ok(self.store.account_names_ever()?)
    }
}

/// The rule of blind coding: where it is on (`blind`), a coder sees no one's work but their own.
/// For an item that is already decided blind or not (a live event), without reading the study.
pub fn hides_work_of(viewer: &Account, author: &str, blind: bool) -> bool {
    blind && viewer.role == AccountRole::Coder && !author.eq_ignore_ascii_case(&viewer.name)
}

/// The consensus coder's name: `CONSENSUS_CODER` unless another is given. It is never an
/// account's name (any case; `accounts` should hold every name that has ever been one), nor
/// one of the coders compared or accepted: adjudication replaces the consensus coder's
/// codings, which would otherwise let anyone who adjudicates remove or forge a person's work.
pub fn consensus_coder(
    name: Option<&str>,
    compared: &[String],
    accounts: &[String],
) -> StudyResult<String> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(crate::CONSENSUS_CODER);
    if compared.iter().any(|c| c.eq_ignore_ascii_case(name)) {
        return Err(StudyError::Invalid(format!(
            "'{name}' is one of the coders compared; the consensus needs a coder of its own"
        )));
    }
    if accounts.iter().any(|a| a.eq_ignore_ascii_case(name)) {
        return Err(StudyError::Forbidden(format!(
            "'{name}' is an account; the consensus coder must be a name no account has"
        )));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str, role: AccountRole) -> Account {
        Account {
            role,
            ..local_owner(name)
        }
    }

    #[test]
    fn roles_decide_writing_and_managing() {
        let owner = account("paul", AccountRole::Owner);
        let coder = account("sam", AccountRole::Coder);
        let auditor = account("ada", AccountRole::Auditor);
        assert!(may_write(&owner).is_ok() && may_write(&coder).is_ok());
        assert!(may_write(&auditor).is_err());
        assert!(may_manage(&owner, "x").is_ok());
        assert!(may_manage(&coder, "x").is_err() && may_manage(&auditor, "x").is_err());
        assert!(may_write_as(&coder, "SAM").is_ok() && may_write_as(&coder, "paul").is_err());
        assert!(may_write_as(&owner, "anyone").is_ok());
        assert!(may_write_as(&auditor, "ada").is_err());
        assert_eq!(
            capabilities(&coder),
            Capabilities {
                write: true,
                manage: false,
                blinded: true
            }
        );
    }

    #[test]
    fn coders_remove_only_their_own_attributions() {
        let by_sam = Attribution {
            id: AttributionId::new(),
            source: SourceId::new(),
            span: Span { start: 0, end: 4 },
            about: AttributionTarget::Participant(ParticipantId::new()),
            attributed_by: "sam".into(),
            attributed_at: String::new(),
        };
        let sam = account("Sam", AccountRole::Coder);
        let maria = account("maria", AccountRole::Coder);
        let paul = account("paul", AccountRole::Owner);
        let ada = account("ada", AccountRole::Auditor);
        assert!(may_attribute(&sam).is_ok() && may_attribute(&paul).is_ok());
        assert!(may_attribute(&ada).is_err());
        assert!(may_remove_attribution(&sam, &by_sam).is_ok());
        assert!(may_remove_attribution(&paul, &by_sam).is_ok());
        let refused = may_remove_attribution(&maria, &by_sam).unwrap_err();
        assert!(refused.to_string().contains("sam's"), "{refused}");
        assert!(may_remove_attribution(&account("sam", AccountRole::Auditor), &by_sam).is_err());
    }

    #[test]
    fn self_care_measures_are_the_clinicians_unless_shared_with_owners() {
        let osei = account("Osei", AccountRole::Coder);
        let maria = account("maria", AccountRole::Coder);
        let paul = account("paul", AccountRole::Owner);
        let ada = account("ada", AccountRole::Auditor);
        let mut own = ClinicianAccount {
            participant: ParticipantId::new(),
            account: "osei".into(),
            shared: false,
        };
        assert!(may_see_response(&osei, true, Some(&own)));
        for other in [&maria, &paul, &ada] {
            assert!(!may_see_response(other, true, Some(&own)), "{}", other.name);
            assert!(may_see_response(other, false, Some(&own)), "not self-care");
            assert!(may_see_response(other, true, None), "no account linked");
        }
        own.shared = true;
        assert!(may_see_response(&paul, true, Some(&own)));
        assert!(!may_see_response(&maria, true, Some(&own)));
        assert!(!may_see_response(&ada, true, Some(&own)));
        assert!(may_share_self_care(&osei, &own).is_ok());
        assert!(may_share_self_care(&paul, &own).is_err());
    }

    #[test]
    fn measures_roles() {
        let coder = account("sam", AccountRole::Coder);
        let owner = account("paul", AccountRole::Owner);
        let auditor = account("ada", AccountRole::Auditor);
        assert!(may_add_instrument(&owner).is_ok());
        assert!(may_add_instrument(&coder).is_err() && may_add_instrument(&auditor).is_err());
        assert!(may_enter_responses(&owner).is_ok() && may_enter_responses(&coder).is_ok());
        assert!(may_enter_responses(&auditor).is_err());
        assert!(may_redeem_link(&bystander("link")).is_ok());
    }

    #[test]
    fn a_consensus_coder_is_never_an_account() {
        let accounts = vec!["paul".to_string(), "Sam".to_string()];
        let compared = vec!["maria".to_string()];
        for taken in ["paul", "PAUL", " sam ", "maria"] {
            assert!(
                consensus_coder(Some(taken), &compared, &accounts).is_err(),
                "{taken}"
            );
        }
        assert_eq!(
            consensus_coder(None, &compared, &accounts).unwrap(),
            crate::CONSENSUS_CODER
        );
        assert_eq!(
            consensus_coder(Some("panel"), &compared, &accounts).unwrap(),
            "panel"
        );
    }

    #[test]
    fn blindness_hides_others_codings_from_coders_only() {
        let source = SourceId::new();
        let blind = Blindness {
            study: false,
            sources: [source].into(),
        };
        let coder = account("sam", AccountRole::Coder);
        assert!(blind.hides(&coder, source, "maria"));
        assert!(!blind.hides(&coder, source, "Sam"));
        assert!(!blind.hides(&coder, SourceId::new(), "maria"));
        assert!(!blind.hides(&account("ada", AccountRole::Auditor), source, "maria"));
        assert!(blind.may_compare(&coder, &[(source, "a")]).is_err());
        assert!(blind.may_compare(&coder, &[(SourceId::new(), "b")]).is_ok());
    }
}
