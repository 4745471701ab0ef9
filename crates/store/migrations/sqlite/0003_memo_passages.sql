-- A memo on a source may be about one passage of it (code points, end exclusive): the team's
-- discussion of a disagreement between coders, for instance.
ALTER TABLE memo ADD COLUMN passage_start INTEGER;
ALTER TABLE memo ADD COLUMN passage_end INTEGER;

CREATE TRIGGER memo_passage_insert BEFORE INSERT ON memo
WHEN NEW.passage_start IS NOT NULL OR NEW.passage_end IS NOT NULL
BEGIN
    SELECT CASE
        WHEN NEW.target_kind <> 'source' THEN RAISE(ABORT, 'only a memo on a source can be about a passage')
        WHEN NEW.passage_start IS NULL OR NEW.passage_end IS NULL THEN RAISE(ABORT, 'a passage needs a start and an end')
        WHEN NEW.passage_start < 0 OR NEW.passage_end <= NEW.passage_start THEN RAISE(ABORT, 'a passage must end after it starts')
        WHEN NEW.passage_end > (SELECT text_length FROM source WHERE id = NEW.source_id) THEN RAISE(ABORT, 'the passage ends past the end of its source text')
    END;
END;

CREATE TRIGGER memo_passage_update BEFORE UPDATE OF passage_start, passage_end ON memo
BEGIN SELECT RAISE(ABORT, 'a memo''s passage does not change'); END;
