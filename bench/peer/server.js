// server.js - the benchmark peer: a game server built the way the original
// World of Darkness server is (Node.js, Socket.IO with @socket.io/redis-adapter,
// Redis pub/sub between the gateway half and the zone half, one Redis PUBLISH
// per outgoing message), so scripts/bench.sh can drive it and wod-server with
// the same wod-bench bots and compare players per core.
//
// The roster algorithm is the original's: every tick, for every player, every
// channel, look at every entity in the zone, keep those in range, and emit the
// full `proximity_roster` (no spatial index, no dirty tracking, no deltas).
// ROSTER_MAX_ENTITIES (0 = unlimited, the original) caps the listed entities
// per channel; bench.sh sets it to wod-server's default (64) so both send
// rosters of the same size and the comparison is about the algorithm.
//
// Transports: Socket.IO v4 (`42["type",payload]`, as the original clients)
// and, for wod-bench, plain WebSocket on /ws with the native JSON frames
// {"type","payload","timestamp"}. One zone (zone-crossroads, 200 x 50 x 200 ft,
// spawn 100,0,100); accounts and characters live in memory.
//
// Update rate: the original has no per-client rate (it pushes every player's
// roster every tick). With HONOUR_UPDATE_RATE=1 the peer does what wod-server
// does with capabilities.maxUpdateRate from the handshake: a player's roster
// is computed and sent at most min(TICK_RATE, maxUpdateRate) times a second,
// so side-by-side rows run both servers at the same rate (scripts/bench.sh).
//
// Env: PORT (3300), HOST (127.0.0.1), REDIS_URL (redis://127.0.0.1:6379),
// TICK_RATE (20), ROSTER_MAX_ENTITIES (0), HONOUR_UPDATE_RATE (0).
'use strict';

const http = require('http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');
const { WebSocketServer } = require('ws');

const PORT = Number(process.env.PORT || 3300);
const HOST = process.env.HOST || '127.0.0.1';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const TICK_RATE = Number(process.env.TICK_RATE || 20);
const ROSTER_MAX = Number(process.env.ROSTER_MAX_ENTITIES || 0);
const SERVER_ID = process.env.SERVER_ID || `peer-${process.pid}`;
const HONOUR_UPDATE_RATE = process.env.HONOUR_UPDATE_RATE === '1';

const ZONE = {
  id: 'zone-crossroads', name: 'The Crossroads',
  description: 'Four worn roads meet beneath a leaning signpost.',
  weather: 'overcast', timeOfDay: 'dusk', lighting: 'dim', contentRating: 'T',
  size: { x: 200, y: 50, z: 200 },
};
const SPAWN = { x: 100, y: 0, z: 100 };
const CHANNELS = { touch: 5, say: 20, shout: 150, emote: 150, see: 150, hear: 150, cfh: 250 };
const CHANNEL_NAMES = Object.keys(CHANNELS);
const GAIT = { stop: 0, walk: 1, jog: 2, run: 3.5 };
const COMPASS = { N: 0, NE: 45, E: 90, SE: 135, S: 180, SW: 225, W: 270, NW: 315 };

// ---- the gateway half: client sessions ----------------------------------

const sessions = new Map(); // sessionId -> session
let nextSession = 1;
let nextAccount = 1;
let nextCharacter = 1;

function newSession(send) {
  const s = { id: `${SERVER_ID}:${nextSession++}`, send, state: 'new' };
  sessions.set(s.id, s);
  return s;
}

function handle(s, type, payload) {
  payload = payload || {};
  switch (type) {
    case 'handshake': {
      const caps = payload.capabilities || {};
      const rate = Number(caps.maxUpdateRate);
      s.updateRate = HONOUR_UPDATE_RATE && rate > 0 ? Math.min(TICK_RATE, rate) : TICK_RATE;
      s.state = 'handshaken';
      s.send('handshake_ack', {
        protocolVersion: '1.0.0', serverVersion: 'wod-bench-peer/1.0.0', compatible: true,
        sessionId: s.id, timestamp: Date.now(), requiresAuth: true,
      });
      break;
    }
    case 'auth':
      if (s.state !== 'handshaken') return s.send('error', { code: 'NOT_HANDSHAKEN', message: 'handshake first', severity: 'error' });
      s.accountId = String(nextAccount++);
      s.state = 'authed';
      s.send('auth_success', {
        accountId: s.accountId, token: `t${s.accountId}`, characters: [],
        canCreateCharacter: true, maxCharacters: 5,
      });
      break;
    case 'character_create':
      if (s.state !== 'authed') return s.send('error', { code: 'NOT_AUTHENTICATED', message: 'auth first', severity: 'error' });
      s.state = 'world';
      zoneInput({
        kind: 'enter', sessionId: s.id, updateRate: s.updateRate,
        character: { id: String(nextCharacter++), name: String(payload.name || 'Nobody').slice(0, 20) },
      });
      break;
    case 'move':
    case 'chat':
      if (s.state === 'world') zoneInput({ kind: type, sessionId: s.id, payload });
      break;
    case 'ping':
      s.send('pong', { clientTimestamp: payload.timestamp, serverTimestamp: Date.now() });
      break;
    default:
      break;
  }
}

