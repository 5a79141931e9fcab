// lib.mjs - helpers of the browser tests: start a real wod-server on a free
// port (killed by PID), launch Debian's chromium through playwright-core
// (never a downloaded browser), wait for conditions, save screenshots.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../..');
export const SERVER_BIN = process.env.WOD_SERVER_BIN || path.join(ROOT, 'build/wod-server');
export const OUT_DIR = process.env.WOD_TEST_OUTPUT || path.join(ROOT, 'build/test-output/browser');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// `wod-server all` with a throwaway SQLite database. env adds variables.
export function startServer(env = {}) {
  return startRole('all', env);
}

// One wod-server process in `role` (all, gateway, zone) on a free port,
// started in a throwaway directory; resolves once /health answers.
// reuse: {port, dir} of a stopped server to restart it in place.
export async function startRole(role, env = {}, reuse = null) {
  const port = reuse ? reuse.port : await freePort();
  const dir = reuse ? reuse.dir : fs.mkdtempSync(path.join(os.tmpdir(), 'wod-browser-'));
  const portVars = role === 'zone'
    ? { ZONE_HTTP_PORT: String(port), GATEWAY_PORT: String(await freePort()) }
    : { GATEWAY_PORT: String(port), ZONE_HTTP_PORT: '0' };
  const proc = spawn(SERVER_BIN, [role], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      BIND_ADDRESS: '127.0.0.1',
      DATABASE_URL: `sqlite:${dir}/wod.db`,
      LOG_LEVEL: 'info',
      ...portVars,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const s = { proc, port, dir, url: `http://127.0.0.1:${port}`, log: '' };
  proc.stdout.on('data', (d) => { s.log += d; });
  proc.stderr.on('data', (d) => { s.log += d; });
  const deadline = Date.now() + 20000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`wod-server ${role} exited (${proc.exitCode}):\n${s.log}`);
    try {
      if ((await fetch(`${s.url}/health`)).ok) return s;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`wod-server ${role} did not start:\n${s.log}`);
    await sleep(100);
  }
}

export async function stopServer(s, keepDir = false) {
  if (!s || s.proc.exitCode !== null) return;
  s.proc.kill('SIGTERM');
  const deadline = Date.now() + 10000;
  while (s.proc.exitCode === null && s.proc.signalCode === null && Date.now() < deadline) await sleep(50);
  if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  if (!keepDir) fs.rmSync(s.dir, { recursive: true, force: true });
  // under ASan/UBSan (scripts/test.sh's second suite) a report fails the test
  if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(s.log)) throw new Error(`sanitizer report:\n${s.log}`);
  if (s.proc.exitCode !== 0) throw new Error(`wod-server exited with ${s.proc.exitCode ?? s.proc.signalCode}:\n${s.log.slice(-4000)}`);
}

// playwright's launch() gives chromium a new empty --user-data-dir of its own
// (it refuses the flag in args), so each run starts from a clean profile.
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// A page that records console errors and uncaught exceptions.
export async function newPage(browser, viewport = { width: 1920, height: 1080 }) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

// Polls fn (in the page) until it returns a truthy value; returns it.
export async function waitFor(page, fn, arg, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await page.evaluate(fn, arg);
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(100);
  }
}

export async function screenshot(page, name) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// A guest with a new character of that name, in the world; returns the page.
export async function enterAsGuest(browser, url, name) {
  const page = await newPage(browser);
  await page.goto(`${url}/`);
  await page.locator('#guest-name').fill(name);
  await page.locator('#guest-form button[type=submit]').click();
  await page.locator('#char-name').waitFor();
  await page.locator('#char-name').fill(name);
  await page.locator('#char-desc').fill('a test visitor');
  await page.locator('#create-form button[type=submit]').click();
  await waitFor(page, () => window.__wod?.state.inWorld, null, `${name} in the world`);
  return page;
}

// Opens the admin console on `url` with the token; returns the page.
export async function openAdmin(browser, url, token) {
  const admin = await newPage(browser);
  await admin.goto(`${url}/admin`);
  await admin.locator('#token').fill(token);
  await admin.locator('#token-form button').click();
  await waitFor(admin, () => !document.getElementById('console').hidden, null, 'the admin console');
  return admin;
}
