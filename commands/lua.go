package commands

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// The Lua VM of scripting: gopher-lua (Lua 5.1) sandboxed as Redis 7 does.
// One VM serves every script; runs are serialized (they all happen under the
// engine's write lock). Globals are read-only: scripts see a proxy whose
// reads of unknown names and writes both fail with Redis' words.

const (
	luaChunkName = "user_script" // errors read "user_script:1: ..." as in Redis
	luaMaxDepth  = 1000          // nesting of a returned table (self-references end here)
	luaMaxString = 512 << 20     // string.rep beyond this fails instead of exhausting memory
)

type luaVM struct {
	L        *lua.LState
	globals  *lua.LTable // the real globals
	env      *lua.LTable // what scripts see as _G
	handler  *lua.LFunction
	readonly map[*lua.LTable]*lua.LTable // table -> its read-only proxy
	isRO     map[*lua.LTable]bool
	fns      map[string]*lua.LFunction // sha -> function instantiated in this VM
	run      *scriptRun                // the current run, nil between runs
	rand48   uint64                    // math.random's state (Redis' rand.c)
	funcs    *luaFunctions             // library functions instantiated here (functions.go)
}

func newLuaVM() *luaVM {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 1024, RegistrySize: 1024 * 20, RegistryMaxSize: 1024 * 1024 * 8})
	vm := &luaVM{L: L, readonly: map[*lua.LTable]*lua.LTable{}, isRO: map[*lua.LTable]bool{}, fns: map[string]*lua.LFunction{}}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	vm.globals = g
	// Only what Redis' allow lists keep.
	allowed := map[string]bool{"string": true, "math": true, "table": true, "coroutine": true, "bit": true, "cjson": true, "cmsgpack": true,
		"xpcall": true, "tostring": true, "setmetatable": true, "next": true, "assert": true, "tonumber": true,
		"rawequal": true, "collectgarbage": true, "getmetatable": true, "rawset": true, "pcall": true, "type": true,
		"_G": true, "select": true, "unpack": true, "pairs": true, "rawget": true, "loadstring": true, "ipairs": true,
		"_VERSION": true, "load": true, "error": true}
	var drop []string
	g.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); !ok || !allowed[string(s)] {
			drop = append(drop, k.String())
		}
	})
	for _, k := range drop {
		g.RawSetString(k, lua.LNil)
	}
	if str, ok := g.RawGetString("string").(*lua.LTable); ok {
		str.RawSetString("dump", lua.LNil)
		rep := str.RawGetString("rep")
		str.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
			s := L.CheckString(1)
			n := L.CheckInt(2)
			if n > 0 && int64(len(s))*int64(n) > luaMaxString {
				L.RaiseError("not enough memory")
			}
			L.Push(rep)
			L.Push(lua.LString(s))
			L.Push(lua.LNumber(n))
			L.Call(2, 1)
			return 1
		}))
	}
	g.RawSetString("pcall", L.NewFunction(luaPcall))
	// unpack with Lua 5.1's bound (LUAI_MAXCSTACK): gopher-lua's would try
	// to push up to 2^31 values.
	g.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		i := int64(L.OptInt64(2, 1))
		e := int64(L.OptInt64(3, int64(t.Len())))
		if i > e {
			return 0
		}
		if n := e - i + 1; n <= 0 || n >= 8000 {
			L.RaiseError("too many results to unpack")
		}
		for k := i; k <= e; k++ {
			L.Push(t.RawGetInt(int(k)))
		}
		return int(e - i + 1)
	}))
	vm.mathRandom(g.RawGetString("math"))
	// tostring prints numbers as Lua 5.1 does (LUAI_NUMFFORMAT "%.14g"),
	// not with gopher-lua's shortest round-trip form.
	tostr := g.RawGetString("tostring")
	g.RawSetString("tostring", L.NewFunction(func(L *lua.LState) int {
		if n, ok := L.Get(1).(lua.LNumber); ok {
			L.Push(lua.LString(luaNumberString(float64(n))))
			return 1
		}
		L.Push(tostr)
		L.Push(L.Get(1))
		L.Call(1, 1)
		return 1
	}))
	g.RawSetString("bit", vm.bitLib())
	g.RawSetString("cjson", vm.cjsonLib())
	g.RawSetString("cmsgpack", vm.cmsgpackLib())
	g.RawSetString("struct", vm.structLib())
	g.RawSetString("redis", vm.redisLib())

	// Wrappers that refuse to touch protected tables: the wrapped function
	// runs with its first nargs arguments unless the first is protected.
	refuseProtected := func(name string, nargs int) {
		orig := g.RawGetString(name)
		g.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if t, ok := L.Get(1).(*lua.LTable); ok && vm.isRO[t] {
				L.RaiseError("Attempt to modify a readonly table")
			}
			L.Push(orig)
			for i := 1; i <= nargs; i++ {
				L.Push(L.Get(i))
			}
			L.Call(nargs, 1)
			return 1
		}))
	}
	refuseProtected("setmetatable", 2)
	refuseProtected("rawset", 3)
	getmt := g.RawGetString("getmetatable")
	g.RawSetString("getmetatable", L.NewFunction(func(L *lua.LState) int {
		L.Push(getmt)
		L.Push(L.Get(1))
		L.Call(1, 1)
		v := L.Get(-1)
		L.Pop(1)
		if t, ok := v.(*lua.LTable); ok && !vm.isRO[t] {
			v = vm.protect(t)
		}
		L.Push(v)
		return 1
	}))
	// Library tables are read-only too.
	for _, name := range []string{"string", "math", "table", "coroutine", "bit", "cjson", "cmsgpack", "struct", "redis"} {
		if t, ok := g.RawGetString(name).(*lua.LTable); ok {
			g.RawSetString(name, vm.protect(t))
		}
	}

	// The scripts' environment: reads fall through to the globals, unknown
	// names and every write fail.
	env := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := L.Get(2)
		if v := g.RawGet(k); v != lua.LNil {
			L.Push(v)
			return 1
		}
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", k.String())
		return 0
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	}))
	mt.RawSetString("__metatable", vm.protect(L.NewTable()))
	env.Metatable = mt
	vm.isRO[env] = true
	vm.isRO[mt] = true
	g.RawSetString("_G", env)
	vm.env = env

	vm.handler = L.NewFunction(vm.errorHandler)
	return vm
}

