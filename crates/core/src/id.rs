//! Typed UUID identities, so a coding id can never be passed where a code id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh identity. Version 7 UUIDs sort by creation time, which keeps indexes local.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

ids! {
    /// A study (one study file).
    StudyId,
    /// A clinician, patient or other participant.
    ParticipantId,
    /// A clinician–patient pair.
    DyadId,
    /// A transcript, field note, journal entry or encounter.
    SourceId,
    /// A code of the codebook.
    CodeId,
    /// One application of a code to a span of a source.
    CodingId,
    /// A memo.
    MemoId,
    /// A dyad or clinician case study.
    CaseId,
    /// A person's account for working on the study in the browser.
    AccountId,
    /// A passage of a source attributed to the participant or dyad it speaks about.
    AttributionId,
    /// One completed questionnaire: a participant's answers to an instrument version.
    ResponseId,
    /// A one-time link through which a participant completes a questionnaire.
    ResponseLinkId,
}
