package commands

import (
	"math/bits"

	"github.com/sessiond/sessiond/engine"
)

func init() {
	register(
		&Spec{Name: "setbit", Arity: 4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "bitmap", Since: "2.2.0",
			Syntax: "key offset value", Summary: "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", Example: "> SETBIT flags 7 1\n(integer) 0", Run: cmdSetbit},
		&Spec{Name: "getbit", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "bitmap", Since: "2.2.0",
			Syntax: "key offset", Summary: "Returns a bit value by offset.", Example: "> GETBIT flags 7\n(integer) 1", Run: cmdGetbit},
		&Spec{Name: "bitcount", Arity: -2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: "bitmap", Since: "2.6.0",
			Syntax: "key [start end [BYTE|BIT]]", Summary: "Counts the number of set bits (population counting) in a string.", Example: "> BITCOUNT flags\n(integer) 1", Run: cmdBitcount},
		&Spec{Name: "bitpos", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: "bitmap", Since: "2.8.7",
			Syntax: "key bit [start [end [BYTE|BIT]]]", Summary: "Finds the first set (1) or clear (0) bit in a string.", Example: "> BITPOS flags 1\n(integer) 7", Run: cmdBitpos},
		&Spec{Name: "bitop", KeyRefs: storeKeys(false, 3), Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 2, LastKey: -1, Step: 1, Group: "bitmap", Since: "2.6.0",
			Syntax: "AND|OR|XOR|NOT destkey key [key ...]", Summary: "Performs bitwise operations on multiple strings, and stores the result.", Example: "> BITOP OR dest a b\n(integer) 4", Run: cmdBitop},
	)
}

const msgBitOffset = "ERR bit offset is not an integer or out of range"

// bitOffset parses a bit offset as Redis does: 0 <= offset < proto-max-bulk-len*8.
func bitOffset(c *Call, arg []byte) (uint64, bool) {
	n, ok := parseInt(arg)
	if !ok || n < 0 || n>>3 >= c.d.Config.Int("proto-max-bulk-len") {
		c.W.Error(msgBitOffset)
		return 0, false
	}
	return uint64(n), true
}

func cmdSetbit(c *Call) {
	off, ok := bitOffset(c, c.Args[2])
	if !ok {
		return
	}
	v, ok := parseInt(c.Args[3])
	if !ok || v&^1 != 0 {
		c.W.Error("ERR bit is not an integer or out of range")
		return
	}
	var old int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		old, err = tx.SetBit(c.DB(), c.Arg(1), off, v == 1)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(old))
}

func cmdGetbit(c *Call) {
	off, ok := bitOffset(c, c.Args[2])
	if !ok {
		return
	}
	var v string
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		v, _, err = tx.GetString(c.DB(), c.Arg(1))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	bit := 0
	if i := off >> 3; i < uint64(len(v)) && v[i]&(1<<(7-off&7)) != 0 {
		bit = 1
	}
	c.W.Int(int64(bit))
}

// bitRange resolves BITCOUNT/BITPOS start/end arguments over a string of
// n bytes. It returns byte bounds plus the masks of bits outside the range
// in the first and last byte (BIT mode), and empty when the range is empty.
type bitRange struct {
	start, end          int64
	firstMask, lastMask byte
	empty               bool
}

func resolveBitRange(n, start, end int64, isBit bool) bitRange {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	var r bitRange
	if isBit && start <= end {
		r.firstMask = ^byte((1 << (8 - start&7)) - 1)
		r.lastMask = byte((1 << (7 - end&7)) - 1)
		start >>= 3
		end >>= 3
	}
	r.start, r.end = start, end
	r.empty = start > end
	return r
}

// bitUnit parses the optional BYTE|BIT argument.
func bitUnit(c *Call, i int) (isBit, ok bool) {
	if i >= len(c.Args) {
		return false, true
	}
	switch {
	case keyword(c.Args[i], "BIT"):
		return true, true
	case keyword(c.Args[i], "BYTE"):
		return false, true
	}
	c.W.Error(msgSyntax)
	return false, false
}

