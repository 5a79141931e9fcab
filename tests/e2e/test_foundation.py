"""Issue: Foundation. A new user plays from handshake to world entry."""
import asyncio
import json

from conftest import Client, Server, enter_world, http_get, unique


def run(coro):
    return asyncio.run(coro)


def test_health_and_api(server):
    status, body = http_get(server.port, "/health")
    assert status == 200
    h = json.loads(body)
    assert set(h) == {"status", "type", "serverId", "timestamp", "uptime", "connected"}
    assert h["status"] == "ok" and h["type"] == "all" and h["connected"] is True
    status, body = http_get(server.port, "/api/zones")
    zones = {z["zoneId"]: z for z in json.loads(body)["zones"]}
    assert "zone-crossroads" in zones and zones["zone-crossroads"]["serverId"] == "server-1"
    assert len(zones) == 16
    status, body = http_get(server.port, "/api/servers")
    assert status == 200 and json.loads(body)["servers"][0]["type"] == "all"
    status, body = http_get(server.port, "/api/info")
    info = json.loads(body)
    assert "tickMs" in info["zoneDetails"]["zone-crossroads"]
    status, body = http_get(server.port, "/no/such/path")
    assert status == 404 and json.loads(body)["error"] == "not found"
    status, body = http_get(server.port, "/metrics")
    assert status == 200 and "wod_gateway_connections" in body


def test_guest_to_world_entry_then_bad_input(server):
    async def go():
        name = unique("Anna")
        c = await enter_world(server, name)
        assert c.entry["zone"]["id"] == "zone-crossroads"
        assert c.entry["zone"]["contentRating"] == "T"
        ch = c.entry["character"]
        assert ch["name"] == name
        assert ch["position"] == {"x": 100, "y": 0, "z": 100}
        assert ch["derivedStats"]["maxHp"] == 100 + 10 * 10 + 1 * 5
        assert ch["derivedStats"]["attackRating"] == 10 + 10 * 2
        assert set(c.roster["channels"]) == {"touch", "say", "shout", "emote", "see", "hear", "cfh"}
        assert {e["direction"] for e in c.entry["exits"]} >= {"north", "east"}
        await c.ws.send("{not json")
        err = await c.expect("error")
        assert err["code"] == "INVALID_JSON" and err["severity"] == "error"
        await c.send("ping", {"timestamp": 1234})
        pong = await c.expect("pong")
        assert pong["clientTimestamp"] == 1234 and pong["serverTimestamp"] > 0
        await c.send("frobnicate", {})
        assert (await c.expect("error"))["code"] == "UNKNOWN_TYPE"
        await c.send("move", {"method": "heading"})
        assert (await c.expect("error"))["code"] == "INVALID_PAYLOAD"
        await c.send("handshake", {"protocolVersion": "1.0.0"})
        assert (await c.expect("error"))["code"] == "ALREADY_HANDSHAKEN"
        await c.send("ping", {"timestamp": 1})
        await c.expect("pong")
        await c.close()
    run(go())


def test_order_and_name_rules(server):
    async def go():
        c = await Client.connect(server.ws_url)
        await c.send("move", {"method": "compass", "compass": "N"})
        assert (await c.expect("error"))["code"] == "HANDSHAKE_REQUIRED"
        await c.handshake()
        await c.send("chat", {"channel": "say", "message": "hi"})
        assert (await c.expect("error"))["code"] == "NOT_AUTHENTICATED"
        await c.guest("Rules")
        await c.send("chat", {"channel": "say", "message": "hi"})
        assert (await c.expect("error"))["code"] == "NOT_IN_WORLD"
        for bad in ["ab", "1abc", "bad!name", "x" * 21, "two  spaces"]:
            await c.send("character_create", {"name": bad})
            assert (await c.expect("error"))["code"] in ("INVALID_NAME", "INVALID_PAYLOAD"), bad
        name = unique("Dup")
        entry, _ = await c.create(name)
        c2 = await Client.connect(server.ws_url)
        await c2.handshake()
        await c2.guest("Other")
        await c2.send("character_create", {"name": name.upper()})
        assert (await c2.expect("error"))["code"] == "NAME_TAKEN"
        # another account's character is not selectable
        await c2.send("character_select", {"characterId": entry["characterId"]})
        assert (await c2.expect("error"))["code"] == "CHARACTER_NOT_FOUND"
        await c2.send("ping", {"timestamp": 2})
        await c2.expect("pong")
        await c.close()
        await c2.close()
    run(go())


def test_unsupported_protocol_version(server):
    async def go():
        c = await Client.connect(server.ws_url)
        await c.send("handshake", {"protocolVersion": "2.0.0", "clientType": "text"})
        ack = await c.expect("handshake_ack")
        assert ack["compatible"] is False
        assert (await c.expect("error"))["code"] == "UNSUPPORTED_PROTOCOL"
        await c.close()
    run(go())


