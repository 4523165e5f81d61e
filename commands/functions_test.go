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

const libSetGet = "#!lua name=mylib\n" +
	"redis.register_function('myset', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n" +
	"redis.register_function{function_name='myget', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}\n"

func TestFunctionLoadAndCall(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"function", "flush"}, Want: "OK"},
			{Cmd: []any{"function", "load", libSetGet}, Want: "mylib"},
			{Cmd: []any{"function", "load", libSetGet}, WantErr: "ERR Library 'mylib' already exists"},
			{Cmd: []any{"function", "load", "REPLACE", libSetGet}, Want: "mylib"},
			{Cmd: []any{"function", "load", "foo", libSetGet}, WantErr: "ERR Unknown option given: foo"},
			{Cmd: []any{"fcall", "myset", "1", "k", "v"}, Want: "OK"},
			{Cmd: []any{"fcall", "MYGET", "1", "k"}, Want: "v"},
			{Cmd: []any{"fcall_ro", "myget", "1", "k"}, Want: "v"},
			{Cmd: []any{"fcall_ro", "myset", "1", "k", "v"}, WantErr: "ERR Can not execute a script with write flag using *_ro command."},
			{Cmd: []any{"fcall", "nosuch", "0"}, WantErr: "ERR Function not found"},
			{Cmd: []any{"fcall", "myget", "x"}, WantErr: "ERR Bad number of keys provided"},
			{Cmd: []any{"fcall", "myget", "3", "k"}, WantErr: "ERR Number of keys can't be greater than number of args"},
			{Cmd: []any{"fcall", "myget", "-1"}, WantErr: "ERR Number of keys can't be negative"},
			{Cmd: []any{"command", "getkeys", "fcall", "myset", "2", "a", "b", "c"}, Want: []any{"a", "b"}},
			// FLUSHALL leaves functions.
			{Cmd: []any{"flushall"}, Want: "OK"},
			{Cmd: []any{"function", "stats"}, Want: kv(c, "running_script", nil,
				"engines", kv(c, "LUA", kv(c, "libraries_count", int64(1), "functions_count", int64(2))))},
			{Cmd: []any{"function", "delete", "MYLIB"}, Want: "OK"},
			{Cmd: []any{"function", "delete", "mylib"}, WantErr: "ERR Library not found"},
			{Cmd: []any{"fcall", "myget", "1", "k"}, WantErr: "ERR Function not found"},
			{Cmd: []any{"function", "kill"}, WantErr: "NOTBUSY No scripts in execution right now."},
		})
	})
}

func TestFunctionLoadErrors(t *testing.T) {
	s := testserver.Start(t)
	reg := func(body string) string { return "#!lua name=l\n" + body }
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"function", "load", "return 1"}, WantErr: "ERR Missing library metadata"},
			{Cmd: []any{"function", "load", "#!js name=x\n"}, WantErr: "ERR Engine 'js' not found"},
			{Cmd: []any{"function", "load", "#!lua\n"}, WantErr: "ERR Library name was not given"},
			{Cmd: []any{"function", "load", "#!lua name=a name=b\n"}, WantErr: "ERR Invalid metadata value, name argument was given multiple times"},
			{Cmd: []any{"function", "load", "#!lua name=a foo=bar\n"}, WantErr: "ERR Invalid metadata value given: foo=bar"},
			{Cmd: []any{"function", "load", "#!lua name=a-b\n"}, WantErr: "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"},
			{Cmd: []any{"function", "load", reg("return 1")}, WantErr: "ERR No functions registered"},
			{Cmd: []any{"function", "load", reg("bad script")}, WantErr: "ERR Error compiling function: user_function:2: parse error near 'script'"},
			{Cmd: []any{"function", "load", reg("redis.call('ping')")}, WantErr: "ERR Error registering functions: user_function:2: Script attempted to access nonexistent global variable 'call'"},
			{Cmd: []any{"function", "load", reg("a = 1")}, WantErr: "ERR Error registering functions: user_function:2: Attempt to modify a readonly table"},
			{Cmd: []any{"function", "load", reg("redis.register_function('f')")}, WantErr: "ERR Error registering functions: user_function:2: calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."},
			{Cmd: []any{"function", "load", reg("redis.register_function{function_name='f', callback=function() end, flags={'bogus'}}")}, WantErr: "ERR Error registering functions: user_function:2: unknown flag given"},
			{Cmd: []any{"function", "load", reg("local a = 1 while true do a = a + 1 end")}, WantErr: "ERR Error registering functions: FUNCTION LOAD timeout"},
			{Cmd: []any{"function", "list"}, Want: []any{}},
			{Cmd: []any{"function", "flush", "sync", "x"}, WantErr: "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP."},
			{Cmd: []any{"function", "list", "libraryname"}, WantErr: "ERR library name argument was not given"},
			{Cmd: []any{"function", "list", "withcode", "withcode"}, WantErr: "ERR Unknown argument withcode"},
		})
	})
}

