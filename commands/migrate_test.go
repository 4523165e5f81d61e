package commands_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// MIGRATE moves (or with COPY copies) keys to another sessiond over a real
// connection: DUMP here, AUTH/SELECT/RESTORE there, DEL here once the
// target acknowledged; TTLs, REPLACE, KEYS, NOKEY and the target's errors
// as Redis.
func TestMigrate(t *testing.T) {
	src := testserver.Start(t)
	dst := testserver.Start(t, "requirepass", "secret")
	host, port, _ := net.SplitHostPort(dst.Addr)
	ctx := context.Background()
	target := dst.ClientAs(2, "default", "secret")
	src.Protocols(t, func(t *testing.T, c *redis.Client) {
		if err := target.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		mig := func(args ...any) []any { return append([]any{"MIGRATE", host, port}, args...) }
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"SET", "k", "v", "EX", "1000"}, Want: "OK"},
			{Cmd: []any{"HSET", "h", "z", "1", "a", "2"}, Want: int64(2)},
			{Cmd: []any{"SET", "c", "copied"}, Want: "OK"},
			{Cmd: mig("k", "0", "5000", "AUTH", "secret"), Want: "OK"},
			{Cmd: []any{"EXISTS", "k"}, Want: int64(0)},
			{Cmd: mig("c", "0", "5000", "COPY", "AUTH2", "default", "secret"), Want: "OK"},
			{Cmd: []any{"GET", "c"}, Want: "copied"},
			// The target has c now: BUSYKEY unless REPLACE.
			{Cmd: mig("c", "0", "5000", "AUTH", "secret"), WantErr: "ERR Target instance replied with error: BUSYKEY Target key name already exists."},
			{Cmd: []any{"GET", "c"}, Want: "copied"},
			{Cmd: []any{"SET", "c", "newer"}, Want: "OK"},
			{Cmd: mig("c", "0", "5000", "REPLACE", "AUTH", "secret"), Want: "OK"},
			// Several keys into database 3, the missing one skipped.
			{Cmd: mig("", "3", "5000", "AUTH", "secret", "KEYS", "h", "missing"), Want: "OK"},
			{Cmd: []any{"EXISTS", "h"}, Want: int64(0)},
			{Cmd: mig("", "3", "5000", "AUTH", "secret", "KEYS", "missing"), Want: "NOKEY"},
			{Cmd: mig("missing", "0", "5000"), Want: "NOKEY"},
			{Cmd: []any{"SET", "x", "1"}, Want: "OK"},
			{Cmd: mig("x", "0", "5000", "AUTH", "wrong"), WantErr: "ERR Target instance replied with error: WRONGPASS"},
			{Cmd: []any{"GET", "x"}, Want: "1"},
			{Cmd: mig("x", "0", "5000"), WantErr: "ERR Target instance replied with error: NOAUTH"},
			{Cmd: mig("x", "0", "5000", "KEYS", "x"), WantErr: "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"},
			{Cmd: mig("x", "0", "5000", "BOGUS"), WantErr: "ERR syntax error"},
			{Cmd: mig("x", "db", "5000"), WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"MIGRATE", "127.0.0.1", "1", "x", "0", "500"}, WantErr: "IOERR error or timeout connecting to the client"},
			{Cmd: []any{"GET", "x"}, Want: "1"},
		})
		if v := target.Get(ctx, "k").Val(); v != "v" {
			t.Errorf("target k = %q", v)
		}
		if ttl := target.TTL(ctx, "k").Val(); ttl <= 0 {
			t.Errorf("target k TTL %v: the TTL did not travel", ttl)
		}
		if v := target.Get(ctx, "c").Val(); v != "newer" {
			t.Errorf("target c = %q after REPLACE", v)
		}
		t3 := redis.NewClient(&redis.Options{Addr: dst.Addr, Password: "secret", DB: 3})
		defer t3.Close()
		if v := t3.HKeys(ctx, "h").Val(); len(v) != 2 || v[0] != "z" {
			t.Errorf("target db 3 h fields %v", v)
		}
	})
}

// MIGRATE's keys for COMMAND GETKEYS and ACLs: the key argument, or those
// after KEYS (AUTH and AUTH2 arguments are not keys), as Redis.
func TestMigrateKeys(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"COMMAND", "GETKEYS", "MIGRATE", "h", "1", "k", "0", "500"}, Want: []any{"k"}},
			{Cmd: []any{"COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "500", "AUTH2", "KEYS", "p", "KEYS", "a", "b"}, Want: []any{"a", "b"}},
			{Cmd: []any{"COMMAND", "GETKEYSANDFLAGS", "MIGRATE", "h", "1", "", "0", "500", "KEYS", "a"}, Want: []any{
				[]any{"a", []any{"RW", "access", "delete", "incomplete"}}}},
			{Cmd: []any{"ACL", "SETUSER", "m", "on", "nopass", "+@all", "%R~read*", "%W~write*", "%RW~rw*"}, Want: "OK"},
			{Cmd: []any{"ACL", "DRYRUN", "m", "MIGRATE", "h", "1", "rw", "0", "500"}, Want: "OK"},
			{Cmd: []any{"ACL", "DRYRUN", "m", "MIGRATE", "h", "1", "read", "0", "500"}, Want: "This user has no permissions to access the 'read' key"},
			{Cmd: []any{"ACL", "DRYRUN", "m", "MIGRATE", "h", "1", "", "0", "500", "AUTH", "KEYS", "KEYS", "rw"}, Want: "OK"},
			{Cmd: []any{"ACL", "DRYRUN", "m", "MIGRATE", "h", "1", "", "0", "500", "AUTH2", "KEYS", "1", "KEYS", "write"}, Want: "This user has no permissions to access the 'write' key"},
		})
		info := commandInfo(t, c, "migrate")
		if !containsWord(info[2], "movablekeys") {
			t.Errorf("MIGRATE flags %v lack movablekeys", info[2])
		}
	})
}

