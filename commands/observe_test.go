package commands_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestSlowlog(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"config", "set", "slowlog-log-slower-than", "-1"}, Want: "OK"},
			{Cmd: []any{"slowlog", "reset"}, Want: "OK"},
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"slowlog", "len"}, Want: int64(0)},
			{Cmd: []any{"config", "set", "slowlog-log-slower-than", "0", "slowlog-max-len", "3"}, Want: "OK"},
			{Cmd: []any{"client", "setname", "slowpoke"}, Want: "OK"},
			{Cmd: []any{"get", "k"}, Want: "v"},
			{Cmd: []any{"get", "k"}, Want: "v"},
			{Cmd: []any{"get", "k"}, Want: "v"},
			{Cmd: []any{"get", "k"}, Want: "v"},
			{Cmd: []any{"slowlog", "len"}, Want: int64(3)},
			{Cmd: []any{"slowlog", "get", "-2"}, WantErr: "ERR count should be greater than or equal to -1"},
			{Cmd: []any{"slowlog", "get", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"slowlog", "get", "0"}, Want: []any{}},
			{Cmd: []any{"slowlog", "nope"}, WantErr: "ERR unknown subcommand 'nope'"},
		})
		entries, err := c.Do(ctx, "slowlog", "get", "-1").Slice()
		if err != nil || len(entries) != 3 {
			t.Fatalf("slowlog get -1: %v %v", entries, err)
		}
		e := entries[0].([]any)
		if len(e) != 6 {
			t.Fatalf("entry shape: %#v", e)
		}
		if got := fmt.Sprint(e[3]); got != "[slowlog get 0]" {
			t.Errorf("newest entry args: %s", got)
		}
		if e[5] != "slowpoke" || !strings.HasPrefix(e[4].(string), "127.0.0.1:") {
			t.Errorf("client fields: %#v %#v", e[4], e[5])
		}
		older := entries[2].([]any)
		if older[0].(int64) >= e[0].(int64) {
			t.Errorf("ids not increasing: %v then %v", older[0], e[0])
		}

		// Trimming: 32 arguments at most, 128 bytes per argument.
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"config", "set", "slowlog-max-len", "10"}, Want: "OK"},
			{Cmd: []any{"slowlog", "reset"}, Want: "OK"},
		})
		args := []any{"sadd", "set"}
		for i := 3; i <= 33; i++ {
			args = append(args, fmt.Sprint(i))
		}
		c.Do(ctx, args...)
		c.Do(ctx, "sadd", "set", "foo", strings.Repeat("A", 129))
		c.Do(ctx, "auth", "nobody", "secret")
		c.Do(ctx, "config", "set", "jwt-secret", "topsecret")
		entries, _ = c.Do(ctx, "slowlog", "get").Slice()
		want := []string{
			"[config set jwt-secret (redacted)]",
			"[auth (redacted) (redacted)]",
			"[sadd set foo " + strings.Repeat("A", 128) + "... (1 more bytes)]",
		}
		for i, w := range want {
			if got := fmt.Sprint(entries[i].([]any)[3]); got != w {
				t.Errorf("entry %d: %s, want %s", i, got, w)
			}
		}
		long := entries[3].([]any)[3].([]any)
		if len(long) != 32 || long[31] != "... (2 more arguments)" {
			t.Errorf("long entry: %d args, last %v", len(long), long[len(long)-1])
		}
	})
}

// EXEC is not logged; the commands it ran are.
func TestSlowlogExec(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		c.Do(ctx, "config", "set", "slowlog-log-slower-than", "0")
		c.Do(ctx, "slowlog", "reset")
		pipe := c.TxPipeline()
		pipe.Set(ctx, "a", "1", 0)
		pipe.Incr(ctx, "a")
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		c.Do(ctx, "config", "set", "slowlog-log-slower-than", "-1")
		entries, _ := c.Do(ctx, "slowlog", "get").Slice()
		// Newest first; the pipeline may have opened a connection of its
		// own (HELLO, CLIENT SETINFO are logged too): keep the transaction.
		var got []string
		for _, e := range entries {
			a := fmt.Sprint(e.([]any)[3])
			if a == "[incr a]" || a == "[set a 1]" || a == "[multi]" || a == "[exec]" {
				got = append(got, a)
			}
		}
		if want := "[[incr a] [set a 1] [multi]]"; fmt.Sprint(got) != want {
			t.Errorf("slowlog after MULTI/EXEC: %v, want %s", got, want)
		}
	})
}

