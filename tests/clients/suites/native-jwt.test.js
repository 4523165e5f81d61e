'use strict';
// Seed 003 (session-jwt: a short-lived JWT plus a refresh token, ensureAuth, refresh) served
// natively: SESS.JWT / SESS.VERIFY / SESS.REFRESH / SESS.JWKS / SESS.ROTATEKEY per COMMANDS.md,
// over node-redis sendCommand in RESP2 and RESP3. The JWTs are verified independently with the
// jose package against the server's JWKS. Until the server has these commands, each test is
// skipped with the server's "unknown command" reply.

const { describe, it, before, after } = require('node:test');
const { sleep } = require('../lib/harness');
const { skipIfUnknown } = require('../lib/probe');
const { protocols, toMap, nativeClient, show } = require('../lib/native');

const JWT_FIELDS = ['jwt', 'refresh', 'expires'];
const RESERVED = ['iss', 'sub', 'sid', 'jti', 'iat', 'exp'];

/** The claims of a SESS.VERIFY reply: a nested map, a flat array, or a JSON string. */
function claimsOf(v) {
  if (typeof v === 'string') return JSON.parse(v);
  return toMap(v);
}

for (const proto of protocols) {
  describe(`seed 003 flow: SESS.JWT / SESS.VERIFY / SESS.REFRESH with jose (${proto.pkg}, RESP${proto.resp})`, () => {
    let n;
    let jose;
    before(async () => {
      jose = await import('jose');
      n = await nativeClient(proto);
    });
    after(async () => { if (n) await n.close(); });

    const map = async (argv) => toMap(await n.p.call(show(argv), () => n.send(argv)));
    const expectMap = async (argv, pred, want) => {
      const m = await map(argv);
      n.p.that(show(argv), m, pred, want);
      return m;
    };
    const fields = (m, list) => Object.keys(m).join(' ') === list.join(' ');

    async function jwks() {
      const raw = await n.p.call('SESS.JWKS', () => n.send(['SESS.JWKS']));
      const doc = n.p.that('SESS.JWKS', typeof raw === 'string' ? JSON.parse(raw) : raw,
        (d) => Array.isArray(d.keys) && d.keys.length > 0 && d.keys.every((k) => k.kid && k.kty && !('d' in k) && !('k' in k)),
        'a JWKS JSON document: { keys: [...] }, each with kid and kty, and no private part (d) or secret (k)');
      return doc;
    }

    /** Verifies a JWT with jose against the server's JWKS; the failure names the token's step. */
    async function joseVerify(what, jwt, opts = {}) {
      const doc = await jwks();
      try {
        return await jose.jwtVerify(jwt, jose.createLocalJWKSet(doc), { algorithms: ['EdDSA', 'Ed25519'], ...opts });
      } catch (err) {
        n.p.fail(`jose.jwtVerify(${what}) against SESS.JWKS`, `${err.code || err.name}: ${err.message}`, 'a valid signature and claims');
      }
    }

    async function newSession(owner) {
      return expectMap(['SESS.NEW', 'OWNER', owner], (m) => typeof m.token === 'string' && typeof m.handle === 'string', 'map token handle ...');
    }

    async function issue(token, extra = []) {
      const argv = ['SESS.JWT', token, ...extra];
      return expectMap(argv, (m) => fields(m, JWT_FIELDS) && m.jwt.split('.').length === 3 && typeof m.refresh === 'string' &&
        m.refresh.length >= 22 && Number(m.expires) > Date.now(), `fields ${JWT_FIELDS.join(' ')}: a compact JWS, a refresh token, expires in the future`);
    }

    it('SESS.JWT issues an EdDSA JWT that jose verifies against SESS.JWKS', (t) => skipIfUnknown(t, async () => {
      const s = await newSession('alice');
      const before = Date.now();
      const r = await issue(s.token, ['CLAIMS', '{"role":"admin"}', 'TTL', '60', 'AUDIENCE', 'app']);
      n.p.that('SESS.JWT ... TTL 60 (expires)', Number(r.expires), (e) => e >= before + 58_000 && e <= Date.now() + 61_000, 'now + 60 s as Unix ms');
      const { payload, protectedHeader } = await joseVerify('SESS.JWT ... AUDIENCE app', r.jwt, { audience: 'app' });
      n.p.that('SESS.JWT (JWS header)', protectedHeader, (h) => ['EdDSA', 'Ed25519'].includes(h.alg) && typeof h.kid === 'string',
        "alg EdDSA and a kid");
      n.p.that('SESS.JWT (claims)', payload, (c) => c.sub === 'alice' && c.sid === s.handle && c.role === 'admin' && typeof c.jti === 'string' &&
        typeof c.iss === 'string' && c.iss.length > 0 && c.exp - c.iat === 60 && Math.abs(c.iat * 1000 - Date.now()) < 5000,
      `sub alice, sid ${s.handle}, role admin, a jti, an iss, exp = iat + 60`);
      n.p.that('SESS.JWT (no secret in the token)', JSON.stringify(payload), (j) => !j.includes(s.token) && !j.includes(r.refresh),
        'neither the session token nor the refresh token inside the JWT');
    }));

    it('SESS.VERIFY accepts the JWT while its session lives', (t) => skipIfUnknown(t, async () => {
      const s = await newSession('bob');
      const r = await issue(s.token, ['CLAIMS', '{"role":"reader"}', 'AUDIENCE', 'app']);
      const v = await expectMap(['SESS.VERIFY', r.jwt, 'AUDIENCE', 'app'], (m) => Number(m.ok) === 1 && 'claims' in m, 'ok 1 claims {...}');
      n.p.that('SESS.VERIFY (claims)', claimsOf(v.claims), (c) => c.sub === 'bob' && c.sid === s.handle && c.role === 'reader',
        `claims with sub bob, sid ${s.handle}, role reader`);
    }));

    it('SESS.VERIFY refuses forged, foreign, unsigned and mis-addressed tokens as failures, not errors', (t) => skipIfUnknown(t, async () => {
      const s = await newSession('carol');
      const r = await issue(s.token, ['AUDIENCE', 'app']);
      const [h, p, sig] = r.jwt.split('.');
      const mid = Math.floor(sig.length / 2);
      const flipped = `${h}.${p}.${sig.slice(0, mid)}${sig[mid] === 'A' ? 'B' : 'A'}${sig.slice(mid + 1)}`;
      await expectMap(['SESS.VERIFY', flipped, 'AUDIENCE', 'app'], (m) => Number(m.ok) === 0 && m.reason === 'signature', 'ok 0 reason signature');

      const header = jose.decodeProtectedHeader(r.jwt);
      const claims = jose.decodeJwt(r.jwt);
      const { privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const foreign = await new jose.SignJWT(claims).setProtectedHeader({ alg: header.alg, kid: header.kid }).sign(privateKey);
      await expectMap(['SESS.VERIFY', foreign, 'AUDIENCE', 'app'], (m) => Number(m.ok) === 0 && m.reason === 'signature',
        'ok 0 reason signature (same claims and kid, signed by another key)');

      const unsigned = new jose.UnsecuredJWT(claims).encode();
      await expectMap(['SESS.VERIFY', unsigned, 'AUDIENCE', 'app'], (m) => Number(m.ok) === 0 && ['signature', 'claims'].includes(m.reason),
        'ok 0 reason signature (alg none is never accepted)');

      await expectMap(['SESS.VERIFY', r.jwt, 'AUDIENCE', 'other'], (m) => Number(m.ok) === 0 && m.reason === 'claims',
        'ok 0 reason claims (wrong audience)');
      await expectMap(['SESS.VERIFY', 'not.a.jwt'], (m) => Number(m.ok) === 0, 'ok 0 (a malformed token is a failure)');
    }));

    it('an expired JWT is refused by SESS.VERIFY and by jose', (t) => skipIfUnknown(t, async () => {
      const s = await newSession('dave');
      // exp is in whole seconds: TTL 2 keeps it in the future when issued late in a second.
      const r = await issue(s.token, ['TTL', '2']);
      await sleep(Number(r.expires) + 1100 - Date.now());
      await expectMap(['SESS.VERIFY', r.jwt], (m) => Number(m.ok) === 0 && m.reason === 'expired', 'ok 0 reason expired (TTL 2, waited past its exp)');
      const doc = await jwks();
      const err = await jose.jwtVerify(r.jwt, jose.createLocalJWKSet(doc)).then(() => null, (e) => e);
      n.p.that('jose.jwtVerify(expired SESS.JWT)', err && err.code, (c) => c === 'ERR_JWT_EXPIRED', 'ERR_JWT_EXPIRED');
    }));

    it('SESS.REFRESH rotates the pair; a retry within the grace returns the same pair', (t) => skipIfUnknown(t, async () => {
      const s = await newSession('erin');
      const r1 = await issue(s.token);
      const r2 = await expectMap(['SESS.REFRESH', r1.refresh], (m) => fields(m, JWT_FIELDS) && m.refresh !== r1.refresh && m.jwt !== r1.jwt,
        `fields ${JWT_FIELDS.join(' ')}: a new JWT and a new refresh token`);
      const { payload } = await joseVerify('SESS.REFRESH', r2.jwt);
      n.p.that('SESS.REFRESH (claims)', payload, (c) => c.sub === 'erin' && c.sid === s.handle, `sub erin, sid ${s.handle}`);
      await expectMap(['SESS.REFRESH', r1.refresh], (m) => m.jwt === r2.jwt && m.refresh === r2.refresh,
        'the same jwt and refresh as the first SESS.REFRESH (retry within session-rotate-grace)');
      await expectMap(['SESS.REFRESH', 'A'.repeat(43)], (m) => fields(m, ['ok', 'reason']) && Number(m.ok) === 0 && m.reason === 'unknown',
        'ok 0 reason unknown');
    }));

    it('CLAIMS may not set reserved claims; malformed requests are errors', (t) => skipIfUnknown(t, async () => {
      const s = await newSession('frank');
      for (const claim of RESERVED) {
        const argv = ['SESS.JWT', s.token, 'CLAIMS', JSON.stringify({ [claim]: 'x' })];
        await n.p.rejects(show(argv), () => n.send(argv), { type: n.ErrorReply, match: /^ERR / });
      }
      await n.p.rejects('SESS.JWT <token> CLAIMS notjson', () => n.send(['SESS.JWT', s.token, 'CLAIMS', 'notjson']), { type: n.ErrorReply, match: /^ERR / });
      await n.p.rejects('SESS.JWT <token> TTL abc', () => n.send(['SESS.JWT', s.token, 'TTL', 'abc']), { type: n.ErrorReply, match: /^ERR / });
      await n.p.rejects('SESS.VERIFY (no arguments)', () => n.send(['SESS.VERIFY']),
        { type: n.ErrorReply, match: /^ERR wrong number of arguments for 'sess\.verify' command/i });
    }));

    it('SESS.JWT for a session that is not valid is a failure, not an error', (t) => skipIfUnknown(t, async () => {
      await newSession('gina'); // skips while SESS.NEW is unknown
      const argv = ['SESS.JWT', 'A'.repeat(43)];
      const reply = await n.p.call(show(argv), () => n.send(argv));
      n.p.that(show(argv), reply, (v) => v === null || (Number(toMap(v).ok) === 0 && toMap(v).reason === 'unknown'),
        'null or ok 0 reason unknown');
    }));

    it('destroying the session ends its JWTs and refresh tokens', (t) => skipIfUnknown(t, async () => {
      const s = await newSession('hank');
      const r = await issue(s.token);
      await n.p.eq(show(['SESS.DESTROY', s.token]), () => n.send(['SESS.DESTROY', s.token]), 1);
      await expectMap(['SESS.VERIFY', r.jwt], (m) => Number(m.ok) === 0 && m.reason !== 'signature',
        'ok 0 with a reason other than signature: the signature is good, the session is gone');
      await joseVerify('a JWT of a destroyed session (still a good signature)', r.jwt);
      await expectMap(['SESS.REFRESH', r.refresh], (m) => Number(m.ok) === 0, 'ok 0');
    }));

    it('SESS.ROTATEKEY adds a key; JWTs signed by the old key keep verifying', (t) => skipIfUnknown(t, async () => {
      const s = await newSession('ivy');
      const old = await issue(s.token);
      const oldKid = jose.decodeProtectedHeader(old.jwt).kid;
      const kid = await n.p.check('SESS.ROTATEKEY', () => n.send(['SESS.ROTATEKEY']), (k) => typeof k === 'string' && k.length > 0 && k !== oldKid,
        `a new key id (not ${oldKid})`);
      const doc = await jwks();
      n.p.that('SESS.JWKS (after SESS.ROTATEKEY)', doc.keys.map((k) => k.kid), (kids) => kids.includes(kid) && kids.includes(oldKid),
        `both kids ${oldKid} and ${kid}`);
      const fresh = await issue(s.token);
      n.p.that('SESS.JWT (after SESS.ROTATEKEY): kid', jose.decodeProtectedHeader(fresh.jwt).kid, (k) => k === kid, kid);
      await joseVerify('SESS.JWT signed by the new key', fresh.jwt);
      await joseVerify('SESS.JWT signed by the old key', old.jwt);
      await expectMap(['SESS.VERIFY', old.jwt], (m) => Number(m.ok) === 1, 'ok 1 (old key still verifies)');
    }));

    it('reuse of a refresh token after the grace revokes the session and its family', (t) => skipIfUnknown(t, async () => {
      const s = await newSession('jack'); // skips while SESS.NEW is unknown
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
        const r1 = await issue(s.token);
        const r2 = await expectMap(['SESS.REFRESH', r1.refresh], (m) => typeof m.refresh === 'string', 'map jwt refresh expires');
        await sleep(1500);
        await expectMap(['SESS.REFRESH', r1.refresh], (m) => Number(m.ok) === 0 && m.reason === 'replayed',
          'ok 0 reason replayed (session-rotate-grace 1, 1.5 s later)');
        await expectMap(['SESS.REFRESH', r2.refresh], (m) => Number(m.ok) === 0, 'ok 0: the whole family is revoked');
        await expectMap(['SESS.VERIFY', r2.jwt], (m) => Number(m.ok) === 0, 'ok 0: the session is revoked');
      } finally {
        await n.send(['CONFIG', 'SET', 'session-rotate-grace', String(grace)]);
      }
    }));
  });
}

