package engine

import (
	"encoding/binary"
	"strings"
	"unsafe"
)

// Record types. The byte is the first byte of every record's value.
const (
	TypeString byte = 's'
	TypeHash   byte = 'h'
	TypeSet    byte = 't'
	TypeZSet   byte = 'z'
	TypeList   byte = 'l'
	TypeStream byte = 'x'
)

// TypeName returns the name TYPE reports for a record type ("none" if unknown).
func TypeName(t byte) string {
	switch t {
	case TypeString:
		return "string"
	case TypeHash:
		return "hash"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeList:
		return "list"
	case TypeStream:
		return "stream"
	}
	return "none"
}

// TypeByName maps a TYPE name back to its byte (0 if unknown).
func TypeByName(name string) byte {
	switch strings.ToLower(name) {
	case "string":
		return TypeString
	case "hash":
		return TypeHash
	case "set":
		return TypeSet
	case "zset":
		return TypeZSet
	case "list":
		return TypeList
	case "stream":
		return TypeStream
	}
	return 0
}

// composite types keep their elements as child items under childPrefix.
func composite(t byte) bool {
	return t == TypeHash || t == TypeSet || t == TypeZSet || t == TypeList || t == TypeStream
}

const headerLen = 9

// Record is a decoded top-level record.
type Record struct {
	Type     byte
	Deadline int64 // Unix ms; 0 = no expiry
	Payload  string
	DB       int
	Key      string
	item     string // the buntdb key
}

// itemKey is the buntdb key of a record.
func itemKey(db int, key string) string {
	b := make([]byte, 2+len(key))
	b[0] = 'k'
	b[1] = byte(db)
	copy(b[2:], key)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func dbPrefix(db int) string { return string([]byte{'k', byte(db)}) }

// childPrefix is the prefix of every child item of a composite record.
func childPrefix(db int, key string) string {
	var lb [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(lb[:], uint64(len(key)))
	b := make([]byte, 0, 2+n+len(key))
	b = append(b, 'c', byte(db))
	b = append(b, lb[:n]...)
	b = append(b, key...)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func encodeRecord(t byte, deadline int64, payload string) string {
	b := make([]byte, headerLen+len(payload))
	b[0] = t
	binary.BigEndian.PutUint64(b[1:9], uint64(deadline))
	copy(b[headerLen:], payload)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func decodeRecord(item, val string) Record {
	r := Record{item: item}
	if len(item) >= 2 {
		r.DB = int(item[1])
		r.Key = item[2:]
	}
	if len(val) < headerLen {
		return r
	}
	r.Type = val[0]
	r.Deadline = int64(binary.BigEndian.Uint64([]byte(val[1:9])))
	r.Payload = val[headerLen:]
	return r
}

func deadlineOf(val string) uint64 {
	if len(val) < headerLen {
		return 0
	}
	return binary.BigEndian.Uint64(unsafe.Slice(unsafe.StringData(val[1:9]), 8))
}

// expired reports whether a deadline has passed at now. As in Redis, a key
// is still alive at its deadline and gone one millisecond later.
func expired(deadline, now int64) bool { return deadline != 0 && deadline < now }

// Encoding names the representation Redis would report for OBJECT ENCODING.
func Encoding(r Record) string {
	switch r.Type {
	case TypeString:
		if _, err := ParseRedisInt(r.Payload); err == nil {
			return "int"
		}
		if len(r.Payload) <= 44 {
			return "embstr"
		}
		return "raw"
	case TypeHash:
		return "hashtable"
	case TypeSet:
		return "hashtable"
	case TypeZSet:
		return "skiplist"
	case TypeList:
		return "quicklist"
	case TypeStream:
		return "stream"
	}
	return "raw"
}
