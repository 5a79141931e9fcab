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