func TestLatencyMonitor(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"latency", "reset"}, Any: true},
			{Cmd: []any{"latency", "latest"}, Want: []any{}},
			{Cmd: []any{"latency", "history", "command"}, Want: []any{}},
			{Cmd: []any{"latency", "reset", "nope"}, Want: int64(0)},
			{Cmd: []any{"latency", "graph", "command"}, WantErr: "ERR No samples available for event 'command'"},
			{Cmd: []any{"latency", "help", "x"}, WantErr: "ERR wrong number of arguments for 'latency|help' command"},
			{Cmd: []any{"config", "get", "latency-monitor-threshold"}, Want: configReply(c, "latency-monitor-threshold", "0")},
		})
		doc, err := c.Do(ctx, "latency", "doctor").Text()
		if err != nil || !strings.Contains(doc, "disabled") {
			t.Errorf("doctor with the monitor off: %q %v", doc, err)
		}
		// A command that takes 20 ms or more (a script that waits) is a
		// "command" event once the threshold is 1 ms.
		c.Do(ctx, "config", "set", "latency-monitor-threshold", "1")
		if err := c.Do(ctx, "eval", "local t = redis.call('time') local s = t[1]*1000000+t[2] repeat local n = redis.call('time') until n[1]*1000000+n[2] - s > 20000 return 1", "0").Err(); err != nil {
			t.Fatal(err)
		}
		latest, err := c.Do(ctx, "latency", "latest").Slice()
		if err != nil || len(latest) == 0 {
			t.Fatalf("latency latest: %v %v", latest, err)
		}
		ev := latest[0].([]any)
		if ev[0] != "command" || ev[2].(int64) < 20 || ev[3].(int64) < ev[2].(int64) {
			t.Errorf("latest: %#v", ev)
		}
		hist, _ := c.Do(ctx, "latency", "history", "command").Slice()
		if len(hist) != 1 || len(hist[0].([]any)) != 2 {
			t.Errorf("history: %#v", hist)
		}
		if g, err := c.Do(ctx, "latency", "graph", "command").Text(); err != nil || !strings.Contains(g, "command - high") {
			t.Errorf("graph: %q %v", g, err)
		}
		if doc, _ := c.Do(ctx, "latency", "doctor").Text(); !strings.Contains(doc, "1. command: 1 latency spikes") {
			t.Errorf("doctor: %q", doc)
		}
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"config", "set", "latency-monitor-threshold", "0"}, Want: "OK"},
			{Cmd: []any{"latency", "reset"}, Want: int64(1)},
			{Cmd: []any{"latency", "latest"}, Want: []any{}},
		})
	})
}

func configReply(c *redis.Client, name, v string) any {
	if c.Options().Protocol == 3 {
		return map[any]any{name: v}
	}
	return []any{name, v}
}

func TestLatencyHistogram(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		c.Do(ctx, "config", "resetstat")
		c.Do(ctx, "set", "a", "b")
		c.Do(ctx, "set", "c", "d")
		c.Do(ctx, "client", "id")
		v, err := c.Do(ctx, "latency", "histogram", "set", "client", "nosuch").Result()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]map[string]any{}
		switch x := v.(type) {
		case map[any]any: // RESP3
			for k, e := range x {
				m := map[string]any{}
				for f, val := range e.(map[any]any) {
					m[f.(string)] = val
				}
				got[k.(string)] = m
			}
		case []any: // RESP2: flat pairs
			for i := 0; i+1 < len(x); i += 2 {
				e := x[i+1].([]any)
				got[x[i].(string)] = map[string]any{e[0].(string): e[1], e[2].(string): e[3]}
			}
		}
		if len(got) != 2 || got["set"]["calls"] != int64(2) || got["client|id"]["calls"] != int64(1) {
			t.Fatalf("histogram: %#v", got)
		}
		var last int64
		switch h := got["set"]["histogram_usec"].(type) {
		case map[any]any:
			for _, n := range h {
				last = max(last, n.(int64))
			}
		case []any:
			last = h[len(h)-1].(int64)
		}
		if last != 2 {
			t.Errorf("cumulative count of set: %d, want 2 (%#v)", last, got["set"])
		}
	})
}

// monitorLines reads n MONITOR lines from a raw connection.
func monitorLines(t *testing.T, r *bufio.Reader, n int) []string {
	t.Helper()
	var out []string
	for i := 0; i < n; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("monitor read: %v (after %q)", err, out)
		}
		out = append(out, strings.TrimRight(line, "\r\n"))
	}
	return out
}

