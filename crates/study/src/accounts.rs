//! Accounts for the browser, their passwords (argon2id, never stored or logged in clear), and
//! blind coding: who may see whose codings.

use std::collections::BTreeMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use between_core::*;
use between_store::BlindScope;

use crate::{CodingView, StudyError, StudyResult, Workbench, now};

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

/// Checks passwords. The argon2 memory (19 MiB for the default parameters) is allocated for
/// each check and freed after it: a server that kept it would hold it for as long as it runs.
#[derive(Debug, Default)]
pub struct PasswordChecker;

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
        let mut blocks = vec![argon2::Block::default(); params.block_count()];
        let expected = expected.as_bytes();
        let mut out = vec![0u8; expected.len()];
        let hasher = Argon2::new(algorithm, version, params);
        if hasher
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks)
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
    PasswordChecker.verify(password, hash)
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

    /// Codings per source and coder that `viewer` may see (blind mode applied), without
    /// reading the codings themselves.
    pub fn coding_progress(
        &self,
        viewer: &Account,
    ) -> StudyResult<BTreeMap<SourceId, BTreeMap<String, usize>>> {
        let study_blind = self.store.study()?.blind;
        let blind: std::collections::HashSet<SourceId> =
            self.store.blind_sources()?.into_iter().collect();
        let mut out: BTreeMap<SourceId, BTreeMap<String, usize>> = BTreeMap::new();
        for (source, coder, n) in self.store.coding_counts_by_source()? {
            let hidden = viewer.role == AccountRole::Coder
                && (study_blind || blind.contains(&source))
                && !coder.eq_ignore_ascii_case(&viewer.name);
            if !hidden {
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
        let study_blind = self.store.study()?.blind;
        let blind_sources: std::collections::HashSet<SourceId> =
            self.store.blind_sources()?.into_iter().collect();
        let hidden = |v: &CodingView| {
            (study_blind || blind_sources.contains(&v.coding.source))
                && !v.coding.coder.eq_ignore_ascii_case(&viewer.name)
        };
        Ok(codings.into_iter().filter(|v| !hidden(v)).collect())
    }
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
    fn the_checker_agrees_with_argon2() {
        let hash = hash_password("correct horse battery").unwrap();
        let mut checker = PasswordChecker;
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
