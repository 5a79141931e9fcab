"""Issue 16: the compact roster encoding (capabilities.encoding "compact"):
binary frames on /ws, decoded with compact_codec.py (a decoder written from
docs/PROTOCOL.md), checked against what JSON clients are told."""
import asyncio
import json
import time

import pytest
import websockets

from compact_codec import CompactView, FULL
from conftest import Client, Server, enter_world, unique


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def quiet():
    s = Server(env={"NPCS": "0"}).start()
    yield s
    assert s.stop() == 0, s.logs()


class CompactClient(Client):
    """A native client that asked for the compact encoding: binary frames
    go to self.view (every one must decode); JSON ones to the inbox."""

    def __init__(self, ws):
        super().__init__(ws)
        self.view = CompactView()
        self.binary_frames = 0

    async def recv_any(self, timeout=5):
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        if isinstance(raw, bytes):
            kind, _ = self.view.apply(raw)
            self.binary_frames += 1
            msg = {"type": "compact", "payload": {"kind": kind}}
        else:
            msg = json.loads(raw)
        self.inbox.append(msg)
        return msg

    async def until(self, pred, timeout=5, what="condition"):
        """Reads frames until pred(self.view) holds."""
        deadline = time.monotonic() + timeout
        while not pred(self.view):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            try:
                await self.recv_any(left)
            except asyncio.TimeoutError:
                pass


async def enter_compact(server, name, rate=20):
    c = await CompactClient.connect(server.ws_url)
    await c.send("handshake", {"protocolVersion": "1.0.0", "clientType": "2d",
                               "clientVersion": "e2e-compact",
                               "capabilities": {"maxUpdateRate": rate, "encoding": "compact"}})
    ack = await c.expect("handshake_ack")
    assert ack["encoding"] == "compact"
    auth = await c.guest(name)
    c.token = auth["token"]
    await c.send("character_create", {"name": name, "appearance": {"description": "e2e"}})
    c.entry = await c.expect("world_entry")
    # the first frame after world_entry is a full compact frame (at most
    # the entry roster comes as JSON before it)
    await c.expect("compact", pred=lambda p: p["kind"] == FULL)
    return c


async def walk_to(c, x, z):
    await c.send("move", {"position": {"x": x, "y": 0, "z": z}, "speed": "run"})
    await asyncio.sleep(0.15)


def test_compact_view_matches_json_rosters(quiet):
    async def go():
        a = await enter_compact(quiet, unique("Ca"))
        pos = a.entry["character"]["position"]
        assert a.view.self_pos == [round(pos["x"] * 10), round(pos["y"] * 10), round(pos["z"] * 10)]
        assert a.view.count == [0, 0, 0, 0] and not a.view.view
        b = await enter_world(quiet, unique("Cb"))
        bid = b.entry["entityId"]
        # b appears with a definition (id, name, type) and its position
        await a.until(lambda v: v.position(bid), what="b in a's view")
        d = a.view.defs[a.view.sid_of(bid)]
        assert d["name"] == b.entry["character"]["name"] and d["type"] == "player"
        assert d["isMachine"] is False
        bp = b.entry["character"]["position"]
        assert a.view.position(bid) == pytest.approx((bp["x"], bp["y"], bp["z"]), abs=0.051)
        # b walks 12 ft east in steps: a sees it arrive (near: every change)
        for x in (bp["x"] + 4, bp["x"] + 8, bp["x"] + 12):
            await walk_to(b, x, bp["z"])
        await a.until(lambda v: abs(v.position(bid)[0] - (bp["x"] + 12)) < 0.051,
                      what="b's move")
        # the decoded roster says what b's JSON roster says about a, mirrored
        await b.send("proximity_refresh", {})
        jr = await b.expect("proximity_roster")
        cr = a.view.roster()
        for ch in ("touch", "say", "shout", "emote", "see", "hear", "cfh"):
            assert cr["channels"][ch]["count"] == jr["channels"][ch]["count"], ch
        ja = [e for e in jr["channels"]["cfh"]["entities"] if e["id"] == a.entry["entityId"]][0]
        cb = [e for e in cr["channels"]["cfh"]["entities"] if e["id"] == bid][0]
        assert cb["range"] == pytest.approx(ja["range"], abs=0.15)
        assert (cb["bearing"] - ja["bearing"] - 180) % 360 == pytest.approx(0, abs=0.2) or \
            (cb["bearing"] - ja["bearing"] + 180) % 360 == pytest.approx(0, abs=0.2)
        assert cr["channels"]["cfh"]["sample"] == [b.entry["character"]["name"]]
        # a speaker shows up as lastSpeaker while count <= 3
        await b.send("chat", {"channel": "say", "message": "hello compact"})
        await a.expect("chat", pred=lambda p: p["content"] == "hello compact")
        await a.until(lambda v: v.roster()["channels"]["say"].get("lastSpeaker")
                      == b.entry["character"]["name"], what="lastSpeaker")
        # a moves: SELF follows
        await walk_to(a, pos["x"] - 5, pos["z"])
        await a.until(lambda v: v.self_pos[0] == round((pos["x"] - 5) * 10), what="SELF")
        assert a.binary_frames >= 3
        # proximity_refresh: a full frame, after which the view is the same
        before = {d["id"] for sid, d in a.view.defs.items() if sid in a.view.view}
        await a.send("proximity_refresh", {})
        await a.expect("compact", pred=lambda p: p["kind"] == FULL)
        assert {d["id"] for sid, d in a.view.defs.items() if sid in a.view.view} == before
        assert a.view.position(bid) is not None
        await a.close()
        await b.close()
    run(go())


