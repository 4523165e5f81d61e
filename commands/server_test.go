package commands_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestCompatServer(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"mset", "a", "1", "b", "2"}, Want: "OK"},
			{Cmd: []any{"dbsize"}, Want: int64(2)},
			{Cmd: []any{"dbsize", "x"}, WantErr: "ERR wrong number of arguments for 'dbsize' command"},
			{Cmd: []any{"flushdb", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"flushall", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"flushall", "sync", "async"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"select", "1"}, Want: "OK"},
			{Cmd: []any{"set", "c", "3"}, Want: "OK"},
			{Cmd: []any{"flushdb", "sync"}, Want: "OK"},
			{Cmd: []any{"dbsize"}, Want: int64(0)},
			{Cmd: []any{"set", "c", "3"}, Want: "OK"},
			{Cmd: []any{"select", "0"}, Want: "OK"},
			{Cmd: []any{"dbsize"}, Want: int64(2)},
			{Cmd: []any{"flushdb", "async"}, Want: "OK"},
			{Cmd: []any{"dbsize"}, Want: int64(0)},
			{Cmd: []any{"select", "1"}, Want: "OK"},
			{Cmd: []any{"dbsize"}, Want: int64(1)},
			{Cmd: []any{"swapdb", "0", "1"}, Want: "OK"},
			{Cmd: []any{"dbsize"}, Want: int64(0)},
			{Cmd: []any{"select", "0"}, Want: "OK"},
			{Cmd: []any{"get", "c"}, Want: "3"},
			{Cmd: []any{"swapdb", "0", "99"}, WantErr: "ERR DB index is out of range"},
			{Cmd: []any{"swapdb", "a", "0"}, WantErr: "ERR invalid first DB index"},
			{Cmd: []any{"swapdb", "0", "a"}, WantErr: "ERR invalid second DB index"},
			{Cmd: []any{"flushall"}, Want: "OK"},
			{Cmd: []any{"dbsize"}, Want: int64(0)},
			{Cmd: []any{"flushall", "async"}, Want: "OK"},
			{Cmd: []any{"time", "x"}, WantErr: "ERR wrong number of arguments for 'time' command"},
			{Cmd: []any{"lastsave", "x"}, WantErr: "ERR wrong number of arguments for 'lastsave' command"},
			// CONFIG.
			{Cmd: []any{"config", "get"}, WantErr: "ERR wrong number of arguments for 'config|get' command"},
			{Cmd: []any{"config", "get", "maxclients"}, Want: tg.by([]any{"maxclients", "10000"}, map[any]any{"maxclients": "10000"})},
			{Cmd: []any{"config", "get", "nosuchparam"}, Want: tg.by([]any{}, map[any]any{})},
			{Cmd: []any{"config", "set"}, WantErr: "ERR wrong number of arguments for 'config|set' command"},
			{Cmd: []any{"config", "set", "maxclients"}, WantErr: "ERR wrong number of arguments for 'config|set' command"},
			{Cmd: []any{"config", "set", "nosuchparam", "1"}, WantErr: "ERR Unknown option or number of arguments for CONFIG SET - 'nosuchparam'"},
			{Cmd: []any{"config", "set", "maxclients", "abc"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'maxclients')"},
			{Cmd: []any{"config", "set", "maxclients", "100", "maxclients", "5"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'maxclients') - duplicate parameter"},
			{Cmd: []any{"config", "set", "appendfsync", "foo"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following:"},
			{Cmd: []any{"config", "set", "databases", "4"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
			// All or nothing: the bad second pair leaves the first unchanged.
			{Cmd: []any{"config", "set", "maxclients", "500", "appendfsync", "foo"}, WantErr: "ERR CONFIG SET failed"},
			{Cmd: []any{"config", "get", "maxclients"}, Want: tg.by([]any{"maxclients", "10000"}, map[any]any{"maxclients": "10000"})},
			{Cmd: []any{"config", "set", "maxclients", "500", "timeout", "7"}, Want: "OK"},
			{Cmd: []any{"config", "get", "timeout"}, Want: tg.by([]any{"timeout", "7"}, map[any]any{"timeout": "7"})},
			{Cmd: []any{"config", "set", "maxclients", "10000", "timeout", "0"}, Want: "OK"},
			{Cmd: []any{"config", "set", "notify-keyspace-events", "KEA"}, Want: "OK"},
			{Cmd: []any{"config", "get", "notify-keyspace-events"}, Want: tg.by([]any{"notify-keyspace-events", "AKE"}, map[any]any{"notify-keyspace-events": "AKE"})},
			{Cmd: []any{"config", "set", "notify-keyspace-events", ""}, Want: "OK"},
			{Cmd: []any{"config", "set", "maxmemory", "1gb"}, Want: "OK"},
			{Cmd: []any{"config", "get", "maxmemory"}, Want: tg.by([]any{"maxmemory", "1073741824"}, map[any]any{"maxmemory": "1073741824"})},
			{Cmd: []any{"config", "set", "maxmemory", "0"}, Want: "OK"},
			{Cmd: []any{"config", "resetstat"}, Want: "OK"},
			{Cmd: []any{"config", "resetstat", "x"}, WantErr: "ERR wrong number of arguments for 'config|resetstat' command"},
			{Cmd: []any{"config", "foo"}, WantErr: "ERR unknown subcommand 'foo'. Try CONFIG HELP."},
			{Cmd: []any{"config"}, WantErr: "ERR wrong number of arguments for 'config' command"},
			// COMMAND.
			{Cmd: []any{"command", "count", "x"}, WantErr: "ERR wrong number of arguments for 'command|count' command"},
			{Cmd: []any{"command", "info", "nosuchcmd"}, Want: []any{nil}},
			{Cmd: []any{"command", "docs", "nosuchcmd"}, Want: tg.by([]any{}, map[any]any{})},
			{Cmd: []any{"command", "list", "filterby", "foo", "bar"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"command", "list", "filterby", "pattern", "xyz*"}, Want: []any{}},
			{Cmd: []any{"command", "getkeys", "nosuchcmd", "a"}, WantErr: "ERR Invalid command specified"},
			{Cmd: []any{"command", "getkeys", "set", "k", "v"}, Want: []any{"k"}},
			{Cmd: []any{"command", "getkeys", "mset", "a", "1", "b", "2"}, Want: []any{"a", "b"}},
			{Cmd: []any{"command", "getkeys", "copy", "a", "b", "db", "1"}, Want: []any{"a", "b"}},
			{Cmd: []any{"command", "foo"}, WantErr: "ERR unknown subcommand 'foo'. Try COMMAND HELP."},
			{Cmd: []any{"info", "nosuchsection"}, Want: ""},
			{Cmd: []any{"save", "x"}, WantErr: "ERR wrong number of arguments for 'save' command"},
			{Cmd: []any{"bgsave", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"shutdown", "foo"}, WantErr: "ERR syntax error"},
		})
		// TIME: seconds and microseconds, close to ours.
		tm := strs(must(t, tg.c, "time"))
		sec, _ := strconv.ParseInt(tm[0], 10, 64)
		usec, _ := strconv.ParseInt(tm[1], 10, 64)
		if d := time.Now().Unix() - sec; d < -2 || d > 2 || usec < 0 || usec >= 1e6 {
			t.Fatalf("TIME = %v", tm)
		}
		if ls := mustInt(t, tg.c, "lastsave"); ls <= 0 || ls > time.Now().Unix()+1 {
			t.Fatalf("LASTSAVE = %d", ls)
		}
		// CONFIG GET patterns and several names at once.
		cfg := configMap(t, tg, "config", "get", "*max-*-entries*")
		for _, name := range []string{"hash-max-ziplist-entries", "zset-max-ziplist-entries", "set-max-intset-entries"} {
			if _, ok := cfg[name]; !ok {
				t.Errorf("CONFIG GET *max-*-entries* lacks %s: %v", name, cfg)
			}
		}
		cfg = configMap(t, tg, "config", "get", "maxclients", "databases", "maxclients")
		if len(cfg) != 2 || cfg["databases"] != "16" || cfg["maxclients"] != "10000" {
			t.Errorf("CONFIG GET maxclients databases = %v", cfg)
		}
		for _, name := range []string{"port", "bind", "dir", "appendonly", "appendfilename", "appendfsync", "requirepass", "maxclients", "timeout",
			"proto-max-bulk-len", "client-output-buffer-limit", "databases", "notify-keyspace-events", "save", "dbfilename"} {
			if _, ok := configMap(t, tg, "config", "get", name)[name]; !ok {
				t.Errorf("CONFIG GET %s: missing", name)
			}
		}
		// COMMAND COUNT, INFO, DOCS, LIST agree with each other.
		count := mustInt(t, tg.c, "command", "count")
		all := must(t, tg.c, "command").([]any)
		if int64(len(all)) != count || count < 100 {
			t.Fatalf("COMMAND COUNT %d, COMMAND lists %d", count, len(all))
		}
		names := strs(must(t, tg.c, "command", "list"))
		top := 0
		for _, n := range names {
			if !strings.Contains(n, "|") {
				top++
			}
		}
		if int64(top) != count || !contains(names, "config|get") || !contains(names, "client|list") {
			t.Fatalf("COMMAND LIST has %d top-level names (COUNT %d) of %d", top, count, len(names))
		}
		info := must(t, tg.c, "command", "info", "get", "set", "config|get").([]any)
		get := info[0].([]any)
		if get[0] != "get" || get[1] != int64(2) || get[3] != int64(1) || get[4] != int64(1) || get[5] != int64(1) {
			t.Fatalf("COMMAND INFO get = %v", get)
		}
		if f := sortedStrs(get[2]); fmt.Sprint(f) != "[fast readonly]" {
			t.Fatalf("COMMAND INFO get flags = %v", f)
		}
		if cats := sortedStrs(get[6]); fmt.Sprint(cats) != "[@fast @read @string]" {
			t.Fatalf("COMMAND INFO get categories = %v", cats)
		}
		if set := info[1].([]any); set[0] != "set" || set[1] != int64(-3) || !contains(sortedStrs(set[2]), "write") {
			t.Fatalf("COMMAND INFO set = %v", set)
		}
		if cg := info[2].([]any); cg[0] != "config|get" || cg[1] != int64(-3) {
			t.Fatalf("COMMAND INFO config|get = %v", cg)
		}
		if subs := must(t, tg.c, "command", "info", "config").([]any)[0].([]any)[9].([]any); len(subs) < 4 {
			t.Fatalf("COMMAND INFO config subcommands = %v", subs)
		}
		docs := toMap(must(t, tg.c, "command", "docs", "get"))
		doc := toMap(docs["get"])
		if doc["group"] != "string" || doc["since"] != "1.0.0" || doc["summary"] == "" {
			t.Fatalf("COMMAND DOCS get = %v", doc)
		}
		if got := strs(must(t, tg.c, "command", "list", "filterby", "pattern", "xrev*")); fmt.Sprint(got) != "[xrevrange]" {
			t.Fatalf("COMMAND LIST FILTERBY PATTERN xrev* = %v", got)
		}
		if got := strs(must(t, tg.c, "command", "list", "filterby", "aclcat", "bitmap")); !contains(got, "setbit") && !tg.oracle {
			t.Logf("COMMAND LIST FILTERBY ACLCAT bitmap = %v", got)
		}
		if got := strs(must(t, tg.c, "command", "list", "filterby", "aclcat", "keyspace")); !contains(got, "del") || !contains(got, "scan") {
			t.Fatalf("COMMAND LIST FILTERBY ACLCAT keyspace = %v", got)
		}
	})
}

func sortedStrs(v any) []string {
	out := strs(v)
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// toMap reads a RESP3 map or a RESP2 flat array of pairs.
func toMap(v any) map[string]any {
	out := map[string]any{}
	switch x := v.(type) {
	case map[any]any:
		for k, val := range x {
			out[fmt.Sprint(k)] = val
		}
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			out[fmt.Sprint(x[i])] = x[i+1]
		}
	}
	return out
}

func configMap(t *testing.T, tg target, args ...any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range toMap(must(t, tg.c, args...)) {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// parseInfo parses an INFO reply into section -> field -> value.
func parseInfo(t *testing.T, c *redis.Client, args ...any) map[string]map[string]string {
	t.Helper()
	text := must(t, c, append([]any{"info"}, args...)...).(string)
	out := map[string]map[string]string{}
	sec := ""
	for _, line := range strings.Split(text, "\r\n") {
		switch {
		case strings.HasPrefix(line, "# "):
			sec = strings.ToLower(line[2:])
			out[sec] = map[string]string{}
		case line == "":
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || sec == "" {
				t.Fatalf("INFO line %q outside a section or without ':'", line)
			}
			out[sec][k] = v
		}
	}
	return out
}

func TestInfo(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		must(t, c, "config", "resetstat")
		must(t, c, "set", "k", "v", "ex", "100")
		must(t, c, "set", "k2", "v")
		must(t, c, "get", "k")
		must(t, c, "get", "nope")
		_, _ = send(c, "incr", "k")
		_, _ = send(c, "nosuchcommand")
		_, _ = send(c, "get")
		dflt := parseInfo(t, c)
		for _, sec := range []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "keyspace"} {
			if _, ok := dflt[sec]; !ok {
				t.Errorf("INFO lacks section %s", sec)
			}
		}
		if _, ok := dflt["commandstats"]; ok {
			t.Error("plain INFO includes commandstats")
		}
		if dflt["server"]["redis_version"] == "" || dflt["server"]["tcp_port"] == "" || dflt["server"]["process_id"] == "" || dflt["server"]["run_id"] == "" {
			t.Errorf("INFO server = %v", dflt["server"])
		}
		if dflt["persistence"]["loading"] != "0" {
			t.Errorf("INFO persistence loading = %q", dflt["persistence"]["loading"])
		}
		if n, _ := strconv.Atoi(dflt["clients"]["connected_clients"]); n < 1 {
			t.Errorf("connected_clients = %q", dflt["clients"]["connected_clients"])
		}
		if dflt["clients"]["maxclients"] != "10000" {
			t.Errorf("maxclients = %q", dflt["clients"]["maxclients"])
		}
		if n, _ := strconv.Atoi(dflt["memory"]["used_memory"]); n <= 0 {
			t.Errorf("used_memory = %q", dflt["memory"]["used_memory"])
		}
		if ks := dflt["keyspace"]["db0"]; !strings.HasPrefix(ks, "keys=2,expires=1,") {
			t.Errorf("INFO keyspace db0 = %q", ks)
		}
		st := dflt["stats"]
		if st["keyspace_hits"] != "1" || st["keyspace_misses"] != "1" {
			t.Errorf("hits/misses = %s/%s", st["keyspace_hits"], st["keyspace_misses"])
		}
		if st["total_error_replies"] != "3" {
			t.Errorf("total_error_replies = %q", st["total_error_replies"])
		}
		for _, f := range []string{"total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec", "rejected_connections", "expired_keys", "evicted_keys", "total_net_input_bytes", "total_net_output_bytes"} {
			if _, ok := st[f]; !ok {
				t.Errorf("INFO stats lacks %s", f)
			}
		}
		cs := parseInfo(t, c, "commandstats")["commandstats"]
		if len(parseInfo(t, c, "commandstats")) != 1 {
			t.Error("INFO commandstats returned other sections")
		}
		if !strings.HasPrefix(cs["cmdstat_set"], "calls=2,") || !strings.Contains(cs["cmdstat_set"], "rejected_calls=0,failed_calls=0") {
			t.Errorf("cmdstat_set = %q", cs["cmdstat_set"])
		}
		if !strings.HasPrefix(cs["cmdstat_incr"], "calls=1,") || !strings.HasSuffix(cs["cmdstat_incr"], "failed_calls=1") {
			t.Errorf("cmdstat_incr = %q", cs["cmdstat_incr"])
		}
		if !strings.HasSuffix(cs["cmdstat_get"], "rejected_calls=1,failed_calls=0") {
			t.Errorf("cmdstat_get = %q", cs["cmdstat_get"])
		}
		if !strings.HasPrefix(cs["cmdstat_config|resetstat"], "calls=1,") {
			t.Errorf("cmdstat_config|resetstat = %q", cs["cmdstat_config|resetstat"])
		}
		es := parseInfo(t, c, "errorstats")["errorstats"]
		if es["errorstat_ERR"] != "count=3" || len(es) != 1 {
			t.Errorf("errorstats = %v", es)
		}
		_, _ = send(c, "get", "k", "x")
		_, _ = send(c, "rpush", "k", "x") // WRONGTYPE
		es = parseInfo(t, c, "errorstats")["errorstats"]
		if es["errorstat_ERR"] != "count=4" || es["errorstat_WRONGTYPE"] != "count=1" {
			t.Errorf("errorstats = %v", es)
		}
		multi := parseInfo(t, c, "server", "clients")
		if len(multi) != 2 {
			t.Errorf("INFO server clients returned %d sections", len(multi))
		}
		all := parseInfo(t, c, "all")
		if _, ok := all["commandstats"]; !ok {
			t.Error("INFO all lacks commandstats")
		}
		every := parseInfo(t, c, "everything")
		if _, ok := every["commandstats"]; !ok {
			t.Error("INFO everything lacks commandstats")
		}
		// RESETSTAT clears the counters.
		must(t, c, "config", "resetstat")
		st = parseInfo(t, c, "stats")["stats"]
		if es := parseInfo(t, c, "errorstats")["errorstats"]; len(es) != 0 {
			t.Errorf("after RESETSTAT errorstats = %v", es)
		}
		if st["keyspace_hits"] != "0" || st["total_error_replies"] != "0" {
			t.Errorf("after RESETSTAT: hits %s, errors %s", st["keyspace_hits"], st["total_error_replies"])
		}
		cs = parseInfo(t, c, "commandstats")["commandstats"]
		if _, ok := cs["cmdstat_set"]; ok {
			t.Errorf("after RESETSTAT cmdstat_set = %q", cs["cmdstat_set"])
		}
	})
}

