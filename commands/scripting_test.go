package commands_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestEvalConversions(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"eval", "return 'hello'", "0"}, Want: "hello"},
			{Cmd: []any{"eval", "return 42", "0"}, Want: int64(42)},
			{Cmd: []any{"eval", "return 3.99", "0"}, Want: int64(3)},
			{Cmd: []any{"eval", "return -3.99", "0"}, Want: int64(-3)},
			{Cmd: []any{"eval", "return {1,2,3,'x',nil,4}", "0"}, Want: []any{int64(1), int64(2), int64(3), "x"}},
			{Cmd: []any{"eval", "return {{1,{2}},'a'}", "0"}, Want: []any{[]any{int64(1), []any{int64(2)}}, "a"}},
			{Cmd: []any{"eval", "return {}", "0"}, Want: []any{}},
			{Cmd: []any{"eval", "return nil", "0"}, Want: nil},
			{Cmd: []any{"eval", "return false", "0"}, Want: nil},
			{Cmd: []any{"eval", "return true", "0"}, Want: int64(1)},
			{Cmd: []any{"eval", "return {err='My Error'}", "0"}, WantErr: "My Error"},
			{Cmd: []any{"eval", "return redis.error_reply('MY err')", "0"}, WantErr: "MY err"},
			{Cmd: []any{"eval", "return redis.status_reply('FINE')", "0"}, Want: "FINE"},
			{Cmd: []any{"eval", "return {ok='fine'}", "0"}, Want: "fine"},
			{Cmd: []any{"eval", "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", "2", "k1", "k2", "a1", "a2"}, Want: []any{"k1", "k2", "a1", "a2"}},
			{Cmd: []any{"eval", "return #KEYS + #ARGV", "0"}, Want: int64(0)},
			// Lua 5.1's number text and Redis' seeded PRNG (values from redis-server 7.0).
			{Cmd: []any{"eval", "return {tostring(0.1+0.2), tostring(1e15), tostring(2^53), tostring(1/0), 'x' .. 7}", "0"},
				Want: []any{"0.3", "1e+15", "9.007199254741e+15", "inf", "x7"}},
			{Cmd: []any{"eval", "math.randomseed(ARGV[1]); return {tostring(math.random()), math.random(100), math.random(5,10)}", "0", "10"},
				Want: []any{"0.87885112309775", int64(80), int64(7)}},
			{Cmd: []any{"eval", "return math.random(0)", "0"}, WantErr: "ERR user_script:1: bad argument #1 to random (interval is empty)"},
			{Cmd: []any{"eval", "cjson.encode_keep_buffer(false); return cjson.encode({1})", "0"}, Want: "[1]"},
			// Redis replies -> Lua.
			{Cmd: []any{"set", "n", "5"}, Want: "OK"},
			{Cmd: []any{"eval", "return type(redis.call('incr', 'n'))", "0"}, Want: "number"},
			{Cmd: []any{"eval", "return redis.call('get', 'n')", "0"}, Want: "6"},
			{Cmd: []any{"eval", "return redis.call('get', 'missing') == false", "0"}, Want: int64(1)},
			{Cmd: []any{"eval", "return redis.call('set', 'a', 'b').ok", "0"}, Want: "OK"},
			{Cmd: []any{"eval", "return redis.call('set', 'a', 'b')", "0"}, Want: "OK"},
			{Cmd: []any{"rpush", "l", "a", "b", "c"}, Want: int64(3)},
			{Cmd: []any{"eval", "local t = redis.call('lrange', 'l', 0, -1); return #t .. t[1] .. t[3]", "0"}, Want: "3ac"},
			{Cmd: []any{"eval", "return redis.pcall('hget', 'a', 'f')['err']", "0"}, Want: "WRONGTYPE Operation against a key holding the wrong kind of value"},
			// Numbers passed to redis.call keep 17 digits.
			{Cmd: []any{"eval", "redis.call('set', 'f', 0.1); return redis.call('get', 'f')", "0"}, Want: "0.10000000000000001"},
			{Cmd: []any{"eval", "redis.call('set', 'f', 10); return redis.call('get', 'f')", "0"}, Want: "10"},
			{Cmd: []any{"eval", "return redis.sha1hex('Pizza & Mandolino')", "0"}, Want: "74822d82031af7493c20eefa13bd07ec4fada82f"},
			{Cmd: []any{"eval", "return bit.tohex(65535, -2147483648)", "0"}, Want: "0000FFFF"},
			{Cmd: []any{"eval", "return cjson.encode(cjson.decode('[1,\"a\",{\"k\":true}]'))", "0"}, Want: `[1,"a",{"k":true}]`},
			// SELECT inside a script does not change the caller's database.
			{Cmd: []any{"eval", "redis.call('select', 1); redis.call('set', 'indb1', 'x'); return 1", "0"}, Want: int64(1)},
			{Cmd: []any{"exists", "indb1"}, Want: int64(0)},
		})
	})
}