func TestFunctionListDumpRestore(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"function", "flush"}, Want: "OK"},
			{Cmd: []any{"function", "load", libSetGet}, Want: "mylib"},
			{Cmd: []any{"function", "list", "libraryname", "my*"}, Want: []any{kv(c,
				"library_name", "mylib", "engine", "LUA", "functions", []any{
					kv(c, "name", "myset", "description", nil, "flags", []any{}),
					kv(c, "name", "myget", "description", "reads", "flags", []any{"no-writes"}),
				})}},
			{Cmd: []any{"function", "list", "libraryname", "other*"}, Want: []any{}},
		})
		payload, err := c.Do(ctx, "function", "dump").Text()
		if err != nil {
			t.Fatal(err)
		}
		other := "#!lua name=other\nredis.register_function('myset', function() return 1 end)"
		testserver.Run(t, c, []C{
			{Cmd: []any{"function", "restore", payload}, WantErr: "ERR Library mylib already exists"},
			{Cmd: []any{"function", "restore", "garbage"}, WantErr: "ERR DUMP payload version or checksum are wrong"},
			{Cmd: []any{"function", "restore", payload, "bogus"}, WantErr: "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."},
			{Cmd: []any{"function", "flush"}, Want: "OK"},
			{Cmd: []any{"function", "load", other}, Want: "other"},
			// A function name taken by another library fails the restore whole.
			{Cmd: []any{"function", "restore", payload}, WantErr: "ERR Function myset already exists"},
			{Cmd: []any{"fcall", "myset", "0"}, Want: int64(1)},
			{Cmd: []any{"function", "restore", payload, "FLUSH"}, Want: "OK"},
			{Cmd: []any{"fcall", "myset", "1", "k", "restored"}, Want: "OK"},
			{Cmd: []any{"fcall", "myget", "1", "k"}, Want: "restored"},
		})
		code, err := c.Do(ctx, "function", "list", "withcode").Slice()
		if err != nil || len(code) != 1 || !strings.Contains(fmtAny(code[0]), "register_function('myset'") {
			t.Fatalf("function list withcode: %v %v", code, err)
		}
	})
}

// TestFunctionPersists: libraries are in the data file and load again after
// a restart; SCRIPT FLUSH (a new VM) does not lose them.
func TestFunctionPersists(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(2)
	testserver.Run(t, c, []C{
		{Cmd: []any{"function", "load", libSetGet}, Want: "mylib"},
		{Cmd: []any{"fcall", "myset", "1", "k", "v1"}, Want: "OK"},
		{Cmd: []any{"script", "flush"}, Want: "OK"},
		{Cmd: []any{"fcall", "myget", "1", "k"}, Want: "v1"},
	})
	s.Restart()
	c = s.Client(3)
	testserver.Run(t, c, []C{
		{Cmd: []any{"fcall_ro", "myget", "1", "k"}, Want: "v1"},
		{Cmd: []any{"function", "stats"}, Want: kv(c, "running_script", nil,
			"engines", kv(c, "LUA", kv(c, "libraries_count", int64(1), "functions_count", int64(2))))},
	})
}

