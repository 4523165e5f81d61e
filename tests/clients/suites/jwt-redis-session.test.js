'use strict';
// jwt-redis-session (npm, unchanged) in an express app: create, read, update, reload, touch and
// destroy over HTTP. The package talks to its client with callbacks (SETEX, GET, EXPIRE, DEL):
// ioredis 5 accepts callbacks, node-redis 4 does in legacyMode.

const { describe, it, before, after } = require('node:test');
const express = require('express');
const JWTRedisSession = require('jwt-redis-session');
const Redis = require('ioredis5');
const { startServer, sleep } = require('../lib/harness');
const { Probe } = require('../lib/probe');
const { listen, Browser, showResponse } = require('../lib/http');

const MAX_AGE = 600; // seconds: jwt-redis-session's maxAge is the record's TTL
const KEYSPACE = 'jwt:';

const clients = [
  {
    name: 'jwt-redis-session+ioredis5',
    async connect(server) {
      const c = new Redis({ host: server.host, port: server.port, lazyConnect: true, retryStrategy: () => null });
      await c.connect();
      return { c, close: () => c.quit() };
    },
  },
  {
    name: 'jwt-redis-session+redis4 (legacyMode)',
    async connect(server) {
      const c = require('redis4').createClient({
        socket: { host: server.host, port: server.port, reconnectStrategy: false },
        legacyMode: true,
      });
      c.on('error', () => {});
      await c.connect();
      return { c, close: () => c.disconnect() };
    },
  },
];

function jwtApp(client) {
  const app = express();
  app.use(express.json());
  app.use(JWTRedisSession({
    client,
    secret: 'client-tests-jwt-secret',
    keyspace: KEYSPACE,
    maxAge: MAX_AGE,
    algorithm: 'HS256',
    requestKey: 'jwtSession',
    requestArg: 'accessToken', // header x-access-token
  }));
  const reply = (res) => (err) => (err ? res.status(500).json({ error: String(err.message || err) })
    : res.json({ ...res.req.jwtSession.toJSON(), id: res.req.jwtSession.id }));
  app.post('/login', (req, res) => {
    req.jwtSession.user = req.body.user;
    req.jwtSession.create({ iss: 'client-tests' }, (err, token) => (err ? res.status(500).json({ error: String(err) }) : res.json({ token })));
  });
  app.get('/me', (req, res) => {
    if (!req.jwtSession.id) return res.status(401).json({ user: null });
    res.json({ ...req.jwtSession.toJSON(), id: req.jwtSession.id });
  });
  app.post('/update', (req, res) => {
    if (!req.jwtSession.id) return res.status(401).json({});
    Object.assign(req.jwtSession, req.body);
    req.jwtSession.update(reply(res));
  });
  app.post('/reload', (req, res) => {
    if (!req.jwtSession.id) return res.status(401).json({});
    req.jwtSession.reload(reply(res));
  });
  app.post('/touch', (req, res) => {
    if (!req.jwtSession.id) return res.status(401).json({});
    req.jwtSession.touch(reply(res));
  });
  app.post('/logout', (req, res) => {
    if (!req.jwtSession.id) return res.status(401).json({});
    const { id } = req.jwtSession;
    req.jwtSession.destroy((err) => (err ? res.status(500).json({ error: String(err) }) : res.json({ destroyed: id })));
  });
  return app;
}

const jti = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).jti;

