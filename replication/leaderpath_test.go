package replication_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The leader's event loop proposes its clients' writes without a goroutine
// per batch and releases each client's replies when the entry holding them
// is applied (commands.ProposeAsync); proposals of concurrent clients are
// grouped into one entry. These tests drive that path over real sockets.

// TestLeaderPipelineInOrder: a pipeline mixing writes, reads, errors and a
// script on the leader gets its replies in order, each read seeing the
// writes sent before it (RESP2 and RESP3).
func TestLeaderPipelineInOrder(t *testing.T) {
	g := newGroup(t, 3)
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			g.proto = proto
			l := g.waitLeader(-1)
			c := g.client(l)
			p := "lp" + strconv.Itoa(proto) + ":"
			pipe := c.Pipeline()
			set := pipe.Set(ctx, p+"s", "v1", 0)
			get1 := pipe.Get(ctx, p+"s")
			incr1 := pipe.Incr(ctx, p+"n")
			incr2 := pipe.Incr(ctx, p+"n")
			get2 := pipe.Get(ctx, p+"n")
			bad := pipe.Incr(ctx, p+"s") // not an integer: an error in the middle
			hset := pipe.HSet(ctx, p+"h", "f", "x")
			hget := pipe.HGet(ctx, p+"h", "f")
			unknown := pipe.Do(ctx, "NOSUCHCOMMAND", "a")
			eval := pipe.Eval(ctx, "return redis.call('INCR', KEYS[1])", []string{p + "n"})
			del := pipe.Del(ctx, p+"s")
			exists := pipe.Exists(ctx, p+"s")
			get3 := pipe.Get(ctx, p+"n")
			_, _ = pipe.Exec(ctx)
			check := func(name string, got any, err error, want any) {
				t.Helper()
				if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s = %v, %v; want %v", name, got, err, want)
				}
			}
			check("SET", set.Val(), set.Err(), "OK")
			check("GET s", get1.Val(), get1.Err(), "v1")
			check("INCR 1", incr1.Val(), incr1.Err(), 1)
			check("INCR 2", incr2.Val(), incr2.Err(), 2)
			check("GET n", get2.Val(), get2.Err(), "2")
			if err := bad.Err(); err == nil || !strings.Contains(err.Error(), "not an integer") {
				t.Fatalf("INCR of a string: %v", err)
			}
			check("HSET", hset.Val(), hset.Err(), 1)
			check("HGET", hget.Val(), hget.Err(), "x")
			if err := unknown.Err(); err == nil || !strings.Contains(err.Error(), "unknown command") {
				t.Fatalf("unknown command: %v", err)
			}
			check("EVAL", eval.Val(), eval.Err(), 3)
			check("DEL", del.Val(), del.Err(), 1)
			check("EXISTS", exists.Val(), exists.Err(), 0)
			check("GET n after EVAL", get3.Val(), get3.Err(), "3")
			// MULTI ... EXEC sent in one write, then a read after it.
			var tIncr *redis.IntCmd
			var tGet *redis.StringCmd
			if _, err := c.TxPipelined(ctx, func(tx redis.Pipeliner) error {
				tIncr = tx.Incr(ctx, p+"n")
				tGet = tx.Get(ctx, p+"n")
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			check("INCR in MULTI", tIncr.Val(), tIncr.Err(), 4)
			check("GET in MULTI", tGet.Val(), tGet.Err(), "4")
			// Every node applied the same entries.
			for i := range g.nodes {
				if v := get[string](t)(g.client(i).Get(ctx, p+"n").Result()); v != "4" {
					t.Fatalf("node %d: GET n = %q, want 4", i, v)
				}
			}
		})
	}
}

// TestLeaderConcurrentWriters: many clients writing at once on the leader
// (their writes share log entries) each get their own replies: per-client
// counters count exactly their client's increments, a shared counter counts
// all of them, every reply is the value right after that client's write,
// and every node ends with the same values.
func TestLeaderConcurrentWriters(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	const clients, each = 30, 60
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: g.nodes[l].addr(), MaxRetries: -1, PoolSize: 1, ReadTimeout: 10 * time.Second})
			defer c.Close()
			own := "cw:own:" + strconv.Itoa(w)
			last := int64(0)
			for k := 1; k <= each; k++ {
				v, err := c.Incr(ctx, own).Result()
				if err != nil {
					errs <- err
					return
				}
				if v != int64(k) {
					errs <- fmt.Errorf("client %d: INCR %s = %d, want %d", w, own, v, k)
					return
				}
				s, err := c.Incr(ctx, "cw:shared").Result()
				if err != nil {
					errs <- err
					return
				}
				if s <= last {
					errs <- fmt.Errorf("client %d: shared counter went from %d to %d", w, last, s)
					return
				}
				last = s
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range g.nodes {
		c := g.client(i)
		if v := get[string](t)(c.Get(ctx, "cw:shared").Result()); v != strconv.Itoa(clients*each) {
			t.Fatalf("node %d: shared counter %s, want %d", i, v, clients*each)
		}
		for w := 0; w < clients; w++ {
			if v := get[string](t)(c.Get(ctx, "cw:own:"+strconv.Itoa(w)).Result()); v != strconv.Itoa(each) {
				t.Fatalf("node %d: client %d's counter %s, want %d", i, w, v, each)
			}
		}
	}
}

