package commands

import (
	"context"
	"log/slog"
	"math"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/internal/logging"
	"github.com/sessiond/sessiond/resp"
)

// Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, with Redis 7's
// Lua semantics. A script runs inside one engine write transaction (the
// mechanism EXEC uses), so nothing interleaves with its redis.call's. While
// it runs, other clients' commands wait; once it has run longer than
// lua-time-limit they are answered BUSY instead, and SCRIPT KILL stops a
// script that has not written.

const (
	msgNoScript     = "NOSCRIPT No matching script. Please use EVAL."
	msgBusy         = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	msgNotBusy      = "NOTBUSY No scripts in execution right now."
	msgUnkillable   = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	msgNumKeysMax   = "ERR Number of keys can't be greater than number of args"
	msgNumKeysNeg   = "ERR Number of keys can't be negative"
	msgNotFromLua   = "This Redis command is not allowed from script"
	msgScriptMemory = "ERR Script used too much memory and was stopped"
	// scriptMemoryBudget bounds how much the heap may grow during one script
	// before it is stopped, so that a script cannot exhaust the process.
	scriptMemoryBudget = 1 << 30
)

var posInf = math.Inf(1)

func init() {
	sub := func(name string, arity int, flags Flag, syntax, summary string, run func(*Call)) *Spec {
		return &Spec{Name: name, Arity: arity, Flags: flags, Syntax: syntax, Summary: summary, Run: run}
	}
	register(
		&Spec{Name: "eval", KeyRefs: numKeys(2, keyRW), Arity: -3, Flags: FlagNoScript | FlagStale | FlagSkipMonitor | FlagLong | flagMayReplicate, KeySpecs: []KeySpec{keynumSpec(2, "RW access update")}, Group: "scripting", Since: "2.6.0",
			Syntax: "script numkeys [key [key ...]] [arg [arg ...]]", Summary: "Executes a server-side Lua script.",
			Example: "> EVAL \"return redis.call('INCR', KEYS[1])\" 1 counter\n(integer) 1", Run: func(c *Call) { cmdEval(c, false, false) }},
		&Spec{Name: "evalsha", KeyRefs: numKeys(2, keyRW), Arity: -3, Flags: FlagNoScript | FlagStale | FlagSkipMonitor | FlagLong | flagMayReplicate, KeySpecs: []KeySpec{keynumSpec(2, "RW access update")}, Group: "scripting", Since: "2.6.0",
			Syntax: "sha1 numkeys [key [key ...]] [arg [arg ...]]", Summary: "Executes a server-side Lua script by SHA1 digest.",
			Example: "> EVALSHA 3e6c8c4bd6c7ef5b5d7c2b4a2a0a4c1e9f7f6a11 0\n(error) NOSCRIPT No matching script. Please use EVAL.", Run: func(c *Call) { cmdEval(c, true, false) }},
		&Spec{Name: "eval_ro", KeyRefs: numKeys(2, keyR), Arity: -3, Flags: FlagNoScript | FlagStale | FlagSkipMonitor | FlagReadonly | FlagLong, KeySpecs: []KeySpec{keynumSpec(2, "RO access")}, Group: "scripting", Since: "7.0.0",
			Syntax: "script numkeys [key [key ...]] [arg [arg ...]]", Summary: "Executes a read-only server-side Lua script.",
			Example: "> EVAL_RO \"return redis.call('GET', KEYS[1])\" 1 k\n\"v\"", Run: func(c *Call) { cmdEval(c, false, true) }},
		&Spec{Name: "evalsha_ro", KeyRefs: numKeys(2, keyR), Arity: -3, Flags: FlagNoScript | FlagStale | FlagSkipMonitor | FlagReadonly | FlagLong, KeySpecs: []KeySpec{keynumSpec(2, "RO access")}, Group: "scripting", Since: "7.0.0",
			Syntax: "sha1 numkeys [key [key ...]] [arg [arg ...]]", Summary: "Executes a read-only server-side Lua script by SHA1 digest.",
			Example: "> EVALSHA_RO 3e6c8c4bd6c7ef5b5d7c2b4a2a0a4c1e9f7f6a11 0\n(error) NOSCRIPT No matching script. Please use EVAL.", Run: func(c *Call) { cmdEval(c, true, true) }},
		&Spec{Name: "script", Arity: -2, Group: "scripting", Since: "2.6.0", Summary: "A container for Lua scripts management commands.",
			Subcommands: []*Spec{
				sub("load", 3, FlagNoScript|FlagStale, "script", "Loads a server-side Lua script to the script cache.", cmdScriptLoad),
				sub("exists", -3, FlagNoScript, "sha1 [sha1 ...]", "Determines whether server-side Lua scripts exist in the script cache.", cmdScriptExists),
				sub("flush", -2, FlagNoScript, "[ASYNC|SYNC]", "Removes all server-side Lua scripts from the script cache.", cmdScriptFlush),
				sub("kill", 2, FlagNoScript|FlagAllowBusy, "", "Terminates a server-side Lua script during execution.", cmdScriptKill),
				sub("help", 2, FlagLoading|FlagStale, "", "Returns helpful text about the different subcommands.", cmdScriptHelp),
			}},
	)
}

