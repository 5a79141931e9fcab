-- NPCs and mobs (docs/GAME.md "Content"). Portable SQL for SQLite and
-- PostgreSQL. npc_defs: what a kind of NPC is; npc_spawns: one NPC in
-- the world (tag unique, e.g. mob.rat.3) with optional name/level
-- overrides; npc_waypoints: a spawn's patrol loop; npc_lines: what a
-- kind of NPC says when talked to (animals have none).
CREATE TABLE npc_defs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,                -- 'npc' (cannot be attacked) or 'mob'
    family TEXT NOT NULL,              -- 'humanoid' or 'wildlife' (never talks)
    level INTEGER NOT NULL,
    strength INTEGER NOT NULL, vitality INTEGER NOT NULL, dexterity INTEGER NOT NULL,
    agility INTEGER NOT NULL, intelligence INTEGER NOT NULL, wisdom INTEGER NOT NULL,
    max_hp INTEGER NOT NULL,
    hostile INTEGER NOT NULL,          -- 1: attacks players within aggro_radius
    aggro_radius DOUBLE PRECISION NOT NULL, -- ft
    leash DOUBLE PRECISION NOT NULL,   -- ft from the spawn point before giving up
    speed DOUBLE PRECISION NOT NULL,   -- ft/s chasing or fleeing; strolls at half
    flee_at DOUBLE PRECISION NOT NULL, -- flees below this fraction of max_hp; 0 never
    respawn_ms INTEGER NOT NULL,       -- 0: MOB_RESPAWN_MS
    description TEXT NOT NULL
);
CREATE TABLE npc_spawns (
    tag TEXT PRIMARY KEY,
    def_id TEXT NOT NULL REFERENCES npc_defs(id),
    zone_id TEXT NOT NULL REFERENCES zones(id),
    name TEXT,                         -- NULL: the definition's
    level INTEGER,                     -- NULL: the definition's
    x DOUBLE PRECISION NOT NULL, y DOUBLE PRECISION NOT NULL, z DOUBLE PRECISION NOT NULL,
    wander DOUBLE PRECISION NOT NULL   -- ft it strolls around the spawn point; 0 stands
);
CREATE TABLE npc_waypoints (
    tag TEXT NOT NULL REFERENCES npc_spawns(tag),
    seq INTEGER NOT NULL,
    x DOUBLE PRECISION NOT NULL, z DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (tag, seq)
);
CREATE TABLE npc_lines (
    def_id TEXT NOT NULL REFERENCES npc_defs(id),
    seq INTEGER NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (def_id, seq)
);

-- Levels, stats and HP from the original's seed (GAME-REFERENCE.md 7).
INSERT INTO npc_defs VALUES
('merchant_old', 'Old Merchant', 'npc', 'humanoid', 5, 8, 12, 10, 8, 14, 16, 150, 0, 0, 0, 0, 0, 0,
 'A stooped trader in a moth-eaten coat, his cart piled with lanterns, rope and odd trinkets.'),
('hire_swordsman', 'Hired Swordsman', 'npc', 'humanoid', 3, 12, 11, 10, 11, 8, 9, 120, 0, 0, 0, 6, 0, 0,
 'A broad-shouldered sellsword leaning on a notched blade, waiting for coin and work.'),
('hire_bowman', 'Hired Bowman', 'npc', 'humanoid', 3, 9, 10, 13, 12, 10, 10, 110, 0, 0, 0, 6, 0, 0,
 'A wiry archer with a longbow across her back, watching the tree line.'),
('rat', 'Rat', 'mob', 'wildlife', 2, 6, 6, 8, 9, 3, 3, 35, 0, 0, 30, 8, 0, 0,
 'A fat grey rat with a bald tail. It bites if cornered.'),
('rabid_dog', 'Rabid Dog', 'mob', 'wildlife', 7, 12, 11, 12, 14, 4, 5, 140, 1, 30, 70, 12, 0, 0,
 'A gaunt mongrel with foam at its jaws and madness in its eyes.'),
('dire_toad', 'Dire Toad', 'mob', 'wildlife', 6, 11, 13, 6, 7, 3, 4, 160, 1, 20, 60, 6, 0.2, 0,
 'A toad the size of a boar, warty hide glistening with poison.');

-- The crossroads spawn is (100,0,100): the merchant and the hirelings
-- stand beside it; the rats are passive (they bite back only when
-- attacked), so the spawn stays safe. The dog roams the far south-west
-- corner (~99 ft from spawn, aggro 30 ft), the toad deep in the forest.
INSERT INTO npc_spawns VALUES
('npc.merchant.old', 'merchant_old', 'zone-crossroads', NULL, NULL, 102, 0, 98, 0),
('npc.hire.swordsman', 'hire_swordsman', 'zone-crossroads', NULL, NULL, 104, 0, 102, 0),
('npc.hire.bowman', 'hire_bowman', 'zone-crossroads', NULL, NULL, 96, 0, 102, 0),
('mob.rat.1', 'rat', 'zone-crossroads', NULL, 2, 115, 0, 92, 4),
('mob.rat.2', 'rat', 'zone-crossroads', NULL, 3, 88, 0, 117, 4),
('mob.rat.3', 'rat', 'zone-crossroads', NULL, 1, 82, 0, 94, 4),
('mob.rat.4', 'rat', 'zone-crossroads', NULL, 2, 108, 0, 78, 4),
('mob.rat.5', 'rat', 'zone-crossroads', NULL, 3, 121, 0, 108, 4),
('mob.rabid_dog', 'rabid_dog', 'zone-crossroads', NULL, NULL, 30, 0, 30, 10),
('mob.dire_toad', 'dire_toad', 'zone-forest', NULL, NULL, 150, 0, 300, 0);

-- The swordsman walks a small round past the signpost; the toad patrols its pond.
INSERT INTO npc_waypoints VALUES
('npc.hire.swordsman', 1, 104, 102),
('npc.hire.swordsman', 2, 108, 106),
('npc.hire.swordsman', 3, 104, 110),
('npc.hire.swordsman', 4, 100, 106),
('mob.dire_toad', 1, 150, 300),
('mob.dire_toad', 2, 165, 310),
('mob.dire_toad', 3, 150, 320),
('mob.dire_toad', 4, 135, 310);

INSERT INTO npc_lines VALUES
('merchant_old', 1, 'Lamp oil, rope, charms against the dark? Everything a traveller needs, friend.'),
('merchant_old', 2, 'Keep to the roads after dusk. Something foul prowls the south-west corner.'),
('merchant_old', 3, 'Forty years I have sold at this crossroads, and the signpost still points the wrong way.'),
('merchant_old', 4, 'The forest to the north? Go if you must, but mind the big toad by the pond.'),
('hire_swordsman', 1, 'Need a blade at your side? My sword is for hire, my loyalty for a little more.'),
('hire_swordsman', 2, 'Saw a rabid dog past the old fence. Keep your distance or keep your steel ready.'),
('hire_swordsman', 3, 'Quiet night. I do not trust quiet nights.'),
('hire_bowman', 1, 'I can put an arrow through a rat at fifty paces. Useful, if the rats get bold.'),
('hire_bowman', 2, 'Stay in the lantern light, traveller.'),
('hire_bowman', 3, 'The wind is turning. Rain before morning.');
