package replication_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/sessiondbin"
)

// These tests run real groups: separate sessiond processes built from this
// tree, on loopback ports. Every process is started by the test and killed
// by it (by its own PID) when the test ends.

type node struct {
	id       string
	port     int
	raftPort int
	dir      string
	cmd      *exec.Cmd
	log      *os.File
	extra    []string
}

func (n *node) addr() string     { return "127.0.0.1:" + strconv.Itoa(n.port) }
func (n *node) raftAddr() string { return "127.0.0.1:" + strconv.Itoa(n.raftPort) }

type group struct {
	t     *testing.T
	bin   string
	nodes []*node
	peers string
	proto int
}

// newGroup starts size nodes bootstrapped from the same raft-peers and waits
// for a leader.
func newGroup(t *testing.T, size int, extra ...string) *group {
	t.Helper()
	return newGroupEach(t, size, func(int) []string { return extra })
}

// newGroupEach is newGroup with each node's own extra arguments.
func newGroupEach(t *testing.T, size int, extra func(i int) []string) *group {
	t.Helper()
	g := &group{t: t, bin: sessiondbin.Path(t), proto: 2}
	base := t.TempDir()
	var peers []string
	for i := 0; i < size; i++ {
		n := &node{id: "n" + strconv.Itoa(i+1), port: sessiondbin.FreePort(t), raftPort: sessiondbin.FreePort(t), dir: filepath.Join(base, "n"+strconv.Itoa(i+1)), extra: extra(i)}
		g.nodes = append(g.nodes, n)
		peers = append(peers, n.id+"="+n.raftAddr())
	}
	g.peers = strings.Join(peers, ",")
	t.Cleanup(g.stopAll)
	for i := range g.nodes {
		g.start(i)
	}
	g.waitLeader(-1)
	return g
}

// addNode prepares (and starts) a node outside the initial membership.
func (g *group) addNode() int {
	n := &node{id: "n" + strconv.Itoa(len(g.nodes)+1), port: sessiondbin.FreePort(g.t), raftPort: sessiondbin.FreePort(g.t), dir: filepath.Join(g.t.TempDir(), "new")}
	g.nodes = append(g.nodes, n)
	i := len(g.nodes) - 1
	g.startWith(i, "")
	return i
}

func (g *group) start(i int) { g.startWith(i, g.peers) }

