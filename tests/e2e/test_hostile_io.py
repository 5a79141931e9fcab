"""Issue 10: hostile clients at the connection's edge. A ping that once
leaked stack, clients that stop reading, the documented close codes, and
control characters in chat. Loopback only; every wait is bounded."""
import asyncio
import json
import os
import re
import signal
import socket
import struct
import time

import websockets

from conftest import BIN, Client, Server, enter_world, http_get, unique


def sanitized():
    """ASan keeps freed memory in quarantine: RSS says nothing there."""
    with open(BIN, "rb") as f:
        return b"__asan_init" in f.read()


def run(coro):
    return asyncio.run(coro)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def metric(port, name):
    status, body = http_get(port, "/metrics")
    assert status == 200
    m = re.search(rf"^{name} (\d+)", body, re.M)
    assert m, f"{name} missing from /metrics"
    return int(m.group(1))


# ---- the pong ---------------------------------------------------------------

def test_ping_with_huge_timestamp_gets_a_short_valid_pong(server):
    async def go():
        c = await Client.connect(server.ws_url)
        for ts in (1e308, -1e308, 1.5):
            await c.ws.send(json.dumps({"type": "ping", "payload": {"timestamp": ts}}))
            raw = await asyncio.wait_for(c.ws.recv(), 5)
            # the buggy reply was ~413 bytes: the pong plus stack bytes
            assert len(raw) < 160, raw
            msg = json.loads(raw)
            assert msg["type"] == "pong"
            assert msg["payload"]["clientTimestamp"] == ts
            assert set(msg["payload"]) == {"clientTimestamp", "serverTimestamp"}
        await c.close()

        # the same over Socket.IO, spoken by hand
        async with websockets.connect(
                f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket") as ws:
            assert (await asyncio.wait_for(ws.recv(), 5)).startswith("0{")
            await ws.send("40")
            assert (await asyncio.wait_for(ws.recv(), 5)).startswith("40")
            await ws.send('42["ping",{"timestamp":1e308}]')
            raw = await asyncio.wait_for(ws.recv(), 5)
            assert raw.startswith("42") and len(raw) < 160, raw
            name, payload = json.loads(raw[2:])
            assert name == "pong" and payload["clientTimestamp"] == 1e308
    run(go())


# ---- close codes --------------------------------------------------------------

async def closed_with(ws, timeout=10, got=None):
    """Reads until the server closes (keeping what arrives in got); returns
    (code, reason) as the client saw them."""
    try:
        while True:
            raw = await asyncio.wait_for(ws.recv(), timeout)
            if got is not None:
                got.append(json.loads(raw))
    except websockets.ConnectionClosed:
        pass
    return ws.close_code, ws.close_reason


def test_close_codes_arrive_as_close_frames(server):
    async def go():
        ws = await websockets.connect(server.ws_url, max_size=None)
        await ws.send("x" * (70 * 1024))
        assert await closed_with(ws) == (1009, "frame too large")

        ws = await websockets.connect(server.ws_url)
        await ws.send(b"\x01\x02")
        assert await closed_with(ws) == (1003, "binary frames not supported")

        ws = await websockets.connect(server.ws_url)
        for _ in range(21):
            await ws.send("not json")
        code, reason = await closed_with(ws)
        assert (code, reason) == (1008, "too many invalid messages")

        # a well-behaved client on the same server is untouched
        good = await enter_world(server, unique("Ok"))
        await good.send("ping", {"timestamp": 1})
        await good.expect("pong")
        await good.close()
    run(go())


def test_socketio_close_gets_namespace_disconnect_and_code(server):
    async def go():
        async with websockets.connect(
                f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket") as ws:
            assert (await asyncio.wait_for(ws.recv(), 5)).startswith("0{")
            await ws.send("40")
            assert (await asyncio.wait_for(ws.recv(), 5)).startswith("40")
            for _ in range(21):
                await ws.send('42["warp",{}]')
            got = []
            try:
                while True:
                    got.append(await asyncio.wait_for(ws.recv(), 10))
            except websockets.ConnectionClosed:
                pass
            assert got[-1] == "41", got[-3:]
            assert (ws.close_code, ws.close_reason) == (1008, "too many invalid messages")
    run(go())


def test_sigterm_closes_with_1001():
    s = Server().start()
    try:
        async def go():
            c = await enter_world(s, unique("Bye"))
            s.proc.send_signal(signal.SIGTERM)
            got = []
            code, reason = await closed_with(c.ws, got=got)
            assert code == 1001 and reason == "server shutdown"
            assert any(m["type"] == "error" and m["payload"]["code"] == "SERVER_SHUTDOWN"
                       for m in got)
        run(go())
        assert s.proc.wait(timeout=15) == 0
    finally:
        s.stop()


# ---- control characters --------------------------------------------------------

def test_control_characters_are_not_relayed(server):
    async def go():
        a = await enter_world(server, unique("Ca"))
        b = await enter_world(server, unique("Cb"))
        await a.send("chat", {"channel": "say", "message": "hi\x1b[2J\x07 there\r\u009b"})
        m = await b.expect("chat", pred=lambda d: d["message"].startswith("hi"))
        assert m["message"] == "hi[2J there"
        # a chat of nothing but control characters is empty: refused
        await a.send("chat", {"channel": "say", "message": "\x1b\x07"})
        err = await a.expect("error")
        assert err["code"] == "INVALID_PAYLOAD"
        # names refuse them
        c = await Client.connect(server.ws_url)
        await c.handshake()
        await c.guest(unique("Cc"))
        await c.send("character_create", {"name": "Bad\x1bName"})
        err = await c.expect("error")
        assert err["code"] == "INVALID_NAME"
        for x in (a, b, c):
            await x.close()
    run(go())


# ---- clients that stop reading ---------------------------------------------------

N_SLOW = 150
STALL_MS = 3000


def ws_frame(text):
    """A masked client text frame (mask key 0: XOR is the identity)."""
    data = text.encode()
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x81, 0x80 | n)
    else:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    return head + b"\0\0\0\0" + data


def frame(type_, payload):
    return ws_frame(json.dumps({"type": type_, "payload": payload}))


def raw_login(port, name):
    """A raw socket with a tiny receive buffer, upgraded, that has sent
    handshake, auth and character_create."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    s.settimeout(15)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, "closed during the upgrade"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    s.sendall(frame("handshake", {"protocolVersion": "1.0.0", "clientType": "text"}) +
              frame("auth", {"method": "guest", "guestName": name}) +
              frame("character_create", {"name": name}))
    return s


def slow_client(port, name):
    """Enters the world over a raw socket with a tiny receive buffer, then
    never reads again."""
    s = raw_login(port, name)
    seen = b""
    while b"world_entry" not in seen:
        chunk = s.recv(65536)
        assert chunk, "closed during login"
        seen = seen[-64:] + chunk
    s.setblocking(False)
    return s


def test_clients_that_stop_reading_are_cut_and_memory_returns():
    s = Server(env={"GATEWAY_SEND_STALL_MS": str(STALL_MS), "NPCS": "0"}).start()
    socks = []
    try:
        time.sleep(1)
        base = rss_kb(s.proc.pid)
        for i in range(N_SLOW):
            socks.append(slow_client(s.port, unique("Slow")))
        assert metric(s.port, "wod_gateway_connections") == N_SLOW
        logged_in = rss_kb(s.proc.pid)
        # 20 Hz of movement from everyone: each one's roster traffic grows
        # for all the others, and none of them reads it
        peak, open_ = base, set(range(N_SLOW))
        t0 = time.monotonic()
        tick = 0
        while time.monotonic() - t0 < 30 and open_:
            tick += 1
            for i in list(open_):
                heading = (tick * 7 + i * 13) % 360
                try:
                    socks[i].send(frame("move", {"method": "heading", "heading": heading,
                                                 "speed": "run"}))
                except BlockingIOError:
                    pass
                except OSError:
                    open_.discard(i)  # the server cut it
            peak = max(peak, rss_kb(s.proc.pid))
            time.sleep(0.05)
        cut_after = time.monotonic() - t0
        print(f"RSS kB: start {base}, peak {peak}; {len(open_)} still open after {cut_after:.1f} s")
        # every one of them was closed by the server, well before 30 s:
        # the stall time, the 1 s sweep, and slack for a loaded machine
        deadline = time.monotonic() + 20
        while metric(s.port, "wod_gateway_connections") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert metric(s.port, "wod_gateway_connections") == 0, s.logs()
        assert metric(s.port, "wod_gateway_slow_client_closes_total") == N_SLOW
        assert not open_, f"{len(open_)} clients could still send after 30 s"
        if not sanitized():
            # memory stayed bounded while they were stuck, and comes back
            # (measured against the server with those 150 characters logged
            # in: the store and the world keep what 150 logins cost, ~10 MB,
            # and reused hot-path buffers keep the size the crowd grew them to)
            assert peak - base < 150 * 1024, f"RSS {base} kB -> peak {peak} kB"
            deadline = time.monotonic() + 15
            after = rss_kb(s.proc.pid)
            while after - logged_in > 10 * 1024 and time.monotonic() < deadline:
                time.sleep(0.5)
                after = rss_kb(s.proc.pid)
            print(f"RSS kB: start {base}, {N_SLOW} logged in {logged_in}, peak {peak}, "
                  f"after {after}; all cut within {cut_after:.1f} s")
            assert after - logged_in < 10 * 1024, f"RSS {logged_in} kB -> {after} kB"
        # and the server still serves
        async def still_alive():
            c = await enter_world(s, unique("After"))
            await c.send("ping", {"timestamp": 5})
            await c.expect("pong")
            await c.close()
        run(still_alive())
    finally:
        for k in socks:
            k.close()
        assert s.stop() == 0


def test_send_queue_cap_cuts_a_client_that_does_not_read():
    """Pongs are never dropped: a client that pings without reading fills
    its queue past GATEWAY_SEND_QUEUE_BYTES and is cut at once, long
    before the stall time."""
    s = Server(env={"GATEWAY_SEND_QUEUE_BYTES": "65536",
                    "GATEWAY_SEND_STALL_MS": "600000"}).start()
    try:
        k = slow_client(s.port, unique("Pinger"))
        ping = frame("ping", {"timestamp": 1})
        t0 = time.monotonic()
        cut = False
        while time.monotonic() - t0 < 20 and not cut:
            try:
                k.send(ping * 200)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                cut = True
            if metric(s.port, "wod_gateway_slow_client_closes_total") == 1:
                cut = True
        assert cut
        deadline = time.monotonic() + 10
        while metric(s.port, "wod_gateway_connections") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert metric(s.port, "wod_gateway_connections") == 0
        assert metric(s.port, "wod_gateway_slow_client_closes_total") == 1
        assert "send queue full" in s.logs()
        k.close()
    finally:
        assert s.stop() == 0


def test_accepted_sockets_have_tcp_keepalive(server):
    async def go():
        c = await Client.connect(server.ws_url)
        await c.handshake()
        # ss shows the timer running now: keepalive once nothing is in flight
        for _ in range(20):
            out = os.popen(f"ss -tnoH state established '( sport = :{server.port} )'").read()
            if "keepalive" in out:
                break
            await asyncio.sleep(0.25)
        assert "timer:(keepalive" in out, out
        await c.close()
    run(go())


def read_frames(sock, want, timeout, rest):
    """Server frames from sock until want(frames) or timeout: (opcode,
    payload) pairs; asserts each is a final, unmasked frame. rest[0]
    carries the bytes of a frame not complete yet from call to call."""
    sock.settimeout(timeout)
    buf, frames = rest[0], []
    deadline = time.monotonic() + timeout
    while not want(frames) and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        assert chunk, "server closed"
        buf += chunk
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n, at = b1 & 0x7f, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, at = struct.unpack("!H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, at = struct.unpack("!Q", buf[2:10])[0], 10
            if len(buf) < at + n:
                break
            assert b0 & 0x80 and not b1 & 0x80, f"bad frame header {b0:#x} {b1:#x}"
            frames.append((b0 & 0x0f, buf[at:at + n]))
            buf = buf[at + n:]
    rest[0] = buf
    return frames


def test_backed_up_client_gets_whole_frames_and_pongs():
    """Issue 16: frames are written straight to the socket, several per
    write, and one the socket takes only part of is finished by lws. A
    client that lets its socket fill (a few MB of pongs) while sending
    WebSocket pings must still get every frame whole and in order, and
    lws's pongs between them, not inside one."""
    s = Server(env={"GATEWAY_SEND_QUEUE_BYTES": str(16 << 20),
                    "GATEWAY_SEND_STALL_MS": "600000"}).start()
    try:
        k, rest = raw_login(s.port, unique("Backed")), [b""]
        read_frames(k, lambda fr: any(b"world_entry" in p for _, p in fr), 15, rest)
        rounds, per_round = 40, 1500
        for r in range(rounds):
            pings = b"".join(frame("ping", {"timestamp": r * per_round + i})
                             for i in range(per_round))
            ctl = b"r%d" % r
            k.sendall(pings + struct.pack("!BB", 0x89, 0x80 | len(ctl)) + b"\0\0\0\0" + ctl)
        time.sleep(1)  # the server's send buffer fills; the rest waits in our lanes
        total = rounds * per_round

        # other text frames (rosters of NPCs walking by, events) come too:
        # count the pongs, not every text frame
        def done(frames):
            return sum(1 for op, p in frames if op == 1 and b'"pong"' in p) >= total
        frames = read_frames(k, done, 60, rest)
        texts = [json.loads(p) for op, p in frames if op == 1]
        pongs = [m["payload"]["clientTimestamp"] for m in texts if m["type"] == "pong"]
        assert pongs == list(range(total)), "pongs missing or out of order"
        # lws answers only some of the pings that come while it cannot
        # write (RFC 6455 5.5.3 allows it; lws 4.1.6 stops after a few,
        # with or without this change): those it sends are whole, in order
        ctl_pongs = [int(p[1:]) for op, p in frames if op == 0xA]
        assert ctl_pongs and ctl_pongs == sorted(set(ctl_pongs)), ctl_pongs
        assert {op for op, _ in frames} <= {1, 0xA}
        k.close()
    finally:
        assert s.stop() == 0
