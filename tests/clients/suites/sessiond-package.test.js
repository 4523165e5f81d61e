'use strict';
// The sessiond Node package (clients/node, installed here from its `npm pack` tarball by run.sh)
// against a real sessiond process: every method of Sessiond with node-redis 4 (RESP2), 5 (RESP3),
// 6 (RESP2 and RESP3) and ioredis 5 and 6, checked to return the same plain objects whatever the
// protocol; SessiondStore behind express-session and the rotatingSession middleware, driven over
// HTTP with real cookies.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const express = require('express');
const session = require('express-session');
const { startServer, sleep } = require('../lib/harness');
const { listen, Browser, sidFromCookie, showResponse } = require('../lib/http');
const { Sessiond, SessiondStore, rotatingSession, Reasons, migrateFromConnectRedis } = require('sessiond');

const connections = [
  { name: 'node-redis 4 (RESP2)', pkg: 'redis4' },
  { name: 'node-redis 5 (RESP3)', pkg: 'redis5', RESP: 3 },
  { name: 'node-redis 6 (RESP2)', pkg: 'redis6', RESP: 2 },
  { name: 'node-redis 6 (RESP3)', pkg: 'redis6', RESP: 3 },
  { name: 'ioredis 5', pkg: 'ioredis5', ioredis: true },
  { name: 'ioredis 6', pkg: 'ioredis6', ioredis: true },
];

async function connect(conn, server) {
  if (conn.ioredis) {
    const Redis = require(conn.pkg);
    const c = new Redis({ host: server.host, port: server.port, lazyConnect: true, retryStrategy: () => null });
    c.on('error', () => {});
    await c.connect();
    return { c, close: () => c.quit() };
  }
  const o = { socket: { host: server.host, port: server.port, reconnectStrategy: false } };
  if (conn.RESP) o.RESP = conn.RESP;
  const c = require(conn.pkg).createClient(o);
  c.on('error', () => {});
  await c.connect();
  return { c, close: () => (c.close ? c.close() : c.quit()) };
}

const isInt = (v) => Number.isInteger(v);

