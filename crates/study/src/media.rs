//! Recordings linked to sources, and checks of transcripts against them (the original study
//! checked every transcript against its audio). A recording is linked, not copied: audio is
//! large, and the server streams it from where it lies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use between_core::*;

use crate::{StudyError, StudyResult, Workbench, now};

/// The kinds of source a recording is transcribed into (field notes and journals are not).
pub fn is_transcript(kind: SourceKind) -> bool {
    matches!(kind, SourceKind::Interview | SourceKind::Encounter)
}

/// The media type of a recording by its name (`audio/…` or `video/…`), as browsers expect it;
/// `None` for anything else.
pub fn recording_type(path: &Path) -> Option<String> {
    let guessed = mime_guess::from_path(path)
        .first()
        .filter(|m| matches!(m.type_().as_str(), "audio" | "video"))?;
    // What browsers expect for the few types mime_guess names otherwise.
    Some(
        match guessed.essence_str() {
            "audio/m4a" | "audio/x-m4a" => "audio/mp4",
            "audio/x-wav" | "audio/vnd.wave" => "audio/wav",
            other => other,
        }
        .to_string(),
    )
}

/// Who a recording linked by an imported project was attached by.
pub const IMPORTED: &str = "imported";

/// A recording an imported project names, if the study may link it: a media file whose real
/// path (symlinks followed) lies inside the study's `folder` (canonical), kept relative to it.
/// A relative `file` starts at the folder. Else why not, naming the file as the project does.
/// A path that leaves the folder by its words (absolute elsewhere, `..`) is refused before the
/// file system is asked, and no refusal says where a path really leads: a project must not
/// tell whoever uploads it which of the server's files exist.
pub fn recording_inside(folder: &Path, file: &Path, source: SourceId) -> Result<Media, String> {
    let outside = || {
        format!(
            "{} leads outside the study's folder; only recordings inside it are linked from a project",
            file.display()
        )
    };
    let full = folder.join(file);
    let climbs = full
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir));
    if climbs || !full.starts_with(folder) {
        return Err(outside());
    }
    let real = std::fs::canonicalize(&full)
        .map_err(|e| format!("{} cannot be read ({})", file.display(), e.kind()))?;
    let path = relative_to(folder, &real).ok_or_else(outside)?;
    let meta =
        std::fs::metadata(&real).map_err(|e| format!("{} ({})", file.display(), e.kind()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", file.display()));
    }
    let mime = recording_type(&real)
        .ok_or_else(|| format!("{} is not an audio or video file", file.display()))?;
    Ok(Media {
        source,
        path,
        mime,
        bytes: meta.len(),
        attached_at: String::new(),
        attached_by: IMPORTED.into(),
    })
}

