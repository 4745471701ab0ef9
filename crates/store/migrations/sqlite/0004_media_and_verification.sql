-- A recording linked to a source: the file stays where it is (audio is large); the study keeps
-- where it is, relative to the study's folder when it lies inside it, and its size when linked.
CREATE TABLE media (
    source_id   TEXT PRIMARY KEY REFERENCES source (id) ON DELETE CASCADE,
    path        TEXT NOT NULL CHECK (length(path) > 0),
    mime        TEXT NOT NULL CHECK (mime LIKE 'audio/%' OR mime LIKE 'video/%'),
    bytes       INTEGER NOT NULL CHECK (bytes >= 0),
    attached_at TEXT NOT NULL,
    attached_by TEXT NOT NULL
) WITHOUT ROWID;

-- Who checked a transcript against its recording, and when (every check is kept).
CREATE TABLE verification (
    id          INTEGER PRIMARY KEY,
    source_id   TEXT NOT NULL REFERENCES source (id) ON DELETE CASCADE,
    verified_by TEXT NOT NULL CHECK (length(trim(verified_by)) > 0),
    verified_at TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX verification_by_source ON verification (source_id, verified_at);

-- Transcription marks in a source's text (`<UNSURE>…</UNSURE>`, `<UNIN/>`, `<INAUDIBLE_SPEECH/>`):
-- kept visible in the text, but not speech.
CREATE TABLE marker (
    source_id TEXT NOT NULL REFERENCES source (id) ON DELETE CASCADE,
    start     INTEGER NOT NULL CHECK (start >= 0),
    "end"     INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('unsure', 'unintelligible', 'inaudible', 'other')),
    PRIMARY KEY (source_id, start, "end", kind),
    CHECK ("end" > start)
) WITHOUT ROWID;
