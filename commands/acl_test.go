package commands_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

const (
	msgNoPermKey  = "NOPERM this user has no permissions to access one of the keys used as arguments"
	msgNoPermChan = "NOPERM this user has no permissions to access one of the channels used as arguments"
)

func noPermCmd(name string) string {
	return "NOPERM this user has no permissions to run the '" + name + "' command"
}

// aclInfo reads the acl_access_denied_* counters of INFO stats.
func aclInfo(t *testing.T, c *redis.Client) map[string]string {
	t.Helper()
	s, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(s, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(k, "acl_access_denied_") {
			out[strings.TrimPrefix(k, "acl_access_denied_")] = v
		}
	}
	return out
}

// An application user given sessions and its own keys only, in both
// protocols: what it may and may not do, in Redis' words.
func TestACLApplicationUser(t *testing.T) {
	s := testserver.Start(t)
	admin := s.Client(2)
	ctx := context.Background()
	testserver.Run(t, admin, []testserver.Case{
		{Cmd: []any{"ACL", "SETUSER", "app", "on", ">s3cret", "~app:*", "%R~ro:*", "%W~wo:*", "&news", "+@session", "+get", "+set", "+lpush", "+publish", "+subscribe", "+config|get", "+select|0", "+multi", "+exec"}, Want: "OK"},
		{Cmd: []any{"SET", "ro:1", "v"}, Want: "OK"},
	})
	for _, proto := range []int{2, 3} {
		t.Run(map[int]string{2: "RESP2", 3: "RESP3"}[proto], func(t *testing.T) {
			app := s.ClientAs(proto, "app", "s3cret")
			testserver.Run(t, app, []testserver.Case{
				{Cmd: []any{"ACL", "WHOAMI"}, WantErr: noPermCmd("acl|whoami")},
				{Cmd: []any{"SET", "app:1", "v"}, Want: "OK"},
				{Cmd: []any{"GET", "app:1"}, Want: "v"},
				{Cmd: []any{"GET", "other"}, WantErr: msgNoPermKey},
				{Cmd: []any{"GET", "ro:1"}, Want: "v"},
				{Cmd: []any{"SET", "ro:1", "x"}, WantErr: msgNoPermKey},
				{Cmd: []any{"LPUSH", "wo:" + strconv.Itoa(proto), "x"}, Want: int64(1)},
				{Cmd: []any{"GET", "wo:1"}, WantErr: msgNoPermKey},
				{Cmd: []any{"SET", "wo:2", "x"}, Want: "OK"},
				{Cmd: []any{"SET", "wo:2", "x", "GET"}, WantErr: msgNoPermKey},
				{Cmd: []any{"DEL", "app:1"}, WantErr: noPermCmd("del")},
				{Cmd: []any{"FLUSHALL"}, WantErr: noPermCmd("flushall")},
				{Cmd: []any{"SESS.ROTATEKEY"}, WantErr: noPermCmd("sess.rotatekey")},
				{Cmd: []any{"CONFIG", "SET", "maxclients", "10"}, WantErr: noPermCmd("config|set")},
				{Cmd: []any{"CONFIG", "GET", "maxclients"}, Any: true},
				{Cmd: []any{"SELECT", "0"}, Want: "OK"},
				{Cmd: []any{"SELECT", "1"}, WantErr: noPermCmd("select")},
				{Cmd: []any{"PUBLISH", "news", "hi"}, Want: int64(0)},
				{Cmd: []any{"PUBLISH", "other", "hi"}, WantErr: msgNoPermChan},
				{Cmd: []any{"SESS.COUNT"}, Any: true},
			})
			// A session round trip: @session is all it needs.
			v, err := app.Do(ctx, "SESS.NEW", "OWNER", "u1").Result()
			if err != nil {
				t.Fatalf("SESS.NEW as app: %v", err)
			}
			_ = v
			// PING is @connection, not granted.
			if err := app.Ping(ctx).Err(); err == nil || err.Error() != noPermCmd("ping") {
				t.Errorf("PING: %v", err)
			}
		})
	}
	st := aclInfo(t, admin)
	if st["cmd"] == "0" || st["key"] == "0" || st["channel"] == "0" {
		t.Errorf("INFO stats counters not moved: %v", st)
	}
}

