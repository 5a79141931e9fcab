// sio.test.mjs - a stock socket.io-client@4 (transports: ['websocket']) against
// a real `wod-server all`, the way the original server's clients connect.
//
// Run: cd tests/e2e/node && npm ci && node --test
// The server binary comes from WOD_SERVER_BIN (default: <repo>/build/wod-server).
// The test starts its own server on a free port with a throwaway SQLite
// database and short Engine.IO ping timers, and kills it by PID at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER_BIN = process.env.WOD_SERVER_BIN || path.resolve(here, '../../../build/wod-server');
const PING_INTERVAL_MS = 1000;
const PING_TIMEOUT_MS = 1000;
const EVENT_TIMEOUT_MS = 5000;

let server = null; // ChildProcess
let serverLog = '';
let tmpDir = null;
let baseUrl = null;
const sockets = [];

function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForHealth(url, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let lastErr = null;
    while (Date.now() < deadline) {
        if (server.exitCode !== null || server.signalCode !== null)
            throw new Error(`wod-server exited (${server.exitCode ?? server.signalCode}):\n${serverLog}`);
        try {
            const res = await fetch(`${url}/health`);
            if (res.ok) return;
            lastErr = new Error(`GET /health -> ${res.status}`);
        } catch (err) {
            lastErr = err;
        }
        await sleep(100);
    }
    throw new Error(`wod-server did not answer /health within ${timeoutMs} ms: ${lastErr}\n${serverLog}`);
}

before(async () => {
    assert.ok(fs.existsSync(SERVER_BIN), `server binary not found: ${SERVER_BIN} (set WOD_SERVER_BIN)`);
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-sio-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    server = spawn(SERVER_BIN, ['all'], {
        cwd: tmpDir,
        env: {
            ...process.env,
            GATEWAY_PORT: String(port),
            DATABASE_URL: `sqlite:${path.join(tmpDir, 'wod.db')}`,
            LOG_LEVEL: 'warn',
            SIO_PING_INTERVAL_MS: String(PING_INTERVAL_MS),
            SIO_PING_TIMEOUT_MS: String(PING_TIMEOUT_MS),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk) => {
        serverLog += chunk.toString();
        if (serverLog.length > 64 * 1024) serverLog = serverLog.slice(-64 * 1024);
    };
    server.stdout.on('data', keep);
    server.stderr.on('data', keep);
    await waitForHealth(baseUrl, 10000);
});

after(async () => {
    for (const s of sockets) s.disconnect();
    if (server && server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        process.kill(server.pid, 'SIGTERM');
        const timer = setTimeout(() => {
            if (server.exitCode === null && server.signalCode === null) process.kill(server.pid, 'SIGKILL');
        }, 5000);
        await exited;
        clearTimeout(timer);
    }
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

// A new Socket.IO connection on the default namespace, websocket only, no reconnects.
function connect(nsp = '/') {
    const socket = io(baseUrl + (nsp === '/' ? '' : nsp), {
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: EVENT_TIMEOUT_MS,
    });
    sockets.push(socket);
    return socket;
}

// Resolves with the first `event` whose payload satisfies `match`.
function nextEvent(socket, event, match = () => true, timeoutMs = EVENT_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
        const onEvent = (payload) => {
            if (!match(payload)) return;
            cleanup();
            resolve(payload);
        };
        const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`no '${event}' event within ${timeoutMs} ms\n--- server log ---\n${serverLog}`));
        }, timeoutMs);
        const cleanup = () => {
            clearTimeout(timer);
            socket.off(event, onEvent);
        };
        socket.on(event, onEvent);
    });
}

function connected(socket) {
    if (socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', (err) => reject(new Error(`connect_error: ${err.message}`)));
    });
}

function uniqueName(prefix) {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const tail = Array.from(randomBytes(8), (b) => letters[b % 26]).join('');
    return (prefix + tail).slice(0, 20);
}

// handshake -> auth (guest) -> character_create -> world_entry + proximity_roster.
async function enterWorld(socket, name) {
    await connected(socket);

    const ack = nextEvent(socket, 'handshake_ack');
    socket.emit('handshake', {
        protocolVersion: '1.0.0',
        clientType: 'text',
        clientVersion: '1.0',
        capabilities: { graphics: false, audio: false, input: ['keyboard'], maxUpdateRate: 10 },
    });
    const handshakeAck = await ack;

    const authOk = nextEvent(socket, 'auth_success');
    socket.emit('auth', { method: 'guest', guestName: name.slice(0, 12) });
    const auth = await authOk;

    const entry = nextEvent(socket, 'world_entry');
    const roster = nextEvent(socket, 'proximity_roster');
    socket.emit('character_create', { name, appearance: { description: 'x' } });
    const worldEntry = await entry;
    const proximityRoster = await roster;
    return { handshakeAck, auth, worldEntry, proximityRoster };
}