// TestFunctionKill: a looping function makes other clients BUSY; FUNCTION
// STATS names it, SCRIPT KILL refuses it and FUNCTION KILL ends it.
func TestFunctionKill(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client(2)
	testserver.Run(t, c, []C{
		{Cmd: []any{"config", "set", "busy-reply-threshold", "10"}, Want: "OK"},
		{Cmd: []any{"function", "load", "#!lua name=loop\nredis.register_function('loop', function() local a = 1 while true do a = a + 1 end end)"}, Want: "loop"},
	})
	runner := s.Client(2)
	done := make(chan error, 1)
	go func() { done <- runner.Do(ctx, "fcall", "loop", "0").Err() }()
	for {
		err := c.Ping(ctx).Err()
		if err != nil && strings.HasPrefix(err.Error(), "BUSY") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stats, err := c.Do(ctx, "function", "stats").Slice()
	if err != nil || len(stats) != 4 || !strings.Contains(fmtAny(stats[1]), "loop") {
		t.Fatalf("function stats while running: %v %v", stats, err)
	}
	if err := c.Do(ctx, "script", "kill").Err(); err == nil || !strings.HasPrefix(err.Error(), "BUSY Redis is busy running a function") {
		t.Fatalf("script kill on a function: %v", err)
	}
	if err := c.Do(ctx, "function", "kill").Err(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "Script killed by user") {
		t.Fatalf("killed function's reply: %v", err)
	}
	testserver.Run(t, c, []C{{Cmd: []any{"ping"}, Want: "PONG"}})
}

func fmtAny(v any) string { return strings.TrimSpace(strings.ReplaceAll(fmtValue(v), "\n", " ")) }

func fmtValue(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmtValue(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[any]any:
		var parts []string
		for k, e := range x {
			parts = append(parts, fmtValue(k)+":"+fmtValue(e))
		}
		return "{" + strings.Join(parts, " ") + "}"
	case string:
		return x
	case nil:
		return "nil"
	}
	return fmt.Sprint(v)
}

// kv is the reply of a map: a map in RESP3, a flat array in RESP2.
func kv(c *redis.Client, pairs ...any) any {
	if c.Options().Protocol == 3 {
		m := map[any]any{}
		for i := 0; i < len(pairs); i += 2 {
			m[pairs[i]] = pairs[i+1]
		}
		return m
	}
	return pairs
}

// TestEvalMsgpackAndJSONLimits: cmsgpack encodes as Redis' bundled library
// does, and cjson's depth and invalid-number settings work.
func TestEvalMsgpackAndJSONLimits(t *testing.T) {
	s := testserver.Start(t)
	hex := "local e = cmsgpack.pack(%s) local h = '' for i = 1, #e do h = h .. string.format('%%02x', string.byte(e, i)) end return h"
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"eval", fmt.Sprintf(hex, "0.1"), "0"}, Want: "cb3fb999999999999a"},
			{Cmd: []any{"eval", fmt.Sprintf(hex, "-1099511627776"), "0"}, Want: "d3ffffff0000000000"},
			{Cmd: []any{"eval", fmt.Sprintf(hex, "{1, 'ab', true}"), "0"}, Want: "9301a26162c3"},
			{Cmd: []any{"eval", fmt.Sprintf(hex, "1.5, 300, -5"), "0"}, Want: "ca3fc00000cd012cfb"},
			{Cmd: []any{"eval", "local t = cmsgpack.unpack(cmsgpack.pack({a={1,2}, b='x'})) return {t.a[2], t.b}", "0"}, Want: []any{int64(2), "x"}},
			{Cmd: []any{"eval", "local off, v = cmsgpack.unpack_limit(cmsgpack.pack('a', 'b'), 1, 0) return {off, v}", "0"}, Want: []any{int64(2), "a"}},
			{Cmd: []any{"eval", "local ok, e = pcall(cmsgpack.unpack, '\\193') return e", "0"}, Want: "Bad data format in input."},
			{Cmd: []any{"eval", "local ok, e = pcall(cmsgpack.unpack, '\\205') return e", "0"}, Want: "Missing bytes in input."},
			{Cmd: []any{"eval", "cjson.encode_max_depth(1) local ok = pcall(cjson.encode, {{1}}) cjson.encode_max_depth(1000) return ok", "0"}, Want: nil},
			{Cmd: []any{"eval", "cjson.decode_max_depth(1) local ok = pcall(cjson.decode, '[[1]]') cjson.decode_max_depth(1000) return ok", "0"}, Want: nil},
			{Cmd: []any{"eval", "cjson.encode_invalid_numbers(true) local s = cjson.encode({0/0}) cjson.encode_invalid_numbers(false) return s", "0"}, Want: "[nan]"},
		})
	})
}
