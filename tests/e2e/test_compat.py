"""Issue 12: the original's clients play unchanged (both generations), over
native /ws. The first test plays a session the way the original text
clients do (GAME-REFERENCE.md section 1); the others pin what graphical
clients and newer features rely on: walk-to, follow, movement_complete,
state_update positions, proximity_refresh, the chat event, /api/* shapes."""
import asyncio
import json

import pytest

from conftest import Client, Server, enter_world, http_get, unique


def run(coro):
    return asyncio.run(coro)


CHANNELS = ("touch", "say", "shout", "emote", "see", "hear", "cfh")


def check_full_roster(r):
    """A full roster as both generations read it: every channel with a
    count, an entities array and, while count <= 3, sample; a boolean
    dangerState; arrays never null."""
    assert isinstance(r["dangerState"], bool)
    assert r["danger"]["level"] in ("safe", "danger")
    for ch in CHANNELS:
        c = r["channels"][ch]
        assert isinstance(c["count"], int)
        assert isinstance(c["entities"], list)
        if c["count"] <= 3:
            assert isinstance(c["sample"], list) and len(c["sample"]) == c["count"]
        for e in c["entities"]:
            assert isinstance(e["isAlive"], bool) and isinstance(e["isMachine"], bool)
            assert {"id", "name", "type", "bearing", "elevation", "range"} <= set(e)


def check_character(ch):
    """world_entry.character: every field of the reference's shape."""
    for k in ("id", "name", "level", "experience", "abilityPoints", "isAlive", "position",
              "heading", "rotation", "currentSpeed", "coreStats", "derivedStats", "health",
              "stamina", "mana", "unlockedFeats", "unlockedAbilities", "activeLoadout",
              "passiveLoadout", "specialLoadout"):
        assert k in ch, k
    assert ch["currentSpeed"] in ("stop", "walk", "jog", "run")
    assert ch["isAlive"] is True and ch["abilityPoints"] == 0
    for k in ("unlockedFeats", "unlockedAbilities", "activeLoadout", "passiveLoadout",
              "specialLoadout"):
        assert ch[k] == []
    assert ch["rotation"] == {"x": 0, "y": ch["heading"], "z": 0}
    d = ch["derivedStats"]
    assert d["maxHp"] == 205 and d["maxStamina"] == 180 and d["maxMana"] == 200
    for k in ("current", "max"):
        assert isinstance(ch["health"][k], int)