describe('Sessiond methods', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server.stop(); });

  for (const conn of connections) {
    it(`${conn.name}: every SESS.*, JWT and TOK.* method returns plain values`, async () => {
      const { c, close } = await connect(conn, server);
      try {
        const sd = new Sessiond(c);
        const owner = `user:${conn.name}`;

        const s = await sd.newSession({ owner, data: { cart: 3 }, idle: 1800, detachable: true, meta: { ua: 'test' } });
        assert.equal(typeof s.token, 'string');
        assert.equal(s.nonce, 1);
        assert.equal(s.idle, 1800_000);
        assert.equal(s.absolute, 86_400_000);
        assert.ok(isInt(s.expires) && s.expires > Date.now());

        assert.equal(await sd.get(s.token), '{"cart":3}');
        assert.equal(await sd.get('nope'), null);

        const info = await sd.info(s.token);
        assert.deepEqual(Object.keys(info), ['handle', 'owner', 'nonce', 'created', 'lastSeen', 'expires', 'idle', 'absolute', 'detachable', 'detached', 'tokens', 'meta']);
        assert.equal(info.handle, s.handle);
        assert.equal(info.owner, owner);
        assert.equal(info.detachable, true);
        assert.equal(info.detached, false);
        assert.deepEqual(info.meta, { ua: 'test' });
        assert.equal(Object.getPrototypeOf(info.meta), Object.prototype);
        assert.deepEqual(await sd.infoByHandle(s.handle), await sd.info(s.token));
        assert.equal(await sd.info('nope'), null);

        assert.equal(await sd.set(s.token, { cart: 4 }, { idle: 600 }), true);
        assert.equal(await sd.set('nope', 'x'), false);
        assert.equal(await sd.get(s.token, { touch: false }), '{"cart":4}');
        const left = await sd.touch(s.token);
        assert.ok(left > 0 && left <= 600_000, `touch: ${left}`);
        assert.equal(await sd.touch('nope'), null);
        assert.ok((await sd.ttl(s.token)) > 0);
        assert.equal(await sd.ttl('nope'), null);
        assert.equal(await sd.active(s.token), true);
        assert.equal(await sd.active(s.token, { owner }), true);
        assert.equal(await sd.active(s.token, { owner: 'someone else' }), false);
        assert.equal(await sd.expire(s.token, 'idle', 900), true);
        assert.equal((await sd.info(s.token)).idle, 900_000);
        assert.equal(await sd.expire('nope', 'absolute', 10), false);

        const v = await sd.validate(s.token, 1);
        assert.deepEqual(Object.keys(v), ['ok', 'token', 'nonce', 'expires']);
        assert.equal(v.ok, true);
        assert.equal(v.nonce, 2);
        assert.notEqual(v.token, s.token);
        assert.deepEqual(await sd.validate(v.token, 7), { ok: false, reason: Reasons.NONCE });
        assert.deepEqual(await sd.validate('nope', 1), { ok: false, reason: 'unknown' });
        const same = await sd.validate(v.token, 2, { rotate: false });
        assert.equal(same.token, v.token);

        const g = await sd.regenerate(same.token);
        assert.deepEqual(Object.keys(g), ['token', 'nonce', 'expires']);
        assert.equal(await sd.active(same.token), false);
        assert.equal(await sd.regenerate('nope'), null);
        const tok = g.token;

        // JWT
        const j = await sd.jwt(tok, { claims: { role: 'admin' }, audience: 'app', ttl: 300 });
        assert.equal(j.ok, true);
        assert.equal(j.jwt.split('.').length, 3);
        assert.ok(isInt(j.expires));
        const ver = await sd.verify(j.jwt, { audience: 'app' });
        assert.equal(ver.ok, true);
        assert.equal(ver.claims.role, 'admin');
        assert.equal(ver.claims.sub, owner);
        assert.equal(ver.claims.sid, s.handle);
        assert.deepEqual(await sd.verify('garbage'), { ok: false, reason: 'signature' });
        assert.deepEqual(await sd.jwt('nope'), { ok: false, reason: 'unknown' });
        const ref = await sd.refresh(j.refresh);
        assert.equal(ref.ok, true);
        assert.notEqual(ref.refresh, j.refresh);
        assert.deepEqual(await sd.refresh('nope'), { ok: false, reason: 'unknown' });
        const jwks = await sd.jwks();
        assert.ok(Array.isArray(jwks.keys) && jwks.keys.length >= 1);
        assert.equal(typeof (await sd.rotateKey()), 'string');

        // tokens
        const t = await sd.newToken({ prefix: 'tt_' });
        assert.ok(t.startsWith('tt_'));
        assert.equal(await sd.addToken(t, { order: 7 }, { session: tok, transferable: true, ttl: 600 }), true);
        assert.equal(await sd.addToken(t, 'again'), false);
        assert.equal(await sd.getToken(t), '{"order":7}');
        assert.equal(await sd.getToken('nope'), null);
        assert.equal(await sd.tokenOwner(t), owner);
        assert.equal(await sd.tokenSession(t), s.handle);
        assert.equal(await sd.sellToken(t, '-12.50'), true);
        const ti = await sd.tokenInfo(t);
        assert.deepEqual(ti, { owner, session: s.handle, transferable: true, sellable: true, price: '-12.50', expires: ti.expires, unassigned: false, timeout: 600_000, disownTimeout: 3_600_000 });
        assert.equal(await sd.tokenInfo('nope'), null);
        assert.deepEqual(await sd.listTokens({ sellable: true }).then((l) => l.includes(t)), true);
        assert.deepEqual(await sd.listTokens({ session: tok }), [t]);
        assert.deepEqual(await sd.listTokens({ transferable: tok }), [t]);
        assert.ok((await sd.listTokens({ owner })).includes(t));
        assert.equal(await sd.unsellToken(t), true);
        assert.equal(await sd.expireToken(t, 1200), true);
        assert.ok((await sd.tokenTTL(t)) > 600_000);
        assert.equal(await sd.tokenTTL('nope'), null);
        assert.equal(await sd.disownTimeout(t, 60), true);
        assert.equal(await sd.transferToken(t, owner, 'user:other'), true);
        assert.equal(await sd.tokenOwner(t), 'user:other');
        const t2 = await sd.newToken();
        assert.equal(await sd.addToken(t2, 'free', { transferable: true }), true);
        assert.ok((await sd.listTokens({ unassigned: true })).includes(t2));
        assert.equal(await sd.acquireToken(t2, tok), true);
        assert.equal(await sd.destroyToken(t2), true);
        assert.equal(await sd.destroyToken(t2), false);

        // detach / attach, listings, revocation
        assert.equal(await sd.allowDetach(tok), true);
        assert.equal(await sd.detach(tok), true);
        assert.deepEqual(await sd.validate(tok, 2), { ok: false, reason: 'detached' });
        assert.deepEqual(await sd.detached({ owner }), [s.handle]);
        assert.ok((await sd.detached()).includes(s.handle));
        const at = await sd.attach(s.handle, owner);
        assert.equal(typeof at.token, 'string');
        assert.equal(await sd.attach(s.handle, owner), null);
        const other = await sd.newSession({ owner });
        const list = await sd.list(owner);
        // newest first; two sessions made in one millisecond may come in either order
        assert.deepEqual(list.map((i) => i.handle).sort(), [other.handle, s.handle].sort());
        assert.deepEqual(list.find((i) => i.handle === s.handle).meta, { ua: 'test' });
        assert.equal(await sd.count({ owner }), 2);
        assert.ok((await sd.count()) >= 2);
        assert.equal(await sd.revokeOwner(owner, { except: at.token }), 1);
        assert.deepEqual(await sd.validate(other.token, 1), { ok: false, reason: 'revoked' });
        const third = await sd.newSession({ owner });
        assert.equal(await sd.revokeHandle(third.handle), true);
        assert.equal(await sd.revokeHandle(third.handle), false);
        assert.equal(await sd.destroy(at.token), true);
        assert.equal(await sd.destroy(at.token), false);
        const fourth = await sd.newSession();
        assert.equal(fourth.handle.length > 0, true);
        assert.equal(await sd.destroyHandle(fourth.handle), true);
        assert.equal(await sd.count({ owner }), 0);

        // the application's own token, and a malformed request is an exception
        const own = `app-token-${conn.pkg}-${conn.RESP || 0}-0123456789abcdefghij`;
        assert.equal((await sd.newSession({ token: own })).token, own);
        assert.equal(await sd.newSession({ token: own }), null);
        await assert.rejects(sd.newSession({ token: 'short' }));
        await assert.rejects(sd.validate(own, 'x'));
      } finally {
        await close();
      }
    });
  }
});

