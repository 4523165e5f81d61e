package commands

import (
	"context"
	"errors"
	"log"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/glob"
	"github.com/sessiond/sessiond/resp"
)

// Redis 7 functions: FUNCTION LOAD/DELETE/DUMP/RESTORE/KILL/STATS/FLUSH/LIST
// and FCALL/FCALL_RO, on the gopher-lua VM of EVAL (lua.go). A library is
// Lua code starting "#!lua name=<lib>" whose top level may only call
// redis.register_function; its functions then run like scripts (inside one
// engine transaction, BUSY past busy-reply-threshold, FUNCTION KILL) with
// keys and arguments passed as their two parameters.
//
// The code of every library is stored in the data file (engine/functions.go)
// and read back on first use after a restart. The registry here holds the
// parsed libraries; each VM instantiates a library's functions by running
// its code again in load mode the first time one is called there (the VM is
// replaced by SCRIPT FLUSH or after a panic).

const (
	luaFunctionChunk = "user_function"
	// functionLoadTimeout bounds the top level of a library (Redis'
	// LOAD_TIMEOUT_MS): it may only register functions.
	functionLoadTimeout = 500 * time.Millisecond
	msgLibName          = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
)

func init() {
	sub := func(name string, arity int, flags Flag, syntax, summary string, run func(*Call)) *Spec {
		return &Spec{Name: name, Arity: arity, Flags: flags, Syntax: syntax, Summary: summary, Run: run}
	}
	register(
		&Spec{Name: "fcall", Arity: -3, Flags: FlagNoScript | FlagStale | FlagSkipMonitor | FlagLong, KeySpecs: []KeySpec{keynumSpec(2, "RW access update")}, Group: "scripting", Since: "7.0.0",
			Syntax: "function numkeys [key [key ...]] [arg [arg ...]]", Summary: "Invokes a function.",
			Example: "> FCALL myfunc 1 k v\n\"OK\"", Run: func(c *Call) { cmdFcall(c, false) }},
		&Spec{Name: "fcall_ro", Arity: -3, Flags: FlagNoScript | FlagStale | FlagSkipMonitor | FlagReadonly | FlagLong, KeySpecs: []KeySpec{keynumSpec(2, "RO access")}, Group: "scripting", Since: "7.0.0",
			Syntax: "function numkeys [key [key ...]] [arg [arg ...]]", Summary: "Invokes a read-only function.",
			Example: "> FCALL_RO myget 1 k\n\"v\"", Run: func(c *Call) { cmdFcall(c, true) }},
		&Spec{Name: "function", Arity: -2, Group: "scripting", Since: "7.0.0", Summary: "A container for function commands.",
			Subcommands: []*Spec{
				sub("load", -3, FlagWrite|FlagDenyOOM|FlagNoScript|FlagLong, "[REPLACE] function-code", "Creates a library.", cmdFunctionLoad),
				sub("delete", 3, FlagWrite|FlagNoScript, "library-name", "Deletes a library and its functions.", cmdFunctionDelete),
				sub("dump", 2, FlagNoScript, "", "Dumps all libraries into a serialized binary payload.", cmdFunctionDump),
				sub("restore", -3, FlagWrite|FlagDenyOOM|FlagNoScript|FlagLong, "serialized-value [FLUSH|APPEND|REPLACE]", "Restores all libraries from a payload.", cmdFunctionRestore),
				sub("kill", 2, FlagNoScript|FlagAllowBusy, "", "Terminates a function during execution.", cmdFunctionKill),
				sub("stats", 2, FlagNoScript|FlagAllowBusy, "", "Returns information about a function during execution.", cmdFunctionStats),
				sub("flush", -2, FlagWrite|FlagNoScript, "[ASYNC|SYNC]", "Deletes all libraries and functions.", cmdFunctionFlush),
				sub("list", -2, FlagNoScript, "[LIBRARYNAME library-name-pattern] [WITHCODE]", "Returns information about all libraries.", cmdFunctionList),
				sub("help", 2, FlagLoading|FlagStale, "", "Returns helpful text about the different subcommands.", cmdFunctionHelp),
			}},
	)
}

