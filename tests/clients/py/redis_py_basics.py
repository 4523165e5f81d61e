"""redis-py (Debian's python3-redis) against a running sessiond: the basics of issue 6.

Run by suites/redis-py.test.js, which starts the servers and passes them in the environment:
SESSIOND_HOST, SESSIOND_PORT (no password), SESSIOND_AUTH_PORT and SESSIOND_PASSWORD (requirepass).

    python3 redis_py_basics.py --list          the test names, one a line
    python3 redis_py_basics.py Basics.test_x   one test (any unittest arguments)

A failure reads:  [redis-py 4.3.4] COMMAND / reply: ... / expected: ...
"""

import os
import re
import sys
import time
import unittest

import redis

HOST = os.environ.get("SESSIOND_HOST", "127.0.0.1")
PORT = int(os.environ.get("SESSIOND_PORT", "6379"))
AUTH_PORT = int(os.environ.get("SESSIOND_AUTH_PORT", "0"))
PASSWORD = os.environ.get("SESSIOND_PASSWORD", "")
CLIENT = "redis-py %s" % redis.__version__


def fail(command, reply, expected):
    raise AssertionError("[%s] %s\n  reply:    %s\n  expected: %s" % (CLIENT, command, reply, expected))


def call(command, fn):
    try:
        return fn()
    except AssertionError:
        raise
    except Exception as e:  # the error reply, shown as the client raised it
        fail(command, "error %s: %s" % (type(e).__name__, e), "a successful reply")


def expect(command, fn, expected):
    got = call(command, fn)
    if got != expected:
        fail(command, repr(got), repr(expected))
    return got


def expect_that(command, fn, pred, want):
    got = call(command, fn)
    if not pred(got):
        fail(command, repr(got), want)
    return got


def expect_error(command, fn, exc_type, pattern):
    try:
        got = fn()
    except Exception as e:
        if not isinstance(e, exc_type) or not re.search(pattern, str(e)):
            fail(command, "error %s: %s" % (type(e).__name__, e), "error %s matching /%s/" % (type_names(exc_type), pattern))
        return e
    fail(command, repr(got), "error %s matching /%s/" % (type_names(exc_type), pattern))


def type_names(t):
    return " or ".join(x.__name__ for x in t) if isinstance(t, tuple) else t.__name__


def connect(port=PORT, **kw):
    kw.setdefault("decode_responses", True)
    return redis.Redis(host=HOST, port=port, socket_timeout=10, **kw)


