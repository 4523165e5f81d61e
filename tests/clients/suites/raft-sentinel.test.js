'use strict';
// A replicated group of three sessiond processes (issue 14) found and followed by ioredis through
// its Sentinel support (`sentinels:`): every node answers SENTINEL get-master-addr-by-name, and
// after the leader is killed with SIGKILL the client finds the new leader and goes on writing.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { startServer, freePort, isRedisServer, sleep } = require('../lib/harness');
const { run, requireTool, findPython } = require('../lib/tools');

async function startGroup() {
  const raftPorts = [await freePort(), await freePort(), await freePort()];
  const peers = raftPorts.map((p, i) => `n${i + 1}=127.0.0.1:${p}`).join(',');
  const nodes = [];
  for (let i = 0; i < 3; i++) {
    nodes.push(await startServer({ args: ['--raft-node-id', `n${i + 1}`, '--raft-bind', `127.0.0.1:${raftPorts[i]}`, '--raft-peers', peers] }));
  }
  return nodes;
}

// The node whose ROLE says master, waiting (bounded) for an election.
async function leaderOf(Redis, nodes, skip) {
  for (let tries = 0; tries < 200; tries++) {
    for (const n of nodes) {
      if (n === skip) continue;
      const c = new Redis({ host: n.host, port: n.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await c.connect();
        const role = await c.call('ROLE');
        if (role[0] === 'master') return n;
      } catch { /* down or electing */ } finally { c.disconnect(); }
    }
    await sleep(50);
  }
  throw new Error('no leader');
}

for (const pkg of ['ioredis5', 'ioredis6']) {
  test(`${pkg}: sentinels finds the leader and follows it across kill -9`, { skip: isRedisServer() && 'sessiond only' }, async () => {
    const Redis = require(pkg);
    const nodes = await startGroup();
    const client = new Redis({
      sentinels: nodes.map((n) => ({ host: n.host, port: n.port })),
      name: 'sessiond',
      sentinelRetryStrategy: () => 50,
      retryStrategy: () => 50,
      maxRetriesPerRequest: 50,
    });
    client.on('error', () => {}); // refused connections while the group elects are expected
    try {
      const leader = await leaderOf(Redis, nodes);
      assert.equal(await client.set('before', '1'), 'OK');
      const tok = await client.call('SESS.NEW', 'OWNER', 'alice');
      assert.ok(tok);
      process.kill(leader.pid, 'SIGKILL');
      const next = await leaderOf(Redis, nodes, leader);
      assert.notEqual(next.port, leader.port);
      let ok = false;
      for (let i = 0; i < 200 && !ok; i++) {
        try {
          ok = (await client.set('after', '2')) === 'OK';
        } catch { await sleep(50); }
      }
      assert.ok(ok, 'no write accepted after the kill');
      assert.equal(await client.get('before'), '1');
      assert.equal(await client.get('after'), '2');
      // The client is connected to the new leader (not forwarded through a follower).
      const role = await client.call('ROLE');
      assert.equal(role[0], 'master');
    } finally {
      client.disconnect();
      for (const n of nodes) await n.stop().catch(() => {});
    }
  });
}

// redis-py's Sentinel (master_for / slave_for) across kill -9: py/redis_py_sentinel.py drives it
// and kills the leader by its PID (one of this test's children).
const py = requireTool('python3 with the redis module', findPython(), 'apt-get install python3-redis');
test('redis-py: Sentinel master_for/slave_for find the leader and follow it across kill -9',
  { skip: (isRedisServer() && 'sessiond only') || py.skip }, async (t) => {
    const nodes = await startGroup();
    try {
      const env = {
        ...process.env,
        SESSIOND_NODES: nodes.map((n) => `${n.host}:${n.port}:${n.pid}`).join(','),
        PYTHONDONTWRITEBYTECODE: '1',
      };
      const r = await run(py.path, [path.join(__dirname, '..', 'py', 'redis_py_sentinel.py')], { env, timeoutMs: 120000 });
      assert.equal(r.code, 0, `redis_py_sentinel.py failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
      t.diagnostic(r.stdout.trim());
    } finally {
      for (const n of nodes) await n.stop().catch(() => {});
    }
  });

// node-redis (5 and 6) createSentinel. It re-reads SENTINEL MASTER/REPLICAS/SENTINELS when its
// sentinel connection hears +sdown, +odown, +slave or +slave-reconf-done (which every node
// publishes when leadership moves, as Sentinel does), when that connection fails, or when a
// command finds its master connection down.
//
// One limit is node-redis' own (@redis/client dist/lib/sentinel/index.js): right after a kill -9 a
// surviving node may still name the dead leader (it has not missed a heartbeat yet; a real Sentinel
// names a dead master for down-after-milliseconds). transform() then opens a master client to it
// and awaits its connect(), which under the default reconnectStrategy retries for ever
// (client/socket.js #connect), so #connectPromise never settles and every command waits on it.
// A command in flight at the kill re-reads the topology at once, so it hangs in node-redis' default
// configuration; so does a re-read that an event or the loss of the sentinel connection starts
// within that window. A reconnectStrategy that gives up (returns an Error) makes transform() throw
// instead, and #connect() re-reads the topology a second later: that is what the test below uses.
// (node-redis also subscribes to `switch-master` without the `+`, which Sentinel never publishes.)
for (const pkg of ['redis5', 'redis6']) {
  const connectSentinel = async (nodes, nodeClientOptions) => {
    const { createSentinel } = require(pkg);
    const s = createSentinel({ name: 'sessiond', sentinelRootNodes: nodes.map((n) => ({ host: n.host, port: n.port })), nodeClientOptions });
    s.on('error', () => {}); // refused connections while the group elects are expected
    await s.connect();
    return s;
  };
  // Every await on node-redis is bounded: a hang is a failure that says where it hung.
  const bounded = (promise, what, ms = 10000) => Promise.race([promise,
    sleep(ms).then(() => { throw new Error(`node-redis: ${what} neither returned nor failed within ${ms} ms`); })]);
  const waitMaster = async (s, node) => {
    for (let i = 0; i < 300; i++) {
      const m = s.getMasterNode();
      if (m && m.port === node.port) return;
      await sleep(50);
    }
    throw new Error(`node-redis did not move to ${node.port} (master: ${JSON.stringify(s.getMasterNode())})`);
  };

  test(`${pkg}: createSentinel (default options) follows RAFT TRANSFER while idle`,
    { skip: isRedisServer() && 'sessiond only' }, async () => {
      const Redis = require('ioredis5');
      const nodes = await startGroup();
      let s;
      try {
        await leaderOf(Redis, nodes);
        s = await bounded(connectSentinel(nodes), 'connect');
        assert.equal(await bounded(s.set('nr:before', '1'), 'SET'), 'OK');
        const leader = nodes.find((n) => n.port === s.getMasterNode().port);
        const admin = new Redis({ host: leader.host, port: leader.port });
        try { assert.equal(await admin.call('RAFT', 'TRANSFER'), 'OK'); } finally { admin.disconnect(); }
        const next = await leaderOf(Redis, nodes, leader);
        // No command is sent: the events every node publishes (+sdown... +slave) move the client.
        await waitMaster(s, next);
        assert.equal(await bounded(s.set('nr:after', '2'), 'SET after the transfer'), 'OK');
        assert.equal(await bounded(s.get('nr:before'), 'GET after the transfer'), '1');
        assert.equal((await bounded(s.sendCommand(false, ['ROLE']), 'ROLE'))[0], 'master');
      } finally {
        if (s) await bounded(s.destroy(), 'destroy').catch(() => {});
        for (const n of nodes) await n.stop().catch(() => {});
      }
    });

  test(`${pkg}: createSentinel (reconnectStrategy that gives up) follows a kill -9 under writes, none lost`,
    { skip: isRedisServer() && 'sessiond only' }, async () => {
      const Redis = require('ioredis5');
      const nodes = await startGroup();
      let s;
      try {
        await leaderOf(Redis, nodes);
        s = await bounded(connectSentinel(nodes, { socket: { reconnectStrategy: (retries) => (retries >= 2 ? new Error('gave up') : 50) } }), 'connect');
        const leader = nodes.find((n) => n.port === s.getMasterNode().port);
        const acked = [];
        for (let i = 0; i < 50; i++) {
          if ((await bounded(s.set(`nr:k${i}`, String(i)), 'SET')) === 'OK') acked.push(`nr:k${i}`);
        }
        process.kill(leader.pid, 'SIGKILL');
        // Keep writing at once, as an application would: each write either fails or is acknowledged.
        let after = 0;
        for (let i = 50; i < 5000 && after < 20; i++) {
          try {
            const r = await bounded(s.set(`nr:k${i}`, String(i)), 'a SET after the kill');
            if (r === 'OK') { acked.push(`nr:k${i}`); after++; }
          } catch (e) {
            if (/neither returned/.test(e.message)) throw e;
            await sleep(50);
          }
        }
        assert.equal(after, 20, 'writes did not resume after the kill');
        const next = await leaderOf(Redis, nodes, leader);
        assert.equal(s.getMasterNode().port, next.port);
        const values = await bounded(s.mGet(acked), 'MGET');
        assert.deepEqual(acked.filter((k, i) => values[i] === null), [], 'acknowledged writes lost');
      } finally {
        if (s) await bounded(s.destroy(), 'destroy').catch(() => {});
        for (const n of nodes) await n.stop().catch(() => {});
      }
    });
}
