'use strict';
// Reply normalisation. node-redis 4 and 5 in RESP2, ioredis 5 and 6 (which flattens RESP3 maps)
// return a structured reply as a flat [field, value, ...] array; node-redis 5 and 6 in RESP3 return
// an object (with or without a prototype) or, with a Map type mapping, a Map. Every structured
// reply goes through toObject, so callers see one shape whatever the protocol.

/** A map reply as a plain object; null stays null. */
function toObject(reply) {
  if (reply === null || reply === undefined) return null;
  if (reply instanceof Map) {
    const o = {};
    for (const [k, v] of reply) o[String(k)] = v;
    return o;
  }
  if (Array.isArray(reply)) {
    const o = {};
    for (let i = 0; i + 1 < reply.length; i += 2) o[String(reply[i])] = reply[i + 1];
    return o;
  }
  if (typeof reply === 'object' && !Buffer.isBuffer(reply)) return { ...reply };
  throw new TypeError(`sessiond: expected a map reply, got ${typeof reply}`);
}

/** A reply that is a string, or null; Buffers become UTF-8 strings. */
function str(v) {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
}

/** An integer reply as a number (RESP3 clients may hand out bigint or string forms). */
function num(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v === null || v === undefined) return null;
  const n = Number(str(v));
  if (Number.isNaN(n)) throw new TypeError(`sessiond: expected an integer reply, got ${JSON.stringify(v)}`);
  return n;
}

const bool = (v) => num(v) === 1;

/** An array reply of strings. */
function strings(v) {
  if (v === null || v === undefined) return [];
  return Array.from(v, str);
}

/** SESS.INFO fields as a SessionInfo. */
function sessionInfo(reply) {
  const o = toObject(reply);
  if (o === null) return null;
  const meta = toObject(o.meta === undefined ? [] : o.meta);
  for (const k of Object.keys(meta)) meta[k] = str(meta[k]);
  return {
    handle: str(o.handle),
    owner: str(o.owner),
    nonce: num(o.nonce),
    created: num(o.created),
    lastSeen: num(o.last_seen),
    expires: num(o.expires),
    idle: num(o.idle),
    absolute: num(o.absolute),
    detachable: bool(o.detachable),
    detached: bool(o.detached),
    tokens: num(o.tokens),
    meta,
  };
}

/** SESS.NEW, SESS.REGENERATE, SESS.ATTACH: a new token with its nonce and deadline. */
function issued(reply) {
  const o = toObject(reply);
  if (o === null) return null;
  const out = { token: str(o.token), nonce: num(o.nonce), expires: num(o.expires) };
  if (o.handle !== undefined) out.handle = str(o.handle);
  if (o.idle !== undefined) out.idle = num(o.idle);
  if (o.absolute !== undefined) out.absolute = num(o.absolute);
  return out;
}

/** A failure map (ok 0 reason R) as { ok: false, reason }, or null when the reply is a success. */
function failure(o) {
  if (o.ok !== undefined && !bool(o.ok)) return { ok: false, reason: str(o.reason) };
  return null;
}

/** SESS.VALIDATE. */
function validation(reply) {
  const o = toObject(reply);
  return failure(o) || { ok: true, token: str(o.token), nonce: num(o.nonce), expires: num(o.expires) };
}

/** SESS.JWT and SESS.REFRESH. */
function jwtPair(reply) {
  const o = toObject(reply);
  return failure(o) || { ok: true, jwt: str(o.jwt), refresh: str(o.refresh), expires: num(o.expires) };
}

/** SESS.VERIFY: claims parsed from their JSON. */
function verification(reply) {
  const o = toObject(reply);
  return failure(o) || { ok: true, claims: JSON.parse(str(o.claims)) };
}

/** TOK.INFO. */
function tokenInfo(reply) {
  const o = toObject(reply);
  if (o === null) return null;
  const orNull = (v) => (str(v) ? str(v) : null);
  return {
    owner: orNull(o.owner),
    session: orNull(o.session),
    transferable: bool(o.transferable),
    sellable: bool(o.sellable),
    price: orNull(o.price),
    expires: num(o.expires),
    unassigned: bool(o.unassigned),
    timeout: num(o.timeout),
    disownTimeout: num(o.disown_timeout),
  };
}

/** A remaining-time reply: ms, -1 for never; null when not valid (-2). */
function remaining(v) {
  const n = num(v);
  return n === -2 ? null : n;
}

module.exports = { toObject, str, num, bool, strings, sessionInfo, issued, validation, jwtPair, verification, tokenInfo, remaining };