function closed(s) {
  if (!sessions.has(s.id)) return;
  sessions.delete(s.id);
  if (s.state === 'world') zoneInput({ kind: 'leave', sessionId: s.id });
}

// ---- Redis: the bus between the halves, and the Socket.IO adapter --------

const redisPub = createClient({ url: REDIS_URL });
const redisSub = redisPub.duplicate();
const busPub = redisPub.duplicate();
const busSub = redisPub.duplicate();

function zoneInput(msg) {
  busPub.publish(`zone:${ZONE.id}:input`, JSON.stringify(msg));
}

// Every outgoing message is its own PUBLISH, as in the original.
function toClient(sessionId, type, payload) {
  busPub.publish('gateway:output', JSON.stringify({ sessionId, type, payload }));
}

function onGatewayOutput(raw) {
  const m = JSON.parse(raw);
  const s = sessions.get(m.sessionId);
  if (s) s.send(m.type, m.payload);
}

// ---- the zone half ---------------------------------------------------------

const players = new Map(); // sessionId -> player

function derived() {
  return { maxHp: 205, maxStamina: 200, maxMana: 200, attackRating: 30, defenseRating: 30, magicAttack: 30, magicDefense: 30, baseSpeed: 6 };
}

function onZoneInput(raw) {
  const m = JSON.parse(raw);
  switch (m.kind) {
    case 'enter': {
      const p = {
        sessionId: m.sessionId, id: `char-${m.character.id}`, characterId: m.character.id,
        name: m.character.name, x: SPAWN.x, y: SPAWN.y, z: SPAWN.z, heading: 0, speed: 0,
        baseSpeed: 6, lastPosMove: 0, lastSpeaker: null,
        // Every tick, as the original, unless HONOUR_UPDATE_RATE (see the top).
        sendEveryMs: 1000 / (m.updateRate || TICK_RATE), nextSend: 0,
      };
      players.set(m.sessionId, p);
      toClient(p.sessionId, 'world_entry', {
        characterId: p.characterId, entityId: p.id, timestamp: Date.now(),
        character: {
          id: p.characterId, name: p.name, level: 1, experience: 0,
          position: { x: p.x, y: p.y, z: p.z }, heading: 0, rotation: { x: 0, y: 0, z: 0 }, currentSpeed: 0,
          coreStats: { strength: 10, vitality: 10, dexterity: 10, agility: 10, intelligence: 10, wisdom: 10 },
          derivedStats: derived(), health: { current: 205, max: 205 }, stamina: { current: 200, max: 200 },
          mana: { current: 200, max: 200 }, zoneId: ZONE.id,
        },
        zone: ZONE,
        entities: [...players.values()].filter((o) => o !== p).map((o) => ({ id: o.id, type: 'player', name: o.name, position: { x: o.x, y: o.y, z: o.z } })),
        exits: [],
      });
      toClient(p.sessionId, 'proximity_roster', roster(p));
      break;
    }
    case 'leave':
      players.delete(m.sessionId);
      break;
    case 'move':
      move(players.get(m.sessionId), m.payload || {});
      break;
    case 'chat':
      chat(players.get(m.sessionId), m.payload || {});
      break;
    default:
      break;
  }
}

function move(p, mv) {
  if (!p) return;
  if (mv.method === 'position' && mv.position) {
    const now = Date.now();
    const dx = mv.position.x - p.x, dz = mv.position.z - p.z;
    const dist = Math.hypot(dx, dz);
    const elapsed = Math.min(5, Math.max(1, (now - p.lastPosMove) / 1000));
    if (!(dist <= GAIT.run * p.baseSpeed * elapsed + 1)) {
      toClient(p.sessionId, 'error', { code: 'MOVE_REJECTED', message: 'too far', severity: 'warning' });
      return;
    }
    p.lastPosMove = now;
    p.x = clamp(mv.position.x, 0, ZONE.size.x);
    p.z = clamp(mv.position.z, 0, ZONE.size.z);
    p.speed = 0;
    return;
  }
  const h = mv.method === 'compass' ? COMPASS[mv.compass] : Number(mv.heading);
  if (Number.isFinite(h)) p.heading = ((h % 360) + 360) % 360;
  p.speed = (GAIT[mv.speed] !== undefined ? GAIT[mv.speed] : 1) * p.baseSpeed;
}

