package commands_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

// BITFIELD replies checked against redis-server 7.0.15 with the same commands.
func TestBitfield(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"BITFIELD", "k", "INCRBY", "u8", "#0", 1, "GET", "u8", "#0"}, Want: []any{int64(1), int64(1)}},
			{Cmd: []any{"BITFIELD", "k", "SET", "i8", 0, -100, "GET", "i8", 0, "INCRBY", "i8", 0, -100, "OVERFLOW", "SAT", "INCRBY", "i8", 0, -100, "OVERFLOW", "FAIL", "INCRBY", "i8", 0, -100},
				Want: []any{int64(1), int64(-100), int64(56), int64(-44), nil}},
			{Cmd: []any{"BITFIELD", "k2", "SET", "u4", 0, 1, "INCRBY", "u4", 0, 20, "GET", "u4", 0}, Want: []any{int64(0), int64(5), int64(5)}},
			{Cmd: []any{"BITFIELD", "k2", "OVERFLOW", "SAT", "INCRBY", "u4", 0, 100, "INCRBY", "u4", 0, -100}, Want: []any{int64(15), int64(0)}},
			{Cmd: []any{"BITFIELD_RO", "k", "GET", "i64", 0}, Want: []any{int64(-3170534137668829184)}},
			{Cmd: []any{"SET", "s", "ab"}, Want: "OK"},
			{Cmd: []any{"BITFIELD", "s", "GET", "u16", 0}, Want: []any{int64(24930)}},
			{Cmd: []any{"BITFIELD", "nosuch", "GET", "u8", 0}, Want: []any{int64(0)}},
			{Cmd: []any{"EXISTS", "nosuch"}, Want: int64(0)},
			{Cmd: []any{"BITFIELD_RO", "k", "SET", "u8", 0, 1}, WantErr: "ERR BITFIELD_RO only supports the GET subcommand"},
			{Cmd: []any{"BITFIELD", "k", "GET", "u64", 0}, WantErr: "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."},
			{Cmd: []any{"BITFIELD", "k", "GET", "u8", -1}, WantErr: "ERR bit offset is not an integer or out of range"},
			{Cmd: []any{"BITFIELD", "k", "OVERFLOW", "NOPE", "GET", "u8", 0}, WantErr: "ERR Invalid OVERFLOW type specified"},
			{Cmd: []any{"BITFIELD", "k", "SET", "u8", 0, "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"LPUSH", "l", "a"}, Want: int64(1)},
			{Cmd: []any{"BITFIELD", "l", "GET", "u8", 0}, WantErr: "WRONGTYPE"},
		})
	})
}