func TestMonitor(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	mon := s.Dial()
	fmt.Fprint(mon, "*1\r\n$7\r\nMONITOR\r\n")
	r := bufio.NewReader(mon)
	if got := monitorLines(t, r, 1); got[0] != "+OK" {
		t.Fatalf("MONITOR: %q", got)
	}
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		// The client's connection handshake (HELLO) comes first; skip
		// everything before our marker.
		c.Do(ctx, "echo", "marker")
		for {
			l := monitorLines(t, r, 1)[0]
			if strings.HasSuffix(l, `"echo" "marker"`) {
				break
			}
		}
		c.Do(ctx, "set", "k", "a b\n\"q\"\x01")
		c.Do(ctx, "select", "1")
		c.Do(ctx, "auth", "someone", "pw")
		c.Do(ctx, "hello", "3", "auth", "someone", "pw")
		c.Do(ctx, "config", "get", "port") // admin: never shown
		c.Do(ctx, "eval", "return redis.call('get', KEYS[1])", "1", "k")
		c.Do(ctx, "select", "0")
		lines := monitorLines(t, r, 7)
		re := regexp.MustCompile(`^\+\d+\.\d{6} \[(\d+) ([^\]]+)\] (.*)$`)
		want := []struct{ db, src, args string }{
			{"0", "127.0.0.1:", `"set" "k" "a b\n\"q\"\x01"`},
			{"1", "127.0.0.1:", `"select" "1"`},
			{"1", "127.0.0.1:", `"auth" "(redacted)" "(redacted)"`},
			{"1", "127.0.0.1:", `"hello" "3" "auth" "(redacted)" "(redacted)"`},
			{"1", "127.0.0.1:", `"eval" "return redis.call('get', KEYS[1])" "1" "k"`},
			{"1", "lua", `"get" "k"`},
			{"0", "127.0.0.1:", `"select" "0"`},
		}
		for i, l := range lines {
			m := re.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("line %d not in Redis' format: %q", i, l)
			}
			w := want[i]
			if m[1] != w.db || !strings.HasPrefix(m[2], w.src) || m[3] != w.args {
				t.Errorf("line %d: %q, want db %s from %s args %s", i, l, w.db, w.src, w.args)
			}
		}
	})
}

func TestClientPause(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		admin := s.Client(c.Options().Protocol)
		testserver.Run(t, admin, []testserver.Case{
			{Cmd: []any{"client", "pause", "x"}, WantErr: "ERR timeout is not an integer or out of range"},
			{Cmd: []any{"client", "pause", "-1"}, WantErr: "ERR timeout is negative"},
			{Cmd: []any{"client", "pause", "10", "some"}, WantErr: "ERR CLIENT PAUSE mode must be WRITE or ALL"},
			{Cmd: []any{"set", "k", "before"}, Want: "OK"},
			{Cmd: []any{"client", "pause", "60000", "write"}, Want: "OK"},
		})
		// Reads go on; a write waits, and so does what the client sent after.
		if v, err := c.Get(ctx, "k").Result(); err != nil || v != "before" {
			t.Fatalf("read during a write pause: %q %v", v, err)
		}
		done := make(chan []redis.Cmder, 1)
		go func() {
			p := c.Pipeline()
			p.Set(ctx, "k", "after", 0)
			p.Get(ctx, "k")
			cmds, _ := p.Exec(ctx)
			done <- cmds
		}()
		waitFor(t, func() bool { return infoField(t, admin, "clients", "blocked_clients") == "1" })
		select {
		case <-done:
			t.Fatal("a write ran during CLIENT PAUSE WRITE")
		default:
		}
		if v, _ := admin.Get(ctx, "k").Result(); v != "before" {
			t.Fatalf("value changed during the pause: %q", v)
		}
		// Syntax errors answer at once.
		if err := admin.Do(ctx, "set", "k").Err(); err == nil || !strings.Contains(err.Error(), "wrong number of arguments") {
			t.Errorf("arity error during a pause: %v", err)
		}
		if err := admin.Do(ctx, "client", "unpause").Err(); err != nil {
			t.Fatal(err)
		}
		cmds := <-done
		if cmds[0].(*redis.StatusCmd).Val() != "OK" || cmds[1].(*redis.StringCmd).Val() != "after" {
			t.Errorf("held pipeline: %v", cmds)
		}
		// ALL holds reads too; the timeout ends it.
		admin.Do(ctx, "client", "pause", "300", "all")
		start := time.Now()
		if v, err := c.Get(ctx, "k").Result(); err != nil || v != "after" {
			t.Fatalf("read after ALL pause: %q %v", v, err)
		}
		if time.Since(start) < 200*time.Millisecond {
			t.Errorf("read returned %v into a 300 ms ALL pause", time.Since(start))
		}
	})
}

