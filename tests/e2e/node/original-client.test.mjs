// original-client.test.mjs - a client written the way the original server's
// text clients are (GAME-REFERENCE.md section 1, both generations), over a
// stock socket.io-client@4 (transports: ['websocket']), plays a full session
// against a real `wod-server all`: no `error` event, one chat event per line,
// `dangerState` read as a boolean and `currentSpeed` as a string.
//
// Run: cd tests/e2e/node && npm ci && node --test
// The server binary comes from WOD_SERVER_BIN (default: <repo>/build/wod-server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER_BIN = process.env.WOD_SERVER_BIN || path.resolve(here, '../../../build/wod-server');
const ACTION_EVERY_MS = 2000; // the original clients act every 2 s

let server = null;
let serverLog = '';
let tmpDir = null;
let baseUrl = null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

before(async () => {
    assert.ok(fs.existsSync(SERVER_BIN), `server binary not found: ${SERVER_BIN} (set WOD_SERVER_BIN)`);
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wod-orig-'));
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    server = spawn(SERVER_BIN, ['all'], {
        cwd: tmpDir,
        env: {
            ...process.env,
            GATEWAY_PORT: String(port),
            DATABASE_URL: `sqlite:${path.join(tmpDir, 'wod.db')}`,
            LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk) => {
        serverLog = (serverLog + chunk.toString()).slice(-64 * 1024);
    };
    server.stdout.on('data', keep);
    server.stderr.on('data', keep);
    const deadline = Date.now() + 10000;
    for (;;) {
        try {
            if ((await fetch(`${baseUrl}/health`)).ok) break;
        } catch {
            /* not up yet */
        }
        if (Date.now() > deadline) throw new Error(`wod-server did not start:\n${serverLog}`);
        await sleep(100);
    }
});

after(async () => {
    if (server && server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        process.kill(server.pid, 'SIGTERM');
        const timer = setTimeout(() => process.kill(server.pid, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
    }
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
});

// The original client, as a promise of what it saw. It prints what it reads;
// here "printing" is recording, and every read uses the original's field
// names and types, so a wrong shape throws inside its handlers.
function playOriginalSession() {
    return new Promise((resolve, reject) => {
        const seen = { errors: [], chatLines: [], rosters: [], printed: [], entry: null };
        const socket = io(baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true });
        const print = (s) => seen.printed.push(s);
        const fail = (err) => {
            socket.disconnect();
            reject(err);
        };
        const guard = (fn) => (payload) => {
            try {
                fn(payload);
            } catch (err) {
                fail(err);
            }
        };
        const timer = setTimeout(() => fail(new Error(`session did not finish: ${seen.printed.join(' | ')}`)), 40000);

        socket.on('connect', () => {
            socket.emit('handshake', {
                protocolVersion: '1.0.0', clientType: 'text', clientVersion: '0.1.0',
                capabilities: { graphics: false, audio: false, input: ['keyboard'], maxUpdateRate: 1 },
            });
        });
        socket.on('handshake_ack', guard((ack) => {
            if (!ack.compatible) throw new Error('server says incompatible');
            seen.ack = ack;
            socket.emit('auth', { method: 'guest', guestName: 'TestWanderer' });
        }));
        socket.on('auth_success', guard((a) => {
            seen.token = a.token; // the original ignores it; the test uses it to come back
            if (a.characters.length > 0) socket.emit('character_select', { characterId: a.characters[0].id });
            else socket.emit('character_create', {
                name: 'TestHero', appearance: { description: 'A mysterious figure shrouded in shadows.' },
            });
        }));
        socket.on('auth_error', guard((e) => { throw new Error(`auth_error: ${e.message}`); }));
        socket.on('world_entry', guard((w) => {
            seen.entry = w;
            const c = w.character;
            const dirs = ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'];
            print(`${c.name} HP ${c.health.current}/${c.health.max} ST ${c.stamina.current}/${c.stamina.max}`);
            print(`at ${c.position.x},${c.position.y},${c.position.z} facing ${dirs[Math.round(c.heading / 45) % 8]}`);
            assert.equal(typeof c.currentSpeed, 'string');
            print(c.currentSpeed === 'stop' ? 'stationary' : `${c.currentSpeed}ing`);
            const z = w.zone;
            print(`${z.name}: ${z.description} (${z.weather}, ${z.timeOfDay}, ${z.lighting}, ${z.contentRating})`);
            for (const e of w.entities) print(`${e.name}${e.hostile ? ' (hostile)' : ''}${e.interactive ? ' *' : ''}: ${e.description}`);
            for (const x of w.exits) print(`${x.direction}: ${x.name} - ${x.description}`);

            // one action every 2 s, then disconnect; moves aim at z-10, -20, -30
            const p = c.position;
            const move = (dz) => socket.emit('move', { position: { x: p.x, y: p.y, z: p.z - dz }, heading: 0, speed: 'walk' });
            const actions = [
                () => move(10),
                () => socket.emit('chat', { channel: 'say', message: 'Hello, anyone nearby?' }),
                () => move(20),
                () => socket.emit('chat', { channel: 'shout', message: 'Is anyone out there?!' }),
                () => move(30),
                () => socket.emit('chat', { channel: 'emote', message: 'looks around cautiously' }),
                () => socket.emit('chat', { channel: 'cfh', message: 'Testing emergency broadcast system!' }),
            ];
            let i = 0;
            const step = () => {
                if (i < actions.length) {
                    actions[i++]();
                    setTimeout(step, ACTION_EVERY_MS);
                    return;
                }
                clearTimeout(timer);
                socket.disconnect();
                resolve(seen);
            };
            setTimeout(step, ACTION_EVERY_MS);
        }));
        socket.on('proximity_roster', guard((r) => {
            seen.rosters.push(r);
            assert.equal(typeof r.dangerState, 'boolean');
            print(r.dangerState ? 'DANGER' : 'safe');
            for (const [name, ch] of Object.entries(r.channels)) {
                if (ch.count === 0) {
                    print(`${name}: empty`);
                    continue;
                }
                // b35c: sample and lastSpeaker; HEAD: entities[]
                if (ch.sample) print(`${name}: ${ch.sample.map((n) => (n === ch.lastSpeaker ? `*${n}` : n)).join(', ')}`);
                else print(`${name}: a crowd of ${ch.count}`);
                for (const e of ch.entities) print(`  ${e.name} (${e.type}) ${e.bearing}deg ${e.elevation}deg ${e.range}`);
            }
        }));
        socket.on('chat', guard((m) => {
            seen.chatLines.push({ channel: m.channel, message: m.message, sender: m.sender, senderId: m.senderId });
            print(`[${m.channel.toUpperCase()}] ${m.sender}: ${m.message}`);
        }));
        socket.on('communication', guard((m) => {
            seen.chatLines.push({ channel: m.type || m.channel, message: m.content || m.message, sender: m.senderName || m.sender });
            print(`[${(m.type || m.channel).toUpperCase()}] ${m.senderName || m.sender}: ${m.content || m.message}`);
        }));
        socket.on('state_update', guard((s) => print(`state ${JSON.stringify(s).slice(0, 80)}`)));
        socket.on('pong', guard((p) => print(`pong ${p.clientTimestamp}`)));
        socket.on('error', guard((e) => {
            seen.errors.push(e);
            print(`error ${e.code}: ${e.message}`);
        }));
        socket.on('connect_error', (err) => fail(err));
    });
}

test('the original text client plays a full session with no error', { timeout: 60000 }, async () => {
    const seen = await playOriginalSession();
    assert.deepEqual(seen.errors, [], `errors: ${JSON.stringify(seen.errors)}`);
    assert.ok(seen.ack.serverCapabilities.features.includes('movement'));
    assert.ok(seen.entry, 'world_entry');
    assert.equal(seen.entry.character.name, 'TestHero');
    assert.equal(seen.entry.character.currentSpeed, 'stop');
    assert.ok(seen.rosters.length >= 1);
    assert.equal(seen.rosters[0].dangerState, false, 'spawn is safe');
    // exactly one chat event per line, in order
    assert.deepEqual(seen.chatLines.map((l) => [l.channel, l.message]), [
        ['say', 'Hello, anyone nearby?'],
        ['shout', 'Is anyone out there?!'],
        ['emote', 'looks around cautiously'],
        ['cfh', 'Testing emergency broadcast system!'],
    ]);
    for (const l of seen.chatLines) {
        assert.equal(l.sender, 'TestHero');
        assert.equal(l.senderId, seen.entry.entityId);
    }

    // the three steps were applied: back with the guest's token, it stands 30 ft
    // further north (their -z) than it entered
    const back = await new Promise((resolve, reject) => {
        const s = io(baseUrl, { transports: ['websocket'], reconnection: false, forceNew: true });
        const t = setTimeout(() => reject(new Error('no world_entry on return')), 10000);
        s.on('connect', () => s.emit('handshake', { protocolVersion: '1.0.0', clientType: 'text', capabilities: { maxUpdateRate: 1 } }));
        s.on('handshake_ack', () => s.emit('auth', { method: 'token', token: seen.token }));
        s.on('auth_success', (a) => s.emit('character_select', { characterId: a.characters[0].id }));
        s.on('world_entry', (w) => {
            clearTimeout(t);
            s.disconnect();
            resolve(w);
        });
        s.on('error', (e) => reject(new Error(`error ${e.code}`)));
    });
    const p0 = seen.entry.character.position;
    assert.equal(back.character.name, 'TestHero');
    assert.ok(Math.abs(back.character.position.z - (p0.z - 30)) < 0.01, JSON.stringify(back.character.position));
    assert.equal(back.character.position.x, p0.x);
});
