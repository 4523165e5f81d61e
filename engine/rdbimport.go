package engine

import (
	"errors"

	"github.com/sessiond/sessiond/rdb"
)

// ErrBadDumpFormat is RESTORE's error for a Redis payload whose checksum
// is right but whose content cannot be decoded, in Redis' words.
var ErrBadDumpFormat = errorString("ERR Bad data format")

// decodeRedisDump decodes a Redis DUMP payload (RDB object format), with
// RESTORE's errors.
func decodeRedisDump(payload string) (rdb.Value, error) {
	v, err := rdb.Decode([]byte(payload))
	switch {
	case errors.Is(err, rdb.ErrChecksum):
		return v, ErrBadDump
	case err != nil:
		return v, ErrBadDumpFormat
	}
	return v, nil
}

// restoreRedis creates key from a decoded Redis DUMP payload: values
// DUMPed by Redis restore here, and MIGRATE from Redis lands here. The
// caller has removed any old key and checked the deadline.
func (tx *Tx) restoreRedis(db int, key string, v rdb.Value, deadline int64) error {
	var err error
	// The value is built with the commands' own writes; their events are
	// dropped: RESTORE's one event is "restore".
	events := len(tx.commit.Events)
	defer func() { tx.commit.Events = tx.commit.Events[:events] }()
	switch v.Kind {
	case rdb.String:
		_, err = tx.Set(db, key, v.Str, SetOptions{})
	case rdb.List:
		_, err = tx.ListPush(db, key, v.Members, false, false)
	case rdb.Set:
		_, err = tx.SAdd(db, key, v.Members)
	case rdb.ZSet:
		items := make([]ScoreMember, len(v.Scores))
		for i, s := range v.Scores {
			items[i] = ScoreMember{Score: s.Score, Member: s.Member}
		}
		_, err = tx.ZAdd(db, key, ZAddOptions{}, items)
	case rdb.Hash:
		_, err = tx.HSet(db, key, v.Pairs, false)
	case rdb.Stream:
		tx.restoreStream(db, key, v.Stream)
	}
	if err != nil {
		return err
	}
	if deadline != 0 {
		tx.SetDeadline(db, key, deadline)
	}
	return nil
}

func streamID(id rdb.ID) StreamID { return StreamID{Ms: id.Ms, Seq: id.Seq} }

// restoreStream writes a decoded stream: its entries, metadata and groups.
// A Redis 6 payload lacks the first ID, max deleted ID, entries added and
// groups' entries read: they are derived as Redis 7 does when it loads one
// (entries added = length, entries read estimated from the group's ID).
func (tx *Tx) restoreStream(db int, key string, v *rdb.StreamValue) {
	s := &stream{prefix: childPrefix(db, key)}
	s.meta = StreamMeta{Last: streamID(v.Last), First: streamID(v.First), MaxDeleted: streamID(v.MaxDeleted),
		Length: int64(v.Length), EntriesAdded: int64(v.EntriesAdded)}
	if v.V1 {
		s.meta.EntriesAdded = s.meta.Length
		s.meta.MaxDeleted = StreamID{}
		s.meta.First = StreamID{}
		if len(v.Entries) > 0 {
			s.meta.First = streamID(v.Entries[0].ID)
		}
	}
	tx.saveStream(db, key, s)
	for _, e := range v.Entries {
		_, _, _ = tx.bt.Set(s.entryKey(streamID(e.ID)), encodeFields(e.Fields), nil)
	}
	for _, g := range v.Groups {
		sg := &StreamGroup{Name: g.Name, LastID: streamID(g.LastID), EntriesRead: g.EntriesRead}
		if v.V1 {
			sg.EntriesRead = s.meta.estimateRead(sg.LastID)
		}
		for _, c := range g.Consumers {
			sg.Consumers = append(sg.Consumers, StreamConsumer{Name: c.Name, SeenTime: c.SeenTime, ActiveTime: c.ActiveTime})
		}
		for _, p := range g.PEL {
			sg.putNACK(StreamNACK{ID: streamID(p.ID), Consumer: p.Consumer, Time: p.DeliveryTime, Count: int64(p.DeliveryCount)})
		}
		tx.saveGroup(s, sg)
	}
	tx.wrote = true
}

// dumpRedis serializes a string, list, set, sorted set, hash or stream in
// Redis' DUMP format (rdb.Encode), which Redis' RESTORE reads, so that DUMP
// and MIGRATE reach redis-server too. It reports false for anything else,
// which keeps sessiond's own format.
func (tx *Tx) dumpRedis(r Record) (string, bool) {
	var v rdb.Value
	switch r.Type {
	case TypeString:
		v = rdb.Value{Kind: rdb.String, Str: r.Payload}
	case TypeList:
		items, err := tx.ListRange(r.DB, r.Key, 0, -1)
		if err != nil {
			return "", false
		}
		v = rdb.Value{Kind: rdb.List, Members: items}
	case TypeSet, TypeZSet:
		c, err := tx.openComp(r.DB, r.Key, r.Type)
		if err != nil {
			return "", false
		}
		if r.Type == TypeSet {
			v.Kind = rdb.Set
			c.each(subMember, func(m, _ string) bool { v.Members = append(v.Members, m); return true })
		} else {
			v.Kind = rdb.ZSet
			c.each(subMember, func(m, s string) bool {
				v.Scores = append(v.Scores, rdb.Scored{Member: m, Score: scoreOf(s)})
				return true
			})
		}
	case TypeHash:
		fields, vals, err := tx.HGetAll(r.DB, r.Key)
		if err != nil {
			return "", false
		}
		v.Kind = rdb.Hash
		for i := range fields {
			v.Pairs = append(v.Pairs, fields[i], vals[i])
		}
	case TypeStream:
		v = rdb.Value{Kind: rdb.Stream, Stream: tx.redisStream(r.DB, r.Key)}
		if v.Stream == nil {
			return "", false
		}
	default:
		return "", false
	}
	p, err := rdb.Encode(v)
	return string(p), err == nil
}

func rdbID(id StreamID) rdb.ID { return rdb.ID{Ms: id.Ms, Seq: id.Seq} }

// redisStream reads a stream as rdb describes one.
func (tx *Tx) redisStream(db int, key string) *rdb.StreamValue {
	meta, groups, ok, err := tx.StreamInfo(db, key)
	if err != nil || !ok {
		return nil
	}
	s := &rdb.StreamValue{Length: uint64(meta.Length), Last: rdbID(meta.Last), First: rdbID(meta.First),
		MaxDeleted: rdbID(meta.MaxDeleted), EntriesAdded: uint64(meta.EntriesAdded)}
	for _, e := range tx.StreamEntries(db, key, 0, false) {
		s.Entries = append(s.Entries, rdb.Entry{ID: rdbID(e.ID), Fields: e.Fields})
	}
	if uint64(len(s.Entries)) != s.Length {
		return nil // not what the record says: keep sessiond's format
	}
	for _, g := range groups {
		rg := rdb.Group{Name: g.Name, LastID: rdbID(g.LastID), EntriesRead: g.EntriesRead}
		for _, c := range g.Consumers {
			rg.Consumers = append(rg.Consumers, rdb.Consumer{Name: c.Name, SeenTime: c.SeenTime, ActiveTime: c.ActiveTime})
		}
		for _, n := range g.PEL {
			rg.PEL = append(rg.PEL, rdb.Pending{ID: rdbID(n.ID), Consumer: n.Consumer, DeliveryTime: n.Time, DeliveryCount: uint64(n.Count)})
		}
		s.Groups = append(s.Groups, rg)
	}
	return s
}