func TestClientPauseExpiry(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client(2)
	before := infoField(t, c, "stats", "expired_keys")
	c.Set(ctx, "e", "v", 20*time.Millisecond)
	c.Do(ctx, "client", "pause", "60000", "write")
	time.Sleep(300 * time.Millisecond) // several active-expire ticks
	if err := c.Get(ctx, "e").Err(); err != redis.Nil {
		t.Fatalf("expired key read during a pause: %v", err)
	}
	if got := infoField(t, c, "stats", "expired_keys"); got != before {
		t.Errorf("expired_keys moved during a pause: %s -> %s", before, got)
	}
	c.Do(ctx, "client", "unpause")
	waitFor(t, func() bool { return infoField(t, c, "stats", "expired_keys") != before })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func infoField(t testing.TB, c *redis.Client, section, field string) string {
	t.Helper()
	info, err := c.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return ""
}

func TestInfoStatsAndCPU(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		c.Do(ctx, "config", "resetstat")
		for i := 0; i < 50; i++ {
			c.Set(ctx, "k", strings.Repeat("x", 100), 0)
		}
		// Sampled every 100 ms over 16 samples: the rate shows within a few.
		waitFor(t, func() bool { return infoField(t, c, "stats", "instantaneous_ops_per_sec") != "0" })
		in, _ := strconv.ParseInt(infoField(t, c, "stats", "total_net_input_bytes"), 10, 64)
		out, _ := strconv.ParseInt(infoField(t, c, "stats", "total_net_output_bytes"), 10, 64)
		if in < 50*100 || out < 50*5 {
			t.Errorf("net bytes in %d out %d after 50 SETs of 100 bytes", in, out)
		}
		if reads := infoField(t, c, "stats", "total_reads_processed"); reads == "0" {
			t.Error("total_reads_processed is 0")
		}
		// Every Redis 7.0 stats field is present, in Redis' order.
		info, _ := c.Info(ctx, "stats").Result()
		var got []string
		for _, l := range strings.Split(info, "\r\n") {
			if k, _, ok := strings.Cut(l, ":"); ok {
				got = append(got, k)
			}
		}
		want := "total_connections_received total_commands_processed instantaneous_ops_per_sec total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes total_net_repl_output_bytes instantaneous_input_kbps instantaneous_output_kbps instantaneous_input_repl_kbps instantaneous_output_repl_kbps rejected_connections sync_full sync_partial_ok sync_partial_err expired_keys expired_stale_perc expired_time_cap_reached_count expire_cycle_cpu_milliseconds evicted_keys evicted_clients total_eviction_exceeded_time current_eviction_exceeded_time keyspace_hits keyspace_misses pubsub_channels pubsub_patterns pubsubshard_channels latest_fork_usec total_forks migrate_cached_sockets slave_expires_tracked_keys active_defrag_hits active_defrag_misses active_defrag_key_hits active_defrag_key_misses total_active_defrag_time current_active_defrag_time tracking_total_keys tracking_total_items tracking_total_prefixes unexpected_error_replies total_error_replies dump_payload_sanitizations total_reads_processed total_writes_processed io_threaded_reads_processed io_threaded_writes_processed reply_buffer_shrinks reply_buffer_expands"
		if g := strings.Join(got, " "); !strings.HasPrefix(g, want) {
			t.Errorf("INFO stats fields:\n%s\nwant prefix\n%s", g, want)
		}
		user, _ := strconv.ParseFloat(infoField(t, c, "cpu", "used_cpu_user"), 64)
		sys, _ := strconv.ParseFloat(infoField(t, c, "cpu", "used_cpu_sys"), 64)
		if user+sys <= 0 {
			t.Errorf("used_cpu_user %v used_cpu_sys %v", user, sys)
		}
		infoField(t, c, "cpu", "used_cpu_user_children")
		infoField(t, c, "cpu", "used_cpu_sys_main_thread")
	})
}

// A save rule takes a snapshot to dbfilename once it is met.
func TestSaveRules(t *testing.T) {
	s := testserver.Start(t, "save", "1 2", "dbfilename", "rules.db")
	ctx := context.Background()
	c := s.Client(2)
	c.Set(ctx, "a", "1", 0)
	c.Set(ctx, "b", "2", 0)
	waitFor(t, func() bool {
		_, err := os.Stat(filepath.Join(s.Dir, "rules.db"))
		return err == nil && infoField(t, c, "persistence", "rdb_changes_since_last_save") == "0"
	})
}

// A write pipelined after CLIENT PAUSE in the same packet is held too.
func TestClientPauseInPipeline(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	admin := s.Client(2)
	nc := s.Dial()
	fmt.Fprint(nc, "*4\r\n$6\r\nCLIENT\r\n$5\r\nPAUSE\r\n$5\r\n60000\r\n$5\r\nWRITE\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
	r := bufio.NewReader(nc)
	if got := monitorLines(t, r, 1); got[0] != "+OK" {
		t.Fatalf("CLIENT PAUSE: %q", got)
	}
	waitFor(t, func() bool { return infoField(t, admin, "clients", "blocked_clients") == "1" })
	if err := admin.Get(ctx, "k").Err(); err != redis.Nil {
		t.Fatalf("the pipelined SET ran during the pause: %v", err)
	}
	admin.Do(ctx, "client", "unpause")
	if got := monitorLines(t, r, 3); got[0] != "+OK" || got[1] != "$1" || got[2] != "v" {
		t.Errorf("after unpause: %q", got)
	}
}
