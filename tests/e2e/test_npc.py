"""Issue 13 (NPC half): NPCs and mobs from the database, their AI, dialogue, respawn."""
import asyncio
import math
import os

import pytest

from conftest import Server, enter_world, unique

MERCHANT_LINES = {
    "Lamp oil, rope, charms against the dark? Everything a traveller needs, friend.",
    "Keep to the roads after dusk. Something foul prowls the south-west corner.",
    "Forty years I have sold at this crossroads, and the signpost still points the wrong way.",
    "The forest to the north? Go if you must, but mind the big toad by the pond.",
}


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(params=["sqlite", "postgres"])
def world(request):
    env = {"MOB_RESPAWN_MS": "1500", "RNG_SEED": "7"}
    if request.param == "postgres":
        if not os.environ.get("WOD_TEST_PG_URL"):
            pytest.skip("WOD_TEST_PG_URL not set")
        env["DATABASE_URL"] = os.environ["WOD_TEST_PG_URL"]
    s = Server(env=env).start()
    yield s
    assert s.stop() == 0, s.logs()


def danger(roster):
    """dangerState of a roster or delta: True/False, or None if it did not change."""
    d = roster.get("dangerState")
    if d is None:
        return None
    return d["level"] == "danger" if isinstance(d, dict) else bool(d)


def npc(entry, name):
    found = [e for e in entry["entities"] if e["name"] == name]
    assert found, f"{name} not in world_entry: {[e['name'] for e in entry['entities']]}"
    return found[0]


def roster_entities(roster):
    out = {}
    for ch in roster["channels"].values():
        for e in ch.get("entities", []) + ch.get("added", []):
            out[e["id"]] = e
    return out


async def step_to(c, x, z, step=5.0):
    """Walks in small position moves the server accepts, from c.pos to (x, z)."""
    px, pz = c.pos
    while True:
        dx, dz = x - px, z - pz
        d = math.hypot(dx, dz)
        if d < 0.01:
            break
        k = min(1.0, step / d)
        px, pz = px + dx * k, pz + dz * k
        # a step without `method` is placed at once (docs/PROTOCOL.md, movement)
        await c.send("move", {"position": {"x": px, "y": 0, "z": pz}, "speed": "run"})
        await asyncio.sleep(0.2)
    c.pos = (px, pz)


def test_cast_from_the_database_and_dialogue(world):
    async def go():
        a = await enter_world(world, unique("Na"))
        a.pos = (100.0, 100.0)
        names = [e["name"] for e in a.entry["entities"]]
        for n in ("Old Merchant", "Hired Swordsman", "Hired Bowman", "Rabid Dog"):
            assert n in names
        assert names.count("Rat") == 5
        merchant = npc(a.entry, "Old Merchant")
        assert merchant["type"] == "npc" and merchant["isAlive"] is True
        assert merchant["interactive"] is True and not merchant.get("hostile")
        assert merchant["level"] == 5
        assert math.hypot(merchant["position"]["x"] - 102, merchant["position"]["z"] - 98) < 1
        dog = npc(a.entry, "Rabid Dog")
        assert dog["hostile"] is True and dog["level"] == 7 and dog["family"] == "wildlife"
        # rosters: the merchant is an npc, rats are wildlife; spawn is safe
        ents = roster_entities(a.roster)
        assert ents[merchant["id"]]["type"] == "npc" and ents[merchant["id"]]["isAlive"] is True
        rat_ids = {e["id"] for e in a.entry["entities"] if e["name"] == "Rat"}
        assert any(ents[r]["type"] == "wildlife" for r in rat_ids if r in ents)
        assert danger(a.roster) is False

        # talk: scripted lines, cycled
        await a.send("interact", {"targetId": merchant["id"], "action": "talk"})
        ev = await a.expect("event", pred=lambda p: p["eventType"] == "dialogue")
        assert ev["line"] in MERCHANT_LINES and ev["speaker"] == "Old Merchant"
        assert ev["targetId"] == merchant["id"]
        await a.send("interact", {"targetId": merchant["id"], "action": "talk"})
        ev2 = await a.expect("event", pred=lambda p: p["eventType"] == "dialogue")
        assert ev2["line"] in MERCHANT_LINES and ev2["line"] != ev["line"]
        # /say addressed to the merchant: he answers on the say channel
        await a.send("chat", {"channel": "say", "message": "Good evening, merchant!"})
        m = await a.expect("chat", pred=lambda p: p["senderId"] == merchant["id"])
        assert m["channel"] == "say" and m["content"] in MERCHANT_LINES
        assert m["senderName"] == "Old Merchant" and m["senderType"] == "npc"

        # bad input: attack a friendly NPC, talk to an animal, talk from afar
        await a.send("combat_action", {"abilityId": "basic_attack", "targetId": merchant["id"]})
        err = await a.expect("error", pred=lambda p: p["code"] == "INVALID_TARGET")
        assert "friendly" in err["message"]
        rat = min((e for e in a.entry["entities"] if e["name"] == "Rat"),
                  key=lambda e: math.hypot(e["position"]["x"] - 100, e["position"]["z"] - 100))
        rx, rz = rat["position"]["x"], rat["position"]["z"]
        await step_to(a, rx + (100 - rx) * 0.5, rz + (100 - rz) * 0.5)
        await a.send("interact", {"targetId": rat["id"], "action": "talk"})
        err = await a.expect("error", pred=lambda p: p["code"] in ("CANNOT_TALK", "OUT_OF_RANGE"))
        assert err["code"] == "CANNOT_TALK" and "animal" in err["message"]
        await a.send("interact", {"targetId": dog["id"], "action": "talk"})
        err = await a.expect("error", pred=lambda p: p["code"] == "OUT_OF_RANGE")
        await a.send("interact", {"targetId": "npc-999", "action": "talk"})
        await a.expect("error", pred=lambda p: p["code"] == "TARGET_NOT_FOUND")
        await a.close()
    run(go())