def test_oversized_frame_closes_only_that_connection(server):
    async def go():
        good = await enter_world(server, unique("Good"))
        bad = await Client.connect(server.ws_url)
        await bad.ws.send("x" * (70 * 1024))
        try:
            await asyncio.wait_for(bad.ws.recv(), 5)
            closed = False
        except Exception:
            closed = True
        assert closed or bad.ws.close_code == 1009
        await good.send("ping", {"timestamp": 3})
        await good.expect("pong")
        await good.close()
    run(go())


def test_credentials_register_login_and_persist_across_restart():
    async def register(srv, user, pw):
        c = await Client.connect(srv.ws_url)
        await c.handshake()
        await c.send("auth", {"method": "credentials", "username": user, "password": pw,
                              "register": True})
        ok = await c.expect("auth_success")
        name = unique("Cred")
        entry, _ = await c.create(name)
        await c.close()
        return name, entry

    async def login(srv, user, pw):
        c = await Client.connect(srv.ws_url)
        await c.handshake()
        await c.send("auth", {"method": "credentials", "username": user, "password": pw})
        msg = await c.recv_any()
        while msg["type"] not in ("auth_success", "auth_error"):
            msg = await c.recv_any()
        await c.close()
        return msg

    srv = Server().start()
    user = unique("user")
    name, entry = asyncio.run(register(srv, user, "correct horse battery"))
    bad = asyncio.run(login(srv, user, "wrong password!"))
    assert bad["type"] == "auth_error" and bad["payload"]["reason"] == "INVALID_CREDENTIALS"
    assert bad["payload"]["canRetry"] is True
    assert srv.stop() == 0
    srv2 = Server(datadir=srv.datadir).start()
    ok = asyncio.run(login(srv2, user, "correct horse battery"))
    assert ok["type"] == "auth_success"
    assert [c["name"] for c in ok["payload"]["characters"]] == [name]
    dup = asyncio.run(login(srv2, "x", "short"))
    assert dup["type"] == "auth_error"
    assert srv2.stop() == 0


def test_guest_comes_back_with_token(server):
    async def go():
        c = await enter_world(server, unique("Ret"))
        token, cid = c.token, c.entry["characterId"]
        await c.close()
        c2 = await Client.connect(server.ws_url)
        await c2.handshake()
        await c2.send("auth", {"method": "token", "token": token})
        ok = await c2.expect("auth_success")
        assert [x["id"] for x in ok["characters"]] == [cid]
        await c2.send("character_select", {"characterId": cid})
        entry = await c2.expect("world_entry")
        assert entry["characterId"] == cid
        await c2.close()
        c3 = await Client.connect(server.ws_url)
        await c3.handshake()
        await c3.send("auth", {"method": "token", "token": token[:-1] + ("0" if token[-1] != "0" else "1")})
        err = await c3.expect("auth_error")
        assert err["reason"] == "INVALID_TOKEN"
        await c3.close()
    run(go())


def test_bad_config_exits_2(tmp_path):
    import subprocess
    from conftest import BIN
    import os
    env = dict(os.environ, TICK_RATE="fast")
    r = subprocess.run([BIN, "all"], env=env, cwd=tmp_path, capture_output=True, timeout=10)
    assert r.returncode == 2
    assert b"TICK_RATE" in r.stderr
    (tmp_path / ".env").write_text("GATEWAY_PORT=99999\n")
    r = subprocess.run([BIN, "all"], env=dict(os.environ), cwd=tmp_path, capture_output=True,
                       timeout=10)
    assert r.returncode == 2 and b"GATEWAY_PORT" in r.stderr


def test_same_character_twice_takes_over(server):
    async def go():
        a = await enter_world(server, unique("Twice"))
        await a.send("move", {"position": {"x": 102, "y": 0, "z": 101}})
        await asyncio.sleep(0.3)
        b = await Client.connect(server.ws_url)
        await b.handshake()
        await b.send("auth", {"method": "token", "token": a.token})
        await b.expect("auth_success")
        await b.send("character_select", {"characterId": a.entry["characterId"]})
        entry = await b.expect("world_entry")
        assert entry["character"]["position"]["x"] == 102  # the live state, not a stale row
        err = await a.expect("error", pred=lambda p: p["code"] == "CHARACTER_TAKEN_OVER")
        assert err["severity"] == "fatal"
        try:
            while True:
                await asyncio.wait_for(a.ws.recv(), 3)
        except Exception:
            pass
        assert a.ws.closed
        await b.send("ping", {"timestamp": 1})
        await b.expect("pong")
        await b.close()
    run(go())
