"""Issue: Failover. A zone server dies and players keep playing on their
sockets; a gateway dies and players resume by token."""
import asyncio
import json
import signal
import time

import pytest

from cluster import Services, role
from conftest import Client, enter_world, unique


def run(coro):
    return asyncio.run(coro)


async def hear(speaker, listener, text, timeout=30):
    """Speaker says `text` once a second until the listener hears it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        await speaker.send("chat", {"channel": "say", "message": text})
        try:
            return await listener.expect("chat", timeout=1,
                                         pred=lambda p: p["content"] == text)
        except AssertionError:
            pass
    raise AssertionError(f"{text!r} not heard within {timeout}s")


def test_zone_server_killed_standby_takes_over_then_gateway_killed():
    svc = Services()
    procs = []
    try:
        z1 = role(svc, "zone", "zone-1", ASSIGNED_ZONES="zone-crossroads", SAVE_INTERVAL_MS=500)
        z3 = role(svc, "zone", "zone-3", ZONE_STANDBY=1, SAVE_INTERVAL_MS=500)
        g1 = role(svc, "gateway", "gateway-1")
        g2 = role(svc, "gateway", "gateway-2")
        procs = [z1, z3, g1, g2]

        async def go():
            anna = await enter_world(g1, unique("Anna"))
            bram = await enter_world(g2, unique("Bram"))
            await hear(anna, bram, "hello before")
            t0 = time.time()
            z1.stop(sig=signal.SIGKILL)
            # players keep their sockets and are told what is happening
            ev = await bram.expect("event", timeout=30,
                                   pred=lambda p: p["eventType"] == "zone_recovering")
            assert ev["zoneId"] == "zone-crossroads"
            await anna.send("move", {"method": "compass", "compass": "E", "speed": "walk"})
            err = await anna.expect("error", timeout=5,
                                    pred=lambda p: p["code"] == "ZONE_UNAVAILABLE")
            assert err["severity"] == "warning"
            await bram.expect("event", timeout=30,
                              pred=lambda p: p["eventType"] == "zone_recovered")
            took = time.time() - t0
            assert svc.redis.get("zone:assignment:zone-crossroads") == "zone-3"
            assert took <= 30, took
            await bram.expect("proximity_roster", timeout=5)
            heard = await hear(anna, bram, "hello after takeover")
            assert heard["senderName"] == anna.entry["character"]["name"]

            # gateway-1 dies: Anna resumes on gateway-2 with her token
            token, cid = anna.token, anna.entry["characterId"]
            g1.stop(sig=signal.SIGKILL)
            anna2 = await Client.connect(g2.ws_url)
            await anna2.handshake()
            await anna2.send("auth", {"method": "token", "token": token})
            await anna2.expect("auth_success")
            await anna2.send("character_select", {"characterId": cid})
            entry = await anna2.expect("world_entry")
            assert entry["zone"]["id"] == "zone-crossroads"
            await hear(bram, anna2, "welcome back")
            # one entity for Anna in Bram's view, not two
            await asyncio.sleep(0.5)
            anna_id = entry["entityId"]
            entries = [m for m in bram.inbox if m["type"] == "proximity_roster"]
            assert entries, "Bram got a full roster after the takeover"
            ids = [e["id"] for e in entries[-1]["payload"]["channels"]["see"]["entities"]]
            assert ids.count(anna_id) <= 1
            await bram.send("ping", {"timestamp": 1})
            await bram.expect("pong")
            await anna2.close()
            await bram.close()
            return took

        took = run(go())
        print(f"takeover took {took:.1f}s")
    finally:
        for p in procs:
            p.stop()
        svc.stop()


def test_sigterm_hands_zone_over_and_same_character_twice():
    svc = Services()
    procs = []
    try:
        z1 = role(svc, "zone", "zone-1", ASSIGNED_ZONES="zone-crossroads")
        z3 = role(svc, "zone", "zone-3", ZONE_STANDBY=1)
        g1 = role(svc, "gateway", "gateway-1")
        g2 = role(svc, "gateway", "gateway-2")
        procs = [z1, z3, g1, g2]

        async def go():
            a = await enter_world(g1, unique("Ta"))
            # the same character from another gateway takes over
            a2 = await Client.connect(g2.ws_url)
            await a2.handshake()
            await a2.send("auth", {"method": "token", "token": a.token})
            await a2.expect("auth_success")
            await a2.send("character_select", {"characterId": a.entry["characterId"]})
            await a2.expect("world_entry")
            err = await a.expect("error", timeout=5,
                                 pred=lambda p: p["code"] == "CHARACTER_TAKEN_OVER")
            assert err["severity"] == "fatal"
            await asyncio.sleep(2.5)  # the standby has scanned and seen zone-1 host the zone
            t0 = time.time()
            assert z1.stop() == 0  # SIGTERM: snapshot, release, exit 0
            await a2.expect("event", timeout=20, pred=lambda p: p["eventType"] == "zone_recovered")
            assert svc.redis.get("zone:assignment:zone-crossroads") == "zone-3"
            await a2.send("ping", {"timestamp": 5})
            await a2.expect("pong")
            await a2.close()
            return time.time() - t0
        took = run(go())
        assert took < 10, f"SIGTERM handover took {took:.1f}s"
    finally:
        for p in procs:
            p.stop()
        svc.stop()
