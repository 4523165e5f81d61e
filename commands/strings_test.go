package commands_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

type C = testserver.Case

func TestStrings(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"get", "k"}, Want: "v"},
			{Cmd: []any{"get", "missing"}, Want: nil},
			{Cmd: []any{"set", "k", "v2", "nx"}, Want: nil},
			{Cmd: []any{"set", "k", "v2", "xx", "get"}, Want: "v"},
			{Cmd: []any{"set", "k", "v", "nx", "xx"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"set", "k", "v", "ex", "0"}, WantErr: "ERR invalid expire time in 'set' command"},
			{Cmd: []any{"set", "k", "v", "ex", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"set", "k", "v", "ex", "10", "px", "100"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"set", "k", "v", "px", "100000"}, Want: "OK"},
			{Cmd: []any{"set", "k", "v3", "keepttl"}, Want: "OK"},
			{Cmd: []any{"pttl", "k"}, Want: int64(100000), Any: true},
			{Cmd: []any{"setex", "k", "-1", "v"}, WantErr: "ERR invalid expire time in 'setex' command"},
			{Cmd: []any{"setnx", "k", "x"}, Want: int64(0)},
			{Cmd: []any{"getset", "k", "x"}, Want: "v3"},
			{Cmd: []any{"getdel", "k"}, Want: "x"},
			{Cmd: []any{"get", "k"}, Want: nil},
			{Cmd: []any{"mset", "a", "1", "b", "2"}, Want: "OK"},
			{Cmd: []any{"mset", "a", "1", "b"}, WantErr: "ERR wrong number of arguments for 'mset' command"},
			{Cmd: []any{"mget", "a", "nope", "b"}, Want: []any{"1", nil, "2"}},
			{Cmd: []any{"msetnx", "a", "5", "zz", "1"}, Want: int64(0)},
			{Cmd: []any{"incr", "a"}, Want: int64(2)},
			{Cmd: []any{"incrby", "a", "10"}, Want: int64(12)},
			{Cmd: []any{"decrby", "a", "2"}, Want: int64(10)},
			{Cmd: []any{"decr", "a"}, Want: int64(9)},
			{Cmd: []any{"set", "big", "9223372036854775807"}, Want: "OK"},
			{Cmd: []any{"incr", "big"}, WantErr: "ERR increment or decrement would overflow"},
			{Cmd: []any{"set", "s", "abc"}, Want: "OK"},
			{Cmd: []any{"incr", "s"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"incrbyfloat", "f", "1.5"}, Want: "1.5"},
			{Cmd: []any{"incrbyfloat", "f", "abc"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"append", "s", "def"}, Want: int64(6)},
			{Cmd: []any{"strlen", "s"}, Want: int64(6)},
			{Cmd: []any{"getrange", "s", "1", "-2"}, Want: "bcde"},
			{Cmd: []any{"substr", "s", "0", "0"}, Want: "a"},
			{Cmd: []any{"setrange", "s", "8", "X"}, Want: int64(9)},
			{Cmd: []any{"get", "s"}, Want: "abcdef\x00\x00X"},
			{Cmd: []any{"setrange", "s", "-1", "X"}, WantErr: "ERR offset is out of range"},
			{Cmd: []any{"getex", "s", "ex", "100"}, Want: "abcdef\x00\x00X"},
			{Cmd: []any{"ttl", "s"}, Want: int64(100)},
			{Cmd: []any{"getex", "s", "persist"}, Want: "abcdef\x00\x00X"},
			{Cmd: []any{"ttl", "s"}, Want: int64(-1)},
			{Cmd: []any{"get"}, WantErr: "ERR wrong number of arguments for 'get' command"},
			{Cmd: []any{"nosuch", "a", "b"}, WantErr: "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' "},
		})
	})
}

func TestBinarySafe(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	key := "k\x00\r\n\xff"
	val := string([]byte{0, 1, 2, '\r', '\n', 255})
	testserver.Run(t, c, []C{
		{Cmd: []any{"set", key, val}, Want: "OK"},
		{Cmd: []any{"get", key}, Want: val},
	})
	s.Restart()
	testserver.Run(t, s.Client(3), []C{{Cmd: []any{"get", key}, Want: val}})
}
