// Package rdb reads Redis' DUMP payloads: a value in Redis' RDB object
// format, its RDB version (2 bytes) and a CRC-64 (8 bytes). It decodes
// strings, lists, sets, sorted sets, hashes and streams in every encoding
// Redis 2.6 to 7.4 writes (plain, ziplist, listpack, intset, quicklist,
// LZF-compressed strings), so that RESTORE takes values DUMPed by Redis,
// and MIGRATE from Redis works. It knows nothing of sessiond's storage:
// it returns plain Go values.
package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// MaxVersion is the newest RDB version whose payloads are read (Redis 7.4
// writes 12); newer ones are refused, as Redis refuses payloads from a
// newer server.
const MaxVersion = 12

// Errors: ErrChecksum for a payload whose version or checksum is wrong (a
// newer or damaged payload), ErrFormat for one whose content cannot be
// decoded.
var (
	ErrChecksum = errors.New("rdb: DUMP payload version or checksum are wrong")
	ErrFormat   = errors.New("rdb: bad data format")
)

// Object types, as RDB numbers them.
const (
	TypeString          = 0
	TypeList            = 1
	TypeSet             = 2
	TypeZSet            = 3
	TypeHash            = 4
	TypeZSet2           = 5
	TypeHashZipmap      = 9
	TypeListZiplist     = 10
	TypeSetIntset       = 11
	TypeZSetZiplist     = 12
	TypeHashZiplist     = 13
	TypeListQuicklist   = 14
	TypeStreamListpacks = 15
	TypeHashListpack    = 16
	TypeZSetListpack    = 17
	TypeListQuicklist2  = 18
	TypeStreamListpack2 = 19
	TypeSetListpack     = 20
	TypeStreamListpack3 = 21
)

// Kind is what a decoded value is.
type Kind int

const (
	String Kind = iota
	List
	Set
	ZSet
	Hash
	Stream
)

// Value is a decoded DUMP payload. Only the fields of its Kind are set.
type Value struct {
	Kind    Kind
	Str     string
	Members []string // List (in order), Set
	Pairs   []string // Hash: field, value, ... in the payload's order
	Scores  []Scored // ZSet
	Stream  *StreamValue
}

// Scored is a sorted-set member and its score.
type Scored struct {
	Member string
	Score  float64
}

// ID is a stream entry ID.
type ID struct{ Ms, Seq uint64 }

// StreamValue is a decoded stream.
type StreamValue struct {
	Entries      []Entry
	Length       uint64
	Last         ID
	First        ID
	MaxDeleted   ID
	EntriesAdded uint64
	// V1 says the payload predates Redis 7 (RDB stream type 15): it holds
	// no first ID, max deleted ID, entries added or groups' entries read,
	// which the reader then estimates as Redis does.
	V1     bool
	Groups []Group
}

// Entry is a stream entry.
type Entry struct {
	ID     ID
	Fields []string // field, value, ...
}

// Group is a consumer group.
type Group struct {
	Name        string
	LastID      ID
	EntriesRead int64 // -1: not in the payload (V1)
	PEL         []Pending
	Consumers   []Consumer
}

// Pending is an entry delivered and not acknowledged.
type Pending struct {
	ID            ID
	Consumer      string
	DeliveryTime  int64 // Unix ms
	DeliveryCount uint64
}

// Consumer is a consumer of a group.
type Consumer struct {
	Name       string
	SeenTime   int64 // Unix ms
	ActiveTime int64 // Unix ms; -1 when never active
}

// IsDump reports whether p is shaped as a Redis DUMP payload (a footer
// with an RDB version this package reads) rather than something else.
func IsDump(p []byte) bool {
	if len(p) < 10 {
		return false
	}
	v := binary.LittleEndian.Uint16(p[len(p)-10:])
	return v >= 1 && v <= MaxVersion
}

// Decode checks a DUMP payload's version and checksum and decodes its value.
func Decode(p []byte) (Value, error) {
	if len(p) < 10 {
		return Value{}, ErrChecksum
	}
	footer := p[len(p)-10:]
	if v := binary.LittleEndian.Uint16(footer); v > MaxVersion {
		return Value{}, ErrChecksum
	}
	if crc64(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return Value{}, ErrChecksum
	}
	r := &reader{b: p[:len(p)-10]}
	v, err := r.object()
	if err == nil && len(r.b) != 0 {
		err = fmt.Errorf("%w: %d bytes after the value", ErrFormat, len(r.b))
	}
	if err != nil {
		return Value{}, err
	}
	return v, nil
}

