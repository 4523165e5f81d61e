'use strict';
// The sessiond package's TypeScript declarations (clients/node/index.d.ts, installed from the npm
// pack tarball) type-check an Express app that uses every export, under tsc --strict, with the
// @types packages an Express + express-session app has.

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

it('index.d.ts types an Express app under tsc --strict', () => {
  const tsc = path.join(__dirname, '..', 'node_modules', 'typescript', 'bin', 'tsc');
  const file = path.join(__dirname, '..', 'types', 'sessiond-usage.ts');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--esModuleInterop', '--module', 'commonjs', '--target', 'es2020', file], { encoding: 'utf8' });
  } catch (err) {
    assert.fail(`tsc:\n${err.stdout}${err.stderr}`);
  }
});
