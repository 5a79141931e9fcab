// app.js - the browser client: log in, pick a character, play on a 2D map.
// Plain ES module; speaks docs/PROTOCOL.md over /ws (net.js), draws with
// map.js. window.__wod exposes the rendered state for the browser tests.
import { CompactView } from './compact.js';
import { Connection } from './net.js';
import { MapView } from './map.js';

const $ = (id) => document.getElementById(id);
const CHANNELS = ['touch', 'say', 'shout', 'emote', 'see', 'hear', 'cfh'];
const SPEED_MULT = { walk: 1, jog: 2, run: 3.5, stop: 0 };
const ABILITIES = [{ id: 'basic_attack', name: 'Attack', key: '1', cooldownS: 0 }];
const LOG_MAX = 200;

const S = {
  screen: 'login',
  token: localStorage.getItem('wod.token'),
  characterId: localStorage.getItem('wod.characterId'),
  inWorld: false,
  resumeWorld: false, // select the stored character once authenticated
  account: null,
  characters: [],
  entityId: null,
  character: null,
  zone: null,
  exits: [],
  self: { x: 0, z: 0, y: 0, heading: 0, speed: 'stop', moveHeading: 0 },
  baseSpeed: 6,
  entities: new Map(), // id -> {id,name,type,hostile, from,to,t0,dur, absAt, heading}
  rosters: {}, // channel -> {count, entities: Map, sample, lastSpeaker}
  compact: new CompactView(), // the compact encoding's view (when the server speaks it)
  compactSelf: '', // SELF last applied
  danger: { level: 'safe', hostilesNearby: 0 },
  combat: null,
  targetId: null,
  targetHp: null,
  cooldowns: {},
  clickTarget: null,
  keys: new Set(),
  run: false,
  kicked: false,
  pendingCommand: null,
};

const conn = new Connection({
  onOpen: authenticate,
  onMessage: onMessage,
  onBinary: onCompactFrame,
  onStatus: setStatus,
  onLost: () => { S.inWorld = false; },
});
const view = new MapView($('map'));

function setStatus(text, kind) {
  const el = $('status');
  el.textContent = text;
  el.className = `status ${kind}`;
}

function show(screen) {
  S.screen = screen;
  for (const s of ['login', 'chars', 'game']) $(`screen-${s}`).hidden = s !== screen;
  $('logout').hidden = screen === 'login';
  if (screen === 'game') requestAnimationFrame(() => $('map').focus());
}

// ---- session -------------------------------------------------------------

function authenticate() {
  if (S.token) {
    conn.send('auth', { method: 'token', token: S.token });
  } else {
    show('login');
  }
}

function rememberToken(token) {
  S.token = token;
  if (token) localStorage.setItem('wod.token', token);
  else localStorage.removeItem('wod.token');
}

function rememberCharacter(id) {
  S.characterId = id;
  if (id) localStorage.setItem('wod.characterId', id);
  else localStorage.removeItem('wod.characterId');
}

function onAuthSuccess(p) {
  rememberToken(p.token);
  S.account = p.accountId;
  S.characters = p.characters || [];
  const stored = S.characters.find((c) => String(c.id) === String(S.characterId));
  if (stored && (S.resumeWorld || S.characterId)) {
    conn.send('character_select', { characterId: String(stored.id) });
    setStatus(`Resuming ${stored.name}\u2026`, 'warn');
    return;
  }
  renderCharacters(p);
  show('chars');
}

function renderCharacters(p) {
  const ul = $('char-list');
  ul.replaceChildren();
  if (!S.characters.length) {
    const li = document.createElement('li');
    li.textContent = 'No characters yet.';
    ul.append(li);
  }
  for (const c of S.characters) {
    const li = document.createElement('li');
    const span = document.createElement('span');
    span.textContent = `${c.name} \u2014 level ${c.level}${c.location ? ', ' + c.location : ''}`;
    const b = document.createElement('button');
    b.textContent = 'Play';
    b.addEventListener('click', () => conn.send('character_select', { characterId: String(c.id) }));
    li.append(span, b);
    ul.append(li);
  }
  $('create-form').hidden = p && p.canCreateCharacter === false;
}