// protect returns a read-only proxy of t.
func (vm *luaVM) protect(t *lua.LTable) *lua.LTable {
	if p, ok := vm.readonly[t]; ok {
		return p
	}
	L := vm.L
	p := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	}))
	mt.RawSetString("__metatable", lua.LFalse)
	p.Metatable = mt
	vm.readonly[t] = p
	vm.isRO[p] = true
	vm.isRO[mt] = true
	return p
}

// errorHandler turns any error into Redis' error table {err=, source=, line=},
// locating the Lua line that raised it (the caller of a Go function).
func (vm *luaVM) errorHandler(L *lua.LState) int {
	e := L.Get(1)
	t, ok := e.(*lua.LTable)
	if !ok {
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR "+lua51Wording(lua.LVAsString(L.ToStringMeta(e)))))
	}
	if vm.run != nil && vm.run.killed.Load() {
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR Script killed by user with SCRIPT KILL..."))
	}
	for level := 1; level < 100; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			break
		}
		if dbg.What == "G" || dbg.CurrentLine <= 0 {
			continue
		}
		t.RawSetString("source", lua.LString("@"+dbg.Source))
		t.RawSetString("line", lua.LString(strconv.Itoa(dbg.CurrentLine)))
		break
	}
	L.Push(t)
	return 1
}