func TestEvalResp3(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	testserver.Run(t, c, []C{
		{Cmd: []any{"eval", "redis.setresp(3); return redis.call('hgetall', 'nokey').map ~= nil", "0"}, Want: true},
		{Cmd: []any{"eval", "redis.setresp(3); return true", "0"}, Want: true},
		{Cmd: []any{"eval", "redis.setresp(3); return false", "0"}, Want: false},
		{Cmd: []any{"eval", "return {double=3.5}", "0"}, Want: 3.5},
		{Cmd: []any{"eval", "return {map={a=1}}", "0"}, Want: map[any]any{"a": int64(1)}},
		{Cmd: []any{"eval", "redis.setresp(4)", "0"}, WantErr: "ERR RESP version must be 2 or 3."},
	})
}

func TestEvalErrors(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		body := "return redis.call('nosuchcmd')"
		sha := sha1hex(body)
		testserver.Run(t, c, []C{
			{Cmd: []any{"eval", body, "0"}, WantErr: "ERR Unknown Redis command called from script script: " + sha + ", on @user_script:1."},
			{Cmd: []any{"eval", "return redis.call('get')", "0"}, WantErr: "ERR Wrong number of args calling Redis command from script"},
			{Cmd: []any{"eval", "return redis.call('multi')", "0"}, WantErr: "ERR This Redis command is not allowed from script"},
			{Cmd: []any{"eval", "return redis.call('subscribe', 'x')", "0"}, WantErr: "ERR This Redis command is not allowed from script"},
			// Blocking pops are refused (their non-blocking 7.0 forms run);
			// XREAD refuses BLOCK.
			{Cmd: []any{"eval", "return redis.pcall('blpop', 'x', 0)", "0"}, WantErr: "ERR This Redis command is not allowed from script"},
			{Cmd: []any{"eval", "return redis.pcall('bzpopmin', 'x', 0)", "0"}, WantErr: "ERR This Redis command is not allowed from script"},
			{Cmd: []any{"eval", "return redis.pcall('blmpop', 0, 1, 'x', 'left')", "0"}, Want: nil},
			{Cmd: []any{"eval", "return redis.pcall('xread', 'STREAMS', 's', '$')", "0"}, Want: nil},
			{Cmd: []any{"eval", "return redis.pcall('xread', 'BLOCK', 0, 'STREAMS', 's', '$')", "0"}, WantErr: "ERR xread command is not allowed with BLOCK option from scripts"},
			{Cmd: []any{"eval", "return redis.call({})", "0"}, WantErr: "ERR Lua redis lib command arguments must be strings or integers"},
			{Cmd: []any{"eval", "return redis.call()", "0"}, WantErr: "ERR Please specify at least one argument for this redis lib call"},
			{Cmd: []any{"set", "s", "x"}, Want: "OK"},
			{Cmd: []any{"eval", "return redis.call('incr', 's')", "0"}, WantErr: "ERR value is not an integer or out of range script:"},
			{Cmd: []any{"eval", "return redis.pcall('incr', 's')", "0"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"eval", "local ok, e = pcall(redis.call, 'incr', 's'); return e", "0"}, Want: "ERR value is not an integer or out of range"},
			{Cmd: []any{"eval", "error('boom')", "0"}, WantErr: "ERR user_script:1: boom script:"},
			{Cmd: []any{"eval", "return a", "0"}, WantErr: "ERR user_script:1: Script attempted to access nonexistent global variable 'a'"},
			{Cmd: []any{"eval", "a = 10", "0"}, WantErr: "ERR user_script:1: Attempt to modify a readonly table"},
			{Cmd: []any{"eval", "redis.call = nil", "0"}, WantErr: "ERR user_script:1: Attempt to modify a readonly table"},
			{Cmd: []any{"eval", "setmetatable(_G, {})", "0"}, WantErr: "ERR user_script:1: Attempt to modify a readonly table"},
			{Cmd: []any{"eval", "rawset(_G, 'x', 1)", "0"}, WantErr: "ERR user_script:1: Attempt to modify a readonly table"},
			{Cmd: []any{"eval", "return loadfile", "0"}, WantErr: "ERR user_script:1: Script attempted to access nonexistent global variable 'loadfile'"},
			{Cmd: []any{"eval", "return dofile", "0"}, WantErr: "ERR user_script:1: Script attempted to access nonexistent global variable 'dofile'"},
			{Cmd: []any{"eval", "return os", "0"}, WantErr: "ERR user_script:1: Script attempted to access nonexistent global variable 'os'"},
			{Cmd: []any{"eval", "return io", "0"}, WantErr: "ERR user_script:1: Script attempted to access nonexistent global variable 'io'"},
			{Cmd: []any{"eval", "return x(", "0"}, WantErr: "ERR Error compiling script (new function): user_script:"},
			{Cmd: []any{"eval", "return 1", "2", "a"}, WantErr: "ERR Number of keys can't be greater than number of args"},
			{Cmd: []any{"eval", "return 1", "-1"}, WantErr: "ERR Number of keys can't be negative"},
			{Cmd: []any{"eval", "return 1", "x"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"eval_ro", "return redis.call('set', 'k', 'v')", "0"}, WantErr: "ERR Write commands are not allowed from read-only scripts."},
			{Cmd: []any{"eval_ro", "return redis.call('get', 's')", "0"}, Want: "x"},
			{Cmd: []any{"eval", "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')", "0"}, WantErr: "ERR Write commands are not allowed from read-only scripts."},
			// A self-referencing table ends at the nesting limit, not in a crash.
			{Cmd: []any{"eval", "local t = {}; t[1] = t; return t", "0"}, Any: true},
			{Cmd: []any{"eval", "return string.rep('x', 1e10)", "0"}, WantErr: "ERR user_script:1: not enough memory"},
			{Cmd: []any{"eval", "return {unpack({1,2,3}, -2, 2147483647)}", "0"}, WantErr: "ERR user_script:1: too many results to unpack"},
			{Cmd: []any{"eval", "return {unpack({1,2,3})}", "0"}, Want: []any{int64(1), int64(2), int64(3)}},
			{Cmd: []any{"ping"}, Want: "PONG"},
		})
	})
}