// Function flags, in the order Redis lists them.
var functionFlagNames = []string{"no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"}

// libFunction is one registered function.
type libFunction struct {
	name     string
	desc     string
	hasDesc  bool
	flags    []string
	noWrites bool
	lib      *funcLib
}

// funcLib is one library: its code and the functions its load registered.
type funcLib struct {
	name  string // as given in the shebang
	code  string
	proto *lua.FunctionProto
	fns   []*libFunction // in registration order
}

// functionRegistry holds the libraries. Changes happen with the VM lock and
// the engine write lock held (so they follow the data file's order); mu
// lets FUNCTION STATS read it while a function runs.
type functionRegistry struct {
	mu     sync.RWMutex
	loaded bool
	libs   map[string]*funcLib     // lowercase library name
	fns    map[string]*libFunction // lowercase function name
}

// luaFunctions is a VM's function state: the globals functions see, the
// library API their load sees, and the functions instantiated in this VM.
type luaFunctions struct {
	env     *lua.LTable
	loadEnv *lua.LTable // the globals of a library's top level: only redis
	loading *funcLib    // the library whose top level runs, nil otherwise
	inst    map[*funcLib]map[string]*lua.LFunction
}

// functions returns vm's function state, building it on first use.
func (vm *luaVM) functions() *luaFunctions {
	if vm.funcs != nil {
		return vm.funcs
	}
	L := vm.L
	f := &luaFunctions{inst: map[*funcLib]map[string]*lua.LFunction{}}
	vm.funcs = f
	missing := func(L *lua.LState, k lua.LValue) {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", k.String())
	}
	readonly := L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	})
	// The load-time redis table: registration, logging and the version.
	api := L.NewTable()
	full := vm.redisLib()
	for _, k := range []string{"log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"} {
		api.RawSetString(k, full.RawGetString(k))
	}
	api.RawSetString("register_function", L.NewFunction(vm.registerFunction))
	apiProxy := L.NewTable()
	apiMT := L.NewTable()
	apiMT.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		if v := api.RawGet(L.Get(2)); v != lua.LNil {
			L.Push(v)
			return 1
		}
		missing(L, L.Get(2))
		return 0
	}))
	apiMT.RawSetString("__newindex", readonly)
	apiMT.RawSetString("__metatable", lua.LFalse)
	apiProxy.Metatable = apiMT
	vm.isRO[apiProxy] = true
	f.loadEnv = L.NewTable()
	f.loadEnv.RawSetString("redis", apiProxy)

	// The functions' globals: the library API while the top level runs,
	// the scripts' globals afterwards; never writable.
	env := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := L.Get(2)
		src := vm.globals
		if f.loading != nil {
			src = f.loadEnv
		}
		if v := src.RawGet(k); v != lua.LNil {
			L.Push(v)
			return 1
		}
		missing(L, k)
		return 0
	}))
	mt.RawSetString("__newindex", readonly)
	mt.RawSetString("__metatable", vm.protect(L.NewTable()))
	env.Metatable = mt
	vm.isRO[env] = true
	vm.isRO[mt] = true
	f.env = env
	return f
}

