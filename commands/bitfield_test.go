package commands_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestBitfieldCommands(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"del", "bf", "s"}, Any: true},
			{Cmd: []any{"bitfield", "bf", "set", "i8", "0", "-100", "get", "u8", "0"}, Want: []any{int64(0), int64(156)}},
			{Cmd: []any{"bitfield", "bf", "incrby", "u2", "#1", "5", "overflow", "sat", "incrby", "u2", "#2", "5", "overflow", "fail", "incrby", "u2", "#3", "5"}, Want: []any{int64(2), int64(3), nil}},
			{Cmd: []any{"get", "bf"}, Want: "\xac"},
			{Cmd: []any{"bitfield_ro", "bf", "get", "i4", "#0"}, Want: []any{int64(-6)}},
			{Cmd: []any{"bitfield_ro", "bf", "set", "i4", "0", "1"}, WantErr: "ERR BITFIELD_RO only supports the GET subcommand"},
			{Cmd: []any{"bitfield", "bf", "get", "u64", "0"}, WantErr: "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."},
			{Cmd: []any{"bitfield", "bf", "get", "u8", "-1"}, WantErr: "ERR bit offset is not an integer or out of range"},
			{Cmd: []any{"bitfield", "bf", "overflow", "maybe", "get", "u8", "0"}, WantErr: "ERR Invalid OVERFLOW type specified"},
			{Cmd: []any{"bitfield", "bf", "set", "u8", "0", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"bitfield", "nokey", "get", "u8", "0"}, Want: []any{int64(0)}},
			{Cmd: []any{"exists", "nokey"}, Want: int64(0)},
			{Cmd: []any{"sadd", "s", "x"}, Want: int64(1)},
			{Cmd: []any{"bitfield", "s", "get", "u8", "0"}, WantErr: "WRONGTYPE Operation against a key holding the wrong kind of value"},
		})
	})
}
