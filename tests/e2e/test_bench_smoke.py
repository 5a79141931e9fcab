"""Smoke runs of the benchmark tools: wod-bench (200 bot players against
`wod-server all`; a few bots crossing zone borders and shouting) and the
Colyseus peer with its colyseus.js driver (bench/colyseus), and the Node.js
peer (bench/peer) honouring the bots' maxUpdateRate.

Correctness only (everyone connected, nobody failed, chat was heard and a
latency was measured); timings are reported by `make bench`, never asserted
here. The bench binary comes from WOD_BENCH_BIN, else it sits next to
WOD_SERVER_BIN (build/wod-bench)."""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import BIN, Server

BENCH = os.environ.get("WOD_BENCH_BIN", os.path.join(os.path.dirname(BIN), "wod-bench"))


@pytest.mark.skipif(not os.path.exists(BENCH), reason=f"{BENCH} not built")
def test_bench_200_clients_all_connect_and_hear_chat():
    # 200 guests from one address: lift the per-address account-creation limit.
    s = Server(env={"NPCS": "0", "LOG_LEVEL": "warn", "AUTH_GUEST_PER_IP_MINUTE": "0",
                    "AUTH_GUEST_PER_IP_HOUR": "0"}).start()
    try:
        r = subprocess.run(
            [BENCH, "--url", s.ws_url, "--clients", "200", "--ramp", "2", "--duration", "5",
             "--move-hz", "1", "--chat-hz", "0.5", "--json", "--quiet"],
            capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"wod-bench exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        summary = json.loads(lines[-1])
        assert summary["clients_connected"] == 200, r.stdout
        assert summary["clients_failed"] == 0, r.stdout
        assert summary["msgs_recv"] > 0, r.stdout
        assert summary["chats_heard"] > 0, r.stdout
        assert summary["latency_ms"]["samples"] > 0, r.stdout
        assert summary["ping_ms"]["samples"] > 0, r.stdout
        assert summary["recv_bytes_per_bot_s"] > 0, r.stdout
        assert summary["update_rate"] == 2, r.stdout
        assert "bench_cpu_pct_per_1000_bots" in summary, r.stdout
        assert s.proc.poll() is None, "server died under the bench:\n" + s.logs()
    finally:
        rc = s.stop()
    assert rc == 0, f"server exit code {rc}\n{s.logs()}"


def last_json(stdout):
    lines = [l for l in stdout.splitlines() if l.startswith("{")]
    assert lines, stdout
    return json.loads(lines[-1])


@pytest.mark.skipif(not os.path.exists(BENCH), reason=f"{BENCH} not built")
def test_bench_travel_and_shout_cross_zones():
    s = Server(env={"NPCS": "0", "LOG_LEVEL": "warn", "AUTH_GUEST_PER_IP_MINUTE": "0",
                    "AUTH_GUEST_PER_IP_HOUR": "0"}).start()
    try:
        r = subprocess.run(
            [BENCH, "--url", s.ws_url, "--clients", "20", "--ramp", "1", "--duration", "9",
             "--spread", "0", "--move-hz", "1", "--chat-hz", "0", "--shout-hz", "0.5",
             "--travel", "1", "--json", "--quiet"],
            capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"wod-bench exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        summary = last_json(r.stdout)
        assert summary["clients_failed"] == 0, r.stdout
        assert summary["crossings"] > 0, r.stdout  # state_update with a new zone
        assert summary["shouts_heard"] > 0, r.stdout
        assert summary["shout_ms"]["samples"] > 0, r.stdout
        assert s.proc.poll() is None, "server died under the bench:\n" + s.logs()
    finally:
        rc = s.stop()
    assert rc == 0, f"server exit code {rc}\n{s.logs()}"


COLY = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "colyseus")


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                    reason="node/npm not installed")
@pytest.mark.parametrize("views", ["1", "0"])
def test_colyseus_peer_and_driver(views):
    if not os.path.isdir(os.path.join(COLY, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=COLY,
                       check=True, timeout=300)
    port = free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", PATCH_HZ="20", VIEWS=views)
    srv = subprocess.Popen(["node", "server.cjs"], cwd=COLY, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert srv.poll() is None, srv.stdout.read()
                time.sleep(0.2)
        r = subprocess.run(
            ["node", "driver.mjs", "--url", f"ws://127.0.0.1:{port}", "--clients", "20",
             "--ramp", "1", "--duration", "3", "--spread", "20", "--move-hz", "2",
             "--chat-hz", "1", "--update-rate", "20", "--json"],
            cwd=COLY, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"driver exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        summary = last_json(r.stdout)
        assert summary["clients_connected"] == 20, r.stdout
        assert summary["clients_failed"] == 0, r.stdout
        assert summary["chats_heard"] > 0, r.stdout  # say range: bots within 20 ft of each other
        assert summary["latency_ms"]["samples"] > 0, r.stdout
        assert summary["move_roster_ms"]["samples"] > 0, r.stdout  # state patches arrived
        assert summary["recv_bytes_per_bot_s"] > 0, r.stdout
        assert srv.poll() is None, "the Colyseus peer died"
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


PEER = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "peer")
SERVICES = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "services.sh")


@pytest.mark.skipif(not os.path.exists(BENCH) or shutil.which("node") is None
                    or shutil.which("redis-server") is None,
                    reason="wod-bench, node or redis-server missing")
def test_node_peer_honours_max_update_rate(tmp_path):
    # Equal terms: with HONOUR_UPDATE_RATE=1 the peer sends a bot's roster at most
    # maxUpdateRate (2) times a second instead of every tick (20).
    if not os.path.isdir(os.path.join(PEER, "node_modules")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER,
                       check=True, timeout=300)
    svc = tmp_path / "svc"
    svc.mkdir()
    os.chmod(svc, 0o711)
    redis_url = subprocess.run(["bash", SERVICES, "redis", str(free_port()), str(svc)], check=True,
                               capture_output=True, text=True, timeout=60).stdout.split()[-1]
    port = free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", REDIS_URL=redis_url, TICK_RATE="20",
               HONOUR_UPDATE_RATE="1")
    srv = subprocess.Popen(["node", "server.js"], cwd=PEER, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert srv.poll() is None, srv.stdout.read()
                time.sleep(0.2)
        r = subprocess.run(
            [BENCH, "--url", f"ws://127.0.0.1:{port}/ws", "--clients", "20", "--ramp", "1",
             "--duration", "4", "--spread", "20", "--move-hz", "2", "--chat-hz", "0.5",
             "--update-rate", "2", "--json", "--quiet"],
            capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"wod-bench exit {r.returncode}\n{r.stdout}\n{r.stderr}"
        summary = last_json(r.stdout)
        assert summary["clients_failed"] == 0, r.stdout
        per_bot = summary["rosters_per_s"] / summary["clients_connected"]
        assert 0 < per_bot <= 3, r.stdout  # 2 Hz (+ the entry roster), never the 20 Hz tick
        assert summary["chats_heard"] > 0, r.stdout
        assert srv.poll() is None, "the peer died"
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
        subprocess.run(["bash", SERVICES, "stop", str(svc)], capture_output=True, timeout=60)


WORLD = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "bench-world.sh")


def run_world(mode_args, env):
    e = dict(os.environ, BUILD=os.path.dirname(os.path.abspath(BIN)), WORLD_RAMP="3",
             WORLD_DURATION="6", WORLD_PROCS="2", **env)
    r = subprocess.run(["bash", WORLD] + mode_args, capture_output=True, text=True,
                       timeout=300, env=e)
    assert r.returncode == 0, f"bench-world.sh exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def gateway_rows(out):
    return [l.split() for l in out.splitlines() if l.strip().startswith("gateway-")]


@pytest.mark.skipif(not os.path.exists(BENCH), reason=f"{BENCH} not built")
def test_bench_world_smoke_two_gateways_two_zone_servers():
    out = run_world([], {"WORLD_CLIENTS": "200",
                         "WORLD_ARGS": "--travel 2 --shout-hz 0.5 --spread 0"})
    assert "connected 200, failed 0" in out, out
    assert len(gateway_rows(out)) == 2, out
    crossings = int(out.split("border crossings ")[1].split()[0].replace(",", ""))
    heard = int(out.split("shouts heard ")[1].split()[0].replace(",", ""))
    assert crossings > 0 and heard > 0, out
    assert "Redis: " in out and "commands/s" in out, out


@pytest.mark.skipif(not os.path.exists(BENCH) or not shutil.which("haproxy"),
                    reason="wod-bench or haproxy missing")
def test_bench_world_idle_smoke_through_haproxy():
    out = run_world(["--idle"], {"WORLD_CLIENTS": "300"})
    assert "through haproxy" in out, out
    assert "connected 300, failed 0" in out, out
    rows = gateway_rows(out)
    assert len(rows) == 3, out
    # haproxy's leastconn spreads them: every gateway holds some clients
    assert all(float(r[3]) > float(r[2]) for r in rows), out