function storeApp(store, { maxAge = 600_000 } = {}) {
  const app = express();
  app.use(express.json());
  app.use(session({ store, secret: 'sessiond-package-tests', resave: false, saveUninitialized: false, cookie: { maxAge } }));
  app.get('/count', (req, res) => {
    req.session.views = (req.session.views || 0) + 1;
    res.json({ views: req.session.views });
  });
  app.post('/login', (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.userId = req.body.user;
      res.json({ ok: true });
    });
  });
  app.get('/me', (req, res) => res.json({ user: req.session.userId || null, views: req.session.views || 0 }));
  app.post('/logout', (req, res, next) => req.session.destroy((err) => (err ? next(err) : res.json({ ok: true }))));
  app.post('/logout-everywhere', async (req, res, next) => {
    try { res.json({ revoked: await store.revokeOwner(req.session.userId) }); } catch (err) { next(err); }
  });
  app.get('/devices', async (req, res, next) => {
    try { res.json(await store.listOwner(req.session.userId)); } catch (err) { next(err); }
  });
  return app;
}

const call = (store, method, ...args) => new Promise((resolve, reject) => store[method](...args, (err, v) => (err ? reject(err) : resolve(v))));

describe('SessiondStore behind express-session', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server.stop(); });

  for (const conn of connections.filter((x) => ['redis4', 'ioredis5'].includes(x.pkg) || x.RESP === 3)) {
    it(`${conn.name}: cookie id is the token, idle from maxAge, owner from userId, revokeOwner/listOwner`, async () => {
      const { c, close } = await connect(conn, server);
      const sd = new Sessiond(c);
      const store = new SessiondStore({ client: c, owner: 'userId', absolute: 7200 });
      const web = await listen(storeApp(store, { maxAge: 600_000 }));
      try {
        const a = new Browser(web.base);
        let r = await a.request('GET', '/count');
        assert.equal(r.json.views, 1, showResponse(r));
        r = await a.request('GET', '/count');
        assert.equal(r.json.views, 2, showResponse(r));
        const sid = sidFromCookie(a.cookie('connect.sid'));
        assert.ok(sid, 'express-session set its cookie');
        // express-session's sid is the native session's token: the server keeps only its hash
        const info = await sd.info(sid);
        assert.equal(info.idle, 600_000, 'idle timeout = cookie maxAge');
        assert.equal(info.absolute, 7_200_000, 'absolute option');
        assert.equal(info.owner, '');
        assert.deepEqual(JSON.parse(await sd.get(sid, { touch: false })).views, 2);
        assert.equal(await sd.send(['EXISTS', `sess:${sid}`]), 0, 'no plain key');

        // login: regenerate + userId -> the new session is owned by the user
        r = await a.request('POST', '/login', { body: { user: 'alice' } });
        assert.equal(r.status, 200, showResponse(r));
        const sidA = sidFromCookie(a.cookie('connect.sid'));
        assert.notEqual(sidA, sid);
        assert.equal(await sd.active(sid), false, 'the pre-login session is gone');
        assert.equal(await sd.active(sidA, { owner: 'alice' }), true);

        const b = new Browser(web.base);
        await b.request('POST', '/login', { body: { user: 'alice' } });
        r = await b.request('GET', '/me');
        assert.equal(r.json.user, 'alice');
        r = await a.request('GET', '/devices');
        assert.equal(r.json.length, 2, showResponse(r));
        assert.ok(r.json.every((d) => d.owner === 'alice' && typeof d.handle === 'string' && !('token' in d)));
        assert.deepEqual((await store.listOwner('alice')).map((d) => d.handle).sort(), r.json.map((d) => d.handle).sort());

        // a session that was anonymous gets its owner when the field is set without regenerate
        const anon = new Browser(web.base);
        await anon.request('GET', '/count');
        const sidC = sidFromCookie(anon.cookie('connect.sid'));
        await call(store, 'set', sidC, { cookie: { originalMaxAge: 600_000 }, views: 1, userId: 'carol' });
        assert.equal(await sd.active(sidC, { owner: 'carol' }), true);
        r = await anon.request('GET', '/me');
        assert.deepEqual(r.json, { user: 'carol', views: 1 });

        // touch follows the cookie's maxAge
        await sd.expire(sidA, 'idle', 5);
        await call(store, 'touch', sidA, { cookie: { originalMaxAge: 300_000 } });
        assert.equal((await sd.info(sidA)).idle, 300_000);

        r = await b.request('POST', '/logout-everywhere');
        assert.equal(r.json.revoked, 2, showResponse(r));
        r = await a.request('GET', '/me');
        assert.equal(r.json.user, null, 'browser a was logged out by b');
        r = await b.request('GET', '/me');
        assert.equal(r.json.user, null);
        // a request that loaded alice's session before the revocation and saves it after must not
        // bring it back
        await call(store, 'set', sidA, { cookie: { originalMaxAge: 600_000 }, userId: 'alice', views: 9 });
        assert.equal(await sd.active(sidA), false, 'a revoked session stays revoked');
        await call(store, 'set', sidA, { cookie: { originalMaxAge: 600_000 }, views: 9 });
        assert.equal(await sd.active(sidA), false, 'also without an owner');

        // destroy
        const d = new Browser(web.base);
        await d.request('GET', '/count');
        const sidD = sidFromCookie(d.cookie('connect.sid'));
        await d.request('POST', '/logout');
        assert.equal(await sd.active(sidD), false);
        assert.equal(await call(store, 'get', sidD), null);

        // length without the index counts the server's native sessions
        assert.equal(await call(store, 'length'), await sd.count());
        await assert.rejects(call(store, 'ids'), /index option/);
      } finally {
        await web.close();
        await close();
      }
    });
  }

  it('index: all, ids, length, clear', async () => {
    const { c, close } = await connect(connections[0], server);
    const store = new SessiondStore({ client: c, index: true, indexKey: 'test:sids' });
    const web = await listen(storeApp(store));
    try {
      const browsers = [new Browser(web.base), new Browser(web.base), new Browser(web.base)];
      for (const b of browsers) await b.request('GET', '/count');
      const sids = browsers.map((b) => sidFromCookie(b.cookie('connect.sid'))).sort();
      assert.deepEqual((await call(store, 'ids')).sort(), sids);
      assert.equal(await call(store, 'length'), 3);
      const all = await call(store, 'all');
      assert.deepEqual(all.map((s) => s.id).sort(), sids);
      assert.ok(all.every((s) => s.views === 1));
      await browsers[0].request('POST', '/logout');
      assert.equal(await call(store, 'length'), 2);
      await call(store, 'clear');
      assert.equal(await call(store, 'length'), 0);
      const r = await browsers[1].request('GET', '/count');
      assert.equal(r.json.views, 1, 'cleared sessions start over');
    } finally {
      await web.close();
      await close();
    }
  });
});

