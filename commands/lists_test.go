package commands_test

import (
	"testing"

	"github.com/sessiond/sessiond/internal/testserver"
)

func TestCompatLists(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"rpush", "l", "a", "b"}, Want: int64(2)},
			{Cmd: []any{"lpush", "l", "z", "y"}, Want: int64(4)},
			{Cmd: []any{"lrange", "l", "0", "-1"}, Want: []any{"y", "z", "a", "b"}},
			{Cmd: []any{"lrange", "l", "-2", "100"}, Want: []any{"a", "b"}},
			{Cmd: []any{"lrange", "l", "3", "1"}, Want: []any{}},
			{Cmd: []any{"lrange", "l", "a", "1"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"lrange", "nope", "0", "-1"}, Want: []any{}},
			{Cmd: []any{"llen", "l"}, Want: int64(4)},
			{Cmd: []any{"llen", "nope"}, Want: int64(0)},
			{Cmd: []any{"lindex", "l", "0"}, Want: "y"},
			{Cmd: []any{"lindex", "l", "-1"}, Want: "b"},
			{Cmd: []any{"lindex", "l", "9"}, Want: nil},
			{Cmd: []any{"lindex", "l", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"lset", "l", "1", "Z"}, Want: "OK"},
			{Cmd: []any{"lset", "l", "9", "Z"}, WantErr: "ERR index out of range"},
			{Cmd: []any{"lset", "nope", "0", "Z"}, WantErr: "ERR no such key"},
			{Cmd: []any{"lpop", "l"}, Want: "y"},
			{Cmd: []any{"rpop", "l"}, Want: "b"},
			{Cmd: []any{"lpop", "l", "5"}, Want: []any{"Z", "a"}},
			{Cmd: []any{"exists", "l"}, Want: int64(0)}, // emptied lists are deleted
			{Cmd: []any{"lpop", "l"}, Want: nil},
			{Cmd: []any{"lpop", "l", "2"}, Want: nil},
			{Cmd: []any{"lpop", "l", "-1"}, WantErr: "ERR value is out of range, must be positive"},
			{Cmd: []any{"rpush", "l", "a"}, Want: int64(1)},
			{Cmd: []any{"rpop", "l", "0"}, Want: []any{}},
			{Cmd: []any{"lpushx", "nope", "a"}, Want: int64(0)},
			{Cmd: []any{"exists", "nope"}, Want: int64(0)},
			{Cmd: []any{"rpushx", "l", "b", "c"}, Want: int64(3)},
			{Cmd: []any{"lpushx", "l", "0"}, Want: int64(4)},
			{Cmd: []any{"lrange", "l", "0", "-1"}, Want: []any{"0", "a", "b", "c"}},
			{Cmd: []any{"set", "s", "v"}, Want: "OK"},
			{Cmd: []any{"lpush", "s", "a"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"lrange", "s", "0", "1"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"rpush", "s"}, WantErr: "ERR wrong number of arguments for 'rpush' command"},
		})
	})
}

