//! Accounts for the browser, their passwords (argon2id, never stored or logged in clear), and
//! blind coding: who may see whose codings.

use std::collections::{BTreeMap, HashMap, HashSet};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use between_core::*;
use between_store::BlindScope;

use crate::{CodingView, MemoView, StudyError, StudyResult, Workbench, now};

/// Shorter passwords are refused.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A hash of no real password, verified against when a login names no account, so that a
/// wrong name takes as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$3Q0jU5eOaI1Y2vN1K9cG3c8bJfCwqQFf1Yb4sRjZ0kU";

fn hash_password(password: &str) -> StudyResult<String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StudyError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| StudyError::Invalid(format!("no randomness for a salt: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StudyError::Invalid(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| StudyError::Invalid(e.to_string()))?
        .to_string())
}

/// Checks passwords with one reused block of argon2 memory, for a process that checks many
/// (a server): allocating 19 MiB afresh for every login leaves memory the allocator keeps.
#[derive(Default)]
pub struct PasswordChecker {
    blocks: Vec<argon2::Block>,
}

impl std::fmt::Debug for PasswordChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChecker")
            .field("blocks", &self.blocks.len())
            .finish()
    }
}

impl PasswordChecker {
    pub fn verify(&mut self, password: &str, hash: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
            argon2::Algorithm::try_from(parsed.algorithm),
            argon2::Params::try_from(&parsed),
            parsed.salt,
            parsed.hash,
        ) else {
            return false;
        };
        let version = argon2::Version::try_from(parsed.version.unwrap_or(0x13)).unwrap_or_default();
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        if self.blocks.len() < params.block_count() {
            self.blocks
                .resize(params.block_count(), argon2::Block::default());
        }
        let expected = expected.as_bytes();
        let mut out = vec![0u8; expected.len()];
        let hasher = Argon2::new(algorithm, version, params);
        if hasher
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut out,
                &mut self.blocks[..],
            )
            .is_err()
        {
            return false;
        }
        // Constant time: every byte is compared whatever the first difference.
        out.len() == expected.len()
            && out
                .iter()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// The hash to verify against when a login names no account.
pub fn dummy_hash() -> &'static str {
    DUMMY_HASH
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordChecker::default().verify(password, hash)
}

impl Workbench {
    pub fn add_account(
        &mut self,
        name: &str,
        role: AccountRole,
        password: &str,
    ) -> StudyResult<Account> {
        let name = name.trim();
        if name.is_empty() || name.chars().any(|c| c.is_control()) {
            return Err(StudyError::Invalid("an account needs a name".into()));
        }
        let hash = hash_password(password)?;
        let account = Account {
            id: AccountId::new(),
            name: name.to_string(),
            role,
            created_at: now(),
            version: 1,
        };
        let mut tx = self.store.transaction(&self.actor)?;
        tx.insert_account(&account, &hash)?;
        tx.commit()?;
        Ok(account)
    }

    pub fn set_password(&mut self, name: &str, password: &str) -> StudyResult<()> {
        let (account, _) =
            self.store
                .account_with_hash(name)?
                .ok_or_else(|| StudyError::Unknown {
                    what: "account",
                    key: name.to_string(),
                })?;
        let hash = hash_password(password)?;
        let mut tx = self.store.transaction(&self.actor)?;
        tx.update_password(&account, &hash)?;
        tx.commit()?;
        Ok(())
    }

    pub fn accounts(&self) -> StudyResult<Vec<Account>> {
        Ok(self.store.accounts()?)
    }

    /// The account of this name with its password hash, for a caller that checks the password
    /// elsewhere (a server, on its own thread).
    pub fn login_record(&self, name: &str) -> StudyResult<Option<(Account, String)>> {
        Ok(self.store.account_with_hash(name.trim())?)
    }

    /// The account, if the name and password match one. Says nothing about which was wrong.
    pub fn check_login(&self, name: &str, password: &str) -> StudyResult<Option<Account>> {
        match self.store.account_with_hash(name.trim())? {
            Some((account, hash)) => Ok(verify(password, &hash).then_some(account)),
            None => {
                verify(password, DUMMY_HASH);
                Ok(None)
            }
        }
    }

    /// Switches blind coding for the whole study (`source` = `None`) or one source.
    pub fn set_blind(&mut self, source: Option<&str>, blind: bool) -> StudyResult<()> {
        let scope = match source {
            None => BlindScope::Study,
            Some(name) => BlindScope::Source(self.source(name)?.id),
        };
        let mut tx = self.store.transaction(&self.actor)?;
        tx.set_blind(scope, blind)?;
        tx.commit()?;
        Ok(())
    }

