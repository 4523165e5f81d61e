'use strict';
// Starts a real sessiond process for a suite: a free loopback port, a temporary data directory,
// readiness by PING, and a stop by PID. Nothing here ever uses an address other than 127.0.0.1.
//
// SESSIOND_BIN names the binary to run. Without it the harness builds one with
// `go build -o <tmp>/sessiond .` from the repository root (run.sh builds once and exports it).
// SESSIOND_BIN may also name Debian's redis-server: it takes the same `--port N --dir DIR` flags,
// which is how the suites were written before sessiond existed and how to compare the two.

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const HOST = '127.0.0.1';
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const READY_TIMEOUT_MS = 20000;
const STOP_TIMEOUT_MS = 10000;

let builtBinary = null;
const running = new Set(); // child processes still alive, killed by PID if the runner exits early

process.on('exit', () => {
  for (const child of running) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
});

/** The sessiond binary under test: $SESSIOND_BIN, or one built from the repository root. */
function serverBinary() {
  if (process.env.SESSIOND_BIN) return path.resolve(process.env.SESSIOND_BIN);
  if (builtBinary) return builtBinary;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-build-'));
  const bin = path.join(out, 'sessiond');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  builtBinary = bin;
  process.on('exit', () => fs.rmSync(out, { recursive: true, force: true }));
  return bin;
}

/** True when the binary under test is a reference redis-server rather than sessiond. */
function isRedisServer(bin = serverBinary()) {
  return /redis-server/.test(path.basename(bin));
}

/** A port that was free on 127.0.0.1 a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Sends one PING and resolves with the first reply line ('+PONG', '-NOAUTH ...'), or rejects. */
function pingOnce(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: HOST, port });
    let buf = '';
    const done = (err, line) => { sock.destroy(); err ? reject(err) : resolve(line); };
    sock.setTimeout(2000, () => done(new Error('PING timed out')));
    sock.on('error', (err) => done(err));
    sock.on('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      const i = buf.indexOf('\r\n');
      if (i >= 0) done(null, buf.slice(0, i));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a server and waits until it answers PING (+PONG, or -NOAUTH when a password is set).
 * Options: requirepass (string), args (extra `--name value` flags).
 * Resolves with { host, port, pid, dir, password, url, stop(), logTail() }.
 */
async function startServer(opts = {}) {
  const bin = serverBinary();
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(bin, port, opts);
    } catch (err) {
      lastErr = err;
      if (!err.retryable) throw err;
    }
  }
  throw lastErr;
}

async function launch(bin, port, opts) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-data-'));
  const args = ['--port', String(port), '--bind', HOST, '--dir', dir];
  if (isRedisServer(bin)) args.push('--save', '', '--appendonly', 'no');
  if (opts.requirepass) args.push('--requirepass', opts.requirepass);
  if (opts.args) args.push(...opts.args);

  const logPath = path.join(dir, 'server.log');
  const logFd = fs.openSync(logPath, 'a');
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  running.add(child);
  let exited = null;
  const exitPromise = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    running.delete(child);
    resolve(exited);
  }));
  const logTail = () => {
    try { return fs.readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n'); } catch { return ''; }
  };
  const cleanup = () => { if (!process.env.KEEP_SERVER_DIR) fs.rmSync(dir, { recursive: true, force: true }); };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastErr = null;
  for (;;) {
    if (exited) {
      cleanup();
      const log = logTail();
      const err = new Error(`${bin} ${args.join(' ')} exited (${JSON.stringify(exited)}) before answering PING\n${log}`);
      err.retryable = /address already in use|bind/i.test(log);
      throw err;
    }
    try {
      const line = await pingOnce(port);
      if (line === '+PONG' || /^-(NOAUTH|ERR.*auth)/i.test(line)) break;
      lastErr = new Error(`PING answered ${JSON.stringify(line)}`);
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      await stopChild(child, exitPromise);
      cleanup();
      throw new Error(`${bin} did not answer PING on ${HOST}:${port} within ${READY_TIMEOUT_MS} ms: ${lastErr && lastErr.message}\n${logTail()}`);
    }
    await sleep(50);
  }

  return {
    host: HOST,
    port,
    pid: child.pid,
    dir,
    bin,
    password: opts.requirepass || null,
    isRedisServer: isRedisServer(bin),
    url: `redis://${opts.requirepass ? `:${encodeURIComponent(opts.requirepass)}@` : ''}${HOST}:${port}`,
    logTail,
    async stop() {
      await stopChild(child, exitPromise);
      cleanup();
    },
  };
}

/** SIGTERM by PID, then SIGKILL by PID if the process has not exited in time. */
async function stopChild(child, exitPromise) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(child.pid, 'SIGTERM'); } catch { return; }
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(resolve, STOP_TIMEOUT_MS, 'timeout'); });
  const outcome = await Promise.race([exitPromise, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
    await exitPromise;
  }
}

module.exports = { HOST, REPO_ROOT, startServer, serverBinary, isRedisServer, freePort, sleep };
