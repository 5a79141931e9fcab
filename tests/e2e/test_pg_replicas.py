"""Issue 15: PostgreSQL read replicas. A primary and a streaming replica
(pg_basebackup -R) started by the test; a zone server and a gateway with
DATABASE_REPLICA_URLS read zone definitions from the replica (per-backend
metrics say so), while logins, character loads and saves use the primary:
a position saved at logout is what the next login sees, at once. With
the replica down, reads fall back to the primary and play goes on."""
import asyncio
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

from cluster import SERVICES
from conftest import Client, enter_world, free_port, http_get, unique
from cluster import role as _role


class PgReplicaServices:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wod-pgr-")
        os.chmod(self.dir, 0o711)
        self.redis_url = self._run("redis", str(free_port()))
        self.pg_port = free_port()
        self.pg_url = self._run("postgres", str(self.pg_port))
        self.replica_port = free_port()
        self.replica_url = self._run("postgres-replica", str(self.replica_port), str(self.pg_port))

    def _run(self, what, *args):
        out = subprocess.run(["bash", SERVICES, what, args[0], self.dir] + list(args[1:]),
                             check=True, capture_output=True, text=True, timeout=120)
        return out.stdout.strip().splitlines()[-1]

    def kill_replica(self):
        f = os.path.join(self.dir, f"replica-{self.replica_port}.postmaster.pid")
        os.kill(int(open(f).read().split()[0]), signal.SIGKILL)

    def stop(self):
        subprocess.run(["bash", SERVICES, "stop", self.dir], capture_output=True, timeout=60)


def metric(body, name, backend):
    m = re.search(rf'^{name}{{role="[a-z]+",backend="{backend}"}} ([0-9.e+-]+)$', body, re.M)
    return float(m.group(1)) if m else None


@pytest.fixture(scope="module")
def setup():
    svc = PgReplicaServices()
    procs = []
    try:
        env = {"DATABASE_REPLICA_URLS": svc.replica_url}
        z = _role(svc, "zone", "zone-r1", **env)
        procs.append(z)
        g = _role(svc, "gateway", "gateway-r1", **env)
        procs.append(g)
        yield svc, z, g
        codes = [p.stop() for p in (g, z)]
        assert codes == [0, 0], [p.logs() for p in (g, z)]
    finally:
        for p in procs:
            p.stop()
        svc.stop()


def test_zone_defs_from_replica_writes_never_lost(setup):
    svc, z, g = setup
    _, body = http_get(z.port, "/metrics")
    # zone (and NPC) definitions came from the replica
    assert metric(body, "wod_store_backend_queries_total", "replica1") >= 1, body
    assert metric(body, "wod_store_replica_lag_seconds", "replica1") is not None
    assert metric(body, "wod_store_backend_pool_in_use", "primary") is not None

    async def go():
        name = unique("Pr")
        a = await enter_world(g, name)
        for i in range(5):  # save, log in again at once: always the latest position
            x = 101 + i
            await a.send("move", {"position": {"x": x, "y": 0, "z": 100}})
            await asyncio.sleep(0.3)
            await a.close()
            await asyncio.sleep(0.3)
            c = await Client.connect(g.ws_url)
            await c.handshake()
            await c.send("auth", {"method": "token", "token": a.token})
            ok = await c.expect("auth_success")
            await c.send("character_select", {"characterId": ok["characters"][0]["id"]})
            entry = await c.expect("world_entry")
            assert abs(entry["character"]["position"]["x"] - x) < 1, (i, entry["character"])
            c.token, c.entry = a.token, entry
            a = c
        await a.close()
    asyncio.run(go())
    _, body = http_get(g.port, "/metrics")
    assert metric(body, "wod_store_backend_queries_total", "primary") >= 10


def test_replica_down_falls_back_to_primary(setup):
    svc, z, g = setup
    svc.kill_replica()
    time.sleep(0.5)
    # a new process reads zone definitions: replica down -> primary, no failure
    z2 = _role(svc, "zone", "zone-r2", DATABASE_REPLICA_URLS=svc.replica_url,
               ASSIGNED_ZONES="zone-none")
    try:
        _, body = http_get(z2.port, "/metrics")
        assert metric(body, "wod_store_backend_queries_total", "replica1") == 0
        assert metric(body, "wod_store_backend_queries_total", "primary") >= 2
        assert "replica1 unavailable" in z2.logs()

        async def go():
            a = await enter_world(g, unique("Pf"))
            await a.send("chat", {"channel": "say", "message": "still"})
            await a.expect("chat", pred=lambda p: p["content"] == "still")
            await a.close()
        asyncio.run(go())
    finally:
        assert z2.stop() == 0
