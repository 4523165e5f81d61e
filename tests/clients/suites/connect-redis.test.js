'use strict';
// connect-redis behind express-session, driven over HTTP with real cookies, with each client it
// supports: connect-redis 7 with ioredis 5 and with node-redis 4; connect-redis 9 (the newest whose
// engines allow Node 20; 10 needs Node 22) with node-redis 5, and with node-redis 6 over RESP3.
// The store's records are inspected with a separate ioredis connection.

const { describe, it, before, after } = require('node:test');
const express = require('express');
const session = require('express-session');
const Redis = require('ioredis5');
const { startServer } = require('../lib/harness');
const { Probe } = require('../lib/probe');
const { listen, Browser, sidFromCookie, showResponse } = require('../lib/http');

const MAX_AGE_MS = 600_000; // the cookie's maxAge: the store's TTL must follow it
const REMEMBER_MS = 3_600_000; // a per-session maxAge set by the app ("remember me")

const combos = [
  {
    name: 'connect-redis7+ioredis5',
    Store: () => require('connect-redis7').default,
    async client(server) {
      const c = new Redis({ host: server.host, port: server.port, lazyConnect: true, retryStrategy: () => null });
      await c.connect();
      return { c, close: () => c.quit() };
    },
  },
  {
    name: 'connect-redis7+redis4',
    Store: () => require('connect-redis7').default,
    client: (server) => nodeRedis('redis4', server),
  },
  {
    name: 'connect-redis9+redis5',
    Store: () => require('connect-redis9').RedisStore,
    client: (server) => nodeRedis('redis5', server),
  },
  {
    name: 'connect-redis9+redis6 (RESP3)',
    Store: () => require('connect-redis9').RedisStore,
    client: (server) => nodeRedis('redis6', server),
  },
];

async function nodeRedis(pkg, server) {
  const c = require(pkg).createClient({ socket: { host: server.host, port: server.port, reconnectStrategy: false } });
  c.on('error', () => {});
  await c.connect();
  return { c, close: () => (c.close ? c.close() : c.quit()) };
}

/** A store method (callback style in connect-redis 7, promise and callback in 9) as a promise. */
const storeCall = (store, method, ...args) =>
  new Promise((resolve, reject) => store[method](...args, (err, v) => (err ? reject(err) : resolve(v))));

function sessionApp(store) {
  const app = express();
  app.use(session({
    store,
    secret: 'client-tests-secret',
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: MAX_AGE_MS, httpOnly: true, sameSite: 'lax' },
  }));
  app.post('/login', (req, res) => {
    req.session.user = req.query.user;
    req.session.views = 0;
    if (req.query.remember) req.session.cookie.maxAge = REMEMBER_MS;
    res.json({ sid: req.sessionID });
  });
  app.get('/me', (req, res) => {
    if (!req.session.user) return res.status(401).json({ sid: req.sessionID, user: null });
    req.session.views += 1;
    res.json({ sid: req.sessionID, user: req.session.user, views: req.session.views });
  });
  // Reads without modifying: express-session then calls store.touch (EXPIRE key ttl).
  app.get('/peek', (req, res) => res.json({ sid: req.sessionID, user: req.session.user || null }));
  app.post('/regenerate', (req, res, next) => {
    const old = req.sessionID;
    const { user } = req.session;
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = user;
      req.session.views = 0;
      res.json({ old, sid: req.sessionID });
    });
  });
  app.post('/logout', (req, res, next) => {
    const sid = req.sessionID;
    req.session.destroy((err) => (err ? next(err) : res.json({ destroyed: sid })));
  });
  app.use((err, req, res, _next) => res.status(500).json({ error: String(err && err.message) }));
  return app;
}