func TestCompatListEdits(t *testing.T) {
	s := testserver.Start(t)
	const notInt = "ERR value is not an integer or out of range"
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"set", "s", "v"}, Want: "OK"},
			{Cmd: []any{"rpush", "l", "a", "b", "c", "b", "a"}, Want: int64(5)},
			// LINSERT
			{Cmd: []any{"linsert", "l", "before", "b", "X"}, Want: int64(6)},
			{Cmd: []any{"linsert", "l", "AFTER", "a", "Y"}, Want: int64(7)},
			{Cmd: []any{"lrange", "l", "0", "-1"}, Want: []any{"a", "Y", "X", "b", "c", "b", "a"}},
			{Cmd: []any{"linsert", "l", "after", "zz", "Q"}, Want: int64(-1)},
			{Cmd: []any{"linsert", "nope", "before", "a", "b"}, Want: int64(0)},
			{Cmd: []any{"exists", "nope"}, Want: int64(0)},
			{Cmd: []any{"linsert", "l", "middle", "a", "b"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"linsert", "nope", "middle", "a", "b"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"linsert", "s", "before", "a", "b"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"linsert", "l", "before", "a"}, WantErr: "ERR wrong number of arguments for 'linsert' command"},
			// LREM
			{Cmd: []any{"lrem", "l", "1", "b"}, Want: int64(1)},
			{Cmd: []any{"lrem", "l", "-1", "a"}, Want: int64(1)},
			{Cmd: []any{"lrange", "l", "0", "-1"}, Want: []any{"a", "Y", "X", "c", "b"}},
			{Cmd: []any{"lrem", "l", "0", "zz"}, Want: int64(0)},
			{Cmd: []any{"lrem", "l", "x", "a"}, WantErr: notInt},
			{Cmd: []any{"lrem", "nope", "0", "a"}, Want: int64(0)},
			{Cmd: []any{"lrem", "s", "0", "a"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"rpush", "r", "x", "x"}, Want: int64(2)},
			{Cmd: []any{"lrem", "r", "0", "x"}, Want: int64(2)},
			{Cmd: []any{"exists", "r"}, Want: int64(0)},
			// LTRIM
			{Cmd: []any{"ltrim", "l", "1", "-2"}, Want: "OK"},
			{Cmd: []any{"lrange", "l", "0", "-1"}, Want: []any{"Y", "X", "c"}},
			{Cmd: []any{"ltrim", "l", "-100", "100"}, Want: "OK"},
			{Cmd: []any{"llen", "l"}, Want: int64(3)},
			{Cmd: []any{"ltrim", "l", "x", "1"}, WantErr: notInt},
			{Cmd: []any{"ltrim", "nope", "0", "1"}, Want: "OK"},
			{Cmd: []any{"ltrim", "s", "0", "1"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"ltrim", "l", "2", "1"}, Want: "OK"},
			{Cmd: []any{"exists", "l"}, Want: int64(0)},
			// LPOS
			{Cmd: []any{"rpush", "p", "a", "b", "c", "1", "2", "3", "c", "c"}, Want: int64(8)},
			{Cmd: []any{"lpos", "p", "c"}, Want: int64(2)},
			{Cmd: []any{"lpos", "p", "c", "rank", "2"}, Want: int64(6)},
			{Cmd: []any{"lpos", "p", "c", "RANK", "-1"}, Want: int64(7)},
			{Cmd: []any{"lpos", "p", "c", "count", "0"}, Want: []any{int64(2), int64(6), int64(7)}},
			{Cmd: []any{"lpos", "p", "c", "count", "2", "rank", "-1"}, Want: []any{int64(7), int64(6)}},
			{Cmd: []any{"lpos", "p", "c", "maxlen", "2"}, Want: nil},
			{Cmd: []any{"lpos", "p", "c", "count", "0", "maxlen", "3"}, Want: []any{int64(2)}},
			{Cmd: []any{"lpos", "p", "c", "rank", "9"}, Want: nil},
			{Cmd: []any{"lpos", "p", "x", "count", "1"}, Want: []any{}},
			{Cmd: []any{"lpos", "nope", "a"}, Want: nil},
			{Cmd: []any{"lpos", "nope", "a", "count", "1"}, Want: []any{}},
			{Cmd: []any{"lpos", "p", "c", "rank", "0"}, WantErr: "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"},
			{Cmd: []any{"lpos", "p", "c", "rank", "x"}, WantErr: notInt},
			{Cmd: []any{"lpos", "p", "c", "rank", "-9223372036854775808"}, Want: int64(7)}, // as Redis 7.0 does
			{Cmd: []any{"lpos", "p", "c", "count", "-1"}, WantErr: "ERR COUNT can't be negative"},
			{Cmd: []any{"lpos", "p", "c", "count", "x"}, WantErr: "ERR COUNT can't be negative"},
			{Cmd: []any{"lpos", "p", "c", "maxlen", "-1"}, WantErr: "ERR MAXLEN can't be negative"},
			{Cmd: []any{"lpos", "p", "c", "rank"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lpos", "p", "c", "bogus", "1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lpos", "s", "a"}, WantErr: "WRONGTYPE"},
		})
	})
}