// Client-side check of the server's name rules (docs/PROTOCOL.md).
function nameProblem(n) {
  if (n.length < 3 || n.length > 20) return 'Names are 3 to 20 characters.';
  if (!/^[A-Za-z]/.test(n)) return 'A name starts with a letter.';
  if (!/^[A-Za-z][A-Za-z0-9 '\-]*$/.test(n)) return "Use letters, digits, spaces, - or ' only.";
  if (/ {2}/.test(n) || / $/.test(n)) return 'No double or trailing spaces.';
  return null;
}

// ---- world state ------------------------------------------------------------

function enterWorld(p) {
  S.inWorld = true;
  S.resumeWorld = true;
  S.character = p.character;
  S.entityId = p.entityId || `char-${p.characterId}`;
  rememberCharacter(String(p.characterId));
  S.zone = p.zone;
  S.exits = p.exits || [];
  const pos = p.character?.position || { x: 0, y: 0, z: 0 };
  Object.assign(S.self, { x: pos.x, y: pos.y, z: pos.z, heading: p.character?.heading || 0, speed: 'stop' });
  S.baseSpeed = p.character?.derivedStats?.baseSpeed || 6;
  S.entities.clear();
  S.rosters = {};
  S.compact = new CompactView();
  S.compactSelf = '';
  S.clickTarget = null;
  for (const e of p.entities || []) {
    if (e.id === S.entityId) continue;
    upsertEntity(e.id, { name: e.name, type: e.type, hostile: !!e.hostile }, e.position, true);
  }
  updateVitals(p.character);
  updateWhere();
  setStatus('In the world', 'ok');
  show('game');
  log('sys', `You enter ${p.zone?.name || p.zone?.id}.`);
}

function updateWhere() {
  const name = S.character?.name || '';
  $('where').textContent = S.zone ? `${name} \u00b7 ${S.zone.name || S.zone.id}` : name;
}

// Sets an entity's target position; pos in zone feet. Absolute positions win
// over ones computed from a roster's bearing/range for 2 s.
function upsertEntity(id, info, pos, absolute) {
  const now = performance.now();
  let e = S.entities.get(id);
  if (!e) {
    e = { id, name: id, type: 'npc', hostile: false, from: null, to: null, t0: now, dur: 1, absAt: -1e9, last: now };
    S.entities.set(id, e);
  }
  for (const k of ['name', 'type', 'hostile', 'heading']) if (info[k] !== undefined) e[k] = info[k];
  if (!pos) return;
  if (!absolute && now - e.absAt < 2000) return;
  if (absolute) e.absAt = now;
  const cur = e.to ? currentPos(e, now) : { x: pos.x, z: pos.z };
  if (e.to && (Math.abs(pos.x - e.to.x) > 0.05 || Math.abs(pos.z - e.to.z) > 0.05) && info.heading === undefined) {
    e.heading = (Math.atan2(pos.x - e.to.x, pos.z - e.to.z) * 180) / Math.PI;
  }
  e.from = cur;
  e.to = { x: pos.x, z: pos.z };
  e.t0 = now;
  // interpolate over the time since the previous update (2 Hz -> 0.5 s)
  e.dur = Math.min(1000, Math.max(100, now - e.last));
  e.last = now;
}

function currentPos(e, now) {
  if (!e.from) return e.to;
  const k = Math.min(1, (now - e.t0) / e.dur);
  return { x: e.from.x + (e.to.x - e.from.x) * k, z: e.from.z + (e.to.z - e.from.z) * k };
}

// A roster entity's position: own position + range along its bearing.
function fromBearing(re) {
  if (typeof re.bearing !== 'number' || typeof re.range !== 'number') return null;
  const t = (re.bearing * Math.PI) / 180;
  const flat = re.range * Math.cos(((re.elevation || 0) * Math.PI) / 180);
  return { x: S.self.x + Math.sin(t) * flat, z: S.self.z + Math.cos(t) * flat };
}

function rosterPlace(re) {
  if (re.id === S.entityId) return;
  upsertEntity(re.id, { name: re.name, type: re.type }, re.position || fromBearing(re), !!re.position);
}

function applyRoster(p, full) {
  if (full) S.rosters = {};
  for (const ch of CHANNELS) {
    const c = p.channels?.[ch];
    if (!c) continue;
    let r = S.rosters[ch];
    if (full || !r) r = S.rosters[ch] = { count: 0, entities: new Map() };
    if (full) for (const e of c.entities || []) r.entities.set(e.id, { ...e });
    for (const e of c.added || []) r.entities.set(e.id, { ...e });
    for (const id of c.removed || []) r.entities.delete(typeof id === 'string' ? id : id.id);
    for (const u of c.updated || []) {
      const old = r.entities.get(u.id);
      if (old) Object.assign(old, u);
      else r.entities.set(u.id, { ...u });
    }
    if (c.count !== undefined) r.count = c.count;
    else if (full) r.count = r.entities.size;
    if (c.sample !== undefined) r.sample = c.sample;
    if (c.lastSpeaker !== undefined) r.lastSpeaker = c.lastSpeaker;
  }
  // dangerState: an object, or the original's boolean with the detail in `danger`
  if (p.dangerState !== undefined) setDanger(p.dangerState);
  if (p.danger && typeof p.danger === 'object') setDanger(p.danger);
  // Positions: the widest channels list the most; nearer ones are more exact.
  const seen = new Set();
  for (const ch of ['touch', 'say', 'see', 'shout', 'hear', 'emote', 'cfh']) {
    for (const e of S.rosters[ch]?.entities.values() || []) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      rosterPlace(e);
    }
  }
  // Forget entities no roster lists any more (and no absolute update keeps).
  const now = performance.now();
  for (const id of [...S.entities.keys()]) {
    if (!seen.has(id) && now - S.entities.get(id).absAt > 3000) S.entities.delete(id);
  }
  renderRoster();
}

// A compact frame: update the view, then render it like a full roster whose
// entities carry absolute positions; our own position like a state_update's.
function onCompactFrame(bytes) {
  try {
    S.compact.apply(bytes);
  } catch (err) {
    log('err', `Bad roster frame (${err.message}); asking for a fresh one.`);
    S.compact = new CompactView();
    conn.send('proximity_refresh', {});
    return;
  }
  const roster = S.compact.roster();
  const pos = new Map(S.compact.entities().map((e) => [e.id, e.position]));
  for (const ch of Object.values(roster.channels)) for (const e of ch.entities) e.position = pos.get(e.id);
  applyRoster(roster, true);
  const self = S.compact.selfPosition();
  const key = `${self.x},${self.y},${self.z}`;
  if (key !== S.compactSelf) {
    S.compactSelf = key;
    correctSelf(self);
  }
}

function setDanger(d) {
  // an object today ({level, hostilesNearby}); maybe a boolean later
  if (typeof d === 'boolean') S.danger = { level: d ? 'danger' : 'safe' };
  else if (d && typeof d === 'object') S.danger = { ...S.danger, ...d };
  const el = $('danger');
  const danger = S.danger.level === 'danger' || S.danger.inDanger === true;
  el.className = `danger ${danger ? 'is-danger' : 'is-safe'}`;
  const n = S.danger.hostilesNearby;
  el.textContent = danger ? `Danger${typeof n === 'number' ? ` \u2014 ${n} hostile${n === 1 ? '' : 's'} near` : ''}` : 'Safe';
}

function renderRoster() {
  const ul = $('roster');
  ul.replaceChildren();
  for (const ch of CHANNELS) {
    const r = S.rosters[ch] || { count: 0, entities: new Map() };
    const li = document.createElement('li');
    const a = document.createElement('span'); a.className = 'ch'; a.textContent = ch;
    const b = document.createElement('span'); b.className = 'n'; b.textContent = r.count ?? 0;
    const c = document.createElement('span'); c.className = 'names';
    c.textContent = [...r.entities.values()].map((e) => e.name || e.id).join(', ');
    li.append(a, b, c);
    ul.append(li);
  }
}

function onStateUpdate(p) {
  if (p.zone) {
    const changed = !S.zone || p.zone.id !== S.zone.id;
    S.zone = p.zone;
    if (changed) {
      S.entities.clear();
      S.clickTarget = null;
      log('sys', `You cross into ${p.zone.name || p.zone.id}.`);
    }
    if (p.exits) S.exits = p.exits;
    updateWhere();
  }
  if (p.character) {
    if (p.character.position) Object.assign(S.self, { x: p.character.position.x, y: p.character.position.y, z: p.character.position.z });
    S.character = { ...S.character, ...p.character };
    updateVitals(p.character);
  }
  const ents = p.entities;
  if (ents) {
    for (const e of [...(ents.added || []), ...(ents.updated || [])]) {
      if (e.id === S.entityId) {
        correctSelf(e.position);
        continue;
      }
      upsertEntity(e.id, { name: e.name, type: e.type, hostile: e.hostile, heading: e.heading }, e.position, !!e.position);
    }
    for (const r of ents.removed || []) S.entities.delete(typeof r === 'string' ? r : r.id);
  }
  if (p.combat) {
    S.combat = p.combat;
    renderCombat();
  }
}

// The server's word on our own position: pull the dead-reckoned one towards
// it (snapping outright would jitter, since it is a little behind).
function correctSelf(pos) {
  if (!pos || S.clickTarget) return;
  const dx = pos.x - S.self.x, dz = pos.z - S.self.z;
  const d = Math.hypot(dx, dz);
  if (d > 20) Object.assign(S.self, { x: pos.x, z: pos.z });
  else if (d > 1.5) { S.self.x += dx / 2; S.self.z += dz / 2; }
}

function updateVitals(ch) {
  if (!ch) return;
  const set = (key, bar, text) => {
    const v = ch[key];
    if (!v || typeof v.current !== 'number') return;
    const max = v.max || 1;
    $(bar).style.width = `${Math.max(0, Math.min(100, (100 * v.current) / max))}%`;
    $(text).textContent = `${Math.round(v.current)}/${Math.round(max)}`;
  };
  set('health', 'hp-bar', 'hp-text');
  set('stamina', 'st-bar', 'st-text');
  set('mana', 'mp-bar', 'mp-text');
}

function renderCombat() {
  if (S.combat?.autoAttackTarget && !S.targetId) S.targetId = S.combat.autoAttackTarget;
  const atb = S.combat?.atb;
  $('atb-row').hidden = !atb;
  if (atb) {
    $('atb-bar').style.width = `${Math.min(100, (100 * atb.current) / (atb.max || 100))}%`;
    $('atb-text').textContent = `${atb.current}/${atb.max}`;
  }
}

function renderTarget() {
  const e = S.targetId && S.entities.get(S.targetId);
  $('target-frame').hidden = !e;
  if (!e) return;
  $('target-name').textContent = e.name;
  const p = currentPos(e, performance.now());
  $('target-range').textContent = p ? `${Math.round(Math.hypot(p.x - S.self.x, p.z - S.self.z))} ft` : '';
  const hp = S.targetHp?.id === e.id ? S.targetHp : null;
  $('target-bar').style.width = hp ? `${(100 * hp.cur) / (hp.max || 1)}%` : '100%';
}

function renderAbilities() {
  const row = $('abilities');
  row.replaceChildren();
  for (const a of ABILITIES) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `${a.key} ${a.name}`;
    b.title = `${a.name} (key ${a.key}) on the selected target`;
    b.addEventListener('click', () => useAbility(a));
    const cd = document.createElement('span');
    cd.className = 'cd';
    cd.dataset.ability = a.id;
    b.append(cd);
    row.append(b);
  }
}