type reader struct{ b []byte }

func bad(what string) error { return fmt.Errorf("%w: %s", ErrFormat, what) }

func (r *reader) byte() (byte, error) {
	if len(r.b) < 1 {
		return 0, bad("truncated")
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *reader) raw(n uint64) ([]byte, error) {
	if uint64(len(r.b)) < n {
		return nil, bad("truncated")
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out, nil
}

// length reads an RDB length; encoded reports a special string encoding
// (then n is the encoding: 0-2 integers, 3 LZF).
func (r *reader) length() (n uint64, encoded bool, err error) {
	c, err := r.byte()
	if err != nil {
		return 0, false, err
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false, nil
	case 1:
		d, err := r.byte()
		return uint64(c&0x3f)<<8 | uint64(d), false, err
	case 3:
		return uint64(c & 0x3f), true, nil
	}
	switch c {
	case 0x80:
		b, err := r.raw(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(b)), false, nil
	case 0x81:
		b, err := r.raw(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(b), false, nil
	}
	return 0, false, bad("length encoding")
}

// count reads a length that counts elements, bounded by what the payload
// can hold (each element takes at least a byte).
func (r *reader) count() (int, error) {
	n, enc, err := r.length()
	if err != nil {
		return 0, err
	}
	if enc || n > uint64(len(r.b)) {
		return 0, bad("element count")
	}
	return int(n), nil
}

func (r *reader) uint() (uint64, error) {
	n, enc, err := r.length()
	if enc {
		return 0, bad("number")
	}
	return n, err
}

func (r *reader) str() (string, error) {
	n, enc, err := r.length()
	if err != nil {
		return "", err
	}
	if !enc {
		b, err := r.raw(n)
		return string(b), err
	}
	switch n {
	case 0:
		b, err := r.raw(1)
		if err != nil {
			return "", err
		}
		return strconv.Itoa(int(int8(b[0]))), nil
	case 1:
		b, err := r.raw(2)
		if err != nil {
			return "", err
		}
		return strconv.Itoa(int(int16(binary.LittleEndian.Uint16(b)))), nil
	case 2:
		b, err := r.raw(4)
		if err != nil {
			return "", err
		}
		return strconv.Itoa(int(int32(binary.LittleEndian.Uint32(b)))), nil
	case 3:
		clen, _, err := r.length()
		if err != nil {
			return "", err
		}
		ulen, _, err := r.length()
		if err != nil {
			return "", err
		}
		c, err := r.raw(clen)
		if err != nil {
			return "", err
		}
		out, err := lzfDecompress(c, ulen)
		return string(out), err
	}
	return "", bad("string encoding")
}

// millis reads an 8-byte little-endian Unix time in ms.
func (r *reader) millis() (int64, error) {
	b, err := r.raw(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b)), nil
}

// textDouble reads the old ZSET score: a length byte then ASCII (253 NaN,
// 254 +inf, 255 -inf).
func (r *reader) textDouble() (float64, error) {
	n, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := r.raw(uint64(n))
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(string(b), 64)
}

func (r *reader) object() (Value, error) {
	t, err := r.byte()
	if err != nil {
		return Value{}, err
	}
	switch t {
	case TypeString:
		s, err := r.str()
		return Value{Kind: String, Str: s}, err
	case TypeList, TypeSet:
		n, err := r.count()
		if err != nil {
			return Value{}, err
		}
		v := Value{Kind: List}
		if t == TypeSet {
			v.Kind = Set
		}
		for i := 0; i < n; i++ {
			s, err := r.str()
			if err != nil {
				return Value{}, err
			}
			v.Members = append(v.Members, s)
		}
		return v, nil
	case TypeZSet, TypeZSet2:
		n, err := r.count()
		if err != nil {
			return Value{}, err
		}
		v := Value{Kind: ZSet}
		for i := 0; i < n; i++ {
			m, err := r.str()
			if err != nil {
				return Value{}, err
			}
			var score float64
			if t == TypeZSet {
				score, err = r.textDouble()
			} else {
				var b []byte
				if b, err = r.raw(8); err == nil {
					score = math.Float64frombits(binary.LittleEndian.Uint64(b))
				}
			}
			if err != nil {
				return Value{}, err
			}
			if math.IsNaN(score) {
				return Value{}, bad("NaN score")
			}
			v.Scores = append(v.Scores, Scored{m, score})
		}
		return v, nil
	case TypeHash:
		n, err := r.count()
		if err != nil {
			return Value{}, err
		}
		v := Value{Kind: Hash}
		for i := 0; i < 2*n; i++ {
			s, err := r.str()
			if err != nil {
				return Value{}, err
			}
			v.Pairs = append(v.Pairs, s)
		}
		return v, nil
	case TypeSetIntset:
		blob, err := r.str()
		if err != nil {
			return Value{}, err
		}
		m, err := intset([]byte(blob))
		return Value{Kind: Set, Members: m}, err
	case TypeListZiplist, TypeZSetZiplist, TypeHashZiplist, TypeHashListpack, TypeZSetListpack, TypeSetListpack:
		blob, err := r.str()
		if err != nil {
			return Value{}, err
		}
		var items []string
		if t == TypeListZiplist || t == TypeZSetZiplist || t == TypeHashZiplist {
			items, err = ziplist([]byte(blob))
		} else {
			items, err = listpack([]byte(blob))
		}
		if err != nil {
			return Value{}, err
		}
		return fromFlat(t, items)
	case TypeListQuicklist, TypeListQuicklist2:
		n, err := r.count()
		if err != nil {
			return Value{}, err
		}
		v := Value{Kind: List}
		for i := 0; i < n; i++ {
			container := uint64(2) // packed
			if t == TypeListQuicklist2 {
				if container, err = r.uint(); err != nil {
					return Value{}, err
				}
			}
			blob, err := r.str()
			if err != nil {
				return Value{}, err
			}
			var items []string
			switch {
			case container == 1: // a plain node: one element
				items = []string{blob}
			case t == TypeListQuicklist:
				items, err = ziplist([]byte(blob))
			default:
				items, err = listpack([]byte(blob))
			}
			if err != nil {
				return Value{}, err
			}
			v.Members = append(v.Members, items...)
		}
		return v, nil
	case TypeStreamListpacks, TypeStreamListpack2, TypeStreamListpack3:
		s, err := r.stream(t)
		return Value{Kind: Stream, Stream: s}, err
	}
	return Value{}, bad(fmt.Sprintf("object type %d", t))
}

// fromFlat builds a value from a ziplist or listpack's elements.
func fromFlat(t byte, items []string) (Value, error) {
	switch t {
	case TypeListZiplist:
		return Value{Kind: List, Members: items}, nil
	case TypeSetListpack:
		return Value{Kind: Set, Members: items}, nil
	case TypeHashZiplist, TypeHashListpack:
		if len(items)%2 != 0 {
			return Value{}, bad("odd hash listpack")
		}
		return Value{Kind: Hash, Pairs: items}, nil
	}
	if len(items)%2 != 0 {
		return Value{}, bad("odd sorted set listpack")
	}
	v := Value{Kind: ZSet}
	for i := 0; i < len(items); i += 2 {
		score, err := strconv.ParseFloat(items[i+1], 64)
		if err != nil || math.IsNaN(score) {
			return Value{}, bad("sorted set score")
		}
		v.Scores = append(v.Scores, Scored{items[i], score})
	}
	return v, nil
}

func (r *reader) id() (ID, error) {
	ms, err := r.uint()
	if err != nil {
		return ID{}, err
	}
	seq, err := r.uint()
	return ID{ms, seq}, err
}

func rawID(b []byte) ID {
	return ID{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

func (r *reader) stream(t byte) (*StreamValue, error) {
	s := &StreamValue{V1: t == TypeStreamListpacks}
	nodes, err := r.count()
	if err != nil {
		return nil, err
	}
	for i := 0; i < nodes; i++ {
		key, err := r.str()
		if err != nil {
			return nil, err
		}
		if len(key) != 16 {
			return nil, bad("stream node key")
		}
		blob, err := r.str()
		if err != nil {
			return nil, err
		}
		items, err := listpack([]byte(blob))
		if err != nil {
			return nil, err
		}
		entries, err := streamNode(rawID([]byte(key)), items)
		if err != nil {
			return nil, err
		}
		s.Entries = append(s.Entries, entries...)
	}
	if s.Length, err = r.uint(); err != nil {
		return nil, err
	}
	if s.Last, err = r.id(); err != nil {
		return nil, err
	}
	if !s.V1 {
		if s.First, err = r.id(); err != nil {
			return nil, err
		}
		if s.MaxDeleted, err = r.id(); err != nil {
			return nil, err
		}
		if s.EntriesAdded, err = r.uint(); err != nil {
			return nil, err
		}
	}
	groups, err := r.count()
	if err != nil {
		return nil, err
	}
	for i := 0; i < groups; i++ {
		g := Group{EntriesRead: -1}
		if g.Name, err = r.str(); err != nil {
			return nil, err
		}
		if g.LastID, err = r.id(); err != nil {
			return nil, err
		}
		if !s.V1 {
			n, err := r.uint()
			if err != nil {
				return nil, err
			}
			g.EntriesRead = int64(n)
		}
		pel, err := r.count()
		if err != nil {
			return nil, err
		}
		owner := map[ID]int{}
		for j := 0; j < pel; j++ {
			b, err := r.raw(16)
			if err != nil {
				return nil, err
			}
			p := Pending{ID: rawID(b)}
			if p.DeliveryTime, err = r.millis(); err != nil {
				return nil, err
			}
			if p.DeliveryCount, err = r.uint(); err != nil {
				return nil, err
			}
			owner[p.ID] = len(g.PEL)
			g.PEL = append(g.PEL, p)
		}
		consumers, err := r.count()
		if err != nil {
			return nil, err
		}
		for j := 0; j < consumers; j++ {
			c := Consumer{}
			if c.Name, err = r.str(); err != nil {
				return nil, err
			}
			if c.SeenTime, err = r.millis(); err != nil {
				return nil, err
			}
			c.ActiveTime = c.SeenTime
			if t == TypeStreamListpack3 {
				if c.ActiveTime, err = r.millis(); err != nil {
					return nil, err
				}
			}
			n, err := r.count()
			if err != nil {
				return nil, err
			}
			for k := 0; k < n; k++ {
				b, err := r.raw(16)
				if err != nil {
					return nil, err
				}
				at, ok := owner[rawID(b)]
				if !ok {
					return nil, bad("consumer pending entry not in the group's")
				}
				g.PEL[at].Consumer = c.Name
			}
			g.Consumers = append(g.Consumers, c)
		}
		for _, p := range g.PEL {
			if p.Consumer == "" {
				return nil, bad("group pending entry without a consumer")
			}
		}
		s.Groups = append(s.Groups, g)
	}
	if uint64(len(s.Entries)) != s.Length {
		return nil, bad("stream length")
	}
	return s, nil
}

// Stream node entry flags.
const (
	flagDeleted    = 1
	flagSameFields = 2
)

// streamNode decodes one listpack of a stream's radix tree: a master entry
// (count, deleted, the master fields, 0), then the entries, each with its
// flags, ID deltas from the node's key, fields (or only values when they
// are the master's) and a trailing element count.
func streamNode(master ID, items []string) ([]Entry, error) {
	pos := 0
	next := func() (string, bool) {
		if pos >= len(items) {
			return "", false
		}
		pos++
		return items[pos-1], true
	}
	num := func() (int64, bool) {
		s, ok := next()
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	count, ok1 := num()
	deleted, ok2 := num()
	nf, ok3 := num()
	if !ok1 || !ok2 || !ok3 || nf < 0 || int(nf) > len(items) {
		return nil, bad("stream master entry")
	}
	fields := make([]string, nf)
	for i := range fields {
		if fields[i], ok1 = next(); !ok1 {
			return nil, bad("stream master fields")
		}
	}
	if z, ok := num(); !ok || z != 0 {
		return nil, bad("stream master entry terminator")
	}
	var out []Entry
	for i := int64(0); i < count+deleted; i++ {
		flags, ok1 := num()
		ms, ok2 := num()
		seq, ok3 := num()
		if !ok1 || !ok2 || !ok3 {
			return nil, bad("stream entry")
		}
		e := Entry{ID: ID{master.Ms + uint64(ms), master.Seq + uint64(seq)}}
		if flags&flagSameFields != 0 {
			for _, f := range fields {
				v, ok := next()
				if !ok {
					return nil, bad("stream entry values")
				}
				e.Fields = append(e.Fields, f, v)
			}
		} else {
			n, ok := num()
			if !ok || n < 0 || int(n) > len(items) {
				return nil, bad("stream entry fields")
			}
			for j := int64(0); j < 2*n; j++ {
				v, ok := next()
				if !ok {
					return nil, bad("stream entry fields")
				}
				e.Fields = append(e.Fields, v)
			}
		}
		if _, ok := num(); !ok { // lp-count
			return nil, bad("stream entry count")
		}
		if flags&flagDeleted == 0 {
			out = append(out, e)
		}
	}
	if pos != len(items) || int64(len(out)) != count {
		return nil, bad("stream node")
	}
	return out, nil
}
