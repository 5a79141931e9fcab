"""Records the compact frames one client receives in a crowd and compares
their size with the same records written as compact JSON arrays (the
alternative encoding; docs/PERFORMANCE.md, "Compact encoding").

    /usr/bin/python3 tests/e2e/compact_sizes.py ws://127.0.0.1:PORT/ws SECONDS

Run it while wod-bench keeps a crowd moving on that server. Sizes include
the WebSocket frame header a server sends (2 bytes, 4 from 126 bytes)."""
import asyncio
import json
import sys
import time

import websockets

from compact_codec import CompactView, as_json_arrays


def ws_header(n):
    return 2 if n < 126 else 4 if n < 65536 else 10


async def main(url, seconds):
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "handshake", "payload": {
            "protocolVersion": "1.0.0", "clientType": "text", "clientVersion": "sizes",
            "capabilities": {"maxUpdateRate": 20, "encoding": "compact"}}}))
        await ws.send(json.dumps({"type": "auth", "payload": {"method": "guest"}}))
        await ws.send(json.dumps({"type": "character_create", "payload": {
            "name": f"Sizes{int(time.time()) % 100000}", "appearance": {"description": "x"}}}))
        view = CompactView()
        binary = arrays = frames = 0
        start = None
        while True:
            raw = await asyncio.wait_for(ws.recv(), 10)
            if not isinstance(raw, bytes):
                continue
            kind, recs = view.apply(raw)
            if start is None:  # skip the full frame at entry
                start = time.monotonic()
                continue
            frames += 1
            binary += len(raw) + ws_header(len(raw))
            n = as_json_arrays(kind, recs, view)
            arrays += n + ws_header(n)
            if time.monotonic() - start >= seconds:
                break
        t = time.monotonic() - start
        print(json.dumps({"seconds": round(t, 1), "frames_per_s": round(frames / t, 1),
                          "binary_bytes_per_s": round(binary / t),
                          "json_arrays_bytes_per_s": round(arrays / t),
                          "ratio": round(arrays / binary, 2), "in_view": len(view.view)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
