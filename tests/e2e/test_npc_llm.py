"""LLM-voiced NPCs against a local OpenAI-compatible stand-in (python http.server)."""
import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import Server, enter_world, unique
from test_npc import MERCHANT_LINES, npc


class FakeLLM:
    """Answers POST /v1/chat/completions; `mode` picks the answer."""

    def __init__(self):
        self.requests = []
        self.mode = "say"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),
                                      "json": json.loads(body)})
                if fake.mode == "slow":
                    time.sleep(3)
                if fake.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                content = {"say": "SAY: Welcome to my humble cart, traveller.",
                           "none": "NONE", "slow": "SAY: too late"}[fake.mode]
                out = json.dumps({"choices": [{"message": {"role": "assistant",
                                                           "content": content}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def llm_world():
    fake = FakeLLM()
    s = Server(env={"LLM_BASE_URL": f"http://127.0.0.1:{fake.port}/v1", "LLM_MODEL": "test-model",
                    "LLM_API_KEY": "sekret", "LLM_TIMEOUT_MS": "1000",
                    "LLM_NPC_COOLDOWN_MS": "0"}).start()
    yield s, fake
    assert s.stop() == 0, s.logs()
    fake.close()


def merchant_says(a, merchant_id):
    return a.expect("chat", timeout=10, pred=lambda p: p["senderId"] == merchant_id)


def test_llm_voices_the_merchant_and_falls_back(llm_world):
    srv, fake = llm_world

    async def go():
        a = await enter_world(srv, unique("La"))
        merchant = npc(a.entry, "Old Merchant")["id"]
        await a.send("chat", {"channel": "say", "message": "Evening, merchant. Any news?"})
        m = await merchant_says(a, merchant)
        assert m["content"] == "Welcome to my humble cart, traveller."
        assert m["channel"] == "say" and m["senderName"] == "Old Merchant"
        req = fake.requests[-1]
        assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sekret"
        assert req["json"]["model"] == "test-model"
        assert "Old Merchant" in req["json"]["messages"][0]["content"]
        assert "Any news?" in req["json"]["messages"][1]["content"]

        # the model chooses silence: nothing from him (the reply cooldown is 2 s)
        fake.mode = "none"
        await asyncio.sleep(2.2)
        n = len(fake.requests)
        await a.send("chat", {"channel": "say", "message": "Merchant?"})
        got = await a.drain(1.5)
        assert len(fake.requests) == n + 1
        assert not [x for x in got if x["type"] == "chat"
                    and x["payload"]["senderId"] == merchant]

        # an error, then a timeout (1 s; the stand-in takes 3): scripted lines instead
        for mode in ("error", "slow"):
            fake.mode = mode
            await asyncio.sleep(2.2)
            await a.send("chat", {"channel": "say", "message": "Merchant, hello"})
            await a.send("ping", {"timestamp": 1})
            await a.expect("pong")  # the loop is not blocked while the request hangs
            m = await merchant_says(a, merchant)
            assert m["content"] in MERCHANT_LINES
        # leave a request in flight: the server must still stop cleanly (fixture)
        await asyncio.sleep(2.2)
        n = len(fake.requests)
        await a.send("chat", {"channel": "say", "message": "Merchant, one more thing"})
        for _ in range(50):
            if len(fake.requests) > n:
                break
            await asyncio.sleep(0.05)
        assert len(fake.requests) == n + 1
        await a.close()
    asyncio.run(go())
