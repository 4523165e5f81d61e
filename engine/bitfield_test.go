package engine

import "testing"

func TestBitfieldArithmetic(t *testing.T) {
	cases := []struct {
		old, incr int64
		bits      uint
		signed    bool
		overflow  int
		want      int64
		ok        bool
	}{
		{100, 1, 8, false, OverflowWrap, 101, true},
		{255, 1, 8, false, OverflowWrap, 0, true},
		{255, 1, 8, false, OverflowSat, 255, true},
		{255, 1, 8, false, OverflowFail, 0, false},
		{0, -1, 8, false, OverflowWrap, 255, true},
		{0, -1, 8, false, OverflowSat, 0, true},
		{127, 1, 8, true, OverflowWrap, -128, true},
		{127, 1, 8, true, OverflowSat, 127, true},
		{-128, -1, 8, true, OverflowSat, -128, true},
		{-128, -1, 8, true, OverflowFail, 0, false},
		{-100, 0, 8, false, OverflowWrap, 156, true}, // SET u8 -100
		{9223372036854775807, 1, 64, true, OverflowWrap, -9223372036854775808, true},
		{9223372036854775807, 1, 64, true, OverflowSat, 9223372036854775807, true},
	}
	for _, c := range cases {
		got, ok := BitfieldAdd(c.old, c.incr, c.bits, c.signed, c.overflow)
		if got != c.want || ok != c.ok {
			t.Errorf("%+v: got %d %v", c, got, ok)
		}
	}
	b := make([]byte, 3)
	BitfieldSet(b, 5, 11, 0x5A5)
	if got := BitfieldGet(b, 5, 11, false); got != 0x5A5 {
		t.Fatalf("get = %x", got)
	}
	if got := BitfieldGet(b, 5, 11, true); got != int64(0x5A5)-2048 {
		t.Fatalf("signed get = %d", got)
	}
	if got := BitfieldGet(b, 20, 16, false); got != int64(b[2]&0x0F)<<12 {
		t.Fatalf("past the end = %x", got)
	}
}
