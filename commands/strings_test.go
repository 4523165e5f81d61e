package commands_test

import (
	"testing"
	"time"

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

func TestCompatStrings(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		nowS := time.Now().Unix()
		testserver.Run(t, tg.c, []C{
			// SET and its options.
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"set", "k", "v2", "NX"}, Want: nil},
			{Cmd: []any{"set", "new", "v", "nx"}, Want: "OK"},
			{Cmd: []any{"set", "nope", "v", "xx"}, Want: nil},
			{Cmd: []any{"exists", "nope"}, Want: int64(0)},
			{Cmd: []any{"set", "k", "v2", "xx"}, Want: "OK"},
			{Cmd: []any{"set", "k", "v3", "get"}, Want: "v2"},
			{Cmd: []any{"set", "nope", "v", "get"}, Want: nil},
			{Cmd: []any{"del", "nope"}, Want: int64(1)},
			{Cmd: []any{"set", "k", "v4", "nx", "get"}, Want: "v3"}, // NX with GET (Redis 7): no write, old value
			{Cmd: []any{"get", "k"}, Want: "v3"},
			{Cmd: []any{"set", "k", "v", "nx", "xx"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"set", "k", "v", "ex", "10", "px", "100"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"set", "k", "v", "keepttl", "ex", "10"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"set", "k", "v", "ex"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"set", "k", "v", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"set", "k", "v", "ex", "0"}, WantErr: "ERR invalid expire time in 'set' command"},
			{Cmd: []any{"set", "k", "v", "ex", "-5"}, WantErr: "ERR invalid expire time in 'set' command"},
			{Cmd: []any{"set", "k", "v", "px", "0"}, WantErr: "ERR invalid expire time in 'set' command"},
			{Cmd: []any{"set", "k", "v", "exat", "0"}, WantErr: "ERR invalid expire time in 'set' command"},
			{Cmd: []any{"set", "k", "v", "ex", "9223372036854775807"}, WantErr: "ERR invalid expire time in 'set' command"},
			{Cmd: []any{"set", "k", "v", "px", "9223372036854775807"}, WantErr: "ERR invalid expire time in 'set' command"},
			{Cmd: []any{"set", "k", "v", "ex", "1.5"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"set", "k", "v", "ex", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"set", "k"}, WantErr: "ERR wrong number of arguments for 'set' command"},
			{Cmd: []any{"set", "k", "v", "ex", "100"}, Want: "OK"},
			{Cmd: []any{"ttl", "k"}, Want: int64(100)},
			{Cmd: []any{"set", "k", "v", "keepttl"}, Want: "OK"},
			{Cmd: []any{"ttl", "k"}, Want: int64(100)},
			{Cmd: []any{"set", "k", "v", "px", "200000"}, Want: "OK"},
			{Cmd: []any{"ttl", "k"}, Want: int64(200)},
			{Cmd: []any{"set", "k", "v", "exat", nowS + 300}, Want: "OK"},
			{Cmd: []any{"expiretime", "k"}, Want: nowS + 300},
			{Cmd: []any{"set", "k", "v", "pxat", nowS*1000 + 400000}, Want: "OK"},
			{Cmd: []any{"pexpiretime", "k"}, Want: nowS*1000 + 400000},
			{Cmd: []any{"set", "k", "v"}, Want: "OK"},
			{Cmd: []any{"ttl", "k"}, Want: int64(-1)},
			{Cmd: []any{"set", "past", "v", "exat", "1"}, Want: "OK"}, // already expired: the key is gone
			{Cmd: []any{"exists", "past"}, Want: int64(0)},
			// SETEX, PSETEX, SETNX, GETSET, GETDEL.
			{Cmd: []any{"setex", "k", "10", "v"}, Want: "OK"},
			{Cmd: []any{"ttl", "k"}, Want: int64(10)},
			{Cmd: []any{"setex", "k", "0", "v"}, WantErr: "ERR invalid expire time in 'setex' command"},
			{Cmd: []any{"setex", "k", "abc", "v"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"setex", "k", "10"}, WantErr: "ERR wrong number of arguments for 'setex' command"},
			{Cmd: []any{"psetex", "k", "10000", "v"}, Want: "OK"},
			{Cmd: []any{"ttl", "k"}, Want: int64(10)},
			{Cmd: []any{"psetex", "k", "-1", "v"}, WantErr: "ERR invalid expire time in 'psetex' command"},
			{Cmd: []any{"setnx", "k", "x"}, Want: int64(0)},
			{Cmd: []any{"setnx", "k2", "x"}, Want: int64(1)},
			{Cmd: []any{"setnx", "k2"}, WantErr: "ERR wrong number of arguments for 'setnx' command"},
			{Cmd: []any{"getset", "k2", "y"}, Want: "x"},
			{Cmd: []any{"getset", "nope", "y"}, Want: nil},
			{Cmd: []any{"getdel", "nope"}, Want: int64(0), Any: true},
			{Cmd: []any{"getdel", "k2"}, Want: "y"},
			{Cmd: []any{"getdel", "k2"}, Want: nil},
			// GETEX.
			{Cmd: []any{"set", "g", "v"}, Want: "OK"},
			{Cmd: []any{"getex", "g"}, Want: "v"},
			{Cmd: []any{"getex", "g", "ex", "100"}, Want: "v"},
			{Cmd: []any{"ttl", "g"}, Want: int64(100)},
			{Cmd: []any{"getex", "g", "px", "50000"}, Want: "v"},
			{Cmd: []any{"ttl", "g"}, Want: int64(50)},
			{Cmd: []any{"getex", "g", "exat", nowS + 70}, Want: "v"},
			{Cmd: []any{"expiretime", "g"}, Want: nowS + 70},
			{Cmd: []any{"getex", "g", "pxat", nowS*1000 + 80000}, Want: "v"},
			{Cmd: []any{"pexpiretime", "g"}, Want: nowS*1000 + 80000},
			{Cmd: []any{"getex", "g", "persist"}, Want: "v"},
			{Cmd: []any{"ttl", "g"}, Want: int64(-1)},
			{Cmd: []any{"getex", "g", "ex", "100", "persist"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"getex", "g", "ex"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"getex", "g", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"getex", "g", "px", "0"}, WantErr: "ERR invalid expire time in 'getex' command"},
			{Cmd: []any{"getex", "g", "ex", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"getex", "nope", "ex", "10"}, Want: nil},
			{Cmd: []any{"getex", "g", "exat", "1"}, Want: "v"}, // a past deadline deletes the key
			{Cmd: []any{"exists", "g"}, Want: int64(0)},
			// MGET, MSET, MSETNX.
			{Cmd: []any{"mset", "a", "1", "b", "2"}, Want: "OK"},
			{Cmd: []any{"mset", "a", "1", "b"}, WantErr: "ERR wrong number of arguments for 'mset' command"},
			{Cmd: []any{"mset", "a"}, WantErr: "ERR wrong number of arguments for 'mset' command"},
			{Cmd: []any{"mget", "a", "nope", "b"}, Want: []any{"1", nil, "2"}},
			{Cmd: []any{"mget"}, WantErr: "ERR wrong number of arguments for 'mget' command"},
			{Cmd: []any{"msetnx", "a", "5", "zz", "1"}, Want: int64(0)},
			{Cmd: []any{"exists", "zz"}, Want: int64(0)},
			{Cmd: []any{"msetnx", "y", "5", "zz", "1"}, Want: int64(1)},
			{Cmd: []any{"mget", "y", "zz"}, Want: []any{"5", "1"}},
			{Cmd: []any{"msetnx", "y", "5", "zz"}, WantErr: "ERR wrong number of arguments for 'msetnx' command"},
			// APPEND, STRLEN.
			{Cmd: []any{"append", "ap", "abc"}, Want: int64(3)},
			{Cmd: []any{"append", "ap", "def"}, Want: int64(6)},
			{Cmd: []any{"strlen", "ap"}, Want: int64(6)},
			{Cmd: []any{"strlen", "nope"}, Want: int64(0)},
			{Cmd: []any{"set", "num", "12"}, Want: "OK"},
			{Cmd: []any{"append", "num", "3"}, Want: int64(3)},
			{Cmd: []any{"incr", "num"}, Want: int64(124)},
			{Cmd: []any{"strlen", "num"}, Want: int64(3)},
			// INCR family.
			{Cmd: []any{"incr", "c"}, Want: int64(1)},
			{Cmd: []any{"incrby", "c", "10"}, Want: int64(11)},
			{Cmd: []any{"decrby", "c", "2"}, Want: int64(9)},
			{Cmd: []any{"decr", "c"}, Want: int64(8)},
			{Cmd: []any{"incrby", "c", "-8"}, Want: int64(0)},
			{Cmd: []any{"incrby", "c", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"incrby", "c", "1.5"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"set", "max", "9223372036854775807"}, Want: "OK"},
			{Cmd: []any{"incr", "max"}, WantErr: "ERR increment or decrement would overflow"},
			{Cmd: []any{"set", "min", "-9223372036854775808"}, Want: "OK"},
			{Cmd: []any{"decr", "min"}, WantErr: "ERR increment or decrement would overflow"},
			{Cmd: []any{"decrby", "c", "-9223372036854775808"}, WantErr: "ERR decrement would overflow"},
			{Cmd: []any{"incrby", "c", "9223372036854775808"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"set", "sp", " 1"}, Want: "OK"},
			{Cmd: []any{"incr", "sp"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"set", "sp", "01"}, Want: "OK"},
			{Cmd: []any{"incr", "sp"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"set", "sp", "1.0"}, Want: "OK"},
			{Cmd: []any{"incr", "sp"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"incr", "a", "b"}, WantErr: "ERR wrong number of arguments for 'incr' command"},
			// INCRBYFLOAT (long double, printed as Redis does).
			{Cmd: []any{"incrbyfloat", "f", "10.5"}, Want: "10.5"},
			{Cmd: []any{"incrbyfloat", "f", "0.1"}, Want: "10.6"},
			{Cmd: []any{"incrbyfloat", "f", "-10.6"}, Want: "0"},
			{Cmd: []any{"incrbyfloat", "f", "5.0e3"}, Want: "5000"},
			{Cmd: []any{"incrbyfloat", "f", "0x10"}, Want: "5016"},
			{Cmd: []any{"incrbyfloat", "f", "1e-3"}, Want: "5016.00099999999999989"}, // long double, as Redis
			{Cmd: []any{"set", "f", "-9223372036854775808"}, Want: "OK"},
			{Cmd: []any{"incrbyfloat", "f", "13.5"}, Want: "-9223372036854775794.5"},
			{Cmd: []any{"incrbyfloat", "f", "abc"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"incrbyfloat", "f", "1 "}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"incrbyfloat", "f", " 1"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"incrbyfloat", "f", "nan"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"incrbyfloat", "f", "1e"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"incrbyfloat", "f", "1e5000"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"incrbyfloat", "f", "+inf"}, WantErr: "ERR increment would produce NaN or Infinity"},
			{Cmd: []any{"incrbyfloat", "ap", "1"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"set", "e", ""}, Want: "OK"},
			{Cmd: []any{"incrbyfloat", "e", "1"}, WantErr: "ERR value is not a valid float"},
			{Cmd: []any{"incrbyfloat", "big", "1e4932"}, Want: "", Any: true},
			{Cmd: []any{"incrbyfloat", "big", "1e4932"}, WantErr: "ERR increment would produce NaN or Infinity"},
			// GETRANGE, SUBSTR, SETRANGE.
			{Cmd: []any{"set", "s", "Hello World"}, Want: "OK"},
			{Cmd: []any{"getrange", "s", "0", "4"}, Want: "Hello"},
			{Cmd: []any{"getrange", "s", "-5", "-1"}, Want: "World"},
			{Cmd: []any{"getrange", "s", "-100", "100"}, Want: "Hello World"},
			{Cmd: []any{"getrange", "s", "5", "2"}, Want: ""},
			{Cmd: []any{"getrange", "s", "-1", "-5"}, Want: ""},
			{Cmd: []any{"getrange", "s", "20", "30"}, Want: ""},
			{Cmd: []any{"getrange", "nope", "0", "-1"}, Want: ""},
			{Cmd: []any{"getrange", "s", "a", "b"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"substr", "s", "6", "-1"}, Want: "World"},
			{Cmd: []any{"setrange", "s", "6", "Redis"}, Want: int64(11)},
			{Cmd: []any{"get", "s"}, Want: "Hello Redis"},
			{Cmd: []any{"setrange", "s", "0", ""}, Want: int64(11)},
			{Cmd: []any{"setrange", "s", "100000000000", ""}, Want: int64(11)},
			{Cmd: []any{"setrange", "nope", "5", ""}, Want: int64(0)},
			{Cmd: []any{"exists", "nope"}, Want: int64(0)},
			{Cmd: []any{"setrange", "pad", "3", "x"}, Want: int64(4)},
			{Cmd: []any{"get", "pad"}, Want: "\x00\x00\x00x"},
			{Cmd: []any{"setrange", "s", "-1", "x"}, WantErr: "ERR offset is out of range"},
			{Cmd: []any{"setrange", "s", "abc", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"setrange", "s", "536870912", "x"}, WantErr: "ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
			{Cmd: []any{"setrange", "s", "9223372036854775807", "x"}, WantErr: "ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
			// WRONGTYPE everywhere.
			{Cmd: []any{"rpush", "L", "a"}, Want: int64(1)},
			{Cmd: []any{"get", "L"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"getset", "L", "x"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"getdel", "L"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"getex", "L", "persist"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"set", "L", "x", "get"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"append", "L", "x"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"strlen", "L"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"incr", "L"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"incrbyfloat", "L", "abc"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"getrange", "L", "0", "1"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"setrange", "L", "0", "x"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"mget", "L", "a"}, Want: []any{nil, "1"}},
			{Cmd: []any{"type", "L"}, Want: "list"},
			{Cmd: []any{"set", "L", "x"}, Want: "OK"}, // SET overwrites any type
			{Cmd: []any{"type", "L"}, Want: "string"},
		})
	})
}

