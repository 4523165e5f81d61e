'use strict';
// SessiondStore: an express-session Store on the native session commands. express-session's own
// cookie id (the sid) is the session token (SESS.NEW ... TOKEN sid), so the server keeps only its
// SHA-256; the session object is stored as JSON in the session's data; the idle timeout follows
// the cookie's maxAge on every write and touch, and an absolute timeout caps the session's life
// however active it is.

const { Sessiond } = require('./client');

let BaseStore;
try {
  // express-session is a peer: the store extends its Store (which gives regenerate, load and
  // createSession) when it is installed, as connect-redis does.
  BaseStore = require('express-session').Store;
} catch {
  BaseStore = require('node:events').EventEmitter;
}

const noop = () => {};

class SessiondStore extends BaseStore {
  /**
   * @param {object} options
   * @param {object} options.client node-redis or ioredis client, or a Sessiond
   * @param {number} [options.ttl] idle timeout in seconds when the cookie has no maxAge (default:
   *   the server's session-idle-timeout)
   * @param {number} [options.absolute] absolute timeout in seconds, from the session's creation
   *   (default: the server's session-absolute-timeout)
   * @param {string|function} [options.owner] the session field holding the owner id ('userId'
   *   reads req.session.userId), or a function (session) => owner id or undefined
   * @param {boolean} [options.disableTouch] never touch: reads send NOTOUCH and touch() does nothing
   * @param {boolean} [options.index] keep the sids of this store in a sorted set (indexKey) so that
   *   all(), ids() and clear() work; this stores session ids in clear text, as connect-redis does
   * @param {string} [options.indexKey] default 'sessiond:store:sids'
   * @param {{stringify: function, parse: function}} [options.serializer] default JSON
   */
  constructor(options = {}) {
    super(options);
    if (!options.client) throw new TypeError('SessiondStore: options.client is required');
    this.sessiond = options.client instanceof Sessiond ? options.client : new Sessiond(options.client);
    this.ttl = options.ttl;
    this.absolute = options.absolute;
    this.ownerOf = typeof options.owner === 'function' ? options.owner
      : options.owner ? (sess) => sess && sess[options.owner] : () => undefined;
    this.disableTouch = Boolean(options.disableTouch);
    this.index = Boolean(options.index);
    this.indexKey = options.indexKey || 'sessiond:store:sids';
    this.serializer = options.serializer || JSON;
  }

  /** The idle timeout in seconds for a session: its cookie's maxAge, else options.ttl. */
  idleFor(sess) {
    const maxAge = sess && sess.cookie && (sess.cookie.originalMaxAge ?? sess.cookie.maxAge);
    if (typeof maxAge === 'number' && maxAge > 0) return Math.ceil(maxAge / 1000);
    return this.ttl;
  }

  get(sid, cb = noop) {
    run(cb, async () => {
      const data = await this.sessiond.get(sid, { touch: false });
      if (data === null || data === '') return null;
      return this.serializer.parse(data);
    });
  }

  /**
   * Writes the session. A session this store has not seen is created with the sid as its token;
   * when the owner field names someone other than the session's owner (a login without
   * req.session.regenerate), the session is created anew under the same sid with that owner,
   * since an owner is fixed at creation. A session revoked while the request ran stays revoked:
   * the write is dropped.
   */
  set(sid, sess, cb = noop) {
    run(cb, async () => {
      const data = this.serializer.stringify(sess);
      const idle = this.idleFor(sess);
      const owner = this.ownerOf(sess);
      const ownerStr = owner === undefined || owner === null || owner === '' ? undefined : String(owner);
      for (let attempt = 0; attempt < 3; attempt++) {
        if (ownerStr !== undefined && !(await this.sessiond.active(sid, { owner: ownerStr }))) {
          // Not a live session of this owner: drop whatever lives under the sid, create it owned.
          await this.sessiond.destroy(sid);
        } else if (await this.sessiond.set(sid, data, { idle })) {
          return;
        }
        const created = await this.sessiond.newSession({ token: sid, data, idle, absolute: this.absolute, owner: ownerStr });
        if (created) {
          if (this.index) await this.sessiond.send(['ZADD', this.indexKey, String(Date.now()), sid]);
          return;
        }
        // The sid is taken: either another request created it meanwhile (write over it), or it
        // was revoked (a tombstone) while this request ran, and a revocation is never undone.
        if (!(await this.sessiond.active(sid))) return;
      }
      throw new Error(`SessiondStore: could not write session ${sid.slice(0, 6)}... (created concurrently)`);
    });
  }

  /** Moves the idle deadline (to now + the cookie's maxAge). */
  touch(sid, sess, cb = noop) {
    if (this.disableTouch) return void cb(null);
    run(cb, async () => {
      await this.sessiond.touch(sid, { idle: this.idleFor(sess) });
    });
  }

  destroy(sid, cb = noop) {
    run(cb, async () => {
      await this.sessiond.destroy(sid);
      if (this.index) await this.sessiond.send(['ZREM', this.indexKey, sid]);
    });
  }

  /** The number of live sessions: of this store with index, else every native session. */
  length(cb = noop) {
    run(cb, async () => {
      if (this.index) return (await this.liveIds()).length;
      return this.sessiond.count();
    });
  }

  /** The sids of the live sessions of this store (needs index). */
  ids(cb = noop) {
    run(cb, async () => this.liveIds());
  }

  /** Every live session of this store, as [{ id, ...session }] like connect-redis (needs index). */
  all(cb = noop) {
    run(cb, async () => {
      const out = [];
      for (const sid of await this.indexed()) {
        const data = await this.sessiond.get(sid, { touch: false });
        if (data === null) {
          await this.sessiond.send(['ZREM', this.indexKey, sid]);
          continue;
        }
        out.push({ id: sid, ...(data === '' ? {} : this.serializer.parse(data)) });
      }
      return out;
    });
  }

  /** Destroys every session of this store (needs index). */
  clear(cb = noop) {
    run(cb, async () => {
      for (const sid of await this.indexed()) await this.sessiond.destroy(sid);
      await this.sessiond.send(['DEL', this.indexKey]);
    });
  }

  /** Revokes every session of owner ("log out everywhere"); resolves with how many. */
  revokeOwner(owner, { except } = {}) {
    return this.sessiond.revokeOwner(String(owner), { except });
  }

  /** The owner's sessions as SessionInfo objects (handles, never sids), newest first. */
  listOwner(owner) {
    return this.sessiond.list(String(owner));
  }

  async indexed() {
    if (!this.index) {
      throw new Error('SessiondStore: all(), ids() and clear() need the index option (new SessiondStore({ client, index: true }))');
    }
    const ids = await this.sessiond.send(['ZRANGE', this.indexKey, '0', '-1']);
    return Array.from(ids || [], String);
  }

  async liveIds() {
    const live = [];
    for (const sid of await this.indexed()) {
      if (await this.sessiond.active(sid)) live.push(sid);
      else if ((await this.sessiond.ttl(sid)) === null) await this.sessiond.send(['ZREM', this.indexKey, sid]);
    }
    return live;
  }
}

/** Runs an async body and reports to an express-session style callback; also returns the promise. */
function run(cb, body) {
  const p = body();
  p.then((v) => cb(null, v), (err) => cb(err));
  return p.catch(noop);
}

module.exports = { SessiondStore };
