"""Issue: Failover, gateway loss behind haproxy. scripts/start-distributed.sh
--gateways 2 --standby brings the cluster up; a client whose gateway dies
reconnects through haproxy with its token and is back where it stood."""
import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import time

import redis

from conftest import ROOT, Client, enter_world, http_get, unique


def free_base():
    """A port P below the ephemeral range with P..P+2, P+100..P+102, P+200, P+201 free
    (the script's gateways, zone servers, Redis and PostgreSQL)."""
    for _ in range(50):
        base = random.randint(10000, 30000)
        ok = True
        for port in [base, base + 1, base + 2, base + 100, base + 101, base + 102, base + 200,
                     base + 201]:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")


def test_start_distributed_two_gateways_and_gateway_loss():
    base = free_base()
    env = dict(os.environ, GATEWAY_PORT=str(base), REDIS_PORT=str(base + 200),
               PG_PORT=str(base + 201), NPCS="0")
    proc = subprocess.Popen(["bash", os.path.join(ROOT, "scripts", "start-distributed.sh"),
                             "--gateways", "2", "--standby"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = []
    try:
        pids = {}
        deadline = time.time() + 90
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            m = re.match(r"(gateway-\d|zone-\d) \(pid (\d+)\)", line)
            if m:
                pids[m.group(1)] = int(m.group(2))
            if line.startswith("cluster up"):
                break
        assert "gateway-2" in pids, "".join(out)

        def servers():
            try:
                _, body = http_get(base, "/api/servers")
                return {s["serverId"] for s in json.loads(body)["servers"]}
            except Exception:  # haproxy may still be marking gateways up
                return set()
        want = {"gateway-1", "gateway-2", "zone-1", "zone-2", "zone-3"}
        deadline = time.time() + 30
        seen = set()
        while time.time() < deadline and not want <= seen:
            seen = servers()
            time.sleep(0.3)
        assert want <= seen, seen

        class Haproxy:
            ws_url = f"ws://127.0.0.1:{base}/ws"

        async def go():
            anna = await enter_world(Haproxy, unique("Anna"))
            bram = await enter_world(Haproxy, unique("Bram"))
            await anna.send("move", {"position": {"x": 103, "y": 0, "z": 100}})
            await asyncio.sleep(1.0)
            # which gateway holds Anna? the one haproxy sent her to
            r = redis.Redis(port=base + 200, decode_responses=True)
            loc = json.loads(r.get(f"player:location:{anna.entry['characterId']}"))
            victim = loc["gateway"]
            os.kill(pids[victim], signal.SIGKILL)
            try:
                await asyncio.wait_for(anna.ws.recv(), 5)
            except Exception:
                pass
            anna2 = None
            deadline = time.time() + 20
            while time.time() < deadline:  # haproxy needs a moment to mark it down
                try:
                    anna2 = await Client.connect(Haproxy.ws_url)
                    await anna2.handshake()
                    break
                except Exception as e:
                    print("reconnect failed:", repr(e))
                    await asyncio.sleep(0.5)
            await anna2.send("auth", {"method": "token", "token": anna.token})
            await anna2.expect("auth_success")
            await anna2.send("character_select", {"characterId": anna.entry["characterId"]})
            entry = await anna2.expect("world_entry")
            assert abs(entry["character"]["position"]["x"] - 103) < 1, entry["character"]["position"]
            await anna2.close()
            await bram.close()
        asyncio.run(go())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_socketio_polling_sessions_stick_to_one_gateway():
    """Two gateways behind deploy/haproxy.cfg: every request of a polling
    session (and its WebSocket upgrade) must reach the gateway that opened
    it, or the client gets "Session ID unknown"."""
    import http.client
    import tempfile
    import uuid

    import pytest
    import socketio

    from conftest import Server, free_port
    redis_url = os.environ.get("WOD_TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("needs WOD_TEST_REDIS_URL")
    # PostgreSQL if given, else one SQLite file both gateways open
    d = tempfile.mkdtemp(prefix="wod-haproxy-")
    db_url = os.environ.get("WOD_TEST_PG_URL") or f"sqlite:{d}/wod.db"
    tag = uuid.uuid4().hex[:8]
    gws = []
    haproxy = None
    try:
        for i in (1, 2):
            gws.append(Server(role="gateway", env={
                "REDIS_URL": redis_url, "DATABASE_URL": db_url,
                "SERVER_ID": f"gw-poll-{tag}-{i}"}).start())
        port = free_port()
        cfg = os.path.join(d, "haproxy.cfg")
        with open(os.path.join(ROOT, "deploy", "haproxy.cfg")) as f:
            text = f.read().replace("@PORT@", str(port))
        for i, g in enumerate(gws, 1):
            text += f"    server gateway-{i} 127.0.0.1:{g.port} check inter 1s fall 2 rise 1\n"
        with open(cfg, "w") as f:
            f.write(text)
        haproxy = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if http_get(port, "/health", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)

        def req(method, query, body=None):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                c.request(method, "/socket.io/?EIO=4&transport=polling" + query, body=body)
                r = c.getresponse()
                return r.status, r.read().decode()
            finally:
                c.close()

        # raw sessions, one new TCP connection per request (as browsers may)
        for _ in range(8):
            status, body = req("GET", "")
            assert status == 200, body
            sid = json.loads(body[1:])["sid"]
            assert req("POST", f"&sid={sid}", b"40") == (200, "ok")
            status, body = req("GET", f"&sid={sid}")
            assert status == 200 and body.startswith("40"), body

        async def play(transports):
            sio = socketio.AsyncClient(reconnection=False)
            got = asyncio.Queue()
            sio.on("*", lambda ev, data=None: got.put_nowait((ev, data)))

            async def expect(name):
                while True:
                    ev, data = await asyncio.wait_for(got.get(), 10)
                    if ev == name:
                        return data
            url = f"http://127.0.0.1:{port}"
            if transports:
                await sio.connect(url, transports=transports)
            else:
                await sio.connect(url)
            await sio.emit("handshake", {"protocolVersion": "1.0.0", "clientType": "text",
                                         "clientVersion": "py", "capabilities": {}})
            assert (await expect("handshake_ack"))["compatible"] is True
            await sio.emit("auth", {"method": "guest", "guestName": unique("Hp")[:12]})
            assert (await expect("auth_success"))["token"]
            await sio.disconnect()

        async def go():
            await asyncio.gather(*[play(["polling"]) for _ in range(3)],
                                 *[play(None) for _ in range(3)])
        asyncio.run(go())
    finally:
        if haproxy:
            haproxy.terminate()
            haproxy.wait(10)
        for g in gws:
            g.stop()
