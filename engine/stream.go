package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Streams. The record's payload holds the stream's metadata (last ID,
// maximal deleted ID, recorded first ID, length, entries added); each entry
// is a child "e" + 16-byte big-endian ID holding its field/value pairs, and
// each consumer group is a child "g" + name holding the group: its last
// delivered ID, entries-read counter, consumers and pending entries list.
// Appending, deleting or reading an entry touches one child; a group read
// rewrites that group's child (its size grows with the group's pending
// entries, not with the stream's length).
//
// Blocking reads live in the command layer: the engine only answers whether
// there is something to serve now.

// StreamID is an entry ID, <ms>-<seq>.
type StreamID struct{ Ms, Seq uint64 }

// MaxStreamID is the largest possible ID ("+").
var MaxStreamID = StreamID{^uint64(0), ^uint64(0)}

func (id StreamID) String() string {
	return strconv.FormatUint(id.Ms, 10) + "-" + strconv.FormatUint(id.Seq, 10)
}

// Less orders IDs.
func (id StreamID) Less(o StreamID) bool {
	return id.Ms < o.Ms || id.Ms == o.Ms && id.Seq < o.Seq
}

// Cmp compares IDs (-1, 0, 1).
func (id StreamID) Cmp(o StreamID) int {
	switch {
	case id.Less(o):
		return -1
	case o.Less(id):
		return 1
	}
	return 0
}

// IsZero reports 0-0.
func (id StreamID) IsZero() bool { return id.Ms == 0 && id.Seq == 0 }

// Incr returns the next ID; false when id is the maximum.
func (id StreamID) Incr() (StreamID, bool) {
	if id.Seq == ^uint64(0) {
		if id.Ms == ^uint64(0) {
			return StreamID{}, false
		}
		return StreamID{id.Ms + 1, 0}, true
	}
	return StreamID{id.Ms, id.Seq + 1}, true
}

// Decr returns the previous ID; false when id is 0-0.
func (id StreamID) Decr() (StreamID, bool) {
	if id.Seq == 0 {
		if id.Ms == 0 {
			return StreamID{}, false
		}
		return StreamID{id.Ms - 1, ^uint64(0)}, true
	}
	return StreamID{id.Ms, id.Seq - 1}, true
}

func (id StreamID) bytes() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], id.Ms)
	binary.BigEndian.PutUint64(b[8:], id.Seq)
	return string(b[:])
}

func idFromBytes(s string) StreamID {
	return StreamID{binary.BigEndian.Uint64([]byte(s[:8])), binary.BigEndian.Uint64([]byte(s[8:16]))}
}

