'use strict';
// Moving from connect-redis over plain keys to SessiondStore without logging anyone out:
// connect-redis keeps each session as a plain key "<prefix><sid>" holding JSON with a TTL;
// SessiondStore uses the sid itself as the native session's token. Copying every such key into
// SESS.NEW ... TOKEN <sid> keeps every browser's cookie valid across the switch.

const { Sessiond } = require('./client');
const { str, num } = require('./reply');

/**
 * Copies connect-redis sessions into native sessions with the same sid.
 * @param {object} options
 * @param {object} options.client node-redis or ioredis client, or a Sessiond
 * @param {string} [options.prefix] connect-redis' key prefix, default 'sess:'
 * @param {string|function} [options.owner] the session field holding the owner id, as SessiondStore's
 * @param {number} [options.absolute] absolute timeout (seconds) of the migrated sessions
 * @param {boolean} [options.deleteOld] delete each plain key once its native session exists
 * @param {number} [options.batch] SCAN COUNT, default 100
 * @returns {Promise<{migrated: number, existing: number, skipped: string[]}>} skipped: keys that
 *   could not be migrated (sid shorter than 22 characters, or not JSON when an owner is asked for)
 */
async function migrateFromConnectRedis(options = {}) {
  if (!options.client) throw new TypeError('migrateFromConnectRedis: options.client is required');
  const sd = options.client instanceof Sessiond ? options.client : new Sessiond(options.client);
  const prefix = options.prefix === undefined ? 'sess:' : options.prefix;
  const ownerOf = typeof options.owner === 'function' ? options.owner
    : options.owner ? (sess) => sess && sess[options.owner] : () => undefined;
  const out = { migrated: 0, existing: 0, skipped: [] };
  let cursor = '0';
  do {
    const reply = await sd.send(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', String(options.batch || 100)]);
    cursor = str(reply[0]);
    for (const key of Array.from(reply[1] || [], str)) {
      const sid = key.slice(prefix.length);
      const [data, pttl] = await Promise.all([sd.send(['GET', key]), sd.send(['PTTL', key])]);
      if (data === null) continue; // expired meanwhile
      let sess;
      try { sess = JSON.parse(str(data)); } catch { sess = undefined; }
      if (sid.length < 22 || (options.owner && sess === undefined)) {
        out.skipped.push(key);
        continue;
      }
      const ms = num(pttl);
      const owner = ownerOf(sess);
      const created = await sd.newSession({
        token: sid,
        data: str(data),
        // the key's remaining TTL becomes the idle timeout: the session ends when it would have
        idle: ms > 0 ? Math.ceil(ms / 1000) : undefined,
        absolute: options.absolute,
        owner: owner === undefined || owner === null || owner === '' ? undefined : String(owner),
      });
      if (created) out.migrated++;
      else out.existing++;
      if (options.deleteOld) await sd.send(['DEL', key]);
    }
  } while (cursor !== '0');
  return out;
}

module.exports = { migrateFromConnectRedis };
