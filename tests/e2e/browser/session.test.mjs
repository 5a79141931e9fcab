// session.test.mjs - accounts and reconnection in the browser client:
// registration and login with credentials, the name rules checked before
// submitting, and a server restart that the page survives (it shows the
// lost connection, reconnects with backoff and resumes the same character).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, startRole, stopServer, waitFor } from './lib.mjs';

const TOKEN = 'session-test-admin-token-0123456789';
const ENV = { ADMIN_TOKEN: TOKEN };
let server, browser;

before(async () => {
  server = await startRole('all', ENV);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await stopServer(server);
});

test('register, name rules, log out, log in with credentials', async () => {
  const page = await newPage(browser, { width: 360, height: 780 });
  await page.goto(`${server.url}/`);
  await page.locator('#username').fill('web_user.1');
  await page.locator('#password').fill('short');
  await page.locator('#register-btn').click();
  await waitFor(page, () => document.getElementById('login-error').textContent.includes('8 characters'), null, 'weak password refused');
  await page.locator('#password').fill('correct horse battery');
  await page.locator('#register-btn').click();
  await page.locator('#char-name').waitFor();
  // rules are checked while typing, before anything is sent
  await page.locator('#char-name').fill('9lives');
  await waitFor(page, () => document.getElementById('chars-error').textContent.includes('starts with a letter'), null, 'name rule shown');
  await page.locator('#char-name').fill('Vera  Lynn');
  await waitFor(page, () => document.getElementById('chars-error').textContent.includes('double'), null, 'double space rule');
  await page.locator('#char-name').fill('Vera Lynn');
  await page.locator('#create-form button[type=submit]').click();
  await waitFor(page, () => window.__wod.state.inWorld, null, 'Vera in the world');
  const charId = await page.evaluate(() => window.__wod.state.characterId);

  await page.locator('#logout').click();
  await page.locator('#username').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('wod.token')), null);
  await page.locator('#username').fill('web_user.1');
  await page.locator('#password').fill('wrong password!');
  await page.locator('#login-btn').click();
  await waitFor(page, () => document.getElementById('login-error').textContent.length > 0, null, 'wrong password refused');
  await page.locator('#password').fill('correct horse battery');
  await page.locator('#password').press('Enter');
  await waitFor(page, () => document.querySelector('#char-list').textContent.includes('Vera Lynn'), null, 'the character list');
  await page.locator('#char-list button').first().click();
  await waitFor(page, () => window.__wod.state.inWorld, null, 'Vera back');
  assert.equal(await page.evaluate(() => window.__wod.state.characterId), charId);
  assert.deepEqual(page.errors, []);
});

test('a server restart: the page reconnects and resumes the character', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/`);
  await page.locator('#guest-form button[type=submit]').click();
  await page.locator('#char-name').fill('Otto');
  await page.locator('#create-form button[type=submit]').click();
  await waitFor(page, () => window.__wod.state.inWorld, null, 'Otto in the world');
  const charId = await page.evaluate(() => window.__wod.state.characterId);

  await stopServer(server, true);
  await waitFor(page, () => /reconnecting/i.test(document.getElementById('status').textContent), null, 'the lost connection on screen');
  server = await startRole('all', ENV, server);
  await waitFor(page, () => window.__wod.state.inWorld, null, 'Otto resumed', 30000);
  assert.equal(await page.evaluate(() => window.__wod.state.characterId), charId);
  assert.equal(await page.locator('#status').textContent(), 'In the world');
  // the browser logs the refused reconnection attempts; nothing else
  assert.ok(page.errors.every((e) => /WebSocket|ERR_CONNECTION_REFUSED/.test(e)), String(page.errors));
});

// Where the zone itself has a character (the admin API asks the zone).
async function zonePosition(name) {
  const r = await fetch(`${server.url}/api/admin/players?q=${encodeURIComponent(name)}`, {
    headers: { Authorization: `Bearer ${TOKEN}` },
  });
  const p = (await r.json()).players.find((x) => x.name === name);
  return p ? p.position : null;
}

test('click to move, target and attack from the keyboard', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/`);
  await page.locator('#guest-form button[type=submit]').click();
  await page.locator('#char-name').fill('Clio');
  await page.locator('#create-form button[type=submit]').click();
  await waitFor(page, () => window.__wod.state.inWorld, null, 'Clio in the world');
  const start = await page.evaluate(() => ({ ...window.__wod.state.self }));

  // click 20 ft west and 10 ft south of the player (an empty spot)
  const box = await page.locator('#map').boundingBox();
  const scale = await page.evaluate(() => {
    const c = document.getElementById('map');
    return c.width / c.getBoundingClientRect().width; // backing pixels per CSS pixel
  });
  const me = await page.evaluate(() => window.__wod.screenPos(window.__wod.state.entityId));
  const feet = await page.evaluate(() => {
    const c = document.getElementById('map');
    return Math.min(c.width, c.height) / 140; // MapView.spanFt
  });
  const cx = me.x / scale, cy = me.y / scale;
  await page.mouse.click(box.x + cx - (20 * feet) / scale, box.y + cy + (10 * feet) / scale);
  await waitFor(page, ([x0, z0]) => {
    const s = window.__wod.state.self;
    return !window.__wod.state.clickTarget && Math.abs(s.x - (x0 - 20)) < 1.5 && Math.abs(s.z - (z0 - 10)) < 1.5;
  }, [start.x, start.z], 'Clio at the clicked spot');
  // the zone agrees (within a step)
  let pos;
  for (let i = 0; i < 50; i++) {
    pos = await zonePosition('Clio');
    if (pos && Math.abs(pos.x - (start.x - 20)) < 1.5 && Math.abs(pos.z - (start.z - 10)) < 1.5) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(Math.abs(pos.x - (start.x - 20)) < 1.5 && Math.abs(pos.z - (start.z - 10)) < 1.5, JSON.stringify(pos));

  // T picks the nearest entity as the target; 1 attacks it: a new line in the log
  await page.locator('#map').focus();
  await page.keyboard.press('t');
  await waitFor(page, () => !document.getElementById('target-frame').hidden, null, 'the target frame');
  const lines = (await page.evaluate(() => window.__wod.logLines())).length;
  await page.keyboard.press('1');
  const line = await waitFor(page, (n) => window.__wod.logLines()[n], lines, 'a combat line or an error line');
  assert.ok(line.length > 3, line);
  assert.deepEqual(page.errors, []);
});
