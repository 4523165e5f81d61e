package commands_test

import (
	"testing"

	"github.com/sessiond/sessiond/internal/testserver"
)

// SORT's table is also checked against Redis itself (compat, REDIS_ORACLE).
func TestSortCompat(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"rpush", "l", "3", "10", "1", "2.5", "-4"}, Want: int64(5)},
			{Cmd: []any{"sort", "l"}, Want: []any{"-4", "1", "2.5", "3", "10"}},
			{Cmd: []any{"sort", "l", "desc"}, Want: []any{"10", "3", "2.5", "1", "-4"}},
			{Cmd: []any{"sort", "l", "alpha"}, Want: []any{"-4", "1", "10", "2.5", "3"}},
			{Cmd: []any{"sort", "l", "limit", "1", "2"}, Want: []any{"1", "2.5"}},
			{Cmd: []any{"sort", "l", "limit", "-5", "2"}, Want: []any{"-4", "1"}},
			{Cmd: []any{"sort", "l", "limit", "3", "-1"}, Want: []any{"3", "10"}},
			{Cmd: []any{"sort", "l", "limit", "10", "2"}, Want: []any{}},
			{Cmd: []any{"sort", "l", "limit", "0", "0"}, Want: []any{}},
			{Cmd: []any{"sort", "l", "by", "nosort"}, Want: []any{"3", "10", "1", "2.5", "-4"}},
			{Cmd: []any{"sort", "l", "by", "nosort", "desc", "limit", "1", "2"}, Want: []any{"2.5", "1"}},
			{Cmd: []any{"sort", "l", "by", "nosort", "get", "#"}, Want: []any{"3", "10", "1", "2.5", "-4"}},
			{Cmd: []any{"sort_ro", "l", "limit", "0", "1"}, Want: []any{"-4"}},
			// BY and GET patterns: strings and hash fields.
			{Cmd: []any{"mset", "w_3", "1", "w_10", "5", "w_1", "3", "w_2.5", "2", "o_3", "three", "o_1", "one"}, Want: "OK"},
			{Cmd: []any{"sort", "l", "by", "w_*"}, Want: []any{"-4", "3", "2.5", "1", "10"}},
			{Cmd: []any{"sort", "l", "by", "w_*", "get", "o_*", "get", "#"},
				Want: []any{nil, "-4", "three", "3", nil, "2.5", "one", "1", nil, "10"}},
			{Cmd: []any{"hset", "h_3", "f", "b"}, Want: int64(1)},
			{Cmd: []any{"hset", "h_10", "f", "a"}, Want: int64(1)},
			{Cmd: []any{"sort", "l", "by", "h_*->f", "alpha", "limit", "3", "2"}, Want: []any{"10", "3"}},
			{Cmd: []any{"sort", "l", "by", "nosort", "get", "h_*->f", "limit", "0", "2"}, Want: []any{"b", "a"}},
			{Cmd: []any{"sort", "l", "by", "nosort", "get", "h_*->", "limit", "0", "1"}, Want: []any{nil}},
			{Cmd: []any{"sort", "l", "by", "nosort", "get", "fixed", "limit", "0", "1"}, Want: []any{nil}},
			// Sets and sorted sets.
			{Cmd: []any{"sadd", "s", "b", "a", "c"}, Want: int64(3)},
			{Cmd: []any{"sort", "s", "alpha"}, Want: []any{"a", "b", "c"}},
			{Cmd: []any{"sort", "s", "alpha", "desc"}, Want: []any{"c", "b", "a"}},
			{Cmd: []any{"sort", "s"}, WantErr: "ERR One or more scores can't be converted into double"},
			{Cmd: []any{"zadd", "z", "1", "x", "2", "y", "3", "z"}, Want: int64(3)},
			{Cmd: []any{"sort", "z", "by", "nosort", "desc"}, Want: []any{"z", "y", "x"}},
			{Cmd: []any{"sort", "z", "by", "nosort", "limit", "1", "5"}, Want: []any{"y", "z"}},
			{Cmd: []any{"sort", "z", "alpha", "desc", "limit", "0", "2"}, Want: []any{"z", "y"}},
			// STORE: a list; an empty result deletes the destination.
			{Cmd: []any{"sort", "l", "store", "dst"}, Want: int64(5)},
			{Cmd: []any{"lrange", "dst", "0", "-1"}, Want: []any{"-4", "1", "2.5", "3", "10"}},
			{Cmd: []any{"sort", "s", "by", "nosort", "store", "dst"}, Want: int64(3)},
			{Cmd: []any{"lrange", "dst", "0", "-1"}, Want: []any{"a", "b", "c"}},
			{Cmd: []any{"sort", "l", "by", "nosort", "get", "o_*", "limit", "0", "2", "store", "dst"}, Want: int64(2)},
			{Cmd: []any{"lrange", "dst", "0", "-1"}, Want: []any{"three", ""}},
			{Cmd: []any{"sort", "missing", "store", "dst"}, Want: int64(0)},
			{Cmd: []any{"exists", "dst"}, Want: int64(0)},
			{Cmd: []any{"sort", "missing"}, Want: []any{}},
			// Errors.
			{Cmd: []any{"sort", "w_3"}, WantErr: wrongType},
			{Cmd: []any{"sort", "l", "limit", "x", "1"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"sort", "l", "limit", "1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sort", "l", "bogus"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sort", "l", "store"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sort_ro", "l", "store", "dst"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"rpush", "bad", "1", "x"}, Want: int64(2)},
			{Cmd: []any{"sort", "bad"}, WantErr: "ERR One or more scores can't be converted into double"},
			{Cmd: []any{"sort", "bad", "store", "dst"}, WantErr: "ERR One or more scores can't be converted into double"},
			{Cmd: []any{"sort"}, WantErr: "ERR wrong number of arguments for 'sort' command"},
			// COMMAND GETKEYS finds the last STORE destination.
			{Cmd: []any{"command", "getkeys", "sort", "abc", "store", "def"}, Want: []any{"abc", "def"}},
			{Cmd: []any{"command", "getkeys", "sort", "abc", "store", "x", "limit", "0", "1", "store", "def"}, Want: []any{"abc", "def"}},
			{Cmd: []any{"command", "getkeys", "sort", "abc", "get", "store", "limit", "0", "1"}, Want: []any{"abc"}},
			{Cmd: []any{"command", "getkeys", "sort_ro", "abc"}, Want: []any{"abc"}},
		})
	})
}