// TestLeaderClientGoneMidProposal: a client that sends a pipeline of writes
// and closes its connection at once, while they are in the log, leaves the
// leader serving and the nodes agreeing on what was applied.
func TestLeaderClientGoneMidProposal(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	for round := 0; round < 20; round++ {
		conn, err := net.Dial("tcp", g.nodes[l].addr())
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for k := 0; k < 50; k++ {
			fmt.Fprintf(&b, "*3\r\n$3\r\nSET\r\n$%d\r\ngone:%d:%d\r\n$1\r\nx\r\n", len(fmt.Sprintf("gone:%d:%d", round, k)), round, k)
		}
		if _, err := conn.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	lc := g.client(l)
	if err := lc.Set(ctx, "gone:last", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// The closed connections' writes run until the leader finds the socket
	// gone: how many ran is not fixed, but every node must end up with the
	// same keys (a consistent read on a follower waits for the leader's
	// read index).
	deadline := time.Now().Add(15 * time.Second)
	for {
		n0 := get[int64](t)(lc.DBSize(ctx).Result())
		same := true
		var sizes []int64
		for i := range g.nodes {
			n := get[int64](t)(g.client(i).DBSize(ctx).Result())
			sizes = append(sizes, n)
			same = same && n == n0
		}
		if same && get[int64](t)(lc.DBSize(ctx).Result()) == n0 {
			if n0 < 1 {
				t.Fatalf("no key at all")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes disagree on the number of keys: %v (leader %d)", sizes, n0)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pong := get[string](t)(lc.Ping(ctx).Result()); pong != "PONG" {
		t.Fatalf("PING = %q", pong)
	}
}

// TestGroupACLBeforeLog: a write the client's ACL user may not run is
// refused with -NOPERM on the leader and on a follower, and never reaches
// the log; what the user may write goes through (RESP2 and RESP3).
func TestGroupACLBeforeLog(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	f := g.follower(l)
	for i := range g.nodes {
		c := g.client(i)
		if err := c.Do(ctx, "ACL", "SETUSER", "limited", "on", ">pw", "~ok:*", "+get", "+set", "+ping", "+eval").Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, proto := range []int{2, 3} {
		for _, i := range []int{l, f} {
			name := fmt.Sprintf("RESP%d/node%d", proto, i)
			c := redis.NewClient(&redis.Options{Addr: g.nodes[i].addr(), Protocol: proto, Username: "limited", Password: "pw", MaxRetries: -1})
			key := fmt.Sprintf("ok:%d:%d", proto, i)
			if err := c.Set(ctx, key, "v", 0).Err(); err != nil {
				t.Fatalf("%s: SET %s: %v", name, key, err)
			}
			if err := c.Set(ctx, "no:"+key, "v", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
				t.Fatalf("%s: SET outside the user's keys: %v", name, err)
			}
			if err := c.Incr(ctx, key).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
				t.Fatalf("%s: INCR (not allowed): %v", name, err)
			}
			// A script runs as its sender on every node: its calls are
			// checked against that user's rules, as on a standalone server.
			if err := c.Eval(ctx, "return redis.call('INCR', KEYS[1])", []string{key}).Err(); err == nil || !strings.Contains(err.Error(), "can't run this command") {
				t.Fatalf("%s: a script's INCR (not allowed): %v", name, err)
			}
			if err := c.Eval(ctx, "return redis.call('SET', KEYS[1], 'w')", []string{"no:" + key}).Err(); err == nil || !strings.Contains(err.Error(), "no permissions to access") {
				t.Fatalf("%s: a script's SET outside the user's keys: %v", name, err)
			}
			if err := c.Eval(ctx, "return redis.call('SET', KEYS[1], 'v')", []string{key}).Err(); err != nil {
				t.Fatalf("%s: a script's allowed SET: %v", name, err)
			}
			c.Close()
			for j := range g.nodes {
				jc := g.client(j)
				if v := get[string](t)(jc.Get(ctx, key).Result()); v != "v" {
					t.Fatalf("%s: node %d: GET %s = %q", name, j, key, v)
				}
				if n := get[int64](t)(jc.Exists(ctx, "no:"+key).Result()); n != 0 {
					t.Fatalf("%s: node %d: the refused write is there", name, j)
				}
			}
		}
	}
}