func (g *group) startWith(i int, peers string) {
	g.t.Helper()
	n := g.nodes[i]
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		g.t.Fatal(err)
	}
	args := []string{"--port", strconv.Itoa(n.port), "--dir", n.dir, "--raft-node-id", n.id,
		"--raft-bind", n.raftAddr(), "--raft-peers", peers}
	args = append(args, n.extra...)
	lf, err := os.OpenFile(filepath.Join(n.dir, "log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		g.t.Fatal(err)
	}
	cmd := exec.Command(g.bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	n.cmd, n.log = cmd, lf
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", n.addr(), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("node %s did not start: %v\n%s", n.id, err, g.logOf(i))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *group) logOf(i int) string {
	b, _ := os.ReadFile(filepath.Join(g.nodes[i].dir, "log"))
	return string(b)
}

// kill ends node i with SIGKILL (a crash).
func (g *group) kill(i int) {
	n := g.nodes[i]
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	_ = n.cmd.Wait()
	n.log.Close()
	n.cmd = nil
}

func (g *group) stopAll() {
	for i, n := range g.nodes {
		if n.cmd != nil {
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = n.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = n.cmd.Process.Signal(syscall.SIGKILL)
				<-done
			}
			n.log.Close()
			n.cmd = nil
		}
		if g.t.Failed() {
			g.t.Logf("log of %s:\n%s", n.id, tail(g.logOf(i), 3000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (g *group) client(i int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: g.nodes[i].addr(), Protocol: g.proto, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 5 * time.Second})
	g.t.Cleanup(func() { c.Close() })
	return c
}

// waitLeader waits until a running node other than not says it leads and
// every running node knows it; it returns the leader's index.
func (g *group) waitLeader(not int) int {
	g.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		leader := -1
		agree := true
		for i, n := range g.nodes {
			if n.cmd == nil || i == not {
				continue
			}
			c := redis.NewClient(&redis.Options{Addr: n.addr(), MaxRetries: -1})
			role, err := c.Do(ctx, "ROLE").Slice()
			c.Close()
			if err != nil || len(role) == 0 {
				agree = false
				continue
			}
			switch role[0] {
			case "master":
				leader = i
			case "slave":
				if len(role) < 4 || role[3] != "connected" {
					agree = false
				}
			}
		}
		if leader >= 0 && agree {
			return leader
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatalf("no leader within 20s")
	return -1
}

func (g *group) follower(leader int) int {
	for i, n := range g.nodes {
		if i != leader && n.cmd != nil {
			return i
		}
	}
	g.t.Fatal("no follower running")
	return -1
}

var ctx = context.Background()

// get checks the error of a (value, error) pair: get[string](t)(c.Get(...).Result()).
func get[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func must[T any](t *testing.T, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestGroupFormationAndReads: three nodes started with the same raft-peers
// form a group; a write acknowledged by the leader is seen at once by a
// consistent read on every follower; ROLE, INFO and SENTINEL agree.
func TestGroupFormationAndReads(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			g := newGroup(t, 3)
			g.proto = proto
			l := g.waitLeader(-1)
			lc := g.client(l)
			for k := 0; k < 20; k++ {
				key := "k" + strconv.Itoa(k)
				if err := lc.Set(ctx, key, k, 0).Err(); err != nil {
					t.Fatal(err)
				}
				for i := range g.nodes {
					if i == l {
						continue
					}
					if v := get[string](t)(g.client(i).Get(ctx, key).Result()); v != strconv.Itoa(k) {
						t.Fatalf("node %d: GET %s = %q right after the leader acknowledged %d", i, key, v, k)
					}
				}
			}
			for i := range g.nodes {
				c := g.client(i)
				addr := get[[]string](t)(c.Do(ctx, "SENTINEL", "get-master-addr-by-name", "sessiond").StringSlice())
				if len(addr) != 2 || addr[0]+":"+addr[1] != g.nodes[l].addr() {
					t.Fatalf("node %d: SENTINEL get-master-addr-by-name = %v, want %s", i, addr, g.nodes[l].addr())
				}
				info := get[string](t)(c.Info(ctx, "raft").Result())
				if !strings.Contains(info, "leader_addr:"+g.nodes[l].addr()) || !strings.Contains(info, "peers:3") ||
					!strings.Contains(info, "log_store:raft-wal") || !strings.Contains(info, "transport:tcp") {
					t.Fatalf("node %d: INFO raft:\n%s", i, info)
				}
				repl := get[string](t)(c.Info(ctx, "replication").Result())
				want := "role:slave"
				if i == l {
					want = "role:master"
				}
				if !strings.Contains(repl, want) {
					t.Fatalf("node %d: INFO replication:\n%s", i, repl)
				}
				reps := get[[]any](t)(c.Do(ctx, "SENTINEL", "replicas", "sessiond").Slice())
				if len(reps) != 2 {
					t.Fatalf("node %d: SENTINEL replicas: %v", i, reps)
				}
				if err := c.Do(ctx, "SENTINEL", "master", "nope").Err(); err == nil || !strings.Contains(err.Error(), "No such master") {
					t.Fatalf("SENTINEL master nope: %v", err)
				}
			}
		})
	}
}

// TestFollowerWrites: writes sent to a follower are forwarded to the leader
// and answered as the leader answers (RESP2 and RESP3 replies, the
// client's database, MULTI/EXEC, sessions); readonly refuses them.
func TestFollowerWrites(t *testing.T) {
	g := newGroup(t, 3)
	for _, proto := range []int{2, 3} {
		g.proto = proto
		l := g.waitLeader(-1)
		f := g.follower(l)
		fc := g.client(f)
		p := strconv.Itoa(proto)
		if err := fc.Set(ctx, "fw"+p, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v := get[string](t)(g.client(l).Get(ctx, "fw"+p).Result()); v != "v" {
			t.Fatalf("leader GET = %q", v)
		}
		if n := get[int64](t)(fc.HSet(ctx, "h"+p, "a", 1, "b", 2).Result()); n != 2 {
			t.Fatalf("HSET via follower = %d", n)
		}
		if m := get[map[string]string](t)(fc.HGetAll(ctx, "h"+p).Result()); m["a"] != "1" || m["b"] != "2" {
			t.Fatalf("HGETALL = %v", m)
		}
		// The client's database goes with the command.
		c5 := redis.NewClient(&redis.Options{Addr: g.nodes[f].addr(), DB: 5, Protocol: proto})
		if err := c5.Set(ctx, "db5"+p, "five", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v := get[string](t)(redis.NewClient(&redis.Options{Addr: g.nodes[l].addr(), DB: 5}).Get(ctx, "db5"+p).Result()); v != "five" {
			t.Fatalf("db 5 on the leader: %q", v)
		}
		c5.Close()
		// A transaction on a follower runs whole on the leader.
		cmds, err := fc.TxPipelined(ctx, func(pp redis.Pipeliner) error {
			pp.Incr(ctx, "ctr"+p)
			pp.Incr(ctx, "ctr"+p)
			pp.Get(ctx, "ctr"+p)
			return nil
		})
		if err != nil || cmds[2].(*redis.StringCmd).Val() != "2" {
			t.Fatalf("MULTI/EXEC via follower: %v %v", cmds, err)
		}
		// WATCH: a watched key changed by another client aborts the
		// transaction (a null reply), an unchanged one lets it run.
		wc := g.client(f)
		must(t, "", wc.Set(ctx, "w"+p, "0", 0).Err())
		err = wc.Watch(ctx, func(tx *redis.Tx) error {
			must(t, "", g.client(l).Set(ctx, "w"+p, "other", 0).Err())
			_, err := tx.TxPipelined(ctx, func(pp redis.Pipeliner) error {
				pp.Set(ctx, "w"+p, "mine", 0)
				return nil
			})
			return err
		}, "w"+p)
		if !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("EXEC after a watched key changed: %v", err)
		}
		if v := get[string](t)(wc.Get(ctx, "w"+p).Result()); v != "other" {
			t.Fatalf("watched key = %q after an aborted EXEC", v)
		}
		// A pipeline of writes is one entry.
		pipe := fc.Pipeline()
		for k := 0; k < 50; k++ {
			pipe.RPush(ctx, "list"+p, k)
		}
		res, err := pipe.Exec(ctx)
		if err != nil || res[49].(*redis.IntCmd).Val() != 50 {
			t.Fatalf("pipeline via follower: %v", err)
		}
		// Scripts run through the log on every node; blocking pops never
		// wait in the log (they answer at once, as inside MULTI).
		if v := get[any](t)(fc.Eval(ctx, "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])", []string{"sk" + p, "sc" + p}, "sv").Result()); v != int64(1) {
			t.Fatalf("EVAL via follower = %v", v)
		}
		for i := range g.nodes {
			if v := get[string](t)(g.client(i).Get(ctx, "sk"+p).Result()); v != "sv" {
				t.Fatalf("node %d: key set by a script = %q", i, v)
			}
		}
		if err := fc.BLPop(ctx, 100*time.Millisecond, "empty"+p).Err(); !errors.Is(err, redis.Nil) {
			t.Fatalf("BLPOP on an empty list in a group, after its timeout: %v", err)
		}
		if v := get[[]string](t)(fc.BLPop(ctx, 0, "list"+p).Result()); len(v) != 2 || v[1] != "0" {
			t.Fatalf("BLPOP list = %v", v)
		}
		// Sessions: the token created through a follower works everywhere.
		sess := get[any](t)(fc.Do(ctx, "SESS.NEW", "OWNER", "alice", "DATA", "x").Result())
		var tok string
		switch v := sess.(type) {
		case []any:
			tok = v[1].(string)
		case map[any]any:
			tok = v["token"].(string)
		}
		for i := range g.nodes {
			if err := g.client(i).Do(ctx, "SESS.GET", tok).Err(); err != nil {
				t.Fatalf("node %d: SESS.GET of a session made via a follower: %v (%v)", i, err, sess)
			}
		}
	}
	l := g.waitLeader(-1)
	f := g.follower(l)
	fc := g.client(f)
	if err := fc.ConfigSet(ctx, "raft-follower-writes", "readonly").Err(); err != nil {
		t.Fatal(err)
	}
	if err := fc.Set(ctx, "ro", "v", 0).Err(); err == nil || err.Error() != "READONLY You can't write against a read only replica." {
		t.Fatalf("SET on a readonly follower: %v", err)
	}
	if err := fc.Get(ctx, "fw2").Err(); err != nil {
		t.Fatalf("GET on a readonly follower: %v", err)
	}
}

// TestLeaderKill: under a write load from many clients, the leader is killed
// with SIGKILL; a new leader is elected, and every write acknowledged before
// the kill is readable after it.
func TestLeaderKill(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	var mu sync.Mutex
	acked := map[string]string{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: g.nodes[l].addr(), MaxRetries: -1, ReadTimeout: 5 * time.Second})
			defer c.Close()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d:%d", w, k)
				if err := c.Set(ctx, key, k, 0).Err(); err != nil {
					return // the leader is gone
				}
				mu.Lock()
				acked[key] = strconv.Itoa(k)
				mu.Unlock()
			}
		}(w)
	}
	time.Sleep(500 * time.Millisecond)
	killed := time.Now()
	g.kill(l)
	close(stop)
	wg.Wait()
	nl := g.waitLeader(l)
	c := g.client(nl)
	for {
		if err := c.Set(ctx, "after", "1", 0).Err(); err == nil {
			break
		} else if time.Since(killed) > 20*time.Second {
			t.Fatalf("no write accepted after the kill: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("first write accepted %v after the kill; %d writes acknowledged before it", time.Since(killed), len(acked))
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}
	for _, i := range []int{nl, g.follower(nl)} {
		cl := g.client(i)
		lost := 0
		for k, v := range acked {
			if got, err := cl.Get(ctx, k).Result(); err != nil || got != v {
				lost++
			}
		}
		if lost > 0 {
			t.Fatalf("node %d: %d of %d acknowledged writes lost", i, lost, len(acked))
		}
	}
	// The killed node comes back and catches up from the log.
	g.start(l)
	g.waitLeader(-1)
	rc := g.client(l)
	if v, err := rc.Get(ctx, "after").Result(); err != nil || v != "1" {
		t.Fatalf("restarted node: GET after = %q %v", v, err)
	}
}

// TestCatchUpFromSnapshot: a follower down while the log was compacted past
// its position catches up from a snapshot when it comes back.
func TestCatchUpFromSnapshot(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	f := g.follower(l)
	g.kill(f)
	lc := g.client(l)
	for k := 0; k < 300; k++ {
		if err := lc.Set(ctx, "s"+strconv.Itoa(k), k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	tok := get[[]any](t)(lc.Do(ctx, "SESS.NEW", "OWNER", "bob").Slice())[1].(string)
	if err := lc.Do(ctx, "RAFT", "SNAPSHOT").Err(); err != nil {
		t.Fatal(err)
	}
	g.start(f)
	fc := g.client(f)
	if n := get[int64](t)(fc.DBSize(ctx).Result()); n != 300 {
		t.Fatalf("restarted follower: DBSIZE %d, want 300", n)
	}
	if err := fc.Do(ctx, "SESS.GET", tok).Err(); err != nil {
		t.Fatalf("session after catch-up: %v", err)
	}
	// Local reads see the same once it has caught up.
	if err := fc.ConfigSet(ctx, "raft-follower-reads", "local").Err(); err != nil {
		t.Fatal(err)
	}
	if v := get[string](t)(fc.Get(ctx, "s299").Result()); v != "299" {
		t.Fatalf("local read: %q", v)
	}
}

// TestMembership: RAFT ADD brings a new node in (it catches up), RAFT
// TRANSFER hands leadership over, RAFT REMOVE takes a node out.
func TestMembership(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	lc := g.client(l)
	for k := 0; k < 50; k++ {
		must(t, "", lc.Set(ctx, "m"+strconv.Itoa(k), k, 0).Err())
	}
	n4 := g.addNode()
	if err := lc.Do(ctx, "RAFT", "ADD", g.nodes[n4].id, g.nodes[n4].raftAddr()).Err(); err != nil {
		t.Fatal(err)
	}
	c4 := g.client(n4)
	var role []any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		role, _ = c4.Do(ctx, "ROLE").Slice()
		if len(role) == 5 && role[3] == "connected" {
			break
		}
	}
	if v, err := c4.Get(ctx, "m49").Result(); err != nil || v != "49" {
		t.Fatalf("new node: GET = %q %v (ROLE %v)", v, err, role)
	}
	if info := get[string](t)(lc.Info(ctx, "raft").Result()); !strings.Contains(info, "peers:4") {
		t.Fatalf("INFO raft after ADD:\n%s", info)
	}
	// Transfer to the new node.
	if err := lc.Do(ctx, "RAFT", "TRANSFER", g.nodes[n4].id).Err(); err != nil {
		t.Fatal(err)
	}
	if nl := g.waitLeader(-1); nl != n4 {
		t.Fatalf("leader after RAFT TRANSFER %s: node %d", g.nodes[n4].id, nl)
	}
	// Remove the former leader; the group goes on with three.
	if err := c4.Do(ctx, "RAFT", "REMOVE", g.nodes[l].id).Err(); err != nil {
		t.Fatal(err)
	}
	if info := get[string](t)(c4.Info(ctx, "raft").Result()); !strings.Contains(info, "peers:3") {
		t.Fatalf("INFO raft after REMOVE:\n%s", info)
	}
	g.kill(l)
	must(t, "", c4.Set(ctx, "after-remove", "1", 0).Err())
	// Errors: on a follower, and bad arguments.
	f := g.follower(n4)
	if err := g.client(f).Do(ctx, "RAFT", "ADD", "x", "127.0.0.1:1").Err(); err == nil {
		t.Fatal("RAFT ADD on a follower succeeded")
	}
	if err := c4.Do(ctx, "RAFT", "TRANSFER", "nobody").Err(); err == nil || !strings.Contains(err.Error(), "no member") {
		t.Fatalf("RAFT TRANSFER nobody: %v", err)
	}
}

// TestExpiryReplicated: the leader expires keys and replicates the
// deletions; a follower never deletes on its own but treats a key past its
// deadline as missing.
func TestExpiryReplicated(t *testing.T) {
	g := newGroup(t, 3, "--raft-follower-reads", "local")
	l := g.waitLeader(-1)
	f := g.follower(l)
	lc, fc := g.client(l), g.client(f)
	for k := 0; k < 100; k++ {
		must(t, "", lc.Set(ctx, "e"+strconv.Itoa(k), k, 300*time.Millisecond).Err())
	}
	must(t, "", lc.Set(ctx, "keep", "1", 0).Err())
	// Wait (bounded) for the leader's expirer to delete them everywhere.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if n := get[int64](t)(fc.DBSize(ctx).Result()); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("follower still holds %d keys", get[int64](t)(fc.DBSize(ctx).Result()))
		}
	}
	if info := get[string](t)(lc.Info(ctx, "stats").Result()); !strings.Contains(info, "expired_keys:100") {
		t.Fatalf("leader INFO stats: %s", info)
	}
	// Followers stop expiring: with the leader gone, a key past its
	// deadline stays in the follower's data but reads as missing.
	must(t, "", lc.Set(ctx, "late", "1", 200*time.Millisecond).Err())
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n := get[int64](t)(fc.Exists(ctx, "late").Result()); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("follower never received late")
		}
	}
	g.kill(l)
	time.Sleep(400 * time.Millisecond)
	if err := fc.Get(ctx, "late").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET of an expired key on a follower: %v", err)
	}
}

