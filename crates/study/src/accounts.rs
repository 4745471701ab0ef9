//! Accounts for the browser, their passwords (argon2id, never stored or logged in clear), and
//! blind coding: who may see whose codings.

use std::collections::BTreeMap;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use between_core::*;
use between_store::{BlindScope, Reader};

use crate::{StudyError, StudyResult, Workbench, now};

/// Shorter passwords are refused.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Longest account name, in characters. A login naming a longer one is refused before
/// anything is looked up or remembered (a server's rate limit keeps names it has seen).
pub const MAX_ACCOUNT_NAME_CHARS: usize = 64;

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

fn account_named(store: &dyn Reader, name: &str) -> StudyResult<Account> {
    store
        .account_with_hash(name.trim())?
        .map(|(account, _)| account)
        .ok_or_else(|| StudyError::Unknown {
            what: "account",
            key: name.to_string(),
        })
}

/// Read inside the transaction that changes `account`, so two changes cannot each leave the
/// other's owner as the last one and remove it. `what` names the refused change.
fn refuse_losing_last_owner(store: &dyn Reader, account: &Account, what: &str) -> StudyResult<()> {
    if account.role != AccountRole::Owner {
        return Ok(());
    }
    let owners = store
        .accounts()?
        .iter()
        .filter(|a| a.role == AccountRole::Owner)
        .count();
    if owners > 1 {
        Ok(())
    } else {
        Err(StudyError::Invalid(format!(
            "{} is the study's last owner; add another owner first, then {what}",
            account.name
        )))
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
        self.must_manage("add accounts")?;
        let name = name.trim();
        if name.is_empty() || name.chars().any(|c| c.is_control()) {
            return Err(StudyError::Invalid("an account needs a name".into()));
        }
        if name.chars().count() > MAX_ACCOUNT_NAME_CHARS {
            return Err(StudyError::Invalid(format!(
                "an account name has at most {MAX_ACCOUNT_NAME_CHARS} characters"
            )));
        }
        let hash = hash_password(password)?;
        let account = Account {
            id: AccountId::new(),
            name: name.to_string(),
            role,
            created_at: now(),
            version: 1,
        };
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.insert_account(&account, &hash)?;
        tx.commit()?;
        Ok(account)
    }

    /// Sets a new password. The account's version goes up, which ends its sessions on a
    /// server (see [`Workbench::account`]).
    pub fn set_password(&mut self, name: &str, password: &str) -> StudyResult<()> {
        self.must_manage("set passwords")?;
        let hash = hash_password(password)?;
        let mut tx = self.store.transaction(&self.actor.name)?;
        let account = account_named(&*tx, name)?;
        tx.update_password(&account, &hash)?;
        tx.commit()?;
        Ok(())
    }

    /// Gives an account another role (its sessions end, as after a new password). The last
    /// owner stays an owner.
    pub fn set_role(&mut self, name: &str, role: AccountRole) -> StudyResult<Account> {
        self.must_manage("change roles")?;
        let mut tx = self.store.transaction(&self.actor.name)?;
        let account = account_named(&*tx, name)?;
        if account.role == role {
            return Ok(account);
        }
        refuse_losing_last_owner(&*tx, &account, &format!("make them a {role}"))?;
        tx.update_role(&account, role)?;
        tx.commit()?;
        Ok(Account {
            role,
            version: account.version + 1,
            ..account
        })
    }

    /// Removes an account (its codings and memos stay, under its name). The last owner stays.
    pub fn remove_account(&mut self, name: &str) -> StudyResult<Account> {
        self.must_manage("remove accounts")?;
        let mut tx = self.store.transaction(&self.actor.name)?;
        let account = account_named(&*tx, name)?;
        refuse_losing_last_owner(&*tx, &account, "remove the last owner")?;
        tx.delete_account(&account)?;
        tx.commit()?;
        Ok(account)
    }

    pub fn accounts(&self) -> StudyResult<Vec<Account>> {
        Ok(self.store.accounts()?)
    }

    /// The account as stored now, or `None` once removed. Its `version` goes up with every
    /// change of password or role, so a session started at another version has ended.
    pub fn account(&self, id: AccountId) -> StudyResult<Option<Account>> {
        Ok(self.store.account(id)?)
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
        self.must_manage("switch blind coding")?;
        let scope = match source {
            None => BlindScope::Study,
            Some(name) => BlindScope::Source(self.source(name)?.id),
        };
        let mut tx = self.store.transaction(&self.actor.name)?;
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
        let blindness = self.blindness()?;
        let mut out: BTreeMap<SourceId, BTreeMap<String, usize>> = BTreeMap::new();
        for (source, coder, n) in self.store.coding_counts_by_source()? {
            if !blindness.hides(viewer, source, &coder) {
                *out.entry(source).or_default().entry(coder).or_default() += n;
            }
        }
        Ok(out)
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

    fn study(dir: &tempfile::TempDir) -> Workbench {
        let mut bench = Workbench::create(
            &dir.path().join("t.between"),
            crate::NewStudy {
                name: "T".into(),
                ..Default::default()
            },
            &between_store::OpenOptions::default(),
            "cli",
        )
        .unwrap();
        bench
            .add_account("paul", AccountRole::Owner, "an owner's password")
            .unwrap();
        bench
            .add_account("sam", AccountRole::Coder, "a coder's password")
            .unwrap();
        bench
    }

    #[test]
    fn the_last_owner_is_never_removed_or_demoted() {
        let dir = tempfile::tempdir().unwrap();
        let mut bench = study(&dir);
        let refused = |e: StudyError| e.to_string().contains("last owner");
        assert!(refused(
            bench.set_role("paul", AccountRole::Coder).unwrap_err()
        ));
        assert!(refused(bench.remove_account("Paul").unwrap_err()));
        let sam = bench.set_role("sam", AccountRole::Owner).unwrap();
        assert_eq!((sam.role, sam.version), (AccountRole::Owner, 2));
        assert_eq!(bench.account(sam.id).unwrap(), Some(sam.clone()));
        let paul = bench.remove_account("paul").unwrap();
        assert_eq!(bench.account(paul.id).unwrap(), None);
        assert!(refused(bench.remove_account("sam").unwrap_err()));
        assert!(matches!(
            bench.remove_account("nobody"),
            Err(StudyError::Unknown { .. })
        ));
        let log = bench.store().audit_log(3).unwrap();
        let said: Vec<_> = log
            .iter()
            .map(|e| (e.action.as_str(), e.detail.to_string()))
            .collect();
        assert!(
            said[1].0 == "update" && said[1].1.contains(r#""changed":"role""#),
            "{said:?}"
        );
        assert!(
            said[2].0 == "delete" && said[2].1.contains("paul"),
            "{said:?}"
        );
        assert!(log.iter().all(|e| e.actor == "cli"));
    }

    #[test]
    fn a_new_password_or_role_moves_the_accounts_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut bench = study(&dir);
        let (before, _) = bench.login_record("sam").unwrap().unwrap();
        bench.set_password("sam", "a new password for sam").unwrap();
        let after = bench.account(before.id).unwrap().unwrap();
        assert_eq!(after.version, before.version + 1);
        assert_eq!(
            bench.set_role("sam", AccountRole::Coder).unwrap().version,
            after.version,
            "the same role changes nothing"
        );
    }

    #[test]
    fn account_names_have_a_length_limit() {
        let dir = tempfile::tempdir().unwrap();
        let mut bench = study(&dir);
        let long = "x".repeat(MAX_ACCOUNT_NAME_CHARS + 1);
        assert!(
            bench
                .add_account(&long, AccountRole::Coder, "a long password")
                .unwrap_err()
                .to_string()
                .contains("at most 64 characters")
        );
        let longest = "é".repeat(MAX_ACCOUNT_NAME_CHARS);
        bench
            .add_account(&longest, AccountRole::Coder, "a long password")
            .unwrap();
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
