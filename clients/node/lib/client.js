'use strict';
// Sessiond: one method per native command (SESS.*, TOK.*, JWT) over a connection the caller made
// and owns: node-redis 4, 5 or 6 (RESP2 or RESP3) or ioredis 5 or 6. Replies are plain objects
// with numbers as numbers, whatever protocol the connection speaks; "not valid" is null (or
// { ok: false, reason } where the server says why), never an exception. Exceptions are for
// malformed requests (the server's -ERR) and connection faults.

const r = require('./reply');

/** The failure reasons the server gives in `ok 0 reason R` replies. */
const Reasons = Object.freeze({
  UNKNOWN: 'unknown',
  EXPIRED: 'expired',
  NONCE: 'nonce',
  REPLAYED: 'replayed',
  DETACHED: 'detached',
  REVOKED: 'revoked',
  SIGNATURE: 'signature',
  CLAIMS: 'claims',
});

/** A function sending argv (strings) over the caller's connection, resolving with the raw reply. */
function senderFor(client) {
  if (!client) throw new TypeError('sessiond: a node-redis or ioredis client is required');
  if (client instanceof Sessiond) return client.send;
  // ioredis: call(name, ...args). node-redis has no call(); its sendCommand takes an argv array.
  if (typeof client.call === 'function' && typeof client.sendCommand === 'function' && client.options) {
    return (argv) => client.call(...argv);
  }
  if (typeof client.sendCommand === 'function') return (argv) => client.sendCommand(argv);
  throw new TypeError('sessiond: unsupported client (want node-redis 4-6 or ioredis 5-6)');
}

function pushOpt(argv, name, value) {
  if (value !== undefined && value !== null) argv.push(name, String(value));
}

class Sessiond {
  /**
   * @param {object} client a connected node-redis or ioredis client (or another Sessiond)
   */
  constructor(client) {
    const send = senderFor(client);
    /** Sends argv and resolves with the raw reply (for commands this class does not wrap). */
    this.send = (argv) => send(argv.map(String));
  }

  // --- sessions ---

  /**
   * SESS.NEW. Options: owner, data (string, or any value: JSON-encoded), idle and absolute
   * (seconds), prefix, detachable, token (the application's own, at least 22 characters), meta
   * (object). Resolves with { token, handle, nonce, expires, idle, absolute }, or null when the
   * application's token is already a live session.
   */
  async newSession(opts = {}) {
    const argv = ['SESS.NEW'];
    pushOpt(argv, 'OWNER', opts.owner);
    if (opts.data !== undefined) argv.push('DATA', encode(opts.data));
    pushOpt(argv, 'IDLE', opts.idle);
    pushOpt(argv, 'ABSOLUTE', opts.absolute);
    pushOpt(argv, 'PREFIX', opts.prefix);
    if (opts.detachable) argv.push('DETACHABLE');
    pushOpt(argv, 'TOKEN', opts.token);
    if (opts.meta && Object.keys(opts.meta).length) {
      argv.push('META');
      for (const [k, v] of Object.entries(opts.meta)) argv.push(k, String(v));
    }
    return r.issued(await this.send(argv));
  }

  /** SESS.GET: the data string ('' when none), or null when not valid. touch: false sends NOTOUCH. */
  async get(token, { touch } = {}) {
    const argv = ['SESS.GET', token];
    if (touch === false) argv.push('NOTOUCH');
    else if (touch === true) argv.push('TOUCH');
    return r.str(await this.send(argv));
  }

  /** SESS.INFO by token: SessionInfo or null. */
  async info(token) { return r.sessionInfo(await this.send(['SESS.INFO', token])); }

  /** SESS.INFO HANDLE: SessionInfo or null (detached sessions too). */
  async infoByHandle(handle) { return r.sessionInfo(await this.send(['SESS.INFO', 'HANDLE', handle])); }

  /** SESS.SET: replaces the data (string, or a value JSON-encoded) and touches; true when updated. */
  async set(token, data, { idle, absolute } = {}) {
    const argv = ['SESS.SET', token, encode(data)];
    pushOpt(argv, 'IDLE', idle);
    pushOpt(argv, 'ABSOLUTE', absolute);
    return r.bool(await this.send(argv));
  }

  /** SESS.TOUCH: remaining ms (-1 never expires), or null when not valid. */
  async touch(token, { idle } = {}) {
    const argv = ['SESS.TOUCH', token];
    pushOpt(argv, 'IDLE', idle);
    return r.remaining(await this.send(argv));
  }