function chat(p, c) {
  if (!p || typeof c.message !== 'string' || !c.message) return;
  const channel = CHANNELS[c.channel] !== undefined ? c.channel : 'say';
  const range = CHANNELS[channel];
  const now = Date.now();
  for (const o of players.values()) {
    const d = Math.hypot(o.x - p.x, o.z - p.z);
    if (d > range) continue;
    o.lastSpeaker = p.name;
    toClient(o.sessionId, 'communication', {
      channel, senderId: p.id, senderName: p.name, senderType: 'player',
      content: c.message, distance: Math.round(d), timestamp: now,
    });
  }
}

function clamp(v, lo, hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

// The original's roster: every channel, every entity, from scratch.
function roster(p) {
  const channels = {};
  for (const ch of CHANNEL_NAMES) {
    const range = CHANNELS[ch];
    const list = [];
    for (const o of players.values()) {
      if (o === p) continue;
      const dx = o.x - p.x, dy = o.y - p.y, dz = o.z - p.z;
      const flat = Math.hypot(dx, dz);
      const r = Math.hypot(flat, dy);
      if (r > range) continue;
      list.push({
        id: o.id, name: o.name, type: 'player',
        bearing: Math.round(((Math.atan2(dx, dz) * 180) / Math.PI + 360) % 360),
        elevation: Math.round((Math.atan2(dy, flat) * 180) / Math.PI),
        range: Math.round(r),
      });
    }
    list.sort((a, b) => a.range - b.range);
    const entities = ROSTER_MAX > 0 ? list.slice(0, ROSTER_MAX) : list;
    const c = { count: list.length, entities };
    if (list.length <= 3) {
      c.sample = list.map((e) => e.name);
      c.lastSpeaker = p.lastSpeaker;
    }
    channels[ch] = c;
  }
  return { channels, dangerState: { level: 'safe', hostilesNearby: 0 }, timestamp: Date.now() };
}

let tickMs = 0;
function tick() {
  const t0 = process.hrtime.bigint();
  const dt = 1 / TICK_RATE;
  const now = Date.now();
  for (const p of players.values()) {
    if (p.speed > 0) {
      const rad = (p.heading * Math.PI) / 180;
      p.x = clamp(p.x + Math.sin(rad) * p.speed * dt, 0, ZONE.size.x);
      p.z = clamp(p.z + Math.cos(rad) * p.speed * dt, 0, ZONE.size.z);
    }
  }
  for (const p of players.values()) {
    if (now < p.nextSend) continue;
    p.nextSend = now + p.sendEveryMs - 1;
    toClient(p.sessionId, 'proximity_roster', roster(p));
  }
  tickMs = Number(process.hrtime.bigint() - t0) / 1e6;
}

// ---- HTTP, Socket.IO, /ws -----------------------------------------------------

const httpServer = http.createServer((req, res) => {
  if (req.url === '/health' || req.url === '/api/info') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', serverId: SERVER_ID, players: players.size, sessions: sessions.size, tickMs, honourUpdateRate: HONOUR_UPDATE_RATE }));
    return;
  }
  res.writeHead(404);
  res.end();
});

const io = new Server(httpServer, { transports: ['websocket', 'polling'], destroyUpgrade: false });
io.on('connection', (socket) => {
  const s = newSession((type, payload) => socket.emit(type, payload));
  socket.onAny((type, payload) => handle(s, type, payload));
  socket.on('disconnect', () => closed(s));
});

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
httpServer.on('upgrade', (req, socket, head) => {
  if (!req.url.startsWith('/ws')) return; // Socket.IO handles its own path
  wss.handleUpgrade(req, socket, head, (ws) => {
    const s = newSession((type, payload) => {
      if (ws.readyState === 1) ws.send(JSON.stringify({ type, payload, timestamp: Date.now() }));
    });
    ws.on('message', (data) => {
      let m;
      try {
        m = JSON.parse(data);
      } catch (e) {
        return;
      }
      if (m && typeof m.type === 'string') handle(s, m.type, m.payload);
    });
    ws.on('close', () => closed(s));
    ws.on('error', () => closed(s));
  });
});

async function main() {
  await Promise.all([redisPub.connect(), redisSub.connect(), busPub.connect(), busSub.connect()]);
  io.adapter(createAdapter(redisPub, redisSub));
  await busSub.subscribe('gateway:output', onGatewayOutput);
  await busSub.subscribe(`zone:${ZONE.id}:input`, onZoneInput);
  setInterval(tick, 1000 / TICK_RATE);
  httpServer.listen(PORT, HOST, () => console.log(`peer ${SERVER_ID} on ${HOST}:${PORT}, redis ${REDIS_URL}, ${TICK_RATE} Hz, roster cap ${ROSTER_MAX || 'none'}, client update rate ${HONOUR_UPDATE_RATE ? 'honoured' : 'ignored'}`));
}

function stop() {
  io.close();
  for (const c of wss.clients) c.terminate();
  httpServer.close();
  Promise.allSettled([redisPub.quit(), redisSub.quit(), busPub.quit(), busSub.quit()]).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
