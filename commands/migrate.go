package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessiond/sessiond/engine"
)

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
// [AUTH password | AUTH2 username password] [KEYS key [key ...]]
//
// As Redis: each key is DUMPed, sent to the target over a connection of our
// own as RESTORE key ttl payload [REPLACE] (after AUTH and SELECT), and,
// unless COPY, deleted here once the target acknowledged it. The payload is
// DUMP's, in Redis' format: the target may be sessiond or redis-server
// (7.0 or later for streams, 5.0 for the other types). Connections are
// cached per target for 10 seconds of idleness, as Redis caches them. A key
// changed here while its RESTORE was on the wire is not deleted (the target
// has the older value; the write that changed it is not lost).

func init() {
	register(&Spec{Name: "migrate", ACL: "@keyspace @dangerous", Arity: -6, Flags: FlagWrite | FlagLong,
		KeySpecs: []KeySpec{{Flags: "RW access delete", Index: 3},
			{Flags: "RW access delete incomplete", Keyword: "KEYS", StartFrom: -2, LastKey: -1, Step: 1}},
		MovableKeys: migrateKeys, FirstKey: 3, LastKey: 3, Step: 1, Group: "generic", Since: "2.6.0",
		Syntax:  "host port key|\"\" destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key [key ...]]",
		Summary: "Atomically transfers a key from one instance to another (sessiond or redis-server).",
		Example: "> MIGRATE 10.0.0.2 6379 \"\" 0 5000 KEYS sess:1 sess:2\nOK", Run: cmdMigrate})
}

// migrateArgs is a parsed MIGRATE.
type migrateArgs struct {
	addr          string
	db, timeoutMS int64
	copy, replace bool
	auth          []string // AUTH's arguments (password, or username password)
	keys          []string
}

// parseMigrate reads MIGRATE's arguments in Redis' order and words.
func parseMigrate(args [][]byte) (migrateArgs, string) {
	m := migrateArgs{addr: net.JoinHostPort(string(args[1]), string(args[2]))}
	var ok bool
	if m.db, ok = parseInt(args[4]); !ok {
		return m, msgNotInt
	}
	if m.timeoutMS, ok = parseInt(args[5]); !ok {
		return m, msgNotInt
	}
	if m.timeoutMS <= 0 {
		m.timeoutMS = 1000
	}
	first := -1
	for i := 6; i < len(args); i++ {
		switch {
		case keyword(args[i], "COPY"):
			m.copy = true
		case keyword(args[i], "REPLACE"):
			m.replace = true
		case keyword(args[i], "AUTH") && i+1 < len(args):
			m.auth = []string{string(args[i+1])}
			i++
		case keyword(args[i], "AUTH2") && i+2 < len(args):
			m.auth = []string{string(args[i+1]), string(args[i+2])}
			i += 2
		case keyword(args[i], "KEYS"):
			if len(args[3]) != 0 {
				return m, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
			}
			first = i + 1
			i = len(args)
		default:
			return m, msgSyntax
		}
	}
	if first < 0 {
		m.keys = []string{string(args[3])}
	} else {
		for _, k := range args[first:] {
			m.keys = append(m.keys, string(k))
		}
	}
	return m, ""
}

// migrateKeys finds MIGRATE's keys as Redis' migrateGetKeys: the key
// argument, or the keys after KEYS (skipping AUTH and AUTH2's arguments).
func migrateKeys(args [][]byte) []int {
	if len(args) < 6 {
		return nil
	}
	for i := 6; i < len(args); i++ {
		switch {
		case keyword(args[i], "AUTH"):
			i++
		case keyword(args[i], "AUTH2"):
			i += 2
		case keyword(args[i], "KEYS") && len(args[3]) == 0:
			var out []int
			for j := i + 1; j < len(args); j++ {
				out = append(out, j)
			}
			return out
		}
	}
	return []int{3}
}

