'use strict';
// redis-py from Debian (python3-redis) against sessiond: py/redis_py_basics.py, one node test per
// Python test so the runner's summary counts them. Debian's package lives in /usr/bin/python3's
// dist-packages, so that interpreter is preferred over whatever python3 is first on PATH.

const { describe, it, before, after } = require('node:test');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { startServer } = require('../lib/harness');
const { run, requireTool, findPython } = require('../lib/tools');

const SCRIPT = path.join(__dirname, '..', 'py', 'redis_py_basics.py');
const PASSWORD = 'py-secret';

const py = requireTool('python3 with the redis module', findPython(), 'apt-get install python3-redis');
const tests = py.path ? execFileSync(py.path, [SCRIPT, '--list'], { encoding: 'utf8' }).trim().split('\n') : [];
const version = py.path ? execFileSync(py.path, ['-c', 'import redis; print(redis.__version__)'], { encoding: 'utf8' }).trim() : '';

describe(`redis-py ${version}`, { skip: py.skip }, () => {
  let server;
  let authServer;
  before(async () => {
    server = await startServer();
    authServer = await startServer({ requirepass: PASSWORD });
  });
  after(async () => {
    if (server) await server.stop();
    if (authServer) await authServer.stop();
  });

  for (const name of tests) {
    it(name, async () => {
      const env = {
        ...process.env,
        SESSIOND_HOST: server.host,
        SESSIOND_PORT: String(server.port),
        SESSIOND_AUTH_PORT: String(authServer.port),
        SESSIOND_PASSWORD: PASSWORD,
        PYTHONDONTWRITEBYTECODE: '1',
      };
      const r = await run(py.path, [SCRIPT, name], { env, timeoutMs: 120000 });
      if (r.code !== 0) {
        // unittest's report carries "[redis-py x.y] COMMAND / reply / expected".
        // Show the exception at the end of the traceback, not the whole traceback.
        const lines = r.stderr.split('\n');
        let start = -1;
        lines.forEach((l, i) => { if (/^[A-Za-z_][\w.]*(Error|Exception)\b/.test(l)) start = i; });
        const report = (start >= 0 ? lines.slice(start) : lines).filter((l) => l.trim() && !/^(Ran |-{10,}|={10,}|FAILED)/.test(l));
        throw new Error(`${name} failed (exit ${r.code}):\n${report.join('\n')}`);
      }
    });
  }
});
