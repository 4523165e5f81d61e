package engine

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// MaxStringLen is the largest string value (Redis' 512 MB).
const MaxStringLen = 512 << 20

// GetString returns the string value of key.
func (tx *Tx) GetString(db int, key string) (string, bool, error) {
	r, ok, err := tx.lookupType(db, key, TypeString)
	if err != nil || !ok {
		return "", false, err
	}
	return r.Payload, true, nil
}

// KeepTTL as a deadline for PutString keeps the key's current deadline.
const KeepTTL int64 = -1

// PutString stores a string value, replacing whatever key held (of any type).
// deadline is Unix ms, 0 for none, or KeepTTL.
func (tx *Tx) PutString(db int, key, val string, deadline int64) {
	old, had := tx.Lookup(db, key)
	if deadline == KeepTTL {
		deadline = 0
		if had {
			deadline = old.Deadline
		}
	}
	if had && old.Type != TypeString {
		tx.removeRecord(old, DropDeleted)
	}
	tx.put(db, key, TypeString, deadline, val)
}

// SetOptions are SET's conditions and extras.
type SetOptions struct {
	NX, XX   bool  // only if absent / only if present
	Get      bool  // return the old value (it must be a string)
	Deadline int64 // Unix ms; 0 none; KeepTTL keeps the current one
}

// SetResult says what SET did.
type SetResult struct {
	Done   bool   // the value was stored
	Old    string // previous value, with Get
	HadOld bool
}

// PreparedSet is a plain SET (no NX, XX, GET or KEEPTTL) with its buntdb
// key and record already encoded: build it with PrepareSet before the
// transaction, so that copying the key and the value is not done while
// holding the write lock.
type PreparedSet struct {
	db        int
	item, rec string
}

// PrepareSet encodes SET key val with a deadline (Unix ms, 0 none) of user
// database db for SetPrepared.
func PrepareSet(db int, key, val []byte, deadline int64) PreparedSet {
	ik := make([]byte, 2+len(key))
	ik[0], ik[1] = 'k', byte(db)
	copy(ik[2:], key)
	rec := make([]byte, headerLen+len(val))
	rec[0] = TypeString
	binary.BigEndian.PutUint64(rec[1:headerLen], uint64(deadline))
	copy(rec[headerLen:], val)
	return PreparedSet{db: db, item: unsafe.String(unsafe.SliceData(ik), len(ik)),
		rec: unsafe.String(unsafe.SliceData(rec), len(rec))}
}

// SetPrepared runs a SET prepared by PrepareSet: it always stores the value.
// A plain SET needs nothing of the old record before writing: it writes
// first and deals with what the write replaced (one B-tree descent instead
// of a lookup and a write).
func (tx *Tx) SetPrepared(p PreparedSet) {
	key := p.item[2:]
	tx.overwrite(p.db, key, p.item, p.rec)
	tx.Notify('$', "set", p.db, key)
}

// Set implements SET's semantics.
func (tx *Tx) Set(db int, key, val string, o SetOptions) (SetResult, error) {
	var res SetResult
	if !o.NX && !o.XX && !o.Get && o.Deadline != KeepTTL && db < MaxDatabases {
		tx.overwrite(db, key, itemKey(db, key), encodeRecord(TypeString, o.Deadline, val))
		tx.Notify('$', "set", db, key)
		res.Done = true
		return res, nil
	}
	old, had := tx.Lookup(db, key)
	if o.Get && had {
		if old.Type != TypeString {
			return res, ErrWrongType
		}
		res.Old, res.HadOld = old.Payload, true
	}
	if (o.NX && had) || (o.XX && !had) {
		return res, nil
	}
	deadline := o.Deadline
	if deadline == KeepTTL {
		deadline = 0
		if had {
			deadline = old.Deadline
		}
	}
	if had && old.Type != TypeString {
		tx.removeRecord(old, DropDeleted)
	}
	tx.put(db, key, TypeString, deadline, val)
	tx.Notify('$', "set", db, key)
	res.Done = true
	return res, nil
}

// IncrBy adds delta to the integer stored at key (0 when absent).
func (tx *Tx) IncrBy(db int, key string, delta int64) (int64, error) {
	r, ok, err := tx.lookupType(db, key, TypeString)
	if err != nil {
		return 0, err
	}
	var cur int64
	if ok {
		cur, err = ParseRedisInt(r.Payload)
		if err != nil {
			return 0, ErrNotInteger
		}
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		return 0, ErrOverflow
	}
	cur += delta
	dl := int64(0)
	if ok {
		dl = r.Deadline
	}
	tx.put(db, key, TypeString, dl, strconv.FormatInt(cur, 10))
	tx.Notify('$', "incrby", db, key)
	return cur, nil
}

