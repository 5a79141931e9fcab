// map.js - draws a zone top-down on a Canvas 2D: x east (right), z north
// (up), in feet. Shared by the game client and the admin console's live map.
// Entities are {id, name, type: 'player'|'npc', hostile, x, z, heading?}.

export const COLORS = {
  ground: '#1b2027',
  grid: '#262d36',
  bounds: '#8a97a8',
  exit: '#e0b84c',
  self: '#3ee07a',
  player: '#4aa3ff',
  npc: '#d8d24a',
  hostile: '#ff4a4a',
  label: '#f2f4f7',
  target: '#ffffff',
};

export function entityColor(e, selfId) {
  if (e.id === selfId) return COLORS.self;
  if (e.type === 'player') return COLORS.player;
  return e.hostile ? COLORS.hostile : COLORS.npc;
}

// A view: the canvas, a centre in feet and a scale in pixels per foot.
export class MapView {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.cx = 0;
    this.cz = 0;
    this.scale = 3;
    this.spanFt = 140; // feet across the smaller side of the canvas
    this.hoverId = null;
  }

  // Matches the backing store to the CSS size (crisp on high-DPI screens).
  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr));
    const h = Math.max(1, Math.round(r.height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.dpr = dpr;
  }

  // Canvas pixel (backing store) of a point in feet.
  toScreen(x, z) {
    const w = this.canvas.width, h = this.canvas.height;
    return { x: w / 2 + (x - this.cx) * this.scale, y: h / 2 - (z - this.cz) * this.scale };
  }

  // Feet of a CSS pixel offset inside the canvas element.
  toWorld(cssX, cssY) {
    const px = cssX * this.dpr, py = cssY * this.dpr;
    const w = this.canvas.width, h = this.canvas.height;
    return { x: this.cx + (px - w / 2) / this.scale, z: this.cz - (py - h / 2) / this.scale };
  }

  // The entity drawn under a CSS pixel, or null.
  pick(entities, cssX, cssY) {
    const px = cssX * this.dpr, py = cssY * this.dpr;
    let best = null, bestD = 14 * this.dpr;
    for (const e of entities) {
      const s = this.toScreen(e.x, e.z);
      const d = Math.hypot(s.x - px, s.y - py);
      if (d < bestD) { best = e; bestD = d; }
    }
    return best;
  }

  // zone: {size:{x,z}}; exits: [{direction, name}]; opts: {selfId, targetId, labels}
  draw(zone, exits, entities, opts = {}) {
    this.resize();
    const ctx = this.ctx, w = this.canvas.width, h = this.canvas.height, dpr = this.dpr;
    const sx = zone?.size?.x || 200, sz = zone?.size?.z || 200;
    if (opts.fit) {
      this.cx = sx / 2;
      this.cz = sz / 2;
      this.scale = Math.min(w / (sx * 1.08), h / (sz * 1.08));
    } else {
      this.scale = Math.min(w, h) / this.spanFt;
    }
    ctx.fillStyle = '#0e1116';
    ctx.fillRect(0, 0, w, h);
    const a = this.toScreen(0, sz), b = this.toScreen(sx, 0);
    ctx.fillStyle = COLORS.ground;
    ctx.fillRect(a.x, a.y, b.x - a.x, b.y - a.y);
    // a grid line every 10 ft (every 50 ft when zoomed out)
    const step = this.scale * 10 < 12 ? 50 : 10;
    ctx.strokeStyle = COLORS.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let x = 0; x <= sx; x += step) {
      const p = this.toScreen(x, 0);
      ctx.moveTo(p.x, a.y);
      ctx.lineTo(p.x, b.y);
    }
    for (let z = 0; z <= sz; z += step) {
      const p = this.toScreen(0, z);
      ctx.moveTo(a.x, p.y);
      ctx.lineTo(b.x, p.y);
    }
    ctx.stroke();
    ctx.strokeStyle = COLORS.bounds;
    ctx.lineWidth = 2 * dpr;
    ctx.strokeRect(a.x, a.y, b.x - a.x, b.y - a.y);
    this.drawExits(exits || [], sx, sz);
    const font = Math.round(12 * dpr);
    ctx.font = `${font}px system-ui, sans-serif`;
    ctx.textAlign = 'center';
    const r = Math.max(4, 6 * dpr);
    for (const e of entities) {
      const p = this.toScreen(e.x, e.z);
      if (p.x < -20 || p.y < -20 || p.x > w + 20 || p.y > h + 20) continue;
      ctx.fillStyle = entityColor(e, opts.selfId);
      ctx.beginPath();
      ctx.arc(p.x, p.y, e.id === opts.selfId ? r * 1.2 : r, 0, Math.PI * 2);
      ctx.fill();
      if (typeof e.heading === 'number') this.drawArrow(p, e.heading, r, ctx.fillStyle);
      if (e.id === opts.targetId) {
        ctx.strokeStyle = COLORS.target;
        ctx.lineWidth = 2 * dpr;
        ctx.beginPath();
        ctx.arc(p.x, p.y, r * 1.9, 0, Math.PI * 2);
        ctx.stroke();
      }
      if (opts.labels || e.type === 'player' || e.id === this.hoverId || e.id === opts.targetId) {
        ctx.fillStyle = COLORS.label;
        ctx.fillText(e.name || e.id, p.x, p.y - r * 2.2);
      }
    }
  }

  drawArrow(p, headingDeg, r, color) {
    const ctx = this.ctx, t = (headingDeg * Math.PI) / 180;
    const dx = Math.sin(t), dy = -Math.cos(t); // screen y grows downwards
    ctx.strokeStyle = color;
    ctx.lineWidth = 2 * this.dpr;
    ctx.beginPath();
    ctx.moveTo(p.x + dx * r, p.y + dy * r);
    ctx.lineTo(p.x + dx * r * 2.6, p.y + dy * r * 2.6);
    ctx.stroke();
  }

  drawExits(exits, sx, sz) {
    const ctx = this.ctx, dpr = this.dpr;
    ctx.font = `${Math.round(12 * dpr)}px system-ui, sans-serif`;
    ctx.fillStyle = COLORS.exit;
    ctx.strokeStyle = COLORS.exit;
    ctx.lineWidth = 4 * dpr;
    for (const ex of exits) {
      let p, q, label;
      const name = `${ex.name || ex.zoneId} \u2192`;
      // labels sit just inside the edge, kept on screen while the edge is
      const m = 8 * dpr, w = this.canvas.width, h = this.canvas.height;
      const clampX = (x) => Math.max(m, Math.min(w - m, x)), clampY = (y) => Math.max(m * 2, Math.min(h - m, y));
      if (ex.direction === 'north') { p = this.toScreen(0, sz); q = this.toScreen(sx, sz); label = { x: clampX(this.toScreen(this.cx, 0).x), y: p.y + 16 * dpr }; }
      else if (ex.direction === 'south') { p = this.toScreen(0, 0); q = this.toScreen(sx, 0); label = { x: clampX(this.toScreen(this.cx, 0).x), y: p.y - 8 * dpr }; }
      else if (ex.direction === 'east') { p = this.toScreen(sx, 0); q = this.toScreen(sx, sz); label = { x: p.x - m, y: clampY(this.toScreen(0, this.cz).y) }; }
      else if (ex.direction === 'west') { p = this.toScreen(0, 0); q = this.toScreen(0, sz); label = { x: p.x + m, y: clampY(this.toScreen(0, this.cz).y) }; }
      else continue;
      ctx.beginPath();
      ctx.moveTo(p.x, p.y);
      ctx.lineTo(q.x, q.y);
      ctx.stroke();
      ctx.textAlign = ex.direction === 'east' ? 'right' : ex.direction === 'west' ? 'left' : 'center';
      ctx.fillText(name, label.x, label.y);
    }
  }
}