func TestCompatBits(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"setbit", "b", "7", "1"}, Want: int64(0)},
			{Cmd: []any{"setbit", "b", "7", "1"}, Want: int64(1)},
			{Cmd: []any{"get", "b"}, Want: "\x01"},
			{Cmd: []any{"setbit", "b", "100", "1"}, Want: int64(0)},
			{Cmd: []any{"strlen", "b"}, Want: int64(13)},
			{Cmd: []any{"getbit", "b", "7"}, Want: int64(1)},
			{Cmd: []any{"getbit", "b", "6"}, Want: int64(0)},
			{Cmd: []any{"getbit", "b", "1000000"}, Want: int64(0)},
			{Cmd: []any{"getbit", "nope", "0"}, Want: int64(0)},
			{Cmd: []any{"setbit", "b", "7", "0"}, Want: int64(1)},
			{Cmd: []any{"setbit", "b", "-1", "1"}, WantErr: "ERR bit offset is not an integer or out of range"},
			{Cmd: []any{"setbit", "b", "4294967296", "1"}, WantErr: "ERR bit offset is not an integer or out of range"},
			{Cmd: []any{"setbit", "b", "abc", "1"}, WantErr: "ERR bit offset is not an integer or out of range"},
			{Cmd: []any{"setbit", "b", "0", "2"}, WantErr: "ERR bit is not an integer or out of range"},
			{Cmd: []any{"setbit", "b", "0", "-1"}, WantErr: "ERR bit is not an integer or out of range"},
			{Cmd: []any{"getbit", "b", "-1"}, WantErr: "ERR bit offset is not an integer or out of range"},
			{Cmd: []any{"set", "s", "foobar"}, Want: "OK"},
			{Cmd: []any{"bitcount", "s"}, Want: int64(26)},
			{Cmd: []any{"bitcount", "s", "0", "0"}, Want: int64(4)},
			{Cmd: []any{"bitcount", "s", "1", "1"}, Want: int64(6)},
			{Cmd: []any{"bitcount", "s", "-2", "-1"}, Want: int64(7)},
			{Cmd: []any{"bitcount", "s", "5", "30", "bit"}, Want: int64(17)},
			{Cmd: []any{"bitcount", "s", "1", "1", "byte"}, Want: int64(6)},
			{Cmd: []any{"bitcount", "s", "-1", "-2"}, Want: int64(0)},
			{Cmd: []any{"bitcount", "s", "0"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"bitcount", "s", "0", "1", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"bitcount", "s", "a", "1"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"bitcount", "nope"}, Want: int64(0)},
			{Cmd: []any{"set", "p", "\xff\xf0\x00"}, Want: "OK"},
			{Cmd: []any{"bitpos", "p", "0"}, Want: int64(12)},
			{Cmd: []any{"bitpos", "p", "1"}, Want: int64(0)},
			{Cmd: []any{"bitpos", "p", "1", "2"}, Want: int64(-1)},
			{Cmd: []any{"bitpos", "p", "0", "0", "0"}, Want: int64(-1)},
			{Cmd: []any{"bitpos", "p", "0", "0"}, Want: int64(12)},
			{Cmd: []any{"bitpos", "p", "1", "7", "15", "bit"}, Want: int64(7)},
			{Cmd: []any{"bitpos", "p", "0", "7", "15", "bit"}, Want: int64(12)},
			{Cmd: []any{"bitpos", "p", "1", "-1"}, Want: int64(-1)},
			{Cmd: []any{"bitpos", "p", "2"}, WantErr: "ERR The bit argument must be 1 or 0."},
			{Cmd: []any{"bitpos", "p", "1", "0", "1", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"bitpos", "nope", "1"}, Want: int64(-1)},
			{Cmd: []any{"bitpos", "nope", "0"}, Want: int64(0)},
			{Cmd: []any{"set", "empty", ""}, Want: "OK"},
			{Cmd: []any{"bitpos", "empty", "1"}, Want: int64(-1)},
			{Cmd: []any{"set", "x1", "\x0f\xff"}, Want: "OK"},
			{Cmd: []any{"set", "x2", "\xf0"}, Want: "OK"},
			{Cmd: []any{"bitop", "and", "d", "x1", "x2"}, Want: int64(2)},
			{Cmd: []any{"get", "d"}, Want: "\x00\x00"},
			{Cmd: []any{"bitop", "or", "d", "x1", "x2"}, Want: int64(2)},
			{Cmd: []any{"get", "d"}, Want: "\xff\xff"},
			{Cmd: []any{"bitop", "xor", "d", "x1", "x2", "nope"}, Want: int64(2)},
			{Cmd: []any{"get", "d"}, Want: "\xff\xff"},
			{Cmd: []any{"bitop", "not", "d", "x2"}, Want: int64(1)},
			{Cmd: []any{"get", "d"}, Want: "\x0f"},
			{Cmd: []any{"bitop", "not", "d", "x1", "x2"}, WantErr: "ERR BITOP NOT must be called with a single source key."},
			{Cmd: []any{"bitop", "nand", "d", "x1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"bitop", "and", "d", "nope", "nope2"}, Want: int64(0)},
			{Cmd: []any{"exists", "d"}, Want: int64(0)},
			{Cmd: []any{"rpush", "L", "a"}, Want: int64(1)},
			{Cmd: []any{"setbit", "L", "0", "1"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"getbit", "L", "0"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"bitcount", "L"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"bitpos", "L", "1"}, WantErr: "WRONGTYPE"},
			{Cmd: []any{"bitop", "and", "d", "x1", "L"}, WantErr: "WRONGTYPE"},
		})
	})
}

