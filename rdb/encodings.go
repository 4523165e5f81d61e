package rdb

import (
	"encoding/binary"
	"strconv"
)

// listpack decodes a listpack: a 6-byte header (total bytes, element
// count), elements each followed by its back-length, and 0xFF.
func listpack(b []byte) ([]string, error) {
	if len(b) < 7 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return nil, bad("listpack header")
	}
	p := b[6 : len(b)-1]
	var out []string
	for len(p) > 0 {
		c := p[0]
		var size int // encoding and data
		switch {
		case c&0x80 == 0: // 7-bit unsigned
			out = append(out, strconv.Itoa(int(c&0x7f)))
			size = 1
		case c&0xc0 == 0x80: // 6-bit string length
			n := int(c & 0x3f)
			if len(p) < 1+n {
				return nil, bad("listpack string")
			}
			out = append(out, string(p[1:1+n]))
			size = 1 + n
		case c&0xe0 == 0xc0: // 13-bit signed
			if len(p) < 2 {
				return nil, bad("listpack int")
			}
			v := int(c&0x1f)<<8 | int(p[1])
			if v >= 1<<12 {
				v -= 1 << 13
			}
			out = append(out, strconv.Itoa(v))
			size = 2
		case c&0xf0 == 0xe0: // 12-bit string length
			if len(p) < 2 {
				return nil, bad("listpack string")
			}
			n := int(c&0x0f)<<8 | int(p[1])
			if len(p) < 2+n {
				return nil, bad("listpack string")
			}
			out = append(out, string(p[2:2+n]))
			size = 2 + n
		case c == 0xf0: // 32-bit string length
			if len(p) < 5 {
				return nil, bad("listpack string")
			}
			n := int(binary.LittleEndian.Uint32(p[1:5]))
			if n < 0 || len(p)-5 < n {
				return nil, bad("listpack string")
			}
			out = append(out, string(p[5:5+n]))
			size = 5 + n
		case c >= 0xf1 && c <= 0xf4: // 16, 24, 32, 64-bit signed
			w := map[byte]int{0xf1: 2, 0xf2: 3, 0xf3: 4, 0xf4: 8}[c]
			if len(p) < 1+w {
				return nil, bad("listpack int")
			}
			out = append(out, strconv.FormatInt(leInt(p[1:1+w]), 10))
			size = 1 + w
		default:
			return nil, bad("listpack encoding")
		}
		back := backlenSize(size)
		if len(p) < size+back {
			return nil, bad("listpack back-length")
		}
		p = p[size+back:]
	}
	if n := int(binary.LittleEndian.Uint16(b[4:6])); n != 65535 && n != len(out) {
		return nil, bad("listpack element count")
	}
	return out, nil
}

// backlenSize is how many bytes a listpack element's back-length takes.
func backlenSize(n int) int {
	switch {
	case n <= 127:
		return 1
	case n < 16383:
		return 2
	case n < 2097151:
		return 3
	case n < 268435455:
		return 4
	}
	return 5
}

// leInt reads a little-endian two's complement integer of len(b) bytes.
func leInt(b []byte) int64 {
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	shift := 64 - 8*uint(len(b))
	return int64(u<<shift) >> shift
}

// ziplist decodes a ziplist (Redis before 7): a 10-byte header, entries
// each with the previous entry's length and its encoding, and 0xFF.
func ziplist(b []byte) ([]string, error) {
	if len(b) < 11 || int(binary.LittleEndian.Uint32(b)) != len(b) || b[len(b)-1] != 0xff {
		return nil, bad("ziplist header")
	}
	p := b[10 : len(b)-1]
	var out []string
	for len(p) > 0 {
		if p[0] == 0xfe {
			if len(p) < 5 {
				return nil, bad("ziplist prevlen")
			}
			p = p[5:]
		} else {
			p = p[1:]
		}
		if len(p) < 1 {
			return nil, bad("ziplist entry")
		}
		c := p[0]
		switch {
		case c>>6 == 0, c>>6 == 1, c == 0x80:
			var n, h int
			switch c >> 6 {
			case 0:
				n, h = int(c&0x3f), 1
			case 1:
				if len(p) < 2 {
					return nil, bad("ziplist string")
				}
				n, h = int(c&0x3f)<<8|int(p[1]), 2
			default:
				if len(p) < 5 {
					return nil, bad("ziplist string")
				}
				n, h = int(binary.BigEndian.Uint32(p[1:5])), 5
			}
			if n < 0 || len(p)-h < n {
				return nil, bad("ziplist string")
			}
			out = append(out, string(p[h:h+n]))
			p = p[h+n:]
		case c == 0xc0, c == 0xd0, c == 0xe0, c == 0xf0, c == 0xfe:
			w := map[byte]int{0xc0: 2, 0xd0: 4, 0xe0: 8, 0xf0: 3, 0xfe: 1}[c]
			if len(p) < 1+w {
				return nil, bad("ziplist int")
			}
			out = append(out, strconv.FormatInt(leInt(p[1:1+w]), 10))
			p = p[1+w:]
		case c >= 0xf1 && c <= 0xfd:
			out = append(out, strconv.Itoa(int(c&0x0f)-1))
			p = p[1:]
		default:
			return nil, bad("ziplist encoding")
		}
	}
	if n := int(binary.LittleEndian.Uint16(b[8:10])); n != 65535 && n != len(out) {
		return nil, bad("ziplist element count")
	}
	return out, nil
}

// intset decodes an intset: the integer width (2, 4 or 8), the count, and
// the sorted integers, little-endian.
func intset(b []byte) ([]string, error) {
	if len(b) < 8 {
		return nil, bad("intset header")
	}
	w := int(binary.LittleEndian.Uint32(b))
	n := int(binary.LittleEndian.Uint32(b[4:]))
	if (w != 2 && w != 4 && w != 8) || n < 0 || len(b)-8 != n*w {
		return nil, bad("intset size")
	}
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.FormatInt(leInt(b[8+i*w:8+(i+1)*w]), 10)
	}
	return out, nil
}

// lzfDecompress expands LZF data (Redis' compressed strings) to exactly
// n bytes.
func lzfDecompress(in []byte, n uint64) ([]byte, error) {
	if n > uint64(len(in))*256+256 {
		return nil, bad("LZF length")
	}
	out := make([]byte, 0, n)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 { // a literal run of ctrl+1 bytes
			l := ctrl + 1
			if i+l > len(in) {
				return nil, bad("LZF literal")
			}
			out = append(out, in[i:i+l]...)
			i += l
			continue
		}
		l := ctrl >> 5
		if l == 7 {
			if i >= len(in) {
				return nil, bad("LZF length")
			}
			l += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, bad("LZF reference")
		}
		ref := len(out) - (ctrl&0x1f)<<8 - int(in[i]) - 1
		i++
		if ref < 0 {
			return nil, bad("LZF reference")
		}
		for j := 0; j < l+2; j++ { // byte by byte: the copy may overlap
			out = append(out, out[ref+j])
		}
	}
	if uint64(len(out)) != n {
		return nil, bad("LZF length")
	}
	return out, nil
}
