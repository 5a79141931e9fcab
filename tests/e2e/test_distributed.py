"""Issue: Distributed mode. Gateways and zone servers over real Redis and
PostgreSQL, with the seed's keys and channels."""
import asyncio
import json
import time

import pytest

from cluster import Services, role
from conftest import Client, enter_world, http_get, unique


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def cluster():
    svc = Services()
    z1 = role(svc, "zone", "zone-1", ASSIGNED_ZONES="zone-crossroads")
    z2 = role(svc, "zone", "zone-2", ASSIGNED_ZONES="zone-forest,zone-city")
    g1 = role(svc, "gateway", "gateway-1")
    g2 = role(svc, "gateway", "gateway-2")
    yield svc, z1, z2, g1, g2
    codes = [p.stop() for p in (g1, g2, z1, z2)]
    svc.stop()
    assert codes == [0, 0, 0, 0], [p.logs() for p in (g1, g2, z1, z2)]


def wait_for(pred, timeout=10, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def test_registry_keys_and_api(cluster):
    svc, z1, z2, g1, g2 = cluster
    r = svc.redis
    assert r.get("zone:assignment:zone-crossroads") == "zone-1"
    assert r.get("zone:assignment:zone-forest") == "zone-2"
    assert r.get("zone:assignment:zone-city") == "zone-2"
    ttl = r.ttl("server:heartbeat:zone-1")
    assert 1 <= ttl <= 15
    hb = json.loads(r.get("server:heartbeat:zone-1"))
    assert hb["type"] == "zone" and "zone-crossroads" in hb["zones"]
    assert wait_for(lambda: r.get("server:heartbeat:gateway-1"))
    _, body = http_get(g1.port, "/api/zones")
    zones = {z["zoneId"]: z["serverId"] for z in json.loads(body)["zones"]}
    assert zones["zone-crossroads"] == "zone-1" and zones["zone-forest"] == "zone-2"

    def servers():
        _, b = http_get(g2.port, "/api/servers")
        return {s["serverId"]: s for s in json.loads(b)["servers"]}
    s = wait_for(lambda: len(servers()) >= 4 and servers())
    assert s["zone-1"]["type"] == "zone" and s["gateway-1"]["type"] == "gateway"
    _, body = http_get(z1.port, "/health")
    h = json.loads(body)
    assert h["type"] == "zone" and h["serverId"] == "zone-1" and h["connected"] is True
    _, body = http_get(z1.port, "/metrics")
    assert "wod_zone_tick_ms_bucket" in body and 'wod_zone_players{zone="zone-crossroads"}' in body
    _, body = http_get(g1.port, "/health")
    assert json.loads(body)["type"] == "gateway"


def test_cross_server_border_and_shout(cluster):
    svc, z1, z2, g1, g2 = cluster
    r = svc.redis

    async def go():
        runner = await enter_world(g1, unique("Run"))
        shouter = await enter_world(g2, unique("Sho"))
        cid = runner.entry["characterId"]
        loc = json.loads(wait_for(lambda: r.get(f"player:location:{cid}")))
        assert loc["zone"] == "zone-crossroads" and loc["zoneServer"] == "zone-1"
        assert loc["gateway"] == "gateway-1"
        ttl = r.ttl(f"player:location:{cid}")  # expires unless the zone server refreshes it
        assert 1 <= ttl <= 120
        await runner.send("move", {"method": "compass", "compass": "N", "speed": "run"})
        upd = await runner.expect("state_update", timeout=10, pred=lambda p: "zone" in p)
        assert upd["zone"]["id"] == "zone-forest"
        await runner.send("move", {"method": "heading", "heading": 0, "speed": "stop"})
        loc = json.loads(wait_for(
            lambda: (v := r.get(f"player:location:{cid}")) and "zone-forest" in v and v))
        assert loc["zoneServer"] == "zone-2"
        await asyncio.sleep(0.3)
        await shouter.send("chat", {"channel": "shout", "message": "across"})
        m = await runner.expect("chat", pred=lambda p: p["content"] == "across")
        assert m["channel"] == "shout" and 100 <= m["distance"] <= 150
        # world and whisper chat reach players on the other gateway
        await runner.send("chat", {"channel": "world", "message": "hi all"})
        await shouter.expect("chat", pred=lambda p: p["content"] == "hi all")
        await shouter.send("chat", {"channel": "whisper", "message": "psst",
                                    "target": runner.entry["character"]["name"]})
        await runner.expect("chat", pred=lambda p: p["content"] == "psst")
        await runner.close()
        await shouter.close()
    run(go())


def test_redis_restart_during_play(cluster):
    svc, z1, z2, g1, g2 = cluster

    async def go():
        a = await enter_world(g1, unique("Rr"))
        b = await enter_world(g2, unique("Rs"))
        await a.send("chat", {"channel": "say", "message": "before"})
        await b.expect("chat", pred=lambda p: p["content"] == "before")
        svc.restart_redis(down_seconds=1.0)
        # everyone reconnects, re-subscribes and re-registers
        assert wait_for(lambda: svc.redis.get("zone:assignment:zone-crossroads") == "zone-1", 15)
        assert wait_for(lambda: svc.redis.ttl("server:heartbeat:zone-1") > 0, 15)
        deadline = time.time() + 15
        heard = False
        while time.time() < deadline and not heard:
            await a.send("chat", {"channel": "say", "message": "after"})
            try:
                await b.expect("chat", timeout=1, pred=lambda p: p["content"] == "after")
                heard = True
            except AssertionError:
                pass
        assert heard, "chat did not flow again after the Redis restart"
        # both get a full roster again after the outage
        assert [m for m in b.inbox[-50:] if m["type"] == "proximity_roster"], \
            "no full roster after the Redis restart"
        await a.close()
        await b.close()
    run(go())


def test_postgres_restart_during_play(cluster):
    svc, z1, z2, g1, g2 = cluster

    async def go():
        a = await enter_world(g1, unique("Pg"))
        await a.send("move", {"position": {"x": 104, "y": 0, "z": 100}})
        await asyncio.sleep(0.5)
        await a.close()  # logout saves the position
        await asyncio.sleep(0.5)
        svc.restart_postgres(down_seconds=1.0)
        # after the restart the store reconnects: accounts, characters, tokens all work
        b = await enter_world(g2, unique("Pgb"))
        c = await Client.connect(g1.ws_url)
        await c.handshake()
        await c.send("auth", {"method": "token", "token": a.token})
        ok = await c.expect("auth_success")
        assert [x["id"] for x in ok["characters"]] == [a.entry["characterId"]]
        await c.send("character_select", {"characterId": a.entry["characterId"]})
        entry = await c.expect("world_entry")
        assert abs(entry["character"]["position"]["x"] - 104) < 1
        await b.close()
        await c.close()
    run(go())


def test_redis_cuts_subscribers(cluster):
    """Redis disconnects subscribers whose output buffer overflows; every
    process notices, resubscribes, and players get full rosters again."""
    svc, z1, z2, g1, g2 = cluster

    async def go():
        a = await enter_world(g1, unique("Ca"))
        b = await enter_world(g2, unique("Cb"))
        await asyncio.sleep(0.3)
        before = len([m for m in b.inbox if m["type"] == "proximity_roster"])
        killed = svc.redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        assert killed >= 4  # 2 gateways + 2 zone servers
        await b.expect("proximity_roster", timeout=10)
        assert len([m for m in b.inbox if m["type"] == "proximity_roster"]) > before
        deadline = time.time() + 10
        while time.time() < deadline:
            await a.send("chat", {"channel": "say", "message": "still here"})
            try:
                await b.expect("chat", timeout=1, pred=lambda p: p["content"] == "still here")
                break
            except AssertionError:
                pass
        else:
            raise AssertionError("chat did not recover")
        await a.close()
        await b.close()
    run(go())


def crossings_held(z):
    _, body = http_get(z.port, "/metrics")
    for line in body.splitlines():
        if line.startswith("wod_zone_crossings_held_total "):
            return int(line.split()[1])
    raise AssertionError("no wod_zone_crossings_held_total in /metrics")


def test_border_holds_while_redis_is_down(cluster):
    """A player who reaches a border into another server's zone while the bus
    is down stays in her zone (the handover would be lost) and crosses once
    Redis is back."""
    svc, z1, z2, g1, g2 = cluster

    async def go():
        runner = await enter_world(g1, unique("Hold"))
        held0 = crossings_held(z1)
        await runner.send("move", {"method": "compass", "compass": "N", "speed": "run"})
        await asyncio.sleep(0.5)  # the move reaches zone-1 before Redis goes
        outage = asyncio.create_task(asyncio.to_thread(svc.restart_redis, down_seconds=12.0))
        # she runs north from the spawn and meets the border while Redis is down
        assert await asyncio.to_thread(wait_for, lambda: crossings_held(z1) > held0, 12), \
            "nobody was held at the border while Redis was down"
        _, body = http_get(z1.port, "/metrics")
        assert 'wod_zone_players{zone="zone-crossroads"}' in body
        await outage
        upd = await runner.expect("state_update", timeout=30, pred=lambda p: "zone" in p)
        assert upd["zone"]["id"] == "zone-forest"
        assert "held at the border to zone-forest" in z1.logs()
        await runner.close()
    run(go())
