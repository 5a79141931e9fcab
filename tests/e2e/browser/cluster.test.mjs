// cluster.test.mjs - the two-player browser test against a distributed
// cluster: Redis + PostgreSQL (WOD_TEST_REDIS_URL / WOD_TEST_PG_URL, as
// scripts/test.sh starts them), zone-1 (zone-crossroads), zone-2
// (zone-forest, zone-city), gateway-1 and gateway-2. Anna plays through
// gateway-1, Bruno through gateway-2; the admin console on gateway-1 sees
// every server, maps both, and its announcement and kick reach Bruno on
// the other gateway (over Redis). Skipped without the two URLs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { enterAsGuest, launchBrowser, openAdmin, screenshot, sleep, startRole, stopServer, waitFor } from './lib.mjs';

const REDIS = process.env.WOD_TEST_REDIS_URL, PG = process.env.WOD_TEST_PG_URL;
const TOKEN = 'cluster-test-admin-token-0123456789';
// names are unique in the shared database: a random letter suffix
const suffix = () => [...randomBytes(5)].map((b) => String.fromCharCode(97 + (b % 26))).join('');

let browser;
const procs = [];

before(async () => {
  if (!REDIS || !PG) return;
  const common = { REDIS_URL: REDIS, DATABASE_URL: PG, ADMIN_TOKEN: TOKEN };
  procs.push(await startRole('zone', { ...common, SERVER_ID: 'zone-1', ASSIGNED_ZONES: 'zone-crossroads' }));
  procs.push(await startRole('zone', { ...common, SERVER_ID: 'zone-2', ASSIGNED_ZONES: 'zone-forest,zone-city' }));
  procs.push(await startRole('gateway', { ...common, SERVER_ID: 'gateway-1' }));
  procs.push(await startRole('gateway', { ...common, SERVER_ID: 'gateway-2' }));
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  for (const p of procs.reverse()) await stopServer(p);
});

test('two players on two gateways, the admin console sees the cluster', { skip: !REDIS || !PG ? 'needs WOD_TEST_REDIS_URL and WOD_TEST_PG_URL' : false }, async () => {
  const [, , g1, g2] = procs;
  // wait for zone-1 to hold the starting zone
  for (let i = 0; ; i++) {
    const z = await (await fetch(`${g1.url}/api/zones`)).json();
    if (z.zones.find((x) => x.zoneId === 'zone-crossroads')?.serverId === 'zone-1') break;
    assert.ok(i < 200, 'zone-crossroads claimed by zone-1');
    await sleep(100);
  }
  const annaName = `Anna${suffix()}`, brunoName = `Bruno${suffix()}`;
  const anna = await enterAsGuest(browser, g1.url, annaName);
  const bruno = await enterAsGuest(browser, g2.url, brunoName);
  const annaId = await anna.evaluate(() => window.__wod.state.entityId);
  const brunoId = await bruno.evaluate(() => window.__wod.state.entityId);
  await waitFor(anna, (id) => window.__wod.entities().some((e) => e.id === id), brunoId, 'Anna sees Bruno');
  await waitFor(bruno, (id) => window.__wod.entities().some((e) => e.id === id), annaId, 'Bruno sees Anna');

  const x0 = (await bruno.evaluate((id) => window.__wod.entities().find((e) => e.id === id), annaId)).x;
  await anna.locator('#map').focus();
  await anna.keyboard.down('ArrowRight');
  await sleep(1500);
  await anna.keyboard.up('ArrowRight');
  await waitFor(bruno, ([id, x0]) => window.__wod.entities().some((e) => e.id === id && e.x > x0 + 4), [annaId, x0], "Anna's move on Bruno's map");

  await anna.locator('#chat-input').fill('across gateways');
  await anna.locator('#chat-input').press('Enter');
  await waitFor(bruno, (n) => window.__wod.logLines().some((l) => l.includes(`${n}: across gateways`)), annaName, 'Bruno hears Anna');

  const admin = await openAdmin(browser, g1.url, TOKEN);
  await waitFor(admin, () => {
    const t = document.querySelector('#servers tbody').textContent;
    return ['zone-1', 'zone-2', 'gateway-1', 'gateway-2'].every((s) => t.includes(s));
  }, null, 'all four servers listed');
  await waitFor(admin, () => document.querySelector('#gateways tbody').textContent.includes('gateway-2'), null, 'both gateways');
  const rows = await waitFor(admin, ([a, b]) => {
    const t = document.querySelector('#players tbody').textContent;
    return t.includes(a) && t.includes(b) ? t : null;
  }, [annaName, brunoName], 'both players listed');
  assert.ok(rows.includes('gateway-1') && rows.includes('gateway-2'), rows);
  await waitFor(admin, ([a, b]) => {
    const n = window.__wodAdmin.entities().map((e) => e.name);
    return n.includes(a) && n.includes(b);
  }, [annaName, brunoName], 'both on the live map');

  await admin.locator('#announce-text').fill('Cluster maintenance soon');
  await admin.locator('#announce-form button').click();
  for (const p of [anna, bruno])
    await waitFor(p, () => window.__wod.logLines().some((l) => l.includes('Announcement: Cluster maintenance soon')), null, 'announcement');

  await sleep(1500);
  await screenshot(admin, 'admin-cluster-1920');

  await admin.locator('#kick-name').fill(brunoName);
  await admin.locator('#kick-reason').fill('kicked across gateways');
  await admin.locator('#kick-form button').click();
  await waitFor(bruno, () => !window.__wod.state.inWorld && document.getElementById('status').textContent.includes('kicked across gateways'), null, 'Bruno kicked');
  assert.equal(await anna.evaluate(() => window.__wod.state.inWorld), true);

  for (const p of [anna, bruno, admin]) assert.deepEqual(p.errors, [], 'no console errors');
});