// registerFunction is redis.register_function: positional (name, callback)
// or one table of named arguments.
func (vm *luaVM) registerFunction(L *lua.LState) int {
	f := vm.funcs
	if f == nil || f.loading == nil {
		L.RaiseError("redis.register_function can only be called on FUNCTION LOAD command")
	}
	fn := &libFunction{lib: f.loading}
	var cb *lua.LFunction
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			L.RaiseError("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		var bad string
		luaPairs(t, func(k, v lua.LValue) {
			if bad != "" {
				return
			}
			key, _ := k.(lua.LString)
			switch string(key) {
			case "function_name":
				s, ok := v.(lua.LString)
				if !ok {
					bad = "function_name argument given to redis.register_function must be a string"
					return
				}
				fn.name = string(s)
			case "description":
				s, ok := v.(lua.LString)
				if !ok {
					bad = "description argument given to redis.register_function must be a string"
					return
				}
				fn.desc, fn.hasDesc = string(s), true
			case "callback":
				c, ok := v.(*lua.LFunction)
				if !ok {
					bad = "callback argument given to redis.register_function must be a function"
					return
				}
				cb = c
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					bad = "flags argument to redis.register_function must be a table representing function flags"
					return
				}
				set := map[string]bool{}
				luaPairs(ft, func(_, fv lua.LValue) {
					s, ok := fv.(lua.LString)
					known := false
					for _, n := range functionFlagNames {
						known = known || (ok && string(s) == n)
					}
					if !known {
						bad = "unknown flag given"
						return
					}
					set[string(s)] = true
				})
				for _, n := range functionFlagNames {
					if set[n] {
						fn.flags = append(fn.flags, n)
					}
				}
				fn.noWrites = set["no-writes"]
			default:
				bad = "unknown argument given to redis.register_function"
			}
		})
		if bad != "" {
			L.RaiseError("%s", bad)
		}
		if fn.name == "" && cb == nil {
			L.RaiseError("redis.register_function must get a function name argument")
		}
		if fn.name == "" {
			L.RaiseError("redis.register_function must get a function name argument")
		}
		if cb == nil {
			L.RaiseError("redis.register_function must get a callback argument")
		}
	case 2:
		s, ok := L.Get(1).(lua.LString)
		if !ok {
			L.RaiseError("first argument to redis.register_function must be a string")
		}
		c, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			L.RaiseError("second argument to redis.register_function must be a function")
		}
		fn.name, cb = string(s), c
	default:
		L.RaiseError("wrong number of arguments to redis.register_function")
	}
	if !validLibName(fn.name) {
		L.RaiseError(msgLibName)
	}
	lib := f.loading
	for _, other := range lib.fns {
		if strings.EqualFold(other.name, fn.name) {
			L.RaiseError("Function already exists in the library")
		}
	}
	lib.fns = append(lib.fns, fn)
	f.inst[lib][strings.ToLower(fn.name)] = cb
	return 0
}

func validLibName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parseLibrary reads a library's shebang ("#!lua name=<lib>") and compiles
// its code.
func parseLibrary(code string) (*funcLib, string) {
	if !strings.HasPrefix(code, "#!") {
		return nil, "ERR Missing library metadata"
	}
	end := strings.IndexByte(code, '\n')
	if end < 0 {
		end = len(code)
	}
	parts, ok := splitArgs(code[2:end])
	if !ok {
		return nil, "ERR Invalid library metadata"
	}
	engineName := ""
	if len(parts) > 0 {
		engineName = parts[0]
	}
	if !strings.EqualFold(engineName, "lua") {
		// "#! name=x": the engine name is empty.
		if strings.Contains(engineName, "=") {
			engineName = ""
		}
		return nil, "ERR Engine '" + engineName + "' not found"
	}
	lib := &funcLib{code: code}
	named := false
	for _, p := range parts[1:] {
		if !strings.HasPrefix(p, "name=") {
			return nil, "ERR Invalid metadata value given: " + p
		}
		if named {
			return nil, "ERR Invalid metadata value, name argument was given multiple times"
		}
		named = true
		lib.name = p[len("name="):]
	}
	if !named {
		return nil, "ERR Library name was not given"
	}
	if !validLibName(lib.name) {
		return nil, "ERR " + msgLibName
	}
	// The shebang line is blanked, its line feed kept, so lines number right.
	proto, err := luaCompileAs(code[end:], luaFunctionChunk)
	if err != nil {
		msg := err.Error()
		if pe, ok := err.(*parse.Error); ok {
			msg = luaFunctionChunk + ":" + strconv.Itoa(pe.Pos.Line) + ": " + pe.Message + " near '" + pe.Token + "'"
		}
		return nil, "ERR Error compiling function: " + msg
	}
	lib.proto = proto
	return lib, ""
}