func TestEvalshaAndScriptCache(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		body := "return 'cached'"
		sha := sha1hex(body)
		testserver.Run(t, c, []C{
			{Cmd: []any{"script", "flush"}, Want: "OK"},
			{Cmd: []any{"evalsha", sha, "0"}, WantErr: "NOSCRIPT No matching script. Please use EVAL."},
			{Cmd: []any{"evalsha", "short", "0"}, WantErr: "NOSCRIPT No matching script. Please use EVAL."},
			{Cmd: []any{"script", "exists", sha, "nope"}, Want: []any{int64(0), int64(0)}},
			{Cmd: []any{"script", "load", body}, Want: sha},
			{Cmd: []any{"script", "exists", sha, strings.ToUpper(sha), "nope"}, Want: []any{int64(1), int64(1), int64(0)}},
			{Cmd: []any{"evalsha", sha, "0"}, Want: "cached"},
			{Cmd: []any{"evalsha", strings.ToUpper(sha), "0"}, Want: "cached"},
			{Cmd: []any{"evalsha_ro", sha, "0"}, Want: "cached"},
			{Cmd: []any{"script", "flush", "async"}, Want: "OK"},
			{Cmd: []any{"script", "exists", sha}, Want: []any{int64(0)}},
			{Cmd: []any{"eval", body, "0"}, Want: "cached"},
			{Cmd: []any{"script", "exists", sha}, Want: []any{int64(1)}},
			{Cmd: []any{"script", "flush", "sync"}, Want: "OK"},
			{Cmd: []any{"script", "flush", "bad"}, WantErr: "ERR SCRIPT FLUSH only support SYNC|ASYNC option"},
			{Cmd: []any{"script", "load", "return x("}, WantErr: "ERR Error compiling script (new function)"},
			{Cmd: []any{"script", "kill"}, WantErr: "NOTBUSY No scripts in execution right now."},
			{Cmd: []any{"script", "nosuch"}, WantErr: "ERR unknown subcommand 'nosuch'. Try SCRIPT HELP."},
			{Cmd: []any{"script", "help"}, Any: true},
		})
	})
}

