package commands

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/sessiond/sessiond/engine"
)

// BITFIELD and BITFIELD_RO, as Redis: integers of 1 to 64 bits (u1..u63,
// i1..i64) at bit offsets of a string, with OVERFLOW WRAP|SAT|FAIL for SET
// and INCRBY. The arithmetic is done on big integers so that i64 and u63
// overflow is detected exactly.

func init() {
	register(
		&Spec{Name: "bitfield", KeyRefs: bitfieldKeys, Arity: -2, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: "bitmap", Since: "3.2.0",
			Syntax:  "key [GET encoding offset | [OVERFLOW WRAP|SAT|FAIL] SET encoding offset value | INCRBY encoding offset increment ...]",
			Summary: "Performs arbitrary bitfield integer operations on strings.", Example: "> BITFIELD counters INCRBY u8 #0 1 GET u8 #0\n1) (integer) 1\n2) (integer) 1", Run: cmdBitfield(false)},
		&Spec{Name: "bitfield_ro", Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "bitmap", Since: "6.0.0",
			Syntax: "key [GET encoding offset ...]", Summary: "Performs arbitrary read-only bitfield integer operations on strings.",
			Example: "> BITFIELD_RO counters GET u8 #0\n1) (integer) 1", Run: cmdBitfield(true)},
	)
}

type bitfieldOp struct {
	op       byte // 'g', 's', 'i'
	signed   bool
	bits     uint
	offset   uint64
	arg      int64
	overflow byte // 'w', 's', 'f'
}

const msgBitfieldType = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."

func parseBitfield(c *Call, readonly bool) ([]bitfieldOp, bool) {
	var ops []bitfieldOp
	overflow := byte('w')
	args := c.Args
	for i := 2; i < len(args); i++ {
		left := len(args) - i - 1
		word := upper(args[i])
		if word == "OVERFLOW" && left >= 1 {
			switch upper(args[i+1]) {
			case "WRAP":
				overflow = 'w'
			case "SAT":
				overflow = 's'
			case "FAIL":
				overflow = 'f'
			default:
				c.W.Error("ERR Invalid OVERFLOW type specified")
				return nil, false
			}
			i++
			continue
		}
		var o bitfieldOp
		switch {
		case word == "GET" && left >= 2:
			o.op = 'g'
		case word == "SET" && left >= 3:
			o.op = 's'
		case word == "INCRBY" && left >= 3:
			o.op = 'i'
		default:
			c.W.Error(msgSyntax)
			return nil, false
		}
		if readonly && o.op != 'g' {
			c.W.Error("ERR BITFIELD_RO only supports the GET subcommand")
			return nil, false
		}
		typ := strings.ToLower(string(args[i+1]))
		n, err := strconv.Atoi(strings.TrimLeft(typ, "iu"))
		if len(typ) < 2 || (typ[0] != 'i' && typ[0] != 'u') || err != nil || n < 1 || (typ[0] == 'i' && n > 64) || (typ[0] == 'u' && n > 63) {
			c.W.Error(msgBitfieldType)
			return nil, false
		}
		o.signed, o.bits = typ[0] == 'i', uint(n)
		off := string(args[i+2])
		mul := int64(1)
		if strings.HasPrefix(off, "#") {
			off, mul = off[1:], int64(n)
		}
		v, err := strconv.ParseInt(off, 10, 64)
		if err != nil || v < 0 || v > (c.d.Config.Int("proto-max-bulk-len")*8-int64(n))/mul {
			c.W.Error(msgBitOffset)
			return nil, false
		}
		o.offset = uint64(v * mul)
		if o.op != 'g' {
			a, ok := parseInt(args[i+3])
			if !ok {
				c.W.Error(msgNotInt)
				return nil, false
			}
			o.arg = a
			i++
		}
		o.overflow = overflow
		ops = append(ops, o)
		i += 2
	}
	return ops, true
}