class Basics(unittest.TestCase):
    def setUp(self):
        self.r = connect()

    def tearDown(self):
        self.r.close()

    def test_connect_and_handshake(self):
        r = self.r
        expect("PING", r.ping, True)
        expect("ECHO 'héllo wörld'", lambda: r.echo("héllo wörld"), "héllo wörld")
        hello = call("HELLO", lambda: r.execute_command("HELLO"))
        hello = dict(zip(hello[::2], hello[1::2])) if isinstance(hello, list) else hello
        if int(hello.get("proto", 0)) != 2:
            fail("HELLO", repr(hello), "a reply with proto 2")
        named = connect(client_name="redis-py-conn", db=3)
        try:
            expect("CLIENT GETNAME (client_name=redis-py-conn)", named.client_getname, "redis-py-conn")
            expect("SET dbkey in-db-3 (db 3)", lambda: named.set("dbkey", "in-db-3"), True)
            expect("GET dbkey (db 0)", lambda: r.get("dbkey"), None)
            expect("GET dbkey (db 3)", lambda: named.get("dbkey"), "in-db-3")
        finally:
            named.close()

    def test_set_get_ex_px(self):
        r = self.r
        expect("SET ex:k v EX 100", lambda: r.set("ex:k", "v", ex=100), True)
        expect("GET ex:k", lambda: r.get("ex:k"), "v")
        expect_that("TTL ex:k", lambda: r.ttl("ex:k"), lambda t: 90 < t <= 100, "an integer in 91..100")
        expect("SET px:k v PX 5000", lambda: r.set("px:k", "v", px=5000), True)
        expect_that("PTTL px:k", lambda: r.pttl("px:k"), lambda t: 3000 < t <= 5000, "an integer in 3001..5000")
        expect("SET px:short v PX 150", lambda: r.set("px:short", "v", px=150), True)
        time.sleep(0.4)
        expect("GET px:short (after 400 ms)", lambda: r.get("px:short"), None)
        expect("SETEX sx 100 v", lambda: r.setex("sx", 100, "v"), True)
        expect_that("TTL sx", lambda: r.ttl("sx"), lambda t: 90 < t <= 100, "an integer in 91..100")
        expect("SET nx:k v NX", lambda: r.set("nx:k", "v", nx=True), True)
        expect("SET nx:k v2 NX (exists)", lambda: r.set("nx:k", "v2", nx=True), None)
        expect("GET nx:k", lambda: r.get("nx:k"), "v")
        expect_error("SET bad v EX 0", lambda: r.set("bad", "v", ex=0), redis.exceptions.ResponseError,
                     r"^invalid expire time in 'set' command")

    def test_mget_nulls(self):
        r = self.r
        expect("MSET m:1 one m:3 three m:4 ''", lambda: r.mset({"m:1": "one", "m:3": "three", "m:4": ""}), True)
        expect("MGET m:1 m:2 m:3 m:4 m:5", lambda: r.mget(["m:1", "m:2", "m:3", "m:4", "m:5"]),
               ["one", None, "three", "", None])

    def test_del_1000_keys(self):
        r = self.r
        keys = ["del:%d" % i for i in range(1000)]
        expect("MSET del:0 .. del:999", lambda: r.mset({k: "v" for k in keys}), True)
        expect("EXISTS del:0 .. del:999", lambda: r.exists(*keys), 1000)
        expect("DEL del:0 .. del:999 del:missing", lambda: r.delete(*keys, "del:missing"), 1000)
        expect("EXISTS del:0 .. del:999 (after DEL)", lambda: r.exists(*keys), 0)

    def test_scan_to_the_end(self):
        r = self.r
        want = {"scan:%d" % i for i in range(2500)}
        pipe = r.pipeline(transaction=False)
        for k in want:
            pipe.set(k, "x")
        for i in range(300):
            pipe.set("other:%d" % i, "x")
        pipe.execute()
        got = call("SCAN 0 MATCH scan:* COUNT 100 ... until cursor 0", lambda: list(r.scan_iter(match="scan:*", count=100)))
        if set(got) != want:
            fail("SCAN 0 MATCH scan:* COUNT 100 ... until cursor 0",
                 "%d distinct keys, %d missing, %d not matching" % (len(set(got)), len(want - set(got)), len(set(got) - want)),
                 "exactly the 2500 scan:* keys")
        # The raw cursor loop, as written by hand.
        cursor, seen, rounds = 0, set(), 0
        while True:
            cursor, keys = call("SCAN %s MATCH scan:* COUNT 100" % cursor, lambda: r.scan(cursor, match="scan:*", count=100))
            seen.update(keys)
            rounds += 1
            if cursor == 0:
                break
            if rounds > 10000:
                fail("SCAN ... MATCH scan:* COUNT 100", "no cursor 0 after 10000 calls", "cursor 0 at the end")
        if seen != want:
            fail("SCAN <cursor> MATCH scan:* COUNT 100 (loop)", "%d distinct keys" % len(seen), "the 2500 scan:* keys")

    def test_pipelines_of_1000_commands(self):
        r = self.r
        pipe = r.pipeline(transaction=False)
        for i in range(1000):
            pipe.set("pipe:%d" % i, "value-%d" % i)
        expect("pipeline: SET pipe:0 value-0 ... SET pipe:999 value-999", pipe.execute, [True] * 1000)
        pipe = r.pipeline(transaction=False)
        expected = []
        for i in range(500):
            pipe.incr("pipe:counter")
            pipe.get("pipe:%d" % (i * 2))
            expected += [i + 1, "value-%d" % (i * 2)]
        expect("pipeline: INCR pipe:counter / GET pipe:<2i> x 500", pipe.execute, expected)
        # redis-py's default pipeline is a transaction: MULTI, the commands, EXEC.
        tx = r.pipeline()
        for i in range(1000):
            tx.incr("tx:counter")
        expect("MULTI / INCR tx:counter x 1000 / EXEC", tx.execute, list(range(1, 1001)))

    def test_error_replies(self):
        r = self.r
        r.set("err:text", "abc")
        expect_error("INCR err:text", lambda: r.incr("err:text"), redis.exceptions.ResponseError,
                     r"^value is not an integer or out of range")
        expect_error("NOSUCHCMD a b", lambda: r.execute_command("NOSUCHCMD", "a", "b"), redis.exceptions.ResponseError,
                     r"^unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b'")
        expect_error("GET (no key)", lambda: r.execute_command("GET"), redis.exceptions.ResponseError,
                     r"^wrong number of arguments for 'get' command")
        expect("PING (after the errors)", r.ping, True)
        pipe = r.pipeline(transaction=False)
        pipe.set("err:n", 1).incr("err:text").incr("err:n").execute_command("NOSUCHCMD").get("err:n")
        got = call("pipeline: SET err:n 1 / INCR err:text / INCR err:n / NOSUCHCMD / GET err:n",
                   lambda: pipe.execute(raise_on_error=False))
        ok = (got[0] is True and isinstance(got[1], redis.exceptions.ResponseError) and got[2] == 2
              and isinstance(got[3], redis.exceptions.ResponseError) and got[4] == "2")
        if not ok:
            fail("pipeline: SET err:n 1 / INCR err:text / INCR err:n / NOSUCHCMD / GET err:n", repr(got),
                 "[True, ResponseError(value is not an integer...), 2, ResponseError(unknown command...), '2']")


