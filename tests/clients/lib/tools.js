'use strict';
// External programs the suites drive (redis-cli, Debian's python3 with python3-redis).

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');

/** Runs a program; resolves with { code, signal, stdout, stderr }. Never rejects on exit status. */
function run(cmd, args, { input, timeoutMs = 120000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env || process.env });
    const out = [];
    const err = [];
    const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => { /* the program may exit before reading everything */ });
    if (input !== undefined) child.stdin.end(input); else child.stdin.end();
  });
}

/** The first of the candidates that exists as an executable, or null. */
function which(...candidates) {
  for (const c of candidates) {
    if (!c) continue;
    if (c.includes('/')) {
      try { fs.accessSync(c, fs.constants.X_OK); return c; } catch { continue; }
    }
    try {
      return execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim() || null;
    } catch { /* not found */ }
  }
  return null;
}

/**
 * A tool the suite cannot run without: when it is missing, the suite is skipped with a message,
 * or fails when CLIENT_TESTS_REQUIRE_ALL=1 (run.sh sets it after installing everything).
 */
function requireTool(what, path, install) {
  if (path) return { path, skip: false };
  const msg = `${what} not found (${install})`;
  if (process.env.CLIENT_TESTS_REQUIRE_ALL === '1') throw new Error(msg);
  return { path: null, skip: msg };
}

/**
 * A python3 that can import redis (redis-py), or null. Debian's python3-redis lives in
 * /usr/bin/python3's dist-packages, so that interpreter is preferred over whatever python3 is
 * first on PATH.
 */
function findPython() {
  for (const candidate of [process.env.PYTHON, '/usr/bin/python3', 'python3']) {
    const py = which(candidate);
    if (!py) continue;
    try {
      execFileSync(py, ['-c', 'import redis'], { stdio: 'ignore' });
      return py;
    } catch { /* no redis module for this interpreter */ }
  }
  return null;
}

module.exports = { run, which, requireTool, findPython };