func cmdMigrate(c *Call) {
	m, msg := parseMigrate(c.Args)
	if msg != "" {
		c.W.Error(msg)
		return
	}
	// Read every key that exists: its payload, TTL and version.
	type dumped struct {
		key, payload, version string
		ttl                   int64
	}
	var found []dumped
	now := c.NowMS()
	_ = c.Read(func(tx *engine.Tx) error {
		for _, k := range m.keys {
			p, ok := tx.Dump(c.DB(), k)
			if !ok {
				continue
			}
			ttl := int64(0)
			if dl, ok := tx.Deadline(c.DB(), k); ok && dl != 0 {
				ttl = max(dl-now, 1)
			}
			found = append(found, dumped{key: k, payload: p, version: tx.Version(c.DB(), k), ttl: ttl})
		}
		return nil
	})
	if len(found) == 0 {
		c.W.Simple("NOKEY")
		return
	}
	timeout := time.Duration(m.timeoutMS) * time.Millisecond
	conn, err := migrateConns.get(m.addr, timeout)
	if err != nil {
		c.W.Error("IOERR error or timeout connecting to the client")
		return
	}
	// One pipeline: AUTH, SELECT when the connection is on another
	// database, then a RESTORE per key; then every reply in order.
	var cmds [][]string
	if m.auth != nil {
		cmds = append(cmds, append([]string{"AUTH"}, m.auth...))
	}
	selecting := conn.db != m.db
	if selecting {
		cmds = append(cmds, []string{"SELECT", strconv.FormatInt(m.db, 10)})
	}
	for _, d := range found {
		cmd := []string{"RESTORE", d.key, strconv.FormatInt(d.ttl, 10), d.payload}
		if m.replace {
			cmd = append(cmd, "REPLACE")
		}
		cmds = append(cmds, cmd)
	}
	_ = conn.nc.SetDeadline(time.Now().Add(timeout))
	if err := conn.send(cmds); err != nil {
		conn.close()
		c.W.Error("IOERR error or timeout writing to target instance")
		return
	}
	pre := len(cmds) - len(found) // AUTH and SELECT
	var preErr, restoreErr string
	var restored []dumped
	for i := range cmds {
		reply, isErr, err := conn.readReply()
		if err != nil {
			conn.close()
			c.W.Error("IOERR error or timeout reading to target instance")
			return
		}
		switch {
		case i < pre:
			if isErr && preErr == "" {
				preErr = reply
			}
		case isErr:
			if restoreErr == "" {
				restoreErr = reply
			}
		default:
			restored = append(restored, found[i-pre])
		}
	}
	if preErr != "" {
		// AUTH or SELECT failed: nothing is deleted here, and the
		// connection, in a state we do not know, is not kept.
		conn.close()
		c.W.Error("ERR Target instance replied with error: " + preErr)
		return
	}
	conn.db = m.db
	_ = conn.nc.SetDeadline(time.Time{})
	migrateConns.put(m.addr, conn)
	if !m.copy && len(restored) > 0 {
		_ = c.Write(func(tx *engine.Tx) error {
			for _, d := range restored {
				if tx.Version(c.DB(), d.key) == d.version {
					tx.Delete(c.DB(), d.key)
				}
			}
			return nil
		})
	}
	if restoreErr != "" {
		c.W.Error("ERR Target instance replied with error: " + restoreErr)
		return
	}
	c.W.OK()
}

// migrateConn is a connection to a MIGRATE target.
type migrateConn struct {
	nc    net.Conn
	r     *bufio.Reader
	db    int64 // the database SELECTed on it (-1: unknown)
	idle  *time.Timer
	owner *migrateCache
	addr  string
}

// send writes commands as RESP arrays of bulk strings, in one write.
func (m *migrateConn) send(cmds [][]string) error {
	var b []byte
	for _, cmd := range cmds {
		b = append(b, '*')
		b = strconv.AppendInt(b, int64(len(cmd)), 10)
		b = append(b, '\r', '\n')
		for _, a := range cmd {
			b = append(b, '$')
			b = strconv.AppendInt(b, int64(len(a)), 10)
			b = append(b, '\r', '\n')
			b = append(b, a...)
			b = append(b, '\r', '\n')
		}
	}
	_, err := m.nc.Write(b)
	return err
}

var errBadReply = errors.New("migrate: malformed reply from target")

// readReply reads one RESP2 reply and returns its text (status, error,
// integer or bulk; an array's elements are read and dropped) and whether
// it was an error.
func (m *migrateConn) readReply() (string, bool, error) {
	line, err := m.r.ReadString('\n')
	if err != nil {
		return "", false, err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", false, errBadReply
	}
	switch line[0] {
	case '+', ':':
		return line[1:], false, nil
	case '-':
		return line[1:], true, nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", false, errBadReply
		}
		if n < 0 {
			return "", false, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(m.r, buf); err != nil {
			return "", false, err
		}
		return string(buf[:n]), false, nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", false, errBadReply
		}
		for i := 0; i < n; i++ {
			if _, _, err := m.readReply(); err != nil {
				return "", false, err
			}
		}
		return "", false, nil
	}
	return "", false, errBadReply
}

// close drops the connection for good.
func (m *migrateConn) close() {
	m.idle.Stop()
	m.nc.Close()
}

// migrateIdle is how long a cached MIGRATE connection may stay unused, as
// Redis' MIGRATE_SOCKET_CACHE_TTL.
const migrateIdle = 10 * time.Second

// migrateCache keeps one idle connection per target. A MIGRATE takes the
// connection out while it uses it, so concurrent MIGRATEs to one target
// each get their own.
type migrateCache struct {
	mu    sync.Mutex
	conns map[string]*migrateConn
}

var migrateConns = &migrateCache{conns: map[string]*migrateConn{}}

func (mc *migrateCache) get(addr string, timeout time.Duration) (*migrateConn, error) {
	mc.mu.Lock()
	if c := mc.conns[addr]; c != nil {
		delete(mc.conns, addr)
		mc.mu.Unlock()
		c.idle.Stop()
		return c, nil
	}
	mc.mu.Unlock()
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("migrate: connect %s: %w", addr, err)
	}
	c := &migrateConn{nc: nc, r: bufio.NewReader(nc), db: 0, owner: mc, addr: addr}
	c.idle = time.AfterFunc(migrateIdle, func() { mc.expire(c) })
	c.idle.Stop()
	return c, nil
}

// put caches c for the next MIGRATE to addr (closing one already cached).
func (mc *migrateCache) put(addr string, c *migrateConn) {
	mc.mu.Lock()
	old := mc.conns[addr]
	mc.conns[addr] = c
	mc.mu.Unlock()
	if old != nil {
		old.close()
	}
	c.idle.Reset(migrateIdle)
}

// expire closes c after migrateIdle unused, unless a MIGRATE took it.
func (mc *migrateCache) expire(c *migrateConn) {
	mc.mu.Lock()
	if mc.conns[c.addr] != c {
		mc.mu.Unlock()
		return
	}
	delete(mc.conns, c.addr)
	mc.mu.Unlock()
	c.nc.Close()
}
