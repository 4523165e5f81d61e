package commands

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// cmsgpack for scripts: the MessagePack library Redis bundles
// (lua_cmsgpack.c), with its encoding choices byte for byte: strings as raw
// (fixraw, 0xd9, 0xda, 0xdb), integral numbers as the smallest integer
// format, other numbers as float when exact else double, tables as arrays
// when their keys are exactly 1..n else maps, and nesting cut at 16 levels
// (deeper tables encode as nil) so circular references terminate.

const msgpackMaxNesting = 16

func (vm *luaVM) cmsgpackLib() *lua.LTable {
	L := vm.L
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		if n == 0 {
			L.ArgError(0, "MessagePack pack needs input.")
		}
		var b []byte
		for i := 1; i <= n; i++ {
			b = msgpackEncode(b, L.Get(i), 0)
		}
		L.Push(lua.LString(b))
		return 1
	}))
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int { return msgpackUnpack(L, 0, 0) }))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		return msgpackUnpack(L, 1, L.OptInt64(2, 0))
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		return msgpackUnpack(L, L.CheckInt64(2), L.OptInt64(3, 0))
	}))
	return t
}

func msgpackEncode(b []byte, v lua.LValue, level int) []byte {
	if _, ok := v.(*lua.LTable); ok && level == msgpackMaxNesting {
		v = lua.LNil
	}
	switch x := v.(type) {
	case lua.LString:
		n := len(x)
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n <= 0xff:
			b = append(b, 0xd9, byte(n))
		case n <= 0xffff:
			b = append(b, 0xda)
			b = binary.BigEndian.AppendUint16(b, uint16(n))
		default:
			b = append(b, 0xdb)
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		return append(b, x...)
	case lua.LBool:
		if x {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && f >= -9.223372036854775808e18 && f < 9.223372036854775808e18 {
			return msgpackInt(b, int64(f))
		}
		if f32 := float32(f); float64(f32) == f {
			b = append(b, 0xca)
			return binary.BigEndian.AppendUint32(b, math.Float32bits(f32))
		}
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case *lua.LTable:
		count, maxKey, array := 0, 0, true
		luaPairs(x, func(k, _ lua.LValue) {
			count++
			n, ok := k.(lua.LNumber)
			if !ok || n <= 0 || float64(n) != math.Trunc(float64(n)) {
				array = false
				return
			}
			maxKey = max(maxKey, int(n))
		})
		if array && maxKey == count {
			b = msgpackHeader(b, count, 0x90, 0xdc, 0xdd)
			for i := 1; i <= count; i++ {
				b = msgpackEncode(b, x.RawGetInt(i), level+1)
			}
			return b
		}
		b = msgpackHeader(b, count, 0x80, 0xde, 0xdf)
		luaPairs(x, func(k, v lua.LValue) {
			b = msgpackEncode(b, k, level+1)
			b = msgpackEncode(b, v, level+1)
		})
		return b
	}
	return append(b, 0xc0)
}

func msgpackHeader(b []byte, n int, fix, b16, b32 byte) []byte {
	switch {
	case n <= 15:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
}

func msgpackInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= 127:
		return append(b, byte(n))
	case n >= 0 && n <= 0xff:
		return append(b, 0xcc, byte(n))
	case n >= 0 && n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n >= 0 && n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	case n >= 0:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= -128:
		return append(b, 0xd0, byte(int8(n)))
	case n >= -32768:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(int16(n)))
	case n >= -2147483648:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(int32(n)))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

// msgpackCursor decodes; err is "" or Missing bytes / Bad data format.
type msgpackCursor struct {
	s   string
	err string
}

func (c *msgpackCursor) need(n int) bool {
	if len(c.s) < n {
		c.err = "Missing bytes in input."
		return false
	}
	return true
}

func (c *msgpackCursor) be(off, n int) uint64 {
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(c.s[off+i])
	}
	return v
}

func (c *msgpackCursor) str(hdr, n int) lua.LValue {
	if !c.need(hdr + n) {
		return lua.LNil
	}
	v := lua.LString(c.s[hdr : hdr+n])
	c.s = c.s[hdr+n:]
	return v
}

