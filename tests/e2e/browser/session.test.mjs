// session.test.mjs - accounts and reconnection in the browser client:
// registration and login with credentials, the name rules checked before
// submitting, and a server restart that the page survives (it shows the
// lost connection, reconnects with backoff and resumes the same character).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, startRole, stopServer, waitFor } from './lib.mjs';

let server, browser;

before(async () => {
  server = await startRole('all');
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
  server = await startRole('all', {}, server);
  await waitFor(page, () => window.__wod.state.inWorld, null, 'Otto resumed', 30000);
  assert.equal(await page.evaluate(() => window.__wod.state.characterId), charId);
  assert.equal(await page.locator('#status').textContent(), 'In the world');
  // the browser logs the refused reconnection attempts; nothing else
  assert.ok(page.errors.every((e) => /WebSocket|ERR_CONNECTION_REFUSED/.test(e)), String(page.errors));
});