func TestCompatLCS(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		match := func(a0, a1, b0, b1 int64, n ...int64) []any {
			m := []any{[]any{a0, a1}, []any{b0, b1}}
			for _, x := range n {
				m = append(m, x)
			}
			return m
		}
		idx := func(matches []any, n int64) any {
			return tg.by([]any{"matches", matches, "len", n}, map[any]any{"matches": matches, "len": n})
		}
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"mset", "a", "ohmytext", "b", "mynewtext"}, Want: "OK"},
			{Cmd: []any{"lcs", "a", "b"}, Want: "mytext"},
			{Cmd: []any{"lcs", "a", "b", "len"}, Want: int64(6)},
			{Cmd: []any{"lcs", "a", "b", "idx"}, Want: idx([]any{match(4, 7, 5, 8), match(2, 3, 0, 1)}, 6)},
			{Cmd: []any{"lcs", "a", "b", "idx", "withmatchlen"}, Want: idx([]any{match(4, 7, 5, 8, 4), match(2, 3, 0, 1, 2)}, 6)},
			{Cmd: []any{"lcs", "a", "b", "idx", "minmatchlen", "4"}, Want: idx([]any{match(4, 7, 5, 8)}, 6)},
			{Cmd: []any{"lcs", "a", "nope"}, Want: ""},
			{Cmd: []any{"lcs", "a", "b", "len", "idx"}, WantErr: "ERR If you want both the length and indexes, please just use IDX."},
			{Cmd: []any{"lcs", "a", "b", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lcs", "a", "b", "minmatchlen"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"lcs", "a", "b", "minmatchlen", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"rpush", "L", "a"}, Want: int64(1)},
			{Cmd: []any{"lcs", "a", "L"}, WantErr: "ERR The specified keys must contain string values"},
			{Cmd: []any{"lcs", "a"}, WantErr: "ERR wrong number of arguments for 'lcs' command"},
		})
	})
}
