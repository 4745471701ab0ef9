-- Accounts of the people who work on the study in the browser, and blind coding.

CREATE TABLE account (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
    role          TEXT NOT NULL CHECK (role IN ('owner', 'coder', 'auditor')),
    -- argon2id PHC string; never the password.
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2%'),
    created_at    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);

-- In blind mode each coder sees only their own codings until the owner reveals them.
ALTER TABLE study ADD COLUMN blind INTEGER NOT NULL DEFAULT 0 CHECK (blind IN (0, 1));
ALTER TABLE source ADD COLUMN blind INTEGER NOT NULL DEFAULT 0 CHECK (blind IN (0, 1));