// Denials land in ACL LOG with Redis' fields, grouped when repeated;
// failed AUTHs too (D8), and they count in acl_access_denied_auth.
func TestACLLogAndFailedAuth(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, admin *redis.Client) {
		ctx := context.Background()
		testserver.Run(t, admin, []testserver.Case{
			{Cmd: []any{"ACL", "LOG", "RESET"}, Want: "OK"},
			{Cmd: []any{"ACL", "SETUSER", "antirez", "on", ">foo", "+set", "~object:*"}, Want: "OK"},
		})
		before := aclInfo(t, admin)["auth"]
		u := s.Client(2)
		testserver.Run(t, u, []testserver.Case{
			{Cmd: []any{"AUTH", "antirez", "wrong"}, WantErr: "WRONGPASS invalid username-password pair or user is disabled."},
			{Cmd: []any{"AUTH", "nosuchuser", "x"}, WantErr: "WRONGPASS"},
			{Cmd: []any{"AUTH", "antirez", "foo"}, Want: "OK"},
			{Cmd: []any{"GET", "object:1"}, WantErr: noPermCmd("get")},
			{Cmd: []any{"GET", "object:1"}, WantErr: noPermCmd("get")},
			{Cmd: []any{"SET", "other", "1"}, WantErr: msgNoPermKey},
		})
		after := aclInfo(t, admin)["auth"]
		if after == before {
			t.Errorf("acl_access_denied_auth did not move: %s", after)
		}
		entries, err := admin.Do(ctx, "ACL", "LOG").Slice()
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 4 {
			t.Fatalf("want 4 entries (key, command x2, auth, auth), got %d: %v", len(entries), entries)
		}
		field := func(e any, k string) any {
			switch m := e.(type) {
			case map[any]any:
				return m[k]
			case map[string]any:
				return m[k]
			case []any:
				for i := 0; i+1 < len(m); i += 2 {
					if m[i] == k {
						return m[i+1]
					}
				}
			}
			return nil
		}
		want := []struct {
			reason, object, user string
			count                int64
		}{{"key", "other", "antirez", 1}, {"command", "get", "antirez", 2}, {"auth", "AUTH", "nosuchuser", 1}, {"auth", "AUTH", "antirez", 1}}
		for i, w := range want {
			e := entries[i]
			if field(e, "reason") != w.reason || field(e, "object") != w.object || field(e, "username") != w.user || field(e, "count") != w.count || field(e, "context") != "toplevel" {
				t.Errorf("entry %d: %v, want %+v", i, e, w)
			}
			if ci, _ := field(e, "client-info").(string); !strings.Contains(ci, "id=") {
				t.Errorf("entry %d client-info: %q", i, ci)
			}
		}
		if n, _ := admin.Do(ctx, "ACL", "LOG", "1").Slice(); len(n) != 1 {
			t.Errorf("ACL LOG 1: %d entries", len(n))
		}
	})
}

