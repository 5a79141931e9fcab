"""Issue: Socket.IO v4. Debian's python-socketio client plays next to a
native /ws client: same dispatcher, same world."""
import asyncio

import socketio

from conftest import enter_world, http_get, unique


def run(coro):
    return asyncio.run(coro)


class SioPlayer:
    def __init__(self):
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events = asyncio.Queue()
        self.sio.on("*", self._any)

    async def _any(self, event, data=None):
        await self.events.put((event, data))

    async def expect(self, name, timeout=5, pred=None):
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no {name} event within {timeout}s")
            event, data = await asyncio.wait_for(self.events.get(), left)
            if event == name and (pred is None or pred(data)):
                return data


def test_python_socketio_client_plays_with_native_client(server):
    async def go():
        p = SioPlayer()
        await p.sio.connect(f"http://127.0.0.1:{server.port}", transports=["websocket"])
        await p.sio.emit("handshake", {"protocolVersion": "1.0.0", "clientType": "2d",
                                       "clientVersion": "py", "capabilities": {
                                           "graphics": True, "audio": False,
                                           "input": ["mouse"], "maxUpdateRate": 10}})
        ack = await p.expect("handshake_ack")
        assert ack["compatible"] is True
        await p.sio.emit("auth", {"method": "guest", "guestName": "Py"})
        auth = await p.expect("auth_success")
        assert auth["token"]
        name = unique("Py")
        await p.sio.emit("character_create", {"name": name, "appearance": {"description": "x"}})
        entry = await p.expect("world_entry")
        assert entry["zone"]["id"] == "zone-crossroads"
        await p.expect("proximity_roster")
        # an acknowledgement when the client asks for one
        res = await p.sio.call("ping", {"timestamp": 77}, timeout=5)
        assert res == {"ok": True}
        pong = await p.expect("pong")
        assert pong["clientTimestamp"] == 77

        native = await enter_world(server, unique("Ws"))
        await p.sio.emit("chat", {"channel": "say", "message": "from socket.io"})
        m = await native.expect("chat", pred=lambda d: d["content"] == "from socket.io")
        assert m["senderName"] == name
        await native.send("chat", {"channel": "say", "message": "from ws"})
        m = await p.expect("chat", pred=lambda d: d["content"] == "from ws")
        assert m["channel"] == "say"
        await p.sio.emit("move", {"method": "compass", "compass": "E", "speed": "walk"})
        await native.expect("proximity_roster_delta", timeout=3)
        # bad input gets an error event, the connection stays
        await p.sio.emit("move", {"method": "sideways"})
        err = await p.expect("error")
        assert err["code"] == "INVALID_PAYLOAD"
        await p.sio.emit("ping", {"timestamp": 1})
        await p.expect("pong")
        await p.sio.disconnect()
        await native.close()
    run(go())


def test_polling_transport_is_refused_clearly(server):
    status, body = http_get(server.port, "/socket.io/?EIO=4&transport=polling")
    assert status == 400
    assert body == '{"code":0,"message":"Transport unknown"}'
