// net.js - the game connection: plain WebSocket on /ws (one JSON object per
// text frame, docs/PROTOCOL.md), handshake, and reconnection with backoff.
// The handshake asks for the compact roster encoding: rosters and positions
// then arrive as binary frames (compact.js), handed to onBinary.

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 10000];

export class Connection {
  // handlers: onMessage(type, payload), onBinary(Uint8Array), onOpen(), onStatus(text, kind)
  constructor(handlers) {
    this.h = handlers;
    this.ws = null;
    this.attempt = 0;
    this.wanted = false; // reconnect when the socket closes
    this.timer = null;
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${proto}//${location.host}/ws`;
  }

  start() {
    this.wanted = true;
    this.open();
  }

  // No reconnect after this (kicked, taken over, logged out).
  stop(text) {
    this.wanted = false;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    if (text) this.h.onStatus(text, 'bad');
  }

  open() {
    clearTimeout(this.timer);
    this.h.onStatus(this.attempt ? `Reconnecting (attempt ${this.attempt + 1})\u2026` : 'Connecting\u2026', 'warn');
    const ws = new WebSocket(this.url());
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.send('handshake', {
        protocolVersion: '1.0.0',
        clientType: '2d',
        clientVersion: 'wod-web-1',
        capabilities: { graphics: true, audio: false, input: ['keyboard', 'mouse', 'touch'], maxUpdateRate: 10, encoding: 'compact' },
      });
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') {
        this.h.onBinary?.(new Uint8Array(ev.data));
        return;
      }
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      if (m.type === 'handshake_ack') {
        this.encoding = m.payload?.encoding || 'json';
        this.attempt = 0;
        this.h.onStatus('Connected', 'ok');
        this.h.onOpen();
        return;
      }
      this.h.onMessage(m.type, m.payload || {});
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (!this.wanted) return;
      const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      this.attempt++;
      this.h.onStatus(`Connection lost \u2014 reconnecting in ${(delay / 1000).toFixed(1)} s (attempt ${this.attempt})`, 'bad');
      this.h.onLost?.();
      this.timer = setTimeout(() => this.open(), delay);
    };
    ws.onerror = () => {}; // onclose follows and reconnects
  }

  send(type, payload) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify({ type, payload: { ...payload, timestamp: Date.now() } }));
    return true;
  }
}
