"""Issue 12: Engine.IO v4 long-polling on /socket.io/, driven with raw HTTP
requests: the open packet, batched packets, the heartbeat, the upgrade to a
WebSocket, and every bad input getting the Engine.IO error answer (never a
crash: the fixture checks the server's exit code)."""
import asyncio
import http.client
import json
import threading
import time

import pytest
import websockets

from conftest import Server, http_get, unique

SEP = "\x1e"
PING_MS = 500


@pytest.fixture
def server():
    s = Server(env={"SIO_PING_INTERVAL_MS": str(PING_MS),
                    "SIO_PING_TIMEOUT_MS": str(PING_MS)}).start()
    yield s
    rc = s.stop()
    assert rc == 0, f"server exit code {rc}\n{s.logs()}"


def req(server, method, query, body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        c.request(method, "/socket.io/?" + query, body=body,
                  headers={"Content-Type": "text/plain;charset=UTF-8"} if body is not None else {})
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def handshake(server):
    status, body = req(server, "GET", "EIO=4&transport=polling")
    assert status == 200, body
    assert body[0] == "0"
    return json.loads(body[1:])


def get(server, sid, timeout=10):
    return req(server, "GET", f"EIO=4&transport=polling&sid={sid}", timeout=timeout)


def post(server, sid, payload):
    return req(server, "POST", f"EIO=4&transport=polling&sid={sid}", body=payload.encode())


def error(code, message):
    return json.dumps({"code": code, "message": message}, separators=(",", ":"))


def get_until(server, sid, pred, tries=10):
    """GETs until a packet matching pred arrives; returns every packet seen."""
    seen = []
    for _ in range(tries):
        status, body = get(server, sid)
        assert status == 200, body
        for pkt in body.split(SEP):
            seen.append(pkt)
            if pkt == "2":  # answer the heartbeat as a client must
                assert post(server, sid, "3") == (200, "ok")
        if any(pred(p) for p in seen):
            return seen
    raise AssertionError(f"not seen in {seen}")


def event(name, payload, ack=None):
    return "42" + ("" if ack is None else str(ack)) + json.dumps([name, payload])


def test_open_packet_and_a_session_in_raw_requests(server):
    o = handshake(server)
    assert o["upgrades"] == ["websocket"]
    assert o["pingInterval"] == PING_MS and o["pingTimeout"] == PING_MS
    assert o["maxPayload"] > 0 and len(o["sid"]) >= 20
    sid = o["sid"]
    assert post(server, sid, "40") == (200, "ok")
    seen = get_until(server, sid, lambda p: p.startswith("40"))
    assert json.loads(next(p for p in seen if p.startswith("40"))[2:])["sid"]
    # two packets in one POST, answered in order; the ack comes back too
    hs = event("handshake", {"protocolVersion": "1.0.0", "clientType": "text",
                             "clientVersion": "raw", "capabilities": {}})
    assert post(server, sid, hs + SEP + event("ping", {"timestamp": 3}, ack=7)) == (200, "ok")
    seen = get_until(server, sid, lambda p: p.startswith("42") and '"pong"' in p)
    assert any(p.startswith("42") and '"handshake_ack"' in p for p in seen)
    assert "437[{\"ok\":true}]" in seen
    # guest auth over polling
    assert post(server, sid, event("auth", {"method": "guest", "guestName": "Raw"})) == (200, "ok")
    get_until(server, sid, lambda p: '"auth_success"' in p)
    # a client close ends the session
    assert post(server, sid, "1") == (200, "ok")
    time.sleep(0.2)
    assert get(server, sid) == (400, error(1, "Session ID unknown"))


def test_heartbeat_over_polling_and_a_silent_session_is_closed(server):
    sid = handshake(server)["sid"]
    # answering pings keeps the session for several intervals
    deadline = time.monotonic() + 4 * PING_MS / 1000
    pings = 0
    while time.monotonic() < deadline:
        status, body = get(server, sid)
        assert status == 200, body
        if "2" in body.split(SEP):
            pings += 1
            assert post(server, sid, "3") == (200, "ok")
    assert pings >= 2
    # silent: no GET, no pong; gone after pingInterval + pingTimeout (+ the close grace)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(1)
        if http_get(server.port, f"/socket.io/?EIO=4&transport=polling&sid={sid}")[0] == 400:
            break
    assert get(server, sid) == (400, error(1, "Session ID unknown"))


def test_bad_requests_get_engine_io_errors(server):
    q = "EIO=4&transport=polling"
    assert req(server, "GET", "EIO=4&transport=carrier-pigeon") == (400, error(0, "Transport unknown"))
    assert req(server, "GET", "EIO=3&transport=polling")[0] == 400
    assert req(server, "GET", q + "&sid=nope") == (400, error(1, "Session ID unknown"))
    assert req(server, "GET", q + "&sid=" + "0" * 32) == (400, error(1, "Session ID unknown"))
    assert req(server, "POST", q + "&sid=" + "f" * 32, body=b"40") == (400, error(1, "Session ID unknown"))
    assert req(server, "POST", q, body=b"40") == (400, error(2, "Bad handshake method"))
    assert req(server, "PUT", q, body=b"40") == (400, error(2, "Bad handshake method"))
    # a sid with a guessed random part is not the session
    sid = handshake(server)["sid"]
    forged = sid[:16] + ("0" if sid[16] != "0" else "1") + sid[17:]
    assert get(server, forged) == (400, error(1, "Session ID unknown"))
    assert get(server, sid)[0] == 200  # the real one still works
    assert http_get(server.port, "/health")[0] == 200


@pytest.mark.parametrize("body", [b"garbage", b"4", b"42[", b"40" + SEP.encode(),
                                  SEP.encode(), b"", b"5", b"0{}", b"b4AAAA",
                                  b"42" + b"\xff\xfe" + b"[]"])
def test_a_bad_post_closes_that_session_only(server, body):
    other = handshake(server)["sid"]
    sid = handshake(server)["sid"]
    status, answer = post(server, sid, "") if body == b"" else \
        req(server, "POST", f"EIO=4&transport=polling&sid={sid}", body=body)
    assert (status, answer) == (400, error(3, "Bad request"))
    status, answer = get(server, sid)
    # the session is closing or gone: a last close packet, or unknown
    assert (status == 200 and answer.split(SEP)[-1] == "1") or \
        (status, answer) == (400, error(1, "Session ID unknown")), (status, answer)
    assert post(server, other, "40") == (200, "ok")
    get_until(server, other, lambda p: p.startswith("40"))


def test_oversized_post_is_413_and_ends_the_session(server):
    o = handshake(server)
    sid = o["sid"]
    # a body near the cap is fine (its bytes are not taken for headers: no 431)
    assert post(server, sid, "40") == (200, "ok")
    near = event("ping", {"timestamp": 1, "pad": "y" * (o["maxPayload"] - 100)})
    assert post(server, sid, near) == (200, "ok")
    big = event("chat", {"channel": "say", "message": "x" * (o["maxPayload"] + 10)})
    status, body = post(server, sid, big)
    assert status == 413, body
    assert json.loads(body)["code"] == 3
    time.sleep(0.2)
    status, body = get(server, sid)
    assert (status == 200 and body.split(SEP)[-1] == "1") or status == 400


def test_a_second_concurrent_get_is_an_error_and_closes(server):
    sid = handshake(server)["sid"]
    results = {}

    def held():
        results["first"] = get(server, sid)

    t = threading.Thread(target=held)
    t.start()
    time.sleep(0.1)  # the first GET is held: nothing is queued
    second = get(server, sid)
    t.join(10)
    assert second == (400, error(3, "Bad request"))
    status, body = results["first"]
    assert status == 200 and body.split(SEP)[-1] == "1", (status, body)
    time.sleep(0.2)
    assert get(server, sid) == (400, error(1, "Session ID unknown"))


def test_upgrade_to_websocket_and_a_second_upgrade_is_refused(server):
    o = handshake(server)
    sid = o["sid"]
    assert post(server, sid, "40") == (200, "ok")
    get_until(server, sid, lambda p: p.startswith("40"))
    url = f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket&sid={sid}"

    async def go():
        # a held GET is released with a noop once the probe is answered
        loop = asyncio.get_running_loop()
        pending = loop.run_in_executor(None, get, server, sid)
        await asyncio.sleep(0.1)
        ws = await websockets.connect(url)
        await ws.send("2probe")
        assert await asyncio.wait_for(ws.recv(), 5) == "3probe"
        status, body = await asyncio.wait_for(pending, 10)
        assert status == 200 and "6" in body.split(SEP), body
        # a second WebSocket for the same session is refused
        with pytest.raises(Exception):
            second = await websockets.connect(url)
            await second.send("2probe")
            await asyncio.wait_for(second.recv(), 3)
        await ws.send("5")
        # now on the WebSocket: events and pings flow there
        await ws.send(event("handshake", {"protocolVersion": "1.0.0", "clientType": "text",
                                          "clientVersion": "raw", "capabilities": {}}))
        got = []
        while not any('"handshake_ack"' in m for m in got):
            m = await asyncio.wait_for(ws.recv(), 5)
            if m == "2":
                await ws.send("3")
            got.append(m)
        # polling on an upgraded session is a bad request; an upgrade again too
        assert await loop.run_in_executor(None, get, server, sid) == (400, error(3, "Bad request"))
        with pytest.raises(Exception):
            third = await websockets.connect(url)
            await asyncio.wait_for(third.recv(), 3)
        await ws.close()
    asyncio.run(go())


def test_a_failed_probe_leaves_the_session_on_polling(server):
    sid = handshake(server)["sid"]
    assert post(server, sid, "40") == (200, "ok")
    get_until(server, sid, lambda p: p.startswith("40"))
    url = f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket&sid={sid}"

    async def go():
        ws = await websockets.connect(url)
        await ws.send("2probe")
        assert await asyncio.wait_for(ws.recv(), 5) == "3probe"
        await ws.close()  # the client gives up on the upgrade
    asyncio.run(go())
    hs = event("handshake", {"protocolVersion": "1.0.0", "clientType": "text",
                             "clientVersion": "raw", "capabilities": {}})
    assert post(server, sid, hs) == (200, "ok")
    get_until(server, sid, lambda p: '"handshake_ack"' in p)
    name = unique("Poll")
    assert post(server, sid, event("auth", {"method": "guest", "guestName": name})) == (200, "ok")
    get_until(server, sid, lambda p: '"auth_success"' in p)


def test_polling_sessions_meet_the_stage_deadline_and_unauth_cap():
    s = Server(env={"SIO_PING_INTERVAL_MS": str(PING_MS), "SIO_PING_TIMEOUT_MS": str(PING_MS),
                    "HANDSHAKE_TIMEOUT_MS": "1500", "MAX_UNAUTH_CONNS": "3"}).start()
    try:
        # a session that polls and pongs but never sends `handshake` is closed
        sid = handshake(s)["sid"]
        deadline = time.monotonic() + 15
        closed = False
        while time.monotonic() < deadline and not closed:
            status, body = get(s, sid)
            if status == 400 or body.split(SEP)[-1] == "1":
                closed = True
            elif "2" in body.split(SEP):
                post(s, sid, "3")
        assert closed, "no handshake timeout on a polling session"
        assert "handshake timeout" in s.logs()
        # keep-alive polling sockets count as unauthenticated connections
        conns = []
        for _ in range(3):
            c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            c.request("GET", "/socket.io/?EIO=4&transport=polling")
            r = c.getresponse()
            assert r.status == 200
            r.read()
            conns.append(c)
        time.sleep(0.2)
        refused = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        try:
            refused.request("GET", "/socket.io/?EIO=4&transport=polling")
            status = refused.getresponse().status
        except (ConnectionError, http.client.HTTPException):
            status = "dropped"
        assert status in (503, "dropped"), status
        for c in conns:
            c.close()
    finally:
        rc = s.stop()
    assert rc == 0, s.logs()
