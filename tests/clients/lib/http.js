'use strict';
// Express apps on 127.0.0.1:0 and a small browser with a cookie jar, driving them over real HTTP
// with Node's fetch.

const http = require('node:http');
const { HOST } = require('./harness');

/** Listens on 127.0.0.1 on a free port; resolves with { base, close() }. */
function listen(app) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(app);
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      resolve({
        base: `http://${HOST}:${port}`,
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}

/** A browser: keeps the cookies a server sets and sends them back, as a user agent does. */
class Browser {
  constructor(base) {
    this.base = base;
    this.jar = new Map(); // name -> { value, expires (ms) | null }
  }

  cookie(name) {
    const c = this.jar.get(name);
    return c ? c.value : undefined;
  }

  /** Sends a request; resolves with { status, json, text, setCookies, headers }. */
  async request(method, path, { body, headers = {} } = {}) {
    const h = { ...headers };
    const cookies = [...this.jar].map(([k, v]) => `${k}=${v.value}`);
    if (cookies.length) h.cookie = cookies.join('; ');
    if (body !== undefined) h['content-type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const setCookies = res.headers.getSetCookie();
    for (const sc of setCookies) this.store(sc);
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, json, text, setCookies, headers: res.headers };
  }

  store(setCookie) {
    const [pair, ...attrs] = setCookie.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let expires = null;
    for (const a of attrs) {
      const [k, v] = a.split('=');
      if (/^expires$/i.test(k)) expires = Date.parse(v);
      if (/^max-age$/i.test(k)) expires = Date.now() + Number(v) * 1000;
    }
    if (expires !== null && expires <= Date.now()) this.jar.delete(name);
    else this.jar.set(name, { value, expires });
  }
}

/** The session id inside an express-session cookie value ("s:<sid>.<signature>", URL-encoded). */
function sidFromCookie(value) {
  if (!value) return undefined;
  const raw = decodeURIComponent(value);
  if (!raw.startsWith('s:')) return undefined;
  return raw.slice(2, raw.lastIndexOf('.'));
}

/** How a response reads in a failure message. */
function showResponse(r) {
  return `HTTP ${r.status} ${r.text.length > 300 ? `${r.text.slice(0, 300)}...` : r.text}`;
}

module.exports = { listen, Browser, sidFromCookie, showResponse };