// TestEvalAtomic: a script doing 1000 INCRs runs in one transaction; a
// reader never sees a value that is not a multiple of 1000.
func TestEvalAtomic(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	w, r := s.Client(2), s.Client(3)
	w.Set(ctx, "ctr", 0, 0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bad []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			v, err := r.Get(ctx, "ctr").Result()
			if err != nil {
				bad = append(bad, err.Error())
				return
			}
			if n, _ := strconv.Atoi(v); n%1000 != 0 {
				bad = append(bad, v)
			}
		}
	}()
	for i := 0; i < 20; i++ {
		if err := w.Eval(ctx, "for i=1,1000 do redis.call('incr', KEYS[1]) end return 1", []string{"ctr"}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("reader saw intermediate values: %v", bad[:min(5, len(bad))])
	}
	if v, _ := w.Get(ctx, "ctr").Result(); v != "20000" {
		t.Fatalf("ctr = %s", v)
	}
}

// TestScriptBusyAndKill: an endless script makes others BUSY after
// lua-time-limit; SCRIPT KILL stops it; a script that wrote is unkillable.
func TestScriptBusyAndKill(t *testing.T) {
	s := testserver.Start(t, "lua-time-limit", "50")
	ctx := context.Background()
	runner, other := s.Client(2), s.Client(3)
	if v := other.ConfigGet(ctx, "busy-reply-threshold").Val()["busy-reply-threshold"]; v != "50" {
		t.Fatalf("busy-reply-threshold = %q", v)
	}
	done := make(chan error, 1)
	go func() { done <- runner.Eval(ctx, "while true do end", nil).Err() }()
	waitBusy(t, other)
	if err := other.Do(ctx, "multi").Err(); err != nil {
		t.Fatalf("MULTI while busy: %v", err)
	}
	if err := other.Do(ctx, "incr", "x").Err(); err == nil || !strings.HasPrefix(err.Error(), "BUSY") {
		t.Fatalf("queued command while busy: %v", err)
	}
	if err := other.Do(ctx, "exec").Err(); err == nil || !strings.HasPrefix(err.Error(), "EXECABORT Transaction discarded because of: BUSY") {
		t.Fatalf("EXEC while busy: %v", err)
	}
	if err := other.Do(ctx, "script", "kill").Err(); err != nil {
		t.Fatalf("SCRIPT KILL: %v", err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed by user with SCRIPT KILL...") {
			t.Fatalf("killed script replied %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("script not killed")
	}
	if err := other.Ping(ctx).Err(); err != nil {
		t.Fatalf("after kill: %v", err)
	}
	if err := other.Do(ctx, "script", "kill").Err(); err == nil || err.Error() != "NOTBUSY No scripts in execution right now." {
		t.Fatalf("SCRIPT KILL when idle: %v", err)
	}

	// pcall cannot swallow the kill.
	go func() {
		done <- runner.Eval(ctx, "while true do pcall(function() while true do end end) end", nil).Err()
	}()
	waitBusy(t, other)
	other.Do(ctx, "script", "kill")
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "Script killed") {
			t.Fatalf("killed script replied %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("script caught its kill")
	}

	// A script that wrote cannot be killed; it ends on its own here.
	go func() {
		done <- runner.Eval(ctx, "redis.call('set','w','1') local t = redis.call('time')[1] + 1 while tonumber(redis.call('time')[1]) <= t do end return 1", nil).Err()
	}()
	waitBusy(t, other)
	if err := other.Do(ctx, "script", "kill").Err(); err == nil || !strings.HasPrefix(err.Error(), "UNKILLABLE Sorry the script already executed write commands") {
		t.Fatalf("SCRIPT KILL after a write: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("unkillable script: %v", err)
	}
}

func waitBusy(t *testing.T, c *redis.Client) {
	t.Helper()
	// A probe admitted in the instant between the script taking the engine
	// lock and registering as running waits for the lock, not BUSY: its own
	// client gives up on it quickly so that the next probe can see BUSY.
	o := c.Options()
	probe := redis.NewClient(&redis.Options{Addr: o.Addr, Protocol: o.Protocol, ReadTimeout: 300 * time.Millisecond, MaxRetries: -1})
	defer probe.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		err := probe.Get(context.Background(), "probe").Err()
		if err != nil && strings.HasPrefix(err.Error(), "BUSY") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("server never became BUSY")
}

func TestEvalInsideMulti(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"multi"}, Want: "OK"},
			{Cmd: []any{"set", "m", "1"}, Want: "QUEUED"},
			{Cmd: []any{"eval", "return redis.call('incr', KEYS[1])", "1", "m"}, Want: "QUEUED"},
			{Cmd: []any{"exec"}, Want: []any{"OK", int64(2)}},
			{Cmd: []any{"command", "info", "eval"}, Any: true},
		})
	})
}

