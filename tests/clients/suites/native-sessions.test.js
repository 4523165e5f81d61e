'use strict';
// Seed 000 (node-session-tokens: createSession / validateSession(token, nonce) / destroySession,
// "a failure is not an error") served natively: SESS.NEW, SESS.VALIDATE, SESS.DESTROY per
// COMMANDS.md, over node-redis sendCommand in RESP2 and RESP3. Until the server has these
// commands, each test is skipped with the server's "unknown command" reply.

const { describe, it, before, after } = require('node:test');
const { sleep } = require('../lib/harness');
const { skipIfUnknown } = require('../lib/probe');
const { protocols, toMap, nativeClient, show } = require('../lib/native');

const TOKEN_RE = /^[A-Za-z0-9_-]{43,}$/; // 256 random bits, base64url
const NEW_FIELDS = ['token', 'handle', 'nonce', 'expires', 'idle', 'absolute'];
const OK_FIELDS = ['ok', 'token', 'nonce', 'expires'];
const FAIL_FIELDS = ['ok', 'reason'];

for (const proto of protocols) {
  describe(`seed 000 flow: SESS.NEW / SESS.VALIDATE / SESS.DESTROY (${proto.pkg}, RESP${proto.resp})`, () => {
    let n;
    before(async () => { n = await nativeClient(proto); });
    after(async () => { if (n) await n.close(); });

    /** Sends a native command and returns its reply as a map. */
    const map = async (argv) => toMap(await n.p.call(show(argv), () => n.send(argv)));
    const expectMap = async (argv, pred, want) => {
      const m = await map(argv);
      n.p.that(show(argv), m, pred, want);
      return m;
    };
    const fields = (m, list) => Object.keys(m).join(' ') === list.join(' ');

    async function newSession(extra = []) {
      const argv = ['SESS.NEW', ...extra];
      return expectMap(argv, (m) => fields(m, NEW_FIELDS) && TOKEN_RE.test(m.token) && typeof m.handle === 'string' &&
        m.handle.length > 0 && m.handle !== m.token && Number(m.nonce) === 1 && Number(m.expires) > Date.now(),
      `a ${proto.resp === 3 ? 'map' : 'flat array'} with fields ${NEW_FIELDS.join(' ')}: a base64url token of 43+ characters, a handle, nonce 1, expires in the future`);
    }

    it('SESS.NEW creates a session (invisible to DBSIZE and SCAN)', (t) => skipIfUnknown(t, async () => {
      const before = await n.p.call('DBSIZE', () => n.send(['DBSIZE']));
      const now = Date.now();
      const s = await newSession();
      n.p.that('SESS.NEW (expires, idle, absolute)', s, (m) => Number(m.expires) >= now + 3600_000 - 2000 && Number(m.expires) <= Date.now() + 3600_000 + 2000 &&
        Number(m.idle) === 3600_000 && Number(m.absolute) === 86400_000,
      'expires at now + session-idle-timeout (3600 s) as Unix ms, idle 3600000 and absolute 86400000 (ms, as every time in a reply)');
      const custom = await newSession(['IDLE', '60', 'ABSOLUTE', '120', 'OWNER', 'alice']);
      n.p.that('SESS.NEW IDLE 60 ABSOLUTE 120 OWNER alice', custom, (m) => Math.abs(Number(m.expires) - (Date.now() + 60_000)) < 2000 &&
        Number(m.idle) === 60_000 && Number(m.absolute) === 120_000, 'expires at now + 60 s, idle 60000, absolute 120000');
      await n.p.eq('DBSIZE (after SESS.NEW)', () => n.send(['DBSIZE']), before);
      await n.p.eq('SCAN 0 MATCH * COUNT 1000 (after SESS.NEW)', async () => (await n.send(['SCAN', '0', 'MATCH', '*', 'COUNT', '1000']))[1], []);
    }));

    it('SESS.VALIDATE rotates the token and the nonce; a repeat within the grace gets the same successor', (t) => skipIfUnknown(t, async () => {
      const s = await newSession();
      const v = await expectMap(['SESS.VALIDATE', s.token, 1], (m) => fields(m, OK_FIELDS) && Number(m.ok) === 1 && TOKEN_RE.test(m.token) &&
        m.token !== s.token && Number(m.nonce) === 2 && Number(m.expires) > Date.now(),
      `fields ${OK_FIELDS.join(' ')}: ok 1, a new token, nonce 2, expires in the future`);
      await expectMap(['SESS.VALIDATE', s.token, 1], (m) => Number(m.ok) === 1 && m.token === v.token && Number(m.nonce) === 2,
        `ok 1 with the same successor token ${v.token.slice(0, 8)}... and nonce 2 (within session-rotate-grace)`);
      await expectMap(['SESS.VALIDATE', v.token, 2], (m) => Number(m.ok) === 1 && m.token !== v.token && Number(m.nonce) === 3,
        'ok 1, another new token, nonce 3');
    }));

    it('NOROTATE validates without a new token', (t) => skipIfUnknown(t, async () => {
      const s = await newSession();
      await expectMap(['SESS.VALIDATE', s.token, 1, 'NOROTATE'], (m) => Number(m.ok) === 1 && m.token === s.token && Number(m.nonce) === 2,
        'ok 1, the same token, nonce 2');
      await expectMap(['SESS.VALIDATE', s.token, 2], (m) => Number(m.ok) === 1 && Number(m.nonce) === 3, 'ok 1, nonce 3');
    }));

    it('a wrong nonce or an unknown token is a failure reply, not an error', (t) => skipIfUnknown(t, async () => {
      const s = await newSession();
      await expectMap(['SESS.VALIDATE', s.token, 7], (m) => fields(m, FAIL_FIELDS) && Number(m.ok) === 0 && m.reason === 'nonce',
        'ok 0 reason nonce');
      await expectMap(['SESS.VALIDATE', 'A'.repeat(43), 1], (m) => fields(m, FAIL_FIELDS) && Number(m.ok) === 0 && m.reason === 'unknown',
        'ok 0 reason unknown');
      await expectMap(['SESS.VALIDATE', s.token, 1], (m) => Number(m.ok) === 1 && Number(m.nonce) === 2,
        'ok 1 nonce 2 (a wrong nonce does not end the session)');
    }));

    it('SESS.DESTROY ends the session', (t) => skipIfUnknown(t, async () => {
      const s = await newSession();
      const v = await expectMap(['SESS.VALIDATE', s.token, 1], (m) => Number(m.ok) === 1, 'ok 1');
      await n.p.eq(show(['SESS.DESTROY', v.token]), () => n.send(['SESS.DESTROY', v.token]), 1);
      await expectMap(['SESS.VALIDATE', v.token, 2], (m) => Number(m.ok) === 0 && m.reason === 'unknown', 'ok 0 reason unknown');
      await n.p.eq(show(['SESS.DESTROY', v.token]) + ' (again)', () => n.send(['SESS.DESTROY', v.token]), 0);
      await n.p.eq(show(['SESS.DESTROY', 'A'.repeat(43)]), () => n.send(['SESS.DESTROY', 'A'.repeat(43)]), 0);
    }));

    it('malformed requests are error replies', (t) => skipIfUnknown(t, async () => {
      const s = await newSession();
      const ErrorReply = n.ErrorReply;
      await n.p.rejects('SESS.VALIDATE (no arguments)', () => n.send(['SESS.VALIDATE']),
        { type: ErrorReply, match: /^ERR wrong number of arguments for 'sess\.validate' command/i });
      await n.p.rejects(show(['SESS.VALIDATE', s.token, 'notanumber']), () => n.send(['SESS.VALIDATE', s.token, 'notanumber']),
        { type: ErrorReply, match: /^ERR / });
      await n.p.rejects('SESS.NEW IDLE abc', () => n.send(['SESS.NEW', 'IDLE', 'abc']), { type: ErrorReply, match: /^ERR / });
      await n.p.rejects('SESS.NEW BOGUS', () => n.send(['SESS.NEW', 'BOGUS']), { type: ErrorReply, match: /^ERR syntax error/ });
    }));

    it('a rotated-out token presented after the grace is a replay and revokes the session', (t) => skipIfUnknown(t, async () => {
      await newSession(); // skips the test while SESS.NEW is unknown
      let grace;
      try {
        grace = toMap(await n.send(['CONFIG', 'GET', 'session-rotate-grace']))['session-rotate-grace'];
        if (grace === undefined) throw new Error('no session-rotate-grace in CONFIG GET');
        await n.send(['CONFIG', 'SET', 'session-rotate-grace', '1']);
      } catch (err) {
        t.skip(`CONFIG SET session-rotate-grace 1 failed: ${err.message}`);
        return;
      }
      try {
        const s = await newSession();
        const v = await expectMap(['SESS.VALIDATE', s.token, 1], (m) => Number(m.ok) === 1, 'ok 1');
        await sleep(1500);
        await expectMap(['SESS.VALIDATE', s.token, 1], (m) => Number(m.ok) === 0 && m.reason === 'replayed',
          'ok 0 reason replayed (session-rotate-grace 1, 1.5 s later)');
        await expectMap(['SESS.VALIDATE', v.token, 2], (m) => Number(m.ok) === 0,
          'ok 0: the replay revoked the whole session (session-replay-revoke yes)');
      } finally {
        await n.send(['CONFIG', 'SET', 'session-rotate-grace', String(grace)]);
      }
    }));
  });
}