func TestCompatListMoveAndMpop(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"set", "s", "v"}, Want: "OK"},
			{Cmd: []any{"rpush", "src", "a", "b", "c"}, Want: int64(3)},
			{Cmd: []any{"lmove", "src", "dst", "left", "RIGHT"}, Want: "a"},
			{Cmd: []any{"rpoplpush", "src", "dst"}, Want: "c"},
			{Cmd: []any{"lrange", "dst", "0", "-1"}, Want: []any{"c", "a"}},
			{Cmd: []any{"lmove", "src", "src", "right", "left"}, Want: "b"}, // rotating a single element
			{Cmd: []any{"lrange", "src", "0", "-1"}, Want: []any{"b"}},
			{Cmd: []any{"lmove", "nope", "dst", "left", "left"}, Want: nil},
			{Cmd: []any{"lmove", "src", "dst", "up", "left"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lmove", "src", "dst", "left", "down"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lmove", "src", "s", "left", "left"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"rpoplpush", "s", "dst"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"rpoplpush", "nope", "s"}, Want: nil}, // a missing source wins
			{Cmd: []any{"lrange", "src", "0", "-1"}, Want: []any{"b"}},
			{Cmd: []any{"lmove", "src", "dst", "left", "left"}, Want: "b"},
			{Cmd: []any{"exists", "src"}, Want: int64(0)},
			{Cmd: []any{"lrange", "dst", "0", "-1"}, Want: []any{"b", "c", "a"}},
			// LMPOP
			{Cmd: []any{"rpush", "m", "a", "b", "c"}, Want: int64(3)},
			{Cmd: []any{"lmpop", "2", "none", "m", "left"}, Want: []any{"m", []any{"a"}}},
			{Cmd: []any{"lmpop", "2", "none", "m", "RIGHT", "count", "5"}, Want: []any{"m", []any{"c", "b"}}},
			{Cmd: []any{"exists", "m"}, Want: int64(0)},
			{Cmd: []any{"lmpop", "1", "none", "left"}, Want: nil},
			{Cmd: []any{"lmpop", "0", "m", "left"}, WantErr: "ERR numkeys should be greater than 0"},
			{Cmd: []any{"lmpop", "a", "m", "left"}, WantErr: "ERR numkeys should be greater than 0"},
			{Cmd: []any{"lmpop", "1", "m", "middle"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lmpop", "2", "m", "left"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lmpop", "1", "m", "left", "count", "0"}, WantErr: "ERR count should be greater than 0"},
			{Cmd: []any{"lmpop", "1", "m", "left", "count", "1", "count", "1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lmpop", "1", "m", "left", "count"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lmpop", "2", "none", "s", "left"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"lmpop", "1"}, WantErr: "ERR wrong number of arguments for 'lmpop' command"},
			{Cmd: []any{"lpop", "m", "1", "1"}, WantErr: "ERR wrong number of arguments for 'lpop' command"},
			// Blocking forms with something to take answer at once.
			{Cmd: []any{"rpush", "b", "1", "2", "3", "4", "5"}, Want: int64(5)},
			{Cmd: []any{"blpop", "none", "b", "0"}, Want: []any{"b", "1"}},
			{Cmd: []any{"brpop", "none", "b", "0"}, Want: []any{"b", "5"}},
			{Cmd: []any{"blmpop", "0", "2", "none", "b", "left", "count", "2"}, Want: []any{"b", []any{"2", "3"}}},
			{Cmd: []any{"brpoplpush", "b", "b2", "0"}, Want: "4"},
			{Cmd: []any{"blmove", "b2", "b3", "left", "right", "0"}, Want: "4"},
			{Cmd: []any{"lrange", "b3", "0", "-1"}, Want: []any{"4"}},
			// Errors and timeouts.
			{Cmd: []any{"blpop", "none", "s", "0"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"blmpop", "0", "1", "s", "left"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"brpoplpush", "s", "dst", "0"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"blmove", "b3", "s", "left", "left", "0"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"blpop", "none", "-1"}, WantErr: "ERR timeout is negative"},
			{Cmd: []any{"blpop", "none", "x"}, WantErr: "ERR timeout is not a float or out of range"},
			{Cmd: []any{"brpoplpush", "none", "dst", "-0.5"}, WantErr: "ERR timeout is negative"},
			{Cmd: []any{"blmove", "none", "dst", "left", "left", "1e30"}, WantErr: "ERR timeout is negative"},
			{Cmd: []any{"blmove", "none", "dst", "left", "up", "x"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"blmpop", "x", "0", "none", "left"}, WantErr: "ERR numkeys should be greater than 0"},
			{Cmd: []any{"blmpop", "x", "1", "none", "left"}, WantErr: "ERR timeout is not a float or out of range"},
			{Cmd: []any{"blpop", "none", "0.01"}, Want: nil},
			{Cmd: []any{"brpop", "none", "other", "0.01"}, Want: nil},
			{Cmd: []any{"blmpop", "0.01", "1", "none", "left"}, Want: nil},
			{Cmd: []any{"brpoplpush", "none", "dst", "0.01"}, Want: nil},
			{Cmd: []any{"blmove", "none", "s", "left", "left", "0.01"}, Want: nil}, // a missing source blocks before the destination is checked
		})
	})
}