// TestSentinelFailoverClient: go-redis's failover client finds the leader
// through SENTINEL on the nodes and follows it across a kill -9.
func TestSentinelFailoverClient(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	var addrs []string
	for _, n := range g.nodes {
		addrs = append(addrs, n.addr())
	}
	fc := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "sessiond", SentinelAddrs: addrs, MaxRetries: 10,
		MinRetryBackoff: 50 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond})
	// DialTimeout stays at its default (5 s): go-redis asks the sentinels for the master inside
	// the dial, and a short one can be spent on retries against the killed node before it asks
	// the others.
	defer fc.Close()
	must(t, "", fc.Set(ctx, "fo", "1", 0).Err())
	// Every node publishes +switch-master when leadership moves.
	sub := g.client(g.follower(l)).Subscribe(ctx, "+switch-master")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	g.kill(l)
	select {
	case m := <-sub.Channel():
		f := strings.Fields(m.Payload)
		if len(f) != 5 || f[0] != "sessiond" || f[1]+":"+f[2] != g.nodes[l].addr() || f[3]+":"+f[4] == g.nodes[l].addr() {
			t.Fatalf("+switch-master %q (old leader %s)", m.Payload, g.nodes[l].addr())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no +switch-master within 15 s of the kill")
	}
	var err error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = fc.Set(ctx, "fo2", "2", 0).Err(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("failover client: no write after the kill: %v", err)
	}
	if v := get[string](t)(fc.Get(ctx, "fo").Result()); v != "1" {
		t.Fatalf("GET fo = %q", v)
	}
	nl := g.waitLeader(l)
	role := get[[]any](t)(g.client(nl).Do(ctx, "ROLE").Slice())
	if role[0] != "master" {
		t.Fatal(role)
	}
}