@unittest.skipUnless(AUTH_PORT, "no requirepass server given (SESSIOND_AUTH_PORT)")
class Auth(unittest.TestCase):
    def test_password(self):
        r = connect(AUTH_PORT, password=PASSWORD)
        try:
            expect("PING (password=...)", r.ping, True)
            expect("SET auth:k v", lambda: r.set("auth:k", "v"), True)
        finally:
            r.close()

    def test_wrong_password(self):
        r = connect(AUTH_PORT, password="wrong")
        try:
            # redis-py 4.3 raises AuthenticationError for "ERR invalid password", ResponseError for WRONGPASS.
            expect_error("AUTH wrong; PING", r.ping, (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError),
                         r"WRONGPASS|invalid password|invalid username-password")
        finally:
            r.close()

    def test_no_password(self):
        r = connect(AUTH_PORT)
        try:
            expect_error("GET auth:k (no AUTH)", lambda: r.get("auth:k"), redis.exceptions.AuthenticationError,
                         r"Authentication required")
            expect("AUTH <password>", lambda: r.execute_command("AUTH", PASSWORD), True)
            expect("SET auth:k2 v2 (after AUTH)", lambda: r.set("auth:k2", "v2"), True)
            expect("GET auth:k2 (after AUTH)", lambda: r.get("auth:k2"), "v2")
        finally:
            r.close()


class ACLUser(unittest.TestCase):
    def test_username_and_password(self):
        admin = connect()
        try:
            expect("ACL SETUSER app on >py-app ~app:* +@all -@dangerous",
                   lambda: admin.acl_setuser("app", enabled=True, passwords=["+py-app"], keys=["app:*"],
                                             commands=["+@all", "-@dangerous"]), True)
        finally:
            admin.close()
        r = connect(username="app", password="py-app")
        try:
            expect("ACL WHOAMI (username=app)", r.acl_whoami, "app")
            expect("SET app:k v", lambda: r.set("app:k", "v"), True)
            expect_error("SET other v", lambda: r.set("other", "v"), redis.exceptions.NoPermissionError,
                         r"^this user has no permissions to access one of the keys")
            expect_error("FLUSHALL", r.flushall, redis.exceptions.NoPermissionError, r"'flushall'")
        finally:
            r.close()
        bad = connect(username="app", password="wrong")
        try:
            expect_error("connect as app with a wrong password", bad.ping,
                         (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError), r"WRONGPASS|invalid username-password")
        finally:
            bad.close()


def names():
    loader = unittest.TestLoader()
    for case in (Basics, Auth, ACLUser):
        for name in loader.getTestCaseNames(case):
            yield "%s.%s" % (case.__name__, name)


if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(names()))
        sys.exit(0)
    unittest.main(verbosity=2)
