"""Issue 15: Redis Cluster. Two gateways and two zone servers on a 3+3
Redis Cluster started by the test (REDIS_URL=redis+cluster://...): the
zones hash to different shards; players on both gateways cross a border
between servers, shout across it, whisper across gateways; `wod-server
announce` reaches a zone's players on both gateways; then the master
owning zone-forest's input channel is SIGKILLed, its replica is promoted,
and play in zone-forest resumes on the same WebSockets; last the zone
server of zone-forest is SIGKILLed and a standby (ZONE_STANDBY=1) takes
its zones over, players on the same sockets."""
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import redis
from redis.cluster import RedisCluster

from cluster import SERVICES
from conftest import BIN, Server, enter_world, free_port, http_get, unique
from test_failover import hear

NODE_TIMEOUT_MS = 2000


def run(coro):
    return asyncio.run(coro)


def wait_for(pred, timeout=10, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def ports_free(base, n):
    """base..base+n-1 and their cluster bus ports (+10000) are free."""
    for p in list(range(base, base + n)) + list(range(base + 10000, base + 10000 + n)):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


class ClusterServices:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wod-rc-")
        os.chmod(self.dir, 0o711)
        for _ in range(50):
            self.base = random.randrange(20000, 29000)
            if ports_free(self.base, 6):
                break
        env = dict(os.environ, REDIS_CLUSTER_NODE_TIMEOUT=str(NODE_TIMEOUT_MS))
        self.redis_url = self._run(["redis-cluster", str(self.base), self.dir, "3"], env)
        self.pg_url = self._run(["postgres", str(free_port()), self.dir], env)
        self.rc = RedisCluster(host="127.0.0.1", port=self.base, decode_responses=True)

    def _run(self, args, env):
        out = subprocess.run(["bash", SERVICES] + args, check=True, capture_output=True,
                             text=True, timeout=120, env=env)
        return out.stdout.strip().splitlines()[-1]

    def master_port_of(self, key):
        """Port of the master serving key's slot, asked of a live node."""
        slot = self.rc.keyslot(key)
        for port in range(self.base, self.base + 6):
            try:
                slots = redis.Redis(port=port, socket_timeout=1).execute_command("CLUSTER SLOTS")
            except Exception:
                continue
            for first, last, master, *_ in slots:
                if first <= slot <= last:
                    return int(master[1])
        raise AssertionError("no node answered CLUSTER SLOTS")

    def kill_node(self, port):
        pidfile = os.path.join(self.dir, "redis-cluster", f"{port}.pid")
        pid = int(open(pidfile).read())
        os.kill(pid, signal.SIGKILL)

    def stop(self):
        subprocess.run(["bash", SERVICES, "stop", self.dir], capture_output=True, timeout=60)


def role(svc, role_name, server_id, **env):
    e = {"SERVER_ID": server_id, "REDIS_URL": svc.redis_url, "DATABASE_URL": svc.pg_url,
         "NPCS": "0"}
    e.update({k: str(v) for k, v in env.items()})
    s = Server(role=role_name, env=e)
    if role_name == "zone":
        s.env["ZONE_HTTP_PORT"] = str(s.port)
        s.env["GATEWAY_PORT"] = str(free_port())
    return s.start()


@pytest.fixture(scope="module")
def cluster():
    svc = ClusterServices()
    procs = []
    try:
        z1 = role(svc, "zone", "zone-1", ASSIGNED_ZONES="zone-crossroads")
        procs.append(z1)
        z2 = role(svc, "zone", "zone-2", ASSIGNED_ZONES="zone-forest,zone-city")
        procs.append(z2)
        g1 = role(svc, "gateway", "gateway-1")
        procs.append(g1)
        g2 = role(svc, "gateway", "gateway-2")
        procs.append(g2)
        svc.procs, svc.killed = procs, []  # a test may add servers and kill some
        yield svc, z1, z2, g1, g2
        alive = [p for p in procs if p not in svc.killed]
        codes = [p.stop() for p in alive]
        assert codes == [0] * len(alive), [p.logs() for p in alive]
    finally:
        for p in procs:
            p.stop()
        svc.stop()


def test_zones_on_different_shards_with_tagged_keys(cluster):
    svc, z1, z2, g1, g2 = cluster
    rc = svc.rc
    assert svc.master_port_of("zone:{zone-crossroads}:input") != \
        svc.master_port_of("zone:{zone-forest}:input")
    # A zone's channels and claim keys share one slot.
    assert rc.keyslot("zone:{zone-forest}:input") == rc.keyslot("zone:assignment:{zone-forest}") \
        == rc.keyslot("zone:epoch:{zone-forest}") == rc.keyslot("zone:{zone-forest}:broadcast")
    assert wait_for(lambda: rc.get("zone:assignment:{zone-crossroads}") == "zone-1")
    assert rc.get("zone:assignment:{zone-forest}") == "zone-2"
    assert int(rc.get("zone:epoch:{zone-forest}")) >= 1
    assert wait_for(lambda: rc.get("server:heartbeat:gateway-2"))
    # list_zones / list_servers SCAN every master
    def zones():
        _, body = http_get(g1.port, "/api/zones")  # answered from a cache refreshed each second
        return {z["zoneId"]: z["serverId"] for z in json.loads(body)["zones"]}
    assert wait_for(lambda: zones()["zone-crossroads"] == "zone-1"), zones()
    assert zones()["zone-forest"] == "zone-2"

    def servers():
        _, b = http_get(g2.port, "/api/servers")
        return {s["serverId"] for s in json.loads(b)["servers"]}
    assert wait_for(lambda: {"zone-1", "zone-2", "gateway-1", "gateway-2"} <= servers())
    # Sharded subscriptions: the zone server listens on its zones' shards.
    node = rc.get_node_from_key("zone:{zone-forest}:input")
    counts = rc.execute_command("PUBSUB SHARDNUMSUB", "zone:{zone-forest}:input",
                                target_nodes=node)
    assert counts[1] >= 1, counts


def announce(svc, zone, text):
    """`wod-server announce` against the cluster: (exit code, stdout + stderr)."""
    env = dict(os.environ, REDIS_URL=svc.redis_url, DATABASE_URL=svc.pg_url)
    out = subprocess.run([BIN, "announce", zone, text], env=env, cwd=svc.dir,
                         capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout + out.stderr


def is_announcement(text):
    return lambda p: p.get("eventType") == "announcement" and p.get("message") == text


async def walk_to_forest(c):
    await c.send("move", {"method": "compass", "compass": "N", "speed": "run"})
    upd = await c.expect("state_update", timeout=15, pred=lambda p: "zone" in p)
    assert upd["zone"]["id"] == "zone-forest"
    await c.send("move", {"method": "heading", "heading": 0, "speed": "stop"})


def test_announce_command_reaches_zone_players_on_both_gateways(cluster):
    svc, z1, z2, g1, g2 = cluster

    async def go():
        a = await enter_world(g1, unique("Ann"))  # crossroads, gateway-1
        b = await enter_world(g2, unique("Ben"))  # crossroads, gateway-2
        f = await enter_world(g2, unique("For"))  # walks to the forest
        await walk_to_forest(f)
        await asyncio.sleep(0.3)
        text = unique("Maintenance in five minutes ")
        code, out = announce(svc, "zone-crossroads", text)
        assert code == 0, out
        for c in (a, b):
            ev = await c.expect("event", timeout=10, pred=is_announcement(text))
            assert ev["zoneId"] == "zone-crossroads"
        # forest's players hear forest's announcement, never crossroads'
        forest = unique("Forest closes ")
        code, out = announce(svc, "zone-forest", forest)
        assert code == 0, out
        await f.expect("event", timeout=10, pred=is_announcement(forest))
        await f.drain(0.5)
        await a.drain(0.5)
        def got(c, t):
            return [m for m in c.inbox if m["type"] == "event" and is_announcement(t)(m["payload"])]
        assert not got(f, text)
        assert not got(a, forest)
        for c in (a, b, f):
            await c.close()
    run(go())
    # usage and config errors: one line, exit 2, nothing published
    code, out = announce(svc, "zone-nowhere", "hi")
    assert code == 2 and "unknown zone" in out, out
    code, out = announce(svc, "zone-forest", "")
    assert code == 2 and len(out.strip().splitlines()) == 1, out


def test_border_shout_whisper_then_master_failover(cluster):
    svc, z1, z2, g1, g2 = cluster
    rc = svc.rc

    async def go():
        runner = await enter_world(g1, unique("Run"))
        walker = await enter_world(g2, unique("Wal"))
        shouter = await enter_world(g2, unique("Sho"))
        cid = runner.entry["characterId"]
        loc = json.loads(wait_for(lambda: rc.get(f"player:location:{cid}")))
        assert loc["zone"] == "zone-crossroads" and loc["zoneServer"] == "zone-1"
        await walk_to_forest(runner)
        await walk_to_forest(walker)
        loc = json.loads(wait_for(
            lambda: (v := rc.get(f"player:location:{cid}")) and "zone-forest" in v and v))
        assert loc["zoneServer"] == "zone-2"
        await asyncio.sleep(0.3)
        # shout from crossroads (zone-1, one shard) heard in forest (zone-2, another)
        await shouter.send("chat", {"channel": "shout", "message": "across"})
        m = await runner.expect("chat", pred=lambda p: p["content"] == "across")
        assert m["channel"] == "shout"
        # whisper across gateways
        await shouter.send("chat", {"channel": "whisper", "message": "psst",
                                    "target": runner.entry["character"]["name"]})
        await runner.expect("chat", pred=lambda p: p["content"] == "psst")

        # SIGKILL the master owning zone-forest's input channel.
        port = svc.master_port_of("zone:{zone-forest}:input")
        killed_at = time.monotonic()
        svc.kill_node(port)
        n = 0
        resumed = None
        while time.monotonic() - killed_at < 30:
            n += 1
            text = f"after-{n}"
            await runner.send("chat", {"channel": "shout", "message": text})
            try:
                await walker.expect("chat", timeout=0.5, pred=lambda p, t=text: p["content"] == t)
                resumed = time.monotonic() - killed_at
                break
            except (AssertionError, asyncio.TimeoutError):
                pass
        assert resumed is not None, "play in zone-forest did not resume after the failover"
        new_port = svc.master_port_of("zone:{zone-forest}:input")
        assert new_port != port
        print(f"\nredis cluster failover: master :{port} killed, :{new_port} promoted, "
              f"zone-forest play resumed after {resumed:.2f} s "
              f"(cluster-node-timeout {NODE_TIMEOUT_MS} ms)")
        # Same connections, still playing: whispers cross gateways, the claim stands.
        await walker.send("chat", {"channel": "whisper", "message": "back",
                                   "target": runner.entry["character"]["name"]})
        await runner.expect("chat", timeout=10, pred=lambda p: p["content"] == "back")
        assert wait_for(lambda: svc.rc.get("zone:assignment:{zone-forest}") == "zone-2", 15)
        # The other shard's zone was never affected.
        await shouter.send("chat", {"channel": "say", "message": "still"})
        await shouter.expect("chat", pred=lambda p: p["content"] == "still")
        for c in (runner, walker, shouter):
            await c.close()
    run(go())


def test_standby_takes_over_a_killed_zone_server(cluster):
    svc, z1, z2, g1, g2 = cluster
    z3 = role(svc, "zone", "zone-3", ZONE_STANDBY=1)
    svc.procs.append(z3)

    async def go():
        anna = await enter_world(g1, unique("Anna"))
        bram = await enter_world(g2, unique("Bram"))
        await walk_to_forest(anna)
        await walk_to_forest(bram)
        await hear(anna, bram, "hello before")
        await asyncio.sleep(2.5)  # the standby has scanned and seen zone-2 host its zones
        svc.killed.append(z2)
        z2.stop(sig=signal.SIGKILL)
        for c in (anna, bram):
            ev = await c.expect("event", timeout=30,
                                pred=lambda p: p["eventType"] == "zone_recovering")
            assert ev["zoneId"] == "zone-forest"
        for c in (anna, bram):
            await c.expect("event", timeout=30, pred=lambda p: p["eventType"] == "zone_recovered")
        assert wait_for(lambda: svc.rc.get("zone:assignment:{zone-forest}") == "zone-3", 15)
        assert wait_for(lambda: svc.rc.get("zone:assignment:{zone-city}") == "zone-3", 30)
        heard = await hear(anna, bram, "hello after takeover")
        assert heard["senderName"] == anna.entry["character"]["name"]
        await hear(bram, anna, "and back")
        for c in (anna, bram):
            await c.close()
    run(go())