// script is one cached script.
type script struct {
	body     string
	proto    *lua.FunctionProto
	readOnly bool // shebang flag no-writes
	// denyOOM: a shebang script that may write and lacks allow-oom is
	// refused at its start while memory is over maxmemory, as Redis does.
	denyOOM bool
	// declaredWrites: a shebang script without no-writes, refused at its
	// start (not at its first write) when writes are refused.
	declaredWrites bool
}

// scripting is the dispatcher's script state.
type scripting struct {
	cacheMu sync.RWMutex
	cache   map[string]*script // sha1 (lowercase hex) -> script

	vmMu sync.Mutex // serializes runs; held inside the engine write lock, never around it
	vm   *luaVM

	running atomic.Pointer[scriptRun]
}

// scriptRun is one script execution.
type scriptRun struct {
	d      *Dispatcher
	start  time.Time
	done   chan struct{}
	cancel context.CancelFunc
	killed atomic.Bool
	wrote  atomic.Bool
	oom    atomic.Bool
	// overMax: memory was over maxmemory when the script started (Redis'
	// pre_command_oom_state): its denyoom calls are refused until it wrote.
	overMax bool
	ro      bool
	tx      *engine.Tx
	now     time.Time
	client  *Client // the script's own client (its db, its RESP version)
	// function is the name of the library function running (FCALL), ""
	// for EVAL; command is then the FCALL command, for FUNCTION STATS.
	function string
	command  [][]byte
	// readCalled: the script ran a read command, so its caller tracks
	// the declared keys (CLIENT TRACKING).
	readCalled bool
}

func (r *scriptRun) setResp(p int) {
	r.client.proto = p
	r.client.W.SetProto(p)
}

// admit resolves a script's command and runs the checks that refuse it
// before it runs, returning the refusal's message (spec is nil for an
// unknown command).
func (r *scriptRun) admit(args [][]byte) (*Spec, string) {
	spec := lookup(args[0])
	if spec != nil && spec.subs != nil && len(args) >= 2 {
		spec = spec.subs[strings.ToLower(string(args[1]))]
	}
	if spec == nil {
		return nil, "Unknown Redis command called from script"
	}
	if !arityOK(spec.Arity, len(args)) {
		return spec, "Wrong number of args calling Redis command from script"
	}
	if spec.Flags&FlagNoScript != 0 {
		return spec, msgNotFromLua
	}
	if r.ro && spec.Flags&(FlagWrite|flagMayReplicate) != 0 {
		return spec, "Write commands are not allowed from read-only scripts."
	}
	if why, _ := r.d.checkACL(r.client, spec, args, ctxLua, r.now); why != acl.Allowed {
		return spec, scriptDenied(why)
	}
	if r.overMax && spec.Flags&FlagDenyOOM != 0 && !r.wrote.Load() {
		return spec, "-" + msgOOM
	}
	if spec.Flags&FlagWrite != 0 {
		if msg := r.d.diskError(); msg != "" {
			return spec, "-" + msg // MISCONF, as Redis refuses a script's write
		}
		if msg := r.d.replicasError(); msg != "" {
			return spec, "-" + msg
		}
		r.wrote.Store(true)
	}
	if spec.Flags&FlagReadonly != 0 {
		r.readCalled = true
	}
	return spec, ""
}

// call runs one redis.call inside the script's transaction and returns the
// raw reply, or an error message for a command refused before it runs.
func (r *scriptRun) call(args [][]byte) ([]byte, string) {
	spec, refusal := r.admit(args)
	if refusal != "" {
		// Counted as a refusal at top level is (rejected_calls, the error
		// stats), whether the script catches the error or passes it on.
		if spec != nil {
			spec.stats.rejected.Add(1)
		}
		r.d.stats.errorReplies.Add(1)
		if strings.HasPrefix(refusal, "-") {
			r.d.stats.errorCodes.add([]byte(refusal))
		} else {
			r.d.stats.errorCodes.add([]byte("-ERR"))
		}
		return nil, refusal
	}
	cl := r.client
	cl.W.Reset()
	r.d.run(cl, spec, args, r.tx, r.now, time.Now())
	return cl.W.Bytes(), ""
}

