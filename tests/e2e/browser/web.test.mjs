// web.test.mjs - the web client and the admin console in a real browser
// (Debian's chromium driven by playwright-core) against a real
// `wod-server all`: two players see and hear each other, movement shows up
// on the other's map (state and canvas pixels), a reload resumes the
// character, and the admin console lists, maps, announces to and kicks them.
// Screenshots at 1920 and 360 px wide go to build/test-output/browser/.
//
// Run: cd tests/e2e/browser && npm ci && node --test
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.mjs';
import { launchBrowser, newPage, screenshot, sleep, startServer, stopServer, waitFor } from './lib.mjs';

const TOKEN = 'browser-test-admin-token-0123456789';
const PLAYER_BLUE = [0x4a, 0xa3, 0xff];

let server, browser;
const pages = [];

before(async () => {
  server = await startServer({ ADMIN_TOKEN: TOKEN });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await stopServer(server);
});

async function enterAsGuest(name) {
  const page = await lib.enterAsGuest(browser, server.url, name);
  pages.push(page);
  // the character screen showed the name rules
  assert.match(await page.locator('#name-rules').textContent(), /3–20 characters/);
  return page;
}

const entityId = (page) => page.evaluate(() => window.__wod.state.entityId);
const seen = (page, id) => page.evaluate((id) => window.__wod.entities().find((e) => e.id === id) || null, id);

// The colour of the canvas pixel where `id` is drawn right now.
function pixelAt(page, id) {
  return page.evaluate((id) => {
    const p = window.__wod.screenPos(id);
    if (!p) return null;
    const c = document.getElementById('map');
    const d = c.getContext('2d').getImageData(Math.round(p.x), Math.round(p.y), 1, 1).data;
    return [d[0], d[1], d[2]];
  }, id);
}

const close = (a, b, tol = 40) => a && a.every((v, i) => Math.abs(v - b[i]) <= tol);

test('two browser players, the admin console, screenshots', async () => {
  const anna = await enterAsGuest('Anna');
  const bruno = await enterAsGuest('Bruno');
  const annaId = await entityId(anna), brunoId = await entityId(bruno);
  assert.notEqual(annaId, brunoId);
  // the web client asked for the compact roster encoding and got it
  assert.equal(await anna.evaluate(() => window.__wod.encoding()), 'compact');

  // each sees the other
  await waitFor(anna, (id) => window.__wod.entities().some((e) => e.id === id), brunoId, 'Anna sees Bruno');
  await waitFor(bruno, (id) => window.__wod.entities().some((e) => e.id === id), annaId, 'Bruno sees Anna');

  // Anna walks east with the keyboard; Bruno's map follows
  const before = await seen(bruno, annaId);
  await anna.locator('#map').focus();
  await anna.keyboard.down('d');
  await sleep(1500);
  await anna.keyboard.up('d');
  const moved = await waitFor(bruno, ([id, x0]) => {
    const e = window.__wod.entities().find((x) => x.id === id);
    return e && e.x > x0 + 4 ? e : null;
  }, [annaId, before.x], "Anna's move on Bruno's map");
  assert.ok(Math.abs(moved.z - before.z) < 3, `moved east, not north/south: ${JSON.stringify(moved)}`);
  // settle (interpolation), then the pixel under Anna on Bruno's canvas is player blue
  await sleep(1200);
  const px = await pixelAt(bruno, annaId);
  assert.ok(close(px, PLAYER_BLUE), `Bruno's canvas at Anna: ${px}`);
  // and on Anna's own map, Bruno is drawn in player blue too
  assert.ok(close(await pixelAt(anna, brunoId), PLAYER_BLUE), "Anna's canvas at Bruno");

  // chat both ways, typed into the chat box
  await anna.locator('#chat-input').fill('hello from Anna');
  await anna.locator('#chat-input').press('Enter');
  await waitFor(bruno, () => window.__wod.logLines().some((l) => l.includes('Anna: hello from Anna')), null, 'Bruno hears Anna');
  await bruno.locator('#chat-channel').selectOption('shout');
  await bruno.locator('#chat-input').fill('hi Anna');
  await bruno.locator('#chat-input').press('Enter');
  await waitFor(anna, () => window.__wod.logLines().some((l) => l.includes('[shout] Bruno: hi Anna')), null, 'Anna hears Bruno');
  // a slash command gets a readable line (a response, or an error if unsupported)
  const lines = (await anna.evaluate(() => window.__wod.logLines())).length;
  await anna.locator('#chat-input').fill('/who');
  await anna.locator('#chat-input').press('Enter');
  await waitFor(anna, (n) => window.__wod.logLines().length > n, lines, 'a line answering /who');

  // a reload resumes the same character
  const charId = await anna.evaluate(() => window.__wod.state.characterId);
  await anna.reload();
  await waitFor(anna, () => window.__wod?.state.inWorld, null, 'Anna back after reload');
  assert.equal(await anna.evaluate(() => window.__wod.state.characterId), charId);
  assert.equal(await entityId(anna), annaId);
  await waitFor(anna, (id) => window.__wod.entities().some((e) => e.id === id), brunoId, 'Anna sees Bruno again');

  // the admin console
  const admin = await newPage(browser);
  pages.push(admin);
  await admin.goto(`${server.url}/admin`);
  await admin.locator('#token').fill('not-the-token-at-all');
  await admin.locator('#token-form button').click();
  await waitFor(admin, () => document.getElementById('login-error').textContent.includes('Wrong token'), null, 'wrong token refused');
  // the browser logs the refused request itself; nothing else may be logged
  assert.ok(admin.errors.length > 0 && admin.errors.every((e) => e.includes('401')), String(admin.errors));
  admin.errors.length = 0;
  await admin.locator('#token').fill(TOKEN);
  await admin.locator('#token-form button').click();
  await waitFor(admin, () => {
    const t = document.querySelector('#players tbody').textContent;
    return t.includes('Anna') && t.includes('Bruno');
  }, null, 'both players listed');
  await waitFor(admin, () => {
    const names = window.__wodAdmin.entities().filter((e) => e.type === 'player').map((e) => e.name);
    return names.includes('Anna') && names.includes('Bruno');
  }, null, 'both on the live map');
  await waitFor(admin, () => document.querySelector('#servers tbody tr canvas.spark'), null, 'a sparkline');

  // announcement to the zone reaches both pages
  await admin.locator('#announce-text').fill('Server restarts at dawn');
  await admin.locator('#announce-form button').click();
  for (const p of [anna, bruno])
    await waitFor(p, () => window.__wod.logLines().some((l) => l.includes('Announcement: Server restarts at dawn')), null, 'announcement');

  // screenshots of the client (Bruno's page has the chat so far)
  await bruno.locator('#map').focus();
  await sleep(300);
  await screenshot(bruno, 'client-1920');
  await bruno.setViewportSize({ width: 360, height: 780 });
  await sleep(600);
  await screenshot(bruno, 'client-360');
  const wide = await bruno.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 362, `no horizontal scrolling at 360 px (scrollWidth ${wide})`);
  await bruno.setViewportSize({ width: 1920, height: 1080 });

  await sleep(1500); // a few samples for the sparklines
  await screenshot(admin, 'admin-1920');
  await admin.setViewportSize({ width: 360, height: 780 });
  await sleep(800);
  await screenshot(admin, 'admin-360');
  await admin.setViewportSize({ width: 1920, height: 1080 });

  // kick Bruno with a reason
  await admin.locator('#kick-name').fill('Bruno');
  await admin.locator('#kick-reason').fill('testing the kick');
  await admin.locator('#kick-form button').click();
  await waitFor(bruno, () => !window.__wod.state.inWorld && document.getElementById('status').textContent.includes('testing the kick'), null, 'Bruno kicked');
  assert.ok((await bruno.evaluate(() => window.__wod.logLines())).some((l) => l.includes('testing the kick')));
  await waitFor(admin, () => !document.querySelector('#players tbody').textContent.includes('Bruno'), null, 'Bruno gone from the list');
  await sleep(2500); // no reconnect after a kick
  assert.equal(await bruno.evaluate(() => window.__wod.state.inWorld), false);

  for (const p of pages) assert.deepEqual(p.errors, [], 'no console errors');
});