/// `full` relative to `folder` with `/` between its parts, when it lies inside it.
fn relative_to(folder: &Path, full: &Path) -> Option<String> {
    let inside = full.strip_prefix(folder).ok()?;
    Some(
        inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

impl Workbench {
    /// Links the recording at `file` to a source (by name or id), replacing any linked before.
    pub fn attach_media(&mut self, source: &str, file: &Path) -> StudyResult<Media> {
        self.must_manage("link recordings")?;
        let source = self.source_ref(source)?;
        let shown = file.display().to_string();
        let io = |source| StudyError::Io {
            file: shown.clone(),
            source,
        };
        let full = std::fs::canonicalize(file).map_err(io)?;
        let meta = std::fs::metadata(&full).map_err(io)?;
        if !meta.is_file() {
            return Err(StudyError::Invalid(format!("{shown}: not a file")));
        }
        let mime = recording_type(&full).ok_or_else(|| {
            StudyError::Invalid(format!(
                "{shown}: not an audio or video file by its name; between links .mp3, .m4a, .wav, .ogg, .opus, .flac, .webm, .mp4 and .mov recordings"
            ))
        })?;
        let media = Media {
            source,
            path: self.stored_path(&full),
            mime,
            bytes: meta.len(),
            attached_at: now(),
            attached_by: self.actor.name.clone(),
        };
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.set_media(&media)?;
        tx.commit()?;
        Ok(media)
    }

    /// Unlinks a source's recording (the file itself is left alone).
    pub fn detach_media(&mut self, source: &str) -> StudyResult<()> {
        self.must_manage("unlink recordings")?;
        let id = self.source_ref(source)?;
        let mut tx = self.store.transaction(&self.actor.name)?;
        if !tx.delete_media(id)? {
            return Err(StudyError::Invalid(format!(
                "{source} has no recording linked"
            )));
        }
        tx.commit()?;
        Ok(())
    }

    /// Every linked recording, by source.
    pub fn media(&self) -> StudyResult<BTreeMap<SourceId, Media>> {
        Ok(self
            .store
            .media()?
            .into_iter()
            .map(|m| (m.source, m))
            .collect())
    }

    /// A source's recording and where its file is now (see [`Workbench::recording_path`]).
    pub fn media_file(&self, source: SourceId) -> StudyResult<(Media, PathBuf)> {
        let media = self
            .media()?
            .remove(&source)
            .ok_or_else(|| StudyError::Unknown {
                what: "recording for source",
                key: source.to_string(),
            })?;
        let real = self.recording_path(&media)?;
        Ok((media, real))
    }

    /// Where a recording's file is now, symlinks followed and checked at every call (a link
    /// placed later is seen): inside the study's folder, or exactly the file a person linked
    /// outside it ([`Workbench::attach_media`]). A file that is gone is `Unknown`; one that
    /// leads anywhere else is forbidden. Only a path so checked is ever handed out.
    pub fn recording_path(&self, media: &Media) -> StudyResult<PathBuf> {
        let path = Path::new(&media.path);
        let folder = self.study_folder();
        let full = match (path.is_absolute(), &folder) {
            (false, Some(folder)) => folder.join(path),
            _ => path.to_path_buf(),
        };
        let real = std::fs::canonicalize(&full).map_err(|_| StudyError::Unknown {
            what: "recording file (not where it was linked from)",
            key: media.path.clone(),
        })?;
        let inside = folder.is_some_and(|f| real.starts_with(f));
        let linked_outside = media.attached_by != IMPORTED && real == path;
        if !inside && !linked_outside {
            return Err(StudyError::Forbidden(format!(
                "the recording {} leads outside the study's folder; it is not served (link it again with `between media attach`)",
                media.path
            )));
        }
        Ok(real)
    }

    /// Records that `who` checked a transcript (by name or id) against its recording.
    pub fn verify_transcript(
        &mut self,
        who: &str,
        source: &str,
        note: &str,
    ) -> StudyResult<Verification> {
        crate::policy::may_write_as(&self.actor, who)?;
        let id = self.source_ref(source)?;
        let verification = Verification {
            source: id,
            verified_by: who.trim().to_string(),
            verified_at: now(),
            note: note.trim().to_string(),
        };
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.act_as(who);
        tx.insert_verification(&verification)?;
        tx.commit()?;
        Ok(verification)
    }

    /// The latest check of each verified source.
    pub fn verifications(&self) -> StudyResult<BTreeMap<SourceId, Verification>> {
        // Oldest first, so the latest of each source stays.
        Ok(self
            .store
            .verifications()?
            .into_iter()
            .map(|v| (v.source, v))
            .collect())
    }

    /// Transcripts nobody has checked against their recording yet, in name order.
    pub fn unverified(&self) -> StudyResult<Vec<between_store::SourceInfo>> {
        let verified = self.verifications()?;
        Ok(self
            .store
            .source_infos()?
            .into_iter()
            .filter(|s| is_transcript(s.kind) && !verified.contains_key(&s.id))
            .collect())
    }

    /// A source by id or name.
    pub(crate) fn source_ref(&self, source: &str) -> StudyResult<SourceId> {
        Ok(self.source_ids(&[source.to_string()])?.remove(0))
    }

    /// Where a recording is kept: relative to the study's folder when inside it (so a study
    /// folder can move with its recordings), else absolute.
    fn stored_path(&self, full: &Path) -> String {
        self.study_folder()
            .and_then(|f| relative_to(&f, full))
            .unwrap_or_else(|| full.display().to_string())
    }

    /// The folder the study file is in, as an absolute path.
    pub fn study_folder(&self) -> Option<PathBuf> {
        let file = self.store.location()?;
        let folder = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::canonicalize(folder).ok()
    }
}
