package engine

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"

	"github.com/sessiond/sessiond/persistence"
)

// CheckProblem is something in a data file that CheckFile cannot account
// for: a record it cannot decode, or a native record that disagrees with
// the records that index it.
type CheckProblem struct {
	Offset int64  // of the set record that wrote the item (-1: the item is missing)
	Item   string // the buntdb key, quoted
	What   string
}

func (p CheckProblem) String() string {
	if p.Offset < 0 {
		return fmt.Sprintf("%s: %s", p.Item, p.What)
	}
	return fmt.Sprintf("offset %d: %s: %s", p.Offset, p.Item, p.What)
}

// CheckReport is the result of CheckFile.
type CheckReport struct {
	Items    int // items the file loads to
	Sessions int
	Problems []CheckProblem
}

// maxProblems bounds the problems CheckFile lists (it counts them all).
const maxProblems = 100

// CheckFile loads the data file at path as Open would (up to end: the end of
// its loadable records, see persistence.Check), without a server: it decodes
// every record (the header of every top-level record, and each native
// record with its own decoder) and cross-checks the native records with
// their indexes: every session has its current token's entry, its owner
// index entry and, when detached, its detached index entry; every index
// entry, token entry and child of a session has its session; every child of
// a key has a parent of a type with children. It reports what it cannot
// account for, first problem first. The file must not be open by a server.
func CheckFile(path string, end int64) (CheckReport, int, error) {
	var rep CheckReport
	type item struct {
		val string
		off int64
	}
	items := map[string]item{}
	if _, err := persistence.Scan(path, func(rec *persistence.Record) bool {
		if rec.End > end {
			return false
		}
		switch rec.Op {
		case "set":
			items[string(rec.Key)] = item{string(rec.Value), rec.Offset}
		case "del":
			delete(items, string(rec.Key))
		case "flushdb":
			clear(items)
		}
		return true
	}); err != nil {
		return rep, 0, err
	}
	rep.Items = len(items)
	total := 0
	add := func(off int64, key, format string, args ...any) {
		total++
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, CheckProblem{off, strconv.Quote(key), fmt.Sprintf(format, args...)})
		}
	}
	get := func(k string) (string, bool) {
		it, ok := items[k]
		return it.val, ok
	}
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return items[keys[i]].off < items[keys[j]].off })
	for _, k := range keys {
		it := items[k]
		switch {
		case k == persistence.CommitMarkerKey:
			add(it.off, k, "a commit marker that exists (it is always deleted)")
		case len(k) >= 2 && k[0] == 'k':
			checkTop(k, it.val, it.off, get, add, &rep)
		case len(k) >= 2 && k[0] == 'c':
			checkChild(k, it.off, get, add)
		default:
			add(it.off, k, "not a record of sessiond (a key must start with k or c)")
		}
	}
	return rep, total, nil
}

type getFn func(string) (string, bool)
type addFn func(off int64, key, format string, args ...any)

// nativeTypes maps each reserved database to the record type its top-level
// records have (0: any of the family's, not checked further).
var nativeTypes = map[byte]byte{
	dbSession: TypeSession, dbSessionToken: TypeSessionToken,
	dbToken: TypeToken, dbJWTKey: TypeJWTKey, dbJWTState: TypeJWTState,
	dbRefresh: TypeRefreshToken, dbRefreshFamily: TypeRefreshFamily,
}

func checkTop(k, val string, off int64, get getFn, add addFn, rep *CheckReport) {
	db := k[1]
	if _, native := nativeTypes[db]; len(val) < headerLen && (db < dbSession || native) {
		add(off, k, "record shorter than its %d-byte header", headerLen)
		return
	}
	if len(val) < headerLen {
		return // a family's own small record (counters, lists): not decoded here
	}
	r := decodeRecord(k, val)
	if db < dbSession {
		switch r.Type {
		case TypeString, TypeHash, TypeSet, TypeZSet, TypeList, TypeStream:
		default:
			add(off, k, "unknown record type %q in database %d", r.Type, db)
			return
		}
		if r.Type == TypeStream {
			decodeStreamMeta(r.Payload) // must not panic on what is there
		}
		return
	}
	if want, ok := nativeTypes[db]; ok && r.Type != want {
		add(off, k, "record type %q in the reserved database 0x%X (want %q)", r.Type, db, want)
		return
	}
	switch db {
	case dbSession:
		rep.Sessions++
		s, ok := decodeSession(r.Key, r.Payload)
		if !ok {
			add(off, k, "session record that cannot be decoded")
			return
		}
		tv, ok := get(sessTokenKey(s.TokenHash))
		if !ok {
			add(off, k, "session whose current token has no entry")
		} else if te, ok := decodeTokenEntry(decodeRecord("", tv).Payload); !ok || te.state != tokCurrent || te.handle != s.Handle {
			add(off, k, "session whose current token's entry is not its own current entry")
		}
		if s.Owner != "" {
			if _, ok := get(sessOwnerPrefix(dbSessionOwner, s.Owner) + s.Handle); !ok {
				add(off, k, "session of owner %q missing from the owner index", s.Owner)
			}
		}
		if s.Detached {
			if _, ok := get(sessOwnerPrefix(dbSessionDet, s.Owner) + s.Handle); !ok {
				add(off, k, "detached session missing from the detached index")
			}
		}
		if !s.inline {
			if _, ok := get(sessChild(s.Handle, "d")); !ok {
				add(off, k, "session whose data blob is missing")
			}
		}
	case dbSessionToken:
		te, ok := decodeTokenEntry(r.Payload)
		if !ok {
			add(off, k, "session token entry that cannot be decoded")
			return
		}
		if te.state == tokRevoked {
			return // a tombstone outlives its session
		}
		sv, ok := get(sessionKey(te.handle))
		if !ok {
			add(off, k, "token entry of a session that does not exist")
			return
		}
		if te.state == tokCurrent {
			if s, ok := decodeSession(te.handle, decodeRecord("", sv).Payload); ok && sessTokenKey(s.TokenHash) != k {
				add(off, k, "current token entry that is not its session's current token")
			}
		}
	case dbToken:
		if _, ok := decodeTok(r.Payload); !ok {
			add(off, k, "token record that cannot be decoded")
		}
	case dbRefresh:
		if _, ok := decodeRefreshEntry(r.Payload); !ok {
			add(off, k, "refresh token entry that cannot be decoded")
		}
	case dbRefreshFamily:
		if _, ok := decodeRefreshFamily(r.Payload); !ok {
			add(off, k, "refresh family that cannot be decoded")
		}
	case dbJWTKey:
		if _, ok := decodeSigningKey(r.Key, r); !ok {
			add(off, k, "signing key that cannot be decoded")
		}
	}
}

