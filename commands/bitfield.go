package commands

import (
	"strconv"

	"github.com/sessiond/sessiond/engine"
)

// BITFIELD and BITFIELD_RO: integer fields of 1 to 64 bits at any bit offset
// of a string (engine/bitfield.go does the arithmetic).

func init() {
	register(
		&Spec{Name: "bitfield", KeyRefs: bitfieldKeys, Arity: -2, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "bitmap", Since: "3.2.0",
			Syntax:  "key [GET encoding offset | [OVERFLOW WRAP|SAT|FAIL] SET encoding offset value | INCRBY encoding offset increment ...]",
			Summary: "Performs arbitrary bitfield integer operations on strings.",
			Example: "> BITFIELD counters INCRBY u8 #0 1 GET u8 #0\n1) (integer) 1\n2) (integer) 1", Run: func(c *Call) { cmdBitfield(c, false) }},
		&Spec{Name: "bitfield_ro", Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "bitmap", Since: "6.0.0",
			Syntax: "key [GET encoding offset [GET encoding offset ...]]", Summary: "Performs arbitrary read-only bitfield integer operations on strings.",
			Example: "> BITFIELD_RO counters GET u8 #0\n1) (integer) 1", Run: func(c *Call) { cmdBitfield(c, true) }},
	)
}

type bitfieldOp struct {
	op       byte // 'g' get, 's' set, 'i' incrby
	off      uint64
	bits     uint
	signed   bool
	value    int64
	overflow int
}

func cmdBitfield(c *Call, readOnly bool) {
	var ops []bitfieldOp
	overflow := engine.OverflowWrap
	writes := false
	var highest uint64
	for i := 2; i < len(c.Args); i++ {
		rest := len(c.Args) - i - 1
		a := c.Args[i]
		var op byte
		switch {
		case keyword(a, "GET") && rest >= 2:
			op = 'g'
		case keyword(a, "SET") && rest >= 3:
			op = 's'
		case keyword(a, "INCRBY") && rest >= 3:
			op = 'i'
		case keyword(a, "OVERFLOW") && rest >= 1:
			switch {
			case keyword(c.Args[i+1], "WRAP"):
				overflow = engine.OverflowWrap
			case keyword(c.Args[i+1], "SAT"):
				overflow = engine.OverflowSat
			case keyword(c.Args[i+1], "FAIL"):
				overflow = engine.OverflowFail
			default:
				c.W.Error("ERR Invalid OVERFLOW type specified")
				return
			}
			i++
			continue
		default:
			c.W.Error(msgSyntax)
			return
		}
		bits, signed, ok := bitfieldType(c.Args[i+1])
		if !ok {
			c.W.Error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
			return
		}
		off, ok := bitfieldOffset(c.Args[i+2], bits)
		if !ok {
			c.W.Error("ERR bit offset is not an integer or out of range")
			return
		}
		f := bitfieldOp{op: op, off: off, bits: bits, signed: signed, overflow: overflow}
		if op != 'g' {
			v, ok := parseInt(c.Args[i+3])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			f.value = v
			writes = true
			highest = max(highest, off+uint64(bits)-1)
			i++
		}
		ops = append(ops, f)
		i += 2
	}
	if readOnly && writes {
		c.W.Error("ERR BITFIELD_RO only supports the GET subcommand")
		return
	}
	type result struct {
		v  int64
		ok bool
	}
	results := make([]result, len(ops))
	run := func(tx *engine.Tx) error {
		cur, exists, err := tx.GetString(c.DB(), c.Arg(1))
		if err != nil {
			return err
		}
		if !writes {
			for i, f := range ops {
				results[i] = result{engine.BitfieldGet([]byte(cur), f.off, f.bits, f.signed), true}
			}
			return nil
		}
		need := int(highest>>3) + 1
		if need > engine.MaxStringLen {
			return engine.ErrTooLarge
		}
		b := make([]byte, max(len(cur), need))
		copy(b, cur)
		changed := !exists || len(b) > len(cur)
		for i, f := range ops {
			old := engine.BitfieldGet(b, f.off, f.bits, f.signed)
			switch f.op {
			case 'g':
				results[i] = result{old, true}
			case 's', 'i':
				base, incr := f.value, int64(0)
				if f.op == 'i' {
					base, incr = old, f.value
				}
				v, ok := engine.BitfieldAdd(base, incr, f.bits, f.signed, f.overflow)
				if !ok {
					results[i] = result{}
					continue
				}
				if v != old { // only a real change is a write (Redis' dirty count)
					engine.BitfieldSet(b, f.off, f.bits, uint64(v))
					changed = true
				}
				if f.op == 's' {
					results[i] = result{old, true}
				} else {
					results[i] = result{v, true}
				}
			}
		}
		if changed {
			tx.PutString(c.DB(), c.Arg(1), string(b), engine.KeepTTL)
			tx.Notify('$', "setbit", c.DB(), c.Arg(1))
		}
		return nil
	}
	var err error
	if writes {
		err = c.Write(run)
	} else {
		err = c.Read(run)
	}
	if err != nil {
		if err == engine.ErrTooLarge {
			c.W.Error("ERR bit offset is not an integer or out of range")
			return
		}
		writeErr(c, err)
		return
	}
	c.W.Array(len(results))
	for _, r := range results {
		if r.ok {
			c.W.Int(r.v)
		} else {
			c.W.Null()
		}
	}
}

// bitfieldType parses i1..i64 and u1..u63.
func bitfieldType(b []byte) (uint, bool, bool) {
	if len(b) < 2 || (b[0] != 'i' && b[0] != 'I' && b[0] != 'u' && b[0] != 'U') {
		return 0, false, false
	}
	n, err := strconv.Atoi(string(b[1:]))
	signed := b[0] == 'i' || b[0] == 'I'
	if err != nil || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return 0, false, false
	}
	return uint(n), signed, true
}

// bitfieldOffset parses an offset, "#n" meaning n fields of bits bits.
func bitfieldOffset(b []byte, bits uint) (uint64, bool) {
	hash := len(b) > 0 && b[0] == '#'
	if hash {
		b = b[1:]
	}
	n, ok := parseInt(b)
	if !ok || n < 0 {
		return 0, false
	}
	if hash {
		if n > (1<<62)/int64(bits) {
			return 0, false
		}
		n *= int64(bits)
	}
	if n>>3 >= engine.MaxStringLen {
		return 0, false
	}
	return uint64(n), true
}