// luaPairs calls fn with each key and value of t in the order pairs() and
// next() give: the array part, then the other keys in insertion order.
// gopher-lua's own ForEach ranges over Go maps, whose order changes from run
// to run, and what a script encodes (cjson, cmsgpack, a map reply) must be
// the same bytes every time and on every node of a group, as in Redis.
func luaPairs(t *lua.LTable, fn func(k, v lua.LValue)) {
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		fn(k, v)
	}
}

// gopherIndexError is gopher-lua's wording of indexing a value that is not a
// table, which names the value's type.
var gopherIndexError = regexp.MustCompile(`attempt to index a non-table object\((\w+)\) with key '[^']*'`)

// lua51Wording puts a gopher-lua runtime error in Lua 5.1's words where the
// message carries what Lua 5.1 says (scripts and tests match on them).
func lua51Wording(msg string) string {
	return gopherIndexError.ReplaceAllString(msg, "attempt to index a $1 value")
}

// luaPcall is Redis' pcall: an error table raised by redis.call comes back
// as its message string, as in Redis 6.
func luaPcall(L *lua.LState) int {
	L.CheckAny(1)
	top := L.GetTop()
	if err := L.PCall(top-1, lua.MultRet, nil); err != nil {
		obj := lua.LValue(lua.LString(err.Error()))
		if ae, ok := err.(*lua.ApiError); ok {
			obj = ae.Object
		}
		if t, ok := obj.(*lua.LTable); ok {
			if s, ok := t.RawGetString("err").(lua.LString); ok {
				obj = s
			}
		}
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

// errorTable builds the {err="CODE msg"} table of luaPushErrorBuff: a
// leading "-CODE" names the code, otherwise it is ERR.
func errorTable(L *lua.LState, msg string) *lua.LTable {
	code := "ERR"
	if strings.HasPrefix(msg, "-") {
		if i := strings.IndexByte(msg, ' '); i < 0 {
			msg = msg[1:]
		} else {
			code, msg = msg[1:i], msg[i+1:]
		}
	}
	msg = strings.Trim(msg, "\r\n")
	t := L.NewTable()
	t.RawSetString("err", lua.LString(code+" "+msg))
	return t
}

func (vm *luaVM) redisLib() *lua.LTable {
	L := vm.L
	r := L.NewTable()
	fn := func(name string, f lua.LGFunction) { r.RawSetString(name, L.NewFunction(f)) }
	fn("call", func(L *lua.LState) int { return vm.redisCall(L, true) })
	fn("pcall", func(L *lua.LState) int { return vm.redisCall(L, false) })
	fn("sha1hex", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.Error(errorTable(L, "wrong number of arguments"), 0)
		}
		L.Push(lua.LString(sha1hex(L.ToString(1))))
		return 1
	})
	fn("error_reply", func(L *lua.LState) int {
		s, ok := L.Get(-1).(lua.LString)
		if L.GetTop() != 1 || !ok {
			L.Push(errorTable(L, "wrong number or type of arguments"))
			return 1
		}
		msg := string(s)
		if !strings.HasPrefix(msg, "-") {
			msg = "-" + msg
		}
		L.Push(errorTable(L, msg))
		return 1
	})
	fn("status_reply", func(L *lua.LState) int {
		s, ok := L.Get(-1).(lua.LString)
		if L.GetTop() != 1 || !ok {
			L.Push(errorTable(L, "wrong number or type of arguments"))
			return 1
		}
		t := L.NewTable()
		t.RawSetString("ok", s)
		L.Push(t)
		return 1
	})
	fn("log", func(L *lua.LState) int {
		n := L.GetTop()
		if n < 2 {
			L.Error(errorTable(L, "redis.log() requires two arguments or more."), 0)
		}
		lv, ok := L.Get(1).(lua.LNumber)
		if !ok {
			L.Error(errorTable(L, "First argument must be a number (log level)."), 0)
		}
		if lv < 0 || lv > 3 {
			L.Error(errorTable(L, "Invalid debug level."), 0)
		}
		var parts []string
		for i := 2; i <= n; i++ {
			switch v := L.Get(i).(type) {
			case lua.LString, lua.LNumber:
				parts = append(parts, v.String())
			}
		}
		if vm.run != nil {
			slog.Log(context.Background(), scriptLogLevels[int(lv)], "script: "+strings.Join(parts, " "))
		}
		return 0
	})
	fn("setresp", func(L *lua.LState) int {
		if vm.run == nil {
			L.Error(errorTable(L, "redis.setresp can only be called inside a script invocation"), 0)
		}
		if L.GetTop() != 1 {
			L.Error(errorTable(L, "redis.setresp() requires one argument."), 0)
		}
		p := int(L.ToNumber(1))
		if p != 2 && p != 3 {
			L.Error(errorTable(L, "RESP version must be 2 or 3."), 0)
		}
		vm.run.setResp(p)
		return 0
	})
	fn("set_repl", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.Error(errorTable(L, "redis.set_repl() requires two arguments."), 0)
		}
		return 0
	})
	fn("acl_check_cmd", func(L *lua.LState) int {
		if vm.run == nil {
			L.Error(errorTable(L, "redis.acl_check_cmd can only be called inside a script invocation"), 0)
		}
		args, bad := luaCommandArgs(L)
		if bad != "" {
			L.Error(errorTable(L, bad), 0)
		}
		allowed, known := vm.run.aclAllows(args)
		if !known {
			L.Error(errorTable(L, "Invalid command passed to redis.acl_check_cmd()"), 0)
		}
		L.Push(lua.LBool(allowed))
		return 1
	})
	fn("replicate_commands", func(L *lua.LState) int { L.Push(lua.LTrue); return 1 })
	for name, v := range map[string]int{"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3} {
		r.RawSetString(name, lua.LNumber(v))
	}
	r.RawSetString("REDIS_VERSION", lua.LString(RedisVersion))
	r.RawSetString("REDIS_VERSION_NUM", lua.LNumber(redisVersionNum()))
	return r
}

