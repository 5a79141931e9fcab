'use strict';
// server.cjs - a second, independent peer for scripts/bench.sh: the bench
// scenario written the way a Colyseus 0.16 game is written.
//
// One room per zone (here only zone-crossroads, 200 x 200 ft, spawn 100,100:
// the zone wod-bench's crowd plays in). Every player's name and position are
// fields of the room state; the framework encodes and sends the changes to
// every client at the patch rate (PATCH_HZ: the rows' update rate, 2 or 20).
// Chat is a room message sent to the players within the say range (20 ft).
//
// Interest management (VIEWS=1): the players map is a @view() field, each
// client has a StateView, and at every patch the room adds to it the players
// within VIEW_RANGE (150 ft, wod-server's see/hear range) and removes the
// others (a 150 ft grid keeps this linear). VIEWS=0: every client gets every
// player's changes.
//
// With views on, 0.16 encodes every client's view patch into one shared
// buffer (Encoder.BUFFER_SIZE, default 8 KB) that overflows at ~50 players
// and then silently loses view operations: its own warning says to raise
// it, and so we do (ENCODER_BUFFER_KB, 8192 = 8 MiB).
//
// What it does not do that the scenario asks (docs/PERFORMANCE.md): no
// handshake/auth/character creation (a player is a join with a name), no
// roster channels (touch/say/shout/... ranges, bearings, counts, bounded
// lists): a client gets raw positions of the players in its view and must
// derive the rest; no persistence; no Redis (one process, LocalPresence).
//
// Versions (package-lock.json): colyseus is pinned to 0.16.0, whose
// dependencies resolve to @colyseus/core 0.16.x, @colyseus/schema 3.0.x and
// @colyseus/ws-transport 0.16.x; the later 0.16.3-0.16.5 tarballs of the
// `colyseus` bundle list no dependencies at all. Clients: colyseus.js 0.16.
// 0.17+ needs a newer Node.js than this machine's 20.
//
// CommonJS on purpose: loaded as ES modules, colyseus 0.16.0's bundle and
// @colyseus/ws-transport ended up with two matchMaker instances here, and
// every join failed with "seat reservation expired".
//
// Env: PORT (3400), HOST (127.0.0.1), PATCH_HZ (20), VIEWS (1), VIEW_RANGE
// (150), SAY_RANGE (20), TICK_RATE (20), ENCODER_BUFFER_KB (8192).
const http = require('node:http');
const { Server, Room, matchMaker } = require('colyseus');
const { WebSocketTransport } = require('@colyseus/ws-transport');
const { schema, StateView, Encoder } = require('@colyseus/schema');

const PORT = Number(process.env.PORT || 3400);
const HOST = process.env.HOST || '127.0.0.1';
const PATCH_HZ = Number(process.env.PATCH_HZ || 20);
const VIEWS = process.env.VIEWS !== '0';
const VIEW_RANGE = Number(process.env.VIEW_RANGE || 150);
const SAY_RANGE = Number(process.env.SAY_RANGE || 20);
const TICK_RATE = Number(process.env.TICK_RATE || 20);
Encoder.BUFFER_SIZE = Number(process.env.ENCODER_BUFFER_KB || 8192) * 1024;

const ZONES = { 'zone-crossroads': { size: { x: 200, z: 200 }, spawn: { x: 100, z: 100 } } };

const Player = schema({ name: 'string', x: 'number', z: 'number' }, 'Player');
const ZoneState = schema({ players: VIEWS ? { map: Player, view: true } : { map: Player } }, 'ZoneState');

const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);