describe('migrateFromConnectRedis', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server.stop(); });

  for (const conn of connections.filter((x) => x.pkg === 'ioredis5' || (x.pkg === 'redis6' && x.RESP === 3))) {
    it(`${conn.name}: browsers logged in under connect-redis stay logged in under SessiondStore`, async () => {
      const { c, close } = await connect(conn, server);
      const sd = new Sessiond(c);
      const RedisStore = require('connect-redis7').default;
      const legacyClient = await connect(connections.find((x) => x.pkg === 'ioredis5'), server);
      let web = await listen(storeApp(new RedisStore({ client: legacyClient.c, prefix: 'sess:' })));
      const alice = new Browser(web.base);
      const visitor = new Browser(web.base);
      try {
        await alice.request('POST', '/login', { body: { user: `alice-${conn.pkg}` } });
        await alice.request('GET', '/count');
        await visitor.request('GET', '/count');
        const aliceSid = sidFromCookie(alice.cookie('connect.sid'));
        assert.equal(await sd.send(['EXISTS', `sess:${aliceSid}`]), 1, 'connect-redis keeps a plain key');
        await web.close();

        // a key connect-redis would never write: a sid too short to be a session token
        await sd.send(['SET', 'sess:short', '{}', 'EX', '60']);
        const result = await migrateFromConnectRedis({ client: c, owner: 'userId', deleteOld: true });
        assert.deepEqual(result, { migrated: 2, existing: 0, skipped: ['sess:short'] });
        assert.equal(await sd.send(['EXISTS', `sess:${aliceSid}`]), 0, 'deleteOld removed the plain key');
        const info = await sd.info(aliceSid);
        assert.equal(info.owner, `alice-${conn.pkg}`);
        assert.ok(info.idle > 500_000 && info.idle <= 600_000, `idle from the key's TTL: ${info.idle}`);
        const again = await migrateFromConnectRedis({ client: c, owner: 'userId' });
        assert.deepEqual(again, { migrated: 0, existing: 0, skipped: ['sess:short'] });

        web = await listen(storeApp(new SessiondStore({ client: c, owner: 'userId' })));
        alice.base = web.base;
        visitor.base = web.base;
        let r = await alice.request('GET', '/me');
        assert.deepEqual(r.json, { user: `alice-${conn.pkg}`, views: 1 }, showResponse(r));
        r = await visitor.request('GET', '/count');
        assert.equal(r.json.views, 2, 'the anonymous session carried over too');
        assert.equal((await sd.list(`alice-${conn.pkg}`)).length, 1);
      } finally {
        await web.close();
        await legacyClient.close();
        await close();
      }
    });
  }
});