def test_original_text_client_session(server):
    """handshake (maxUpdateRate 1), guest TestWanderer, character_create
    TestHero, three method-less position steps 2 s apart aiming at z-10,
    -20, -30 (north to them), chat on say/shout/emote/cfh: no error, one
    chat event per line, dangerState a boolean and false near spawn."""
    async def go():
        c = await Client.connect(server.ws_url)
        await c.send("handshake", {"protocolVersion": "1.0.0", "clientType": "text",
                                   "clientVersion": "0.1.0", "capabilities": {
                                       "graphics": False, "audio": False,
                                       "input": ["keyboard"], "maxUpdateRate": 1}})
        ack = await c.expect("handshake_ack")
        assert ack["compatible"] is True
        assert ack["serverCapabilities"]["maxPlayers"] == 10000
        assert set(ack["serverCapabilities"]["features"]) >= {"proximity_roster", "movement",
                                                              "chat", "combat"}
        await c.send("auth", {"method": "guest", "guestName": "TestWanderer"})
        auth = await c.expect("auth_success")
        assert auth["characters"] == [] and auth["canCreateCharacter"] is True
        assert isinstance(auth["maxCharacters"], int) and auth["token"]
        await c.send("character_create", {"name": "TestHero", "appearance": {
            "description": "A mysterious figure shrouded in shadows."}})
        entry = await c.expect("world_entry")
        ch = entry["character"]
        check_character(ch)
        assert ch["name"] == "TestHero" and ch["currentSpeed"] == "stop"
        assert isinstance(entry["entities"], list) and isinstance(entry["exits"], list)
        for e in entry["entities"]:
            assert e["isAlive"] is True and isinstance(e["description"], str)
        for k in ("name", "description", "weather", "timeOfDay", "lighting", "contentRating"):
            assert k in entry["zone"]
        roster = await c.expect("proximity_roster")
        check_full_roster(roster)
        assert roster["dangerState"] is False  # spawn is safe
        x0, y0, z0 = (ch["position"][k] for k in ("x", "y", "z"))

        lines = [("say", "Hello, anyone nearby?"), ("shout", "Is anyone out there?!"),
                 ("emote", "looks around cautiously"),
                 ("cfh", "Testing emergency broadcast system!")]
        for i in range(3):
            await asyncio.sleep(2.0)
            await c.send("move", {"position": {"x": x0, "y": y0, "z": z0 - 10 * (i + 1)},
                                  "heading": 0, "speed": "walk"})
            await c.send("chat", {"channel": lines[i][0], "message": lines[i][1]})
        await c.send("chat", {"channel": lines[3][0], "message": lines[3][1]})
        await c.send("ping", {"timestamp": 42})
        pong = await c.expect("pong")
        assert pong["clientTimestamp"] == 42
        await c.drain(1.0)
        errors = [m for m in c.inbox if m["type"] == "error"]
        assert errors == [], errors
        chats = [m["payload"] for m in c.inbox if m["type"] == "chat"]
        assert [(m["channel"], m["message"]) for m in chats] == lines  # one event per line
        for m in chats:
            assert m["sender"] == "TestHero" and m["senderId"] == entry["entityId"]
            assert isinstance(m["timestamp"], int)
            assert m["content"] == m["message"] and m["senderName"] == m["sender"]
        assert not [m for m in c.inbox if m["type"] == "communication"]
        # each step was applied: the server agrees where we stand
        await c.close()
        c2 = await Client.connect(server.ws_url)
        await c2.handshake()
        await c2.send("auth", {"method": "token", "token": auth["token"]})
        a2 = await c2.expect("auth_success")
        assert len(a2["characters"]) == 1
        summary = a2["characters"][0]
        assert set(summary) == {"id", "name", "level", "lastPlayed", "location"}
        assert summary["name"] == "TestHero" and summary["level"] == 1
        assert isinstance(summary["lastPlayed"], int) and isinstance(summary["location"], str)
        await c2.send("character_select", {"characterId": a2["characters"][0]["id"]})
        e2 = await c2.expect("world_entry")
        assert e2["character"]["position"]["z"] == pytest.approx(z0 - 30)
        await c2.close()
    run(go())


def test_position_step_too_far_rejected(server):
    async def go():
        a = await enter_world(server, unique("Far"))
        p = a.entry["character"]["position"]
        await a.send("move", {"position": {"x": p["x"], "y": 0, "z": p["z"] - 60},
                              "speed": "walk"})
        err = await a.expect("error", pred=lambda e: e["code"] == "MOVE_REJECTED")
        assert err["position"] == p
        await a.close()
    run(go())


async def enter_graphical(server, name):
    """A 3d client: it gets state_update positions."""
    c = await Client.connect(server.ws_url)
    await c.send("handshake", {"protocolVersion": "1.0.0", "clientType": "3d",
                               "capabilities": {"graphics": True, "maxUpdateRate": 10}})
    await c.expect("handshake_ack")
    await c.guest(name)
    c.entry, c.roster = await c.create(name)
    return c


