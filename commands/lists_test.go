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
