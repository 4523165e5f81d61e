package rdb

import (
	"encoding/binary"
	"math"
)

// appendStream writes a stream as RDB type 19 (Redis 7.0's
// STREAM_LISTPACKS_2): one radix-tree node per entry (a listpack holding a
// master entry with the entry's fields and the entry itself, values only),
// then the metadata, the groups, their pending entries and consumers.
// Redis accepts any node layout; one entry per node is the simplest valid
// one.
func appendStream(b []byte, s *StreamValue) []byte {
	b = append(b, TypeStreamListpack2)
	b = appendLength(b, uint64(len(s.Entries)))
	for _, e := range s.Entries {
		b = appendString(b, string(rawIDBytes(e.ID)))
		nf := len(e.Fields) / 2
		var lp listpackWriter
		lp.int(1) // count
		lp.int(0) // deleted
		lp.int(int64(nf))
		for i := 0; i < nf; i++ {
			lp.str(e.Fields[2*i])
		}
		lp.int(0) // the master entry's terminator
		lp.int(flagSameFields)
		lp.int(0) // ms-diff
		lp.int(0) // seq-diff
		for i := 0; i < nf; i++ {
			lp.str(e.Fields[2*i+1])
		}
		lp.int(int64(nf + 3)) // lp-count: the entry's elements
		b = appendString(b, string(lp.bytes()))
	}
	b = appendLength(b, s.Length)
	b = appendID(b, s.Last)
	b = appendID(b, s.First)
	b = appendID(b, s.MaxDeleted)
	b = appendLength(b, s.EntriesAdded)
	b = appendLength(b, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		b = appendString(b, g.Name)
		b = appendID(b, g.LastID)
		if g.EntriesRead < 0 {
			b = appendLength(b, math.MaxUint64) // Redis' "unknown"
		} else {
			b = appendLength(b, uint64(g.EntriesRead))
		}
		b = appendLength(b, uint64(len(g.PEL)))
		for _, p := range g.PEL {
			b = append(b, rawIDBytes(p.ID)...)
			b = binary.LittleEndian.AppendUint64(b, uint64(p.DeliveryTime))
			b = appendLength(b, p.DeliveryCount)
		}
		b = appendLength(b, uint64(len(g.Consumers)))
		for _, c := range g.Consumers {
			b = appendString(b, c.Name)
			b = binary.LittleEndian.AppendUint64(b, uint64(c.SeenTime))
			var own [][]byte
			for _, p := range g.PEL {
				if p.Consumer == c.Name {
					own = append(own, rawIDBytes(p.ID))
				}
			}
			b = appendLength(b, uint64(len(own)))
			for _, id := range own {
				b = append(b, id...)
			}
		}
	}
	return b
}

func appendID(b []byte, id ID) []byte { return appendLength(appendLength(b, id.Ms), id.Seq) }

func rawIDBytes(id ID) []byte {
	b := binary.BigEndian.AppendUint64(nil, id.Ms)
	return binary.BigEndian.AppendUint64(b, id.Seq)
}

// listpackWriter builds a listpack (the format listpack decodes).
type listpackWriter struct {
	body []byte
	n    int
}

func (w *listpackWriter) elem(enc []byte) {
	w.body = append(w.body, enc...)
	w.body = appendBacklen(w.body, len(enc))
	w.n++
}

func (w *listpackWriter) int(v int64) {
	var e []byte
	switch {
	case v >= 0 && v <= 127:
		e = []byte{byte(v)}
	case v >= -4096 && v <= 4095:
		u := uint16(v) & 0x1fff
		e = []byte{byte(u>>8) | 0xc0, byte(u)}
	case v >= math.MinInt16 && v <= math.MaxInt16:
		e = binary.LittleEndian.AppendUint16([]byte{0xf1}, uint16(v))
	case v >= -1<<23 && v < 1<<23:
		e = []byte{0xf2, byte(v), byte(v >> 8), byte(v >> 16)}
	case v >= math.MinInt32 && v <= math.MaxInt32:
		e = binary.LittleEndian.AppendUint32([]byte{0xf3}, uint32(v))
	default:
		e = binary.LittleEndian.AppendUint64([]byte{0xf4}, uint64(v))
	}
	w.elem(e)
}

func (w *listpackWriter) str(s string) {
	var e []byte
	switch n := len(s); {
	case n < 64:
		e = []byte{0x80 | byte(n)}
	case n < 4096:
		e = []byte{0xe0 | byte(n>>8), byte(n)}
	default:
		e = binary.LittleEndian.AppendUint32([]byte{0xf0}, uint32(n))
	}
	w.elem(append(e, s...))
}

func (w *listpackWriter) bytes() []byte {
	out := binary.LittleEndian.AppendUint32(nil, uint32(6+len(w.body)+1))
	n := w.n
	if n > 65535 {
		n = 65535
	}
	out = binary.LittleEndian.AppendUint16(out, uint16(n))
	out = append(out, w.body...)
	return append(out, 0xff)
}

// appendBacklen writes a listpack element's back-length (its encoded
// size), most significant 7-bit group first, every byte but the first
// flagged with 0x80, as Redis' lpEncodeBacklen.
func appendBacklen(b []byte, l int) []byte {
	size := backlenSize(l)
	for i := size - 1; i >= 0; i-- {
		c := byte(l>>(7*uint(i))) & 127
		if i != size-1 {
			c |= 128
		}
		b = append(b, c)
	}
	return b
}
