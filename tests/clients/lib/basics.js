'use strict';
// The basics every client must get right against sessiond: connect and handshake, AUTH
// with requirepass, SET/GET with EX and PX, MGET with nulls, DEL of 1000 keys, SCAN to the end,
// pipelines of 1000 commands, and error replies surfacing as the client's own error type.

const { describe, it, before, after } = require('node:test');
const { startServer, sleep } = require('./harness');
const { Probe } = require('./probe');
const { pairs } = require('./clients');

const PASSWORD = 'correct horse battery staple';

function clientBasics(makeAdapter) {
  const a = makeAdapter();
  const p = new Probe(a.name);

  describe(`${a.name} basics`, () => {
    let server;
    let c;
    before(async () => {
      server = await startServer();
      c = await a.connect(server);
    });
    after(async () => {
      if (c) await a.close(c);
      if (server) await server.stop();
    });

    it('connects and completes its handshake', async () => {
      await p.eq('PING', () => a.ping(c), 'PONG');
      await p.eq('ECHO "héllo wörld"', () => a.call(c, ['ECHO', 'héllo wörld']), 'héllo wörld');
      const hello = pairs(await p.call('HELLO', () => a.call(c, ['HELLO'])));
      p.that('HELLO (proto of this connection)', hello, (h) => Number(h.proto) === a.protocol,
        `a map with proto ${a.protocol}`);
      p.that('HELLO (server fields)', hello, (h) => ['server', 'version', 'id', 'mode', 'role'].every((f) => f in h),
        'fields server, version, id, mode, role');

      // The connect options that send CLIENT SETNAME and SELECT during the handshake.
      const named = await p.call('connect with a name and db 3 (CLIENT SETNAME, SELECT 3)',
        () => a.connect(server, { name: `${a.name}-conn`, db: 3 }));
      try {
        await p.eq('CLIENT GETNAME', () => a.clientGetName(named), `${a.name}-conn`);
        await p.eq('SET dbkey in-db-3 (db 3)', () => a.set(named, 'dbkey', 'in-db-3'), 'OK');
        await p.eq('GET dbkey (db 0)', () => a.get(c, 'dbkey'), null);
        await p.eq('GET dbkey (db 3)', () => a.get(named, 'dbkey'), 'in-db-3');
      } finally {
        await a.close(named);
      }
    });

    it('SET/GET with EX and PX', async () => {
      await p.eq('SET ex:k v EX 100', () => a.setEX(c, 'ex:k', 'v', 100), 'OK');
      await p.eq('GET ex:k', () => a.get(c, 'ex:k'), 'v');
      await p.check('TTL ex:k', () => a.ttl(c, 'ex:k'), (t) => t > 90 && t <= 100, 'an integer in 91..100');
      await p.check('PTTL ex:k', () => a.pttl(c, 'ex:k'), (t) => t > 90000 && t <= 100000, 'an integer in 90001..100000');

      await p.eq('SET px:k v PX 5000', () => a.setPX(c, 'px:k', 'v', 5000), 'OK');
      await p.check('PTTL px:k', () => a.pttl(c, 'px:k'), (t) => t > 3000 && t <= 5000, 'an integer in 3001..5000');
      await p.check('TTL px:k', () => a.ttl(c, 'px:k'), (t) => t >= 4 && t <= 5, '4 or 5');

      await p.eq('SET short v PX 150', () => a.setPX(c, 'px:short', 'gone soon', 150), 'OK');
      await p.eq('GET px:short (at once)', () => a.get(c, 'px:short'), 'gone soon');
      await sleep(400);
      await p.eq('GET px:short (after 400 ms)', () => a.get(c, 'px:short'), null);
      await p.eq('TTL px:short (after 400 ms)', () => a.ttl(c, 'px:short'), -2);

      await p.eq('SET plain v', () => a.set(c, 'plain', 'v'), 'OK');
      await p.eq('TTL plain', () => a.ttl(c, 'plain'), -1);
      await p.eq('SET plain v2 EX 100 (overwrite)', () => a.setEX(c, 'plain', 'v2', 100), 'OK');
      await p.eq('SET plain v3 (drops the TTL)', () => a.set(c, 'plain', 'v3'), 'OK');
      await p.eq('TTL plain (after plain SET)', () => a.ttl(c, 'plain'), -1);

      await p.rejects('SET bad v EX 0', () => a.setEX(c, 'bad', 'v', 0),
        { type: a.errorType, match: /^ERR invalid expire time in 'set' command/ });
      await p.rejects('SET bad v PX -5', () => a.setPX(c, 'bad', 'v', -5),
        { type: a.errorType, match: /^ERR invalid expire time in 'set' command/ });
      await p.eq('GET bad', () => a.get(c, 'bad'), null);
    });

    it('MGET answers null for missing keys', async () => {
      await p.eq('MSET m:1 one m:3 three m:4 ""', () => a.mset(c, { 'm:1': 'one', 'm:3': 'three', 'm:4': '' }), 'OK');
      await p.eq('MGET m:1 m:2 m:3 m:4 m:5', () => a.mget(c, ['m:1', 'm:2', 'm:3', 'm:4', 'm:5']),
        ['one', null, 'three', '', null]);
      await p.eq('MGET nope:1 nope:2', () => a.mget(c, ['nope:1', 'nope:2']), [null, null]);
    });

    it('DEL of 1000 keys', async () => {
      const keys = Array.from({ length: 1000 }, (_, i) => `del:${i}`);
      const obj = Object.fromEntries(keys.map((k, i) => [k, `v${i}`]));
      await p.eq('MSET del:0 v0 ... del:999 v999', () => a.mset(c, obj), 'OK');
      await p.eq('EXISTS del:0 ... del:999', () => a.exists(c, keys), 1000);
      const withMissing = [...keys, 'del:missing:1', 'del:missing:2'];
      await p.eq('DEL del:0 ... del:999 del:missing:1 del:missing:2', () => a.del(c, withMissing), 1000);
      await p.eq('EXISTS del:0 ... del:999 (after DEL)', () => a.exists(c, keys), 0);
      await p.eq('MGET del:0 del:500 del:999 (after DEL)', () => a.mget(c, ['del:0', 'del:500', 'del:999']), [null, null, null]);
      await p.eq('DEL del:0 ... del:999 (again)', () => a.del(c, keys), 0);
    });

    it('SCAN iterates to the end', async () => {
      const want = Array.from({ length: 2500 }, (_, i) => `scan:${i}`);
      const others = Array.from({ length: 300 }, (_, i) => `other:${i}`);
      const entries = [...want, ...others].map((k) => ['SET', k, 'x']);
      for (let i = 0; i < entries.length; i += 1000) {
        await a.pipeline(c, entries.slice(i, i + 1000));
      }
      const got = await p.call('SCAN 0 MATCH scan:* COUNT 100 ... until cursor 0', () => a.scanAll(c, 'scan:*', 100));
      const gotSet = new Set(got);
      const missing = want.filter((k) => !gotSet.has(k));
      const foreign = [...gotSet].filter((k) => !k.startsWith('scan:'));
      p.that('SCAN 0 MATCH scan:* COUNT 100 ... until cursor 0 (missing keys)', missing, (m) => m.length === 0,
        `every one of the 2500 scan:* keys (got ${gotSet.size} distinct)`);
      p.that('SCAN 0 MATCH scan:* COUNT 100 ... until cursor 0 (keys not matching)', foreign, (f) => f.length === 0,
        'only keys matching scan:*');
      const all = new Set(await p.call('SCAN 0 COUNT 1000 ... until cursor 0', () => a.scanAll(c, '*', 1000)));
      p.that('SCAN 0 COUNT 1000 ... until cursor 0', all, (s) => [...want, ...others].every((k) => s.has(k)),
        'all 2800 keys written by this test');
    });

    it('pipelines of 1000 commands', async () => {
      const sets = Array.from({ length: 1000 }, (_, i) => ['SET', `pipe:${i}`, `value-${i}`]);
      await p.eq('pipeline: SET pipe:0 value-0 ... SET pipe:999 value-999', () => a.pipeline(c, sets),
        Array(1000).fill('OK'));
      const mixed = [];
      const expected = [];
      for (let i = 0; i < 500; i++) {
        mixed.push(['INCR', 'pipe:counter'], ['GET', `pipe:${i * 2}`]);
        expected.push(i + 1, `value-${i * 2}`);
      }
      await p.eq('pipeline: INCR pipe:counter / GET pipe:<2i> x 500', () => a.pipeline(c, mixed), expected);
      await p.eq('GET pipe:counter', () => a.get(c, 'pipe:counter'), '500');
    });

    it('error replies surface as the client\'s error type', async () => {
      const type = a.errorType;
      await p.eq('SET err:text abc', () => a.set(c, 'err:text', 'abc'), 'OK');
      await p.rejects('INCR err:text', () => a.incr(c, 'err:text'),
        { type, match: /^ERR value is not an integer or out of range/ });
      await p.rejects('NOSUCHCMD a b', () => a.call(c, ['NOSUCHCMD', 'a', 'b']),
        { type, match: /^ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b'/ });
      await p.rejects('GET (no key)', () => a.call(c, ['GET']),
        { type, match: /^ERR wrong number of arguments for 'get' command/ });
      await p.rejects('SET err:x v EX notanumber', () => a.call(c, ['SET', 'err:x', 'v', 'EX', 'notanumber']),
        { type, match: /^ERR value is not an integer or out of range/ });
      await p.rejects('SET err:x v BOGUS', () => a.call(c, ['SET', 'err:x', 'v', 'BOGUS']),
        { type, match: /^ERR syntax error/ });
      await p.eq('PING (after the errors)', () => a.ping(c), 'PONG');

      const replies = await p.call('pipeline: SET err:n 1 / INCR err:text / INCR err:n / NOSUCHCMD / GET err:n',
        () => a.pipelineSettled(c, [['SET', 'err:n', '1'], ['INCR', 'err:text'], ['INCR', 'err:n'], ['NOSUCHCMD'], ['GET', 'err:n']]));
      const shape = replies.map((r) => (r instanceof Error ? `${r instanceof type ? type.name : r.constructor.name}: ${r.message}` : r));
      p.that('pipeline: SET err:n 1 / INCR err:text / INCR err:n / NOSUCHCMD / GET err:n', shape,
        (s) => s[0] === 'OK' && /^\w+: ERR value is not an integer/.test(s[1]) && s[1].startsWith(type.name) &&
          s[2] === 2 && /^\w+: ERR unknown command/.test(s[3]) && s[3].startsWith(type.name) && s[4] === '2',
        `['OK', ${type.name}: ERR value is not an integer..., 2, ${type.name}: ERR unknown command..., '2']`);
    });
  });

  describe(`${a.name} ACL user (username and password)`, () => {
    let server;
    before(async () => { server = await startServer(); });
    after(async () => { if (server) await server.stop(); });

    it('connects as an ACL user and is held to its rules', async () => {
      const admin = await a.connect(server);
      try {
        await p.eq('ACL SETUSER app on >app-secret ~app:* +@all -@dangerous',
          () => a.call(admin, ['ACL', 'SETUSER', 'app', 'on', '>app-secret', '~app:*', '+@all', '-@dangerous']), 'OK');
      } finally {
        await a.close(admin);
      }
      const c = await p.call('connect with username app and its password',
        () => a.connect(server, { username: 'app', password: 'app-secret' }));
      try {
        await p.eq('ACL WHOAMI', () => a.call(c, ['ACL', 'WHOAMI']), 'app');
        await p.eq('SET app:k v', () => a.set(c, 'app:k', 'v'), 'OK');
        await p.eq('GET app:k', () => a.get(c, 'app:k'), 'v');
        await p.rejects('SET other v (a key outside ~app:*)', () => a.set(c, 'other', 'v'),
          { type: a.errorType, match: /^NOPERM .*keys/ });
        await p.rejects('FLUSHALL (@dangerous)', () => a.call(c, ['FLUSHALL']),
          { type: a.errorType, match: /^NOPERM .*'flushall'/ });
      } finally {
        await a.close(c);
      }
      await p.rejects('connect with username app and a wrong password', async () => {
        const bad = await a.connect(server, { username: 'app', password: 'wrong' });
        try { await a.ping(bad); } finally { await a.close(bad); }
      }, { match: /WRONGPASS/ });
    });
  });

  describe(`${a.name} AUTH with requirepass`, () => {
    let server;
    before(async () => { server = await startServer({ requirepass: PASSWORD }); });
    after(async () => { if (server) await server.stop(); });

    it('connects with the password', async () => {
      const c = await p.call(`connect with password (AUTH ${PASSWORD})`, () => a.connect(server, { password: PASSWORD }));
      try {
        await p.eq('PING', () => a.ping(c), 'PONG');
        await p.eq('SET auth:k v', () => a.set(c, 'auth:k', 'v'), 'OK');
        await p.eq('GET auth:k', () => a.get(c, 'auth:k'), 'v');
      } finally {
        await a.close(c);
      }
    });

    it('is refused with a wrong password', async () => {
      await p.rejects('connect with a wrong password (AUTH wrong)', async () => {
        const c = await a.connect(server, { password: 'wrong' });
        try { await a.ping(c); } finally { await a.close(c); }
      }, { match: /WRONGPASS|invalid password|invalid username-password/i });
    });

    it('is refused without a password', async () => {
      await p.rejects('connect without a password, then GET auth:k', async () => {
        const c = await a.connect(server, { password: null });
        try { await a.get(c, 'auth:k'); } finally { await a.close(c); }
      }, { match: /NOAUTH/ });
    });

    if (a.protocol === 2) {
      it('authenticates with an AUTH command after connecting', async () => {
        // ioredis' INFO ready check would fail before AUTH; turn it off to send AUTH by hand.
        const c = await a.connect(server, { password: null, readyCheck: false });
        try {
          await p.rejects('GET auth:k (before AUTH)', () => a.get(c, 'auth:k'), { type: a.errorType, match: /^NOAUTH/ });
          await p.rejects('AUTH wrong', () => a.auth(c, 'wrong'),
            { type: a.errorType, match: /WRONGPASS|invalid password|invalid username-password/i });
          await p.eq(`AUTH ${PASSWORD}`, () => a.auth(c, PASSWORD), 'OK');
          await p.eq('SET auth:k2 v2 (after AUTH)', () => a.set(c, 'auth:k2', 'v2'), 'OK');
          await p.eq('GET auth:k2 (after AUTH)', () => a.get(c, 'auth:k2'), 'v2');
        } finally {
          await a.close(c);
        }
      });
    }
  });
}

module.exports = { clientBasics };