// startRedis runs Debian's redis-server on a free port for the test, or
// skips the test when it is not installed.
func startRedis(t *testing.T) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server): the cross-check against Redis is skipped")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Protocol: 2})
	t.Cleanup(func() { c.Close() })
	for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
		if i > 200 {
			t.Fatal("redis-server did not answer PING")
		}
		time.Sleep(25 * time.Millisecond)
	}
	return c
}

// DUMP writes every type in Redis' own format: MIGRATE moves strings,
// lists, sets, sorted sets, hashes and a stream with its group to
// redis-server, which restores them as they were (TTL included).
func TestMigrateToRedis(t *testing.T) {
	r := startRedis(t)
	s := testserver.Start(t)
	host, port, _ := net.SplitHostPort(r.Options().Addr)
	ctx := context.Background()
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		r.FlushAll(ctx)
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"SET", "s", "hello", "PX", "100000"}, Want: "OK"},
			{Cmd: []any{"RPUSH", "l", "a", "b", "c"}, Want: int64(3)},
			{Cmd: []any{"SADD", "set", "x", "y"}, Want: int64(2)},
			{Cmd: []any{"ZADD", "z", "1.5", "a", "2", "b"}, Want: int64(2)},
			{Cmd: []any{"HSET", "h", "z", "1", "a", "2"}, Want: int64(2)},
			{Cmd: []any{"XADD", "x", "1-1", "f", "v", "g", "w"}, Want: "1-1"},
			{Cmd: []any{"XADD", "x", "2-0", "f", "v2"}, Want: "2-0"},
			{Cmd: []any{"XADD", "x", "3-0", "f", "v3"}, Want: "3-0"},
			{Cmd: []any{"XDEL", "x", "3-0"}, Want: int64(1)},
			{Cmd: []any{"XGROUP", "CREATE", "x", "g1", "0"}, Want: "OK"},
			{Cmd: []any{"XREADGROUP", "GROUP", "g1", "c1", "COUNT", "1", "STREAMS", "x", ">"}, Any: true},
			{Cmd: []any{"XGROUP", "CREATECONSUMER", "x", "g1", "idle"}, Want: int64(1)},
			{Cmd: []any{"MIGRATE", host, port, "", "0", "5000", "KEYS", "s", "l", "set", "z", "h", "x"}, Want: "OK"},
			{Cmd: []any{"DBSIZE"}, Want: int64(0)},
		})
		if v := r.Get(ctx, "s").Val(); v != "hello" {
			t.Errorf("redis s = %q", v)
		}
		if ttl := r.PTTL(ctx, "s").Val(); ttl <= 0 {
			t.Errorf("redis s PTTL %v", ttl)
		}
		if v := r.LRange(ctx, "l", 0, -1).Val(); !reflect.DeepEqual(v, []string{"a", "b", "c"}) {
			t.Errorf("redis l = %v", v)
		}
		if v := r.SMembers(ctx, "set").Val(); len(v) != 2 {
			t.Errorf("redis set = %v", v)
		}
		if v := r.ZRangeWithScores(ctx, "z", 0, -1).Val(); len(v) != 2 || v[0].Score != 1.5 || v[1].Member != "b" {
			t.Errorf("redis z = %v", v)
		}
		if v := r.HKeys(ctx, "h").Val(); !reflect.DeepEqual(v, []string{"z", "a"}) {
			t.Errorf("redis h fields = %v (Redis keeps a small hash's order too)", v)
		}
		if v := r.XRange(ctx, "x", "-", "+").Val(); len(v) != 2 || v[0].ID != "1-1" || v[0].Values["g"] != "w" || v[1].ID != "2-0" {
			t.Errorf("redis x = %v", v)
		}
		info, err := r.XInfoStreamFull(ctx, "x", 0).Result()
		if err != nil || info.EntriesAdded != 3 || info.MaxDeletedEntryID != "3-0" || info.LastGeneratedID != "3-0" || len(info.Groups) != 1 {
			t.Fatalf("redis x info %+v %v", info, err)
		}
		if g := info.Groups[0]; g.Name != "g1" || g.LastDeliveredID != "1-1" || len(g.Pending) != 1 || g.Pending[0].Consumer != "c1" || len(g.Consumers) != 2 {
			t.Errorf("redis x group %+v", g)
		}
		// And back: Redis' DUMP restores here.
		p, err := r.Dump(ctx, "h").Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Restore(ctx, "h2", 0, p).Err(); err != nil {
			t.Fatal(err)
		}
		if v := c.HKeys(ctx, "h2").Val(); !reflect.DeepEqual(v, []string{"z", "a"}) {
			t.Errorf("h2 fields = %v", v)
		}
	})
}
