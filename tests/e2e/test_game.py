"""Issue 13: the zone servers run a game. Slash commands, ATB combat against a
hostile NPC seen by a bystander within 150 ft and not by a player farther
away, a potion, and HP and inventory surviving a SIGTERM and restart.
RNG_SEED is pinned (docs/GAME.md)."""
import asyncio
import math
import os

import pytest

from conftest import Client, Server, enter_world, unique

COMBAT = {"combat_start", "combat_action", "combat_hit", "combat_miss", "combat_death",
          "combat_end"}


def run(coro):
    return asyncio.run(coro)


async def command(c, line, as_chat=False, timeout=5):
    """Sends a command line; returns its command_response payload."""
    if as_chat:
        await c.send("chat", {"channel": "say", "message": line})
    else:
        await c.send("command", {"command": line})
    return await c.expect("command_response", timeout=timeout,
                          pred=lambda p: p["command"] == line)


async def where(c, name):
    """Position of a named entity (or oneself) via /look."""
    r = await command(c, f'/look "{name}"')
    assert r["success"], r
    p = r["data"]["position"]
    return p["x"], p["z"]


async def walk_to(c, me, x, z, stop_within=0.5, timeout=40):
    """Runs to (x, z) by position moves of at most 20 ft each (the server
    accepts a second of running per move), checking with /look."""
    deadline = asyncio.get_event_loop().time() + timeout
    while True:
        px, pz = await where(c, me)
        d = math.hypot(x - px, z - pz)
        if d <= stop_within:
            return px, pz
        assert asyncio.get_event_loop().time() < deadline, (px, pz, x, z)
        step = min(20.0, d)
        nx, nz = px + (x - px) * step / d, pz + (z - pz) * step / d
        await c.send("move", {"method": "position", "speed": "run",
                              "position": {"x": nx, "y": 0, "z": nz}})
        await asyncio.sleep(0.1)


async def keep_reading(stop, *clients):
    """Reads for idle clients (into their inboxes) until `stop` is set, so a
    long fight does not stall their connections (the websockets client
    stops reading, pongs included, once 32 messages wait). A flag, not
    task cancellation: Python 3.11's wait_for can swallow a cancel."""
    while not stop.is_set():
        for c in clients:
            await c.drain(0.2)


def events(c, kinds):
    return [m["payload"] for m in c.inbox
            if m["type"] == "event" and m["payload"].get("eventType") in kinds]


