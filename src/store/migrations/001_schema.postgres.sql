-- Schema for PostgreSQL. Keep in step with 001_schema.sqlite.sql.
CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    username TEXT UNIQUE,              -- NULL for guests
    password_hash TEXT,                -- argon2id (libsodium crypto_pwhash_str)
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE tokens (
    selector TEXT PRIMARY KEY,         -- public half of the token, hex
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    verifier_hash TEXT NOT NULL,       -- sha-256 of the secret half, hex
    expires_at BIGINT NOT NULL        -- wall ms
);
CREATE TABLE characters (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,     -- lower-case name: names are unique ignoring case
    description TEXT NOT NULL DEFAULT '',
    level INTEGER NOT NULL, experience BIGINT NOT NULL,
    zone_id TEXT NOT NULL,
    x DOUBLE PRECISION NOT NULL, y DOUBLE PRECISION NOT NULL, z DOUBLE PRECISION NOT NULL, heading DOUBLE PRECISION NOT NULL,
    strength INTEGER NOT NULL, vitality INTEGER NOT NULL, dexterity INTEGER NOT NULL,
    agility INTEGER NOT NULL, intelligence INTEGER NOT NULL, wisdom INTEGER NOT NULL,
    hp INTEGER NOT NULL, stamina INTEGER NOT NULL, mana INTEGER NOT NULL,
    last_played BIGINT NOT NULL
);
CREATE INDEX characters_account ON characters(account_id);
CREATE TABLE zones (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
    rating TEXT NOT NULL, weather TEXT NOT NULL, time_of_day TEXT NOT NULL, lighting TEXT NOT NULL,
    origin_x DOUBLE PRECISION NOT NULL, origin_z DOUBLE PRECISION NOT NULL,
    size_x DOUBLE PRECISION NOT NULL, size_y DOUBLE PRECISION NOT NULL, size_z DOUBLE PRECISION NOT NULL,
    spawn_x DOUBLE PRECISION NOT NULL, spawn_y DOUBLE PRECISION NOT NULL, spawn_z DOUBLE PRECISION NOT NULL
);
CREATE TABLE zone_snapshots (
    zone_id TEXT PRIMARY KEY, data TEXT NOT NULL, saved_at BIGINT NOT NULL
);