// TestMinorityLeaderStopsAcknowledging: a leader cut off from the majority
// (both followers stopped with SIGSTOP) acknowledges no write and steps
// down; once the followers resume, the group elects a leader and writes go
// on, and every write acknowledged before the cut is still there.
func TestMinorityLeaderStopsAcknowledging(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	lc := g.client(l)
	must(t, "", lc.Set(ctx, "before", "1", 0).Err())
	var stopped []int
	for i, n := range g.nodes {
		if i != l {
			if err := n.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			stopped = append(stopped, i)
		}
	}
	// kill(2) returns before the stop takes effect: a follower could still
	// take the next append. Wait until every thread of both is stopped.
	for _, i := range stopped {
		waitStopped(t, g.nodes[i].cmd.Process.Pid)
	}
	resume := func() {
		for _, i := range stopped {
			_ = g.nodes[i].cmd.Process.Signal(syscall.SIGCONT)
		}
		stopped = nil
	}
	defer resume()
	c := redis.NewClient(&redis.Options{Addr: g.nodes[l].addr(), MaxRetries: -1, ReadTimeout: 30 * time.Second})
	defer c.Close()
	began := time.Now()
	if err := c.Set(ctx, "cut", "1", 0).Err(); err == nil {
		t.Fatal("a leader without a majority acknowledged a write")
	} else {
		t.Logf("write on the cut-off leader, refused after %v: %v", time.Since(began).Round(time.Millisecond), err)
	}
	if role := get[[]any](t)(c.Do(ctx, "ROLE").Slice()); role[0] != "slave" {
		t.Fatalf("the cut-off leader still says %v", role[0])
	}
	resume()
	nl := g.waitLeader(-1)
	nc := g.client(nl)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := nc.Set(ctx, "after", "1", 0).Err(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no write after the followers resumed: %v", err)
		}
	}
	if v := get[string](t)(nc.Get(ctx, "before").Result()); v != "1" {
		t.Fatalf("GET before = %q", v)
	}
}

