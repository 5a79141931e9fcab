-- The game of issue 13 (docs/GAME.md): abilities, items, mob drops, each
-- character's inventory and whether it is alive. Plain SQL that SQLite and
-- PostgreSQL both accept, so one file serves both dialects.
ALTER TABLE characters ADD COLUMN is_alive INTEGER NOT NULL DEFAULT 1;

-- Abilities. range_ft is 3D distance in feet; amount/scaling_stat/scaling
-- give base = max(1, floor(amount + stat * scaling)); charges: builds_* adds
-- (max 5 per type), consumes_* needs and spends; area_ft > 0 hits every
-- enemy within that radius of the target with the split rule.
CREATE TABLE abilities (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
    target TEXT NOT NULL,              -- enemy | ally (ally includes oneself)
    range_ft DOUBLE PRECISION NOT NULL, atb_cost INTEGER NOT NULL,
    stamina_cost INTEGER NOT NULL, mana_cost INTEGER NOT NULL, health_cost INTEGER NOT NULL,
    cooldown_s DOUBLE PRECISION NOT NULL,
    damage_type TEXT NOT NULL,         -- physical | magic | fire | ... | heal
    amount DOUBLE PRECISION NOT NULL, scaling_stat TEXT NOT NULL, scaling DOUBLE PRECISION NOT NULL,
    builds_charge TEXT NOT NULL, builds_amount INTEGER NOT NULL,
    consumes_charge TEXT NOT NULL, consumes_amount INTEGER NOT NULL,
    area_ft DOUBLE PRECISION NOT NULL
);
INSERT INTO abilities VALUES
('basic_attack', 'Basic Attack', 'A plain weapon strike.', 'enemy', 10, 100, 5, 0, 0, 0, 'physical', 8, 'strength', 0.4, '', 0, '', 0, 0),
('rending_strike', 'Rending Strike', 'A quick cut that opens a guard: builds 1 combo.', 'enemy', 10, 50, 10, 0, 0, 2, 'physical', 6, 'strength', 0.3, 'combo', 1, '', 0, 0),
('finishing_blow', 'Finishing Blow', 'Spends 3 combo on a heavy blow.', 'enemy', 10, 100, 15, 0, 0, 6, 'physical', 14, 'strength', 0.8, '', 0, 'combo', 3, 0),
('arcane_bolt', 'Arcane Bolt', 'A bolt of raw force thrown from afar.', 'enemy', 60, 100, 0, 15, 0, 3, 'magic', 10, 'intelligence', 0.5, '', 0, '', 0, 0),
('mend', 'Mend', 'Knits wounds closed (yourself or an ally).', 'ally', 30, 100, 0, 20, 0, 8, 'heal', 25, 'wisdom', 1.0, '', 0, '', 0, 0),
('whirlwind', 'Whirlwind', 'A spinning sweep that hits every enemy within 15 ft of the target; the damage is split.', 'enemy', 10, 150, 25, 0, 0, 10, 'physical', 12, 'strength', 0.5, '', 0, '', 0, 15);

-- Item definitions. Weapons add attack_bonus to attackRating and to the
-- base of physical abilities while equipped; consumables restore `value`
-- of `resource` (capped; refused when full) with a per-item cooldown.
CREATE TABLE items (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
    kind TEXT NOT NULL,                -- consumable | weapon | misc
    attack_bonus INTEGER NOT NULL, resource TEXT NOT NULL, value INTEGER NOT NULL,
    cooldown_s DOUBLE PRECISION NOT NULL, stack_max INTEGER NOT NULL
);
INSERT INTO items VALUES
('rusty_sword', 'Rusty Sword', 'A pitted old blade, still sharp enough.', 'weapon', 3, 'none', 0, 0, 1),
('health_potion', 'Health Potion', 'A red draught that closes wounds: restores 50 health.', 'consumable', 0, 'health', 50, 30, 20),
('stamina_tonic', 'Stamina Tonic', 'Bitter and bracing: restores 40 stamina.', 'consumable', 0, 'stamina', 40, 30, 20),
('rat_tail', 'Rat Tail', 'A bald, scaly tail. The alchemist pays a copper for three.', 'misc', 0, 'none', 0, 0, 50),
('dog_fang', 'Rabid Dog Fang', 'A yellowed fang, still flecked with foam. Handle with care.', 'misc', 0, 'none', 0, 0, 20),
('toad_skin', 'Dire Toad Skin', 'Warty hide that sweats a numbing poison.', 'misc', 0, 'none', 0, 0, 20);

-- Mob drops, rolled once per kill for the killer: source is the NPC's
-- name or its definition id (npc_defs, 004_npcs.sql), or '*' for every mob.
CREATE TABLE loot (
    source TEXT NOT NULL, item_id TEXT NOT NULL REFERENCES items(id),
    chance_pct DOUBLE PRECISION NOT NULL, qty_min INTEGER NOT NULL, qty_max INTEGER NOT NULL
);
INSERT INTO loot VALUES
('Rat', 'rat_tail', 40, 1, 1),
('Rabid Dog', 'dog_fang', 60, 1, 2),
('Rabid Dog', 'stamina_tonic', 30, 1, 1),
('Dire Toad', 'toad_skin', 60, 1, 1),
('*', 'health_potion', 25, 1, 1);

-- What each character carries. slot orders the list; equipped weapons sit
-- in the mainHand.
CREATE TABLE character_items (
    character_id BIGINT NOT NULL REFERENCES characters(id),
    slot INTEGER NOT NULL, item_id TEXT NOT NULL REFERENCES items(id),
    quantity INTEGER NOT NULL, equipped INTEGER NOT NULL,
    PRIMARY KEY (character_id, slot)
);
-- Characters made before this migration get the starting kit too.
INSERT INTO character_items SELECT id, 0, 'rusty_sword', 1, 1 FROM characters;
INSERT INTO character_items SELECT id, 1, 'health_potion', 5, 0 FROM characters;
