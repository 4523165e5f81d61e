'use strict';
// One adapter per third-party client version. Each adapter drives its client through the client's
// own idiomatic API (ioredis' pipeline() and scanStream(), node-redis' multi().execAsPipeline()
// and scanIterator()), so the suites prove what application code written for Redis would see.

const ioredisAdapter = (pkg, { protocol }) => {
  const Redis = require(pkg);
  return {
    name: pkg,
    errorType: Redis.ReplyError,
    protocol, // what the client negotiates by default: ioredis 6 sends HELLO 3, ioredis 5 none
    /** Connects and resolves with the client; rejects with the server's error when it refuses. */
    async connect(server, { username, password, db, name, readyCheck = true } = {}) {
      const c = new Redis({
        host: server.host,
        port: server.port,
        username,
        password: password === undefined ? server.password || undefined : password || undefined,
        db: db || 0,
        connectionName: name,
        enableReadyCheck: readyCheck,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      let lastError = null;
      c.on('error', (err) => { lastError = err; });
      try {
        await c.connect();
      } catch (err) {
        c.disconnect();
        throw lastError || err; // ioredis rejects with "Connection is closed"; the reply is in 'error'
      }
      return c;
    },
    close: (c) => c.quit().catch(() => c.disconnect()),
    call: (c, argv) => c.call(...argv),
    ping: (c) => c.ping(),
    auth: (c, password) => c.auth(password),
    set: (c, k, v) => c.set(k, v),
    setEX: (c, k, v, s) => c.set(k, v, 'EX', s),
    setPX: (c, k, v, ms) => c.set(k, v, 'PX', ms),
    get: (c, k) => c.get(k),
    ttl: (c, k) => c.ttl(k),
    pttl: (c, k) => c.pttl(k),
    incr: (c, k) => c.incr(k),
    mset: (c, obj) => c.mset(obj),
    mget: (c, keys) => c.mget(keys),
    del: (c, keys) => c.del(keys),
    exists: (c, keys) => c.exists(keys),
    clientGetName: (c) => c.client('GETNAME'),
    scanAll(c, match, count) {
      return new Promise((resolve, reject) => {
        const keys = [];
        const stream = c.scanStream({ match, count });
        stream.on('data', (batch) => keys.push(...batch));
        stream.on('end', () => resolve(keys));
        stream.on('error', reject);
      });
    },
    /** One pipeline; resolves with one entry per command: the reply, or the Error it failed with. */
    async pipeline(c, cmds) {
      const pl = c.pipeline();
      for (const argv of cmds) pl.call(...argv);
      const res = await pl.exec();
      return res.map(([err, val]) => err || val);
    },
    pipelineSettled(c, cmds) {
      return this.pipeline(c, cmds);
    },
  };
};

const nodeRedisAdapter = (pkg, { protocol }) => {
  const redis = require(pkg);
  return {
    name: pkg,
    errorType: redis.ErrorReply,
    protocol, // node-redis 6 speaks RESP3 by default (HELLO 3); 4 and 5 stay on RESP2
    async connect(server, { username, password, db, name } = {}) {
      const c = redis.createClient({
        socket: { host: server.host, port: server.port, reconnectStrategy: false },
        username,
        password: password === undefined ? server.password || undefined : password || undefined,
        database: db || undefined,
        name,
      });
      let lastError = null;
      c.on('error', (err) => { lastError = err; });
      try {
        await c.connect();
      } catch (err) {
        try { await (c.destroy ? c.destroy() : c.disconnect()); } catch { /* already closed */ }
        throw err || lastError;
      }
      return c;
    },
    async close(c) {
      try { await (c.close ? c.close() : c.quit()); } catch { /* already closed */ }
    },
    call: (c, argv) => c.sendCommand(argv.map(String)),
    ping: (c) => c.ping(),
    auth: (c, password) => c.auth({ password }),
    set: (c, k, v) => c.set(k, v),
    setEX: (c, k, v, s) => c.set(k, v, { EX: s }),
    setPX: (c, k, v, ms) => c.set(k, v, { PX: ms }),
    get: (c, k) => c.get(k),
    ttl: (c, k) => c.ttl(k),
    pttl: (c, k) => c.pTTL(k),
    incr: (c, k) => c.incr(k),
    mset: (c, obj) => c.mSet(obj),
    mget: (c, keys) => c.mGet(keys),
    del: (c, keys) => c.del(keys),
    exists: (c, keys) => c.exists(keys),
    clientGetName: (c) => c.clientGetName(),
    async scanAll(c, match, count) {
      const keys = [];
      // node-redis 4 yields one key at a time, 5 and 6 yield one SCAN batch at a time.
      for await (const item of c.scanIterator({ MATCH: match, COUNT: count })) {
        if (Array.isArray(item)) keys.push(...item); else keys.push(item);
      }
      return keys;
    },
    /** One explicit pipeline (multi().execAsPipeline()); rejects on the first error reply. */
    async pipeline(c, cmds) {
      const m = c.multi();
      for (const argv of cmds) m.addCommand(argv.map(String));
      return m.execAsPipeline();
    },
    /**
     * Commands issued in one tick, which node-redis writes as one pipeline; resolves with one
     * entry per command: the reply, or the Error it failed with.
     */
    async pipelineSettled(c, cmds) {
      const settled = await Promise.allSettled(cmds.map((argv) => c.sendCommand(argv.map(String))));
      return settled.map((s) => (s.status === 'fulfilled' ? s.value : s.reason));
    },
  };
};

const adapters = {
  ioredis5: () => ioredisAdapter('ioredis5', { protocol: 2 }),
  ioredis6: () => ioredisAdapter('ioredis6', { protocol: 3 }),
  redis4: () => nodeRedisAdapter('redis4', { protocol: 2 }),
  redis5: () => nodeRedisAdapter('redis5', { protocol: 2 }),
  redis6: () => nodeRedisAdapter('redis6', { protocol: 3 }),
};

/** A HELLO reply as a plain object, whether the client returned a map or a flat array. */
function pairs(reply) {
  if (reply instanceof Map) return Object.fromEntries(reply);
  if (Array.isArray(reply)) {
    const o = {};
    for (let i = 0; i + 1 < reply.length; i += 2) o[String(reply[i])] = reply[i + 1];
    return o;
  }
  return reply;
}

module.exports = { adapters, pairs };
