'use strict';
// redis-cli (Debian's redis-tools) against sessiond: scripted commands, --scan --pattern, -3
// (RESP3), AUTH with -a, and --pipe mass insertion of 100,000 commands.

const { describe, it, before, after } = require('node:test');
const { startServer } = require('../lib/harness');
const { Probe } = require('../lib/probe');
const { run, which, requireTool } = require('../lib/tools');

const cli = requireTool('redis-cli', which(process.env.REDIS_CLI, 'redis-cli'), 'apt-get install redis-tools');
const p = new Probe('redis-cli');

describe('redis-cli', { skip: cli.skip }, () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { if (server) await server.stop(); });

  const base = () => ['-h', server.host, '-p', String(server.port)];
  const label = (args, input) => `redis-cli ${args.join(' ')}${input !== undefined ? ` < ${describeInput(input)}` : ''}`;

  /**
   * Runs redis-cli; stdout must equal `expected` (a string) or satisfy it (a function of stdout,
   * described by opts.want). With opts.skipUnknown (the test context), an "unknown command"
   * reply from the server skips the test instead of failing it.
   */
  async function expectCli(args, expected, opts = {}) {
    const { input, want, skipUnknown } = opts;
    const r = await run(cli.path, [...base(), ...args], { input });
    if (skipUnknown && /unknown command/i.test(r.stdout)) {
      skipUnknown.skip(`not implemented by the server yet: ${r.stdout.trim()}`);
      return null;
    }
    const ok = typeof expected === 'function' ? expected(r.stdout, r) : r.stdout === expected;
    if (!ok || r.code !== 0) {
      p.fail(label(args, input), `exit ${r.code}, stdout ${JSON.stringify(r.stdout.slice(0, 2000))}${r.stderr ? `, stderr ${JSON.stringify(r.stderr.slice(0, 500))}` : ''}`,
        `exit 0, stdout ${typeof expected === 'function' ? want : JSON.stringify(expected)}`);
    }
    return r.stdout;
  }

  it('runs commands given as arguments', async () => {
    await expectCli(['PING'], 'PONG\n');
    await expectCli(['SET', 'greeting', 'hello world'], 'OK\n');
    await expectCli(['GET', 'greeting'], 'hello world\n');
    await expectCli(['--no-raw', 'GET', 'greeting'], '"hello world"\n');
    await expectCli(['--no-raw', 'GET', 'missing'], '(nil)\n');
    await expectCli(['--no-raw', 'INCR', 'counter'], '(integer) 1\n');
    await expectCli(['--no-raw', 'INCR', 'greeting'], '(error) ERR value is not an integer or out of range\n');
    await expectCli(['SET', 'ttl:key', 'v', 'EX', '100'], 'OK\n');
    await expectCli(['TTL', 'ttl:key'], (out) => Number(out) > 90 && Number(out) <= 100, { want: 'an integer in 91..100' });
    await expectCli(['-r', '3', 'INCR', 'repeat'], '1\n2\n3\n');
    await expectCli(['-n', '2', 'SET', 'indb2', 'x'], 'OK\n');
    await expectCli(['-n', '2', 'GET', 'indb2'], 'x\n');
    await expectCli(['--no-raw', 'GET', 'indb2'], '(nil)\n');
  });

  it('runs a script of commands from standard input', async () => {
    const script = 'SET n 10\nINCRBY n 5\nGET n\nINCR greeting\nMSET a 1 b 2\nMGET a nope b\nDEL n a b\nEXISTS n\n';
    await expectCli([], 'OK\n15\n15\nERR value is not an integer or out of range\n\nOK\n1\n\n2\n3\n0\n', { input: script });
    await expectCli(['-x', 'SET', 'blob'], 'OK\n', { input: 'line one\nline two' });
    await expectCli(['GET', 'blob'], 'line one\nline two\n');
  });

  it('--scan --pattern lists exactly the matching keys', async () => {
    const keys = Array.from({ length: 1500 }, (_, i) => `user:${i}`);
    const setCmds = keys.map((k) => `SET ${k} v\n`).join('') + Array.from({ length: 200 }, (_, i) => `SET order:${i} v\n`).join('');
    await expectCli(['-n', '4'], (out) => out.split('\n').filter((l) => l === 'OK').length === 1700, { want: '1700 x OK', input: setCmds });
    await expectCli(['-n', '4', '--scan', '--pattern', 'user:*'], (out) => {
      const got = out.trim().split('\n');
      const set = new Set(got);
      return set.size === keys.length && keys.every((k) => set.has(k));
    }, { want: 'the 1500 keys user:0 .. user:1499, each once or more, nothing else' });
    await expectCli(['-n', '4', '--scan', '--pattern', 'user:12?'], (out) => out.trim().split('\n').sort().join(' ') ===
      Array.from({ length: 10 }, (_, i) => `user:12${i}`).sort().join(' '), { want: 'user:120 .. user:129' });
    await expectCli(['-n', '4', '--scan', '--pattern', 'nothing:*'], '');
    await expectCli(['-n', '4', '--scan'], (out) => new Set(out.trim().split('\n')).size === 1700, { want: '1700 distinct keys' });
  });

  it('-3 speaks RESP3: HELLO and CONFIG GET answer maps', async () => {
    await expectCli(['-3', '--no-raw', 'HELLO', '3'], (out) => /^1# "server" => "\S+"\n/.test(out) && /\d# "proto" => \(integer\) 3\n/.test(out),
      { want: 'a map: 1# "server" => "...", ... "proto" => (integer) 3' });
    await expectCli(['-3', '--no-raw', 'CONFIG', 'GET', 'port'], `1# "port" => "${server.port}"\n`);
    await expectCli(['-3', '--no-raw', 'GET', 'missing'], '(nil)\n');
    await expectCli(['-3', '--no-raw', 'INCR', 'resp3:counter'], '(integer) 1\n');
    await expectCli(['-3', '--no-raw', 'NOSUCHCMD'], (out) => /^\(error\) ERR unknown command 'NOSUCHCMD'/.test(out), { want: "(error) ERR unknown command 'NOSUCHCMD'..." });
  });

  it('-3 speaks RESP3: a hash is a map', async (t) => {
    if (await expectCli(['-3', '--no-raw', 'HSET', 'resp3:h', 'a', '1', 'b', '2'], '(integer) 2\n', { skipUnknown: t }) === null) return;
    await expectCli(['-3', '--no-raw', 'HGETALL', 'resp3:h'], (out) => /^1# "(a|b)" => "\d"\n2# "(a|b)" => "\d"\n$/.test(out) && out.includes('"a" => "1"') && out.includes('"b" => "2"'),
      { want: 'a map: 1# "a" => "1" 2# "b" => "2" (in either order)', skipUnknown: t });
  });

  it('-3 speaks RESP3: a score is a double', async (t) => {
    if (await expectCli(['-3', '--no-raw', 'ZADD', 'resp3:z', '1.5', 'm'], '(integer) 1\n', { skipUnknown: t }) === null) return;
    await expectCli(['-3', '--no-raw', 'ZSCORE', 'resp3:z', 'm'], '(double) 1.5\n', { skipUnknown: t });
  });

  it('-3 speaks RESP3: a set is a set', async (t) => {
    if (await expectCli(['-3', '--no-raw', 'SADD', 'resp3:s', 'a'], '(integer) 1\n', { skipUnknown: t }) === null) return;
    await expectCli(['-3', '--no-raw', 'SMEMBERS', 'resp3:s'], '1~ "a"\n', { skipUnknown: t });
  });

  it('--pipe inserts 100,000 commands', async () => {
    const n = 100000;
    const parts = [];
    for (let i = 0; i < n; i++) {
      const k = `mass:${i}`;
      const v = `value-${i}`;
      parts.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
    }
    const input = Buffer.from(parts.join(''));
    await expectCli(['-n', '9', '--pipe'], (out) => /errors: 0, replies: 100000\n?$/.test(out),
      { want: "a last line 'errors: 0, replies: 100000'", input });
    await expectCli(['-n', '9', 'DBSIZE'], `${n}\n`);
    await expectCli(['-n', '9', 'MGET', 'mass:0', 'mass:54321', 'mass:99999', 'mass:100000'], 'value-0\nvalue-54321\nvalue-99999\n\n');
  });
});

