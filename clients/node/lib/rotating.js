'use strict';
// rotatingSession: Express middleware for sessions whose token rotates on every request
// (SESS.VALIDATE). The cookie carries "<token>.<nonce>"; each request presents it, the server
// checks the nonce and answers with the next token and nonce, and the response sets them.
//
// Second tab: two requests sent with the same cookie (a page and its images, two tabs) both
// validate within session-rotate-grace and get the SAME successor, so neither forks the session.
// A request that answers late with a successor the browser has already moved past must not set
// its cookie (it would put the browser back on a rotated-out token, which after the grace reads as
// a replay and revokes the session): the middleware sets no cookie when the session's current
// nonce (SESS.INFO, sent with SESS.VALIDATE in one round trip) is already past the successor's.

const { Sessiond, Reasons } = require('./client');

/**
 * What a failure reason does by default:
 * - 'anonymous': the cookie is cleared, req.sessiond.token is null and req.sessiondFailure names the
 *   reason; the request goes on as a visitor's (the route decides whether to ask for a login).
 * - 'reject': the cookie is cleared and the request is answered 401 with { error: reason } here.
 */
const DEFAULT_ON_FAILURE = Object.freeze({
  [Reasons.UNKNOWN]: 'anonymous', // never issued, destroyed, or the server lost it
  [Reasons.EXPIRED]: 'anonymous', // idle or absolute deadline passed: log in again
  [Reasons.REVOKED]: 'anonymous', // logged out everywhere / by an administrator
  [Reasons.DETACHED]: 'anonymous', // logged out but kept: the app may offer SESS.ATTACH
  [Reasons.NONCE]: 'reject', // a wrong nonce for a live token: a forged or copied cookie
  [Reasons.REPLAYED]: 'reject', // a rotated-out token after the grace: stolen; the server revoked it
});