def test_rabid_dog_aggroes_chases_hits_and_leashes(world):
    async def go():
        a = await enter_world(world, unique("Nd"))
        a.pos = (100.0, 100.0)
        me = a.entry["entityId"]
        dog = npc(a.entry, "Rabid Dog")
        # walk towards its corner; it notices us within 30 ft of it and comes
        await step_to(a, 45, 45)
        await a.expect("proximity_roster_delta", timeout=10, pred=lambda p: danger(p) is True)
        hit = await a.expect("event", timeout=15, pred=lambda p: p["eventType"] == "combat_hit"
                             and p.get("attackerId") == dog["id"])
        assert hit["targetId"] == me and hit["amount"] > 0
        assert hit["targetHp"] < a.entry["character"]["health"]["max"]
        # run north-east, faster than it, for 8 s (staying in the zone): it
        # gives up at its leash; out of combat 15 s after its last bite
        # (docs/GAME.md "dangerState"), the danger is over
        await a.send("move", {"method": "heading", "heading": 45, "speed": "run"})
        await asyncio.sleep(8)
        await a.send("move", {"method": "heading", "heading": 45, "speed": "stop"})
        await a.expect("proximity_roster_delta", timeout=45, pred=lambda p: danger(p) is False)
        # no more bites once it has let go
        got = await a.drain(4.0)
        assert not [m for m in got if m["type"] == "event"
                    and m["payload"].get("eventType") == "combat_hit"
                    and m["payload"].get("attackerId") == dog["id"]]
        await a.close()
    run(go())


def test_killed_rat_respawns(world):
    async def go():
        a = await enter_world(world, unique("Nr"))
        a.pos = (100.0, 100.0)
        rat = min((e for e in a.entry["entities"] if e["name"] == "Rat"),
                  key=lambda e: math.hypot(e["position"]["x"] - 100, e["position"]["z"] - 100))
        rx, rz = rat["position"]["x"], rat["position"]["z"]
        await step_to(a, rx + (100 - rx) * 0.15, rz + (100 - rz) * 0.15)
        # the combat rules (docs/GAME.md): an attack whenever the ATB gauge
        # allows (refusals are combat_error events); the rat bites back
        dead = None
        loop = asyncio.get_event_loop()
        deadline = loop.time() + 90
        while dead is None and loop.time() < deadline:
            await a.send("combat_action", {"abilityId": "basic_attack", "targetId": rat["id"]})
            for m in await a.drain(1.0):
                p = m["payload"]
                if (m["type"] == "event" and p.get("eventType") == "combat_death"
                        and p.get("targetId") == rat["id"]):
                    dead = p
        assert dead is not None
        # dead: neither talkable nor attackable, and not in danger any more
        await a.send("combat_action", {"abilityId": "basic_attack", "targetId": rat["id"]})
        err = await a.expect("error", pred=lambda p: p["code"] in ("TARGET_DEAD",
                                                                   "TARGET_NOT_FOUND"))
        assert err["code"] == "TARGET_DEAD"
        # back after MOB_RESPAWN_MS at its spawn point: examinable again
        await asyncio.sleep(2.5)
        await a.send("interact", {"targetId": rat["id"], "action": "examine"})
        ev = await a.expect("event", pred=lambda p: p["eventType"] == "examine")
        assert ev["targetId"] == rat["id"] and "Rat" in ev["narrative"]
        await a.close()
    run(go())
