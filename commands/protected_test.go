package commands_test

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

const (
	msgProtectedDir = "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
	msgProtectedDB  = "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"
	msgDBPath       = "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename"
)

// cronLine is what an attacker wants written somewhere a daemon reads: a
// line of its own in the snapshot.
const cronLine = "\n* * * * * root touch /tmp/pwned\n"

// startInSubdir starts a server whose dir is root/data, so that anything
// written outside dir shows up in root.
func startInSubdir(t *testing.T, params ...string) (s *testserver.Server, root, dir string) {
	t.Helper()
	root = t.TempDir()
	dir = filepath.Join(root, "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return testserver.Start(t, append([]string{"dir", dir}, params...)...), root, dir
}

// filesOutside lists every file under root that is not under dir.
func filesOutside(t *testing.T, root, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return filepath.SkipDir
		}
		if p != root {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// waitPersistence waits until INFO persistence says no save or rewrite runs.
func waitPersistence(t *testing.T, c *redis.Client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := parseInfo(t, c, "persistence")["persistence"]
		if p["rdb_bgsave_in_progress"] == "0" && p["aof_rewrite_in_progress"] == "0" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("save or rewrite never finished")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// By default (enable-protected-configs no) dir and dbfilename cannot be
// changed at run time, in Redis' words; SAVE still writes dbfilename in dir.
func TestProtectedConfigsDefault(t *testing.T) {
	s, root, dir := startInSubdir(t)
	elsewhere := t.TempDir()
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"config", "get", "enable-protected-configs"}, Want: tg.by([]any{"enable-protected-configs", "no"}, map[any]any{"enable-protected-configs": "no"})},
			{Cmd: []any{"config", "set", "dir", elsewhere}, WantErr: msgProtectedDir},
			{Cmd: []any{"config", "set", "dbfilename", "../x"}, WantErr: msgProtectedDB},
			{Cmd: []any{"config", "set", "dbfilename", "ok.db"}, WantErr: msgProtectedDB},
			// The refusal comes before any value is looked at, and nothing changes.
			{Cmd: []any{"config", "set", "maxclients", "100", "dbfilename", "../x"}, WantErr: msgProtectedDB},
			{Cmd: []any{"config", "set", "maxclients", "abc", "dir", elsewhere}, WantErr: msgProtectedDir},
			{Cmd: []any{"config", "get", "maxclients"}, Want: tg.by([]any{"maxclients", "10000"}, map[any]any{"maxclients": "10000"})},
			{Cmd: []any{"config", "set", "enable-protected-configs", "yes"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'enable-protected-configs') - can't set immutable config"},
			{Cmd: []any{"config", "set", "appendfilename", "x"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'appendfilename') - can't set immutable config"},
			{Cmd: []any{"config", "set", "logfile", "x"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'logfile') - can't set immutable config"},
		})
	})
	c := s.Client(2)
	if got := must(t, c, "config", "get", "dir"); !strings.Contains(strings.Join(toStrings(got), " "), dir) {
		t.Fatalf("CONFIG GET dir = %v, want %s", got, dir)
	}
	must(t, c, "set", "k", "v")
	if v := must(t, c, "save"); v != "OK" {
		t.Fatalf("SAVE = %v", v)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.db")); err != nil {
		t.Fatalf("SAVE did not write dump.db in dir: %v", err)
	}
	if out := filesOutside(t, root, dir); len(out) > 0 {
		t.Fatalf("written outside dir: %v", out)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) > 0 {
		t.Fatalf("written in the refused dir: %v", ents)
	}
}

// Even where protected configs may change, dbfilename is a file name: no
// name makes SAVE, BGSAVE or BGREWRITEAOF write outside dir.
func TestDBFilenameIsNotAPath(t *testing.T) {
	s, root, dir := startInSubdir(t, "enable-protected-configs", "yes")
	if err := os.Mkdir(filepath.Join(root, "evil"), 0o755); err != nil {
		t.Fatal(err)
	}
	c := s.Client(2)
	must(t, c, "set", "payload", cronLine)
	bad := []string{"../x", "../evil/x.conf", "../../x", "/tmp/x.conf", filepath.Join(root, "evil", "abs.conf"), "sub/x.db", `..\x`, ".", ".."}
	for _, name := range bad {
		_, err := send(c, "config", "set", "dbfilename", name)
		want := msgDBPath
		if err == nil || err.Error() != want {
			t.Errorf("CONFIG SET dbfilename %q = %v, want %q", name, err, want)
		}
	}
	if _, err := send(c, "config", "set", "dbfilename", ""); err == nil || err.Error() != "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be empty" {
		t.Errorf("CONFIG SET dbfilename \"\" = %v", err)
	}
	// Several at once: all or nothing.
	if _, err := send(c, "config", "set", "maxclients", "100", "dbfilename", "../evil/x.conf"); err == nil || err.Error() != msgDBPath {
		t.Errorf("CONFIG SET maxclients 100 dbfilename ../evil/x.conf = %v", err)
	}
	if got := toStrings(must(t, c, "config", "get", "dbfilename")); len(got) != 2 || got[1] != "dump.db" {
		t.Errorf("dbfilename after refusals = %v", got)
	}
	if got := toStrings(must(t, c, "config", "get", "maxclients")); len(got) != 2 || got[1] != "10000" {
		t.Errorf("maxclients after a refused CONFIG SET = %v", got)
	}
	if v := must(t, c, "save"); v != "OK" {
		t.Fatalf("SAVE = %v", v)
	}
	if v := must(t, c, "bgsave"); v != "Background saving started" {
		t.Fatalf("BGSAVE = %v", v)
	}
	waitPersistence(t, c)
	if v := must(t, c, "bgrewriteaof"); v != "Background append only file rewriting started" {
		t.Fatalf("BGREWRITEAOF = %v", v)
	}
	waitPersistence(t, c)
	if out := filesOutside(t, root, dir); len(out) != 1 || out[0] != filepath.Join(root, "evil") {
		t.Fatalf("written outside dir: %v", out)
	}
	for _, name := range []string{"dump.db", "sessiond.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s not in dir: %v", name, err)
		}
	}
	// A plain name is fine.
	if v := must(t, c, "config", "set", "dbfilename", "other.rdb"); v != "OK" {
		t.Fatalf("CONFIG SET dbfilename other.rdb = %v", v)
	}
	if v := must(t, c, "save"); v != "OK" {
		t.Fatalf("SAVE = %v", v)
	}
	if _, err := os.Stat(filepath.Join(dir, "other.rdb")); err != nil {
		t.Fatalf("SAVE with dbfilename other.rdb: %v", err)
	}
}