PG_URL = os.environ.get("WOD_TEST_PG_URL")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_fight_potion_and_persistence(backend):
    env = {"RNG_SEED": "7", "RESPAWN_DELAY_MS": "3000"}
    if backend == "postgres":
        if not PG_URL:
            pytest.skip("set WOD_TEST_PG_URL to run against PostgreSQL")
        env["DATABASE_URL"] = PG_URL
    srv = Server(env=env).start()
    try:
        async def part1():
            fname, bname, cname = unique("Fi"), unique("By"), unique("Fa")
            f = await enter_world(srv, fname)
            # a hostile creature within sight of the spawn point
            hostiles = [e for e in f.entry["entities"] if e.get("hostile")]
            assert hostiles, f.entry["entities"]
            foe = hostiles[0]
            fid = foe["id"]

            # the informational commands answer (the `command` message, a string
            # payload and a chat line starting with '/')
            r = await command(f, "/help")
            assert r["success"] and len(r["data"]["commands"]) >= 19
            assert {"look", "attack", "cast", "use", "who"} <= {x["name"] for x in r["data"]["commands"]}
            await f.send("command", "/stats")
            r = await f.expect("command_response", pred=lambda p: p["command"] == "/stats")
            assert r["success"] and r["data"]["health"]["max"] == 205
            assert r["data"]["derivedStats"]["attackRating"] == 33  # the Rusty Sword
            r = await command(f, "/inventory", as_chat=True)
            inv = {i["itemId"]: i for i in r["data"]["items"]}
            assert inv["rusty_sword"]["equipped"] and inv["health_potion"]["quantity"] == 5
            r = await command(f, "/look")
            assert r["success"] and r["data"]["zone"]["id"] == "zone-crossroads"
            assert fid in {e["id"] for e in r["data"]["entities"]}
            r = await command(f, "/lok")
            assert not r["success"] and "/look" in r["error"]
            r = await command(f, "/use health potion")  # full health: refused
            assert not r["success"] and "full" in r["error"]
            r = await command(f, "/attack " + fid)  # too far away yet
            assert not r["success"] and "range" in r["error"]
            merchant = [e for e in f.entry["entities"] if e.get("interactive") and not e.get("hostile")]
            if merchant:
                r = await command(f, "/attack " + merchant[0]["id"])
                assert not r["success"] and "not hostile" in r["error"]

            # the bystander stands 40 ft from the creature, the far one in the
            # zone's corner farthest from it (more than 150 ft away)
            gx, gz = await where(f, fid)
            b = await enter_world(srv, bname)
            far = await enter_world(srv, cname)
            corner = max([(5, 5), (5, 195), (195, 5), (195, 195)],
                         key=lambda p: math.hypot(p[0] - gx, p[1] - gz))
            await walk_to(far, cname, *corner)
            d0 = math.hypot(100 - gx, 100 - gz)
            bx, bz = gx + (100 - gx) * 40 / d0, gz + (100 - gz) * 40 / d0
            await walk_to(b, bname, bx, bz)
            cx, cz = await where(far, cname)
            stop_reading = asyncio.Event()
            reader = asyncio.ensure_future(keep_reading(stop_reading, b, far))

            # the fighter closes in (the creature wanders until the fight starts)
            for _ in range(20):
                gx, gz = await where(f, fid)
                px, pz = await where(f, fname)
                if math.hypot(gx - px, gz - pz) <= 6:
                    r = await command(f, "/attack " + fid)
                    if r["success"]:
                        break
                await walk_to(f, fname, gx + 2, gz, stop_within=1.0)
            assert r["success"], r
            gx, gz = await where(f, fid)
            assert math.hypot(cx - gx, cz - gz) > 150

            # auto-attacks until the creature dies (it hits back meanwhile)
            death = await f.expect("event", timeout=120,
                                   pred=lambda p: p["eventType"] == "combat_death"
                                   and p["targetId"] == fid)
            assert death["narrative"]
            stop_reading.set()
            await reader
            st = [m["payload"] for m in f.inbox if m["type"] == "state_update"
                  and "combat" in m["payload"]]
            assert st and st[0]["combat"]["atb"]["max"] == 200
            assert any(s["combat"]["inCombat"] for s in st)

            # right after the kill (still in combat: no regeneration) drink a potion
            r = await command(f, "/stats")
            hp = r["data"]["health"]["current"]
            if hp >= 205:  # never hit: nothing to heal; the potion is refused
                r = await command(f, "/use health potion")
                assert not r["success"]
            else:
                r = await command(f, "/use health potion")
                assert r["success"], r
                assert r["data"]["value"] == min(50, 205 - hp)
                hp = r["data"]["current"]
                assert hp == min(205, hp)
            r = await command(f, "/inventory")
            inv = {i["itemId"]: i["quantity"] for i in r["data"]["items"]}
            assert inv.get("health_potion", 0) >= 4

            # the bystander saw the fight, the far player did not
            await b.drain(0.5)
            await far.drain(0.5)
            seen = events(b, COMBAT)
            assert {"combat_action", "combat_death"} <= {e["eventType"] for e in seen}, seen
            assert any(e["eventType"] in ("combat_hit", "combat_miss") for e in seen)
            assert not events(far, COMBAT), events(far, COMBAT)
            token, cid = f.token, f.entry["characterId"]
            for c in (f, b, far):
                await c.close()
            return token, cid, hp, inv

        token, cid, hp, inv = run(part1())
        assert srv.stop() == 0, srv.logs()
        srv2 = Server(datadir=srv.datadir, env=env).start()
        try:
            async def part2():
                c = await Client.connect(srv2.ws_url)
                await c.handshake()
                await c.send("auth", {"method": "token", "token": token})
                await c.expect("auth_success")
                await c.send("character_select", {"characterId": cid})
                entry = await c.expect("world_entry")
                assert entry["character"]["health"]["current"] == hp
                assert entry["character"]["isAlive"] is True
                r = await command(c, "/inventory")
                got = {i["itemId"]: i["quantity"] for i in r["data"]["items"]}
                assert got == inv
                await c.close()
            run(part2())
        finally:
            assert srv2.stop() == 0, srv2.logs()
    finally:
        srv.stop()