function rotatingApp(client, options = {}) {
  const app = express();
  app.use(express.json());
  app.use(rotatingSession({ client, ...options }));
  app.post('/login', async (req, res) => {
    await req.sessiond.start({ owner: req.body.user, data: { user: req.body.user }, detachable: true });
    res.json({ ok: true });
  });
  app.get('/me', async (req, res) => {
    if (!req.sessiond.token) return res.status(200).json({ user: null, failure: req.sessiondFailure || null });
    res.json({ user: (await req.sessiond.data()).user, nonce: req.sessiond.nonce, owner: req.sessiond.owner });
  });
  app.post('/logout', async (req, res) => { await req.sessiond.end(); res.json({ ok: true }); });
  return app;
}

const cookieValue = (b) => decodeURIComponent(b.cookie('sessiond') || '');

describe('rotatingSession middleware', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server.stop(); });

  for (const conn of connections.filter((x) => ['redis4', 'ioredis5'].includes(x.pkg) || (x.pkg === 'redis6' && x.RESP === 3))) {
    it(`${conn.name}: rotation, second tab, and each failure reason`, async () => {
      const { c, close } = await connect(conn, server);
      const sd = new Sessiond(c);
      const web = await listen(rotatingApp(c));
      try {
        const a = new Browser(web.base);
        let r = await a.request('GET', '/me');
        assert.deepEqual(r.json, { user: null, failure: null });
        r = await a.request('POST', '/login', { body: { user: 'alice' } });
        const first = cookieValue(a);
        assert.match(first, /\.1$/);
        r = await a.request('GET', '/me');
        assert.deepEqual(r.json, { user: 'alice', nonce: 2, owner: 'alice' });
        const second = cookieValue(a);
        assert.match(second, /\.2$/);
        assert.notEqual(second.split('.')[0], first.split('.')[0], 'a new token on every request');

        // second tab: two requests with the same cookie get the same successor
        const tab = new Browser(web.base);
        tab.jar.set('sessiond', { value: encodeURIComponent(second), expires: null });
        const [r1, r2] = await Promise.all([a.request('GET', '/me'), tab.request('GET', '/me')]);
        assert.equal(r1.status, 200, showResponse(r1));
        assert.equal(r2.status, 200, showResponse(r2));
        assert.equal(cookieValue(a), cookieValue(tab), 'both tabs hold the same successor');
        const third = cookieValue(a);
        assert.match(third, /\.3$/);
        // a's next request moves on; a late twin of the earlier request answers but must not set
        // its (stale) cookie over the newer one
        await a.request('GET', '/me');
        const fourth = cookieValue(a);
        const late = new Browser(web.base);
        late.jar.set('sessiond', { value: encodeURIComponent(second), expires: null });
        r = await late.request('GET', '/me');
        assert.equal(r.json.user, 'alice');
        assert.equal(r.setCookies.length, 0, `a late twin sets no cookie: ${r.setCookies}`);
        r = await a.request('GET', '/me');
        assert.equal(r.json.user, 'alice', 'the browser kept its newest token');
        assert.notEqual(cookieValue(a), fourth);

        // nonce: a live token with a wrong nonce is rejected, cookie cleared
        const token = cookieValue(a).split('.')[0];
        const forged = new Browser(web.base);
        forged.jar.set('sessiond', { value: encodeURIComponent(`${token}.99`), expires: null });
        r = await forged.request('GET', '/me');
        assert.equal(r.status, 401);
        assert.deepEqual(r.json, { error: 'nonce' });
        assert.equal(forged.cookie('sessiond'), undefined, 'cookie cleared');

        // unknown: a made-up cookie is a visitor
        const stranger = new Browser(web.base);
        stranger.jar.set('sessiond', { value: 'madeup-token-0123456789abc.1', expires: null });
        r = await stranger.request('GET', '/me');
        assert.deepEqual(r.json, { user: null, failure: 'unknown' });
        assert.equal(stranger.cookie('sessiond'), undefined);

        // revoked: log out everywhere from elsewhere
        const b = new Browser(web.base);
        await b.request('POST', '/login', { body: { user: 'bob' } });
        await sd.revokeOwner('bob');
        r = await b.request('GET', '/me');
        assert.deepEqual(r.json, { user: null, failure: 'revoked' });
        assert.equal(b.cookie('sessiond'), undefined);

        // detached
        const d = new Browser(web.base);
        await d.request('POST', '/login', { body: { user: 'dave' } });
        const dv = cookieValue(d);
        assert.equal(await sd.detach(dv.split('.')[0]), true);
        r = await d.request('GET', '/me');
        assert.deepEqual(r.json, { user: null, failure: 'detached' });

        // expired: an absolute deadline of one second, then a request after it
        const e = new Browser(web.base);
        await e.request('POST', '/login', { body: { user: 'erin' } });
        assert.equal(await sd.expire(cookieValue(e).split('.')[0], 'absolute', 1), true);
        await sleep(1100);
        r = await e.request('GET', '/me');
        assert.equal(r.json.user, null);
        assert.ok(['expired', 'unknown'].includes(r.json.failure), `failure ${r.json.failure}`);

        // replayed: a rotated-out token after the grace is rejected and the session revoked
        await sd.send(['CONFIG', 'SET', 'session-rotate-grace', '0']);
        try {
          const f = new Browser(web.base);
          await f.request('POST', '/login', { body: { user: 'fay' } });
          const old = cookieValue(f);
          await f.request('GET', '/me');
          await sleep(2); // a grace of 0 still covers the millisecond of the rotation
          const thief = new Browser(web.base);
          thief.jar.set('sessiond', { value: encodeURIComponent(old), expires: null });
          r = await thief.request('GET', '/me');
          assert.equal(r.status, 401);
          assert.deepEqual(r.json, { error: 'replayed' });
          r = await f.request('GET', '/me');
          assert.deepEqual(r.json, { user: null, failure: 'revoked' }, 'replay revoked the session');
        } finally {
          await sd.send(['CONFIG', 'SET', 'session-rotate-grace', '10']);
        }

        // logout clears the cookie and ends the session
        const g = new Browser(web.base);
        await g.request('POST', '/login', { body: { user: 'gus' } });
        const gv = cookieValue(g).split('.')[0];
        await g.request('POST', '/logout');
        assert.equal(g.cookie('sessiond'), undefined);
        assert.equal(await sd.active(gv), false);
      } finally {
        await web.close();
        await close();
      }
    });
  }

  it('onFailure: a function and a per-reason override', async () => {
    const { c, close } = await connect(connections[0], server);
    const web = await listen(rotatingApp(c, {
      onFailure: {
        unknown: 'reject',
        nonce: (req, res) => res.status(409).json({ custom: req.sessiondFailure }),
      },
    }));
    try {
      const s = new Browser(web.base);
      s.jar.set('sessiond', { value: 'madeup-token-0123456789abc.1', expires: null });
      let r = await s.request('GET', '/me');
      assert.equal(r.status, 401);
      const a = new Browser(web.base);
      await a.request('POST', '/login', { body: { user: 'zed' } });
      a.jar.set('sessiond', { value: encodeURIComponent(`${cookieValue(a).split('.')[0]}.42`), expires: null });
      r = await a.request('GET', '/me');
      assert.deepEqual([r.status, r.json], [409, { custom: 'nonce' }]);
    } finally {
      await web.close();
      await close();
    }
  });
});