for (const cl of clients) {
  describe(`${cl.name} in express`, () => {
    const p = new Probe(`${cl.name} via express`);
    const rec = new Probe(`${cl.name} record, seen by ioredis5`);
    let server; let client; let web; let inspect;

    before(async () => {
      server = await startServer();
      client = await cl.connect(server);
      web = await listen(jwtApp(client.c));
      inspect = new Redis({ host: server.host, port: server.port, lazyConnect: true, retryStrategy: () => null });
      await inspect.connect();
    });
    after(async () => {
      if (web) await web.close();
      if (client) await client.close().catch(() => {});
      if (inspect) inspect.disconnect();
      if (server) await server.stop();
    });

    async function http(method, path, { token, body, want, pred, note = '' }) {
      const what = `${method} ${path}${note ? ` (${note})` : ''}`;
      const b = new Browser(web.base);
      const headers = token ? { 'x-access-token': token } : {};
      const r = await p.call(what, () => b.request(method, path, { headers, body }));
      let ok = false;
      try { ok = pred(r); } catch { ok = false; }
      if (!ok) p.fail(what, showResponse(r), want);
      return r;
    }

    async function login(user) {
      const r = await http('POST', '/login', { body: { user }, want: 'HTTP 200 { token: <a JWT with a jti> }',
        pred: (x) => x.status === 200 && typeof jti(x.json.token) === 'string', note: `user ${user}` });
      return { token: r.json.token, key: KEYSPACE + jti(r.json.token) };
    }

    const ttlNearMax = (t) => t > MAX_AGE - 10 && t <= MAX_AGE;

    it('create stores the session under the JWT id with SETEX', async () => {
      const { key } = await login('alice');
      await rec.check(`GET ${key}`, async () => JSON.parse(await inspect.get(key)), (s) => s.user === 'alice', "{ user: 'alice' }");
      await rec.check(`TTL ${key}`, () => inspect.ttl(key), ttlNearMax, `an integer in ${MAX_AGE - 9}..${MAX_AGE}`);
    });

    it('read finds the session by its JWT', async () => {
      const { token, key } = await login('bob');
      await http('GET', '/me', { token, want: `HTTP 200 { user: 'bob', id: ${key.slice(KEYSPACE.length)} }`,
        pred: (x) => x.status === 200 && x.json.user === 'bob' && KEYSPACE + x.json.id === key });
      await http('GET', '/me', { want: 'HTTP 401', pred: (x) => x.status === 401, note: 'no token' });
      const forged = `${token.slice(0, -4)}AAAA`;
      await http('GET', '/me', { token: forged, want: 'HTTP 401', pred: (x) => x.status === 401, note: 'forged signature' });
    });

    it('update rewrites the record and its TTL', async () => {
      const { token, key } = await login('carol');
      await rec.check(`EXPIRE ${key} 30`, () => inspect.expire(key, 30), (v) => v === 1, '1');
      await http('POST', '/update', { token, body: { theme: 'dark' }, want: "HTTP 200 { user: 'carol', theme: 'dark' }",
        pred: (x) => x.status === 200 && x.json.user === 'carol' && x.json.theme === 'dark', note: "theme 'dark'" });
      await rec.check(`GET ${key}`, async () => JSON.parse(await inspect.get(key)), (s) => s.user === 'carol' && s.theme === 'dark',
        "{ user: 'carol', theme: 'dark' }");
      await rec.check(`TTL ${key} (after SETEX)`, () => inspect.ttl(key), ttlNearMax, `an integer in ${MAX_AGE - 9}..${MAX_AGE}`);
      await http('GET', '/me', { token, want: "HTTP 200 { theme: 'dark' }", pred: (x) => x.status === 200 && x.json.theme === 'dark' });
    });

    it('reload reads what another writer stored', async () => {
      const { token, key } = await login('dave');
      const stored = JSON.parse(await inspect.get(key));
      await rec.check(`SET ${key} <record with plan 'pro'> EX ${MAX_AGE}`, () => inspect.set(key, JSON.stringify({ ...stored, plan: 'pro' }), 'EX', MAX_AGE),
        (v) => v === 'OK', 'OK');
      await http('POST', '/reload', { token, want: "HTTP 200 { user: 'dave', plan: 'pro' }",
        pred: (x) => x.status === 200 && x.json.user === 'dave' && x.json.plan === 'pro' });
    });

    it('touch extends the TTL', async () => {
      const { token, key } = await login('erin');
      await rec.check(`EXPIRE ${key} 30`, () => inspect.expire(key, 30), (v) => v === 1, '1');
      await rec.check(`TTL ${key}`, () => inspect.ttl(key), (t) => t > 0 && t <= 30, 'an integer in 1..30');
      await http('POST', '/touch', { token, want: 'HTTP 200', pred: (x) => x.status === 200 });
      await rec.check(`TTL ${key} (after touch)`, () => inspect.ttl(key), ttlNearMax, `an integer in ${MAX_AGE - 9}..${MAX_AGE}`);
    });

    it('an expired record ends the session', async () => {
      const { token, key } = await login('frank');
      await rec.check(`PEXPIRE ${key} 100`, () => inspect.pexpire(key, 100), (v) => v === 1, '1');
      await sleep(300);
      await http('GET', '/me', { token, want: 'HTTP 401', pred: (x) => x.status === 401, note: 'record expired' });
    });

    it('destroy deletes the record', async () => {
      const { token, key } = await login('grace');
      await http('POST', '/logout', { token, want: 'HTTP 200 { destroyed }', pred: (x) => x.status === 200 && KEYSPACE + x.json.destroyed === key });
      await rec.check(`EXISTS ${key} (after destroy)`, () => inspect.exists(key), (v) => v === 0, '0');
      await http('GET', '/me', { token, want: 'HTTP 401', pred: (x) => x.status === 401, note: 'token of the destroyed session' });
    });
  });
}