// splitArgs splits a line as Redis' sdssplitargs does for the shebang:
// words separated by spaces, double or single quotes grouping.
func splitArgs(s string) ([]string, bool) {
	var out []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
			i++
		}
		if i >= len(s) {
			return out, true
		}
		var b strings.Builder
		var quote byte
		for i < len(s) {
			c := s[i]
			if quote != 0 {
				if c == quote {
					quote = 0
					i++
					if i < len(s) && s[i] != ' ' {
						// Redis: a closing quote must be followed by a space.
						if s[i] != '\t' && s[i] != '\r' {
							return nil, false
						}
					}
					continue
				}
				b.WriteByte(c)
				i++
				continue
			}
			if c == ' ' || c == '\t' || c == '\r' {
				break
			}
			if c == '"' || c == '\'' {
				quote = c
				i++
				continue
			}
			b.WriteByte(c)
			i++
		}
		if quote != 0 {
			return nil, false
		}
		out = append(out, b.String())
	}
}

// instantiate runs lib's top level in vm (load mode): it registers lib's
// functions (into lib.fns the first time, when fresh) and keeps the
// callbacks in the VM. It returns an error reply.
func (vm *luaVM) instantiate(lib *funcLib, fresh bool) string {
	f := vm.functions()
	target := lib
	if !fresh {
		// Registration of a known library: collect into a scratch copy.
		target = &funcLib{name: lib.name, code: lib.code, proto: lib.proto}
	}
	f.inst[target] = map[string]*lua.LFunction{}
	fn := vm.L.NewFunctionFromProto(lib.proto)
	fn.Env = f.env
	ctx, cancel := context.WithTimeout(context.Background(), functionLoadTimeout)
	defer cancel()
	f.loading = target
	_, errt := vm.exec(ctx, fn)
	f.loading = nil
	inst := f.inst[target]
	delete(f.inst, target)
	if ctx.Err() == context.DeadlineExceeded {
		return "ERR Error registering functions: FUNCTION LOAD timeout"
	}
	if errt != nil {
		msg, _ := errt.RawGetString("err").(lua.LString)
		return "ERR Error registering functions: " + strings.TrimPrefix(string(msg), "ERR ")
	}
	if len(target.fns) == 0 {
		return "ERR No functions registered"
	}
	f.inst[lib] = inst
	return ""
}

// ensureFunctions fills the registry from the data file on first use.
func (d *Dispatcher) ensureFunctions(tx *engine.Tx) {
	r := &d.funcs
	r.mu.RLock()
	loaded := r.loaded
	r.mu.RUnlock()
	if loaded {
		return
	}
	codes := tx.FunctionLibraries()
	s := &d.scripts
	s.vmMu.Lock()
	defer s.vmMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loaded {
		return
	}
	r.loaded = true
	r.libs = map[string]*funcLib{}
	r.fns = map[string]*libFunction{}
	if len(codes) == 0 {
		return
	}
	if s.vm == nil {
		s.vm = newLuaVM()
	}
	for _, code := range codes {
		lib, errmsg := parseLibrary(code)
		if errmsg == "" {
			errmsg = s.vm.instantiate(lib, true)
		}
		if errmsg != "" {
			// A stored library that no longer loads is left in the file
			// and reported, not dropped silently.
			log.Printf("functions: a stored library does not load: %s", errmsg)
			continue
		}
		r.libs[strings.ToLower(lib.name)] = lib
		for _, fn := range lib.fns {
			r.fns[strings.ToLower(fn.name)] = fn
		}
	}
}

// prepareLibraries parses and registers codes in the current VM (creating
// it if needed). The caller holds the VM lock.
func (d *Dispatcher) prepareLibraries(codes []string) ([]*funcLib, string) {
	s := &d.scripts
	if s.vm == nil {
		s.vm = newLuaVM()
	}
	var out []*funcLib
	for _, code := range codes {
		lib, errmsg := parseLibrary(code)
		if errmsg == "" {
			errmsg = s.vm.instantiate(lib, true)
		}
		if errmsg != "" {
			for _, l := range out {
				delete(s.vm.functions().inst, l)
			}
			return nil, errmsg
		}
		out = append(out, lib)
	}
	return out, ""
}

