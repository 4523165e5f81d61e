'use strict';
// Assertions that name the client, the command and the reply: every failure message reads
//   [client] COMMAND args
//     reply:    <what the server/client gave back>
//     expected: <what the client expected>

const assert = require('node:assert/strict');
const { inspect } = require('node:util');

const show = (v) => inspect(v, { depth: 6, breakLength: 120, maxArrayLength: 20, maxStringLength: 300 });

/** The message of a server error reply, whatever the client wrapped it in. */
function errorText(err) {
  return err && (err.message || String(err));
}

/** True when err is the server's answer to a command it does not know. */
function isUnknownCommand(err) {
  return /unknown command/i.test(errorText(err) || '');
}

class Probe {
  /** @param {string} client a label such as "ioredis5" or "connect-redis7+redis4 via express-session" */
  constructor(client) {
    this.client = client;
  }

  fail(command, reply, expected) {
    const err = new assert.AssertionError({
      message: `[${this.client}] ${command}\n  reply:    ${reply}\n  expected: ${expected}`,
      operator: 'reply',
    });
    // The message says it all; keep node's reporter from printing actual/expected again.
    delete err.actual;
    delete err.expected;
    throw err;
  }

  /** Runs fn; an exception becomes a failure that names the command and the error reply. */
  async call(command, fn) {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      const e = new assert.AssertionError({
        message: `[${this.client}] ${command}\n  reply:    error ${err && err.constructor && err.constructor.name}: ${errorText(err)}\n  expected: a successful reply`,
        operator: 'reply',
      });
      delete e.actual;
      delete e.expected;
      e.serverReply = errorText(err);
      throw e;
    }
  }

  /** The reply of fn must deep-equal expected. Returns the reply. */
  async eq(command, fn, expected) {
    const got = await this.call(command, fn);
    try {
      assert.deepStrictEqual(normalize(got), normalize(expected));
    } catch {
      this.fail(command, show(got), show(expected));
    }
    return got;
  }

  /** The reply of fn must satisfy pred; want describes it in words. Returns the reply. */
  async check(command, fn, pred, want) {
    const got = await this.call(command, fn);
    let ok = false;
    try { ok = pred(got); } catch { ok = false; }
    if (!ok) this.fail(command, show(got), want);
    return got;
  }

  /** A value already in hand must deep-equal expected. */
  same(command, got, expected) {
    try {
      assert.deepStrictEqual(normalize(got), normalize(expected));
    } catch {
      this.fail(command, show(got), show(expected));
    }
    return got;
  }

  /** A value already in hand must satisfy pred. */
  that(command, got, pred, want) {
    let ok = false;
    try { ok = pred(got); } catch { ok = false; }
    if (!ok) this.fail(command, show(got), want);
    return got;
  }

  /**
   * fn must fail with the client's own error type and a message matching `match`.
   * Returns the error.
   */
  async rejects(command, fn, { type, match }) {
    let got;
    try {
      got = await fn();
    } catch (err) {
      if (isUnknownCommand(err) && !(match && /unknown command/.test(match.source))) {
        // "unknown command" never stands in for the error expected (skipIfUnknown skips on it).
        const e = new assert.AssertionError({
          message: `[${this.client}] ${command}\n  reply:    error ${errorText(err)}\n  expected: error matching ${match}`,
          operator: 'reply',
        });
        delete e.actual;
        delete e.expected;
        e.serverReply = errorText(err);
        throw e;
      }
      const typeOk = !type || err instanceof type;
      const msgOk = !match || match.test(errorText(err));
      if (!typeOk || !msgOk) {
        this.fail(command, `error ${err && err.constructor && err.constructor.name}: ${errorText(err)}`,
          `error ${type ? type.name : 'any'} matching ${match}`);
      }
      return err;
    }
    this.fail(command, show(got), `error ${type ? type.name : ''} matching ${match}`);
  }
}

// Buffers compare by content; Maps compare as plain objects (RESP3 clients may return either).
function normalize(v) {
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), normalize(x)]));
  if (v instanceof Set) return [...v].map(normalize);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  if (v && typeof v === 'object' && v.constructor === Object) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

/**
 * Runs a test body that uses a command sessiond may not have yet. When the server answers
 * "unknown command", the test is skipped with that reply instead of failing.
 */
async function skipIfUnknown(t, body) {
  try {
    await body();
  } catch (err) {
    // The server's own reply: carried by the probe's failures, or the error itself.
    const text = err.serverReply || (err instanceof assert.AssertionError ? null : errorText(err));
    if (text && isUnknownCommand({ message: text })) {
      const first = text.split('\n')[0];
      t.skip(`not implemented by the server yet: ${first.length > 120 ? `${first.slice(0, 120)}...` : first}`);
      return;
    }
    throw err;
  }
}

module.exports = { Probe, show, isUnknownCommand, skipIfUnknown, errorText, normalize };