// waitStopped waits until every thread of process pid is in the stopped
// state (T in /proc/pid/task/*/stat).
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		all := len(tasks) > 0
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			// The state follows the command name in parentheses.
			if i := bytes.LastIndexByte(b, ')'); err != nil || i < 0 || i+2 >= len(b) || b[i+2] != 'T' {
				all = false
				break
			}
		}
		if all {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("process %d did not stop", pid)
}

// TestPublishReplicated: a message published on any node reaches the
// subscribers of every node (PUBLISH and SPUBLISH go through the log, as a
// Redis primary propagates PUBLISH to its replicas), once each.
func TestPublishReplicated(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	f := g.follower(l)
	var subs []*redis.PubSub
	for i := range g.nodes {
		ps := g.client(i).Subscribe(ctx, "news")
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		ss := g.client(i).SSubscribe(ctx, "shard")
		if _, err := ss.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, ps, ss)
		defer ps.Close()
		defer ss.Close()
	}
	if n := get[int64](t)(g.client(l).Publish(ctx, "news", "from-leader").Result()); n != 1 {
		t.Fatalf("PUBLISH on the leader counted %d subscribers, want the leader's 1", n)
	}
	get[int64](t)(g.client(f).Publish(ctx, "news", "from-follower").Result())
	get[int64](t)(g.client(f).SPublish(ctx, "shard", "sharded").Result())
	for i := range g.nodes {
		for _, want := range []string{"from-leader", "from-follower"} {
			m, err := subs[2*i].ReceiveTimeout(ctx, 10*time.Second)
			if err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
			if msg, ok := m.(*redis.Message); !ok || msg.Payload != want {
				t.Fatalf("node %d got %#v, want %q", i, m, want)
			}
		}
		m, err := subs[2*i+1].ReceiveTimeout(ctx, 10*time.Second)
		if msg, ok := m.(*redis.Message); err != nil || !ok || msg.Payload != "sharded" {
			t.Fatalf("node %d shard channel: %#v, %v", i, m, err)
		}
	}
	// Nothing more arrives (each node delivered each message once).
	for i := range g.nodes {
		if m, err := subs[2*i].ReceiveTimeout(ctx, 300*time.Millisecond); err == nil {
			t.Fatalf("node %d: a message delivered twice: %#v", i, m)
		}
	}
}