// Cooldown bars under the ability buttons shrink to nothing as they end.
function renderCooldowns(now) {
  for (const a of ABILITIES) {
    const el = document.querySelector(`.cd[data-ability="${a.id}"]`);
    const left = (S.cooldowns[a.id] || 0) - now;
    if (el) el.style.width = left > 0 && a.cooldownS ? `${(100 * left) / (a.cooldownS * 1000)}%` : '0';
  }
}

function useAbility(a) {
  if (!S.targetId) { log('err', 'No target: press T or click someone first.'); return; }
  const until = S.cooldowns[a.id] || 0;
  if (performance.now() < until) { log('err', `${a.name} is cooling down.`); return; }
  conn.send('combat_action', { abilityId: a.id, targetId: S.targetId });
  if (a.cooldownS) S.cooldowns[a.id] = performance.now() + a.cooldownS * 1000;
}

// ---- chat and the event log --------------------------------------------

function log(cls, text) {
  const ol = $('log');
  const li = document.createElement('li');
  li.className = cls;
  li.textContent = text;
  const atBottom = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
  ol.append(li);
  while (ol.children.length > LOG_MAX) ol.firstChild.remove();
  if (atBottom) ol.scrollTop = ol.scrollHeight;
}

function onChat(channel, sender, message) {
  if (channel === 'emote') log('emote', `${sender} ${message}`);
  else if (channel === 'whisper') log('whisper', `${sender} whispers: ${message}`);
  else log(channel in { say: 1, shout: 1, cfh: 1, world: 1 } ? channel : 'say', `[${channel}] ${sender}: ${message}`);
}