  /** SESS.ACTIVE: true when valid (and owned by owner when given). Does not touch. */
  async active(token, { owner } = {}) {
    const argv = ['SESS.ACTIVE', token];
    pushOpt(argv, 'OWNER', owner);
    return r.bool(await this.send(argv));
  }

  /**
   * SESS.VALIDATE: { ok: true, token, nonce, expires } (a new token unless rotate: false), or
   * { ok: false, reason } with reason one of unknown, expired, nonce, replayed, detached, revoked.
   */
  async validate(token, nonce, { rotate = true } = {}) {
    const argv = ['SESS.VALIDATE', token, String(nonce)];
    if (!rotate) argv.push('NOROTATE');
    return r.validation(await this.send(argv));
  }

  /** SESS.REGENERATE: { token, nonce, expires } for the same session, or null when not valid. */
  async regenerate(token) { return r.issued(await this.send(['SESS.REGENERATE', token])); }

  /** SESS.DESTROY: true when a session was destroyed. */
  async destroy(token) { return r.bool(await this.send(['SESS.DESTROY', token])); }

  /** SESS.DESTROY HANDLE. */
  async destroyHandle(handle) { return r.bool(await this.send(['SESS.DESTROY', 'HANDLE', handle])); }

  /** SESS.TTL: remaining ms (-1 never expires), or null when not valid. */
  async ttl(token) { return r.remaining(await this.send(['SESS.TTL', token])); }

  /** SESS.EXPIRE token IDLE|ABSOLUTE seconds: kind is 'idle' or 'absolute'; true when set. */
  async expire(token, kind, seconds) {
    const k = String(kind).toUpperCase();
    if (k !== 'IDLE' && k !== 'ABSOLUTE') throw new TypeError(`sessiond: expire kind must be 'idle' or 'absolute', not ${kind}`);
    return r.bool(await this.send(['SESS.EXPIRE', token, k, String(seconds)]));
  }

  /** SESS.ALLOWDETACH. */
  async allowDetach(token) { return r.bool(await this.send(['SESS.ALLOWDETACH', token])); }

  /** SESS.DETACH. */
  async detach(token) { return r.bool(await this.send(['SESS.DETACH', token])); }

  /** SESS.ATTACH HANDLE h OWNER id: { token, nonce, expires } or null. */
  async attach(handle, owner) { return r.issued(await this.send(['SESS.ATTACH', 'HANDLE', handle, 'OWNER', owner])); }

  /** SESS.DETACHED [OWNER id]: handles. */
  async detached({ owner } = {}) {
    const argv = ['SESS.DETACHED'];
    pushOpt(argv, 'OWNER', owner);
    return r.strings(await this.send(argv));
  }

  /** SESS.LIST OWNER id: SessionInfo[], newest first. */
  async list(owner) {
    const reply = await this.send(['SESS.LIST', 'OWNER', owner]);
    return Array.from(reply || [], r.sessionInfo);
  }

  /** SESS.REVOKE OWNER id [EXCEPT token]: how many sessions were revoked. */
  async revokeOwner(owner, { except } = {}) {
    const argv = ['SESS.REVOKE', 'OWNER', owner];
    pushOpt(argv, 'EXCEPT', except);
    return r.num(await this.send(argv));
  }

  /** SESS.REVOKE HANDLE h: true when revoked. */
  async revokeHandle(handle) { return r.num(await this.send(['SESS.REVOKE', 'HANDLE', handle])) === 1; }

  /** SESS.COUNT [OWNER id]. */
  async count({ owner } = {}) {
    const argv = ['SESS.COUNT'];
    pushOpt(argv, 'OWNER', owner);
    return r.num(await this.send(argv));
  }

  // --- JWT ---

  /**
   * SESS.JWT: { ok: true, jwt, refresh, expires } or { ok: false, reason }. claims: an object or a
   * JSON string; ttl seconds; audience.
   */
  async jwt(token, { claims, ttl, audience } = {}) {
    const argv = ['SESS.JWT', token];
    if (claims !== undefined) argv.push('CLAIMS', typeof claims === 'string' ? claims : JSON.stringify(claims));
    pushOpt(argv, 'TTL', ttl);
    pushOpt(argv, 'AUDIENCE', audience);
    return r.jwtPair(await this.send(argv));
  }

  /** SESS.REFRESH: { ok: true, jwt, refresh, expires } or { ok: false, reason }. */
  async refresh(refreshToken) { return r.jwtPair(await this.send(['SESS.REFRESH', refreshToken])); }