func sha1hex(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// redis.acl_check_cmd answers whether the script's user may run a command
// with those arguments (command, keys), without running it.
func TestScriptACLCheckCmd(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"acl", "setuser", "bob", "on", ">123", "+@scripting", "+set", "~x*"}, Want: "OK"},
			{Cmd: []any{"auth", "bob", "123"}, Want: "OK"},
			{Cmd: []any{"eval", "return redis.acl_check_cmd('set','xx',1)", "1", "xx"}, Want: int64(1)},
			{Cmd: []any{"eval", "return redis.acl_check_cmd('hset','xx','f',1)", "1", "xx"}, Want: nil},
			{Cmd: []any{"eval", "return redis.acl_check_cmd('set','yy',1)", "0"}, Want: nil},
			{Cmd: []any{"eval", "return redis.acl_check_cmd('invalid-cmd','arg')", "0"}, WantErr: "ERR Invalid command passed to redis.acl_check_cmd()"},
			{Cmd: []any{"eval", "return redis.acl_check_cmd()", "0"}, WantErr: "ERR Please specify at least one argument"},
			{Cmd: []any{"auth", "default", ""}, Any: true},
			{Cmd: []any{"acl", "deluser", "bob"}, Any: true},
		})
	})
}

// min-replicas-to-write: a standalone server has no replica, so writes are
// refused with NOREPLICAS (top level, MULTI, a script's write, a shebang
// script that may write, a function) while reads and no-writes scripts go
// on; 0 (or a max lag of 0) turns the check off.
func TestMinReplicasToWrite(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []C{
			{Cmd: []any{"set", "x", "v"}, Want: "OK"},
			{Cmd: []any{"function", "load", "replace", "#!lua name=mr\nredis.register_function('mrw', function() return 1 end)\nredis.register_function{function_name='mrr', callback=function() return 2 end, flags={'no-writes'}}"}, Want: "mr"},
			{Cmd: []any{"config", "set", "min-replicas-to-write", "1"}, Want: "OK"},
			{Cmd: []any{"config", "set", "min-slaves-to-write", "1"}, Want: "OK"}, // Redis' older name
			{Cmd: []any{"set", "x", "w"}, WantErr: "NOREPLICAS Not enough good replicas to write."},
			{Cmd: []any{"get", "x"}, Want: "v"},
			{Cmd: []any{"eval", "#!lua flags=no-writes\nreturn redis.call('get','x')", "1", "x"}, Want: "v"},
			{Cmd: []any{"eval", "return redis.call('get','x')", "1", "x"}, Want: "v"},
			{Cmd: []any{"eval", "#!lua\nreturn redis.call('get','x')", "1", "x"}, WantErr: "NOREPLICAS"},
			{Cmd: []any{"eval", "return redis.call('set','x',1)", "1", "x"}, WantErr: "NOREPLICAS"},
			{Cmd: []any{"fcall", "mrw", "0"}, WantErr: "NOREPLICAS"},
			{Cmd: []any{"fcall", "mrr", "0"}, Want: int64(2)},
			{Cmd: []any{"config", "set", "min-replicas-max-lag", "0"}, Want: "OK"},
			{Cmd: []any{"set", "x", "w"}, Want: "OK"},
			{Cmd: []any{"config", "set", "min-replicas-max-lag", "10", "min-replicas-to-write", "0"}, Want: "OK"},
			{Cmd: []any{"set", "x", "v"}, Want: "OK"},
		})
	})
}