// TestBlockingPopsWait: in a group a blocking pop waits as on a standalone
// server: BLPOP on a follower and BLMOVE on the leader sleep until a push
// made on another node, each element is popped once, a timeout answers
// null, and CLIENT UNBLOCK ends a wait.
func TestBlockingPopsWait(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	f := g.follower(l)
	type result struct {
		v   []string
		err error
	}
	popped := make(chan result, 2)
	go func() {
		v, err := g.client(f).BLPop(ctx, 20*time.Second, "q").Result()
		popped <- result{v, err}
	}()
	go func() {
		v, err := g.client(l).BLMove(ctx, "q", "dst", "LEFT", "RIGHT", 20*time.Second).Result()
		popped <- result{[]string{v}, err}
	}()
	time.Sleep(300 * time.Millisecond) // both asleep (nothing to pop yet)
	pusher := g.client(3 - l - f)
	get[int64](t)(pusher.RPush(ctx, "q", "a").Result())
	first := <-popped
	if first.err != nil {
		t.Fatalf("first pop: %v", first.err)
	}
	select {
	case r := <-popped:
		t.Fatalf("one element served two clients: %v then %v", first.v, r.v)
	case <-time.After(300 * time.Millisecond):
	}
	get[int64](t)(pusher.RPush(ctx, "q", "b").Result())
	second := <-popped
	if second.err != nil {
		t.Fatalf("second pop: %v", second.err)
	}
	got := strings.Join(append(first.v, second.v...), ",")
	if !(strings.Contains(got, "a") && strings.Contains(got, "b")) {
		t.Fatalf("pops got %q, want a and b once each", got)
	}
	if n := get[int64](t)(g.client(l).LLen(ctx, "q").Result()); n != 0 {
		t.Fatalf("q still holds %d", n)
	}
	// A timeout answers null; CLIENT UNBLOCK ends a wait with no timeout.
	if err := g.client(f).BLPop(ctx, 200*time.Millisecond, "empty").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("BLPOP timeout: %v", err)
	}
	waiter := g.client(f)
	id := get[int64](t)(waiter.ClientID(ctx).Result())
	done := make(chan error, 1)
	go func() { done <- waiter.BLPop(ctx, 0, "empty").Err() }()
	admin := g.client(f)
	for i := 0; ; i++ {
		if n, _ := admin.ClientUnblock(ctx, id).Result(); n == 1 {
			break
		}
		if i > 500 {
			t.Fatal("BLPOP 0 never blocked")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := <-done; !errors.Is(err, redis.Nil) {
		t.Fatalf("unblocked BLPOP: %v", err)
	}
	// XREADGROUP ... BLOCK on a follower waits for an XADD on the leader.
	get[string](t)(g.client(l).XGroupCreateMkStream(ctx, "s", "g", "$").Result())
	read := make(chan []redis.XStream, 1)
	go func() {
		v, _ := g.client(f).XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"s", ">"}, Block: 20 * time.Second}).Result()
		read <- v
	}()
	time.Sleep(300 * time.Millisecond)
	entry := get[string](t)(g.client(l).XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"f", "v"}}).Result())
	if v := <-read; len(v) != 1 || len(v[0].Messages) != 1 || v[0].Messages[0].ID != entry {
		t.Fatalf("XREADGROUP BLOCK got %v, want %s", v, entry)
	}
}