for (const combo of combos) {
  describe(`${combo.name} behind express-session`, () => {
    const p = new Probe(`${combo.name} via express-session`);
    const prefix = 'sess:';
    let server; let client; let inspect; let web; let store;

    before(async () => {
      server = await startServer();
      client = await combo.client(server);
      const RedisStore = combo.Store();
      store = new RedisStore({ client: client.c, prefix });
      web = await listen(sessionApp(store));
      inspect = new Redis({ host: server.host, port: server.port, lazyConnect: true, retryStrategy: () => null });
      await inspect.connect();
    });
    after(async () => {
      if (web) await web.close();
      if (client) await client.close().catch(() => {});
      if (inspect) inspect.disconnect();
      if (server) await server.stop();
    });

    /** Sends an HTTP request and checks the response; the failure names the request and the reply. */
    async function http(browser, method, path, want, pred, note = '') {
      const what = `${method} ${path}${note ? ` (${note})` : ''}`;
      const r = await p.call(what, () => browser.request(method, path));
      let ok = false;
      try { ok = pred(r); } catch { ok = false; }
      if (!ok) p.fail(what, showResponse(r), want);
      return r;
    }

    /** Checks a record with the inspecting connection; the failure names the command and reply. */
    const record = (command, fn, pred, want) => new Probe(`${combo.name} store record, seen by ioredis5`).check(command, fn, pred, want);

    async function login(user, query = '') {
      const b = new Browser(web.base);
      const r = await http(b, 'POST', `/login?user=${user}${query}`, `HTTP 200 with a session id and a Set-Cookie sid=s:<sid>.<sig>`,
        (x) => x.status === 200 && typeof x.json.sid === 'string' && sidFromCookie(b.cookie('sid')) === x.json.sid);
      return { b, sid: r.json.sid };
    }

    it('a first request creates a session, and only then', async () => {
      const anon = new Browser(web.base);
      await http(anon, 'GET', '/me', 'HTTP 401, no Set-Cookie', (r) => r.status === 401 && r.setCookies.length === 0, 'no cookie');
      await record(`SCAN 0 MATCH ${prefix}* (before login)`, () => scanAll(inspect, `${prefix}*`), (k) => k.length === 0, 'no session records');

      const { sid } = await login('alice');
      const raw = await record(`GET ${prefix}${sid}`, () => inspect.get(prefix + sid), (v) => typeof v === 'string', 'the session record (JSON)');
      p.that(`GET ${prefix}${sid}`, JSON.parse(raw), (s) => s.user === 'alice' && s.views === 0 && s.cookie.originalMaxAge === MAX_AGE_MS,
        `{ user: 'alice', views: 0, cookie: { originalMaxAge: ${MAX_AGE_MS} } }`);
      await record(`SCAN 0 MATCH ${prefix}* (after login)`, () => scanAll(inspect, `${prefix}*`), (k) => k.length === 1 && k[0] === prefix + sid,
        `exactly [${prefix}${sid}]`);
    });

    it('later requests see its data', async () => {
      const { b, sid } = await login('bob');
      await http(b, 'GET', '/me', `HTTP 200 { sid: ${sid}, user: 'bob', views: 1 }`,
        (r) => r.status === 200 && r.json.sid === sid && r.json.user === 'bob' && r.json.views === 1);
      await http(b, 'GET', '/me', `HTTP 200 { sid: ${sid}, user: 'bob', views: 2 }`,
        (r) => r.status === 200 && r.json.sid === sid && r.json.views === 2);
      await record(`GET ${prefix}${sid}`, async () => JSON.parse(await inspect.get(prefix + sid)), (s) => s.user === 'bob' && s.views === 2,
        "{ user: 'bob', views: 2, ... }");
      const other = new Browser(web.base);
      await http(other, 'GET', '/me', 'HTTP 401', (r) => r.status === 401, 'another browser');
    });

    it("the store's TTL follows the cookie's maxAge", async () => {
      const { sid } = await login('carol');
      const s = MAX_AGE_MS / 1000;
      await record(`TTL ${prefix}${sid}`, () => inspect.ttl(prefix + sid), (t) => t > s - 10 && t <= s, `an integer in ${s - 9}..${s} (cookie maxAge ${MAX_AGE_MS} ms)`);

      const long = await login('dave', '&remember=1');
      const l = REMEMBER_MS / 1000;
      await record(`TTL ${prefix}${long.sid}`, () => inspect.ttl(prefix + long.sid), (t) => t > l - 10 && t <= l,
        `an integer in ${l - 9}..${l} (cookie maxAge ${REMEMBER_MS} ms)`);
    });

    it('touch extends the TTL', async () => {
      const { b, sid } = await login('erin');
      await record(`EXPIRE ${prefix}${sid} 30`, () => inspect.expire(prefix + sid, 30), (v) => v === 1, '1');
      await record(`TTL ${prefix}${sid} (after EXPIRE 30)`, () => inspect.ttl(prefix + sid), (t) => t > 0 && t <= 30, 'an integer in 1..30');
      await http(b, 'GET', '/peek', "HTTP 200 { user: 'erin' } (unmodified: express-session calls store.touch)",
        (r) => r.status === 200 && r.json.user === 'erin');
      const s = MAX_AGE_MS / 1000;
      await record(`TTL ${prefix}${sid} (after touch)`, () => inspect.ttl(prefix + sid), (t) => t > s - 10 && t <= s, `an integer in ${s - 9}..${s}`);
      await record(`GET ${prefix}${sid} (after touch)`, async () => JSON.parse(await inspect.get(prefix + sid)), (x) => x.user === 'erin',
        "the data unchanged: { user: 'erin' }");
    });

    it('regenerate removes the old record', async () => {
      const { b, sid } = await login('frank');
      const old = new Browser(web.base);
      old.jar = new Map(b.jar);
      const r = await http(b, 'POST', '/regenerate', 'HTTP 200 with a new session id and a new cookie',
        (x) => x.status === 200 && x.json.old === sid && x.json.sid !== sid && sidFromCookie(b.cookie('sid')) === x.json.sid);
      const fresh = r.json.sid;
      await record(`EXISTS ${prefix}${sid} (old, after regenerate)`, () => inspect.exists(prefix + sid), (v) => v === 0, '0');
      await record(`EXISTS ${prefix}${fresh} (new)`, () => inspect.exists(prefix + fresh), (v) => v === 1, '1');
      await http(b, 'GET', '/me', "HTTP 200 { user: 'frank' }", (x) => x.status === 200 && x.json.user === 'frank' && x.json.sid === fresh, 'new cookie');
      await http(old, 'GET', '/me', 'HTTP 401', (x) => x.status === 401, 'old cookie');
    });

    it('destroy removes the record', async () => {
      const { b, sid } = await login('grace');
      const kept = new Browser(web.base);
      kept.jar = new Map(b.jar);
      await http(b, 'POST', '/logout', `HTTP 200 { destroyed: ${sid} }`, (x) => x.status === 200 && x.json.destroyed === sid);
      await record(`EXISTS ${prefix}${sid} (after destroy)`, () => inspect.exists(prefix + sid), (v) => v === 0, '0');
      await http(kept, 'GET', '/me', 'HTTP 401', (x) => x.status === 401, 'cookie of the destroyed session');
    });

    it("the store's all, ids, length and clear agree with what was created", async () => {
      const listPrefix = `list:${combo.name.replace(/\W+/g, '-')}:`;
      const RedisStore = combo.Store();
      const lstore = new RedisStore({ client: client.c, prefix: listPrefix });
      const lweb = await listen(sessionApp(lstore));
      try {
        const created = new Map(); // sid -> user
        for (let i = 0; i < 5; i++) {
          const b = new Browser(lweb.base);
          const r = await http(b, 'POST', `/login?user=web${i}`, 'HTTP 200 with a session id',
            (x) => x.status === 200 && typeof x.json.sid === 'string', 'list store');
          created.set(r.json.sid, `web${i}`);
        }
        // More than one SCAN page (connect-redis scans with COUNT 100).
        for (let i = 0; i < 245; i++) {
          const sid = `direct-${i}-${'x'.repeat(20)}`;
          await storeCall(lstore, 'set', sid, { cookie: { originalMaxAge: MAX_AGE_MS, expires: new Date(Date.now() + MAX_AGE_MS) }, user: `direct${i}` });
          created.set(sid, `direct${i}`);
        }
        await inspect.set(`${listPrefix.slice(0, -1)}-not-a-session`, 'x');
        await inspect.set('sess-unrelated', 'x');
        const n = created.size;
        const lp = new Probe(`${combo.name} store API`);

        const ids = await lp.call('store.ids()', () => storeCall(lstore, 'ids'));
        lp.that('store.ids()', [...ids].sort(), (x) => x.length === n && x.every((id) => created.has(id)), `the ${n} session ids created`);
        await lp.eq('store.length()', () => storeCall(lstore, 'length'), n);
        const all = await lp.call('store.all()', () => storeCall(lstore, 'all'));
        lp.that('store.all()', all.map((s) => [s.id, s.user]).sort(),
          (x) => x.length === n && x.every(([id, user]) => created.get(id) === user), `${n} sessions, each with the id and user it was created with`);
        await lp.eq(`store.get(<one sid>)`, async () => (await storeCall(lstore, 'get', [...created.keys()][0])).user, [...created.values()][0]);

        await lp.call('store.clear()', () => storeCall(lstore, 'clear'));
        await lp.eq('store.length() (after clear)', () => storeCall(lstore, 'length'), 0);
        await lp.eq('store.ids() (after clear)', () => storeCall(lstore, 'ids'), []);
        await lp.eq('store.all() (after clear)', () => storeCall(lstore, 'all'), []);
        await record(`EXISTS ${listPrefix.slice(0, -1)}-not-a-session sess-unrelated (after clear)`,
          () => inspect.exists(`${listPrefix.slice(0, -1)}-not-a-session`, 'sess-unrelated'), (v) => v === 2, '2: clear removes only its own prefix');
      } finally {
        await lweb.close();
      }
    });
  });
}

function scanAll(c, match) {
  return new Promise((resolve, reject) => {
    const keys = [];
    const s = c.scanStream({ match, count: 100 });
    s.on('data', (b) => keys.push(...b));
    s.on('end', () => resolve(keys));
    s.on('error', reject);
  });
}