// enable-protected-configs yes lets any client move dir; SAVE then writes
// dbfilename in the new dir. A dir that does not exist is refused as Redis'
// chdir refuses it.
func TestProtectedConfigsYes(t *testing.T) {
	s, _, _ := startInSubdir(t, "enable-protected-configs", "yes")
	other := t.TempDir()
	c := s.Client(2)
	testserver.Run(t, c, []C{
		{Cmd: []any{"config", "set", "dir", filepath.Join(other, "missing")}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"},
		{Cmd: []any{"config", "set", "dir", other, "dbfilename", "moved.db"}, Want: "OK"},
		{Cmd: []any{"config", "get", "dir"}, Want: []any{"dir", other}},
		{Cmd: []any{"set", "k", "v"}, Want: "OK"},
		{Cmd: []any{"save"}, Want: "OK"},
		// Immutable stays immutable.
		{Cmd: []any{"config", "set", "appendfilename", "x.db"}, WantErr: "ERR CONFIG SET failed (possibly related to argument 'appendfilename') - can't set immutable config"},
	})
	if _, err := os.Stat(filepath.Join(other, "moved.db")); err != nil {
		t.Fatalf("SAVE after CONFIG SET dir: %v", err)
	}
}

// enable-protected-configs local: a client on the loopback interface may
// change dir, a client from another address may not.
func TestProtectedConfigsLocal(t *testing.T) {
	s, _, _ := startInSubdir(t, "enable-protected-configs", "local", "bind", "0.0.0.0")
	other := t.TempDir()
	_, port, _ := net.SplitHostPort(s.Addr)
	loop := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", port), Protocol: 2, MaxRetries: -1})
	defer loop.Close()
	testserver.Run(t, loop, []C{
		{Cmd: []any{"config", "set", "dir", other}, Want: "OK"},
		{Cmd: []any{"config", "set", "dbfilename", "local.db"}, Want: "OK"},
		{Cmd: []any{"config", "set", "dbfilename", "../x"}, WantErr: msgDBPath},
	})
	// A client connected from another machine, made up: tests send
	// traffic to loopback addresses only, so it runs through the
	// dispatcher without a socket.
	d := s.Dispatcher()
	remote, err := d.NewClient(madeUpConn{remote: "10.1.2.3:40000", local: "10.0.0.1:" + port})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Release(remote)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"config", "set", "dir", t.TempDir()}, "-" + msgProtectedDir + "\r\n"},
		{[]string{"config", "set", "dbfilename", "remote.db"}, "-" + msgProtectedDB + "\r\n"},
		{[]string{"config", "set", "maxclients", "500"}, "+OK\r\n"},
		{[]string{"config", "get", "dir"}, "*2\r\n$3\r\ndir\r\n$" + strconv.Itoa(len(other)) + "\r\n" + other + "\r\n"},
		{[]string{"config", "get", "dbfilename"}, "*2\r\n$10\r\ndbfilename\r\n$8\r\nlocal.db\r\n"},
	} {
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		remote.W.Reset()
		d.Exec(remote, args)
		if got := string(remote.W.Bytes()); got != tc.want {
			t.Errorf("%v from 10.1.2.3 = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// madeUpConn is a connection from an address of the test's choosing.
type madeUpConn struct{ remote, local string }

func (c madeUpConn) RemoteAddr() string     { return c.remote }
func (c madeUpConn) LocalAddr() string      { return c.local }
func (c madeUpConn) Close() error           { return nil }
func (c madeUpConn) Push(frame []byte) bool { return true }

// toStrings turns a CONFIG GET reply (array or map) into name, value, ...
func toStrings(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, e.(string))
		}
	case map[any]any:
		for k, e := range x {
			out = append(out, k.(string), e.(string))
		}
	}
	return out
}
