package commands_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// Checked against redis-server 7.0.15 with REDIS_ORACLE (see compat).
func TestHyperLogLogCommands(t *testing.T) {
	s := testserver.Start(t)
	notHLL := "WRONGTYPE Key is not a valid HyperLogLog string value."
	corrupt := "INVALIDOBJ Corrupted HLL object detected"
	// PFADD abc a b c, PFCOUNT abc, GET abc on redis-server 7.0.15 (DECODE below after PFADD abc "").
	abc := "HYLL\x01\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x60\xf3\x80\x50\xb1\x84\x4b\xfb\x80\x42\x5a"
	compat(t, s, func(t *testing.T, tg target) {
		c := tg.c
		testserver.Run(t, c, []C{
			{Cmd: []any{"pfadd", "h"}, Want: int64(1)},
			{Cmd: []any{"exists", "h"}, Want: int64(1)},
			{Cmd: []any{"pfadd", "h"}, Want: int64(0)},
			{Cmd: []any{"pfcount", "h"}, Want: int64(0)},
			{Cmd: []any{"pfcount", "nokey"}, Want: int64(0)},
			{Cmd: []any{"exists", "nokey"}, Want: int64(0)},
			{Cmd: []any{"pfadd", "abc", "a", "b", "c"}, Want: int64(1)},
			{Cmd: []any{"pfadd", "abc", "a", "b", "c"}, Want: int64(0)},
			{Cmd: []any{"getrange", "abc", "15", "15"}, Want: "\x80"}, // cached count stale
			{Cmd: []any{"pfcount", "abc"}, Want: int64(3)},
			{Cmd: []any{"get", "abc"}, Want: abc}, // Redis' exact bytes, count cached
			{Cmd: []any{"pfadd", "abc", ""}, Want: int64(1)},
			{Cmd: []any{"pfcount", "abc"}, Want: int64(4)},
			{Cmd: []any{"pfdebug", "encoding", "abc"}, Want: "sparse"},
			{Cmd: []any{"pfdebug", "decode", "abc"}, Want: "Z:5938 v:2,1 Z:2497 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603"}, // as redis-server,
			// Several keys: the count of the union; the keys stay as they are.
			{Cmd: []any{"pfadd", "u1", "a", "b", "c"}, Want: int64(1)},
			{Cmd: []any{"pfadd", "u2", "b", "c", "d"}, Want: int64(1)},
			{Cmd: []any{"pfadd", "u3", "c", "d", "e"}, Want: int64(1)},
			{Cmd: []any{"pfcount", "u1", "u2", "u3", "nokey"}, Want: int64(5)},
			{Cmd: []any{"getrange", "u1", "15", "15"}, Want: "\x80"},
			{Cmd: []any{"pfmerge", "u", "u1", "u2", "u3", "nokey"}, Want: "OK"},
			{Cmd: []any{"pfcount", "u"}, Want: int64(5)},
			{Cmd: []any{"pfmerge", "u1", "u3"}, Want: "OK"},
			{Cmd: []any{"pfcount", "u1"}, Want: int64(5)},
			{Cmd: []any{"pfmerge", "empty"}, Want: "OK"},
			{Cmd: []any{"pfcount", "empty"}, Want: int64(0)},
			// Type checks: another type, and a string that is no HLL.
			{Cmd: []any{"set", "str", "bar"}, Want: "OK"},
			{Cmd: []any{"pfadd", "str", "1"}, WantErr: notHLL},
			{Cmd: []any{"pfcount", "str"}, WantErr: notHLL},
			{Cmd: []any{"pfcount", "u1", "str"}, WantErr: notHLL},
			{Cmd: []any{"pfmerge", "u", "str"}, WantErr: notHLL},
			{Cmd: []any{"pfmerge", "str", "u"}, WantErr: notHLL},
			{Cmd: []any{"pfdebug", "encoding", "str"}, WantErr: notHLL},
			{Cmd: []any{"sadd", "set", "x"}, Want: int64(1)},
			{Cmd: []any{"pfadd", "set", "1"}, WantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
			{Cmd: []any{"pfcount", "set"}, WantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
			// Corrupted values.
			{Cmd: []any{"pfadd", "bad", "a", "b", "c"}, Want: int64(1)},
			{Cmd: []any{"append", "bad", "hello"}, Any: true},
			{Cmd: []any{"pfcount", "bad"}, WantErr: corrupt},
			{Cmd: []any{"pfcount", "bad", "bad"}, WantErr: corrupt},
			{Cmd: []any{"pfmerge", "u", "bad"}, WantErr: corrupt},
			{Cmd: []any{"pfdebug", "getreg", "bad"}, WantErr: corrupt},
			{Cmd: []any{"setrange", "bad", "0", "0123"}, Any: true},
			{Cmd: []any{"pfcount", "bad"}, WantErr: notHLL},
			{Cmd: []any{"pfadd", "bad2", "a"}, Want: int64(1)},
			{Cmd: []any{"setrange", "bad2", "4", "\x00"}, Any: true}, // dense of the wrong length
			{Cmd: []any{"pfcount", "bad2"}, WantErr: notHLL},
			// PFDEBUG.
			{Cmd: []any{"pfdebug", "todense", "abc"}, Want: int64(1)},
			{Cmd: []any{"pfdebug", "todense", "abc"}, Want: int64(0)},
			{Cmd: []any{"pfdebug", "encoding", "abc"}, Want: "dense"},
			{Cmd: []any{"strlen", "abc"}, Want: int64(12304)},
			{Cmd: []any{"pfcount", "abc"}, Want: int64(4)},
			{Cmd: []any{"pfdebug", "decode", "abc"}, WantErr: "ERR HLL encoding is not sparse"},
			{Cmd: []any{"pfdebug", "getreg", "nokey"}, WantErr: "ERR The specified key does not exist"},
			{Cmd: []any{"pfdebug", "nope", "abc"}, WantErr: "ERR Unknown PFDEBUG subcommand 'nope'"},
			{Cmd: []any{"pfdebug", "getreg"}, WantErr: "ERR wrong number of arguments for 'pfdebug' command"},
			// In MULTI the cached count is written in EXEC's transaction.
			{Cmd: []any{"pfadd", "m", "x", "y"}, Want: int64(1)},
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"pfcount", "m"}, Want: "QUEUED"},
			{Cmd: []any{"exec"}, Want: []any{int64(2)}},
			{Cmd: []any{"getrange", "m", "8", "15"}, Want: "\x02\x00\x00\x00\x00\x00\x00\x00"},
		})
		ctx := context.Background()
		regs, err := c.Do(ctx, "pfdebug", "getreg", "u").Slice()
		if err != nil || len(regs) != 16384 {
			t.Fatalf("getreg: %d registers, %v", len(regs), err)
		}
	})
}

