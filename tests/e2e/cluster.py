"""Real services for distributed tests: redis-server and PostgreSQL on
loopback (scripts/services.sh), and wod-server gateway/zone processes."""
import os
import subprocess
import tempfile
import time

import redis as redis_lib

from conftest import ROOT, Server, free_port

SERVICES = os.path.join(ROOT, "scripts", "services.sh")


class Services:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wod-svc-")
        os.chmod(self.dir, 0o711)
        self.redis_port = free_port()
        self.pg_port = free_port()
        self.redis_url = self._run("redis", self.redis_port)
        self.pg_url = self._run("postgres", self.pg_port)
        self.redis = redis_lib.Redis(port=self.redis_port, decode_responses=True)

    def _run(self, what, port):
        out = subprocess.run(["bash", SERVICES, what, str(port), self.dir], check=True,
                             capture_output=True, text=True, timeout=120)
        return out.stdout.strip().splitlines()[-1]

    @staticmethod
    def _kill_and_wait(pid, sig, timeout):
        os.kill(pid, sig)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
                time.sleep(0.05)
            except ProcessLookupError:
                return

    def restart_redis(self, down_seconds=1.0):
        pid = int(open(os.path.join(self.dir, "redis.pid")).read())
        self._kill_and_wait(pid, 9, 10)
        time.sleep(down_seconds)
        self._run("redis", self.redis_port)

    def restart_postgres(self, down_seconds=1.0):
        pid = int(open(os.path.join(self.dir, "postmaster.pid")).read().split()[0])
        self._kill_and_wait(pid, 2, 30)  # SIGINT: fast shutdown, as an operator's restart does
        time.sleep(down_seconds)
        # its runuser wrapper may linger as a zombie; the postmaster is gone
        os.unlink(os.path.join(self.dir, "postgres.pid"))
        self._run("postgres", self.pg_port)

    def stop(self):
        subprocess.run(["bash", SERVICES, "stop", self.dir], capture_output=True, timeout=60)


def role(services, role_name, server_id, **env):
    e = {"SERVER_ID": server_id, "REDIS_URL": services.redis_url,
         "DATABASE_URL": services.pg_url, "NPCS": "0"}
    e.update({k: str(v) for k, v in env.items()})
    s = Server(role=role_name, env=e)
    if role_name == "zone":
        s.env["ZONE_HTTP_PORT"] = str(s.port)
        s.env["GATEWAY_PORT"] = str(free_port())
    return s.start()
