'use strict';
// Helpers for the native SESS.* commands over node-redis sendCommand: node-redis 5 on RESP2
// (structured replies are flat field/value arrays) and node-redis 6 on RESP3 (maps).

const { startServer } = require('./harness');
const { Probe } = require('./probe');

const protocols = [
  { pkg: 'redis5', resp: 2 },
  { pkg: 'redis6', resp: 3 },
];

/** A structured reply as a plain object with its fields in wire order. */
function toMap(reply) {
  if (reply instanceof Map) return Object.fromEntries([...reply].map(([k, v]) => [String(k), v]));
  if (Array.isArray(reply)) {
    const o = {};
    for (let i = 0; i + 1 < reply.length; i += 2) o[String(reply[i])] = reply[i + 1];
    return o;
  }
  return reply;
}

/** Starts a server and a node-redis client of the given protocol; resolves with { server, c, cmd, close }. */
async function nativeClient({ pkg, resp }) {
  const server = await startServer();
  const redis = require(pkg);
  const c = redis.createClient({ socket: { host: server.host, port: server.port, reconnectStrategy: false }, RESP: resp });
  c.on('error', () => {});
  await c.connect();
  const p = new Probe(`${pkg} (RESP${resp}) sendCommand`);
  return {
    server,
    c,
    p,
    ErrorReply: redis.ErrorReply,
    /** Sends argv; the failure of fn names the command. */
    send: (argv) => c.sendCommand(argv.map(String)),
    async close() {
      try { await (c.close ? c.close() : c.quit()); } catch { /* closed */ }
      await server.stop();
    },
  };
}

const show = (argv) => argv.map((a) => (String(a).length > 60 ? `${String(a).slice(0, 24)}...${String(a).slice(-8)}` : String(a))).join(' ');

module.exports = { protocols, toMap, nativeClient, show };
