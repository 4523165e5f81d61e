package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
)

// HyperLogLog as Redis keeps it (src/hyperloglog.c): a plain string value
// starting with a 16-byte header ("HYLL", the encoding byte, 3 unused bytes,
// the cached cardinality as 8 little-endian bytes whose top bit says "stale"),
// followed by 16384 6-bit registers, either dense (12288 bytes, packed LSB
// first) or sparse (ZERO/XZERO/VAL run-length opcodes). The byte layout, the
// hash (MurmurHash64A, seed 0xadc83b19) and the estimator (Ertl's, with
// hllSigma/hllTau, Redis 5+) are Redis' own, so values move between sessiond
// and Redis unchanged (GET/SET/APPEND, DUMP of a string) and counts agree.

const (
	hllP          = 14
	hllQ          = 64 - hllP
	HLLRegisters  = 1 << hllP // registers of every HyperLogLog
	hllPMask      = HLLRegisters - 1
	hllBits       = 6
	hllRegisterMx = (1 << hllBits) - 1
	hllHdrSize    = 16
	// HLLDenseSize is the exact length of a dense HyperLogLog string.
	HLLDenseSize = hllHdrSize + (HLLRegisters*hllBits+7)/8

	hllEncDense  = 0
	hllEncSparse = 1
	hllEncMax    = 1

	hllSparseXZeroBit   = 0x40
	hllSparseValBit     = 0x80
	hllSparseValMaxVal  = 32
	hllSparseValMaxLen  = 4
	hllSparseZeroMaxLen = 64
	hllSparseXZeroMax   = 16384
	hllAlphaInf         = 0.721347520444481703680 // 0.5/ln(2)
	hllSeed             = 0xadc83b19
)

var (
	// ErrHLLNotHLL is Redis' answer for a string that is not a HyperLogLog
	// (short, bad magic, unknown encoding, dense of the wrong length).
	ErrHLLNotHLL = errors.New("WRONGTYPE Key is not a valid HyperLogLog string value.")
	// ErrHLLCorrupt is Redis' answer for a HyperLogLog whose sparse opcodes
	// do not cover exactly the 16384 registers.
	ErrHLLCorrupt = errors.New("INVALIDOBJ Corrupted HLL object detected")
)

// HLL is one HyperLogLog value being read or changed: its bytes are the
// string value of the key. The zero value is not usable: see NewHLL and
// ParseHLL.
type HLL struct {
	b []byte
}

// NewHLL returns an empty sparse HyperLogLog, byte for byte what Redis'
// createHLLObject makes (cached cardinality 0, valid).
func NewHLL() *HLL {
	b := make([]byte, hllHdrSize, hllHdrSize+2*(HLLRegisters/hllSparseXZeroMax)+8)
	copy(b, "HYLL")
	b[4] = hllEncSparse
	for left := HLLRegisters; left > 0; {
		n := min(left, hllSparseXZeroMax)
		b = append(b, byte((n-1)>>8)|hllSparseXZeroBit, byte((n-1)&0xff))
		left -= n
	}
	return &HLL{b: b}
}

// checkHLL is Redis' isHLLObjectOrReply on a string value.
func checkHLL(s string) error {
	if len(s) < hllHdrSize || s[:4] != "HYLL" || s[4] > hllEncMax {
		return ErrHLLNotHLL
	}
	if s[4] == hllEncDense && len(s) != HLLDenseSize {
		return ErrHLLNotHLL
	}
	return nil
}

// CachedHLLCount returns the cardinality cached in the header of the
// HyperLogLog s, and whether it is valid (not stale), without copying the
// value; ErrHLLNotHLL when s is no HyperLogLog.
func CachedHLLCount(s string) (uint64, bool, error) {
	if err := checkHLL(s); err != nil {
		return 0, false, err
	}
	if s[15]&0x80 != 0 {
		return 0, false, nil
	}
	var card uint64
	for i := 7; i >= 0; i-- {
		card = card<<8 | uint64(s[8+i])
	}
	return card, true, nil
}