func readString(c *Call, key string) (string, bool, bool) {
	var v string
	var exists bool
	err := c.Read(func(tx *engine.Tx) error {
		var err error
		v, exists, err = tx.GetString(c.DB(), key)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return "", false, false
	}
	return v, exists, true
}

func popcount(s string) int64 {
	var n int
	for i := 0; i < len(s); i++ {
		n += bits.OnesCount8(s[i])
	}
	return int64(n)
}

func cmdBitcount(c *Call) {
	v, exists, ok := readString(c, c.Arg(1))
	if !ok {
		return
	}
	if !exists {
		c.W.Int(0)
		return
	}
	switch len(c.Args) {
	case 2:
		c.W.Int(popcount(v))
		return
	case 4, 5:
	default:
		c.W.Error(msgSyntax)
		return
	}
	start, ok1 := parseInt(c.Args[2])
	end, ok2 := parseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.W.Error(msgNotInt)
		return
	}
	if start < 0 && end < 0 && start > end {
		c.W.Int(0)
		return
	}
	isBit, ok := bitUnit(c, 4)
	if !ok {
		return
	}
	r := resolveBitRange(int64(len(v)), start, end, isBit)
	if r.empty {
		c.W.Int(0)
		return
	}
	n := popcount(v[r.start : r.end+1])
	n -= int64(bits.OnesCount8(v[r.start]&r.firstMask) + bits.OnesCount8(v[r.end]&r.lastMask))
	c.W.Int(n)
}

// firstBit returns the position of the first bit equal to bit in s: -1 when
// looking for 1 and there is none, len(s)*8 when looking for 0 and there is
// none (the string is taken as padded with zeros on the right).
func firstBit(s []byte, bit int) int64 {
	for i, b := range s {
		if bit == 1 && b != 0 {
			return int64(i)*8 + int64(bits.LeadingZeros8(b))
		}
		if bit == 0 && b != 0xff {
			return int64(i)*8 + int64(bits.LeadingZeros8(^b))
		}
	}
	if bit == 1 {
		return -1
	}
	return int64(len(s)) * 8
}

func cmdBitpos(c *Call) {
	bit64, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	if bit64 != 0 && bit64 != 1 {
		c.W.Error("ERR The bit argument must be 1 or 0.")
		return
	}
	bit := int(bit64)
	v, exists, ok := readString(c, c.Arg(1))
	if !ok {
		return
	}
	if !exists {
		c.W.Int(int64(-bit))
		return
	}
	n := int64(len(v))
	var r bitRange
	endGiven := false
	switch len(c.Args) {
	case 3:
		r = bitRange{start: 0, end: n - 1, empty: n == 0}
	case 4, 5, 6:
		start, ok := parseInt(c.Args[3])
		if !ok {
			c.W.Error(msgNotInt)
			return
		}
		isBit, ok := bitUnit(c, 5)
		if !ok {
			return
		}
		var end int64
		if len(c.Args) >= 5 {
			if end, ok = parseInt(c.Args[4]); !ok {
				c.W.Error(msgNotInt)
				return
			}
			endGiven = true
		} else if isBit {
			end = n<<3 + 7
		} else {
			end = n - 1
		}
		r = resolveBitRange(n, start, end, isBit)
	default:
		c.W.Error(msgSyntax)
		return
	}
	if r.empty {
		c.W.Int(-1)
		return
	}
	// Copy the range, forcing the bits outside it to the value not searched for.
	b := []byte(v[r.start : r.end+1])
	if bit == 1 {
		b[0] &^= r.firstMask
		b[len(b)-1] &^= r.lastMask
	} else {
		b[0] |= r.firstMask
		b[len(b)-1] |= r.lastMask
	}
	pos := firstBit(b, bit)
	if endGiven && bit == 0 && pos == int64(len(b))*8 {
		c.W.Int(-1)
		return
	}
	if pos != -1 {
		pos += r.start << 3
	}
	c.W.Int(pos)
}

func cmdBitop(c *Call) {
	var op engine.BitOp
	switch upper(c.Args[1]) {
	case "AND":
		op = engine.BitAnd
	case "OR":
		op = engine.BitOr
	case "XOR":
		op = engine.BitXor
	case "NOT":
		op = engine.BitNot
	default:
		c.W.Error(msgSyntax)
		return
	}
	if op == engine.BitNot && len(c.Args) != 4 {
		c.W.Error("ERR BITOP NOT must be called with a single source key.")
		return
	}
	var n int
	err := c.Write(func(tx *engine.Tx) error {
		var err error
		n, err = tx.BitOpStore(c.DB(), op, c.Arg(2), keyArgs(c, 3))
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	c.W.Int(int64(n))
}