func redisVersionNum() int {
	var a, b, c int
	fmt.Sscanf(RedisVersion, "%d.%d.%d", &a, &b, &c)
	return a<<16 | b<<8 | c
}

func sha1hex(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// luaCommandArgs reads a command and its arguments from the Lua stack, as
// redis.call takes them, or says in Redis' words why it cannot.
func luaCommandArgs(L *lua.LState) ([][]byte, string) {
	n := L.GetTop()
	if n == 0 {
		return nil, "Please specify at least one argument for this redis lib call"
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LNumber:
			args[i-1] = strconv.AppendFloat(nil, float64(v), 'g', 17, 64)
		case lua.LString:
			args[i-1] = []byte(v)
		default:
			return nil, "Lua redis lib command arguments must be strings or integers"
		}
	}
	return args, ""
}

// redisCall is redis.call (raise) and redis.pcall.
func (vm *luaVM) redisCall(L *lua.LState, raise bool) int {
	fail := func(t *lua.LTable) int {
		if raise {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	run := vm.run
	if run == nil {
		return fail(errorTable(L, "redis.call/pcall can only be called inside a script invocation"))
	}
	args, bad := luaCommandArgs(L)
	if bad != "" {
		return fail(errorTable(L, bad))
	}
	L.SetTop(0)
	reply, errmsg := run.call(args)
	if errmsg != "" {
		t := errorTable(L, errmsg)
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		return fail(t)
	}
	p := respParser{L: L, b: reply}
	v := p.value(0)
	if raise && len(reply) > 0 && reply[0] == '-' {
		L.Error(v, 0)
	}
	L.Push(v)
	return 1
}

// respParser converts a command's reply into Lua values by Redis' rules.
type respParser struct {
	L *lua.LState
	b []byte
}

func (p *respParser) line() string {
	i := strings.Index(string(p.b), "\r\n")
	if i < 0 {
		s := string(p.b)
		p.b = nil
		return s
	}
	s := string(p.b[:i])
	p.b = p.b[i+2:]
	return s
}

func (p *respParser) value(depth int) lua.LValue {
	L := p.L
	if len(p.b) == 0 {
		return lua.LNil
	}
	kind := p.b[0]
	p.b = p.b[1:]
	ln := p.line()
	switch kind {
	case ':':
		n, _ := strconv.ParseInt(ln, 10, 64)
		return lua.LNumber(n)
	case '+':
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(ln))
		return t
	case '-':
		t := errorTable(L, "-"+ln)
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		return t
	case '$', '=':
		n, _ := strconv.Atoi(ln)
		if n < 0 {
			return lua.LFalse
		}
		if n > len(p.b) {
			n = len(p.b)
		}
		s := string(p.b[:n])
		p.b = p.b[min(n+2, len(p.b)):]
		if kind == '=' {
			t := L.NewTable()
			v := L.NewTable()
			format, str := "txt", s
			if len(s) >= 4 {
				format, str = s[:3], s[4:]
			}
			v.RawSetString("format", lua.LString(format))
			v.RawSetString("string", lua.LString(str))
			t.RawSetString("verbatim_string", v)
			return t
		}
		return lua.LString(s)
	case '*', '~', '%', '>':
		n, _ := strconv.Atoi(ln)
		if n < 0 {
			return lua.LFalse
		}
		t := L.NewTable()
		switch kind {
		case '%':
			m := L.NewTable()
			for i := 0; i < n; i++ {
				k := p.value(depth + 1)
				v := p.value(depth + 1)
				m.RawSet(k, v)
			}
			t.RawSetString("map", m)
		case '~':
			s := L.NewTable()
			for i := 0; i < n; i++ {
				s.RawSet(p.value(depth+1), lua.LTrue)
			}
			t.RawSetString("set", s)
		default:
			for i := 1; i <= n; i++ {
				t.RawSetInt(i, p.value(depth+1))
			}
		}
		return t
	case '_':
		return lua.LNil
	case '#':
		return lua.LBool(ln == "t")
	case ',':
		f, _ := strconv.ParseFloat(ln, 64)
		switch ln {
		case "inf":
			f = posInf
		case "-inf":
			f = -posInf
		}
		t := L.NewTable()
		t.RawSetString("double", lua.LNumber(f))
		return t
	case '(':
		t := L.NewTable()
		t.RawSetString("big_number", lua.LString(ln))
		return t
	}
	return lua.LNil
}

// luaCompile compiles a script body (after its shebang line, if any).
func luaCompile(body string) (*lua.FunctionProto, error) {
	return luaCompileAs(body, luaChunkName)
}

// luaCompileAs compiles body as the chunk named name (its errors and error
// locations read "name:line").
func luaCompileAs(body, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(body), name)
	if err != nil {
		return nil, err
	}
	return lua.Compile(chunk, name)
}

// exec runs fn (already holding KEYS/ARGV) and returns the Lua result or the
// error table.
func (vm *luaVM) exec(ctx context.Context, fn *lua.LFunction, args ...lua.LValue) (lua.LValue, *lua.LTable) {
	L := vm.L
	L.SetContext(ctx)
	defer L.RemoveContext()
	L.SetTop(0)
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	err := L.PCall(len(args), 1, vm.handler)
	if err != nil {
		var obj lua.LValue = lua.LString(err.Error())
		if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
			obj = ae.Object
		}
		L.SetTop(0)
		t, ok := obj.(*lua.LTable)
		if !ok {
			t = L.NewTable()
			t.RawSetString("err", lua.LString("ERR "+obj.String()))
		}
		if vm.run != nil && vm.run.killed.Load() {
			if _, ok := t.RawGetString("source").(lua.LString); !ok {
				t = L.NewTable()
			}
			t.RawSetString("err", lua.LString("ERR Script killed by user with SCRIPT KILL..."))
		}
		return nil, t
	}
	v := L.Get(-1)
	L.SetTop(0)
	return v, nil
}