// installPolicy says what happens to libraries already there.
type installPolicy int

const (
	installAppend  installPolicy = iota // a library of the same name is an error
	installReplace                      // a library of the same name is replaced
	installFlush                        // every library goes first
)

// installLibraries adds libs to the registry by policy, checking name
// collisions first, and writes the change to tx. The caller holds the VM
// lock and the engine write lock. quoteLib words "Library 'x' already
// exists" as FUNCTION LOAD does (RESTORE leaves the quotes out).
func (d *Dispatcher) installLibraries(tx *engine.Tx, libs []*funcLib, policy installPolicy, quoteLib bool) string {
	r := &d.funcs
	r.mu.Lock()
	defer r.mu.Unlock()
	newLibs := map[string]*funcLib{}
	if policy != installFlush {
		for k, l := range r.libs {
			newLibs[k] = l
		}
	}
	var dropped []*funcLib
	for _, lib := range libs {
		k := strings.ToLower(lib.name)
		if old := newLibs[k]; old != nil {
			if policy == installAppend {
				if quoteLib {
					return "ERR Library '" + lib.name + "' already exists"
				}
				return "ERR Library " + lib.name + " already exists"
			}
			dropped = append(dropped, old)
		}
		newLibs[k] = lib
	}
	newFns := map[string]*libFunction{}
	// Functions of the libraries being added are checked last, so the
	// error names the function that collides with one already there.
	added := map[*funcLib]bool{}
	for _, l := range libs {
		added[l] = true
	}
	for _, l := range sortedLibs(newLibs) {
		if added[l] {
			continue
		}
		for _, fn := range l.fns {
			newFns[strings.ToLower(fn.name)] = fn
		}
	}
	for _, l := range libs {
		for _, fn := range l.fns {
			k := strings.ToLower(fn.name)
			if newFns[k] != nil {
				return "ERR Function " + fn.name + " already exists"
			}
			newFns[k] = fn
		}
	}
	if policy == installFlush {
		for _, l := range r.libs {
			dropped = append(dropped, l)
		}
		tx.FlushFunctionLibraries()
	}
	for _, l := range libs {
		tx.SetFunctionLibrary(l.name, l.code)
	}
	if vm := d.scripts.vm; vm != nil && vm.funcs != nil {
		for _, l := range dropped {
			delete(vm.funcs.inst, l)
		}
	}
	r.libs, r.fns = newLibs, newFns
	return ""
}

func sortedLibs(m map[string]*funcLib) []*funcLib {
	out := make([]*funcLib, 0, len(m))
	for _, l := range m {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].name) < strings.ToLower(out[j].name) })
	return out
}

// errFunctionReply carries an error reply out of a write transaction
// (nothing is written).
type errFunctionReply string

func (e errFunctionReply) Error() string { return string(e) }

// changeFunctions runs fn with the registry loaded, the VM lock and the
// engine write lock held, and answers its error reply or ok.
func (c *Call) changeFunctions(fn func(tx *engine.Tx) string, ok func()) {
	err := c.Write(func(tx *engine.Tx) error {
		c.d.ensureFunctions(tx)
		s := &c.d.scripts
		s.vmMu.Lock()
		defer s.vmMu.Unlock()
		if msg := fn(tx); msg != "" {
			return errFunctionReply(msg)
		}
		return nil
	})
	var fe errFunctionReply
	switch {
	case errors.As(err, &fe):
		c.W.Error(string(fe))
	case err != nil:
		c.W.Error("ERR " + err.Error())
	default:
		ok()
	}
}

