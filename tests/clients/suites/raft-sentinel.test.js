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