// Stream errors, in Redis' words.
var (
	ErrStreamIDSmall  = errors.New("ERR The ID specified in XADD is equal or smaller than the target stream top item")
	ErrStreamIDZero   = errors.New("ERR The ID specified in XADD must be greater than 0-0")
	ErrStreamExhaust  = errors.New("ERR The stream has exhausted the last possible ID, unable to add more items")
	ErrBusyGroup      = errors.New("BUSYGROUP Consumer Group name already exists")
	ErrXGroupNeedsKey = errors.New("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
)

// StreamMeta is a stream's metadata (XINFO STREAM).
type StreamMeta struct {
	Last, MaxDeleted, First StreamID
	Length, EntriesAdded    int64
}

// StreamEntry is one entry: its ID and field/value pairs (nil Fields: a
// pending entry that no longer exists).
type StreamEntry struct {
	ID     StreamID
	Fields []string
}

// StreamNACK is a pending entry of a group.
type StreamNACK struct {
	ID       StreamID
	Consumer string
	Time     int64 // last delivery, Unix ms
	Count    int64 // deliveries
}

// StreamConsumer is a consumer of a group.
type StreamConsumer struct {
	Name       string
	SeenTime   int64 // last interaction attempt, Unix ms
	ActiveTime int64 // last successful interaction, Unix ms (-1: never)
}

// StreamGroup is a consumer group.
type StreamGroup struct {
	Name        string
	LastID      StreamID
	EntriesRead int64 // -1: unknown
	Consumers   []StreamConsumer
	PEL         []StreamNACK // ordered by ID
}

type stream struct {
	r      Record
	exists bool
	meta   StreamMeta
	prefix string
}

func (m StreamMeta) encode() string {
	b := make([]byte, 0, 64)
	for _, id := range []StreamID{m.Last, m.MaxDeleted, m.First} {
		b = binary.BigEndian.AppendUint64(b, id.Ms)
		b = binary.BigEndian.AppendUint64(b, id.Seq)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(m.Length))
	b = binary.BigEndian.AppendUint64(b, uint64(m.EntriesAdded))
	return string(b)
}

func decodeStreamMeta(p string) StreamMeta {
	var m StreamMeta
	if len(p) < 64 {
		return m
	}
	m.Last, m.MaxDeleted, m.First = idFromBytes(p[0:]), idFromBytes(p[16:]), idFromBytes(p[32:])
	m.Length = int64(binary.BigEndian.Uint64([]byte(p[48:56])))
	m.EntriesAdded = int64(binary.BigEndian.Uint64([]byte(p[56:64])))
	return m
}

func (tx *Tx) openStream(db int, key string) (*stream, error) {
	r, ok, err := tx.lookupType(db, key, TypeStream)
	if err != nil {
		return nil, err
	}
	s := &stream{r: r, exists: ok, prefix: childPrefix(db, key)}
	if ok {
		s.meta = decodeStreamMeta(r.Payload)
	}
	return s, nil
}

func (tx *Tx) saveStream(db int, key string, s *stream) {
	if s.exists {
		tx.putRecord(s.r, s.meta.encode())
		return
	}
	tx.put(db, key, TypeStream, 0, s.meta.encode())
	s.r, _ = tx.Lookup(db, key)
	s.exists = true
}

func streamAppendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func streamReadStr(p string) (string, string, bool) {
	n, k := binary.Uvarint([]byte(p[:min(len(p), binary.MaxVarintLen64)]))
	if k <= 0 || uint64(len(p)-k) < n {
		return "", "", false
	}
	return p[k : k+int(n)], p[k+int(n):], true
}

func encodeFields(fields []string) string {
	b := binary.AppendUvarint(nil, uint64(len(fields)))
	for _, f := range fields {
		b = streamAppendStr(b, f)
	}
	return string(b)
}

func decodeFields(p string) []string {
	n, k := binary.Uvarint([]byte(p[:min(len(p), binary.MaxVarintLen64)]))
	if k <= 0 {
		return nil
	}
	p = p[k:]
	out := make([]string, 0, n)
	for i := uint64(0); i < n; i++ {
		var s string
		var ok bool
		if s, p, ok = streamReadStr(p); !ok {
			break
		}
		out = append(out, s)
	}
	return out
}

func (s *stream) entryKey(id StreamID) string { return s.prefix + "e" + id.bytes() }
func (s *stream) groupKey(name string) string { return s.prefix + "g" + name }

// XAddArgs are XADD's ID and trimming options.
type XAddArgs struct {
	ID         StreamID
	IDGiven    bool // an explicit ID (else "*")
	SeqGiven   bool // with IDGiven: the sequence part was given (else "<ms>-*")
	NoMkStream bool
	Trim       XTrimArgs
}

// XTrimArgs are the MAXLEN/MINID trimming options.
type XTrimArgs struct {
	Strategy byte // 0 none, 'M' MAXLEN, 'I' MINID
	MaxLen   int64
	MinID    StreamID
	Limit    int64 // 0: none
	// Node, when > 0, makes the trim approximate ("~") as Redis' is over
	// its radix tree of listpack nodes of Node entries each: only whole
	// nodes go. Nodes are emulated as runs of Node entries by insertion
	// order (the first live entry being entry EntriesAdded-Length).
	Node int64
}

// XAdd appends an entry and returns its ID; false when NOMKSTREAM and the
// key is missing.
func (tx *Tx) XAdd(db int, key string, a XAddArgs, fields []string) (StreamID, bool, error) {
	if a.IDGiven && a.SeqGiven && a.ID.IsZero() {
		return StreamID{}, false, ErrStreamIDZero
	}
	s, err := tx.openStream(db, key)
	if err != nil {
		return StreamID{}, false, err
	}
	if !s.exists && a.NoMkStream {
		return StreamID{}, false, nil
	}
	last := s.meta.Last
	if last == MaxStreamID {
		return StreamID{}, false, ErrStreamExhaust
	}
	var id StreamID
	switch {
	case !a.IDGiven:
		now := uint64(tx.Now)
		if now > last.Ms {
			id = StreamID{now, 0}
		} else {
			id, _ = last.Incr()
		}
	case !a.SeqGiven:
		switch {
		case a.ID.Ms == last.Ms:
			if last.Seq == ^uint64(0) {
				return StreamID{}, false, ErrStreamIDSmall
			}
			id = StreamID{last.Ms, last.Seq + 1}
		case a.ID.Ms > last.Ms:
			id = StreamID{a.ID.Ms, 0}
		default:
			return StreamID{}, false, ErrStreamIDSmall
		}
	default:
		if !last.Less(a.ID) {
			return StreamID{}, false, ErrStreamIDSmall
		}
		id = a.ID
	}
	_, _, _ = tx.bt.Set(s.entryKey(id), encodeFields(fields), nil)
	s.meta.Length++
	s.meta.EntriesAdded++
	s.meta.Last = id
	if s.meta.Length == 1 {
		s.meta.First = id
	}
	tx.Notify('t', "xadd", db, key)
	if a.Trim.Strategy != 0 && tx.trimStream(s, a.Trim) > 0 {
		tx.Notify('t', "xtrim", db, key)
	}
	tx.saveStream(db, key, s)
	return id, true, nil
}

// trimStream deletes entries from the head as MAXLEN/MINID asks.
func (tx *Tx) trimStream(s *stream, t XTrimArgs) int64 {
	if t.Node > 0 {
		return tx.trimStreamNodes(s, t)
	}
	var del []string
	tx.bt.AscendGreaterOrEqual("", s.prefix+"e", func(k, _ string) bool {
		if !strings.HasPrefix(k, s.prefix+"e") {
			return false
		}
		if t.Limit > 0 && int64(len(del)) >= t.Limit {
			return false
		}
		switch t.Strategy {
		case 'M':
			if s.meta.Length-int64(len(del)) <= t.MaxLen {
				return false
			}
		case 'I':
			if !idFromBytes(k[len(s.prefix)+1:]).Less(t.MinID) {
				return false
			}
		}
		del = append(del, k)
		return true
	})
	for _, k := range del {
		_, _ = tx.bt.Delete(k)
	}
	if len(del) > 0 {
		s.meta.Length -= int64(len(del))
		s.meta.First = tx.streamEdge(s, true)
		tx.wrote = true
	}
	return int64(len(del))
}

// trimStreamNodes is the approximate trim: whole emulated nodes from the
// head, while the stream keeps at least MaxLen entries (MAXLEN) or the
// node's last entry is below MinID (MINID), and at most Limit entries go.
func (tx *Tx) trimStreamNodes(s *stream, t XTrimArgs) int64 {
	var del, node []string
	var nodeLast StreamID
	idx := s.meta.EntriesAdded - s.meta.Length
	removed := int64(0)
	// take decides on a complete node: delete it, or stop trimming.
	take := func() bool {
		n := int64(len(node))
		if n == 0 {
			return true
		}
		if t.Limit > 0 && removed+n > t.Limit {
			return false
		}
		switch t.Strategy {
		case 'M':
			if s.meta.Length-removed-n < t.MaxLen {
				return false
			}
		case 'I':
			if !nodeLast.Less(t.MinID) {
				return false
			}
		}
		del = append(del, node...)
		removed += n
		node = node[:0]
		return true
	}
	p := s.prefix + "e"
	more := true
	tx.bt.AscendGreaterOrEqual("", p, func(k, _ string) bool {
		if !strings.HasPrefix(k, p) {
			return false
		}
		node = append(node, k)
		nodeLast = idFromBytes(k[len(p):])
		idx++
		if idx%t.Node == 0 {
			more = take()
			return more
		}
		return true
	})
	if more {
		take() // the tail node, partial
	}
	for _, k := range del {
		_, _ = tx.bt.Delete(k)
	}
	if len(del) > 0 {
		s.meta.Length -= int64(len(del))
		s.meta.First = tx.streamEdge(s, true)
		tx.wrote = true
	}
	return int64(len(del))
}

// streamEdge returns the first (or last) entry's ID; an empty stream gives
// the maximal ID for first and 0-0 for last, as Redis does.
func (tx *Tx) streamEdge(s *stream, first bool) StreamID {
	p := s.prefix + "e"
	var id StreamID
	found := false
	if first {
		tx.bt.AscendGreaterOrEqual("", p, func(k, _ string) bool {
			if strings.HasPrefix(k, p) {
				id, found = idFromBytes(k[len(p):]), true
			}
			return false
		})
		if !found {
			return MaxStreamID
		}
		return id
	}
	tx.bt.DescendLessOrEqual("", p+MaxStreamID.bytes(), func(k, _ string) bool {
		if strings.HasPrefix(k, p) {
			id, found = idFromBytes(k[len(p):]), true
		}
		return false
	})
	return id
}

// XTrim trims the stream and returns how many entries it deleted.
func (tx *Tx) XTrim(db int, key string, t XTrimArgs) (int64, error) {
	s, err := tx.openStream(db, key)
	if err != nil || !s.exists {
		return 0, err
	}
	n := tx.trimStream(s, t)
	if n > 0 {
		tx.saveStream(db, key, s)
		tx.Notify('t', "xtrim", db, key)
	}
	return n, nil
}

// XDel deletes entries by ID and returns how many existed.
func (tx *Tx) XDel(db int, key string, ids []StreamID) (int64, error) {
	s, err := tx.openStream(db, key)
	if err != nil || !s.exists {
		return 0, err
	}
	var n int64
	firstDeleted := false
	for _, id := range ids {
		if _, err := tx.bt.Delete(s.entryKey(id)); err != nil {
			continue
		}
		n++
		s.meta.Length--
		if id == s.meta.First {
			firstDeleted = true
		}
		if s.meta.MaxDeleted.Less(id) {
			s.meta.MaxDeleted = id
		}
	}
	if n > 0 {
		if s.meta.Length == 0 {
			s.meta.First = StreamID{}
		} else if firstDeleted {
			s.meta.First = tx.streamEdge(s, true)
		}
		tx.saveStream(db, key, s)
		tx.Notify('t', "xdel", db, key)
	}
	return n, nil
}

// XLen returns the number of entries.
func (tx *Tx) XLen(db int, key string) (int64, error) {
	s, err := tx.openStream(db, key)
	if err != nil {
		return 0, err
	}
	return s.meta.Length, nil
}

// XRange returns up to count (0: all) entries with start <= ID <= end, in
// reverse order with rev.
func (tx *Tx) XRange(db int, key string, start, end StreamID, count int64, rev bool) ([]StreamEntry, bool, error) {
	s, err := tx.openStream(db, key)
	if err != nil || !s.exists {
		return nil, false, err
	}
	return tx.streamRange(s, start, end, count, rev), true, nil
}

func (tx *Tx) streamRange(s *stream, start, end StreamID, count int64, rev bool) []StreamEntry {
	var out []StreamEntry
	if end.Less(start) {
		return nil
	}
	p := s.prefix + "e"
	lo, hi := p+start.bytes(), p+end.bytes()
	fn := func(k, v string) bool {
		if k < lo || k > hi {
			return false
		}
		out = append(out, StreamEntry{ID: idFromBytes(k[len(p):]), Fields: decodeFields(v)})
		return count <= 0 || int64(len(out)) < count
	}
	if rev {
		tx.bt.DescendLessOrEqual("", hi, fn)
	} else {
		tx.bt.AscendGreaterOrEqual("", lo, fn)
	}
	return out
}

// StreamInfo returns a stream's metadata, first and last entries and groups.
func (tx *Tx) StreamInfo(db int, key string) (StreamMeta, []StreamGroup, bool, error) {
	s, err := tx.openStream(db, key)
	if err != nil || !s.exists {
		return StreamMeta{}, nil, false, err
	}
	return s.meta, tx.streamGroups(s), true, nil
}

// StreamEntries returns up to count entries (0: all) from the head.
func (tx *Tx) StreamEntries(db int, key string, count int64, rev bool) []StreamEntry {
	s, err := tx.openStream(db, key)
	if err != nil || !s.exists {
		return nil
	}
	return tx.streamRange(s, StreamID{}, MaxStreamID, count, rev)
}

func (tx *Tx) streamGroups(s *stream) []StreamGroup {
	var out []StreamGroup
	p := s.prefix + "g"
	tx.bt.AscendGreaterOrEqual("", p, func(k, v string) bool {
		if !strings.HasPrefix(k, p) {
			return false
		}
		g := decodeGroup(v)
		g.Name = k[len(p):]
		out = append(out, g)
		return true
	})
	return out
}

func (g *StreamGroup) encode() string {
	b := make([]byte, 0, 64)
	b = binary.BigEndian.AppendUint64(b, g.LastID.Ms)
	b = binary.BigEndian.AppendUint64(b, g.LastID.Seq)
	b = binary.AppendVarint(b, g.EntriesRead)
	b = binary.AppendUvarint(b, uint64(len(g.Consumers)))
	for _, c := range g.Consumers {
		b = streamAppendStr(b, c.Name)
		b = binary.AppendVarint(b, c.SeenTime)
		b = binary.AppendVarint(b, c.ActiveTime)
	}
	b = binary.AppendUvarint(b, uint64(len(g.PEL)))
	for _, n := range g.PEL {
		b = binary.BigEndian.AppendUint64(b, n.ID.Ms)
		b = binary.BigEndian.AppendUint64(b, n.ID.Seq)
		b = streamAppendStr(b, n.Consumer)
		b = binary.AppendVarint(b, n.Time)
		b = binary.AppendVarint(b, n.Count)
	}
	return string(b)
}

func decodeGroup(p string) StreamGroup {
	var g StreamGroup
	if len(p) < 16 {
		return g
	}
	g.LastID = idFromBytes(p)
	b := []byte(p[16:])
	varint := func() int64 {
		v, k := binary.Varint(b)
		if k <= 0 {
			b = nil
			return 0
		}
		b = b[k:]
		return v
	}
	uvarint := func() uint64 {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			b = nil
			return 0
		}
		b = b[k:]
		return v
	}
	str := func() string {
		n := uvarint()
		if uint64(len(b)) < n {
			b = nil
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	g.EntriesRead = varint()
	for i, n := 0, uvarint(); uint64(i) < n && b != nil; i++ {
		c := StreamConsumer{Name: str()}
		c.SeenTime = varint()
		c.ActiveTime = varint()
		g.Consumers = append(g.Consumers, c)
	}
	for i, n := 0, uvarint(); uint64(i) < n && len(b) >= 16; i++ {
		nk := StreamNACK{ID: idFromBytes(string(b[:16]))}
		b = b[16:]
		nk.Consumer = str()
		nk.Time = varint()
		nk.Count = varint()
		g.PEL = append(g.PEL, nk)
	}
	return g
}

func (tx *Tx) loadGroup(s *stream, name string) (*StreamGroup, bool) {
	v, err := tx.bt.Get(s.groupKey(name))
	if err != nil {
		return nil, false
	}
	g := decodeGroup(v)
	g.Name = name
	return &g, true
}

func (tx *Tx) saveGroup(s *stream, g *StreamGroup) {
	_, _, _ = tx.bt.Set(s.groupKey(g.Name), g.encode(), nil)
	tx.putRecord(s.r, s.meta.encode()) // the record changes too (WATCH, COPY)
}

func (g *StreamGroup) consumer(name string) int {
	i := sort.Search(len(g.Consumers), func(i int) bool { return g.Consumers[i].Name >= name })
	if i < len(g.Consumers) && g.Consumers[i].Name == name {
		return i
	}
	return -1
}

// addConsumer adds a consumer (kept sorted by name) and returns its index.
func (g *StreamGroup) addConsumer(name string, now int64) int {
	i := sort.Search(len(g.Consumers), func(i int) bool { return g.Consumers[i].Name >= name })
	g.Consumers = append(g.Consumers, StreamConsumer{})
	copy(g.Consumers[i+1:], g.Consumers[i:])
	g.Consumers[i] = StreamConsumer{Name: name, SeenTime: now, ActiveTime: -1}
	return i
}

func (g *StreamGroup) nack(id StreamID) int {
	i := sort.Search(len(g.PEL), func(i int) bool { return !g.PEL[i].ID.Less(id) })
	if i < len(g.PEL) && g.PEL[i].ID == id {
		return i
	}
	return -1
}

func (g *StreamGroup) putNACK(n StreamNACK) {
	i := sort.Search(len(g.PEL), func(i int) bool { return !g.PEL[i].ID.Less(n.ID) })
	if i < len(g.PEL) && g.PEL[i].ID == n.ID {
		g.PEL[i] = n
		return
	}
	g.PEL = append(g.PEL, StreamNACK{})
	copy(g.PEL[i+1:], g.PEL[i:])
	g.PEL[i] = n
}

// estimateRead is Redis' streamEstimateDistanceFromFirstEverEntry.
func (m *StreamMeta) estimateRead(id StreamID) int64 {
	if m.EntriesAdded == 0 {
		return 0
	}
	if m.Length == 0 && id.Cmp(m.Last) < 1 {
		return m.EntriesAdded
	}
	switch id.Cmp(m.Last) {
	case 0:
		return m.EntriesAdded
	case 1:
		return -1
	}
	if m.MaxDeleted.IsZero() || m.MaxDeleted.Less(m.First) {
		switch id.Cmp(m.First) {
		case -1:
			return m.EntriesAdded - m.Length
		case 0:
			return m.EntriesAdded - m.Length + 1
		}
	}
	return -1
}

// hasTombstones is Redis' streamRangeHasTombstones(s, start, +).
func (m *StreamMeta) hasTombstones(start StreamID) bool {
	if m.Length == 0 || m.MaxDeleted.IsZero() || m.MaxDeleted.Less(m.First) {
		return false
	}
	return !m.MaxDeleted.Less(start)
}

// Lag is a group's lag (XINFO), false when it cannot be known.
func (m *StreamMeta) Lag(g *StreamGroup) (int64, bool) {
	if m.EntriesAdded == 0 {
		return 0, true
	}
	if g.EntriesRead != -1 && !m.hasTombstones(g.LastID) {
		return m.EntriesAdded - g.EntriesRead, true
	}
	if n := m.estimateRead(g.LastID); n != -1 {
		return m.EntriesAdded - n, true
	}
	return 0, false
}

// XGroupCreate creates a group at id ("$" is resolved by lastID=true).
func (tx *Tx) XGroupCreate(db int, key, name string, id StreamID, useLast, mkstream bool, entriesRead int64) error {
	s, err := tx.openStream(db, key)
	if err != nil {
		return err
	}
	if !s.exists && !mkstream {
		return ErrXGroupNeedsKey
	}
	if useLast {
		id = s.meta.Last
	}
	if !s.exists {
		tx.saveStream(db, key, s)
	}
	if _, ok := tx.loadGroup(s, name); ok {
		return ErrBusyGroup
	}
	tx.saveGroup(s, &StreamGroup{Name: name, LastID: id, EntriesRead: entriesRead})
	tx.Notify('t', "xgroup-create", db, key)
	return nil
}

// ErrNoGroup builds the NOGROUP error of XGROUP.
func ErrNoGroup(key, group string) error {
	return fmt.Errorf("NOGROUP No such consumer group '%s' for key name '%s'", group, key)
}

func (tx *Tx) streamAndGroup(db int, key, group string) (*stream, *StreamGroup, error) {
	s, err := tx.openStream(db, key)
	if err != nil {
		return nil, nil, err
	}
	if !s.exists {
		return nil, nil, ErrXGroupNeedsKey
	}
	g, ok := tx.loadGroup(s, group)
	if !ok {
		return s, nil, ErrNoGroup(key, group)
	}
	return s, g, nil
}

// XGroupSetID moves a group's last delivered ID.
func (tx *Tx) XGroupSetID(db int, key, group string, id StreamID, useLast bool, entriesRead int64) error {
	s, g, err := tx.streamAndGroup(db, key, group)
	if err != nil {
		return err
	}
	if useLast {
		id = s.meta.Last
	}
	g.LastID, g.EntriesRead = id, entriesRead
	tx.saveGroup(s, g)
	tx.Notify('t', "xgroup-setid", db, key)
	return nil
}

// XGroupDestroy deletes a group; false if it did not exist.
func (tx *Tx) XGroupDestroy(db int, key, group string) (bool, error) {
	s, err := tx.openStream(db, key)
	if err != nil {
		return false, err
	}
	if !s.exists {
		return false, ErrXGroupNeedsKey
	}
	if _, err := tx.bt.Delete(s.groupKey(group)); err != nil {
		return false, nil
	}
	tx.putRecord(s.r, s.meta.encode())
	tx.Notify('t', "xgroup-destroy", db, key)
	return true, nil
}

// XGroupCreateConsumer adds a consumer; false if it existed.
func (tx *Tx) XGroupCreateConsumer(db int, key, group, consumer string) (bool, error) {
	s, g, err := tx.streamAndGroup(db, key, group)
	if err != nil {
		return false, err
	}
	if g.consumer(consumer) >= 0 {
		return false, nil
	}
	g.addConsumer(consumer, tx.Now)
	tx.saveGroup(s, g)
	tx.Notify('t', "xgroup-createconsumer", db, key)
	return true, nil
}

// XGroupDelConsumer deletes a consumer and its pending entries, returning
// how many were pending.
func (tx *Tx) XGroupDelConsumer(db int, key, group, consumer string) (int64, error) {
	s, g, err := tx.streamAndGroup(db, key, group)
	if err != nil {
		return 0, err
	}
	i := g.consumer(consumer)
	if i < 0 {
		return 0, nil
	}
	g.Consumers = append(g.Consumers[:i], g.Consumers[i+1:]...)
	var n int64
	pel := g.PEL[:0]
	for _, nk := range g.PEL {
		if nk.Consumer == consumer {
			n++
			continue
		}
		pel = append(pel, nk)
	}
	g.PEL = pel
	tx.saveGroup(s, g)
	tx.Notify('t', "xgroup-delconsumer", db, key)
	return n, nil
}

// XReadGroupArgs is one stream of an XREADGROUP.
type XReadGroupArgs struct {
	Group, Consumer string
	After           StreamID // entries after this ID from the consumer's history
	New             bool     // ">": entries never delivered to the group
	Count           int64    // 0: all
	NoAck           bool
}

// ErrNoGroupRead is XREADGROUP's NOGROUP error.
func ErrNoGroupRead(key, group string) error {
	return fmt.Errorf("NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option", key, group)
}

// XReadGroupCheck reports the NOGROUP (or WRONGTYPE) error XREADGROUP gives
// for key before reading anything.
func (tx *Tx) XReadGroupCheck(db int, key, group string) error {
	s, err := tx.openStream(db, key)
	if err != nil {
		return err
	}
	if !s.exists {
		return ErrNoGroupRead(key, group)
	}
	if _, ok := tx.loadGroup(s, group); !ok {
		return ErrNoGroupRead(key, group)
	}
	return nil
}

// XReadGroup serves one stream of an XREADGROUP. served is false when there
// was nothing to serve (">" with no new entries).
func (tx *Tx) XReadGroup(db int, key string, a XReadGroupArgs) (entries []StreamEntry, served bool, err error) {
	s, g, err := tx.streamAndGroup(db, key, a.Group)
	if err != nil {
		return nil, false, ErrNoGroupRead(key, a.Group)
	}
	now := tx.Now
	if a.New && (s.meta.Length == 0 || !g.LastID.Less(tx.streamEdge(s, false))) {
		return nil, false, nil // nothing new: Redis does not even create the consumer
	}
	ci := g.consumer(a.Consumer)
	if ci < 0 {
		ci = g.addConsumer(a.Consumer, now)
		tx.Notify('t', "xgroup-createconsumer", db, key)
	}
	g.Consumers[ci].SeenTime = now
	if !a.New {
		// The consumer's history: its pending entries after a.After.
		start, ok := a.After.Incr()
		if !ok {
			tx.saveGroup(s, g)
			return nil, true, nil
		}
		for i := range g.PEL {
			nk := &g.PEL[i]
			if nk.Consumer != a.Consumer || nk.ID.Less(start) {
				continue
			}
			if a.Count > 0 && int64(len(entries)) >= a.Count {
				break
			}
			v, err := tx.bt.Get(s.entryKey(nk.ID))
			if err != nil {
				entries = append(entries, StreamEntry{ID: nk.ID})
				continue
			}
			entries = append(entries, StreamEntry{ID: nk.ID, Fields: decodeFields(v)})
			nk.Time = now
			nk.Count++
		}
		if len(entries) > 0 {
			g.Consumers[ci].ActiveTime = now
		}
		tx.saveGroup(s, g)
		return entries, true, nil
	}
	start, _ := g.LastID.Incr()
	entries = tx.streamRange(s, start, MaxStreamID, a.Count, false)
	for _, e := range entries {
		if g.EntriesRead != -1 && !s.meta.hasTombstones(e.ID) {
			g.EntriesRead++
		} else if s.meta.EntriesAdded != 0 {
			g.EntriesRead = s.meta.estimateRead(e.ID)
		}
		g.LastID = e.ID
		if !a.NoAck {
			g.putNACK(StreamNACK{ID: e.ID, Consumer: a.Consumer, Time: now, Count: 1})
		}
	}
	if len(entries) > 0 {
		g.Consumers[ci].ActiveTime = now
	}
	tx.saveGroup(s, g)
	return entries, len(entries) > 0, nil
}

// XAck acknowledges entries and returns how many were pending.
func (tx *Tx) XAck(db int, key, group string, ids []StreamID) (int64, error) {
	s, err := tx.openStream(db, key)
	if err != nil || !s.exists {
		return 0, err
	}
	g, ok := tx.loadGroup(s, group)
	if !ok {
		return 0, nil
	}
	var n int64
	for _, id := range ids {
		if i := g.nack(id); i >= 0 {
			g.PEL = append(g.PEL[:i], g.PEL[i+1:]...)
			n++
		}
	}
	if n > 0 {
		tx.saveGroup(s, g)
	}
	return n, nil
}

// XGroup returns one group (XPENDING).
func (tx *Tx) XGroup(db int, key, group string) (*StreamGroup, error) {
	s, err := tx.openStream(db, key)
	if err != nil {
		return nil, err
	}
	if !s.exists {
		return nil, ErrNoGroupPending(key, group)
	}
	g, ok := tx.loadGroup(s, group)
	if !ok {
		return nil, ErrNoGroupPending(key, group)
	}
	return g, nil
}

// ErrNoGroupPending is XPENDING's NOGROUP error.
func ErrNoGroupPending(key, group string) error {
	return fmt.Errorf("NOGROUP No such key '%s' or consumer group '%s'", key, group)
}

// StreamLastID returns the stream's last ID (XREAD $); zero when missing.
func (tx *Tx) StreamLastID(db int, key string) (StreamID, error) {
	s, err := tx.openStream(db, key)
	if err != nil {
		return StreamID{}, err
	}
	return s.meta.Last, nil
}

// XClaimArgs are XCLAIM's arguments, parsed and resolved by the caller.
type XClaimArgs struct {
	Group, Consumer string
	MinIdle         int64 // ms; 0 claims regardless of idle time
	IDs             []StreamID
	DeliveryTime    int64 // Unix ms the claimed entries are marked delivered at
	RetryCount      int64 // -1: not given (the delivery count is incremented unless JustID)
	Force, JustID   bool
	LastID          StreamID // raise the group's last delivered ID to this
}

// claim hands the pending entry nk (a new one when fresh, from FORCE) to
// consumer, as Redis' XCLAIM and XAUTOCLAIM do, creating the consumer when
// it does not exist yet.
func (tx *Tx) claim(g *StreamGroup, nk *StreamNACK, consumer string, deliveryTime, retryCount int64, justID bool, db int, key string) {
	ci := g.consumer(consumer)
	if ci < 0 {
		ci = g.addConsumer(consumer, tx.Now)
		tx.Notify('t', "xgroup-createconsumer", db, key)
	}
	g.Consumers[ci].SeenTime = tx.Now
	g.Consumers[ci].ActiveTime = tx.Now
	nk.Time = deliveryTime
	if retryCount >= 0 {
		nk.Count = retryCount
	} else if !justID {
		nk.Count++
	}
	nk.Consumer = consumer
}

// XClaim changes the owner of pending entries and returns the claimed
// entries (IDs only, Fields nil, with JustID). Entries deleted from the
// stream are dropped from the pending list; with Force, entries of the
// stream that are not pending are added to it. A missing key or group is
// XPENDING's NOGROUP error.
func (tx *Tx) XClaim(db int, key string, a XClaimArgs) ([]StreamEntry, error) {
	s, err := tx.openStream(db, key)
	if err != nil {
		return nil, err
	}
	if !s.exists {
		return nil, ErrNoGroupPending(key, a.Group)
	}
	g, ok := tx.loadGroup(s, a.Group)
	if !ok {
		return nil, ErrNoGroupPending(key, a.Group)
	}
	changed := false
	if g.LastID.Less(a.LastID) {
		g.LastID, changed = a.LastID, true
	}
	now := tx.Now
	var out []StreamEntry
	for _, id := range a.IDs {
		i := g.nack(id)
		v, err := tx.bt.Get(s.entryKey(id))
		if err != nil {
			if i >= 0 { // the entry is gone: so is its pending record
				g.PEL = append(g.PEL[:i], g.PEL[i+1:]...)
				changed = true
			}
			continue
		}
		fresh := false
		if i < 0 {
			if !a.Force {
				continue
			}
			g.putNACK(StreamNACK{ID: id, Time: now, Count: 1})
			i, fresh = g.nack(id), true
		}
		nk := &g.PEL[i]
		if !fresh && a.MinIdle > 0 && now-nk.Time < a.MinIdle {
			continue
		}
		tx.claim(g, nk, a.Consumer, a.DeliveryTime, a.RetryCount, a.JustID, db, key)
		changed = true
		e := StreamEntry{ID: id}
		if !a.JustID {
			e.Fields = decodeFields(v)
		}
		out = append(out, e)
	}
	if changed {
		tx.saveGroup(s, g)
	}
	return out, nil
}

// XAutoClaim claims up to count pending entries from start on whose idle
// time is at least minIdle, examining at most 10*count entries. It returns
// the ID to continue from (0-0 at the end), the claimed entries (IDs only
// with justID) and the IDs of pending entries dropped because the stream no
// longer holds them.
func (tx *Tx) XAutoClaim(db int, key, group, consumer string, minIdle int64, start StreamID, count int64, justID bool) (next StreamID, claimed []StreamEntry, deleted []StreamID, err error) {
	s, err := tx.openStream(db, key)
	if err != nil {
		return next, nil, nil, err
	}
	if !s.exists {
		return next, nil, nil, ErrNoGroupPending(key, group)
	}
	g, ok := tx.loadGroup(s, group)
	if !ok {
		return next, nil, nil, ErrNoGroupPending(key, group)
	}
	now := tx.Now
	i := sort.Search(len(g.PEL), func(i int) bool { return !g.PEL[i].ID.Less(start) })
	attempts := count * 10
	changed := false
	for attempts > 0 && count > 0 && i < len(g.PEL) {
		attempts--
		nk := &g.PEL[i]
		v, err := tx.bt.Get(s.entryKey(nk.ID))
		if err != nil {
			deleted = append(deleted, nk.ID)
			g.PEL = append(g.PEL[:i], g.PEL[i+1:]...)
			changed = true
			count--
			continue
		}
		if minIdle > 0 && now-nk.Time < minIdle {
			i++
			continue
		}
		tx.claim(g, nk, consumer, now, -1, justID, db, key)
		changed = true
		e := StreamEntry{ID: nk.ID}
		if !justID {
			e.Fields = decodeFields(v)
		}
		claimed = append(claimed, e)
		i++
		count--
	}
	if i < len(g.PEL) {
		next = g.PEL[i].ID
	}
	if changed {
		tx.saveGroup(s, g)
	}
	return next, claimed, deleted, nil
}

// XReadBlockedState reports, for a client blocked in XREADGROUP, whether
// key still holds a stream and whether the group exists.
func (tx *Tx) XReadBlockedState(db int, key, group string) (isStream, hasGroup bool) {
	s, err := tx.openStream(db, key)
	if err != nil || !s.exists {
		return false, false
	}
	_, ok := tx.loadGroup(s, group)
	return true, ok
}

// XSetID sets a stream's last ID and, when entriesAdded is not -1 and
// maxDeleted not 0-0, its entries-added counter and maximal deleted ID
// (Redis 7.0's XSETID). A missing key is ErrNoSuchKey.
func (tx *Tx) XSetID(db int, key string, id StreamID, entriesAdded int64, maxDeleted StreamID) error {
	s, err := tx.openStream(db, key)
	if err != nil {
		return err
	}
	if !s.exists {
		return ErrNoSuchKey
	}
	if s.meta.Length > 0 {
		if id.Less(tx.streamEdge(s, false)) {
			return errors.New("ERR The ID specified in XSETID is smaller than the target stream top item")
		}
		if entriesAdded != -1 && s.meta.Length > entriesAdded {
			return errors.New("ERR The entries_added specified in XSETID is smaller than the target stream length")
		}
	}
	s.meta.Last = id
	if entriesAdded != -1 {
		s.meta.EntriesAdded = entriesAdded
	}
	if !maxDeleted.IsZero() {
		s.meta.MaxDeleted = maxDeleted
	}
	tx.saveStream(db, key, s)
	tx.Notify('t', "xsetid", db, key)
	return nil
}
