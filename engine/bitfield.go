package engine

import "math"

// BITFIELD arithmetic as Redis' bitops.c does it: integers of 1 to 64 bits
// (unsigned up to 63) at any bit offset of a string, most significant bit
// first, with WRAP, SAT or FAIL on overflow.

// Overflow behaviours of BITFIELD.
const (
	OverflowWrap = iota
	OverflowSat
	OverflowFail
)

// BitfieldGet reads the integer of bits bits at bit offset off of b (bits
// past the end read as zero), sign-extended when signed.
func BitfieldGet(b []byte, off uint64, bits uint, signed bool) int64 {
	var v uint64
	for i := uint64(0); i < uint64(bits); i++ {
		byteIdx := (off + i) >> 3
		bit := uint64(0)
		if byteIdx < uint64(len(b)) {
			bit = uint64(b[byteIdx]>>(7-((off+i)&7))) & 1
		}
		v = v<<1 | bit
	}
	if signed && bits < 64 && v&(1<<(bits-1)) != 0 {
		v |= ^uint64(0) << bits
	}
	return int64(v)
}

// BitfieldSet writes the low bits bits of v at bit offset off of b, which
// must be long enough.
func BitfieldSet(b []byte, off uint64, bits uint, v uint64) {
	for i := uint64(0); i < uint64(bits); i++ {
		bit := (v >> (uint64(bits) - 1 - i)) & 1
		byteIdx := (off + i) >> 3
		mask := byte(1) << (7 - ((off + i) & 7))
		if bit != 0 {
			b[byteIdx] |= mask
		} else {
			b[byteIdx] &^= mask
		}
	}
}

// BitfieldAdd computes old+incr in a field of bits bits (SET passes the
// value as old and 0 as incr): the result and whether the field can hold
// it under the overflow behaviour (false only for FAIL on overflow).
func BitfieldAdd(old, incr int64, bits uint, signed bool, overflow int) (int64, bool) {
	if signed {
		return signedAdd(old, incr, bits, overflow)
	}
	return unsignedAdd(uint64(old), incr, bits, overflow)
}

func unsignedAdd(value uint64, incr int64, bits uint, overflow int) (int64, bool) {
	maxv := uint64(math.MaxUint64)
	if bits < 64 {
		maxv = 1<<bits - 1
	}
	maxincr := int64(maxv - value)
	minincr := -int64(value)
	wrap := func() int64 {
		res := value + uint64(incr)
		if bits < 64 {
			res &= ^(^uint64(0) << bits)
		}
		return int64(res)
	}
	switch {
	case value > maxv || (incr > 0 && incr > maxincr):
		switch overflow {
		case OverflowWrap:
			return wrap(), true
		case OverflowSat:
			return int64(maxv), true
		}
		return 0, false
	case incr < 0 && incr < minincr:
		switch overflow {
		case OverflowWrap:
			return wrap(), true
		case OverflowSat:
			return 0, true
		}
		return 0, false
	}
	return int64(value + uint64(incr)), true
}

func signedAdd(value, incr int64, bits uint, overflow int) (int64, bool) {
	maxv := int64(math.MaxInt64)
	if bits < 64 {
		maxv = 1<<(bits-1) - 1
	}
	minv := -maxv - 1
	maxincr := maxv - value
	minincr := minv - value
	wrap := func() int64 {
		msb := uint64(1) << (bits - 1)
		c := uint64(value) + uint64(incr)
		if bits < 64 {
			mask := ^uint64(0) << bits
			if c&msb != 0 {
				c |= mask
			} else {
				c &^= mask
			}
		}
		return int64(c)
	}
	switch {
	case value > maxv || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr):
		switch overflow {
		case OverflowWrap:
			return wrap(), true
		case OverflowSat:
			return maxv, true
		}
		return 0, false
	case value < minv || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr):
		switch overflow {
		case OverflowWrap:
			return wrap(), true
		case OverflowSat:
			return minv, true
		}
		return 0, false
	}
	return value + incr, true
}
