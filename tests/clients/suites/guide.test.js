'use strict';
// docs/guide.md, followed as a user would: its Express app (the ```js file=app.js block) runs as a
// real process against a real sessiond, the guide's curl session (```sh needs=app.js) runs
// against it in a shell, and its migration script (```js file=migrate.js) moves connect-redis
// sessions to the native store. The packages the guide installs (express, express-session, redis,
// sessiond) are the ones installed here; `redis` is node-redis 5, the current major on Node 20.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, freePort, sleep, REPO_ROOT } = require('../lib/harness');

const GUIDE = path.join(REPO_ROOT, 'docs', 'guide.md');

/** The fenced blocks of the guide: { lang, attrs, body }, with list indentation removed. */
function blocks() {
  const out = [];
  let cur = null;
  let indent = '';
  for (const line of fs.readFileSync(GUIDE, 'utf8').split('\n')) {
    const m = /^( *)```(.*)$/.exec(line);
    if (!cur) {
      if (!m) continue;
      const [lang = '', ...rest] = m[2].trim().split(/\s+/);
      cur = { lang, attrs: Object.fromEntries(rest.map((a) => a.split('='))), lines: [] };
      indent = m[1];
      continue;
    }
    if (m && m[2] === '') {
      out.push({ ...cur, body: `${cur.lines.join('\n')}\n` });
      cur = null;
      continue;
    }
    cur.lines.push(line.startsWith(indent) ? line.slice(indent.length) : line);
  }
  return out;
}

/** A directory where require('redis'), 'express', ... resolve to the packages installed here. */
function appDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sessiond-guide-'));
  const nm = path.join(dir, 'node_modules');
  fs.mkdirSync(nm);
  const here = path.join(__dirname, '..', 'node_modules');
  for (const [name, installed] of [['express', 'express'], ['express-session', 'express-session'], ['redis', 'redis5'], ['sessiond', 'sessiond']]) {
    fs.symlinkSync(path.join(here, installed), path.join(nm, name), 'dir');
  }
  return dir;
}

describe('docs/guide.md', () => {
  let server;
  let dir;
  before(async () => {
    server = await startServer();
    dir = appDir();
  });
  after(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the Express app and its curl session work as the guide says', async () => {
    const all = blocks();
    const app = all.find((b) => b.lang === 'js' && b.attrs.file === 'app.js');
    const session = all.find((b) => b.lang === 'sh' && b.attrs.needs === 'app.js');
    assert.ok(app && session, 'the guide has an app.js block and a curl session for it');
    fs.writeFileSync(path.join(dir, 'app.js'), app.body);

    const port = await freePort();
    const child = spawn(process.execPath, ['app.js'], {
      cwd: dir,
      env: { ...process.env, PORT: String(port), SESSIOND_URL: server.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    try {
      for (let i = 0; !log.includes('listening on'); i++) {
        if (child.exitCode !== null || i > 200) assert.fail(`app.js did not start:\n${log}`);
        await sleep(50);
      }
      // The guide's commands, pointed at the port this app listens on.
      const script = session.body.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`);
      // Each command on its own, in order and sharing the cookie jar, to read each answer.
      const lines = script.trim().split('\n').map((cmd) => {
        const out = execFileSync('bash', ['-euo', 'pipefail', '-c', cmd], { cwd: dir, encoding: 'utf8' });
        return JSON.parse(out);
      });
      assert.deepEqual(lines[0], { user: 'alice' });
      assert.deepEqual(lines[1], { user: 'alice' });
      assert.equal(lines[2].length, 1);
      assert.equal(lines[2][0].owner, 'alice');
      assert.deepEqual(lines[3], { revoked: 1 });
      assert.deepEqual(lines[4], { user: null }, 'as the guide says, the last request finds no user');
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('the migration script moves connect-redis sessions under the same sid', async () => {
    const migrate = blocks().find((b) => b.lang === 'js' && b.attrs.file === 'migrate.js');
    assert.ok(migrate, 'the guide has a migrate.js block');
    fs.writeFileSync(path.join(dir, 'migrate.js'), migrate.body);
    const redis = require('redis5').createClient({ url: server.url });
    await redis.connect();
    try {
      // What connect-redis 7 writes: JSON under sess:<sid> with the cookie's maxAge as TTL.
      const sid = 'Bv0pD7b2m8h4kLx1Qz9sWc3nR5tY6uIo';
      await redis.sendCommand(['SET', `sess:${sid}`, JSON.stringify({ cookie: { originalMaxAge: 600000 }, userId: 'ann' }), 'EX', '600']);
      const out = execFileSync(process.execPath, ['migrate.js'], { cwd: dir, env: { ...process.env, SESSIOND_URL: server.url }, encoding: 'utf8' });
      assert.deepEqual(JSON.parse(out), { migrated: 1, existing: 0, skipped: [] });
      const list = await redis.sendCommand(['SESS.LIST', 'OWNER', 'ann']);
      assert.equal(list.length, 1);
      assert.equal(await redis.sendCommand(['SESS.ACTIVE', sid, 'OWNER', 'ann']), 1);
      assert.equal(await redis.sendCommand(['EXISTS', `sess:${sid}`]), 0);
    } finally {
      await redis.quit();
    }
  });
});
