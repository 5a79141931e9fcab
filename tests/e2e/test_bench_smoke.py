"""wod-bench smoke run: 200 bot players against `wod-server all`.

Correctness only (everyone connected, nobody failed, chat was heard and a
latency was measured); timings are reported by `make bench`, never asserted
here. The bench binary comes from WOD_BENCH_BIN, else it sits next to
WOD_SERVER_BIN (build/wod-bench)."""
import json
import os
import subprocess

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
        assert s.proc.poll() is None, "server died under the bench:\n" + s.logs()
    finally:
        rc = s.stop()
    assert rc == 0, f"server exit code {rc}\n{s.logs()}"