// ParseHLL checks that s looks like a HyperLogLog as Redis'
// isHLLObjectOrReply does (ErrHLLNotHLL otherwise) and returns a copy to
// work on. Sparse opcodes are checked later, where they are read.
func ParseHLL(s string) (*HLL, error) {
	if err := checkHLL(s); err != nil {
		return nil, err
	}
	b := make([]byte, len(s), len(s)+8)
	copy(b, s)
	return &HLL{b: b}, nil
}

// Bytes is the value to store (it aliases h).
func (h *HLL) Bytes() []byte { return h.b }

// Sparse reports whether h uses the sparse encoding.
func (h *HLL) Sparse() bool { return h.b[4] == hllEncSparse }

// InvalidateCache marks the cached cardinality stale.
func (h *HLL) InvalidateCache() { h.b[15] |= 1 << 7 }

// MurmurHash64A is Austin Appleby's 64-bit hash as Redis uses it
// (little-endian words).
func MurmurHash64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	n := len(key)
	h := seed ^ (uint64(n) * m)
	i := 0
	for ; i+8 <= n; i += 8 {
		k := uint64(key[i]) | uint64(key[i+1])<<8 | uint64(key[i+2])<<16 | uint64(key[i+3])<<24 |
			uint64(key[i+4])<<32 | uint64(key[i+5])<<40 | uint64(key[i+6])<<48 | uint64(key[i+7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	if rest := key[i:]; len(rest) > 0 {
		for j := len(rest) - 1; j >= 0; j-- {
			h ^= uint64(rest[j]) << (8 * uint(j))
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen returns the register an element goes to and the length of the
// "00..1" run of its hash (1 to Q+1).
func hllPatLen(ele []byte) (int, uint8) {
	hash := MurmurHash64A(ele, hllSeed)
	index := int(hash & hllPMask)
	hash >>= hllP
	hash |= 1 << hllQ
	count := uint8(1)
	for bit := uint64(1); hash&bit == 0; bit <<= 1 {
		count++
	}
	return index, count
}

// denseGet reads register i of packed 6-bit registers; the byte after the
// last one reads as 0 (Redis relies on the sds terminator there).
func denseGet(regs []byte, i int) uint8 {
	byt, fb := i*hllBits/8, uint(i*hllBits&7)
	b0 := uint(regs[byt])
	var b1 uint
	if byt+1 < len(regs) {
		b1 = uint(regs[byt+1])
	}
	return uint8(((b0 >> fb) | (b1 << (8 - fb))) & hllRegisterMx)
}

func denseSet(regs []byte, i int, v uint8) {
	byt, fb := i*hllBits/8, uint(i*hllBits&7)
	val := uint(v)
	regs[byt] &^= byte(hllRegisterMx << fb)
	regs[byt] |= byte(val << fb)
	if byt+1 < len(regs) {
		regs[byt+1] &^= byte(hllRegisterMx >> (8 - fb))
		regs[byt+1] |= byte(val >> (8 - fb))
	}
}

func denseSetMax(regs []byte, i int, v uint8) bool {
	if v > denseGet(regs, i) {
		denseSet(regs, i, v)
		return true
	}
	return false
}

func isZero(op byte) bool  { return op&0xc0 == 0 }
func isXZero(op byte) bool { return op&0xc0 == hllSparseXZeroBit }
func isVal(op byte) bool   { return op&hllSparseValBit != 0 }
func zeroLen(op byte) int  { return int(op&0x3f) + 1 }
func valValue(op byte) int { return int(op>>2&0x1f) + 1 }
func valLen(op byte) int   { return int(op&0x3) + 1 }
func valOp(val, n int) byte {
	return byte((val-1)<<2|(n-1)) | hllSparseValBit
}

// xzeroLen reads a 2-byte XZERO at p; a missing second byte reads as 0.
func xzeroLen(b []byte, p int) int {
	var lo int
	if p+1 < len(b) {
		lo = int(b[p+1])
	}
	return (int(b[p]&0x3f)<<8 | lo) + 1
}

// walkSparse calls fn(first register, run length, value) for each opcode
// of a sparse HLL, and reports ErrHLLCorrupt unless the runs cover exactly
// the 16384 registers (checked before each run, so a corrupted value can
// never address past the registers).
func (h *HLL) walkSparse(fn func(idx, n, val int)) error {
	b := h.b
	idx := 0
	for p := hllHdrSize; p < len(b); {
		var n, val int
		switch op := b[p]; {
		case isZero(op):
			n = zeroLen(op)
			p++
		case isXZero(op):
			n = xzeroLen(b, p)
			p += 2
		default:
			n, val = valLen(op), valValue(op)
			p++
		}
		if idx+n > HLLRegisters {
			return ErrHLLCorrupt
		}
		if fn != nil {
			fn(idx, n, val)
		}
		idx += n
	}
	if idx != HLLRegisters {
		return ErrHLLCorrupt
	}
	return nil
}

// ToDense converts a sparse HLL to the dense encoding, keeping the header
// (and so the cached cardinality); it reports whether it converted.
func (h *HLL) ToDense() (bool, error) {
	if !h.Sparse() {
		return false, nil
	}
	d := make([]byte, HLLDenseSize)
	copy(d, h.b[:hllHdrSize])
	d[4] = hllEncDense
	regs := d[hllHdrSize:]
	err := h.walkSparse(func(idx, n, val int) {
		if val == 0 {
			return
		}
		for j := idx; j < idx+n; j++ {
			denseSet(regs, j, uint8(val))
		}
	})
	if err != nil {
		return false, err
	}
	h.b = d
	return true, nil
}

// Add adds an element; it reports whether a register changed. A sparse
// HLL that would grow past sparseMax bytes (hll-sparse-max-bytes), or whose
// register needs a value above 32, becomes dense first.
func (h *HLL) Add(ele []byte, sparseMax int) (bool, error) {
	idx, count := hllPatLen(ele)
	return h.set(idx, count, sparseMax)
}

func (h *HLL) set(idx int, count uint8, sparseMax int) (bool, error) {
	if !h.Sparse() {
		return denseSetMax(h.b[hllHdrSize:], idx, count), nil
	}
	changed, promote, err := h.sparseSet(idx, count, sparseMax)
	if err != nil || !promote {
		return changed, err
	}
	if _, err := h.ToDense(); err != nil {
		return false, err
	}
	if !denseSetMax(h.b[hllHdrSize:], idx, count) {
		// Redis asserts here: a promotion happens only for a change.
		return false, fmt.Errorf("hll: promotion without a register change at %d", idx)
	}
	return true, nil
}

// sparseSet is Redis' hllSparseSet: it updates the register in place when
// the opcodes allow, splits a run otherwise, and merges adjacent equal VAL
// runs after; promote says the caller must go dense instead.
func (h *HLL) sparseSet(index int, count uint8, sparseMax int) (changed, promote bool, err error) {
	if count > hllSparseValMaxVal {
		return false, true, nil
	}
	b := h.b
	end := len(b)
	p, first, span, prev := hllHdrSize, 0, 0, -1
	for p < end {
		oplen := 1
		switch op := b[p]; {
		case isZero(op):
			span = zeroLen(op)
		case isVal(op):
			span = valLen(op)
		default:
			span = xzeroLen(b, p)
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return false, false, ErrHLLCorrupt
	}
	op := b[p]
	oldlen := 1
	var runlen int
	switch {
	case isZero(op):
		runlen = zeroLen(op)
	case isXZero(op):
		runlen = xzeroLen(b, p)
		oldlen = 2
	default:
		runlen = valLen(op)
	}
	c := int(count)
	switch {
	case isVal(op) && valValue(op) >= c: // case A: nothing to do
		return false, false, nil
	case isVal(op) && runlen == 1, isZero(op) && runlen == 1: // cases B, C
		b[p] = valOp(c, 1)
	default: // case D: split the run
		seq := make([]byte, 0, 5)
		last := first + span - 1
		if isVal(op) {
			cur := valValue(op)
			if index != first {
				seq = append(seq, valOp(cur, index-first))
			}
			seq = append(seq, valOp(c, 1))
			if index != last {
				seq = append(seq, valOp(cur, last-index))
			}
		} else {
			zeros := func(n int) {
				if n > hllSparseZeroMaxLen {
					seq = append(seq, byte((n-1)>>8)|hllSparseXZeroBit, byte((n-1)&0xff))
				} else {
					seq = append(seq, byte(n-1))
				}
			}
			if index != first {
				zeros(index - first)
			}
			seq = append(seq, valOp(c, 1))
			if index != last {
				zeros(last - index)
			}
		}
		delta := len(seq) - oldlen
		if delta > 0 && len(b)+delta > sparseMax {
			return false, true, nil
		}
		nb := make([]byte, 0, len(b)+delta+8)
		nb = append(nb, b[:p]...)
		nb = append(nb, seq...)
		nb = append(nb, b[min(p+oldlen, len(b)):]...)
		b = nb
		end = len(b)
	}
	// Merge adjacent VAL opcodes of equal value (up to 5 opcodes from prev).
	if prev >= 0 {
		p = prev
	} else {
		p = hllHdrSize
	}
	for scan := 5; p < end && scan > 0; {
		scan--
		if isXZero(b[p]) {
			p += 2
			continue
		}
		if isZero(b[p]) {
			p++
			continue
		}
		if p+1 < end && isVal(b[p+1]) {
			v1, v2 := valValue(b[p]), valValue(b[p+1])
			if v1 == v2 {
				if n := valLen(b[p]) + valLen(b[p+1]); n <= hllSparseValMaxLen {
					b[p+1] = valOp(v1, n)
					b = append(b[:p], b[p+1:]...)
					end--
					continue
				}
			}
		}
		p++
	}
	h.b = b
	h.InvalidateCache()
	return true, false, nil
}

// histogram counts registers by value.
func (h *HLL) histogram(hist *[64]int) error {
	if !h.Sparse() {
		regs := h.b[hllHdrSize:]
		for i := 0; i < HLLRegisters; i++ {
			hist[denseGet(regs, i)]++
		}
		return nil
	}
	return h.walkSparse(func(_, n, val int) { hist[val] += n })
}

func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		zp := z
		z += x * y
		y += y
		if zp == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		zp := z
		y *= 0.5
		z -= (1 - x) * (1 - x) * y
		if zp == z {
			return z / 3
		}
	}
}

// estimate is Redis' hllCount on a register histogram (Otmar Ertl,
// "New cardinality estimation algorithms for HyperLogLog sketches").
func estimate(hist *[64]int) uint64 {
	m := float64(HLLRegisters)
	z := m * hllTau((m-float64(hist[hllQ+1]))/m)
	for j := hllQ; j >= 1; j-- {
		z += float64(hist[j])
		z *= 0.5
	}
	z += m * hllSigma(float64(hist[0])/m)
	return uint64(math.Round(hllAlphaInf * m * m / z))
}

// Count is the estimated cardinality: the cached one when valid, else
// computed and cached in the header (fresh says it was computed, so the
// value changed and should be stored, as Redis' PFCOUNT does).
func (h *HLL) Count() (card uint64, fresh bool, err error) {
	if h.b[15]&0x80 == 0 {
		for i := 7; i >= 0; i-- {
			card = card<<8 | uint64(h.b[8+i])
		}
		return card, false, nil
	}
	var hist [64]int
	if err := h.histogram(&hist); err != nil {
		return 0, false, err
	}
	card = estimate(&hist)
	for i := 0; i < 8; i++ {
		h.b[8+i] = byte(card >> (8 * uint(i)))
	}
	return card, true, nil
}

// MergeInto raises each max[i] (len HLLRegisters) to h's register i.
func (h *HLL) MergeInto(max []uint8) error {
	if !h.Sparse() {
		regs := h.b[hllHdrSize:]
		for i := range max {
			if v := denseGet(regs, i); v > max[i] {
				max[i] = v
			}
		}
		return nil
	}
	return h.walkSparse(func(idx, n, val int) {
		for j := idx; j < idx+n; j++ {
			if uint8(val) > max[j] {
				max[j] = uint8(val)
			}
		}
	})
}

// CountRegisters estimates the cardinality of raw registers (one byte
// each, as PFCOUNT of several keys merges them).
func CountRegisters(regs []uint8) uint64 {
	var hist [64]int
	for _, v := range regs {
		hist[v&63]++
	}
	return estimate(&hist)
}

// SetRegisters raises h's registers to regs (PFMERGE's write into the
// destination, register by register as Redis, so a sparse destination
// stays sparse while it fits) and invalidates the cached cardinality.
func (h *HLL) SetRegisters(regs []uint8, sparseMax int) error {
	for i, v := range regs {
		if v == 0 {
			continue
		}
		if _, err := h.set(i, v, sparseMax); err != nil {
			return err
		}
	}
	h.InvalidateCache()
	return nil
}

// Registers returns the 16384 register values.
func (h *HLL) Registers() ([]uint8, error) {
	regs := make([]uint8, HLLRegisters)
	return regs, h.MergeInto(regs)
}

// Decode is PFDEBUG DECODE: the sparse opcodes as "z:len Z:len v:val,len".
func (h *HLL) Decode() (string, error) {
	if !h.Sparse() {
		return "", errors.New("ERR HLL encoding is not sparse")
	}
	var sb strings.Builder
	b := h.b
	for p := hllHdrSize; p < len(b); {
		op := b[p]
		switch {
		case isZero(op):
			sb.WriteString("z:" + strconv.Itoa(zeroLen(op)) + " ")
			p++
		case isXZero(op):
			sb.WriteString("Z:" + strconv.Itoa(xzeroLen(b, p)) + " ")
			p += 2
		default:
			sb.WriteString("v:" + strconv.Itoa(valValue(op)) + "," + strconv.Itoa(valLen(op)) + " ")
			p++
		}
	}
	return strings.TrimRight(sb.String(), " "), nil
}

// HLLSelfTest is PFSELFTEST: register access of the dense encoding, then
// 10 million elements added to a dense and a sparse HLL side by side, with
// the error of the estimate checked at each power of ten. It returns nil or
// the TESTFAILED error Redis would give.
func HLLSelfTest(rng *rand.Rand, sparseMax int) error {
	regs := make([]byte, HLLDenseSize-hllHdrSize)
	want := make([]uint8, HLLRegisters)
	for cycle := 0; cycle < 1000; cycle++ {
		for i := range want {
			want[i] = uint8(rng.Intn(hllRegisterMx + 1))
			denseSet(regs, i, want[i])
		}
		for i := range want {
			if v := denseGet(regs, i); v != want[i] {
				return fmt.Errorf("TESTFAILED Register %d should be %d but is %d", i, want[i], v)
			}
		}
	}
	dense := &HLL{b: make([]byte, HLLDenseSize)}
	copy(dense.b, "HYLL")
	sparse := NewHLL()
	relerr := 1.04 / math.Sqrt(HLLRegisters)
	checkpoint := uint64(1)
	seed := rng.Uint64()
	var ele [8]byte
	for j := uint64(1); j <= 10000000; j++ {
		v := j ^ seed
		for k := 0; k < 8; k++ {
			ele[k] = byte(v >> (8 * uint(k)))
		}
		dense.Add(ele[:], sparseMax)
		if _, err := sparse.Add(ele[:], sparseMax); err != nil {
			return fmt.Errorf("TESTFAILED %v", err)
		}
		if j != checkpoint {
			continue
		}
		if j < uint64(sparseMax/2) && !sparse.Sparse() {
			return errors.New("TESTFAILED sparse encoding not used")
		}
		dense.InvalidateCache()
		sparse.InvalidateCache()
		dc, _, _ := dense.Count()
		sc, _, err := sparse.Count()
		if err != nil || dc != sc {
			return errors.New("TESTFAILED dense/sparse disagree")
		}
		abserr := int64(checkpoint) - int64(dc)
		maxerr := int64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1
		}
		if abserr < 0 {
			abserr = -abserr
		}
		if abserr > maxerr {
			return fmt.Errorf("TESTFAILED Too big error. card:%d abserr:%d", checkpoint, abserr)
		}
		checkpoint *= 10
	}
	return nil
}
