-- Schema for the embedded SQLite store. Keep in step with 001_schema.postgres.sql.
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE,              -- NULL for guests
    password_hash TEXT,                -- argon2id (libsodium crypto_pwhash_str)
    display_name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE tokens (
    selector TEXT PRIMARY KEY,         -- public half of the token, hex
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    verifier_hash TEXT NOT NULL,       -- sha-256 of the secret half, hex
    expires_at INTEGER NOT NULL        -- wall ms
);
CREATE TABLE characters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,     -- lower-case name: names are unique ignoring case
    description TEXT NOT NULL DEFAULT '',
    level INTEGER NOT NULL, experience INTEGER NOT NULL,
    zone_id TEXT NOT NULL,
    x REAL NOT NULL, y REAL NOT NULL, z REAL NOT NULL, heading REAL NOT NULL,
    strength INTEGER NOT NULL, vitality INTEGER NOT NULL, dexterity INTEGER NOT NULL,
    agility INTEGER NOT NULL, intelligence INTEGER NOT NULL, wisdom INTEGER NOT NULL,
    hp INTEGER NOT NULL, stamina INTEGER NOT NULL, mana INTEGER NOT NULL,
    last_played INTEGER NOT NULL
);
CREATE INDEX characters_account ON characters(account_id);
CREATE TABLE zones (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
    rating TEXT NOT NULL, weather TEXT NOT NULL, time_of_day TEXT NOT NULL, lighting TEXT NOT NULL,
    origin_x REAL NOT NULL, origin_z REAL NOT NULL,
    size_x REAL NOT NULL, size_y REAL NOT NULL, size_z REAL NOT NULL,
    spawn_x REAL NOT NULL, spawn_y REAL NOT NULL, spawn_z REAL NOT NULL
);
CREATE TABLE zone_snapshots (
    zone_id TEXT PRIMARY KEY, data TEXT NOT NULL, saved_at INTEGER NOT NULL
);