func (c *msgpackCursor) decode(L *lua.LState) lua.LValue {
	if !c.need(1) {
		return lua.LNil
	}
	t := c.s[0]
	fixed := func(n int, v func() lua.LValue) lua.LValue {
		if !c.need(n) {
			return lua.LNil
		}
		r := v()
		c.s = c.s[n:]
		return r
	}
	coll := func(hdr, n int, isMap bool) lua.LValue {
		if !c.need(hdr) {
			return lua.LNil
		}
		c.s = c.s[hdr:]
		tb := L.NewTable()
		for i := 1; i <= n; i++ {
			if isMap {
				k := c.decode(L)
				if c.err != "" {
					return lua.LNil
				}
				v := c.decode(L)
				if c.err != "" {
					return lua.LNil
				}
				if k != lua.LNil {
					tb.RawSet(k, v)
				}
				continue
			}
			v := c.decode(L)
			if c.err != "" {
				return lua.LNil
			}
			tb.RawSetInt(i, v)
		}
		return tb
	}
	switch t {
	case 0xcc:
		return fixed(2, func() lua.LValue { return lua.LNumber(c.s[1]) })
	case 0xd0:
		return fixed(2, func() lua.LValue { return lua.LNumber(int8(c.s[1])) })
	case 0xcd:
		return fixed(3, func() lua.LValue { return lua.LNumber(c.be(1, 2)) })
	case 0xd1:
		return fixed(3, func() lua.LValue { return lua.LNumber(int16(c.be(1, 2))) })
	case 0xce:
		return fixed(5, func() lua.LValue { return lua.LNumber(c.be(1, 4)) })
	case 0xd2:
		return fixed(5, func() lua.LValue { return lua.LNumber(int32(c.be(1, 4))) })
	case 0xcf:
		return fixed(9, func() lua.LValue { return lua.LNumber(c.be(1, 8)) })
	case 0xd3:
		return fixed(9, func() lua.LValue { return lua.LNumber(int64(c.be(1, 8))) })
	case 0xc0:
		c.s = c.s[1:]
		return lua.LNil
	case 0xc3, 0xc2:
		c.s = c.s[1:]
		return lua.LBool(t == 0xc3)
	case 0xca:
		return fixed(5, func() lua.LValue { return lua.LNumber(math.Float32frombits(uint32(c.be(1, 4)))) })
	case 0xcb:
		return fixed(9, func() lua.LValue { return lua.LNumber(math.Float64frombits(c.be(1, 8))) })
	case 0xd9:
		if !c.need(2) {
			return lua.LNil
		}
		return c.str(2, int(c.s[1]))
	case 0xda:
		if !c.need(3) {
			return lua.LNil
		}
		return c.str(3, int(c.be(1, 2)))
	case 0xdb:
		if !c.need(5) {
			return lua.LNil
		}
		return c.str(5, int(c.be(1, 4)))
	case 0xdc, 0xde:
		if !c.need(3) {
			return lua.LNil
		}
		return coll(3, int(c.be(1, 2)), t == 0xde)
	case 0xdd, 0xdf:
		if !c.need(5) {
			return lua.LNil
		}
		return coll(5, int(c.be(1, 4)), t == 0xdf)
	}
	switch {
	case t&0x80 == 0:
		c.s = c.s[1:]
		return lua.LNumber(t)
	case t&0xe0 == 0xe0:
		c.s = c.s[1:]
		return lua.LNumber(int8(t))
	case t&0xe0 == 0xa0:
		return c.str(1, int(t&0x1f))
	case t&0xf0 == 0x90:
		return coll(1, int(t&0xf), false)
	case t&0xf0 == 0x80:
		return coll(1, int(t&0xf), true)
	}
	c.err = "Bad data format in input."
	return lua.LNil
}

// msgpackUnpack is mp_unpack_full: every value (limit and offset 0), or up
// to limit values from offset preceded by the next offset (-1 at the end).
func msgpackUnpack(L *lua.LState, limit, offset int64) int {
	s := L.CheckString(1)
	if offset < 0 || limit < 0 {
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, len(s))
	} else if offset > int64(len(s)) {
		L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
	}
	all := limit == 0 && offset == 0
	if all {
		limit = math.MaxInt32
	}
	c := msgpackCursor{s: s[offset:]}
	var out []lua.LValue
	for cnt := int64(0); len(c.s) > 0 && cnt < limit; cnt++ {
		v := c.decode(L)
		if c.err != "" {
			// luaL_error in a C function: no "chunk:line:" prefix.
			L.Error(lua.LString(c.err), 0)
		}
		out = append(out, v)
		if len(out) > 8000 {
			L.RaiseError("too many return values at once; use unpack_one or unpack_limit instead.")
		}
	}
	if !all {
		next := int64(len(s) - len(c.s))
		if len(c.s) == 0 {
			next = -1
		}
		L.Push(lua.LNumber(next))
	}
	for _, v := range out {
		L.Push(v)
	}
	if all {
		return len(out)
	}
	return len(out) + 1
}