// TestClientReplyInGroup: CLIENT REPLY OFF and SKIP silence the replies of
// writes that go through the log, on the leader and on a follower, as on a
// standalone server (SKIP: the next command's only). The pipeline also reads
// its own writes: on a follower, a read after a forwarded write waits for
// the leader's read index again (it used to read this node's older state).
func TestClientReplyInGroup(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	for _, i := range []int{l, g.follower(l)} {
		conn, err := net.DialTimeout("tcp", g.nodes[i].addr(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		p := fmt.Sprintf("n%d:", i)
		var req bytes.Buffer
		for _, cmd := range [][]string{
			{"CLIENT", "REPLY", "SKIP"}, {"SET", p + "a", "1"}, {"SET", p + "b", "2"},
			{"CLIENT", "REPLY", "OFF"}, {"SET", p + "c", "3"}, {"INCR", p + "c"}, {"GET", p + "c"},
			{"CLIENT", "REPLY", "ON"}, {"GET", p + "c"},
		} {
			fmt.Fprintf(&req, "*%d\r\n", len(cmd))
			for _, a := range cmd {
				fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
			}
		}
		if _, err := conn.Write(req.Bytes()); err != nil {
			t.Fatal(err)
		}
		want := "+OK\r\n+OK\r\n$1\r\n4\r\n" // SET b, CLIENT REPLY ON, GET c
		got := make([]byte, 0, len(want))
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 256)
		for len(got) < len(want) {
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("node %d: read after %q: %v", i, got, err)
			}
			got = append(got, buf[:n]...)
		}
		if string(got) != want {
			t.Fatalf("node %d: replies %q, want %q", i, got, want)
		}
		conn.Close()
		if v := get[string](t)(g.client(l).Get(ctx, p+"a").Result()); v != "1" {
			t.Fatalf("node %d: the skipped SET did not run: %q", i, v)
		}
	}
}
