// driver.mjs - wod-bench's scenario for the Colyseus peer (server.cjs), with
// the framework's own client SDK (colyseus.js 0.16) in one node process.
//
//   node driver.mjs --url ws://127.0.0.1:3400 --clients 200 --ramp 10 \
//        --duration 20 --move-hz 2 --chat-hz 0.2 --json
//
// The same bot as wod-bench: join (the name is a join option), walk to a
// random point of the --spread square around the spawn with 5 ft steps every
// 250 ms, then roam there with --step ft moves at --move-hz and say
// "b<id>:<sent>" at --chat-hz. Chat latency is measured the way wod-bench
// does: the send time is in the message, receivers other than the sender
// record now - sent (one process, one clock). move -> patch: a move sent to
// the bot's next state patch. The measured window opens once every bot has
// joined and spread ("crowd formed" on stderr, as wod-bench prints), and the
// last stdout line with --json is a summary with wod-bench's field names.
import { Client } from 'colyseus.js';

const args = process.argv.slice(2);
const opt = { url: 'ws://127.0.0.1:3400', clients: 100, ramp: 5, duration: 10, 'move-hz': 1, 'chat-hz': 0.1, spread: 150, step: 2, 'update-rate': 0, zone: 'zone-crossroads', json: false, quiet: false };
for (let i = 0; i < args.length; i++) {
  const k = args[i].replace(/^--/, '');
  if (!(k in opt)) {
    console.error(`driver.mjs: unknown option ${args[i]}`);
    process.exit(2);
  }
  if (typeof opt[k] === 'boolean') opt[k] = true;
  else opt[k] = typeof opt[k] === 'number' ? Number(args[++i]) : args[++i];
}

const SIZE = 200, SPAWN = 100, SPREAD_STEP = 5, SPREAD_MS = 250, SETTLE_MAX_MS = 60000;
const now = () => performance.now(); // ms, one clock for the whole process

class Hist {
  constructor() { this.v = []; }
  add(ms) { this.v.push(ms); }
  pct(p) {
    if (!this.v.length) return 0;
    const s = Float64Array.from(this.v).sort();
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  }
  json() {
    return { p50: this.pct(50), p90: this.pct(90), p99: this.pct(99), max: this.pct(100), samples: this.v.length };
  }
}

const st = { connected: 0, failed: 0, spreading: 0, sent: 0, recv: 0, chatsSent: 0, chatsHeard: 0, patches: 0 };
const chat = new Hist(), movePatch = new Hist();
let measuring = false, lastError = '';
const bots = [];
const clamp = (v, lo, hi) => (v < lo ? lo : v > hi ? hi : v);

function socketBytes() {
  let n = 0;
  for (const b of bots) {
    const ws = b.room && b.room.connection && b.room.connection.transport && b.room.connection.transport.ws;
    if (ws && ws._socket) n += ws._socket.bytesRead;
  }
  return n;
}

function send(b, type, msg) {
  if (!b.room || b.closed) return;
  b.room.send(type, msg);
  st.sent++;
}

function move(b, x, z) {
  b.x = Math.round(x * 100) / 100;
  b.z = Math.round(z * 100) / 100;
  send(b, 'move', { x: b.x, z: b.z });
}

function roam(b) {
  if (b.closed) return;
  const t = now();
  if (t >= b.nextMove) {
    const h = Math.random() * 2 * Math.PI;
    let dx = opt.step * Math.sin(h), dz = opt.step * Math.cos(h);
    if (b.x + dx < b.lo || b.x + dx > b.hi) dx = -dx;
    if (b.z + dz < b.lo || b.z + dz > b.hi) dz = -dz;
    move(b, clamp(b.x + dx, b.lo, b.hi), clamp(b.z + dz, b.lo, b.hi));
    if (!b.moveSent) b.moveSent = t;
    b.nextMove += 1000 / opt['move-hz'];
    if (b.nextMove < t) b.nextMove = t + 1000 / opt['move-hz'];
  }
  if (opt['chat-hz'] > 0 && t >= b.nextChat) {
    send(b, 'chat', { message: `b${b.id}:${t.toFixed(3)}` });
    st.chatsSent++;
    b.nextChat += 1000 / opt['chat-hz'];
    if (b.nextChat < t) b.nextChat = t + 1000 / opt['chat-hz'];
  }
  const next = Math.min(opt['move-hz'] > 0 ? b.nextMove : Infinity, opt['chat-hz'] > 0 ? b.nextChat : Infinity);
  if (next !== Infinity) b.timer = setTimeout(() => roam(b), Math.max(0, next - now()));
}

function spreadStep(b) {
  if (b.closed) return;
  const dx = b.tx - b.x, dz = b.tz - b.z, d = Math.hypot(dx, dz);
  if (d <= SPREAD_STEP) {
    move(b, b.tx, b.tz);
    st.spreading--;
    const t = now();
    b.nextMove = t + Math.random() * (1000 / (opt['move-hz'] || 1));
    b.nextChat = t + Math.random() * (1000 / (opt['chat-hz'] || 1));
    roam(b);
    return;
  }
  move(b, b.x + (dx / d) * SPREAD_STEP, b.z + (dz / d) * SPREAD_STEP);
  b.timer = setTimeout(() => spreadStep(b), SPREAD_MS);
}