def test_bad_commands_never_crash():
    srv = Server(env={"RNG_SEED": "3"}).start()
    try:
        async def go():
            c = await enter_world(srv, unique("Bc"))
            for line in ["/", "/?", "/attack", "/attack nobody", "/cast", "/cast fireball x",
                         "/use", "/use unobtainium", "/equip", "/unequip nothing", "/tell",
                         "/move to:", "/move to:1e999,5", "/move heading:-5", "/move 999999999ft north",
                         "/say " + "x" * 600, "/disengage", "/look \"", "/help nope",
                         "/stats extra words", "/" + "a" * 40]:
                r = await command(c, line)
                assert isinstance(r["success"], bool)
                if line not in ("/stats extra words", "/look \""):
                    assert not r["success"], (line, r)
                    assert r["error"]
            # a nested object is not a command
            await c.send("command", {"command": {"type": "x"}})
            e = await c.expect("error")
            assert e["code"] == "EMPTY_COMMAND"
            # still alive and well
            r = await command(c, "/who")
            assert r["success"] and len(r["data"]["players"]) == 1
            await c.close()
        run(go())
    finally:
        assert srv.stop() == 0, srv.logs()


def test_socketio_command_string_payload():
    """`42["command","/who"]`: the original clients' form, a bare string."""
    import socketio
    srv = Server(env={"RNG_SEED": "5"}).start()
    try:
        async def go():
            sio = socketio.AsyncClient(reconnection=False)
            got = asyncio.Queue()
            sio.on("*", lambda event, data=None: got.put_nowait((event, data)))

            async def expect(name):
                while True:
                    event, data = await asyncio.wait_for(got.get(), 5)
                    if event == name:
                        return data
            await sio.connect(f"http://127.0.0.1:{srv.port}", transports=["websocket"])
            await sio.emit("handshake", {"protocolVersion": "1.0.0", "clientType": "text",
                                         "clientVersion": "py", "capabilities": {}})
            await expect("handshake_ack")
            await sio.emit("auth", {"method": "guest", "guestName": "Sio"})
            await expect("auth_success")
            await sio.emit("character_create", {"name": unique("Sc"),
                                                "appearance": {"description": "x"}})
            await expect("world_entry")
            await sio.emit("command", "/who")
            r = await expect("command_response")
            assert r["success"] and r["command"] == "/who"
            assert len(r["data"]["players"]) == 1
            await sio.disconnect()
        run(go())
    finally:
        assert srv.stop() == 0, srv.logs()


COMMANDS = {"look", "listen", "sense", "help", "stats", "inventory", "move", "stop", "say", "shout",
            "emote", "tell", "attack", "cast", "disengage", "use", "equip", "unequip", "who"}