    /// Where blind coding is on now: what [`BlindCoding`] decides from.
    pub fn blind_coding(&self) -> StudyResult<BlindCoding> {
        Ok(BlindCoding {
            study: self.store.study()?.blind,
            sources: self.store.blind_sources()?.into_iter().collect(),
        })
    }

    /// Codings per source and coder that `viewer` may see (blind mode applied), without
    /// reading the codings themselves.
    pub fn coding_progress(
        &self,
        viewer: &Account,
    ) -> StudyResult<BTreeMap<SourceId, BTreeMap<String, usize>>> {
        let blind = self.blind_coding()?;
        let mut out: BTreeMap<SourceId, BTreeMap<String, usize>> = BTreeMap::new();
        for (source, coder, n) in self.store.coding_counts_by_source()? {
            if !blind.hides_coding(viewer, source, &coder) {
                *out.entry(source).or_default().entry(coder).or_default() += n;
            }
        }
        Ok(out)
    }

    /// Keeps the codings `viewer` may see: in a blind study or source, a coder sees only their own.
    pub fn visible(
        &self,
        viewer: &Account,
        codings: Vec<CodingView>,
    ) -> StudyResult<Vec<CodingView>> {
        if viewer.role != AccountRole::Coder {
            return Ok(codings);
        }
        let blind = self.blind_coding()?;
        Ok(codings
            .into_iter()
            .filter(|v| !blind.hides_coding(viewer, v.coding.source, &v.coding.coder))
            .collect())
    }

    /// How many codings of each code `viewer` may see (codes without any are absent).
    pub fn coding_counts_seen_by(&self, viewer: &Account) -> StudyResult<HashMap<CodeId, usize>> {
        let blind = self.blind_coding()?;
        if !blind.restricts(viewer) {
            return Ok(self.store.coding_counts()?.into_iter().collect());
        }
        let mut counts = HashMap::new();
        for c in self.store.codings(&Default::default())? {
            if !blind.hides_coding(viewer, c.source, &c.coder) {
                *counts.entry(c.code).or_default() += 1;
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
        let blind = self.blind_coding()?;
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
}

/// Where blind coding is on (the whole study, or some sources), and what it hides from whom:
/// a coder sees only their own work there; owners and auditors see everything.
#[derive(Clone, Debug, Default)]
pub struct BlindCoding {
    study: bool,
    sources: HashSet<SourceId>,
}

impl BlindCoding {
    /// Whether blind coding is on for `source` (by itself or study-wide).
    pub fn covers(&self, source: SourceId) -> bool {
        self.study || self.sources.contains(&source)
    }

    /// Whether blind coding hides anything from `viewer`.
    pub fn restricts(&self, viewer: &Account) -> bool {
        viewer.role == AccountRole::Coder && (self.study || !self.sources.is_empty())
    }

    /// Whether `viewer` must not see a coding `coder` made in `source`.
    pub fn hides_coding(&self, viewer: &Account, source: SourceId, coder: &str) -> bool {
        hides_work_of(viewer, coder, self.covers(source))
    }

    /// Whether `viewer` must not see `memo`; `coding` is the coding it is on, if it is on one.
    /// A memo on a source (or a passage of one) or a coding is blind where its source is; a
    /// memo on anything else (the study, a code, a person) only when the whole study is.
    pub fn hides_memo(&self, viewer: &Account, memo: &Memo, coding: Option<&Coding>) -> bool {
        let blind = match (&memo.target, coding) {
            (_, Some(c)) => {
                if self.hides_coding(viewer, c.source, &c.coder) {
                    return true;
                }
                self.covers(c.source)
            }
            (MemoTarget::Source(source), None) => self.covers(*source),
            _ => self.study,
        };
        hides_work_of(viewer, &memo.author, blind)
    }
}

/// The rule of blind coding: where it is on (`blind`), a coder sees no one's work but their own.
/// For an item that is already decided blind or not (a live event), without reading the study.
pub fn hides_work_of(viewer: &Account, author: &str, blind: bool) -> bool {
    blind && viewer.role == AccountRole::Coder && !author.eq_ignore_ascii_case(&viewer.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify("anything at all", DUMMY_HASH));
    }

    #[test]
    fn the_reusing_checker_agrees_with_argon2() {
        let hash = hash_password("correct horse battery").unwrap();
        let mut checker = PasswordChecker::default();
        for _ in 0..2 {
            assert!(checker.verify("correct horse battery", &hash));
            assert!(!checker.verify("correct horse batterz", &hash));
        }
        assert!(!checker.verify("anything", DUMMY_HASH));
        assert!(!checker.verify("anything", "not a hash"));
    }

    #[test]
    fn passwords_are_hashed_with_a_salt() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$") && a != b);
        assert!(verify("correct horse battery", &a) && !verify("correct horse", &a));
        assert!(hash_password("short").is_err());
    }
}