test('without ADMIN_TOKEN the admin console is 404', async () => {
  const plain = await startServer({});
  try {
    for (const path of ['/admin', '/admin.js', '/api/admin/cluster']) {
      const r = await fetch(`${plain.url}${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      assert.equal(r.status, 404, path);
    }
    const page = await newPage(browser);
    const res = await page.goto(`${plain.url}/admin`);
    assert.equal(res.status(), 404);
    // the client itself is there, with a validator for caching
    const r = await fetch(`${plain.url}/app.js`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/javascript/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    const etag = r.headers.get('etag');
    assert.ok(etag);
    assert.equal((await fetch(`${plain.url}/app.js`, { headers: { 'If-None-Match': etag } })).status, 304);
  } finally {
    await stopServer(plain);
  }
});

test('admin API: bearer token, throttling, bad requests', async () => {
  const s = await startServer({ ADMIN_TOKEN: TOKEN });
  try {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const post = (path, body, headers = auth) =>
      fetch(`${s.url}${path}`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body });
    assert.equal((await fetch(`${s.url}/api/admin/cluster`, { headers: auth })).status, 200);
    assert.equal((await fetch(`${s.url}/admin`)).status, 200); // the page itself holds no secret
    assert.equal((await post('/api/admin/kick', 'not json')).status, 400);
    assert.equal((await post('/api/admin/announce', JSON.stringify({ zoneId: 'zone-nowhere', message: 'x' }))).status, 400);
    assert.equal((await post('/api/admin/kick', 'x'.repeat(9000))).status, 413);
    assert.equal((await fetch(`${s.url}/api/admin/zones/zone-nowhere/entities`, { headers: auth })).status, 404);
    const z = await (await fetch(`${s.url}/api/admin/zones/zone-crossroads/entities`, { headers: auth })).json();
    assert.equal(z.zoneId, 'zone-crossroads');
    // wrong tokens: 401 for a small burst, then 429 even for the right one
    const codes = [];
    for (let i = 0; i < 7; i++)
      codes.push((await fetch(`${s.url}/api/admin/cluster`, { headers: { Authorization: `Bearer wrong-${i}` } })).status);
    assert.deepEqual(codes.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.deepEqual(codes.slice(5), [429, 429]);
    assert.equal((await fetch(`${s.url}/api/admin/cluster`, { headers: auth })).status, 429);
    assert.equal((await fetch(`${s.url}/api/admin/cluster`)).status, 429);
  } finally {
    await stopServer(s);
  }
});
