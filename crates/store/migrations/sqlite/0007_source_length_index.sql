-- A coding's end is checked against its source's length on every insert. The length sits after
-- the text in a source's row, so reading it walked the text's overflow pages each time; this
-- index holds it beside the id, and the triggers read it from there.
CREATE INDEX source_length ON source (id, text_length);

DROP TRIGGER coding_within_text_insert;
CREATE TRIGGER coding_within_text_insert BEFORE INSERT ON coding
WHEN NEW."end" > (SELECT text_length FROM source INDEXED BY source_length WHERE id = NEW.source_id)
BEGIN SELECT RAISE(ABORT, 'coding ends past the end of its source text'); END;

DROP TRIGGER coding_within_text_update;
CREATE TRIGGER coding_within_text_update BEFORE UPDATE OF start, "end", source_id ON coding
WHEN NEW."end" > (SELECT text_length FROM source INDEXED BY source_length WHERE id = NEW.source_id)
BEGIN SELECT RAISE(ABORT, 'coding ends past the end of its source text'); END;