describe('redis-cli with requirepass', { skip: cli.skip }, () => {
  let server;
  before(async () => { server = await startServer({ requirepass: 'cli-secret' }); });
  after(async () => { if (server) await server.stop(); });

  /** stdout (or, for a regexp, stdout and stderr) of redis-cli must match. */
  async function expectOut(args, expected, input) {
    const full = ['-h', server.host, '-p', String(server.port), ...args];
    const r = await run(cli.path, full, { input });
    const ok = expected instanceof RegExp ? expected.test(r.stderr + r.stdout) : r.stdout === expected;
    if (!ok) {
      p.fail(`redis-cli ${args.join(' ')}${input ? ` < ${describeInput(input)}` : ''}`,
        `stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`,
        expected instanceof RegExp ? `stdout or stderr matching ${expected}` : `stdout ${JSON.stringify(expected)}`);
    }
  }

  it('-a authenticates; no password is refused with NOAUTH', async () => {
    await expectOut(['-a', 'cli-secret', '--no-auth-warning', 'PING'], 'PONG\n');
    await expectOut(['-a', 'cli-secret', '--no-auth-warning', 'SET', 'k', 'v'], 'OK\n');
    await expectOut(['PING'], /^NOAUTH /);
    await expectOut(['-a', 'wrong', '--no-auth-warning', 'PING'], /^AUTH failed: (WRONGPASS|ERR invalid password)/i);
    // In a script an error reply is followed by an empty line, as redis-server's redis-cli prints it.
    await expectOut([], 'NOAUTH Authentication required.\n\nOK\nv\n', 'GET k\nAUTH cli-secret\nGET k\n');
  });
});

function describeInput(input) {
  const s = Buffer.isBuffer(input) ? `<${input.length} bytes of RESP>` : JSON.stringify(input);
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}
