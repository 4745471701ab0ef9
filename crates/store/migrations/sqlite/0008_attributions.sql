-- Passages attributed to the participant or dyad they speak about: a stretch of a clinician's
-- interview about patient P03, a field note about two dyads. Offsets as for codings. A passage
-- goes with its source, participant or dyad.
CREATE TABLE attribution (
    id             TEXT PRIMARY KEY,
    source_id      TEXT NOT NULL REFERENCES source (id) ON DELETE CASCADE,
    start          INTEGER NOT NULL CHECK (start >= 0),
    "end"          INTEGER NOT NULL,
    participant_id TEXT REFERENCES participant (id) ON DELETE CASCADE,
    dyad_id        TEXT REFERENCES dyad (id) ON DELETE CASCADE,
    attributed_by  TEXT NOT NULL CHECK (length(trim(attributed_by)) > 0),
    attributed_at  TEXT NOT NULL,
    CHECK ("end" > start),
    -- About a participant or a dyad, never both.
    CHECK ((participant_id IS NULL) <> (dyad_id IS NULL))
);
-- Once per passage and target; also the index of a source's attributions in text order.
CREATE UNIQUE INDEX attribution_once
    ON attribution (source_id, start, "end", coalesce(participant_id, ''), coalesce(dyad_id, ''));
CREATE INDEX attribution_by_participant ON attribution (participant_id);
CREATE INDEX attribution_by_dyad ON attribution (dyad_id);

-- Inside the source's text, its length read through the index as for codings.
CREATE TRIGGER attribution_within_text_insert BEFORE INSERT ON attribution
WHEN NEW."end" > (SELECT text_length FROM source INDEXED BY source_length WHERE id = NEW.source_id)
BEGIN SELECT RAISE(ABORT, 'the attributed passage ends past the end of its source text'); END;

-- A passage moves only when de-identification rewrites its source's text (and stays inside
-- it); what it is of and about never changes (remove it and attribute again).
CREATE TRIGGER attribution_update BEFORE UPDATE ON attribution
BEGIN
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM deidentification WHERE active = 1) THEN RAISE(ABORT, 'an attributed passage changes only by de-identification')
        WHEN NEW.id <> OLD.id OR NEW.source_id <> OLD.source_id
             OR NEW.participant_id IS NOT OLD.participant_id OR NEW.dyad_id IS NOT OLD.dyad_id
             THEN RAISE(ABORT, 'an attribution''s source and whom it is about do not change')
        WHEN NEW."end" > (SELECT text_length FROM source INDEXED BY source_length WHERE id = NEW.source_id) THEN RAISE(ABORT, 'the attributed passage ends past the end of its source text')
    END;
END;

-- How many attributed passages a de-identification run moved.
ALTER TABLE deidentification ADD COLUMN attributions INTEGER NOT NULL DEFAULT 0;