// aclAllows is redis.acl_check_cmd: whether the script's user may run args
// (command, subcommand, keys and channels), without running it or logging a
// denial. known is false for a command that does not exist.
func (r *scriptRun) aclAllows(args [][]byte) (allowed, known bool) {
	spec := lookupCommand(args)
	if spec == nil {
		return false, false
	}
	u := r.client.account.Load().User()
	if u.Unrestricted() {
		return true, true
	}
	aclCatalog()
	req := aclRequest(spec, args)
	why, _ := u.Check(&req)
	return why == acl.Allowed, true
}

// busy reports whether cl's command must be answered BUSY: a script is
// running and has run longer than lua-time-limit. A command arriving while
// a younger script runs waits for it to end or to pass the limit, as it
// would in Redis, rather than queueing on the engine lock behind it.
func (d *Dispatcher) busy(spec *Spec) bool {
	if spec.Flags&FlagAllowBusy != 0 {
		return false
	}
	for {
		r := d.scripts.running.Load()
		if r == nil {
			return false
		}
		limit := time.Duration(d.Config.Int("lua-time-limit")) * time.Millisecond
		left := limit - time.Since(r.start)
		if left <= 0 {
			return true
		}
		t := time.NewTimer(left)
		select {
		case <-r.done:
		case <-t.C:
		}
		t.Stop()
	}
}

// rejectBusy answers BUSY; an EXEC refused this way also ends the transaction.
func (d *Dispatcher) rejectBusy(cl *Client, spec *Spec) {
	if spec.Name == "exec" && cl.multi.active {
		d.watch.mu.Lock()
		cl.multi = multiState{watched: cl.multi.watched, dirty: cl.multi.dirty}
		d.watch.mu.Unlock()
		d.watch.unwatchAll(cl)
		if !d.watch.active() {
			d.Engine.TrackWrites(false)
		}
		d.reject(cl, spec, "EXECABORT Transaction discarded because of: "+msgBusy)
		return
	}
	d.reject(cl, spec, msgBusy)
}

// scriptLogLevels maps redis.log's levels (LOG_DEBUG .. LOG_WARNING) to the
// server log's; the log's own level (loglevel) filters them.
var scriptLogLevels = [4]slog.Level{logging.LevelDebug, logging.LevelVerbose, logging.LevelNotice, logging.LevelWarning}

// loadScript compiles and caches body, returning its sha1 or an error reply.
func (d *Dispatcher) loadScript(body string) (string, *script, string) {
	sha := sha1hex(body)
	s := &d.scripts
	s.cacheMu.RLock()
	sc := s.cache[sha]
	s.cacheMu.RUnlock()
	if sc != nil {
		return sha, sc, ""
	}
	src, ro, errmsg := scriptShebang(body)
	if errmsg != "" {
		return "", nil, errmsg
	}
	proto, err := luaCompile(src)
	if err != nil {
		return "", nil, "ERR Error compiling script (new function): " + compileError(err)
	}
	sc = &script{body: body, proto: proto, readOnly: ro, denyOOM: strings.HasPrefix(body, "#!") && !ro && !shebangAllowsOOM(body),
		declaredWrites: strings.HasPrefix(body, "#!") && !ro}
	s.cacheMu.Lock()
	if s.cache == nil {
		s.cache = map[string]*script{}
	}
	if old := s.cache[sha]; old != nil {
		sc = old
	} else {
		s.cache[sha] = sc
	}
	s.cacheMu.Unlock()
	return sha, sc, ""
}

// scriptShebang handles a "#!lua [flags=...]" first line: it is blanked (the
// line feed kept, so line numbers stay right) and its flags are read.
func scriptShebang(body string) (src string, readOnly bool, errmsg string) {
	if !strings.HasPrefix(body, "#!") {
		return body, false, ""
	}
	end := strings.IndexByte(body, '\n')
	if end < 0 {
		end = len(body)
	}
	parts := strings.Fields(body[2:end])
	if len(parts) == 0 || parts[0] != "lua" {
		return "", false, "ERR Unexpected engine in script shebang: " + strings.Join(parts, " ")
	}
	for _, p := range parts[1:] {
		if !strings.HasPrefix(p, "flags=") {
			return "", false, "ERR Unknown lua shebang option: " + p
		}
		for _, f := range strings.Split(p[len("flags="):], ",") {
			switch f {
			case "no-writes":
				readOnly = true
			case "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys", "":
			default:
				return "", false, "ERR Unexpected flag in script shebang: " + f
			}
		}
	}
	return body[end:], readOnly, ""
}