// MULTI refuses a denied command when it is queued, EXEC checks again
// (the rules may have changed), and a script's redis.call is checked.
func TestACLMultiAndScripts(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, admin *redis.Client) {
		testserver.Run(t, admin, []testserver.Case{
			{Cmd: []any{"ACL", "SETUSER", "tx", "reset", "on", ">p", "~*", "+multi", "+exec", "+incr", "+eval", "+get"}, Want: "OK"},
		})
		u := s.ClientAs(2, "tx", "p")
		ctx := context.Background()
		conn := u.Conn()
		defer conn.Close()
		do := func(args ...any) (any, error) { return conn.Do(ctx, args...).Result() }
		if _, err := do("MULTI"); err != nil {
			t.Fatal(err)
		}
		if _, err := do("SET", "k", "v"); err == nil || err.Error() != noPermCmd("set") {
			t.Errorf("SET queued: %v", err)
		}
		if _, err := do("EXEC"); err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") {
			t.Errorf("EXEC after a denied command: %v", err)
		}
		do("MULTI")
		if v, err := do("INCR", "n"); err != nil || v != "QUEUED" {
			t.Fatalf("INCR queued: %v %v", v, err)
		}
		if err := admin.Do(ctx, "ACL", "SETUSER", "tx", "-incr").Err(); err != nil {
			t.Fatal(err)
		}
		// go-redis reports the first failed reply of EXEC's array.
		if _, err := do("EXEC"); err == nil || !strings.HasPrefix(err.Error(), "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call.") {
			t.Errorf("EXEC of a command denied since it was queued: %v", err)
		}
		if n, _ := admin.Get(ctx, "n").Result(); n != "" {
			t.Errorf("the denied INCR ran: n=%q", n)
		}
		_, err := do("EVAL", "return redis.call('set', KEYS[1], 'x')", 1, "k")
		if err == nil || !strings.Contains(err.Error(), "The user executing the script can't run this command or subcommand") {
			t.Errorf("EVAL calling SET: %v", err)
		}
		if v, err := do("EVAL", "return redis.call('get', KEYS[1])", 1, "k"); err != redis.Nil {
			t.Errorf("EVAL calling GET: %v %v", v, err)
		}
		log, _ := admin.Do(ctx, "ACL", "LOG", "1").Slice()
		if len(log) != 1 || !strings.Contains(strings.ReplaceAll(stringOf(log[0]), " ", ""), "lua") {
			t.Errorf("script denial not logged in context lua: %v", log)
		}
	})
}

// stringOf flattens a reply's strings (arrays, maps, sets) into one line.
func stringOf(v any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[any]any:
			for k, e := range x {
				walk(k)
				walk(e)
			}
		case map[any]struct{}:
			for k := range x {
				walk(k)
			}
		case string:
			b.WriteString(x + " ")
		}
	}
	walk(v)
	return b.String()
}

// The shared pass of the event loop (pipelined batchable commands of many
// clients in one transaction) checks permissions too.
func TestACLPipelinedSharedPass(t *testing.T) {
	s := testserver.Start(t)
	admin := s.Client(2)
	ctx := context.Background()
	if err := admin.Do(ctx, "ACL", "SETUSER", "pipe", "on", ">p", "~mine:*", "+get", "+set").Err(); err != nil {
		t.Fatal(err)
	}
	for _, proto := range []int{2, 3} {
		u := s.ClientAs(proto, "pipe", "p")
		p := u.Pipeline()
		ok1 := p.Set(ctx, "mine:1", "a", 0)
		bad := p.Set(ctx, "theirs:1", "b", 0)
		ok2 := p.Get(ctx, "mine:1")
		bad2 := p.Incr(ctx, "mine:n")
		_, _ = p.Exec(ctx)
		if ok1.Err() != nil || ok2.Val() != "a" {
			t.Errorf("RESP%d allowed commands: %v %v", proto, ok1.Err(), ok2.Err())
		}
		if bad.Err() == nil || bad.Err().Error() != msgNoPermKey {
			t.Errorf("RESP%d denied key in a pipeline: %v", proto, bad.Err())
		}
		if bad2.Err() == nil || bad2.Err().Error() != noPermCmd("incr") {
			t.Errorf("RESP%d denied command in a pipeline: %v", proto, bad2.Err())
		}
	}
	if v, _ := admin.Exists(ctx, "theirs:1").Result(); v != 0 {
		t.Error("a denied SET wrote")
	}
}