async function start(id, client, tag) {
  const b = { id, x: SPAWN, z: SPAWN, closed: false, moveSent: 0 };
  bots.push(b);
  const half = Math.max(opt.spread / 2, opt.step);
  b.lo = clamp(SPAWN - half, 1, SIZE - 1);
  b.hi = clamp(SPAWN + half, 1, SIZE - 1);
  b.tx = b.lo + Math.random() * (b.hi - b.lo);
  b.tz = b.lo + Math.random() * (b.hi - b.lo);
  try {
    b.room = await client.joinOrCreate('zone', { zoneId: opt.zone, name: `B${tag}${id}` });
  } catch (e) {
    st.failed++;
    b.closed = true;
    lastError = String(e && e.message ? e.message : e);
    return;
  }
  st.connected++;
  b.room.onMessage('communication', (m) => {
    st.recv++;
    const g = /^b(\d+):([\d.]+)$/.exec(m && m.content);
    if (!g || Number(g[1]) === id) return;
    st.chatsHeard++;
    if (measuring) chat.add(now() - Number(g[2]));
  });
  b.room.onStateChange(() => {
    st.recv++;
    st.patches++;
    if (b.moveSent) {
      if (measuring) movePatch.add(now() - b.moveSent);
      b.moveSent = 0;
    }
  });
  b.room.onLeave(() => {
    if (!b.closed) {
      b.closed = true;
      st.connected--;
      st.failed++;
      lastError = 'left the room';
    }
  });
  if (opt.spread > 0) {
    st.spreading++;
    spreadStep(b);
  } else {
    b.nextMove = now();
    b.nextChat = now() + Math.random() * (1000 / (opt['chat-hz'] || 1));
    roam(b);
  }
}

function cpuS() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function main() {
  const client = new Client(opt.url.replace(/^ws:/, 'http:'));
  const tag = Math.random().toString(36).slice(2, 6);
  const t0 = now();
  const joins = [];
  for (let i = 0; i < opt.clients; i++) {
    const due = t0 + (opt.ramp * 1000 * i) / opt.clients;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    joins.push(start(i, client, tag));
  }
  await Promise.all(joins);
  const rampEnd = t0 + opt.ramp * 1000;
  while (now() < rampEnd || (st.spreading > 0 && now() < rampEnd + SETTLE_MAX_MS)) await new Promise((r) => setTimeout(r, 100));
  const settle = (now() - t0) / 1000;
  if (!opt.quiet) console.error(`driver.mjs: crowd formed after ${settle.toFixed(1)} s; measuring ${opt.duration} s`);
  const w0 = { t: now(), sent: st.sent, recv: st.recv, bytes: socketBytes(), cpu: cpuS(), chatsSent: st.chatsSent, chatsHeard: st.chatsHeard, patches: st.patches };
  measuring = true;
  await new Promise((r) => setTimeout(r, opt.duration * 1000));
  measuring = false;
  const w1 = { t: now(), sent: st.sent, recv: st.recv, bytes: socketBytes(), cpu: cpuS(), chatsSent: st.chatsSent, chatsHeard: st.chatsHeard, patches: st.patches };
  const win = (w1.t - w0.t) / 1000;
  const connected = st.connected;
  const cpu = ((w1.cpu - w0.cpu) / win) * 100;
  const bytesPerBot = connected ? (w1.bytes - w0.bytes) / win / connected : 0;
  const summary = {
    clients_connected: connected, clients_failed: opt.clients - connected,
    msgs_sent_per_s: (w1.sent - w0.sent) / win, msgs_recv_per_s: (w1.recv - w0.recv) / win,
    latency_ms: chat.json(), move_roster_ms: movePatch.json(),
    ping_ms: { p50: 0, p90: 0, p99: 0, max: 0, samples: 0 },
    clients: opt.clients, clients_entered: connected, settle_s: settle, duration_s: win,
    msgs_sent: w1.sent - w0.sent, msgs_recv: w1.recv - w0.recv,
    recv_mb_per_s: (w1.bytes - w0.bytes) / win / 1e6, rosters_per_s: (w1.patches - w0.patches) / win,
    chats_sent: w1.chatsSent - w0.chatsSent, chats_heard: w1.chatsHeard - w0.chatsHeard, server_errors: 0,
    update_rate: opt['update-rate'], recv_bytes_per_bot_s: bytesPerBot,
    bench_cpu_pct: cpu, bench_cpu_pct_per_1000_bots: connected ? (cpu / connected) * 1000 : 0,
  };
  const f = (h) => `${h.p50.toFixed(2)} / ${h.p99.toFixed(2)} ms (n=${h.samples})`;
  console.log(`\ndriver.mjs: ${opt.clients} colyseus.js clients -> ${opt.url}, measured ${win.toFixed(1)} s`);
  console.log(`  connected ${connected}, failed ${opt.clients - connected}${lastError ? ` (last error: ${lastError})` : ''}`);
  console.log(`  msgs in ${summary.msgs_recv_per_s.toFixed(0)}/s, ${bytesPerBot.toFixed(0)} B/s per bot, driver CPU ${cpu.toFixed(0)}%`);
  console.log(`  chat p50/p99 ${f(summary.latency_ms)}, move -> patch ${f(summary.move_roster_ms)}`);
  if (opt.json) console.log(JSON.stringify(summary));
  for (const b of bots) {
    b.closed = true;
    clearTimeout(b.timer);
    if (b.room) b.room.leave(true).catch(() => {});
  }
  setTimeout(() => process.exit(connected ? 0 : 3), 1000);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