// SAVE and BGSAVE write a consistent copy of the data file that a server can
// start from, while writers keep writing.
func TestSaveBgsaveConsistentCopy(t *testing.T) {
	// dbfilename is protected: the test's client, on loopback, may change it.
	s := testserver.Start(t, "enable-protected-configs", "local")
	c := s.Client(2)
	ctx := context.Background()
	for i := 0; i < 1000; i++ {
		c.Set(ctx, fmt.Sprintf("k%d", i), i, 0)
	}
	c.Set(ctx, "ttl", "v", time.Hour)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		wc := s.Client(2)
		for i := 0; !stop.Load(); i++ {
			// The pair always holds equal values: a consistent copy shows that.
			wc.MSet(ctx, "pair:a", i, "pair:b", i)
		}
	}()
	time.Sleep(50 * time.Millisecond)
	before := mustInt(t, c, "lastsave")
	if v := must(t, c, "save"); v != "OK" {
		t.Fatalf("SAVE = %v", v)
	}
	checkSnapshot(t, s.Dir, "dump.db", 1000)
	if v := must(t, c, "config", "set", "dbfilename", "bg.db"); v != "OK" {
		t.Fatal(v)
	}
	if v := must(t, c, "bgsave"); v != "Background saving started" {
		t.Fatalf("BGSAVE = %v", v)
	}
	deadline := time.Now().Add(10 * time.Second)
	for parseInfo(t, c, "persistence")["persistence"]["rdb_bgsave_in_progress"] != "0" {
		if time.Now().After(deadline) {
			t.Fatal("BGSAVE never finished")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if after := mustInt(t, c, "lastsave"); after < before {
		t.Fatalf("LASTSAVE went back: %d < %d", after, before)
	}
	if st := parseInfo(t, c, "persistence")["persistence"]["rdb_last_bgsave_status"]; st != "ok" {
		t.Fatalf("rdb_last_bgsave_status = %q", st)
	}
	checkSnapshot(t, s.Dir, "bg.db", 1000)
}

// checkSnapshot starts a server on a copy of a snapshot and checks its data.
func checkSnapshot(t *testing.T, dir, name string, n int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("snapshot %s: %v", name, err)
	}
	copyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(copyDir, "sessiond.db"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := testserver.Start(t, "dir", copyDir)
	c2 := s2.Client(2)
	ctx := context.Background()
	if got := mustInt(t, c2, "dbsize"); got != int64(n)+3 {
		t.Fatalf("snapshot %s: DBSIZE %d, want %d", name, got, n+3)
	}
	for i := 0; i < n; i += 97 {
		if v, err := c2.Get(ctx, fmt.Sprintf("k%d", i)).Result(); err != nil || v != strconv.Itoa(i) {
			t.Fatalf("snapshot %s: k%d = %q %v", name, i, v, err)
		}
	}
	a, _ := c2.Get(ctx, "pair:a").Result()
	b, _ := c2.Get(ctx, "pair:b").Result()
	if a == "" || a != b {
		t.Fatalf("snapshot %s is not consistent: pair:a=%q pair:b=%q", name, a, b)
	}
	if ttl := c2.TTL(ctx, "ttl").Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Fatalf("snapshot %s: TTL %v", name, ttl)
	}
	s2.Stop()
}

