// admin.js - the admin console: polls /api/admin/* every second with the
// bearer token (kept in sessionStorage), keeps tick history client-side for
// the sparklines, and draws the selected zone's live map with map.js.
import { MapView } from './map.js';

const $ = (id) => document.getElementById(id);
const HISTORY = 300; // samples (one a second): the last five minutes
const A = {
  token: sessionStorage.getItem('wod.admin') || '',
  history: new Map(), // serverId -> [p99...]
  lastGw: new Map(), // gatewayId -> {t, in, out}
  zone: null,
  entities: [],
  snapshot: null,
  timer: null,
  zonesFilled: false,
};
const view = new MapView($('livemap'));

function setStatus(text, kind) {
  $('status').textContent = text;
  $('status').className = `status ${kind}`;
}

async function api(path, body) {
  const opt = { headers: { Authorization: `Bearer ${A.token}` } };
  if (body) {
    opt.method = 'POST';
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  const r = await fetch(path, opt);
  const j = await r.json().catch(() => ({}));
  if (!r.ok) {
    const err = new Error(j.error || `HTTP ${r.status}`);
    err.status = r.status;
    throw err;
  }
  return j;
}

function signIn(token) {
  A.token = token;
  sessionStorage.setItem('wod.admin', token);
  poll();
}

function signOut(msg) {
  clearTimeout(A.timer);
  A.token = '';
  sessionStorage.removeItem('wod.admin');
  $('console').hidden = true;
  $('login').hidden = false;
  $('signout').hidden = true;
  $('login-error').textContent = msg || '';
  setStatus('Not signed in', 'warn');
  $('token').focus();
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.append(td);
  return td;
}

function fmt(n, d = 2) {
  return typeof n === 'number' ? n.toFixed(d) : '\u2013';
}

function sparkline(values) {
  const c = document.createElement('canvas');
  c.className = 'spark';
  c.width = 120;
  c.height = 22;
  const ctx = c.getContext('2d');
  const max = Math.max(0.01, ...values);
  // newest sample at the right edge; at least a minute's width
  const span = Math.max(60, values.length) - 1;
  ctx.strokeStyle = '#3ee07a';
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = 120 - ((values.length - 1 - i) / span) * 120;
    const y = 21 - (v / max) * 20;
    if (i) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = '#9fb0c4';
  ctx.font = '9px system-ui';
  ctx.fillText(`max ${max.toFixed(2)}`, 2, 9);
  return c;
}

function renderCluster(c) {
  $('where').textContent = `${c.mode} \u00b7 via ${c.gateway}`;
  const tb = $('servers').tBodies[0];
  tb.replaceChildren();
  for (const s of c.servers) {
    const zs = s.zoneStats ? Object.values(s.zoneStats) : [];
    const p99 = zs.length ? Math.max(...zs.map((z) => z.tickMs?.p99 || 0)) : null;
    // the server's p50 is its zones' highest (an older server sends only avg)
    const p50 = zs.length ? Math.max(...zs.map((z) => z.tickMs?.p50 ?? z.tickMs?.avg ?? 0)) : null;
    if (p99 !== null) {
      const h = A.history.get(s.serverId) || [];
      h.push(p99);
      if (h.length > HISTORY) h.shift();
      A.history.set(s.serverId, h);
    }
    const tr = document.createElement('tr');
    cell(tr, s.serverId);
    cell(tr, s.type);
    cell(tr, (s.zones || []).length ? `${s.zones.length}: ${s.zones.slice(0, 3).join(', ')}${s.zones.length > 3 ? '\u2026' : ''}` : '\u2013');
    cell(tr, s.players ?? 0);
    const age = s.heartbeatAgeMs;
    cell(tr, typeof age === 'number' ? `${(age / 1000).toFixed(1)} s ago` : '?', typeof age === 'number' && age > 12000 ? 'bad' : 'ok');
    cell(tr, p99 === null ? '\u2013' : `${fmt(p50, 3)} / ${fmt(p99, 3)}`);
    const td = cell(tr, '');
    if (A.history.has(s.serverId)) td.append(sparkline(A.history.get(s.serverId)));
    tb.append(tr);
  }
  const gb = $('gateways').tBodies[0];
  gb.replaceChildren();
  const now = Date.now();
  for (const g of c.gateways) {
    const prev = A.lastGw.get(g.serverId);
    let rin = null, rout = null;
    if (prev && now > prev.t && typeof g.msgsIn === 'number') {
      const dt = (now - prev.t) / 1000;
      rin = Math.max(0, (g.msgsIn - prev.in) / dt);
      rout = Math.max(0, (g.msgsOut - prev.out) / dt);
    }
    if (!prev || prev.in !== g.msgsIn || now - prev.t > 4000) A.lastGw.set(g.serverId, { t: now, in: g.msgsIn, out: g.msgsOut });
    const tr = document.createElement('tr');
    cell(tr, g.serverId + (g.self ? ' (this one)' : ''));
    cell(tr, g.connections ?? '?');
    cell(tr, rin === null ? '\u2013' : rin.toFixed(1));
    cell(tr, rout === null ? '\u2013' : rout.toFixed(1));
    gb.append(tr);
  }
  const zb = $('zones').tBodies[0];
  zb.replaceChildren();
  for (const z of c.zones) {
    const tr = document.createElement('tr');
    cell(tr, z.name || z.zoneId);
    cell(tr, z.owner || 'unowned', z.owner ? '' : 'bad');
    cell(tr, z.players ?? 0);
    cell(tr, z.tickMs ? `${fmt(z.tickMs.p50 ?? z.tickMs.avg, 3)} / ${fmt(z.tickMs.p99, 3)}` : '\u2013');
    const b = document.createElement('button');
    b.className = 'small';
    b.textContent = 'Watch';
    b.addEventListener('click', () => selectZone(z.zoneId));
    cell(tr, '').append(b);
    zb.append(tr);
  }
  if (!A.zonesFilled) {
    for (const sel of [$('map-zone'), $('announce-zone')]) {
      sel.replaceChildren();
      for (const z of c.zones) {
        const o = document.createElement('option');
        o.value = z.zoneId;
        o.textContent = z.name || z.zoneId;
        sel.append(o);
      }
    }
    A.zonesFilled = true;
    const busiest = [...c.zones].sort((a, b) => (b.players || 0) - (a.players || 0))[0];
    selectZone(A.zone || (busiest && busiest.players ? busiest.zoneId : 'zone-crossroads'));
  }
  const bus = c.bus;
  $('bus-health').textContent = `bus (${bus.kind}): ${bus.connected ? 'connected' : 'DOWN'}`;
  $('bus-health').className = bus.connected ? 'ok' : 'bad';
  const st = c.store;
  $('store-health').textContent = `store (${st.kind}): ${st.ok === null ? 'probing\u2026' : st.ok ? `ok, ${fmt(st.probeMs, 1)} ms` : 'FAILING'}`;
  $('store-health').className = st.ok === false ? 'bad' : 'ok';
}

function selectZone(id) {
  A.zone = id;
  $('map-zone').value = id;
  $('announce-zone').value = id;
}

function renderMap(snap) {
  A.snapshot = snap;
  A.entities = (snap.entities || []).map((e) => ({
    id: e.id, name: e.name, type: e.type, hostile: e.hostile, x: e.position.x, z: e.position.z, heading: e.heading,
  }));
  const players = A.entities.filter((e) => e.type === 'player').length;
  const age = snap.timestamp ? `${((Date.now() - snap.timestamp) / 1000).toFixed(1)} s old` : 'waiting for the zone\u2026';
  $('map-info').textContent = `${players} players, ${A.entities.length - players} NPCs \u00b7 ${snap.serverId || ''} \u00b7 ${age}`;
}

function drawMap() {
  if (A.snapshot) view.draw(A.snapshot, [], A.entities, { fit: true, labels: A.entities.length <= 30 });
  requestAnimationFrame(drawMap);
}

function renderPlayers(list) {
  const tb = $('players').tBodies[0];
  tb.replaceChildren();
  for (const p of list) {
    const tr = document.createElement('tr');
    cell(tr, p.name);
    cell(tr, p.zoneId);
    cell(tr, `${Math.round(p.position.x)}, ${Math.round(p.position.z)}`);
    cell(tr, p.gateway || '?');
    const b = document.createElement('button');
    b.className = 'small';
    b.textContent = 'Kick\u2026';
    b.addEventListener('click', () => { $('kick-name').value = p.name; $('kick-reason').focus(); });
    cell(tr, '').append(b);
    tb.append(tr);
  }
  if (!list.length) cell(tb.insertRow(), 'No players found.');
}

async function poll() {
  clearTimeout(A.timer);
  try {
    const cluster = await api('/api/admin/cluster');
    const players = await api(`/api/admin/players?q=${encodeURIComponent($('search').value.trim())}`);
    $('login').hidden = true;
    $('console').hidden = false;
    $('signout').hidden = false;
    setStatus(`Live \u00b7 ${new Date(cluster.timestamp).toLocaleTimeString()}`, 'ok');
    renderCluster(cluster);
    renderPlayers(players.players);
    if (A.zone) renderMap(await api(`/api/admin/zones/${encodeURIComponent(A.zone)}/entities`));
  } catch (e) {
    if (e.status === 401 || e.status === 429) {
      signOut(e.status === 401 ? 'Wrong token.' : 'Too many wrong tokens: wait a little.');
      return;
    }
    setStatus(`Cannot reach the gateway (${e.message})`, 'bad');
  }
  A.timer = setTimeout(poll, 1000);
}

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  $('login-error').textContent = '';
  signIn($('token').value);
});
$('signout').addEventListener('click', () => signOut());
$('map-zone').addEventListener('change', () => { selectZone($('map-zone').value); poll(); });
$('search-form').addEventListener('submit', (ev) => { ev.preventDefault(); poll(); });
$('kick-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('kick-name').value.trim(), reason = $('kick-reason').value.trim();
  try {
    await api('/api/admin/kick', reason ? { name, reason } : { name });
    $('action-result').textContent = `Kick sent for ${name}.`;
  } catch (e) {
    $('action-result').textContent = `Kick failed: ${e.message}`;
  }
});
$('announce-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const zoneId = $('announce-zone').value, message = $('announce-text').value.trim();
  try {
    await api('/api/admin/announce', { zoneId, message });
    $('action-result').textContent = `Announced in ${zoneId}.`;
    $('announce-text').value = '';
  } catch (e) {
    $('action-result').textContent = `Announcement failed: ${e.message}`;
  }
});

window.__wodAdmin = { state: A, entities: () => A.entities.map((e) => ({ ...e })) };
requestAnimationFrame(drawMap);
if (A.token) poll();
else signOut();
