"""Shared fixtures for the end-to-end tests: real wod-server processes on
loopback, real WebSocket clients. Run with Debian's /usr/bin/python3 -m pytest."""
import asyncio
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
import websockets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("WOD_SERVER_BIN", os.path.join(ROOT, "build", "wod-server"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, timeout=5):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Server:
    """One wod-server process. Restartable with the same data directory."""

    def __init__(self, role="all", env=None, datadir=None):
        self.role = role
        self.datadir = datadir or tempfile.mkdtemp(prefix="wod-e2e-")
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "GATEWAY_PORT": str(self.port),
            "BIND_ADDRESS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:{self.datadir}/wod.db",
            "LOG_LEVEL": "info",
            "SAVE_INTERVAL_MS": "500",
            # Every test client comes from 127.0.0.1: the per-address guest
            # limit would refuse the 61st guest of a minute. test_hostile_auth
            # sets its own limits.
            "AUTH_GUEST_PER_IP_MINUTE": "0",
            "AUTH_GUEST_PER_IP_HOUR": "0",
        })
        self.env.update(env or {})
        self.proc = None
        self.log_path = os.path.join(self.datadir, f"server-{self.port}.log")

    def start(self, wait_path="/health"):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, self.role], env=self.env, cwd=self.datadir,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.logs()}")
            try:
                status, _ = http_get(self.port, wait_path, timeout=1)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become healthy: " + self.logs())

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc

    def logs(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")[-4000:]
        except OSError:
            return ""

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws"


@pytest.fixture
def server():
    s = Server().start()
    yield s
    rc = s.stop()
    assert rc == 0, f"server exit code {rc}\n{s.logs()}"


class Client:
    """A native /ws protocol client that keeps every message it receives."""

    def __init__(self, ws):
        self.ws = ws
        self.inbox = []

    @classmethod
    async def connect(cls, url):
        return cls(await websockets.connect(url, max_size=None))

    async def send(self, type_, payload=None):
        await self.ws.send(json.dumps({"type": type_, "payload": payload or {}}))

    async def recv_any(self, timeout=5):
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        msg = json.loads(raw)
        self.inbox.append(msg)
        return msg

    async def expect(self, type_, timeout=5, pred=None):
        """Next message of `type_` (matching pred); others are kept in inbox."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {type_} within {timeout}s; got "
                                     f"{[m['type'] for m in self.inbox[-10:]]}")
            msg = await self.recv_any(left)
            if msg["type"] == type_ and (pred is None or pred(msg["payload"])):
                return msg["payload"]

    async def drain(self, seconds):
        """Collects whatever arrives for `seconds`."""
        got = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            try:
                got.append(await self.recv_any(left))
            except asyncio.TimeoutError:
                return got

    async def handshake(self, max_update_rate=20):
        await self.send("handshake", {"protocolVersion": "1.0.0", "clientType": "text",
                                      "clientVersion": "e2e", "capabilities": {
                                          "graphics": False, "audio": False,
                                          "input": ["keyboard"], "maxUpdateRate": max_update_rate}})
        return await self.expect("handshake_ack")

    async def guest(self, name="Guest"):
        await self.send("auth", {"method": "guest", "guestName": name})
        return await self.expect("auth_success")

    async def create(self, name):
        await self.send("character_create", {"name": name, "appearance": {"description": "e2e"}})
        entry = await self.expect("world_entry")
        roster = await self.expect("proximity_roster")
        return entry, roster

    async def close(self):
        await self.ws.close()


async def enter_world(server, name, max_update_rate=20):
    c = await Client.connect(server.ws_url)
    await c.handshake(max_update_rate)
    auth = await c.guest(name)
    entry, roster = await c.create(name)
    c.token = auth["token"]
    c.entry = entry
    c.roster = roster
    return c


_counter = [0]


def unique(prefix="P"):
    _counter[0] += 1
    return f"{prefix}{os.getpid() % 1000}x{_counter[0]}"