function nameOf(id) {
  if (!id) return 'someone';
  if (id === S.entityId) return 'you';
  return S.entities.get(id)?.name || id;
}

function onEvent(p) {
  const t = p.eventType;
  if (t === 'announcement') { log('announce', `Announcement: ${p.message}`); return; }
  if (t === 'combat_hit') {
    if (typeof p.targetHp === 'number') S.targetHp = { id: p.targetId, cur: p.targetHp, max: p.targetMaxHp };
    log('combat', p.narrative || `${nameOf(p.attackerId)} hit ${nameOf(p.targetId)} for ${p.amount ?? p.damage ?? '?'}${p.outcome && p.outcome !== 'hit' ? ` (${p.outcome})` : ''}.`);
    return;
  }
  if (t === 'combat_miss') { log('combat', p.narrative || `${nameOf(p.attackerId)} missed ${nameOf(p.targetId)}.`); return; }
  if (t === 'combat_death' || t === 'death') { log('combat', p.narrative || `${nameOf(p.targetId || p.entityId)} dies.`); return; }
  if (t === 'combat_error' && p.reason === 'cooldown' && p.remainingMs) {
    S.cooldowns[p.abilityId || 'basic_attack'] = performance.now() + p.remainingMs;
  }
  if (t === 'combat_error') { log('err', p.narrative || `Cannot attack: ${p.reason || 'error'}.`); return; }
  if (t === 'movement_complete') return;
  if (t === 'zone_recovering') { log('sys', 'The zone is recovering\u2026'); return; }
  if (t === 'zone_recovered') { log('sys', 'The zone is back.'); return; }
  log(t?.startsWith('combat') ? 'combat' : 'sys', p.narrative || p.message || p.text || `${t}${p.targetId ? ' ' + nameOf(p.targetId) : ''}`);
}