func cmdFunctionLoad(c *Call) {
	replace := false
	for _, a := range c.Args[2 : len(c.Args)-1] {
		if !keyword(a, "REPLACE") {
			c.W.Error("ERR Unknown option given: " + string(a))
			return
		}
		replace = true
	}
	code := c.Arg(len(c.Args) - 1)
	var name string
	c.changeFunctions(func(tx *engine.Tx) string {
		libs, msg := c.d.prepareLibraries([]string{code})
		if msg != "" {
			return msg
		}
		policy := installAppend
		if replace {
			policy = installReplace
		}
		name = libs[0].name
		if msg := c.d.installLibraries(tx, libs, policy, true); msg != "" {
			delete(c.d.scripts.vm.functions().inst, libs[0])
			return msg
		}
		return ""
	}, func() { c.W.BulkString(name) })
}

func cmdFunctionDelete(c *Call) {
	name := strings.ToLower(c.Arg(2))
	c.changeFunctions(func(tx *engine.Tx) string {
		r := &c.d.funcs
		r.mu.Lock()
		defer r.mu.Unlock()
		lib := r.libs[name]
		if lib == nil {
			return "ERR Library not found"
		}
		delete(r.libs, name)
		for _, fn := range lib.fns {
			delete(r.fns, strings.ToLower(fn.name))
		}
		if vm := c.d.scripts.vm; vm != nil && vm.funcs != nil {
			delete(vm.funcs.inst, lib)
		}
		tx.DeleteFunctionLibrary(name)
		return ""
	}, c.W.OK)
}

func cmdFunctionFlush(c *Call) {
	if len(c.Args) > 3 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.")
		return
	}
	if len(c.Args) == 3 && !keyword(c.Args[2], "SYNC") && !keyword(c.Args[2], "ASYNC") {
		c.W.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	c.changeFunctions(func(tx *engine.Tx) string {
		return c.d.installLibraries(tx, nil, installFlush, false)
	}, c.W.OK)
}

func cmdFunctionDump(c *Call) {
	var codes []string
	_ = c.Read(func(tx *engine.Tx) error {
		c.d.ensureFunctions(tx)
		codes = tx.FunctionLibraries()
		return nil
	})
	c.W.BulkString(engine.DumpFunctions(codes))
}

