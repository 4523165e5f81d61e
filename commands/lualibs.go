package commands

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sessiond/sessiond/resp"
	lua "github.com/yuin/gopher-lua"
)

// The optional libraries Redis ships that scripts commonly use: bit
// (LuaBitOp) and cjson. struct and cmsgpack are not provided.

func luaBit(L *lua.LState, i int) uint32 {
	f := float64(L.CheckNumber(i))
	return uint32(int64(math.RoundToEven(math.Mod(f, 4294967296))))
}

func (vm *luaVM) bitLib() *lua.LTable {
	L := vm.L
	t := L.NewTable()
	push := func(L *lua.LState, v uint32) int { L.Push(lua.LNumber(int32(v))); return 1 }
	fold := func(op func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			v := luaBit(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				v = op(v, luaBit(L, i))
			}
			return push(L, v)
		}
	}
	set := func(name string, f lua.LGFunction) { t.RawSetString(name, L.NewFunction(f)) }
	set("tobit", func(L *lua.LState) int { return push(L, luaBit(L, 1)) })
	set("bnot", func(L *lua.LState) int { return push(L, ^luaBit(L, 1)) })
	set("band", fold(func(a, b uint32) uint32 { return a & b }))
	set("bor", fold(func(a, b uint32) uint32 { return a | b }))
	set("bxor", fold(func(a, b uint32) uint32 { return a ^ b }))
	set("lshift", func(L *lua.LState) int { return push(L, luaBit(L, 1)<<(luaBit(L, 2)&31)) })
	set("rshift", func(L *lua.LState) int { return push(L, luaBit(L, 1)>>(luaBit(L, 2)&31)) })
	set("arshift", func(L *lua.LState) int { return push(L, uint32(int32(luaBit(L, 1))>>(luaBit(L, 2)&31))) })
	set("rol", func(L *lua.LState) int {
		v, n := luaBit(L, 1), luaBit(L, 2)&31
		return push(L, v<<n|v>>((32-n)&31))
	})
	set("ror", func(L *lua.LState) int {
		v, n := luaBit(L, 1), luaBit(L, 2)&31
		return push(L, v>>n|v<<((32-n)&31))
	})
	set("bswap", func(L *lua.LState) int {
		v := luaBit(L, 1)
		return push(L, v>>24|(v>>8)&0xff00|(v&0xff00)<<8|v<<24)
	})
	set("tohex", func(L *lua.LState) int {
		v := luaBit(L, 1)
		n := int32(8)
		if L.GetTop() >= 2 {
			n = int32(luaBit(L, 2))
		}
		digits := "0123456789abcdef"
		if n < 0 {
			n = -n
			digits = "0123456789ABCDEF"
		}
		if n > 8 || n < 0 {
			n = 8
		}
		buf := make([]byte, n)
		for i := int(n) - 1; i >= 0; i-- {
			buf[i] = digits[v&15]
			v >>= 4
		}
		L.Push(lua.LString(buf))
		return 1
	})
	return t
}

// mathRandom installs Redis' math.random and math.randomseed: a 48-bit
// linear congruential generator (rand.c's redisLrand48), so that a script
// seeding it gets the same sequence Redis would give.
func (vm *luaVM) mathRandom(lib lua.LValue) {
	m, ok := lib.(*lua.LTable)
	if !ok {
		return
	}
	const mask48 = 1<<48 - 1
	vm.rand48 = 0x1234ABCD330E
	next := func() int64 {
		vm.rand48 = (0x5DEECE66D*vm.rand48 + 0xB) & mask48
		return int64(vm.rand48 >> 17)
	}
	m.RawSetString("random", vm.L.NewFunction(func(L *lua.LState) int {
		const max = math.MaxInt32
		r := float64(next()%max) / max
		switch L.GetTop() {
		case 0:
			L.Push(lua.LNumber(r))
		case 1:
			u := luaCheckInt(L, 1)
			if u < 1 {
				L.ArgError(1, "interval is empty")
			}
			L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
		case 2:
			l, u := luaCheckInt(L, 1), luaCheckInt(L, 2)
			if l > u {
				L.ArgError(2, "interval is empty")
			}
			L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
		default:
			L.RaiseError("wrong number of arguments")
		}
		return 1
	}))
	m.RawSetString("randomseed", vm.L.NewFunction(func(L *lua.LState) int {
		seed := uint64(uint32(int32(luaCheckInt(L, 1))))
		vm.rand48 = seed<<16 | 0x330E
		return 0
	}))
}

// luaNumberString formats a number as C Lua 5.1's tostring: "%.14g".
func luaNumberString(f float64) string { return resp.FormatG(f, 14) }

// luaCheckInt is Lua 5.1's luaL_checkint: a number, or a string that
// converts to one, truncated.
func luaCheckInt(L *lua.LState, n int) int64 {
	v := L.Get(n)
	if num, ok := v.(lua.LNumber); ok {
		return int64(num)
	}
	if s, ok := v.(lua.LString); ok {
		if num, err := strconv.ParseFloat(strings.TrimSpace(string(s)), 64); err == nil {
			return int64(num)
		}
	}
	L.TypeError(n, lua.LTNumber)
	return 0
}