function sendChat(text) {
  text = text.trim();
  if (!text) return;
  if (text.startsWith('/')) {
    conn.send('command', { command: text });
    S.pendingCommand = text;
    return;
  }
  const channel = $('chat-channel').value;
  const payload = { channel, message: text };
  if (channel === 'whisper') {
    const to = $('chat-target').value.trim();
    if (!to) { log('err', 'Whisper to whom? Fill in the name.'); return; }
    payload.target = to;
  }
  conn.send('chat', payload);
}

// ---- messages ------------------------------------------------------------

function onMessage(type, p) {
  switch (type) {
    case 'auth_success': return onAuthSuccess(p);
    case 'auth_error':
      if (S.token && p.reason === 'INVALID_TOKEN') {
        rememberToken(null);
        rememberCharacter(null);
        show('login');
        return;
      }
      $('login-error').textContent = p.message || p.reason;
      show('login');
      return;
    case 'world_entry': return enterWorld(p);
    case 'proximity_roster': return applyRoster(p, true);
    case 'proximity_roster_delta': return applyRoster(p, false);
    case 'state_update': return onStateUpdate(p);
    case 'communication': return onChat(p.channel, p.senderName || p.senderId, p.content);
    case 'chat': return onChat(p.channel, p.sender || p.senderName || p.senderId, p.message ?? p.content);
    case 'event': return onEvent(p);
    case 'command_response': {
      // {success, command, message?, error?, data?} (docs/GAME.md)
      S.pendingCommand = null;
      const ok = p.success !== false;
      let text = (ok ? p.message : p.error) || p.message || p.error || `${p.command || 'command'}: ${ok ? 'done' : 'failed'}`;
      const sugg = p.data?.suggestions;
      if (Array.isArray(sugg) && sugg.length) text += ` (did you mean ${sugg.join(', ')}?)`;
      for (const line of String(text).split('\n')) log(ok ? 'sys' : 'err', line);
      return;
    }
    case 'error': return onError(p);
    case 'pong': return;
    default: return;
  }
}

