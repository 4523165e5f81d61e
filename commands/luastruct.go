package commands

import (
	"bytes"
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The struct library of Redis' scripts (Roberto Ierusalimschy's lua_struct,
// as Redis builds it on x86-64: little-endian native order, long and size_t
// of 8 bytes, int of 4, maximum alignment 8): struct.pack, struct.unpack and
// struct.size convert between Lua values and C structs in strings.

const (
	structMaxIntSize = 32
	structMaxAlign   = 8
)

// structHeader is the format's running options: byte order and alignment.
type structHeader struct {
	little bool
	align  int
}

func newStructHeader() structHeader { return structHeader{little: true, align: 1} }

// structFormat walks a format string.
type structFormat struct {
	L    *lua.LState
	name string // the library function, for its argument errors
	fmt  string
	i    int
}

// argError raises Lua 5.1's luaL_argerror: "bad argument #n to 'fn' (msg)".
func (f *structFormat) argError(n int, msg string) {
	f.L.RaiseError("bad argument #%d to '%s' (%s)", n, f.name, msg)
}

func (f *structFormat) more() bool { return f.i < len(f.fmt) }

func (f *structFormat) next() byte {
	c := f.fmt[f.i]
	f.i++
	return c
}

// num reads an optional decimal count after an option, or df.
func (f *structFormat) num(df int) int {
	if !f.more() || f.fmt[f.i] < '0' || f.fmt[f.i] > '9' {
		return df
	}
	a := 0
	for f.more() && f.fmt[f.i] >= '0' && f.fmt[f.i] <= '9' {
		d := int(f.fmt[f.i] - '0')
		if a > (math.MaxInt32-d)/10 {
			f.L.RaiseError("integral size overflow")
		}
		a = a*10 + d
		f.i++
	}
	return a
}

// size is optsize: the size of option opt (0 for the options that take no
// room of their own).
func (f *structFormat) size(opt byte) int {
	switch opt {
	case 'B', 'b':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T', 'd':
		return 8
	case 'f':
		return 4
	case 'x':
		return 1
	case 'c':
		return f.num(1)
	case 'i', 'I':
		sz := f.num(4)
		if sz > structMaxIntSize {
			f.L.RaiseError("integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return sz
	}
	return 0
}

// toAlign is how many padding bytes put an element of size at pos aligned.
func (h *structHeader) toAlign(pos int, opt byte, size int) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > h.align {
		size = h.align
	}
	return (size - (pos & (size - 1))) & (size - 1)
}

// control applies an option that sets byte order or alignment, or raises
// the error of an unknown option.
func (f *structFormat) control(opt byte, h *structHeader) {
	switch opt {
	case ' ':
	case '>':
		h.little = false
	case '<':
		h.little = true
	case '!':
		a := f.num(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			f.L.RaiseError("alignment %d is not a power of 2", a)
		}
		h.align = a
	default:
		f.argError(1, "invalid format option '"+string(opt)+"'")
	}
}

func (vm *luaVM) structLib() *lua.LTable {
	L := vm.L
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(structPack))
	t.RawSetString("unpack", L.NewFunction(structUnpack))
	t.RawSetString("size", L.NewFunction(structSize))
	return t
}

func structPack(L *lua.LState) int {
	f := &structFormat{L: L, name: "pack", fmt: L.CheckString(1)}
	h := newStructHeader()
	arg := 2
	var b bytes.Buffer
	for f.more() {
		opt := f.next()
		size := f.size(opt)
		pad := h.toAlign(b.Len(), opt, size)
		b.Write(make([]byte, pad))
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			n := float64(L.CheckNumber(arg))
			arg++
			var v uint64
			if n < 0 {
				v = uint64(int64(n))
			} else {
				v = uint64(n)
			}
			buf := make([]byte, size)
			for i := 0; i < size; i++ {
				at := i
				if !h.little {
					at = size - 1 - i
				}
				if i < 8 {
					buf[at] = byte(v)
					v >>= 8
				} else if n < 0 {
					buf[at] = 0xff // sign extension past 64 bits
				}
			}
			b.Write(buf)
		case 'x':
			b.WriteByte(0)
		case 'f':
			var buf [4]byte
			bits := math.Float32bits(float32(L.CheckNumber(arg)))
			arg++
			if h.little {
				binary.LittleEndian.PutUint32(buf[:], bits)
			} else {
				binary.BigEndian.PutUint32(buf[:], bits)
			}
			b.Write(buf[:])
		case 'd':
			var buf [8]byte
			bits := math.Float64bits(float64(L.CheckNumber(arg)))
			arg++
			if h.little {
				binary.LittleEndian.PutUint64(buf[:], bits)
			} else {
				binary.BigEndian.PutUint64(buf[:], bits)
			}
			b.Write(buf[:])
		case 'c', 's':
			s := L.CheckString(arg)
			arg++
			if size == 0 {
				size = len(s)
			}
			if len(s) < size {
				f.argError(arg, "string too short")
			}
			b.WriteString(s[:size])
			if opt == 's' {
				b.WriteByte(0)
			}
		default:
			f.control(opt, &h)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

func structUnpack(L *lua.LState) int {
	f := &structFormat{L: L, name: "unpack", fmt: L.CheckString(1)}
	data := L.CheckString(2)
	pos := L.OptInt(3, 1)
	if pos <= 0 {
		f.argError(3, "offset must be 1 or greater")
	}
	pos--
	h := newStructHeader()
	n := 0
	for f.more() {
		opt := f.next()
		size := f.size(opt)
		pos += h.toAlign(pos, opt, size)
		if size > len(data) || pos > len(data)-size {
			f.argError(2, "data string too short")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			var v uint64
			for i := 0; i < size; i++ {
				at := pos + i
				if h.little {
					at = pos + size - 1 - i
				}
				v = v<<8 | uint64(data[at])
			}
			signed := opt >= 'a'
			var res float64
			if signed && size < 8 && v&(1<<(size*8-1)) != 0 {
				res = float64(int64(v | ^uint64(0)<<(size*8)))
			} else if signed {
				res = float64(int64(v))
			} else {
				res = float64(v)
			}
			L.Push(lua.LNumber(res))
			n++
		case 'x':
		case 'f':
			var bits uint32
			if h.little {
				bits = binary.LittleEndian.Uint32([]byte(data[pos : pos+4]))
			} else {
				bits = binary.BigEndian.Uint32([]byte(data[pos : pos+4]))
			}
			L.Push(lua.LNumber(math.Float32frombits(bits)))
			n++
		case 'd':
			var bits uint64
			if h.little {
				bits = binary.LittleEndian.Uint64([]byte(data[pos : pos+8]))
			} else {
				bits = binary.BigEndian.Uint64([]byte(data[pos : pos+8]))
			}
			L.Push(lua.LNumber(math.Float64frombits(bits)))
			n++
		case 'c':
			if size == 0 {
				prev, ok := L.Get(-1).(lua.LNumber)
				if n == 0 || !ok {
					L.RaiseError("format 'c0' needs a previous size")
				}
				size = int(prev)
				L.Pop(1)
				n--
				if size < 0 || size > len(data) || pos > len(data)-size {
					f.argError(2, "data string too short")
				}
			}
			L.Push(lua.LString(data[pos : pos+size]))
			n++
		case 's':
			e := bytes.IndexByte([]byte(data[pos:]), 0)
			if e < 0 {
				L.RaiseError("unfinished string in data")
			}
			size = e + 1
			L.Push(lua.LString(data[pos : pos+e]))
			n++
		default:
			f.control(opt, &h)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos + 1))
	return n + 1
}

func structSize(L *lua.LState) int {
	f := &structFormat{L: L, name: "size", fmt: L.CheckString(1)}
	h := newStructHeader()
	pos := 0
	for f.more() {
		opt := f.next()
		size := f.size(opt)
		pos += h.toAlign(pos, opt, size)
		switch {
		case opt == 's':
			f.argError(1, "option 's' has no fixed size")
		case opt == 'c' && size == 0:
			f.argError(1, "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			f.control(opt, &h)
		}
		pos += size
	}
	L.Push(lua.LNumber(pos))
	return 1
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
