-- The study file, version 1. Identities are UUID text; offsets are code points, end exclusive;
-- timestamps are RFC 3339 UTC text.

CREATE TABLE study (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    theory_id      TEXT,
    theory_name    TEXT,
    theory_version TEXT,
    -- The theory file the codebook came from, kept so the study does not change when the
    -- built-in theory does.
    theory_text    TEXT,
    created_at     TEXT NOT NULL,
    one_row        INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (one_row = 1)
);

CREATE TABLE participant (
    id         TEXT PRIMARY KEY,
    label      TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(label)) > 0),
    role       TEXT NOT NULL CHECK (role IN ('clinician', 'patient', 'other')),
    name       TEXT,
    attributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
    version    INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE dyad (
    id                 TEXT PRIMARY KEY,
    label              TEXT NOT NULL UNIQUE COLLATE NOCASE,
    clinician_id       TEXT NOT NULL REFERENCES participant (id),
    patient_id         TEXT NOT NULL REFERENCES participant (id),
    relationship_start TEXT,
    notes              TEXT NOT NULL DEFAULT '',
    version            INTEGER NOT NULL DEFAULT 1,
    UNIQUE (clinician_id, patient_id),
    CHECK (clinician_id <> patient_id)
);

CREATE TABLE source (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL CHECK (kind IN ('interview', 'field-note', 'journal', 'encounter')),
    participant_id   TEXT REFERENCES participant (id),
    dyad_id          TEXT REFERENCES dyad (id),
    text             TEXT NOT NULL,
    text_length      INTEGER NOT NULL CHECK (text_length >= 0),
    interviewer      TEXT,
    interview_date   TEXT,
    duration_minutes INTEGER,
    others_present   TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(others_present)),
    guide_version    TEXT,
    consent_recorded INTEGER CHECK (consent_recorded IN (0, 1)),
    imported_at      TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE speaker (
    source_id      TEXT NOT NULL REFERENCES source (id) ON DELETE CASCADE,
    label          TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('clinician', 'patient', 'interviewer', 'other')),
    participant_id TEXT REFERENCES participant (id),
    PRIMARY KEY (source_id, label)
) WITHOUT ROWID;

CREATE TABLE turn (
    source_id TEXT NOT NULL REFERENCES source (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    start     INTEGER NOT NULL CHECK (start >= 0),
    "end"     INTEGER NOT NULL,
    speaker   TEXT,
    start_ms  INTEGER,
    end_ms    INTEGER,
    PRIMARY KEY (source_id, seq),
    CHECK ("end" >= start)
) WITHOUT ROWID;

CREATE TABLE code (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES code (id),
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    colour      TEXT NOT NULL,
    definition  TEXT NOT NULL DEFAULT '',
    indicators  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(indicators)),
    component   TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
-- Sibling codes have distinct names (NULL parents count as one root).
CREATE UNIQUE INDEX code_sibling_name ON code (coalesce(parent_id, ''), name COLLATE NOCASE);

CREATE TABLE coding (
    id         TEXT PRIMARY KEY,
    source_id  TEXT NOT NULL REFERENCES source (id),
    code_id    TEXT NOT NULL REFERENCES code (id),
    start      INTEGER NOT NULL CHECK (start >= 0),
    "end"      INTEGER NOT NULL,
    coder      TEXT NOT NULL CHECK (length(trim(coder)) > 0),
    contrast   INTEGER NOT NULL DEFAULT 0 CHECK (contrast IN (0, 1)),
    memo       TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    CHECK ("end" > start)
);
CREATE INDEX coding_by_source ON coding (source_id, start, "end");
CREATE INDEX coding_by_code ON coding (code_id);

CREATE TRIGGER coding_within_text_insert BEFORE INSERT ON coding
WHEN NEW."end" > (SELECT text_length FROM source WHERE id = NEW.source_id)
BEGIN SELECT RAISE(ABORT, 'coding ends past the end of its source text'); END;

CREATE TRIGGER coding_within_text_update BEFORE UPDATE OF start, "end", source_id ON coding
WHEN NEW."end" > (SELECT text_length FROM source WHERE id = NEW.source_id)
BEGIN SELECT RAISE(ABORT, 'coding ends past the end of its source text'); END;

CREATE TABLE memo (
    id             TEXT PRIMARY KEY,
    target_kind    TEXT NOT NULL CHECK (target_kind IN ('study', 'source', 'code', 'coding', 'dyad', 'participant')),
    source_id      TEXT REFERENCES source (id),
    code_id        TEXT REFERENCES code (id),
    coding_id      TEXT REFERENCES coding (id),
    dyad_id        TEXT REFERENCES dyad (id),
    participant_id TEXT REFERENCES participant (id),
    author         TEXT NOT NULL,
    title          TEXT NOT NULL DEFAULT '',
    text           TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    -- Exactly the column its kind names is set.
    CHECK ((source_id IS NOT NULL) + (code_id IS NOT NULL) + (coding_id IS NOT NULL)
           + (dyad_id IS NOT NULL) + (participant_id IS NOT NULL) = (target_kind <> 'study'))
);
CREATE INDEX memo_by_target ON memo (target_kind, coalesce(source_id, code_id, coding_id, dyad_id, participant_id));

CREATE TABLE case_study (
    id           TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('dyad', 'clinician')),
    dyad_id      TEXT UNIQUE REFERENCES dyad (id),
    clinician_id TEXT UNIQUE REFERENCES participant (id),
    text         TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    CHECK ((dyad_id IS NOT NULL) + (clinician_id IS NOT NULL) = 1)
);

-- The study's audit trail: who changed what, when. Append-only.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT,
    detail    TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