function onError(p) {
  const code = p.code || 'ERROR';
  if (code === 'MOVE_REJECTED' && p.position) {
    Object.assign(S.self, { x: p.position.x, y: p.position.y, z: p.position.z });
    S.clickTarget = null;
    return;
  }
  if (code === 'UNKNOWN_TYPE' && S.pendingCommand) {
    log('err', `Commands are not available on this server (${S.pendingCommand}).`);
    S.pendingCommand = null;
    return;
  }
  if (code === 'KICKED' || code === 'CHARACTER_TAKEN_OVER' || code === 'SERVER_SHUTDOWN') {
    S.kicked = code !== 'SERVER_SHUTDOWN';
    S.inWorld = false;
    log('err', `${p.message || code}`);
    if (S.kicked) {
      S.resumeWorld = false;
      conn.stop(code === 'KICKED' ? `Kicked: ${p.message}` : 'Playing elsewhere');
    }
    return;
  }
  if (code === 'CHARACTER_NOT_FOUND' && S.screen !== 'chars') {
    // the stored character is gone: choose again
    rememberCharacter(null);
    S.resumeWorld = false;
    renderCharacters(null);
    show('chars');
  }
  if (S.screen === 'login') $('login-error').textContent = p.message || code;
  else if (S.screen === 'chars') $('chars-error').textContent = p.message || code;
  else log('err', `${p.message || code}`);
}

// ---- movement ----------------------------------------------------------------

function keyHeading() {
  let dx = 0, dz = 0;
  if (S.keys.has('up')) dz += 1;
  if (S.keys.has('down')) dz -= 1;
  if (S.keys.has('right')) dx += 1;
  if (S.keys.has('left')) dx -= 1;
  if (!dx && !dz) return null;
  return ((Math.atan2(dx, dz) * 180) / Math.PI + 360) % 360;
}

function sendKeyMove() {
  const h = keyHeading();
  if (h === null) {
    if (S.self.speed !== 'stop' && !S.clickTarget) {
      conn.send('move', { method: 'heading', heading: S.self.moveHeading, speed: 'stop' });
      S.self.speed = 'stop';
    }
    return;
  }
  S.clickTarget = null;
  const speed = S.run ? 'run' : 'walk';
  if (S.self.speed === speed && S.self.moveHeading === h) return;
  S.self.speed = speed;
  S.self.moveHeading = h;
  S.self.heading = h;
  conn.send('move', { method: 'heading', heading: h, speed });
}

const KEYMAP = { w: 'up', arrowup: 'up', s: 'down', arrowdown: 'down', a: 'left', arrowleft: 'left', d: 'right', arrowright: 'right' };

function typing(ev) {
  const t = ev.target;
  return t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA');
}

