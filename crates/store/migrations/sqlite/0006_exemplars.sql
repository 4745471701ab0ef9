-- Exemplar quotes chosen by the team: which coding stands for which theory component (by its
-- id in the theory) or code, in the team's order. A coding's exemplars go with it.
CREATE TABLE exemplar (
    coding_id TEXT NOT NULL REFERENCES coding (id) ON DELETE CASCADE,
    component TEXT CHECK (component IS NULL OR length(trim(component)) > 0),
    code_id   TEXT REFERENCES code (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL CHECK (position >= 1),
    chosen_by TEXT NOT NULL CHECK (length(trim(chosen_by)) > 0),
    chosen_at TEXT NOT NULL,
    -- For a component or for a code, never both.
    CHECK ((component IS NULL) <> (code_id IS NULL))
);
CREATE UNIQUE INDEX exemplar_once ON exemplar (coding_id, coalesce(component, ''), coalesce(code_id, ''));
CREATE INDEX exemplar_order ON exemplar (coalesce(component, ''), coalesce(code_id, ''), position);