func parseLua(src string) ([]ast.Stmt, error) {
	return parse.Parse(strings.NewReader(src), luaChunkName)
}

// compileError words a gopher-lua parse error as Lua's "user_script:N: msg".
func compileError(err error) string {
	if pe, ok := err.(*parse.Error); ok {
		return luaChunkName + ":" + strconv.Itoa(pe.Pos.Line) + ": " + pe.Message + " near '" + pe.Token + "'"
	}
	return err.Error()
}

// parseScriptNumKeys reads the numkeys argument of EVAL and FCALL (c.Args[2]),
// answering notInt, or Redis' error for too many or negative keys, when it
// is not usable.
func parseScriptNumKeys(c *Call, notInt string) (int64, bool) {
	numkeys, err := strconv.ParseInt(string(c.Args[2]), 10, 64)
	switch {
	case err != nil:
		c.W.Error(notInt)
	case numkeys > int64(len(c.Args)-3):
		c.W.Error(msgNumKeysMax)
	case numkeys < 0:
		c.W.Error(msgNumKeysNeg)
	default:
		return numkeys, true
	}
	return 0, false
}

func cmdEval(c *Call, bySHA, ro bool) {
	numkeys, ok := parseScriptNumKeys(c, msgNotInt)
	if !ok {
		return
	}
	var sc *script
	var sha string
	if bySHA {
		sha = strings.ToLower(string(c.Args[1]))
		if len(sha) == 40 {
			c.d.scripts.cacheMu.RLock()
			sc = c.d.scripts.cache[sha]
			c.d.scripts.cacheMu.RUnlock()
		}
		if sc == nil {
			c.W.Error(msgNoScript)
			return
		}
	} else {
		var errmsg string
		sha, sc, errmsg = c.d.loadScript(string(c.Args[1]))
		if errmsg != "" {
			c.W.Error(errmsg)
			return
		}
	}
	keys := c.Args[3 : 3+numkeys]
	argv := c.Args[3+numkeys:]
	if c.tx == nil {
		// The script holds the database lock for its whole run: keep the
		// event loops from waiting on it (they hand their commands to
		// goroutines, which get BUSY past lua-time-limit).
		c.d.Engine.BeginLong()
		defer c.d.Engine.EndLong()
	}
	if sc.declaredWrites && !ro {
		if msg := c.d.replicasError(); msg != "" {
			c.W.Error(msg)
			return
		}
	}
	_ = c.Write(func(tx *engine.Tx) error {
		if c.d.Engine.MaxMemory() != 0 && !tx.FreeMemory() {
			if sc.denyOOM && !ro {
				c.W.Error(msgOOM)
				return nil
			}
			c.overMax = true
		}
		c.d.runScript(c, tx, sha, sc, keys, argv, ro || sc.readOnly)
		return nil // a failed script keeps what it wrote, as in Redis
	})
}

// runScript runs sc inside tx and writes its reply.
func (d *Dispatcher) runScript(c *Call, tx *engine.Tx, sha string, sc *script, keys, argv [][]byte, ro bool) {
	d.runLua(c, tx, luaTarget{name: sha, instantiate: func(vm *luaVM) (*lua.LFunction, string) {
		fn := vm.fns[sha]
		if fn == nil {
			fn = vm.L.NewFunctionFromProto(sc.proto)
			fn.Env = vm.env
			vm.fns[sha] = fn
		}
		return fn, ""
	}}, keys, argv, ro)
}

// luaTarget is what runLua runs: an EVAL script (KEYS and ARGV are globals)
// or a library function (called with keys and args as its arguments).
type luaTarget struct {
	name     string // the script's sha1 or the function's name, for errors
	function bool
	// instantiate returns the Lua function in vm, compiling or loading it
	// there if this VM has not seen it yet, or an error reply.
	instantiate func(vm *luaVM) (*lua.LFunction, string)
}