// ACL DELUSER disconnects the user's clients; changing a user's channels
// disconnects its subscribers that lost one; the default user cannot go.
func TestACLDeluserAndSubscribers(t *testing.T) {
	s := testserver.Start(t)
	admin := s.Client(2)
	ctx := context.Background()
	testserver.Run(t, admin, []testserver.Case{
		{Cmd: []any{"ACL", "SETUSER", "gone", "on", ">p", "+@all", "~*", "&ch"}, Want: "OK"},
		{Cmd: []any{"ACL", "DELUSER", "default"}, WantErr: "ERR The 'default' user cannot be removed"},
	})
	victim := s.ClientAs(2, "gone", "p")
	if err := victim.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	sub := s.ClientAs(3, "gone", "p").Subscribe(ctx, "ch")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "gone", "resetchannels").Err(); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := sub.ReceiveMessage(rctx); err == nil || rctx.Err() != nil {
		t.Errorf("subscriber that lost its channel still connected: %v", err)
	}
	if n, err := admin.Do(ctx, "ACL", "DELUSER", "gone", "nosuch").Int64(); err != nil || n != 1 {
		t.Fatalf("DELUSER: %d %v", n, err)
	}
	if err := victim.Ping(ctx).Err(); err == nil {
		t.Error("client of a deleted user still served")
	}
	if list, _ := admin.ClientList(ctx).Result(); strings.Contains(list, "user=gone") {
		t.Errorf("CLIENT LIST still shows the deleted user's clients:\n%s", list)
	}
}

// requirepass is the default user's password; AUTH and HELLO AUTH work with
// and without a user name; a disabled default user leaves new clients
// unauthenticated.
func TestACLDefaultUser(t *testing.T) {
	s := testserver.Start(t, "requirepass", "pw")
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := s.ClientAs(proto, "default", "pw")
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"ACL", "WHOAMI"}, Want: "default"},
			{Cmd: []any{"ACL", "GETUSER", "default"}, Any: true},
			{Cmd: []any{"HELLO", proto, "AUTH", "default", "wrong"}, WantErr: "WRONGPASS"},
			{Cmd: []any{"AUTH", "pw"}, Want: "OK"},
		})
		list, err := c.Do(ctx, "ACL", "LIST").StringSlice()
		if err != nil || len(list) != 1 || !strings.HasPrefix(list[0], "user default on #") {
			t.Errorf("ACL LIST with requirepass: %v %v", list, err)
		}
	}
	anon := s.Client(2)
	if err := anon.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("unauthenticated PING: %v", err)
	}
	// HELLO authenticates only when every option is good.
	raw := anon.Conn()
	if err := raw.Do(ctx, "HELLO", 2, "AUTH", "default", "pw", "SETNAME", "a b").Err(); err == nil {
		t.Error("HELLO with a bad SETNAME accepted")
	}
	if err := raw.Do(ctx, "PING").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("PING after a refused HELLO AUTH: %v", err)
	}
	raw.Close()
	admin := s.ClientAs(2, "default", "pw")
	testserver.Run(t, admin, []testserver.Case{
		{Cmd: []any{"CONFIG", "SET", "requirepass", ""}, Want: "OK"},
		{Cmd: []any{"ACL", "SETUSER", "default", "off"}, Want: "OK"},
	})
	fresh := s.Client(2)
	if err := fresh.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("PING with the default user off: %v", err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "default", "on").Err(); err != nil {
		t.Fatal(err)
	}
}