// IncrByFloat adds incr (the argument's text) to the number stored at key
// (0 when absent) in long double arithmetic, as Redis does, and returns the
// new value's text.
func (tx *Tx) IncrByFloat(db int, key string, incr string) (string, error) {
	r, ok, err := tx.lookupType(db, key, TypeString)
	if err != nil {
		return "", err
	}
	cur := ""
	if ok {
		cur = r.Payload
		if cur == "" {
			return "", ErrNotFloat
		}
	}
	v, err := IncrLongDouble(cur, incr)
	if err != nil {
		return "", err
	}
	dl := int64(0)
	if ok {
		dl = r.Deadline
	}
	tx.put(db, key, TypeString, dl, v)
	tx.Notify('$', "incrbyfloat", db, key)
	return v, nil
}

var errIncrNaN = &nanError{}

type nanError struct{}

func (*nanError) Error() string { return "increment would produce NaN or Infinity" }

// ErrNaN is returned by float increments that would produce NaN or Infinity.
var ErrNaN error = errIncrNaN

// Append appends to the string at key and returns the new length.
func (tx *Tx) Append(db int, key, val string) (int, error) {
	r, ok, err := tx.lookupType(db, key, TypeString)
	if err != nil {
		return 0, err
	}
	if !ok {
		tx.put(db, key, TypeString, 0, val)
		tx.Notify('$', "append", db, key)
		return len(val), nil
	}
	if len(r.Payload)+len(val) > MaxStringLen {
		return 0, ErrTooLarge
	}
	tx.putRecord(r, r.Payload+val)
	tx.Notify('$', "append", db, key)
	return len(r.Payload) + len(val), nil
}

// SetRange overwrites part of the string at key, padding with zero bytes.
func (tx *Tx) SetRange(db int, key string, offset int64, val string) (int, error) {
	r, ok, err := tx.lookupType(db, key, TypeString)
	if err != nil {
		return 0, err
	}
	cur := ""
	if ok {
		cur = r.Payload
	}
	if len(val) == 0 {
		return len(cur), nil
	}
	if offset > MaxStringLen-int64(len(val)) {
		return 0, ErrTooLarge
	}
	end := int(offset) + len(val)
	n := len(cur)
	if end > n {
		n = end
	}
	b := make([]byte, n)
	copy(b, cur)
	copy(b[offset:], val)
	if ok {
		tx.putRecord(r, string(b))
	} else {
		tx.put(db, key, TypeString, 0, string(b))
	}
	tx.Notify('$', "setrange", db, key)
	return n, nil
}

// GetDel returns the string at key and deletes it.
func (tx *Tx) GetDel(db int, key string) (string, bool, error) {
	r, ok, err := tx.lookupType(db, key, TypeString)
	if err != nil || !ok {
		return "", false, err
	}
	tx.removeRecord(r, DropDeleted)
	tx.Notify('g', "del", db, key)
	return r.Payload, true, nil
}

// ParseRedisInt parses a decimal int64 exactly as Redis' string2ll: no
// spaces, no plus sign, no leading zeros.
func ParseRedisInt(s string) (int64, error) {
	if len(s) == 0 || len(s) > 20 {
		return 0, ErrNotInteger
	}
	if s == "0" {
		return 0, nil
	}
	neg := false
	i := 0
	if s[0] == '-' {
		neg = true
		i = 1
		if len(s) == 1 {
			return 0, ErrNotInteger
		}
	}
	if s[i] < '1' || s[i] > '9' {
		return 0, ErrNotInteger
	}
	var v uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, ErrNotInteger
		}
		if v > (math.MaxUint64-uint64(c-'0'))/10 {
			return 0, ErrNotInteger
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, ErrNotInteger
		}
		return -int64(v), nil
	}
	if v > math.MaxInt64 {
		return 0, ErrNotInteger
	}
	return int64(v), nil
}

// ParseRedisFloat parses a float as Redis' getDoubleFromObject does (strtod
// on the whole string): decimal or hexadecimal ("0x1.8p3", "0x10"), "inf" and
// "infinity" in any case, no leading space, nothing left over, no NaN, no
// overflow, and no non-zero value that underflows to zero.
func ParseRedisFloat(s string) (float64, error) {
	if len(s) == 0 || !strtoldSyntax(s) {
		return 0, ErrNotFloat
	}
	neg := s[0] == '-'
	body := s
	if s[0] == '+' || s[0] == '-' {
		body = s[1:]
	}
	if lb := strings.ToLower(body); lb == "inf" || lb == "infinity" {
		if neg {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	hex := len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	t := s
	if hex && !strings.ContainsAny(body, "pP") {
		t += "p0" // strtod allows a hex float without exponent; strconv does not
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) {
		return 0, ErrNotFloat
	}
	if f == 0 && mantissaNonZero(body, hex) {
		return 0, ErrNotFloat // ERANGE: a non-zero value underflowed
	}
	return f, nil
}

// mantissaNonZero reports whether a float literal (without sign) has a
// non-zero digit before its exponent.
func mantissaNonZero(body string, hex bool) bool {
	i := 0
	if hex {
		i = 2
	}
	for ; i < len(body); i++ {
		c := body[i] | 0x20
		switch {
		case !hex && c == 'e', hex && c == 'p':
			return false
		case body[i] >= '1' && body[i] <= '9', hex && c >= 'a' && c <= 'f':
			return true
		}
	}
	return false
}