// runLua runs target inside tx and writes its reply.
func (d *Dispatcher) runLua(c *Call, tx *engine.Tx, target luaTarget, keys, argv [][]byte, ro bool) {
	s := &d.scripts
	s.vmMu.Lock()
	defer s.vmMu.Unlock()
	ok := false
	defer func() {
		if !ok {
			// A panic inside the VM may have left it inconsistent: start over.
			s.vm = nil
		}
	}()
	if s.vm == nil {
		s.vm = newLuaVM()
	}
	vm := s.vm
	fn, errmsg := target.instantiate(vm)
	if errmsg != "" {
		c.W.Error(errmsg)
		ok = true
		return
	}
	cl := &Client{ID: c.Client.ID, Conn: c.Client.Conn, Created: c.Client.Created, W: resp.NewWriter(2), proto: 2, Authed: true, db: c.Client.DB(), scriptCaller: true}
	cl.account.Store(c.Client.account.Load())
	ctx, cancel := context.WithCancel(context.Background())
	run := &scriptRun{d: d, start: time.Now(), done: make(chan struct{}), cancel: cancel, ro: ro, tx: tx, now: c.Now, client: cl, overMax: c.overMax}
	if target.function {
		run.function = target.name
		run.command = c.Args
	}
	vm.run = run
	s.running.Store(run)
	watchdog := time.AfterFunc(100*time.Millisecond, func() { run.watchMemory(ctx) })
	defer func() {
		watchdog.Stop()
		s.running.Store(nil)
		vm.run = nil
		cancel()
		close(run.done)
	}()
	var args []lua.LValue
	if target.function {
		args = []lua.LValue{luaArray(vm.L, keys), luaArray(vm.L, argv)}
	} else {
		vm.globals.RawSetString("KEYS", luaArray(vm.L, keys))
		vm.globals.RawSetString("ARGV", luaArray(vm.L, argv))
	}
	v, errt := vm.exec(ctx, fn, args...)
	if run.readCalled && len(keys) > 0 {
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = string(k)
		}
		d.trackingRemember(c.Client, names)
	}
	if run.oom.Load() {
		c.W.Error(msgScriptMemory)
	} else if errt != nil {
		c.Client.errorCounted = errt.RawGetString("ignore_error_stats_update") == lua.LTrue
		msg, _ := errt.RawGetString("err").(lua.LString)
		out := string(msg)
		src, ok1 := errt.RawGetString("source").(lua.LString)
		line, ok2 := errt.RawGetString("line").(lua.LString)
		if ok1 && ok2 {
			out += " script: " + target.name + ", on " + string(src) + ":" + string(line) + "."
		}
		c.W.Error(out)
	} else {
		if t, ok := v.(*lua.LTable); ok && t.RawGetString("err") != lua.LNil {
			c.Client.errorCounted = t.RawGetString("ignore_error_stats_update") == lua.LTrue
		}
		writeLuaReply(c.W, v, run.client.proto, 0)
	}
	if !target.function {
		vm.globals.RawSetString("KEYS", lua.LNil)
		vm.globals.RawSetString("ARGV", lua.LNil)
	}
	ok = true
}

// watchMemory stops the script if the heap grows by more than the budget
// while it runs.
func (r *scriptRun) watchMemory(ctx context.Context) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			metrics.Read(sample)
			if sample[0].Value.Uint64() > base+scriptMemoryBudget {
				r.oom.Store(true)
				r.cancel()
				return
			}
		}
	}
}

func luaArray(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for i, it := range items {
		t.RawSetInt(i+1, lua.LString(it))
	}
	return t
}