// SHUTDOWN closes the connection, stops the server and keeps the data.
func TestShutdown(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	ctx := context.Background()
	must(t, c, "set", "k", "v", "px", "600000")
	err := c.Do(ctx, "shutdown").Err()
	if err == nil {
		t.Fatal("SHUTDOWN answered instead of closing the connection")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err != nil {
			break
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still accepting after SHUTDOWN")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Restart()
	c = s.Client(3)
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after SHUTDOWN and restart: %q %v", v, err)
	}
	if pttl := mustInt(t, c, "pttl", "k"); pttl < 590000 || pttl > 600000 {
		t.Fatalf("PTTL after restart = %d", pttl)
	}
	if err := c.Do(ctx, "shutdown", "nosave").Err(); err == nil {
		t.Fatal("SHUTDOWN NOSAVE answered")
	}
}

func TestFunctionFlushStub(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"function", "flush"}, Want: "OK"},
			{Cmd: []any{"function", "flush", "async"}, Want: "OK"},
			{Cmd: []any{"function", "flush", "foo"}, WantErr: "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"},
			{Cmd: []any{"function", "list"}, Want: []any{}},
		})
	})
}

// BGREWRITEAOF compacts the data file while serving; the data survives.
func TestBgrewriteaof(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	ctx := context.Background()
	for i := 0; i < 2000; i++ {
		c.Set(ctx, fmt.Sprintf("k%d", i%100), i, 0)
	}
	path := filepath.Join(s.Dir, "sessiond.db")
	before, _ := os.Stat(path)
	if v := must(t, c, "bgrewriteaof"); v != "Background append only file rewriting started" {
		t.Fatalf("BGREWRITEAOF = %v", v)
	}
	deadline := time.Now().Add(10 * time.Second)
	for parseInfo(t, c, "persistence")["persistence"]["aof_rewrite_in_progress"] != "0" {
		if time.Now().After(deadline) {
			t.Fatal("rewrite never finished")
		}
		time.Sleep(10 * time.Millisecond)
	}
	after, _ := os.Stat(path)
	if after.Size() >= before.Size() {
		t.Fatalf("file not compacted: %d -> %d bytes", before.Size(), after.Size())
	}
	c.Set(ctx, "after", "v", 0)
	s.Restart()
	c = s.Client(2)
	if n := c.DBSize(ctx).Val(); n != 101 {
		t.Fatalf("after rewrite and restart: %d keys", n)
	}
	if v := c.Get(ctx, "k99").Val(); v != "1999" {
		t.Fatalf("k99 = %q", v)
	}
	if _, err := send(c, "config", "rewrite"); err == nil || err.Error() != "ERR The server is running without a config file" {
		t.Fatalf("CONFIG REWRITE without a file: %v", err)
	}
}

// A failed BGREWRITEAOF shows in INFO persistence until a rewrite succeeds.
func TestBgrewriteaofStatus(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	// The rewrite starts in the background: wait for its outcome to show.
	await := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			p := parseInfo(t, c, "persistence")["persistence"]
			if p["aof_last_bgrewrite_status"] == want && p["aof_rewrite_in_progress"] == "0" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("aof_last_bgrewrite_status = %q, want %q", p["aof_last_bgrewrite_status"], want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	must(t, c, "set", "k", "v")
	await("ok")
	// The rewrite writes sessiond.db.tmp: a directory there makes it fail.
	tmp := filepath.Join(s.Dir, "sessiond.db.tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	must(t, c, "bgrewriteaof")
	await("err")
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	must(t, c, "bgrewriteaof")
	await("ok")
	if st := parseInfo(t, c, "persistence")["persistence"]["aof_last_write_status"]; st != "ok" {
		t.Fatalf("aof_last_write_status = %q", st)
	}
}