def test_new_player_walks_fights_flees_dies_and_rises():
    """Issue 13's path in `wod-server all`: a new guest walks to the merchant
    and to a rat by name, kills the rat, drinks a potion, is bitten by the
    Rabid Dog (aggro 30 ft at (30,0,30)), outruns it (it gives up at its
    leash), lets it bite until it dies, and rises at the spawn point."""
    srv = Server(env={"RNG_SEED": "11", "RESPAWN_DELAY_MS": "3000"}).start()
    try:
        async def go():
            name = unique("Nw")
            c = await enter_world(srv, name)
            me = c.entry["entityId"]
            ents = c.entry["entities"]
            merchant = [e for e in ents if e["name"] == "Old Merchant"][0]
            dog = [e for e in ents if e["name"] == "Rabid Dog"][0]

            r = await command(c, "/help")
            assert r["success"] and {x["name"] for x in r["data"]["commands"]} == COMMANDS

            # /move to:<name> walks there (MOVE_FOLLOW) and ends with movement_complete
            r = await command(c, "/move to:Old Merchant")
            assert r["success"], r
            assert r["data"]["method"] == "follow" and r["data"]["targetId"] == merchant["id"]
            ev = await c.expect("event", timeout=20,
                                pred=lambda p: p["eventType"] == "movement_complete")
            assert ev["reason"] == "target_reached", ev
            mx, mz = await where(c, merchant["id"])
            px, pz = await where(c, name)
            assert math.hypot(mx - px, mz - pz) <= 6.0

            # to the nearest rat, and at it until it dies (it bites back)
            rat = min((e for e in ents if e["name"] == "Rat"),
                      key=lambda e: math.hypot(e["position"]["x"] - px, e["position"]["z"] - pz))
            for _ in range(10):
                r = await command(c, f"/move to:{rat['id']} range:melee run")
                assert r["success"], r
                await c.expect("event", timeout=20,
                               pred=lambda p: p["eventType"] == "movement_complete")
                r = await command(c, "/attack " + rat["id"])
                if r["success"]:
                    break
            assert r["success"], r
            death = await c.expect("event", timeout=120,
                                   pred=lambda p: p["eventType"] == "combat_death"
                                   and p["targetId"] == rat["id"])
            assert death["attackerId"] == me
            fight = events(c, COMBAT)
            assert any(e["eventType"] == "combat_action" and e["attackerId"] == me for e in fight)
            assert any(e["eventType"] in ("combat_hit", "combat_miss") for e in fight)

            # a potion: drunk if hurt, refused at full health; either way found by "potion"
            st = (await command(c, "/stats"))["data"]["health"]
            r = await command(c, "/use potion")
            if st["current"] < st["max"]:
                assert r["success"], r
            else:
                assert not r["success"] and "full" in r["error"], r

            # near the dog's corner: it notices, runs over and bites
            r = await command(c, "/move to:52,52 run")
            assert r["success"], r
            bite = await c.expect("event", timeout=40,
                                  pred=lambda p: p["eventType"] in ("combat_hit", "combat_miss")
                                  and p["attackerId"] == dog["id"])
            assert bite["targetId"] == me
            assert any(m["type"] == "proximity_roster_delta"
                       and m["payload"].get("dangerState") is True for m in c.inbox)
            # run for it: the dog chases, gives up at its leash and goes home
            r = await command(c, "/move to:115,115 run")  # past its leash, within sight
            assert r["success"], r
            await c.expect("event", timeout=30,
                           pred=lambda p: p["eventType"] == "movement_complete")
            home = 99.0
            for _ in range(40):
                dx, dz = await where(c, dog["id"])
                home = math.hypot(dx - 30, dz - 30)
                if home <= 15:
                    break
                await asyncio.sleep(0.5)
            assert home <= 15, (dx, dz)
            c.inbox.clear()
            await c.drain(4.0)
            assert not [m for m in c.inbox if m["type"] == "event"
                        and m["payload"].get("attackerId") == dog["id"]]

            # back to it, and stand there: it bites until we die; we rise at spawn
            r = await command(c, f"/move to:{dog['id']} range:melee run")
            assert r["success"], r
            died = await c.expect("event", timeout=300,
                                  pred=lambda p: p["eventType"] == "combat_death"
                                  and p["targetId"] == me)
            assert died["attackerId"] == dog["id"] and died["respawnInMs"] == 3000
            r = await command(c, "/move north")
            assert not r["success"] and "dead" in r["error"]
            rose = await c.expect("event", timeout=30,
                                  pred=lambda p: p["eventType"] == "respawn")
            assert rose["position"]["x"] == 100 and rose["position"]["z"] == 100
            r = await command(c, "/stats")
            assert r["data"]["health"]["current"] == r["data"]["health"]["max"]
            await c.close()
        run(go())
    finally:
        assert srv.stop() == 0, srv.logs()