class ZoneRoom extends Room {
  onCreate(options) {
    this.zone = ZONES[options.zoneId] || ZONES['zone-crossroads'];
    this.zoneId = options.zoneId || 'zone-crossroads';
    this.autoDispose = false;
    this.maxClients = 1000000;
    this.setState(new ZoneState());
    this.setPatchRate(1000 / PATCH_HZ);
    this.seen = new Map(); // sessionId -> Set of visible sessionIds (VIEWS)
    this.onMessage('move', (client, m) => {
      const p = this.state.players.get(client.sessionId);
      if (!p || !m || typeof m.x !== 'number' || typeof m.z !== 'number') return;
      p.x = clamp(m.x, 0, this.zone.size.x);
      p.z = clamp(m.z, 0, this.zone.size.z);
    });
    this.onMessage('chat', (client, m) => {
      const p = this.state.players.get(client.sessionId);
      if (!p || !m || typeof m.message !== 'string') return;
      const msg = { channel: 'say', senderId: client.sessionId, senderName: p.name, content: m.message, timestamp: Date.now() };
      for (const c of this.clients) {
        const o = this.state.players.get(c.sessionId);
        if (o && Math.hypot(o.x - p.x, o.z - p.z) <= SAY_RANGE) c.send('communication', msg);
      }
    });
    // the simulation tick (positions come from the clients; nothing to integrate)
    this.setSimulationInterval(() => {}, 1000 / TICK_RATE);
    if (VIEWS) this.clock.setInterval(() => this.updateViews(), 1000 / PATCH_HZ);
  }

  onJoin(client, options) {
    const p = new Player();
    p.name = String((options && options.name) || 'Nobody').slice(0, 20);
    p.x = this.zone.spawn.x;
    p.z = this.zone.spawn.z;
    this.state.players.set(client.sessionId, p);
    if (VIEWS) {
      client.view = new StateView();
      this.seen.set(client.sessionId, new Set());
    }
  }

  onLeave(client) {
    this.state.players.delete(client.sessionId);
    this.seen.delete(client.sessionId);
  }

  // Each client's view: the players within VIEW_RANGE (itself included).
  updateViews() {
    const cell = VIEW_RANGE;
    const grid = new Map();
    this.state.players.forEach((p, id) => {
      const k = `${Math.floor(p.x / cell)},${Math.floor(p.z / cell)}`;
      let list = grid.get(k);
      if (!list) grid.set(k, (list = []));
      list.push([id, p]);
    });
    const r2 = VIEW_RANGE * VIEW_RANGE;
    for (const c of this.clients) {
      const me = this.state.players.get(c.sessionId);
      const seen = this.seen.get(c.sessionId);
      if (!me || !seen || !c.view) continue;
      const now = new Set();
      const cx = Math.floor(me.x / cell), cz = Math.floor(me.z / cell);
      for (let gx = cx - 1; gx <= cx + 1; gx++) {
        for (let gz = cz - 1; gz <= cz + 1; gz++) {
          const list = grid.get(`${gx},${gz}`);
          if (!list) continue;
          for (const [id, p] of list) {
            const dx = p.x - me.x, dz = p.z - me.z;
            if (dx * dx + dz * dz <= r2) now.add(id);
          }
        }
      }
      for (const id of now) {
        if (!seen.has(id)) c.view.add(this.state.players.get(id));
      }
      for (const id of seen) {
        if (!now.has(id)) {
          const p = this.state.players.get(id);
          if (p) c.view.remove(p);
        }
      }
      this.seen.set(c.sessionId, now);
    }
  }
}

const httpServer = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', patchHz: PATCH_HZ, views: VIEWS }));
    return;
  }
  res.writeHead(404);
  res.end();
});
const gameServer = new Server({ transport: new WebSocketTransport({ server: httpServer }), greet: false });
gameServer.define('zone', ZoneRoom).filterBy(['zoneId']);

async function main() {
  await gameServer.listen(PORT, HOST);
  for (const zoneId of Object.keys(ZONES)) await matchMaker.createRoom('zone', { zoneId });
  console.log(`colyseus peer on ${HOST}:${PORT}, patch ${PATCH_HZ} Hz, views ${VIEWS ? `on (${VIEW_RANGE} ft)` : 'off'}, encoder buffer ${Encoder.BUFFER_SIZE / 1024} KB`);
}

// SIGINT/SIGTERM: colyseus' Server shuts the rooms down and exits by itself.
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