// A sparse HLL becomes dense once it would pass hll-sparse-max-bytes.
func TestHyperLogLogPromotion(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		c := tg.c
		ctx := context.Background()
		for _, tc := range []struct {
			max      string
			elements int
			want     string
		}{
			{"3000", 100, "sparse"},
			{"3000", 5000, "dense"},
			{"100", 100, "dense"},
			{"0", 1, "dense"},
		} {
			t.Run(tc.max+"/"+fmt.Sprint(tc.elements), func(t *testing.T) {
				if err := c.ConfigSet(ctx, "hll-sparse-max-bytes", tc.max).Err(); err != nil {
					t.Fatal(err)
				}
				defer c.ConfigSet(ctx, "hll-sparse-max-bytes", "3000")
				c.Del(ctx, "p")
				args := []any{"pfadd", "p"}
				for i := 0; i < tc.elements; i++ {
					args = append(args, i)
				}
				if err := c.Do(ctx, args...).Err(); err != nil {
					t.Fatal(err)
				}
				enc, err := c.Do(ctx, "pfdebug", "encoding", "p").Text()
				if err != nil || enc != tc.want {
					t.Fatalf("encoding %q, %v; want %q", enc, err, tc.want)
				}
				n, _ := c.StrLen(ctx, "p").Result()
				if tc.want == "sparse" && n > 3000 || tc.want == "dense" && n != 12304 {
					t.Fatalf("length %d for %s", n, tc.want)
				}
				card, err := c.PFCount(ctx, "p").Result()
				if diff := card - int64(tc.elements); err != nil || diff*diff*400 > int64(tc.elements*tc.elements) {
					t.Fatalf("count %d, %v for %d elements", card, err, tc.elements)
				}
			})
		}
		got, _ := c.ConfigGet(ctx, "hll-sparse-max-bytes").Result()
		if got["hll-sparse-max-bytes"] != "3000" {
			t.Fatalf("config get: %v", got)
		}
		if !strings.HasPrefix(fmt.Sprint(c.ConfigSet(ctx, "hll-sparse-max-bytes", "-1").Err()), "ERR") {
			t.Fatal("negative hll-sparse-max-bytes accepted")
		}
	})
}

// ACL key patterns: PFCOUNT needs read access only (its key spec is RW
// ACCESS: Redis asks write permission for INSERT, UPDATE or DELETE only, and
// Redis' acl-v2 unit checks PFCOUNT with a read-only pattern), PFMERGE reads
// its sources and reads and writes its destination.
func TestHyperLogLogACLKeys(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"acl", "setuser", "hllro", "on", "nopass", "+@all", "%R~ro:*", "~rw:*"}, Want: "OK"},
			{Cmd: []any{"pfadd", "ro:a", "x"}, Any: true},
			{Cmd: []any{"auth", "hllro", "x"}, Want: "OK"},
			{Cmd: []any{"pfcount", "ro:a"}, Want: int64(1)},
			{Cmd: []any{"pfmerge", "rw:d", "ro:a"}, Want: "OK"},
			{Cmd: []any{"pfmerge", "ro:a", "rw:d"}, WantErr: "NOPERM"},
			{Cmd: []any{"pfcount", "rw:d"}, Want: int64(1)},
			{Cmd: []any{"auth", "default", ""}, Any: true},
		})
	})
}

// PFSELFTEST runs Redis' own HyperLogLog self test: seconds of work by design
// (far more under -race), so it gets a client of its own with a long read
// timeout.
func TestPFSelfTest(t *testing.T) {
	s := testserver.Start(t)
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: s.Client(proto).Options().Addr, Protocol: proto, ReadTimeout: 5 * time.Minute})
		if got, err := c.Do(context.Background(), "pfselftest").Result(); err != nil || got != "OK" {
			t.Errorf("RESP%d PFSELFTEST = %v, %v", proto, got, err)
		}
		c.Close()
	}
}
