-- Relationship measures (issue 15): the instruments a study adds of its own, questionnaire
-- responses and their answers, one-time response links, and clinicians' own accounts with
-- whether they share their self-care measures.

-- Built-in instruments need no row. A version, once stored, never changes and is never
-- removed (a response may name it): a changed instrument is a new version.
CREATE TABLE study_instrument (
    id         TEXT NOT NULL CHECK (length(trim(id)) > 0),
    version    TEXT NOT NULL CHECK (length(trim(version)) > 0),
    definition TEXT NOT NULL CHECK (json_valid(definition)),
    added_by   TEXT NOT NULL CHECK (length(trim(added_by)) > 0),
    added_at   TEXT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE TRIGGER study_instrument_update BEFORE UPDATE ON study_instrument
BEGIN SELECT RAISE(ABORT, 'an instrument version never changes; add a new version'); END;
CREATE TRIGGER study_instrument_delete BEFORE DELETE ON study_instrument
WHEN EXISTS (SELECT 1 FROM response WHERE instrument = OLD.id AND instrument_version = OLD.version)
BEGIN SELECT RAISE(ABORT, 'an instrument version that responses use is kept'); END;

-- One completed questionnaire. Goes with its participant or dyad.
CREATE TABLE response (
    id                 TEXT PRIMARY KEY,
    instrument         TEXT NOT NULL,
    instrument_version TEXT NOT NULL,
    participant_id     TEXT NOT NULL REFERENCES participant (id) ON DELETE CASCADE,
    dyad_id            TEXT REFERENCES dyad (id) ON DELETE CASCADE,
    date               TEXT CHECK (date IS NULL OR date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    session            INTEGER CHECK (session IS NULL OR session >= 1),
    entered_by         TEXT NOT NULL CHECK (length(trim(entered_by)) > 0),
    entered_at         TEXT NOT NULL,
    mode               TEXT NOT NULL CHECK (mode IN ('hand', 'imported', 'self-completed')),
    -- When it was taken: a date, a session number, or both.
    CHECK (date IS NOT NULL OR session IS NOT NULL)
);
-- A duplicate submission: the same instrument version, participant, dyad, date and session.
CREATE UNIQUE INDEX response_once ON response (
    instrument, instrument_version, participant_id, coalesce(dyad_id, ''), coalesce(date, ''),
    coalesce(session, 0)
);
CREATE INDEX response_by_participant ON response (participant_id);
CREATE INDEX response_by_dyad ON response (dyad_id);
-- A response's instrument version, participant and answers never change.
CREATE TRIGGER response_update BEFORE UPDATE ON response
BEGIN SELECT RAISE(ABORT, 'a stored response does not change'); END;
-- Its dyad includes its participant.
CREATE TRIGGER response_dyad BEFORE INSERT ON response
WHEN NEW.dyad_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM dyad WHERE id = NEW.dyad_id
       AND NEW.participant_id IN (clinician_id, patient_id))
BEGIN SELECT RAISE(ABORT, 'the response''s participant is not in its dyad'); END;

CREATE TABLE response_answer (
    response_id TEXT NOT NULL REFERENCES response (id) ON DELETE CASCADE,
    item        TEXT NOT NULL,
    -- NULL: the item was left out.
    value       INTEGER,
    PRIMARY KEY (response_id, item)
) WITHOUT ROWID;
CREATE TRIGGER response_answer_update BEFORE UPDATE ON response_answer
BEGIN SELECT RAISE(ABORT, 'a stored answer does not change'); END;

-- A one-time link. The token is never stored, only its SHA-256 (hex); used once.
CREATE TABLE response_link (
    id                 TEXT PRIMARY KEY,
    token_hash         TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    instrument         TEXT NOT NULL,
    instrument_version TEXT NOT NULL,
    participant_id     TEXT NOT NULL REFERENCES participant (id) ON DELETE CASCADE,
    dyad_id            TEXT REFERENCES dyad (id) ON DELETE CASCADE,
    date               TEXT,
    session            INTEGER CHECK (session IS NULL OR session >= 1),
    created_by         TEXT NOT NULL CHECK (length(trim(created_by)) > 0),
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    used_at            TEXT
);
-- Single use: `used_at` is set once, and nothing else of a link changes.
CREATE TRIGGER response_link_update BEFORE UPDATE ON response_link
BEGIN
    SELECT CASE
        WHEN OLD.used_at IS NOT NULL THEN RAISE(ABORT, 'this link has already been used')
        WHEN NEW.used_at IS NULL OR NEW.id <> OLD.id OR NEW.token_hash <> OLD.token_hash
             OR NEW.instrument <> OLD.instrument OR NEW.instrument_version <> OLD.instrument_version
             OR NEW.participant_id <> OLD.participant_id OR NEW.dyad_id IS NOT OLD.dyad_id
             OR NEW.date IS NOT OLD.date OR NEW.session IS NOT OLD.session
             OR NEW.expires_at <> OLD.expires_at
             THEN RAISE(ABORT, 'a link changes only by being used')
    END;
END;

-- The account (by name) a clinician participant is: their own measures are theirs to see and
-- to share with the study's owners. Set once; sharing may change.
CREATE TABLE clinician_account (
    participant_id TEXT PRIMARY KEY REFERENCES participant (id) ON DELETE CASCADE,
    account        TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(account)) > 0),
    shared         INTEGER NOT NULL DEFAULT 0 CHECK (shared IN (0, 1))
);
CREATE TRIGGER clinician_account_is_clinician BEFORE INSERT ON clinician_account
WHEN (SELECT role FROM participant WHERE id = NEW.participant_id) IS NOT 'clinician'
BEGIN SELECT RAISE(ABORT, 'only a clinician participant is linked to an account'); END;
CREATE TRIGGER clinician_account_update BEFORE UPDATE ON clinician_account
WHEN NEW.participant_id <> OLD.participant_id OR NEW.account <> OLD.account
BEGIN SELECT RAISE(ABORT, 'a clinician''s account does not change once linked'); END;