// writeLuaReply converts a Lua value into a reply by Redis' rules: numbers
// truncate to integers, false is null, true is 1, a table is an error
// ({err=}), a status ({ok=}), a RESP3 type ({double=}, {map=}, {set=},
// {big_number=}, {verbatim_string=}) or an array cut at its first nil.
// scriptProto is the script's RESP version (redis.setresp), which decides
// how booleans convert.
func writeLuaReply(w *resp.Writer, v lua.LValue, scriptProto, depth int) {
	if depth > luaMaxDepth {
		w.Error("ERR reached lua stack limit")
		return
	}
	switch x := v.(type) {
	case lua.LString:
		w.BulkString(string(x))
	case lua.LBool:
		if scriptProto == 2 {
			if x {
				w.Int(1)
			} else {
				w.Null()
			}
		} else {
			w.Bool(bool(x))
		}
	case lua.LNumber:
		w.Int(luaToInt(float64(x)))
	case *lua.LTable:
		if e, ok := x.RawGetString("err").(lua.LString); ok {
			w.Error(string(e))
			return
		}
		if s, ok := x.RawGetString("ok").(lua.LString); ok {
			w.Simple(strings.NewReplacer("\r", " ", "\n", " ").Replace(string(s)))
			return
		}
		if d, ok := x.RawGetString("double").(lua.LNumber); ok {
			w.Double(float64(d))
			return
		}
		if b, ok := x.RawGetString("big_number").(lua.LString); ok {
			s := strings.NewReplacer("\r", " ", "\n", " ").Replace(string(b))
			if w.Proto() == 3 {
				w.Raw([]byte("(" + s + "\r\n"))
			} else {
				w.BulkString(s)
			}
			return
		}
		if vt, ok := x.RawGetString("verbatim_string").(*lua.LTable); ok {
			f, ok1 := vt.RawGetString("format").(lua.LString)
			s, ok2 := vt.RawGetString("string").(lua.LString)
			if ok1 && ok2 {
				if w.Proto() == 3 {
					w.Raw([]byte("=" + strconv.Itoa(len(s)+4) + "\r\n" + string(f) + ":" + string(s) + "\r\n"))
				} else {
					w.BulkString(string(s))
				}
				return
			}
		}
		if m, ok := x.RawGetString("map").(*lua.LTable); ok {
			var ks, vs []lua.LValue
			luaPairs(m, func(k, v lua.LValue) { ks = append(ks, k); vs = append(vs, v) })
			w.Map(len(ks))
			for i := range ks {
				writeLuaReply(w, ks[i], scriptProto, depth+1)
				writeLuaReply(w, vs[i], scriptProto, depth+1)
			}
			return
		}
		if st, ok := x.RawGetString("set").(*lua.LTable); ok {
			var ks []lua.LValue
			luaPairs(st, func(k, _ lua.LValue) { ks = append(ks, k) })
			w.Set(len(ks))
			for _, k := range ks {
				writeLuaReply(w, k, scriptProto, depth+1)
			}
			return
		}
		n := 0
		for x.RawGetInt(n+1) != lua.LNil {
			n++
		}
		w.Array(n)
		for i := 1; i <= n; i++ {
			writeLuaReply(w, x.RawGetInt(i), scriptProto, depth+1)
		}
	default:
		w.Null()
	}
}

// luaToInt truncates like C's (long long) cast, saturating instead of
// undefined behaviour out of range.
func luaToInt(f float64) int64 {
	switch {
	case f != f:
		return math.MinInt64
	case f >= 9.223372036854775807e18:
		return math.MaxInt64
	case f <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

func cmdScriptLoad(c *Call) {
	sha, _, errmsg := c.d.loadScript(string(c.Args[2]))
	if errmsg != "" {
		c.W.Error(errmsg)
		return
	}
	c.W.BulkString(sha)
}

func cmdScriptExists(c *Call) {
	s := &c.d.scripts
	s.cacheMu.RLock()
	defer s.cacheMu.RUnlock()
	c.W.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if s.cache[strings.ToLower(string(a))] != nil {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func cmdScriptFlush(c *Call) {
	if len(c.Args) > 3 || (len(c.Args) == 3 && !keyword(c.Args[2], "SYNC") && !keyword(c.Args[2], "ASYNC")) {
		c.W.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	s := &c.d.scripts
	s.cacheMu.Lock()
	s.cache = nil
	s.cacheMu.Unlock()
	// The VM goes too (its globals and compiled functions), as Redis
	// resets its interpreter; it is rebuilt by the next script.
	s.vmMu.Lock()
	s.vm = nil
	s.vmMu.Unlock()
	c.W.OK()
}

func cmdScriptKill(c *Call) { killScript(c, false) }

// killScript is SCRIPT KILL (function false) and FUNCTION KILL: each stops
// only its own kind of run, and neither a run that has written.
func killScript(c *Call, function bool) {
	r := c.d.scripts.running.Load()
	switch {
	case r == nil:
		c.W.Error(msgNotBusy)
	case function && r.function == "":
		c.W.Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL command.")
	case !function && r.function != "":
		c.W.Error("BUSY Redis is busy running a function. You can only call FUNCTION KILL command.")
	case r.wrote.Load():
		c.W.Error(msgUnkillable)
	default:
		r.killed.Store(true)
		r.cancel()
		c.W.OK()
	}
}

func cmdScriptHelp(c *Call) {
	lines := []string{
		"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
		"HELP",
		"    Prints this help.",
	}
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.Simple(l)
	}
}
