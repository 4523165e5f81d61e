package rdb

import (
	"encoding/binary"
	"errors"
	"math"
)

// EncodeVersion is the RDB version Encode writes: 9 (Redis 5 and 6), whose
// plain types every Redis from 5.0 on reads, Redis 7 included.
const EncodeVersion = 9

// StreamEncodeVersion is the RDB version of a stream payload: 10 (Redis
// 7.0), the first that has stream type 19.
const StreamEncodeVersion = 10

// ErrNotEncodable is Encode's error for a kind it does not write (streams).
var ErrNotEncodable = errors.New("rdb: value kind not encodable")

// Encode writes v as a Redis DUMP payload: strings, lists, sets, sorted sets
// and hashes in their plain RDB types (Redis converts them to its compact
// encodings as it loads them), streams as Redis 7.0's type 19, then the RDB
// version and the CRC-64, so that Redis' RESTORE reads what sessiond's DUMP
// wrote.
func Encode(v Value) ([]byte, error) {
	var b []byte
	switch v.Kind {
	case String:
		b = append(b, TypeString)
		b = appendString(b, v.Str)
	case List, Set:
		t := byte(TypeList)
		if v.Kind == Set {
			t = TypeSet
		}
		b = append(b, t)
		b = appendLength(b, uint64(len(v.Members)))
		for _, m := range v.Members {
			b = appendString(b, m)
		}
	case ZSet:
		b = append(b, TypeZSet2)
		b = appendLength(b, uint64(len(v.Scores)))
		for _, s := range v.Scores {
			b = appendString(b, s.Member)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.Score))
		}
	case Hash:
		b = append(b, TypeHash)
		b = appendLength(b, uint64(len(v.Pairs)/2))
		for _, s := range v.Pairs {
			b = appendString(b, s)
		}
	case Stream:
		if v.Stream == nil {
			return nil, ErrNotEncodable
		}
		b = appendStream(b, v.Stream)
	default:
		return nil, ErrNotEncodable
	}
	version := uint16(EncodeVersion)
	if v.Kind == Stream {
		version = StreamEncodeVersion
	}
	b = binary.LittleEndian.AppendUint16(b, version)
	return binary.LittleEndian.AppendUint64(b, crc64(0, b)), nil
}

// appendLength writes an RDB length: 6, 14, 32 or 64 bits.
func appendLength(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(0x40|n>>8), byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0x81), n)
}

func appendString(b []byte, s string) []byte {
	return append(appendLength(b, uint64(len(s))), s...)
}