test('polling transport is refused with the Engine.IO "Transport unknown" error', async () => {
    const res = await fetch(`${baseUrl}/socket.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.deepEqual(body, { code: 0, message: 'Transport unknown' });
});

test('handshake, guest auth, character_create, world_entry, roster, ping', async () => {
    const socket = connect();
    const name = uniqueName('Sio');
    const { handshakeAck, auth, worldEntry, proximityRoster } = await enterWorld(socket, name);

    assert.equal(handshakeAck.compatible, true);
    assert.equal(typeof handshakeAck.sessionId, 'string');
    assert.equal(typeof handshakeAck.serverVersion, 'string');

    assert.equal(typeof auth.token, 'string');
    assert.ok(auth.token.length > 0);
    assert.ok(Array.isArray(auth.characters));

    assert.equal(worldEntry.zone.id, 'zone-crossroads');
    assert.equal(worldEntry.character.name, name);
    assert.ok(Array.isArray(worldEntry.entities));
    assert.ok(Array.isArray(worldEntry.exits));

    assert.equal(typeof proximityRoster.channels, 'object');
    for (const ch of ['touch', 'say', 'shout', 'emote', 'see', 'hear', 'cfh'])
        assert.equal(typeof proximityRoster.channels[ch]?.count, 'number', `roster channel ${ch}`);

    const timestamp = Date.now();
    const pong = nextEvent(socket, 'pong');
    socket.emit('ping', { timestamp });
    const p = await pong;
    assert.equal(p.clientTimestamp, timestamp);
    assert.equal(typeof p.serverTimestamp, 'number');

    socket.disconnect();
});

test('an event sent with an acknowledgement callback is acknowledged', async () => {
    const socket = connect();
    await connected(socket);
    // 42<id>["ping",{...}] must be answered by 43<id>[...]; emitWithAck rejects
    // on timeout. What the ack carries is the server's choice, so only its
    // arrival (and the normal reply) is checked.
    const pong = nextEvent(socket, 'pong');
    await socket.timeout(EVENT_TIMEOUT_MS).emitWithAck('ping', { timestamp: 7 });
    assert.equal((await pong).clientTimestamp, 7);
    socket.disconnect();
});

test('two Socket.IO clients in the same zone hear each other', async () => {
    const a = connect();
    const b = connect();
    await enterWorld(a, uniqueName('Alice'));
    const bEntry = await enterWorld(b, uniqueName('Bob'));
    assert.equal(bEntry.worldEntry.zone.id, 'zone-crossroads');

    const heard = nextEvent(b, 'chat', (m) => m.content === 'hello');
    a.emit('chat', { channel: 'say', message: 'hello', timestamp: Date.now() });
    const msg = await heard;
    assert.equal(msg.channel, 'say');
    assert.equal(msg.content, 'hello');
    assert.equal(typeof msg.senderName, 'string');

    a.disconnect();
    b.disconnect();
});

// A native /ws client: one JSON object per frame.
async function nativeClient(name) {
    const ws = new WebSocket(baseUrl.replace('http', 'ws') + '/ws');
    const inbox = [];
    const waiters = [];
    ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        inbox.push(m);
        for (const w of [...waiters]) if (w.type === m.type && w.match(m.payload)) w.done(m.payload);
    });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const c = {
        ws,
        send: (type, payload) => ws.send(JSON.stringify({ type, payload })),
        next: (type, match = () => true) => new Promise((resolve, reject) => {
            const found = inbox.find((m) => m.type === type && match(m.payload));
            if (found) { inbox.splice(inbox.indexOf(found), 1); return resolve(found.payload); }
            const w = { type, match, done: (p) => { clearTimeout(w.timer); waiters.splice(waiters.indexOf(w), 1); resolve(p); } };
            w.timer = setTimeout(() => reject(new Error(`no native '${type}'\n${serverLog}`)), EVENT_TIMEOUT_MS);
            waiters.push(w);
        }),
    };
    c.send('handshake', { protocolVersion: '1.0.0', clientType: '3d', clientVersion: '1', capabilities: {} });
    await c.next('handshake_ack');
    c.send('auth', { method: 'guest', guestName: 'Native' });
    await c.next('auth_success');
    c.send('character_create', { name, appearance: { description: 'native' } });
    c.entry = await c.next('world_entry');
    await c.next('proximity_roster');
    return c;
}

test('a Socket.IO client and a native /ws client see and hear each other', async () => {
    const s = connect();
    const sName = uniqueName('Sock');
    await enterWorld(s, sName);
    const n = await nativeClient(uniqueName('Nat'));

    const heardByNative = n.next('chat', (m) => m.content === 'from socket.io');
    s.emit('chat', { channel: 'say', message: 'from socket.io' });
    assert.equal((await heardByNative).senderName, sName);

    const heardBySio = nextEvent(s, 'chat', (m) => m.content === 'from ws');
    n.send('chat', { channel: 'say', message: 'from ws' });
    assert.equal((await heardBySio).channel, 'say');

    // the native client moves; the Socket.IO client's roster notices
    const delta = nextEvent(s, 'proximity_roster_delta');
    n.send('move', { method: 'compass', compass: 'E', speed: 'walk' });
    await delta;
    // and the other way round
    const nDelta = n.next('proximity_roster_delta');
    s.emit('move', { method: 'heading', heading: 180, speed: 'walk' });
    await nDelta;
    n.ws.close();
    s.disconnect();
});

test('an idle client stays connected past pingInterval + pingTimeout', async () => {
    const socket = connect();
    await connected(socket);
    const start = Date.now();
    const pingTimes = []; // ms since connect at which each Engine.IO ping arrived
    let dropped = null;
    socket.io.engine.on('ping', () => pingTimes.push(Date.now() - start));
    socket.on('disconnect', (reason) => (dropped = reason));

    await sleep(PING_INTERVAL_MS + PING_TIMEOUT_MS + 1000);

    const seen = `pings at [${pingTimes.join(', ')}] ms`;
    assert.equal(dropped, null, `disconnected (${dropped}); ${seen}`);
    assert.equal(socket.connected, true);
    // The server pings every pingInterval: pings at ~1, ~2, ~3 s. A stock client
    // gives up pingInterval + pingTimeout after the last ping, so a late ping
    // is a disconnect waiting to happen.
    assert.ok(pingTimes.length >= 2, `expected at least 2 pings in 3 s; ${seen}`);
    for (let i = 0; i < pingTimes.length; i++) {
        const gap = pingTimes[i] - (i ? pingTimes[i - 1] : 0);
        assert.ok(gap <= PING_INTERVAL_MS + 500, `ping gap ${gap} ms > pingInterval ${PING_INTERVAL_MS}; ${seen}`);
    }

    // Still usable after the idle period.
    const pong = nextEvent(socket, 'pong');
    socket.emit('ping', { timestamp: 1 });
    assert.equal((await pong).clientTimestamp, 1);
    socket.disconnect();
});

test('a client that stops answering pings is disconnected by the server', async (t) => {
    const socket = connect();
    await connected(socket);
    const engine = socket.io.engine;
    // engine.io-client answers pings from a private method; drop its pongs.
    if (typeof engine._sendPacket !== 'function') {
        t.skip('engine.io-client internals changed; cannot suppress pongs');
        return;
    }
    const send = engine._sendPacket.bind(engine);
    engine._sendPacket = (type, ...rest) => (type === 'pong' ? undefined : send(type, ...rest));

    const reason = await nextEvent(socket, 'disconnect', () => true, PING_INTERVAL_MS + PING_TIMEOUT_MS + 3000);
    // 'ping timeout' would mean the server stopped pinging rather than closing us.
    assert.ok(['transport close', 'io server disconnect'].includes(reason), `disconnect reason: ${reason}`);
});

test('a namespace other than "/" gets a connect error, not a hang', async () => {
    const socket = connect('/admin');
    const err = await new Promise((resolve, reject) => {
        socket.once('connect', () => reject(new Error('connected to /admin')));
        socket.once('connect_error', resolve);
        setTimeout(() => reject(new Error('no connect_error for /admin')), EVENT_TIMEOUT_MS);
    });
    assert.equal(typeof err.message, 'string');
    assert.ok(err.message.length > 0);
    socket.disconnect();
});