func cmdFunctionRestore(c *Call) {
	if len(c.Args) > 4 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.")
		return
	}
	policy := installAppend
	if len(c.Args) == 4 {
		switch {
		case keyword(c.Args[3], "APPEND"):
		case keyword(c.Args[3], "REPLACE"):
			policy = installReplace
		case keyword(c.Args[3], "FLUSH"):
			policy = installFlush
		default:
			c.W.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	codes, err := engine.UndumpFunctions(c.Arg(2))
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.changeFunctions(func(tx *engine.Tx) string {
		libs, msg := c.d.prepareLibraries(codes)
		if msg != "" {
			return msg
		}
		if msg := c.d.installLibraries(tx, libs, policy, false); msg != "" {
			for _, l := range libs {
				delete(c.d.scripts.vm.functions().inst, l)
			}
			return msg
		}
		return ""
	}, c.W.OK)
}

func cmdFunctionKill(c *Call) { killScript(c, true) }

func cmdFunctionStats(c *Call) {
	// No engine lock here: a running function holds it, and FUNCTION STATS
	// must answer while it runs.
	w := c.W
	w.Map(2)
	w.BulkString("running_script")
	if r := c.d.scripts.running.Load(); r != nil && r.function != "" {
		w.Map(3)
		w.BulkString("name")
		w.BulkString(r.function)
		w.BulkString("command")
		w.Array(len(r.command))
		for _, a := range r.command {
			w.Bulk(a)
		}
		w.BulkString("duration_ms")
		w.Int(time.Since(r.start).Milliseconds())
	} else {
		w.Null()
	}
	reg := &c.d.funcs
	if c.d.scripts.running.Load() == nil {
		_ = c.Read(func(tx *engine.Tx) error { c.d.ensureFunctions(tx); return nil })
	}
	reg.mu.RLock()
	nlibs, nfns := len(reg.libs), len(reg.fns)
	reg.mu.RUnlock()
	w.BulkString("engines")
	w.Map(1)
	w.BulkString("LUA")
	w.Map(2)
	w.BulkString("libraries_count")
	w.Int(int64(nlibs))
	w.BulkString("functions_count")
	w.Int(int64(nfns))
}

func cmdFunctionList(c *Call) {
	withCode, pattern, havePattern := false, "", false
	unknown := func(a []byte) {
		c.W.Error("ERR Unknown argument " + strings.NewReplacer("\r", " ", "\n", " ").Replace(string(a)))
	}
	for i := 2; i < len(c.Args); i++ {
		switch {
		case keyword(c.Args[i], "WITHCODE") && !withCode:
			withCode = true
		case keyword(c.Args[i], "LIBRARYNAME") && !havePattern:
			if i+1 >= len(c.Args) {
				c.W.Error("ERR library name argument was not given")
				return
			}
			pattern, havePattern = c.Arg(i+1), true
			i++
		default:
			unknown(c.Args[i])
			return
		}
	}
	_ = c.Read(func(tx *engine.Tx) error { c.d.ensureFunctions(tx); return nil })
	reg := &c.d.funcs
	reg.mu.RLock()
	libs := sortedLibs(reg.libs)
	reg.mu.RUnlock()
	var shown []*funcLib
	for _, l := range libs {
		if !havePattern || glob.Match(pattern, l.name) {
			shown = append(shown, l)
		}
	}
	w := c.W
	w.Array(len(shown))
	for _, l := range shown {
		if withCode {
			w.Map(4)
		} else {
			w.Map(3)
		}
		w.BulkString("library_name")
		w.BulkString(l.name)
		w.BulkString("engine")
		w.BulkString("LUA")
		w.BulkString("functions")
		w.Array(len(l.fns))
		for _, fn := range l.fns {
			writeFunctionInfo(w, fn)
		}
		if withCode {
			w.BulkString("library_code")
			w.BulkString(l.code)
		}
	}
}

func writeFunctionInfo(w *resp.Writer, fn *libFunction) {
	w.Map(3)
	w.BulkString("name")
	w.BulkString(fn.name)
	w.BulkString("description")
	if fn.hasDesc {
		w.BulkString(fn.desc)
	} else {
		w.Null()
	}
	w.BulkString("flags")
	w.Set(len(fn.flags))
	for _, f := range fn.flags {
		w.BulkString(f)
	}
}

func cmdFunctionHelp(c *Call) {
	lines := []string{
		"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
		"HELP",
		"    Print this help.",
	}
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.Simple(l)
	}
}

func cmdFcall(c *Call, ro bool) {
	numkeys, ok := parseScriptNumKeys(c, "ERR Bad number of keys provided")
	if !ok {
		return
	}
	keys := c.Args[3 : 3+numkeys]
	argv := c.Args[3+numkeys:]
	if c.tx == nil {
		// As EVAL: the function holds the database lock for its whole run.
		c.d.Engine.BeginLong()
		defer c.d.Engine.EndLong()
	}
	name := strings.ToLower(c.Arg(1))
	_ = c.Write(func(tx *engine.Tx) error {
		c.d.ensureFunctions(tx)
		reg := &c.d.funcs
		reg.mu.RLock()
		fn := reg.fns[name]
		reg.mu.RUnlock()
		if fn == nil {
			c.W.Error("ERR Function not found")
			return nil
		}
		if ro && !fn.noWrites {
			c.W.Error("ERR Can not execute a script with write flag using *_ro command.")
			return nil
		}
		if !fn.noWrites {
			if msg := c.d.replicasError(); msg != "" {
				c.W.Error(msg) // a function declares its writes, as a shebang script
				return nil
			}
		}
		c.d.runLua(c, tx, luaTarget{name: fn.name, function: true, instantiate: func(vm *luaVM) (*lua.LFunction, string) {
			f := vm.functions()
			if f.inst[fn.lib] == nil {
				if msg := vm.instantiate(fn.lib, false); msg != "" {
					return nil, msg
				}
			}
			return f.inst[fn.lib][name], ""
		}}, keys, argv, ro || fn.noWrites)
		return nil // a failed function keeps what it wrote, as in Redis
	})
}