func (vm *luaVM) cjsonLib() *lua.LTable {
	L := vm.L
	t := L.NewTable()
	null := L.NewUserData()
	t.RawSetString("null", null)
	cfg := &jsonConfig{null: null, encodeMaxDepth: 1000, decodeMaxDepth: 1000}
	// setting returns a cjson.encode_max_depth-like setter of *field: no
	// argument reads it, a number in [1, 2^31) sets it.
	setting := func(name string, field *int) {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			if L.GetTop() > 0 {
				n := L.CheckInt64(1)
				if n < 1 || n > math.MaxInt32 {
					L.ArgError(1, "expected integer between 1 and 2147483647")
				}
				*field = int(n)
			}
			L.Push(lua.LNumber(*field))
			return 1
		}))
	}
	setting("encode_max_depth", &cfg.encodeMaxDepth)
	setting("decode_max_depth", &cfg.decodeMaxDepth)
	t.RawSetString("encode_invalid_numbers", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() > 0 {
			switch v := L.Get(1).(type) {
			case lua.LBool:
				cfg.invalidNumbers = bool(v)
			case lua.LString:
				cfg.invalidNumbers = v == "on" || v == "null"
			}
		}
		L.Push(lua.LBool(cfg.invalidNumbers))
		return 1
	}))
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		var b strings.Builder
		if err := cfg.encode(&b, L.CheckAny(1), 1); err != "" {
			L.RaiseError("%s", err)
		}
		L.Push(lua.LString(b.String()))
		return 1
	}))
	// Buffer reuse is a C detail; scripts may still switch it.
	t.RawSetString("encode_keep_buffer", L.NewFunction(func(L *lua.LState) int { return 0 }))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			L.RaiseError("Expected value but found invalid token at character 1")
		}
		if d := jsonDepth(v); d > cfg.decodeMaxDepth {
			L.RaiseError("Found too many nested data structures (%d) at character 1", cfg.decodeMaxDepth+1)
		}
		L.Push(jsonToLua(L, v, null))
		return 1
	}))
	return t
}

// jsonConfig is one cjson library's settings (cjson.encode_max_depth, ...).
type jsonConfig struct {
	null                           lua.LValue
	encodeMaxDepth, decodeMaxDepth int
	invalidNumbers                 bool // encode NaN and Inf instead of failing
}

// jsonDepth is the nesting depth of a decoded JSON value (a scalar is 0).
func jsonDepth(v any) int {
	d := 0
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			d = max(d, jsonDepth(e))
		}
		return d + 1
	case map[string]any:
		for _, e := range x {
			d = max(d, jsonDepth(e))
		}
		return d + 1
	}
	return 0
}

func (cfg *jsonConfig) encode(b *strings.Builder, v lua.LValue, depth int) string {
	null := cfg.null
	switch x := v.(type) {
	case lua.LBool:
		b.WriteString(strconv.FormatBool(bool(x)))
	case lua.LNumber:
		f := float64(x)
		if math.IsInf(f, 0) || f != f {
			if !cfg.invalidNumbers {
				return "Cannot serialise number: must not be NaN or Inf"
			}
			switch {
			case f != f:
				b.WriteString("nan")
			case f > 0:
				b.WriteString("inf")
			default:
				b.WriteString("-inf")
			}
			return ""
		}
		b.WriteString(strconv.FormatFloat(f, 'g', 14, 64))
	case lua.LString:
		q, _ := json.Marshal(string(x))
		b.Write(q)
	case *lua.LTable:
		if depth > cfg.encodeMaxDepth {
			return "Cannot serialise, excessive nesting (" + strconv.Itoa(depth) + ")"
		}
		n := x.MaxN()
		count := 0
		luaPairs(x, func(_, _ lua.LValue) { count++ })
		if n > 0 && n == count {
			b.WriteByte('[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b.WriteByte(',')
				}
				if e := cfg.encode(b, x.RawGetInt(i), depth+1); e != "" {
					return e
				}
			}
			b.WriteByte(']')
			return ""
		}
		type kv struct {
			k string
			v lua.LValue
		}
		var kvs []kv
		bad := ""
		luaPairs(x, func(k, v lua.LValue) {
			switch k.(type) {
			case lua.LString, lua.LNumber:
				kvs = append(kvs, kv{k.String(), v})
			default:
				bad = "Cannot serialise " + k.Type().String() + ": table key must be a number or string"
			}
		})
		if bad != "" {
			return bad
		}
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		b.WriteByte('{')
		for i, e := range kvs {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(e.k)
			b.Write(q)
			b.WriteByte(':')
			if err := cfg.encode(b, e.v, depth+1); err != "" {
				return err
			}
		}
		b.WriteByte('}')
	default:
		if v == lua.LNil || v == null {
			b.WriteString("null")
			return ""
		}
		return "Cannot serialise " + v.Type().String() + ": type not supported"
	}
	return ""
}

func jsonToLua(L *lua.LState, v any, null lua.LValue) lua.LValue {
	switch x := v.(type) {
	case nil:
		return null
	case bool:
		return lua.LBool(x)
	case json.Number:
		f, _ := x.Float64()
		return lua.LNumber(f)
	case string:
		return lua.LString(x)
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, jsonToLua(L, e, null))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, e := range x {
			t.RawSetString(k, jsonToLua(L, e, null))
		}
		return t
	}
	return lua.LNil
}