function onKeyDown(ev) {
  if (S.screen !== 'game' || !S.inWorld) return;
  if (typing(ev)) {
    if (ev.key === 'Escape') { ev.target.blur(); $('map').focus(); }
    return;
  }
  const k = ev.key.toLowerCase();
  if (KEYMAP[k]) {
    ev.preventDefault();
    S.keys.add(KEYMAP[k]);
    S.run = ev.shiftKey;
    sendKeyMove();
  } else if (k === 'shift') {
    S.run = true;
    if (S.keys.size) sendKeyMove();
  } else if (k === 'enter') {
    ev.preventDefault();
    $('chat-input').focus();
  } else if (k === 't') {
    cycleTarget();
  } else if (k === 'escape') {
    S.targetId = null;
  } else {
    const a = ABILITIES.find((x) => x.key === k);
    if (a) useAbility(a);
  }
}

function onKeyUp(ev) {
  const k = ev.key.toLowerCase();
  if (KEYMAP[k]) {
    S.keys.delete(KEYMAP[k]);
    sendKeyMove();
  } else if (k === 'shift') {
    S.run = false;
    if (S.keys.size) sendKeyMove();
  }
}

function cycleTarget() {
  const now = performance.now();
  const list = [...S.entities.values()]
    .map((e) => ({ e, d: Math.hypot(currentPos(e, now).x - S.self.x, currentPos(e, now).z - S.self.z) }))
    .sort((a, b) => a.d - b.d)
    .map((x) => x.e.id);
  if (!list.length) return;
  const i = list.indexOf(S.targetId);
  S.targetId = list[(i + 1) % list.length];
}

// Click-to-move: position steps towards the point at walking pace (the
// server accepts a step up to run speed x elapsed time).
let lastStep = 0;
function stepTowardsClick(now) {
  const t = S.clickTarget;
  if (!t || now - lastStep < 250) return;
  const dt = lastStep ? Math.min(0.5, (now - lastStep) / 1000) : 0.25;
  lastStep = now;
  const dx = t.x - S.self.x, dz = t.z - S.self.z, d = Math.hypot(dx, dz);
  const step = S.baseSpeed * SPEED_MULT[S.run ? 'run' : 'jog'] * dt;
  let nx = t.x, nz = t.z;
  if (d > step) { nx = S.self.x + (dx / d) * step; nz = S.self.z + (dz / d) * step; }
  if (d > 0.01) S.self.heading = ((Math.atan2(dx, dz) * 180) / Math.PI + 360) % 360;
  S.self.x = nx;
  S.self.z = nz;
  conn.send('move', { method: 'position', position: { x: nx, y: S.self.y, z: nz } });
  if (d <= step) S.clickTarget = null;
}

// Own position between server corrections: dead reckoning of the heading move.
function advanceSelf(dtS) {
  if (S.self.speed === 'stop' || S.clickTarget) return;
  const v = S.baseSpeed * SPEED_MULT[S.self.speed], t = (S.self.moveHeading * Math.PI) / 180;
  const sx = S.zone?.size?.x ?? Infinity, sz = S.zone?.size?.z ?? Infinity;
  S.self.x = Math.max(0, Math.min(sx, S.self.x + Math.sin(t) * v * dtS));
  S.self.z = Math.max(0, Math.min(sz, S.self.z + Math.cos(t) * v * dtS));
}

// ---- rendering -----------------------------------------------------------------

function renderedEntities(now) {
  const out = [];
  for (const e of S.entities.values()) {
    const p = currentPos(e, now);
    if (!p) continue;
    out.push({ id: e.id, name: e.name, type: e.type, hostile: e.hostile, x: p.x, z: p.z, heading: e.heading });
  }
  if (S.inWorld) out.push({ id: S.entityId, name: S.character?.name, type: 'player', x: S.self.x, z: S.self.z, heading: S.self.heading });
  return out;
}