// ACL commands that describe: CAT, GETUSER, LIST, DRYRUN, GENPASS, and the
// categories COMMAND INFO shows come from the same table.
func TestACLDescribeCommands(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"ACL", "SETUSER", "d", "reset", "on", "nopass", "~k*", "+@all", "-@dangerous", "(+get ~x)"}, Want: "OK"},
			{Cmd: []any{"ACL", "DRYRUN", "d", "GET", "k1"}, Want: "OK"},
			{Cmd: []any{"ACL", "DRYRUN", "d", "GET", "x"}, Want: "OK"},
			{Cmd: []any{"ACL", "DRYRUN", "d", "GET", "z"}, Want: "This user has no permissions to access the 'z' key"},
			{Cmd: []any{"ACL", "DRYRUN", "d", "FLUSHALL"}, Want: "This user has no permissions to run the 'flushall' command"},
			{Cmd: []any{"ACL", "DRYRUN", "nosuch", "GET", "k"}, WantErr: "ERR User 'nosuch' not found"},
			{Cmd: []any{"ACL", "DRYRUN", "d", "SET", "k"}, WantErr: "ERR wrong number of arguments for 'set' command"},
			{Cmd: []any{"ACL", "CAT", "nosuch"}, WantErr: "ERR Unknown category 'nosuch'"},
			{Cmd: []any{"ACL", "SETUSER", "bad", "+nosuch"}, WantErr: "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"},
			{Cmd: []any{"ACL", "SETUSER", "a b"}, WantErr: "ERR Usernames can't contain spaces or null characters"},
			{Cmd: []any{"ACL", "GETUSER", "nosuch"}, Want: nil},
			{Cmd: []any{"ACL", "GENPASS", "0"}, WantErr: "ERR ACL GENPASS argument must be the number of bits"},
			{Cmd: []any{"ACL", "SAVE"}, WantErr: "ERR This Redis instance is not configured to use an ACL file."},
		})
		session, _ := c.Do(ctx, "ACL", "CAT", "session").StringSlice()
		if len(session) == 0 || !inList(session, "sess.new") || inList(session, "get") {
			t.Errorf("ACL CAT session: %v", session)
		}
		cats, _ := c.Do(ctx, "ACL", "CAT").StringSlice()
		for _, want := range []string{"keyspace", "read", "write", "admin", "dangerous", "session", "token", "jwt"} {
			if !inList(cats, want) {
				t.Errorf("ACL CAT lacks %s: %v", want, cats)
			}
		}
		if p, _ := c.Do(ctx, "ACL", "GENPASS").Text(); len(p) != 64 {
			t.Errorf("GENPASS: %q", p)
		}
		if p, _ := c.Do(ctx, "ACL", "GENPASS", "5").Text(); len(p) != 2 {
			t.Errorf("GENPASS 5: %q", p)
		}
		list, _ := c.Do(ctx, "ACL", "LIST").StringSlice()
		if !inList(list, "user d on nopass sanitize-payload ~k* resetchannels +@all -@dangerous (~x resetchannels -@all +get)") {
			t.Errorf("ACL LIST: %v", list)
		}
		info, err := c.Do(ctx, "COMMAND", "INFO", "sess.new").Slice()
		if err != nil || !strings.Contains(stringOf(info), "@session") {
			t.Errorf("COMMAND INFO sess.new lacks @session: %v %v", info, err)
		}
	})
}