// parentOf splits a child item "c" db uvarint(len) key rest into its
// parent's top-level item key.
func parentOf(k string) (string, bool) {
	n, w := binary.Uvarint([]byte(k[2:min(len(k), 2+binary.MaxVarintLen64)]))
	if w <= 0 || uint64(len(k)-2-w) < n {
		return "", false
	}
	return itemKey(int(k[1]), k[2+w:2+w+int(n)]), true
}

func checkChild(k string, off int64, get getFn, add addFn) {
	db := k[1]
	switch {
	case db < dbSession:
		parent, ok := parentOf(k)
		if !ok {
			add(off, k, "child record whose key cannot be decoded")
			return
		}
		pv, ok := get(parent)
		if !ok {
			add(off, k, "child record of a key that does not exist")
			return
		}
		if len(pv) < headerLen || !composite(pv[0]) {
			add(off, k, "child record of a key that has no children")
		}
	case db == dbSession:
		parent, ok := parentOf(k)
		if !ok {
			add(off, k, "session child record whose key cannot be decoded")
			return
		}
		if _, ok := get(parent); !ok {
			add(off, k, "child record of a session that does not exist")
		}
	case db == dbSessionOwner || db == dbSessionDet:
		prefixEnd, ok := parentOf(k) // "k" db owner: the owner's part
		if !ok {
			add(off, k, "index entry whose key cannot be decoded")
			return
		}
		owner := prefixEnd[2:]
		handle := k[len(sessOwnerPrefix(int(db), owner)):]
		sv, ok := get(sessionKey(handle))
		if !ok {
			add(off, k, "index entry of a session that does not exist")
			return
		}
		s, ok := decodeSession(handle, decodeRecord("", sv).Payload)
		if !ok {
			return // reported with the session
		}
		if s.Owner != owner {
			add(off, k, "index entry under owner %q of a session of owner %q", owner, s.Owner)
		}
		if db == dbSessionDet && !s.Detached {
			add(off, k, "detached index entry of a session that is attached")
		}
	}
}

// headerOK reports whether a top-level record's header decodes: long enough,
// and a record type its database holds. Open refuses a file with one that
// does not (see damagedRecordError).
func headerOK(k, v string) bool {
	if len(k) < 2 || (len(v) < headerLen && k[1] <= dbSessionToken) {
		return false
	}
	db, t := k[1], v[0]
	switch {
	case db < dbSession:
		switch t {
		case TypeString, TypeHash, TypeSet, TypeZSet, TypeList, TypeStream:
			return true
		}
		return false
	case db == dbSession:
		return t == TypeSession
	case db == dbSessionToken:
		return t == TypeSessionToken
	}
	return true // the other families' records are checked by CheckFile
}

// damagedRecordError says which record of the data file cannot be decoded,
// and where, for Open to refuse the file with.
func damagedRecordError(path, item string) error {
	where := ""
	if path != ":memory:" {
		_, _ = persistence.Scan(path, func(rec *persistence.Record) bool {
			if rec.Op == "set" && string(rec.Key) == item {
				where = fmt.Sprintf(" at offset %d", rec.Offset)
			}
			return true
		})
	}
	return fmt.Errorf("load %s: the record of %q%s cannot be decoded (damaged header or unknown record type); run `sessiond check %s` to list what cannot be accounted for, and restore the file from a backup or remove the record", path, item, where, path)
}
