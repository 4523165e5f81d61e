package commands_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
	"github.com/sessiond/sessiond/rdb"
)

// Payloads DUMPed by redis-server 7.0.15 (see rdb/rdb_test.go for more).
var redisPayloads = map[string]string{
	"sraw": "000568656c6c6f0a006372df766534200a",
	"l":    "1201021111000000040081610281620201010201ff0a006d72713e9b43482b",
	"si":   "0b18040000000400000001000000020000002c010000701101000a001440c9b9e6eb5e6a",
	"zs":   "111414000000040081610283312e35048162020201ff0a00fa02b425af188763",
	"hs":   "1011110000000400817a0201018161020201ff0a003c0e53f64897a4ad",
	"st":   "130110000000000000000100000000000000003e3e000000180002010101010181660200010201000100018161020401000101010001020181660281620281670281630208010301020100018164020401ff020300010003000301026731010081ffffffffffffffff0100000000000000010000000000000000a7e7e14ca20100000101026331a7e7e14ca201000001000000000000000100000000000000000a00b93d5df65102a0cc",
}

func redisPayload(t *testing.T, name string) string {
	t.Helper()
	b, err := hex.DecodeString(redisPayloads[name])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// RESTORE takes values DUMPed by Redis: each type lands as Redis had it
// (a small hash in its order, a stream with its group and pending entry),
// with TTL, REPLACE and Redis' errors for a damaged payload.
func TestRestoreRedisPayloads(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		bad := []byte(redisPayload(t, "sraw"))
		bad[len(bad)-1] ^= 1
		// Right checksum, content cut short: Redis' "Bad data format".
		cut := []byte("\x00\x05hel\x0a\x00")
		cut = binary.LittleEndian.AppendUint64(cut, rdb.Checksum(cut))
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"RESTORE", "s", "0", redisPayload(t, "sraw")}, Want: "OK"},
			{Cmd: []any{"GET", "s"}, Want: "hello"},
			{Cmd: []any{"RESTORE", "s", "0", redisPayload(t, "sraw")}, WantErr: "BUSYKEY Target key name already exists."},
			{Cmd: []any{"RESTORE", "s", "100000", redisPayload(t, "l"), "REPLACE"}, Want: "OK"},
			{Cmd: []any{"LRANGE", "s", "0", "-1"}, Want: []any{"a", "b", "1", "2"}},
			{Cmd: []any{"PERSIST", "s"}, Want: int64(1)},
			{Cmd: []any{"RESTORE", "set", "0", redisPayload(t, "si")}, Want: "OK"},
			{Cmd: []any{"SISMEMBER", "set", "70000"}, Want: int64(1)},
			{Cmd: []any{"SCARD", "set"}, Want: int64(4)},
			{Cmd: []any{"RESTORE", "z", "0", redisPayload(t, "zs")}, Want: "OK"},
			{Cmd: []any{"ZRANK", "z", "b"}, Want: int64(1)},
			{Cmd: []any{"RESTORE", "h", "0", redisPayload(t, "hs")}, Want: "OK"},
			{Cmd: []any{"HKEYS", "h"}, Want: []any{"z", "a"}},
			{Cmd: []any{"RESTORE", "st", "0", redisPayload(t, "st")}, Want: "OK"},
			{Cmd: []any{"XLEN", "st"}, Want: int64(2)},
			{Cmd: []any{"XRANGE", "st", "-", "+"}, Want: []any{
				[]any{"1-0", []any{"f", "a"}}, []any{"2-0", []any{"f", "b", "g", "c"}}}},
			{Cmd: []any{"XPENDING", "st", "g1", "-", "+", "10"}, Any: true},
			{Cmd: []any{"RESTORE", "x", "0", string(bad)}, WantErr: "ERR DUMP payload version or checksum are wrong"},
			{Cmd: []any{"RESTORE", "x", "0", string(cut)}, WantErr: "ERR Bad data format"},
			{Cmd: []any{"EXISTS", "x"}, Want: int64(0)},
		})
		ctx := context.Background()
		if ttl := c.TTL(ctx, "s").Val(); ttl != -1 {
			t.Errorf("TTL after PERSIST %v", ttl)
		}
		p, err := c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: "st", Group: "g1", Start: "-", End: "+", Count: 10}).Result()
		if err != nil || len(p) != 1 || p[0].ID != "1-0" || p[0].Consumer != "c1" || p[0].RetryCount != 1 {
			t.Errorf("restored PEL %+v %v", p, err)
		}
		info, err := c.XInfoStreamFull(ctx, "st", 0).Result()
		if err != nil || info.EntriesAdded != 3 || info.MaxDeletedEntryID != "3-0" || len(info.Groups) != 1 {
			t.Errorf("restored stream %+v %v", info, err)
		}
	})
}
