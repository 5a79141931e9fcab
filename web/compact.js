// compact.js - decoder of the compact roster encoding (docs/PROTOCOL.md,
// "Compact encoding"): binary frames that replace proximity_roster(_delta)
// and position state_updates for a client that asked for it. Keeps the id
// table and the view, and turns them back into what the rest of the client
// reads: a proximity_roster payload (bearing/elevation/range computed from
// positions) and absolute positions.

const FULL = 1, DELTA = 2;
const DEF = 1, ADD = 2, REMOVE = 3, COUNTS = 4, SPEAKERS = 5, DANGER = 6, SELF = 7, MOVE = 0x10;
const CHANNELS = ['touch', 'say', 'shout', 'emote', 'see', 'hear', 'cfh'];
const GROUP_OF = [0, 1, 2, 2, 2, 2, 3]; // channel -> COUNTS/SPEAKERS group
const TYPES = ['player', 'npc', 'wildlife', 'player'];
const SID_LIMIT = 4096;
const utf8 = new TextDecoder();

class Reader {
  constructor(bytes) { this.b = bytes; this.i = 0; }
  left() { return this.b.length - this.i; }
  u8() {
    if (this.i >= this.b.length) throw new Error('truncated record');
    return this.b[this.i++];
  }
  varint() { // < 2^53: timestamps, ids, counts and coordinates all fit
    let v = 0, mul = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) return v;
      mul *= 128;
      if (mul > 2 ** 56) throw new Error('varint too long');
    }
  }
  zz() {
    const v = this.varint();
    return v % 2 ? -(v + 1) / 2 : v / 2;
  }
  sid() {
    const s = this.varint();
    if (s >= SID_LIMIT) throw new Error(`id ${s} out of range`);
    return s;
  }
}

export class CompactView {
  constructor() { this.reset(); this.hasState = false; }

  reset() {
    this.defs = new Map(); // sid -> {id, name, type, isMachine}
    this.view = new Map(); // sid -> {mask, pos: [x, y, z] in tenths}
    this.count = [0, 0, 0, 0];
    this.speaker = [0, 0, 0, 0]; // sid + 1
    this.hostiles = 0;
    this.self = [0, 0, 0];
    this.ts = 0;
  }

  // Applies one frame; throws on anything the format does not allow.
  apply(bytes) {
    const r = new Reader(bytes);
    const kind = r.u8(), ts = r.varint();
    if (kind === FULL) {
      this.reset();
      this.ts = ts;
      this.hasState = true;
    } else if (kind === DELTA) {
      if (!this.hasState) throw new Error('delta before a full frame');
      this.ts += ts;
    } else {
      throw new Error(`unknown frame kind ${kind}`);
    }
    while (r.left()) this.record(r, r.u8());
    return kind;
  }

  record(r, tag) {
    if (tag >= MOVE && tag < MOVE + 16) {
      const e = this.view.get(r.sid());
      if (!e) throw new Error('MOVE of an entity not in view');
      for (let a = 0; a < 3; a++) if (tag & (1 << a)) e.pos[a] += r.zz();
      if (tag & 8) e.mask = r.u8();
      return;
    }
    switch (tag) {
      case DEF: {
        const sid = r.sid(), pid = r.zz(), flags = r.u8(), n = r.u8();
        if (r.left() < n) throw new Error('truncated name');
        const name = utf8.decode(r.b.subarray(r.i, r.i + n));
        r.i += n;
        if (this.view.has(sid)) throw new Error('DEF of an entity in view');
        this.defs.set(sid, { id: pid > 0 ? `char-${pid}` : `npc-${-pid}`, name, type: TYPES[flags & 3], isMachine: !!(flags & 4) });
        return;
      }
      case ADD: {
        const sid = r.sid();
        if (!this.defs.has(sid) || this.view.has(sid)) throw new Error('bad ADD');
        const mask = r.u8();
        this.view.set(sid, { mask, pos: [r.zz(), r.zz(), r.zz()] });
        return;
      }
      case REMOVE:
        if (!this.view.delete(r.sid())) throw new Error('REMOVE of an entity not in view');
        return;
      case COUNTS:
      case SPEAKERS: {
        const which = r.u8(), into = tag === COUNTS ? this.count : this.speaker;
        for (let g = 0; g < 4; g++) if (which & (1 << g)) into[g] = r.varint();
        return;
      }
      case DANGER: this.hostiles = r.varint(); return;
      case SELF: this.self = [r.zz(), r.zz(), r.zz()]; return;
      default: throw new Error(`unknown record tag ${tag}`);
    }
  }

  selfPosition() {
    return { x: this.self[0] / 10, y: this.self[1] / 10, z: this.self[2] / 10 };
  }

  // Every listed entity: {id, name, type, isMachine, position{x,y,z}}.
  entities() {
    const out = [];
    for (const [sid, e] of this.view) {
      const d = this.defs.get(sid);
      out.push({ ...d, position: { x: e.pos[0] / 10, y: e.pos[1] / 10, z: e.pos[2] / 10 } });
    }
    return out;
  }

  // The view as a full proximity_roster payload (docs/PROTOCOL.md).
  roster() {
    const [sx, sy, sz] = this.self.map((v) => v / 10);
    const channels = {};
    const listed = [];
    for (const [sid, e] of this.view) {
      const d = this.defs.get(sid);
      const dx = e.pos[0] / 10 - sx, dy = e.pos[1] / 10 - sy, dz = e.pos[2] / 10 - sz;
      const h = Math.hypot(dx, dz);
      const round1 = (v) => Math.round(v * 10) / 10;
      listed.push({
        mask: e.mask,
        e: {
          id: d.id, name: d.name, type: d.type, isMachine: d.isMachine, isAlive: true,
          bearing: round1((((Math.atan2(dx, dz) * 180) / Math.PI) + 360) % 360),
          elevation: round1((Math.atan2(dy, h) * 180) / Math.PI),
          range: round1(Math.hypot(dx, dy, dz)),
        },
      });
    }
    listed.sort((a, b) => a.e.range - b.e.range);
    CHANNELS.forEach((name, c) => {
      const g = GROUP_OF[c];
      const entities = listed.filter((l) => l.mask & (1 << c)).map((l) => ({ ...l.e }));
      const ch = { count: this.count[g], entities };
      if (this.count[g] <= 3) {
        ch.sample = entities.map((e) => e.name);
        const s = this.speaker[g];
        if (s && this.defs.has(s - 1)) ch.lastSpeaker = this.defs.get(s - 1).name;
      }
      channels[name] = ch;
    });
    const danger = this.hostiles > 0;
    return { channels, dangerState: danger, danger: { level: danger ? 'danger' : 'safe', hostilesNearby: this.hostiles } };
  }
}