  /** SESS.VERIFY: { ok: true, claims } (claims parsed) or { ok: false, reason }. */
  async verify(jwt, { audience } = {}) {
    const argv = ['SESS.VERIFY', jwt];
    pushOpt(argv, 'AUDIENCE', audience);
    return r.verification(await this.send(argv));
  }

  /** SESS.JWKS: the key set, parsed. */
  async jwks() { return JSON.parse(r.str(await this.send(['SESS.JWKS']))); }

  /** SESS.ROTATEKEY: the new key id. */
  async rotateKey() { return r.str(await this.send(['SESS.ROTATEKEY'])); }

  // --- transition tokens ---

  /** TOK.NEW [PREFIX p]: a fresh random token (not stored). */
  async newToken({ prefix } = {}) {
    const argv = ['TOK.NEW'];
    pushOpt(argv, 'PREFIX', prefix);
    return r.str(await this.send(argv));
  }

  /** TOK.ADD: options session (a session token), owner, transferable, ttl (s); true when added. */
  async addToken(token, value, { session, owner, transferable, ttl } = {}) {
    const argv = ['TOK.ADD', token, encode(value)];
    pushOpt(argv, 'SESSION', session);
    pushOpt(argv, 'OWNER', owner);
    if (transferable) argv.push('TRANSFERABLE');
    pushOpt(argv, 'TTL', ttl);
    return r.bool(await this.send(argv));
  }

  /** TOK.GET: the value or null. */
  async getToken(token) { return r.str(await this.send(['TOK.GET', token])); }

  /** TOK.INFO: TokenInfo or null. */
  async tokenInfo(token) { return r.tokenInfo(await this.send(['TOK.INFO', token])); }

  /** TOK.OWNER: the owner id or null. */
  async tokenOwner(token) { return r.str(await this.send(['TOK.OWNER', token])); }

  /** TOK.SESSION: the holding session's handle or null. */
  async tokenSession(token) { return r.str(await this.send(['TOK.SESSION', token])); }

  /** TOK.ACQUIRE token sesstoken. */
  async acquireToken(token, sessionToken) { return r.bool(await this.send(['TOK.ACQUIRE', token, sessionToken])); }

  /** TOK.TRANSFER token from to. */
  async transferToken(token, fromOwner, toOwner) { return r.bool(await this.send(['TOK.TRANSFER', token, fromOwner, toOwner])); }

  /** TOK.DESTROY. */
  async destroyToken(token) { return r.bool(await this.send(['TOK.DESTROY', token])); }

  /** TOK.TTL: remaining ms (-1 never), or null when the token does not exist. */
  async tokenTTL(token) { return r.remaining(await this.send(['TOK.TTL', token])); }

  /** TOK.EXPIRE token seconds. */
  async expireToken(token, seconds) { return r.bool(await this.send(['TOK.EXPIRE', token, String(seconds)])); }

  /** TOK.DISOWNTIMEOUT token seconds. */
  async disownTimeout(token, seconds) { return r.bool(await this.send(['TOK.DISOWNTIMEOUT', token, String(seconds)])); }

  /** TOK.SELLABLE token [amount]: amount a decimal string or number, kept as given. */
  async sellToken(token, amount) {
    const argv = ['TOK.SELLABLE', token];
    if (amount !== undefined && amount !== null) argv.push(String(amount));
    return r.bool(await this.send(argv));
  }

  /** TOK.UNSELLABLE. */
  async unsellToken(token) { return r.bool(await this.send(['TOK.UNSELLABLE', token])); }

  /**
   * TOK.LIST: exactly one of { session }, { owner }, { transferable } (session tokens),
   * { sellable: true }, { unassigned: true }. Resolves with the tokens, sorted.
   */
  async listTokens(which) {
    const w = which || {};
    let argv;
    if (w.session !== undefined) argv = ['TOK.LIST', 'SESSION', w.session];
    else if (w.owner !== undefined) argv = ['TOK.LIST', 'OWNER', w.owner];
    else if (w.transferable !== undefined) argv = ['TOK.LIST', 'TRANSFERABLE', w.transferable];
    else if (w.sellable) argv = ['TOK.LIST', 'SELLABLE'];
    else if (w.unassigned) argv = ['TOK.LIST', 'UNASSIGNED'];
    else throw new TypeError('sessiond: listTokens needs one of session, owner, transferable, sellable, unassigned');
    return r.strings(await this.send(argv));
  }
}

/** Data blobs: strings and Buffers go as they are, anything else as JSON. */
function encode(v) {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v;
  if (v === undefined || v === null) return '';
  return JSON.stringify(v);
}

module.exports = { Sessiond, Reasons, senderFor };