func sha256hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// ACL SAVE writes the aclfile and ACL LOAD reads it back: clients of every
// user but default are disconnected, as Redis; a bad file changes nothing.
func TestACLFileSaveLoad(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "users.acl"), []byte("user alice on >a ~* &* +@all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := testserver.Start(t, "dir", dir, "aclfile", "users.acl")
	ctx := context.Background()
	alice := s.ClientAs(2, "alice", "a")
	testserver.Run(t, alice, []testserver.Case{
		{Cmd: []any{"ACL", "WHOAMI"}, Want: "alice"},
		{Cmd: []any{"ACL", "SETUSER", "eve", "on", ">e", "+get", "~*"}, Want: "OK"},
		{Cmd: []any{"ACL", "SAVE"}, Want: "OK"},
	})
	data, _ := os.ReadFile(filepath.Join(dir, "users.acl"))
	if !strings.Contains(string(data), "user eve on #"+sha256hex("e")+" ~* resetchannels -@all +get") {
		t.Errorf("saved file:\n%s", data)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.acl"), append(data, []byte("user eve off\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := alice.Do(ctx, "ACL", "LOAD").Err(); err == nil || !strings.Contains(err.Error(), "Duplicate user 'eve' found") {
		t.Errorf("ACL LOAD of a bad file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.acl"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	held := s.ClientAs(2, "alice", "a").Conn()
	defer held.Close()
	if err := held.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := alice.Do(ctx, "ACL", "LOAD").Err(); err != nil {
		t.Fatalf("ACL LOAD: %v", err)
	}
	if err := held.Ping(ctx).Err(); err == nil {
		t.Error("another connection of alice survived ACL LOAD")
	}
	eve := s.ClientAs(3, "eve", "e")
	if err := eve.Set(ctx, "k", "v", 0).Err(); err == nil || err.Error() != noPermCmd("set") {
		t.Errorf("eve after load: %v", err)
	}
}

// Users from the config file's user lines, and protected mode counting a
// password on the default user.
func TestACLUserLinesAtStartup(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "s.conf")
	if err := os.WriteFile(conf, []byte("user default on nopass ~* &* +@all -flushdb\nuser app on >p ~a:* +get\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := testserver.StartWithFile(t, conf)
	c := s.Client(2)
	testserver.Run(t, c, []testserver.Case{
		{Cmd: []any{"FLUSHDB"}, WantErr: noPermCmd("flushdb")},
		{Cmd: []any{"AUTH", "app", "p"}, Want: "OK"},
		{Cmd: []any{"GET", "a:1"}, Want: nil},
	})
}

func inList(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Subcommand rules fold into the container's when they cover it, as Redis'
// "ACLs set can include subcommands, if already full command exists".
func TestACLSubcommandRules(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		ctx := context.Background()
		commands := func() string {
			v, err := c.Do(ctx, "ACL", "GETUSER", "bob").Result()
			if err != nil {
				t.Fatal(err)
			}
			switch m := v.(type) {
			case map[any]any:
				return m["commands"].(string)
			case []any:
				for i := 0; i+1 < len(m); i += 2 {
					if m[i] == "commands" {
						return m[i+1].(string)
					}
				}
			}
			t.Fatalf("GETUSER: %#v", v)
			return ""
		}
		for _, tc := range []struct{ rules, want string }{
			{"reset +memory|doctor", "-@all +memory|doctor"},
			{"+memory", "-@all +memory"},
			{"+@all +client|id", "+@all"},
			{"-memory|stats", "+@all -memory|stats"},
		} {
			args := []any{"ACL", "SETUSER", "bob"}
			for _, r := range strings.Fields(tc.rules) {
				args = append(args, r)
			}
			if err := c.Do(ctx, args...).Err(); err != nil {
				t.Fatal(err)
			}
			if got := commands(); got != tc.want {
				t.Errorf("after %s: %q, want %q", tc.rules, got, tc.want)
			}
		}
		bob := s.Client(2)
		testserver.Run(t, c, []testserver.Case{{Cmd: []any{"ACL", "SETUSER", "bob", "on", ">b", "~*"}, Want: "OK"}})
		testserver.Run(t, bob, []testserver.Case{
			{Cmd: []any{"AUTH", "bob", "b"}, Want: "OK"},
			{Cmd: []any{"MEMORY", "DOCTOR"}, Any: true},
			{Cmd: []any{"MEMORY", "STATS"}, WantErr: noPermCmd("memory|stats")},
		})
	})
}

// DEBUG is refused unless enable-debug-command allows it; with it, a user
// may be given one DEBUG subcommand as a first argument (+debug|object).
func TestDebugCommandAndFirstArgRule(t *testing.T) {
	off := testserver.Start(t)
	testserver.Run(t, off.Client(2), []testserver.Case{
		{Cmd: []any{"DEBUG", "HELP"}, WantErr: "ERR DEBUG command not allowed."},
	})
	s := testserver.Start(t, "enable-debug-command", "yes")
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		testserver.Run(t, c, []testserver.Case{
			{Cmd: []any{"SET", "k", "12345"}, Want: "OK"},
			{Cmd: []any{"DEBUG", "OBJECT", "k"}, Want: "Value at:0x0 refcount:1 encoding:int serializedlength:5 lru:0 lru_seconds_idle:0"},
			{Cmd: []any{"DEBUG", "OBJECT", "nosuch"}, WantErr: "ERR no such key"},
			{Cmd: []any{"DEBUG", "SEGFAULT"}, WantErr: "ERR unknown subcommand or wrong number of arguments for 'SEGFAULT'. Try DEBUG HELP."},
			{Cmd: []any{"ACL", "SETUSER", "dbg", "reset", "on", "nopass", "~*", "+acl", "+debug|object"}, Want: "OK"},
			{Cmd: []any{"AUTH", "dbg", "x"}, Want: "OK"},
			{Cmd: []any{"DEBUG", "OBJECT", "k"}, Any: true},
			{Cmd: []any{"DEBUG", "SLEEP", "0"}, WantErr: noPermCmd("debug")},
			{Cmd: []any{"AUTH", "default", "x"}, Want: "OK"},
		})
	})
}
