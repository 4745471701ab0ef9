-- De-identification: the runs that rewrote sources' text (counts only, never the terms), and
-- the mapping of identifying terms to pseudonyms, kept apart so it can be exported or destroyed.

CREATE TABLE deidentification (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    sources      INTEGER NOT NULL DEFAULT 0,
    replacements INTEGER NOT NULL DEFAULT 0,
    codings      INTEGER NOT NULL DEFAULT 0,
    memos        INTEGER NOT NULL DEFAULT 0,
    -- 1 only inside the transaction that rewrites: memo passages may move while it is.
    active       INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
);

-- The only place original terms live. Deleting its rows (and vacuuming) leaves none behind.
CREATE TABLE pseudonym (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    run            INTEGER NOT NULL REFERENCES deidentification (seq),
    term           TEXT NOT NULL CHECK (length(trim(term)) > 0),
    pseudonym      TEXT NOT NULL CHECK (length(trim(pseudonym)) > 0),
    replacements   INTEGER NOT NULL DEFAULT 0 CHECK (replacements >= 0)
);

-- A memo's passage still never changes, except when de-identification rewrites its source's
-- text (and then it stays inside that text).
DROP TRIGGER memo_passage_update;
CREATE TRIGGER memo_passage_update BEFORE UPDATE OF passage_start, passage_end ON memo
BEGIN
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM deidentification WHERE active = 1) THEN RAISE(ABORT, 'a memo''s passage changes only by de-identification')
        WHEN NEW.passage_start IS NULL OR NEW.passage_end IS NULL THEN RAISE(ABORT, 'a passage needs a start and an end')
        WHEN NEW.passage_start < 0 OR NEW.passage_end <= NEW.passage_start THEN RAISE(ABORT, 'a passage must end after it starts')
        WHEN NEW.passage_end > (SELECT text_length FROM source WHERE id = NEW.source_id) THEN RAISE(ABORT, 'the passage ends past the end of its source text')
    END;
END;
