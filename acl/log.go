package acl

import (
	"sync"
	"time"
)

// LogEntry is one ACL LOG entry: a denied command, key, channel or a failed
// authentication. Repeats within a minute are counted on one entry.
type LogEntry struct {
	ID         int64
	Count      int64
	Reason     string // command, key, channel, auth
	Context    string // toplevel, multi, lua
	Object     string // the command, key, channel, or "AUTH"
	Username   string
	Created    time.Time
	Updated    time.Time
	ClientInfo string // CLIENT LIST line of the client, as Redis
}

// groupWindow: a denial matching an entry updated this recently is counted
// on it instead of adding one (Redis' ACL_LOG_GROUPING_MAX_TIME_DELTA).
const groupWindow = 60 * time.Second

// Log is the ACL LOG: newest first, at most a configured number of entries.
type Log struct {
	mu      sync.Mutex
	entries []*LogEntry
	nextID  int64
}

// Add records a denial at now and trims the log to max entries.
func (l *Log) Add(e LogEntry, now time.Time, max int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, cur := range l.entries {
		if i >= 10 {
			break
		}
		if cur.Reason == e.Reason && cur.Context == e.Context && cur.Object == e.Object &&
			cur.Username == e.Username && now.Sub(cur.Updated) <= groupWindow {
			cur.Count++
			cur.Updated = now
			cur.ClientInfo = e.ClientInfo
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = cur
			return
		}
	}
	e.ID = l.nextID
	l.nextID++
	e.Count = 1
	e.Created, e.Updated = now, now
	l.entries = append([]*LogEntry{&e}, l.entries...)
	if max >= 0 && len(l.entries) > max {
		l.entries = l.entries[:max]
	}
}

// Entries returns copies of up to n entries, newest first (n < 0: all).
func (l *Log) Entries(n int) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	out := make([]LogEntry, n)
	for i := range out {
		out[i] = *l.entries[i]
	}
	return out
}

// Reset empties the log.
func (l *Log) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}