def test_walk_to_follow_and_state_update(server):
    async def go():
        a = await enter_world(server, unique("Wk"))
        b = await enter_graphical(server, unique("Wb"))
        p = a.entry["character"]["position"]
        # method "position" walks there and ends with movement_complete
        await a.send("move", {"method": "position", "speed": "run",
                              "position": {"x": p["x"] + 12, "y": 0, "z": p["z"] + 16}})
        ev = await a.expect("event", timeout=10,
                            pred=lambda e: e["eventType"] == "movement_complete")
        assert ev["reason"] == "target_reached"
        assert ev["position"]["x"] == pytest.approx(p["x"] + 12)
        assert ev["position"]["z"] == pytest.approx(p["z"] + 16)
        assert ev["narrative"] and isinstance(ev["timestamp"], int)
        # B (in see range) got A's absolute positions
        su = await b.expect("state_update", pred=lambda s: any(
            u["id"] == a.entry["entityId"] for u in s.get("entities", {}).get("updated", [])))
        u = [u for u in su["entities"]["updated"] if u["id"] == a.entry["entityId"]][0]
        assert u["name"] == a.entry["character"]["name"] and u["type"] == "player"
        assert set(u["position"]) == {"x", "y", "z"}

        # a new move ends the old one: reason command
        await a.send("move", {"method": "compass", "compass": "S", "speed": "walk"})
        await asyncio.sleep(0.3)
        await a.send("move", {"speed": "stop"})
        ev = await a.expect("event", pred=lambda e: e["eventType"] == "movement_complete")
        assert ev["reason"] == "command"

        # a heading move for a distance ends with distance_reached
        await a.send("move", {"heading": 90, "speed": "jog", "distance": 6})
        ev = await a.expect("event", pred=lambda e: e["eventType"] == "movement_complete")
        assert ev["reason"] == "distance_reached"

        # follow B to melee range
        await a.send("move", {"targetId": b.entry["entityId"], "range": "melee",
                              "speed": "run"})
        ev = await a.expect("event", timeout=10,
                            pred=lambda e: e["eventType"] == "movement_complete")
        assert ev["reason"] == "target_reached"
        bp = b.entry["character"]["position"]
        gap = ((ev["position"]["x"] - bp["x"]) ** 2 + (ev["position"]["z"] - bp["z"]) ** 2) ** .5
        assert gap <= 5.5
        # an unknown target is refused
        await a.send("move", {"targetId": "npc-999"})
        err = await a.expect("error", pred=lambda e: e["code"] == "TARGET_NOT_FOUND")
        assert err["severity"] == "warning"
        # A is a text client: rosters, no position stream
        assert not [m for m in a.inbox if m["type"] == "state_update"]
        await a.close()
        await b.close()
    run(go())


def test_proximity_refresh_and_communication_capability(server):
    async def go():
        a = await enter_world(server, unique("Rf"))
        await a.send("proximity_refresh", {})
        r = await a.expect("proximity_roster")
        check_full_roster(r)
        # a client that asks for the reference's `communication` name gets it, once per line
        c = await Client.connect(server.ws_url)
        await c.send("handshake", {"protocolVersion": "1.0.0", "clientType": "2d",
                                   "capabilities": {"maxUpdateRate": 5, "communication": True,
                                                    "isMachine": True}})
        await c.expect("handshake_ack")
        name = unique("Cm")
        await c.guest(name)
        centry, _ = await c.create(name)
        # its isMachine capability shows in others' rosters
        d = await a.expect("proximity_roster_delta", pred=lambda p: any(
            e["id"] == centry["entityId"]
            for e in p.get("channels", {}).get("cfh", {}).get("added", [])))
        added = [e for e in d["channels"]["cfh"]["added"] if e["id"] == centry["entityId"]][0]
        assert added["isMachine"] is True and added["isAlive"] is True
        await a.send("chat", {"channel": "say", "message": "both names"})
        m = await c.expect("communication", pred=lambda p: p["content"] == "both names")
        assert m["message"] == "both names" and m["sender"] == a.entry["character"]["name"]
        await c.drain(0.5)
        assert not [x for x in c.inbox if x["type"] == "chat"]
        await a.expect("chat", pred=lambda p: p["content"] == "both names")
        await a.close()
        await c.close()
    run(go())


def test_not_authenticated_code(server):
    async def go():
        c = await Client.connect(server.ws_url)
        await c.handshake()
        await c.send("move", {"speed": "stop"})
        err = await c.expect("error")
        assert err["code"] == "NOT_AUTHENTICATED"
        await c.close()
    run(go())


def test_api_shapes(server):
    async def go():
        a = await enter_world(server, unique("Api"))
        await asyncio.sleep(1.5)  # a heartbeat with the player in it
        _, body = http_get(server.port, "/api/info")
        info = json.loads(body)
        assert isinstance(info["zones"], int) and info["zones"] >= 1
        assert isinstance(info["servers"], int) and info["servers"] >= 1
        assert info["zoneDetails"]["zone-crossroads"]["players"] == 1
        assert isinstance(info["serverDetails"], list)
        _, body = http_get(server.port, "/api/zones")
        zones = {z["zoneId"]: z for z in json.loads(body)["zones"]}
        cr = zones["zone-crossroads"]
        assert cr["serverId"] == "server-1" and cr["serverHost"] == "127.0.0.1"
        assert isinstance(cr["assignedAt"], int) and cr["assignedAt"] > 0
        _, body = http_get(server.port, "/api/servers")
        servers = json.loads(body)["servers"]
        assert servers and all(s["alive"] is True for s in servers)
        await a.close()
    run(go())