def test_ids_are_reused_and_removes_are_sent(quiet):
    async def go():
        a = await enter_compact(quiet, unique("Ia"))
        bname = unique("Ib")
        b = await enter_world(quiet, bname)
        bid = b.entry["entityId"]
        await a.until(lambda v: v.position(bid), what="b in view")
        sid = a.view.sid_of(bid)
        await b.close()
        await a.until(lambda v: v.position(bid) is None, what="b removed")
        # b comes back (token login, same character): the same small id,
        # and no second definition
        b2 = await Client.connect(quiet.ws_url)
        await b2.handshake()
        await b2.send("auth", {"method": "token", "token": b.token})
        await b2.expect("auth_success")
        await b2.send("character_select", {"characterId": b.entry["characterId"]})
        await b2.expect("world_entry")
        frames_before = len(a.view.log)
        await a.until(lambda v: v.position(bid), what="b back in view")
        recs = [r for _, rs in a.view.log[frames_before:] for r in rs]
        assert ("add", sid) in recs
        assert not [r for r in recs if r[0] == "def"], recs
        await b2.close()
        await a.close()
    run(go())


def test_json_clients_unchanged_and_socketio_stays_json(quiet):
    async def go():
        # a JSON client is told so and gets JSON rosters only
        j = await Client.connect(quiet.ws_url)
        ack = await j.handshake()
        assert ack["encoding"] == "json"
        await j.guest(unique("Jg"))
        entry, roster = await j.create(unique("Jc"))
        assert "channels" in roster
        a = await enter_compact(quiet, unique("Ja"))
        got = await j.drain(1.0)
        assert got and all(isinstance(m, dict) for m in got)  # every frame was JSON text
        # Socket.IO cannot carry these binary frames: asking there gives JSON
        sio = await websockets.connect(
            f"ws://127.0.0.1:{quiet.port}/socket.io/?EIO=4&transport=websocket")
        assert (await sio.recv()).startswith("0")
        await sio.send("40")
        assert (await sio.recv()).startswith("40")
        await sio.send('42["handshake",' + json.dumps({
            "protocolVersion": "1.0.0", "clientType": "2d", "clientVersion": "e2e",
            "capabilities": {"encoding": "compact"}}) + "]")
        msg = await asyncio.wait_for(sio.recv(), 5)
        assert msg.startswith("42")
        event, payload = json.loads(msg[2:])
        assert event == "handshake_ack" and payload["encoding"] == "json"
        await sio.close()
        await j.close()
        await a.close()
    run(go())


def test_far_entities_within_budget_still_converge(quiet):
    """Far entities' moves are budgeted, but never lost: after movement stops
    the compact view agrees with the true positions."""
    async def go():
        a = await enter_compact(quiet, unique("Fa"), rate=20)
        ax = a.entry["character"]["position"]["x"]
        az = a.entry["character"]["position"]["z"]
        others = []
        for i in range(4):
            c = await enter_world(quiet, unique("Fo"))
            others.append(c)
        # walk them 30-60 ft away (beyond ROSTER_COMPACT_NEAR_FT), then jiggle
        targets = []
        for i, c in enumerate(others):
            p = c.entry["character"]["position"]
            tx, tz = ax + 30 + 8 * i, az
            x = p["x"]
            while abs(tx - x) > 0.01:
                x = x + max(-8, min(8, tx - x))
                await walk_to(c, x, tz)
            targets.append((c.entry["entityId"], tx, tz))
        await a.until(lambda v: all(v.position(i) and abs(v.position(i)[0] - x) < 0.051
                                    and abs(v.position(i)[2] - z) < 0.051
                                    for i, x, z in targets), timeout=10,
                      what="far positions converge")
        for c in others:
            await c.close()
        await a.close()
    run(go())