function parseCookies(header) {
  const out = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim();
    if (!(k in out)) out[k] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

/** "<token>.<nonce>" -> { token, nonce }, or null when it is not of that form. */
function parseValue(v) {
  const dot = v ? v.lastIndexOf('.') : -1;
  if (dot <= 0) return null;
  const nonce = v.slice(dot + 1);
  if (!/^[0-9]{1,15}$/.test(nonce)) return null;
  return { token: v.slice(0, dot), nonce: Number(nonce) };
}

function serializeCookie(name, value, o) {
  let s = `${name}=${encodeURIComponent(value)}; Path=${o.path || '/'}`;
  if (o.maxAge !== undefined) s += `; Max-Age=${Math.floor(o.maxAge / 1000)}`;
  if (o.expires) s += `; Expires=${o.expires.toUTCString()}`;
  if (o.domain) s += `; Domain=${o.domain}`;
  if (o.httpOnly !== false) s += '; HttpOnly';
  if (o.secure) s += '; Secure';
  s += `; SameSite=${o.sameSite || 'Lax'}`;
  return s;
}

function appendSetCookie(res, cookie) {
  const prev = res.getHeader('Set-Cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev : [String(prev)];
  res.setHeader('Set-Cookie', [...list.filter((c) => !c.startsWith(cookie.slice(0, cookie.indexOf('=') + 1))), cookie]);
}

/**
 * @param {object} options
 * @param {object} options.client node-redis or ioredis client, or a Sessiond
 * @param {string} [options.name] cookie name, default 'sessiond'
 * @param {object} [options.cookie] path, domain, secure, sameSite ('Lax'), httpOnly (true)
 * @param {boolean} [options.rotate] false validates with NOROTATE (token kept, nonce still moves)
 * @param {object} [options.onFailure] reason -> 'anonymous' | 'reject' | (req, res, next, reason) => void
 * @returns Express middleware setting req.sessiond: { token, nonce, expires, handle, owner, start(),
 *   end(), data(), save(), info() }, token null for a visitor, and req.sessiondFailure (the reason)
 *   when a presented cookie failed
 */
function rotatingSession(options = {}) {
  if (!options.client) throw new TypeError('rotatingSession: options.client is required');
  const sd = options.client instanceof Sessiond ? options.client : new Sessiond(options.client);
  const name = options.name || 'sessiond';
  const cookieOpts = { path: '/', httpOnly: true, sameSite: 'Lax', ...(options.cookie || {}) };
  const onFailure = { ...DEFAULT_ON_FAILURE, ...(options.onFailure || {}) };
  const rotate = options.rotate !== false;

  const setCookie = (res, token, nonce, expires) => {
    appendSetCookie(res, serializeCookie(name, `${token}.${nonce}`, { ...cookieOpts, expires: expires > 0 ? new Date(expires) : undefined }));
  };
  const clearCookie = (res) => {
    appendSetCookie(res, serializeCookie(name, '', { ...cookieOpts, expires: new Date(0) }));
  };

  /** The per-request API; state is null for a visitor. */
  const api = (req, res, state) => ({
    token: null, nonce: null, expires: null, handle: null, owner: null,
    ...(state || {}),
    /** Starts a session (SESS.NEW with these options) and sets its cookie; an old one is destroyed. */
    async start(opts = {}) {
      if (state && state.token) await sd.destroy(state.token);
      const s = await sd.newSession(opts);
      setCookie(res, s.token, s.nonce, s.expires);
      req.sessiond = api(req, res, { token: s.token, nonce: s.nonce, expires: s.expires, handle: s.handle });
      return req.sessiond;
    },
    /** Ends the session (SESS.DESTROY) and clears the cookie. */
    async end() {
      if (state && state.token) await sd.destroy(state.token);
      clearCookie(res);
      req.sessiond = api(req, res, null);
    },
    /** The session's data (SESS.GET, no touch: validation already touched it), parsed when JSON. */
    async data() {
      if (!state) return null;
      const d = await sd.get(state.token, { touch: false });
      if (d === null || d === '') return d === null ? null : undefined;
      try { return JSON.parse(d); } catch { return d; }
    },
    /** Replaces the session's data (SESS.SET). */
    async save(data) {
      if (!state) throw new Error('rotatingSession: no session to save (call req.sessiond.start first)');
      return sd.set(state.token, data);
    },
    /** The session's info (SESS.INFO), or null. */
    async info() { return state ? sd.info(state.token) : null; },
  });

  const middleware = async (req, res, next) => {
    try {
      req.sessiond = api(req, res, null);
      req.sessiondFailure = undefined;
      const raw = parseCookies(req.headers.cookie)[name];
      if (raw === undefined || raw === '') return next();
      const presented = parseValue(raw);
      // SESS.VALIDATE and SESS.INFO of the presented token go out together (one round trip):
      // within the grace the presented token still answers SESS.INFO with the session's current
      // nonce, which tells a late twin from the newest request.
      const [v, info] = presented
        ? await Promise.all([sd.validate(presented.token, presented.nonce, { rotate }), sd.info(presented.token)])
        : [{ ok: false, reason: Reasons.UNKNOWN }, null];
      if (v.ok) {
        // A late twin of an already rotated request must not move the browser back.
        if (!info || info.nonce <= v.nonce) setCookie(res, v.token, v.nonce, v.expires);
        req.sessiond = api(req, res, { token: v.token, nonce: v.nonce, expires: v.expires, handle: info ? info.handle : undefined, owner: info ? info.owner : undefined });
        return next();
      }
      req.sessiondFailure = v.reason;
      clearCookie(res);
      const action = onFailure[v.reason] || 'anonymous';
      if (typeof action === 'function') return action(req, res, next, v.reason);
      if (action === 'reject') {
        res.statusCode = 401;
        res.setHeader('Content-Type', 'application/json');
        return res.end(JSON.stringify({ error: v.reason }));
      }
      return next();
    } catch (err) {
      return next(err);
    }
  };
  return middleware;
}

module.exports = { rotatingSession, DEFAULT_ON_FAILURE, parseValue };
