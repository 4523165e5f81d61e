"""redis-py's Sentinel support against a replicated sessiond group (issue 14).

Run by suites/raft-sentinel.test.js, which starts three nodes and passes them in SESSIOND_NODES as
host:port:pid,... (the PIDs are the test's own children). Every node answers the SENTINEL commands
redis-py asks (SENTINEL MASTERS, SENTINEL SLAVES), so the nodes themselves are the sentinel list:

  1. discover_master names the node whose ROLE says master, master_for writes to it and slave_for
     reads from a follower;
  2. a writer thread writes through master_for without a pause while the leader is killed with
     SIGKILL; redis-py re-discovers the master and the writes go on, on the new leader;
  3. every write that was acknowledged, before or after the kill, is readable afterwards.
"""

import os
import signal
import sys
import threading
import time

import redis
from redis.sentinel import Sentinel

GROUP = "sessiond"


def nodes():
    out = []
    for item in os.environ["SESSIOND_NODES"].split(","):
        host, port, pid = item.rsplit(":", 2)
        out.append((host, int(port), int(pid)))
    return out


def role_of(host, port):
    c = redis.Redis(host=host, port=port, socket_timeout=1, socket_connect_timeout=1)
    try:
        return c.execute_command("ROLE")[0]
    except redis.RedisError:
        return None
    finally:
        c.close()


def wait_leader(all_nodes, skip=None, timeout=20):
    """The (host, port, pid) of the node whose ROLE says master, waiting for an election."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for n in all_nodes:
            if n == skip:
                continue
            r = role_of(n[0], n[1])
            if r in (b"master", "master"):
                return n
        time.sleep(0.05)
    raise AssertionError("no leader within %ds" % timeout)


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    all_nodes = nodes()
    leader = wait_leader(all_nodes)
    sentinel = Sentinel([(h, p) for h, p, _ in all_nodes], socket_timeout=1, socket_connect_timeout=1,
                        sentinel_kwargs={"socket_timeout": 1, "socket_connect_timeout": 1})
    found = sentinel.discover_master(GROUP)
    if (found[0], int(found[1])) != (leader[0], leader[1]):
        fail("discover_master says %r, ROLE says the leader is %s:%d" % (found, leader[0], leader[1]))
    # A node's RESP address reaches the others through the log just after the group forms: wait
    # (bounded) until every follower is listed.
    want = {(h, p) for h, p, _ in all_nodes if (h, p) != (leader[0], leader[1])}
    deadline = time.time() + 10
    while True:
        slaves = {(h, int(p)) for h, p in sentinel.discover_slaves(GROUP)}
        if slaves == want or time.time() > deadline:
            break
        time.sleep(0.05)
    if slaves != want:
        fail("discover_slaves says %r, want %r" % (slaves, want))

    master = sentinel.master_for(GROUP, socket_timeout=1, socket_connect_timeout=1, decode_responses=True)
    replica = sentinel.slave_for(GROUP, socket_timeout=1, socket_connect_timeout=1, decode_responses=True)
    if master.execute_command("ROLE")[0] != "master":
        fail("master_for is not connected to the master")
    if replica.execute_command("ROLE")[0] != "slave":
        fail("slave_for is not connected to a replica")
    master.set("py:before", "1")
    tok = master.execute_command("SESS.NEW", "OWNER", "alice")
    if not tok:
        fail("SESS.NEW answered nothing")
    # A follower's read is consistent: it sees the acknowledged write at once.
    if replica.get("py:before") != "1":
        fail("slave_for did not read the acknowledged write")

    acked = []
    errors = [0]
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            key = "py:k%d" % n
            try:
                if master.set(key, str(n)):
                    acked.append(key)
                n += 1
            except redis.RedisError:
                # Refused, timed out or READONLY while the group elects: not acknowledged, and
                # retried under a new key (the old one may or may not have been written).
                errors[0] += 1
                n += 1
                time.sleep(0.05)

    t = threading.Thread(target=writer)
    t.start()
    try:
        deadline = time.time() + 10
        while len(acked) < 50 and time.time() < deadline:
            time.sleep(0.01)
        before_kill = len(acked)
        if before_kill < 50:
            fail("only %d writes acknowledged before the kill" % before_kill)
        os.kill(leader[2], signal.SIGKILL)
        killed_at = time.time()
        new_leader = wait_leader(all_nodes, skip=leader)
        # Wait (bounded) for writes acknowledged after the kill, then a few more.
        deadline = time.time() + 30
        while len(acked) < before_kill + 50 and time.time() < deadline:
            time.sleep(0.01)
        if len(acked) < before_kill + 50:
            fail("writes did not resume after the kill (%d acknowledged, %d errors)" % (len(acked) - before_kill, errors[0]))
        print("50 writes acknowledged after the kill within %.2fs; %d errors while electing" % (time.time() - killed_at, errors[0]))
    finally:
        stop.set()
        t.join()

    found = sentinel.discover_master(GROUP)
    if (found[0], int(found[1])) != (new_leader[0], new_leader[1]):
        fail("after the kill discover_master says %r, the new leader is %s:%d" % (found, new_leader[0], new_leader[1]))
    if master.execute_command("ROLE")[0] != "master":
        fail("master_for is not connected to the new master")
    addr = master.connection_pool.get_master_address()
    if (addr[0], int(addr[1])) != (new_leader[0], new_leader[1]):
        fail("master_for's pool points at %r" % (addr,))
    values = master.mget(acked) if acked else []
    lost = [k for k, v in zip(acked, values) if v is None]
    if lost:
        fail("%d acknowledged writes lost, e.g. %s" % (len(lost), lost[:5]))
    if master.get("py:before") != "1":
        fail("the write before the kill is lost")
    # slave_for's connection may be to the follower that was promoted (redis-py keeps it, as it
    # would with Redis): it reads the last acknowledged write whatever it is connected to, and a
    # fresh connection goes to the remaining follower (the killed node, still a member, is tried
    # and skipped).
    if replica.get(acked[-1]) is None:
        fail("slave_for does not read the last acknowledged write after the kill")
    replica.connection_pool.disconnect()
    if replica.execute_command("ROLE")[0] != "slave":
        fail("a new slave_for connection is not to a replica after the kill")
    if replica.get(acked[-1]) is None:
        fail("the remaining follower does not read the last acknowledged write")
    print("ok: %d acknowledged writes, none lost" % len(acked))


if __name__ == "__main__":
    main()