let lastFrame = performance.now();
let lastDrawn = [];
function frame(now) {
  const dt = Math.min(0.25, (now - lastFrame) / 1000);
  lastFrame = now;
  if (S.screen === 'game' && S.zone) {
    advanceSelf(dt);
    stepTowardsClick(now);
    view.cx = S.self.x;
    view.cz = S.self.z;
    lastDrawn = renderedEntities(now);
    view.draw(S.zone, S.exits, lastDrawn, { selfId: S.entityId, targetId: S.targetId });
    renderTarget();
    renderCooldowns(now);
  }
  requestAnimationFrame(frame);
}

// ---- wiring ----------------------------------------------------------------------

function wire() {
  $('guest-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = $('guest-name').value.trim();
    $('login-error').textContent = '';
    conn.send('auth', name ? { method: 'guest', guestName: name } : { method: 'guest' });
  });
  const cred = (register) => {
    const username = $('username').value.trim(), password = $('password').value;
    $('login-error').textContent = '';
    if (register && password.length < 8) { $('login-error').textContent = 'Passwords have at least 8 characters.'; return; }
    conn.send('auth', register ? { method: 'credentials', username, password, register: true } : { method: 'credentials', username, password });
  };
  $('cred-form').addEventListener('submit', (ev) => { ev.preventDefault(); cred(false); });
  $('register-btn').addEventListener('click', () => { if ($('cred-form').reportValidity()) cred(true); });
  $('char-name').addEventListener('input', () => {
    const problem = nameProblem($('char-name').value);
    $('chars-error').textContent = $('char-name').value ? problem || '' : '';
  });
  $('create-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = $('char-name').value;
    const problem = nameProblem(name);
    if (problem) { $('chars-error').textContent = problem; return; }
    $('chars-error').textContent = '';
    conn.send('character_create', { name, appearance: { description: $('char-desc').value.trim() } });
  });
  $('logout').addEventListener('click', () => {
    conn.send('disconnect', { reason: 'logout' });
    rememberToken(null);
    rememberCharacter(null);
    location.reload();
  });
  $('chat-channel').addEventListener('change', () => { $('chat-target').hidden = $('chat-channel').value !== 'whisper'; });
  $('chat-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sendChat($('chat-input').value);
    $('chat-input').value = '';
  });
  const map = $('map');
  map.addEventListener('mousemove', (ev) => {
    const hit = view.pick(lastDrawn, ev.offsetX, ev.offsetY);
    view.hoverId = hit ? hit.id : null;
  });
  map.addEventListener('mouseleave', () => { view.hoverId = null; });
  map.addEventListener('click', (ev) => {
    if (!S.inWorld) return;
    map.focus();
    const hit = view.pick(lastDrawn, ev.offsetX, ev.offsetY);
    if (hit && hit.id !== S.entityId) { S.targetId = hit.id; return; }
    const w = view.toWorld(ev.offsetX, ev.offsetY);
    const sx = S.zone?.size?.x ?? 1e9, sz = S.zone?.size?.z ?? 1e9;
    S.clickTarget = { x: Math.max(0, Math.min(sx, w.x)), z: Math.max(0, Math.min(sz, w.z)) };
    if (S.self.speed !== 'stop') { conn.send('move', { method: 'heading', heading: S.self.moveHeading, speed: 'stop' }); S.self.speed = 'stop'; }
  });
  window.addEventListener('keydown', onKeyDown);
  window.addEventListener('keyup', onKeyUp);
  window.addEventListener('blur', () => { S.keys.clear(); sendKeyMove(); });
  setInterval(() => conn.send('ping', { timestamp: Date.now() }), 20000);
  renderAbilities();
  renderRoster();
}

// The test hook: what the page draws, in canvas pixels and feet.
window.__wod = {
  state: S,
  encoding: () => conn.encoding,
  entities: () => lastDrawn.map((e) => ({ ...e })),
  screenPos(id) {
    const e = lastDrawn.find((x) => x.id === id || x.name === id);
    if (!e) return null;
    const p = view.toScreen(e.x, e.z);
    return { x: p.x, y: p.y, dpr: view.dpr };
  },
  logLines: () => [...document.querySelectorAll('#log li')].map((li) => li.textContent),
};

wire();
requestAnimationFrame(frame);
conn.start();