// A command a script's redis.call is refused (here: a write from a
// read-only script) counts as rejected_calls of that command and once in
// the error stats, whether the script catches the error or passes it on;
// the script's own error reply then counts in its failed_calls only.
func TestScriptRefusalStats(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	c := s.Client(2)
	cmdstat := func(name string) string {
		return c.InfoMap(ctx, "commandstats").Val()["Commandstats"]["cmdstat_"+name]
	}
	for _, tc := range []struct {
		body       string
		wantErr    bool
		evalFailed string
	}{
		{"return redis.call('set','x','y')", true, "failed_calls=1"},
		{"local t = redis.pcall('set','x','y'); return 1", false, "failed_calls=0"},
		{"return redis.pcall('set','x','y')", true, "failed_calls=1"},
	} {
		c.ConfigResetStat(ctx)
		_, err := c.Do(ctx, "eval_ro", tc.body, "1", "x").Result()
		if (err != nil) != tc.wantErr {
			t.Fatalf("%s: err = %v", tc.body, err)
		}
		if got := cmdstat("set"); !strings.Contains(got, "calls=0,") || !strings.Contains(got, "rejected_calls=1,failed_calls=0") {
			t.Errorf("%s: cmdstat_set = %q", tc.body, got)
		}
		if got := cmdstat("eval_ro"); !strings.Contains(got, "rejected_calls=0,"+tc.evalFailed) {
			t.Errorf("%s: cmdstat_eval_ro = %q", tc.body, got)
		}
		if got := c.InfoMap(ctx, "stats").Val()["Stats"]["total_error_replies"]; got != "1" {
			t.Errorf("%s: total_error_replies = %q", tc.body, got)
		}
		if got := c.InfoMap(ctx, "errorstats").Val()["Errorstats"]["errorstat_ERR"]; got != "count=1" {
			t.Errorf("%s: errorstat_ERR = %q", tc.body, got)
		}
	}
}

// What a script encodes from a table with string keys (cmsgpack, a RESP3
// map reply) comes out in pairs() order, the same bytes on every run and on
// every node of a group; the circular-reference case is Redis' own bytes.
func TestScriptTableOrderDeterministic(t *testing.T) {
	s := testserver.Start(t)
	const circular = `local a = {x=nil,y=5}
local b = {x=a}
a['x'] = b
local encoded = cmsgpack.pack(a)
local h = ''
for i = 1, #encoded do h = h .. string.format('%02x', string.byte(encoded, i)) end
return h`
	const want = "82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0"
	const many = `local t = {} for i = 1, 40 do t['k' .. i] = i end
local h = '' local e = cmsgpack.pack(t)
for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end
return h`
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		first := ""
		for i := 0; i < 20; i++ {
			if got, err := c.Eval(ctx, circular, nil).Text(); err != nil || got != want {
				t.Fatalf("circular pack = %q, %v; want %q", got, err, want)
			}
			got, err := c.Eval(ctx, many, nil).Text()
			if err != nil {
				t.Fatal(err)
			}
			if first == "" {
				first = got
			} else if got != first {
				t.Fatalf("pack of a 40-key table changed between runs:\n%s\n%s", first, got)
			}
		}
	})
}
