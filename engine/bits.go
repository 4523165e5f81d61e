package engine

// Bit operations on string values (SETBIT, BITOP). The read-only ones
// (GETBIT, BITCOUNT, BITPOS) work on the value GetString returns.

// SetBit sets or clears the bit at offset of the string at key (growing it
// with zero bytes as needed) and returns the bit's previous value.
func (tx *Tx) SetBit(db int, key string, offset uint64, on bool) (int, error) {
	r, ok, err := tx.lookupType(db, key, TypeString)
	if err != nil {
		return 0, err
	}
	byteIdx := int(offset >> 3)
	if byteIdx >= MaxStringLen {
		return 0, ErrTooLarge
	}
	mask := byte(1) << (7 - offset&7)
	cur := ""
	if ok {
		cur = r.Payload
	}
	old := 0
	if byteIdx < len(cur) && cur[byteIdx]&mask != 0 {
		old = 1
	}
	grows := byteIdx >= len(cur)
	if !grows && ok && (old == 1) == on {
		return old, nil // nothing changes
	}
	n := max(len(cur), byteIdx+1)
	b := make([]byte, n)
	copy(b, cur)
	if on {
		b[byteIdx] |= mask
	} else {
		b[byteIdx] &^= mask
	}
	if ok {
		tx.putRecord(r, string(b))
	} else {
		tx.put(db, key, TypeString, 0, string(b))
	}
	tx.Notify('$', "setbit", db, key)
	return old, nil
}

// BitOp names a BITOP operation.
type BitOp int

// BITOP operations.
const (
	BitAnd BitOp = iota
	BitOr
	BitXor
	BitNot
)

// BitOpStore computes op over the string values of srcs (missing keys are
// empty strings) and stores the result at dst; an empty result deletes dst.
// It returns the length of the result.
func (tx *Tx) BitOpStore(db int, op BitOp, dst string, srcs []string) (int, error) {
	vals := make([]string, len(srcs))
	maxLen := 0
	for i, k := range srcs {
		v, _, err := tx.GetString(db, k)
		if err != nil {
			return 0, err
		}
		vals[i] = v
		maxLen = max(maxLen, len(v))
	}
	res := make([]byte, maxLen)
	switch op {
	case BitNot:
		for i := 0; i < len(vals[0]); i++ {
			res[i] = ^vals[0][i]
		}
	default:
		for i := 0; i < maxLen; i++ {
			var out byte
			for j, v := range vals {
				var c byte
				if i < len(v) {
					c = v[i]
				}
				switch {
				case j == 0:
					out = c
				case op == BitAnd:
					out &= c
				case op == BitOr:
					out |= c
				case op == BitXor:
					out ^= c
				}
			}
			res[i] = out
		}
	}
	if maxLen == 0 {
		tx.Delete(db, dst)
		return 0, nil
	}
	tx.PutString(db, dst, string(res), 0)
	tx.Notify('$', "set", db, dst)
	return maxLen, nil
}