func getBits(buf []byte, off uint64, n uint) uint64 {
	var v uint64
	for i := uint64(0); i < uint64(n); i++ {
		bit := off + i
		b := uint64(0)
		if idx := bit >> 3; idx < uint64(len(buf)) {
			b = uint64(buf[idx]>>(7-bit&7)) & 1
		}
		v = v<<1 | b
	}
	return v
}

func setBits(buf []byte, off uint64, n uint, v uint64) {
	for i := uint64(0); i < uint64(n); i++ {
		bit := off + i
		mask := byte(1) << (7 - bit&7)
		if v>>(uint64(n)-1-i)&1 == 1 {
			buf[bit>>3] |= mask
		} else {
			buf[bit>>3] &^= mask
		}
	}
}

// value reads the field as the integer it encodes.
func (o bitfieldOp) value(buf []byte) *big.Int {
	raw := getBits(buf, o.offset, o.bits)
	x := new(big.Int).SetUint64(raw)
	if o.signed && raw>>(o.bits-1)&1 == 1 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), o.bits))
	}
	return x
}

// fit applies the overflow policy to x: the value to store, or nil (FAIL).
func (o bitfieldOp) fit(x *big.Int) *big.Int {
	one := big.NewInt(1)
	var lo, hi *big.Int
	if o.signed {
		hi = new(big.Int).Sub(new(big.Int).Lsh(one, o.bits-1), one)
		lo = new(big.Int).Neg(new(big.Int).Lsh(one, o.bits-1))
	} else {
		hi = new(big.Int).Sub(new(big.Int).Lsh(one, o.bits), one)
		lo = big.NewInt(0)
	}
	if x.Cmp(lo) >= 0 && x.Cmp(hi) <= 0 {
		return x
	}
	switch o.overflow {
	case 's':
		if x.Cmp(lo) < 0 {
			return lo
		}
		return hi
	case 'f':
		return nil
	}
	mod := new(big.Int).Lsh(one, o.bits)
	w := new(big.Int).Mod(x, mod) // 0 <= w < 2^bits
	if o.signed && w.Cmp(hi) > 0 {
		w.Sub(w, mod)
	}
	return w
}

func cmdBitfield(readonly bool) func(c *Call) {
	return func(c *Call) {
		ops, ok := parseBitfield(c, readonly)
		if !ok {
			return
		}
		writes := false
		for _, o := range ops {
			writes = writes || o.op != 'g'
		}
		replies := make([]*big.Int, len(ops))
		run := func(tx *engine.Tx) error {
			cur, _, err := tx.GetString(c.DB(), c.Arg(1))
			if err != nil {
				return err
			}
			buf := []byte(cur)
			lo, hi := -1, -1 // the bytes changed
			for i, o := range ops {
				old := o.value(buf)
				if o.op == 'g' {
					replies[i] = old
					continue
				}
				target := big.NewInt(o.arg)
				if o.op == 'i' {
					target.Add(old, target)
				}
				v := o.fit(target)
				if v == nil {
					continue
				}
				if need := int((o.offset + uint64(o.bits) + 7) >> 3); need > len(buf) {
					buf = append(buf, make([]byte, need-len(buf))...)
				}
				setBits(buf, o.offset, o.bits, new(big.Int).And(v, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), o.bits), big.NewInt(1))).Uint64())
				first, last := int(o.offset>>3), int((o.offset+uint64(o.bits)-1)>>3)
				if lo < 0 || first < lo {
					lo = first
				}
				if last > hi {
					hi = last
				}
				if o.op == 's' {
					replies[i] = old
				} else {
					replies[i] = v
				}
			}
			if lo >= 0 {
				_, err = tx.SetRange(c.DB(), c.Arg(1), int64(lo), string(buf[lo:hi+1]))
			}
			return err
		}
		var err error
		if writes {
			err = c.Write(run)
		} else {
			err = c.Read(run)
		}
		if err != nil {
			writeErr(c, err)
			return
		}
		c.W.Array(len(replies))
		for _, r := range replies {
			if r == nil {
				c.W.Null()
			} else {
				c.W.Int(r.Int64())
			}
		}
	}
}
