package commands_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/internal/testserver"
)

func TestCompatConnection(t *testing.T) {
	s := testserver.Start(t)
	compat(t, s, func(t *testing.T, tg target) {
		testserver.Run(t, tg.c, []C{
			{Cmd: []any{"ping"}, Want: "PONG"},
			{Cmd: []any{"ping", "hi"}, Want: "hi"},
			{Cmd: []any{"ping", "a", "b"}, WantErr: "ERR wrong number of arguments for 'ping' command"},
			{Cmd: []any{"echo", "a\x00b"}, Want: "a\x00b"},
			{Cmd: []any{"echo"}, WantErr: "ERR wrong number of arguments for 'echo' command"},
			{Cmd: []any{"echo", "a", "b"}, WantErr: "ERR wrong number of arguments for 'echo' command"},
			{Cmd: []any{"select", "16"}, WantErr: "ERR DB index is out of range"},
			{Cmd: []any{"select", "-1"}, WantErr: "ERR DB index is out of range"},
			{Cmd: []any{"select", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"select", "15"}, Want: "OK"},
			{Cmd: []any{"set", "in15", "v"}, Want: "OK"},
			{Cmd: []any{"select", "0"}, Want: "OK"},
			{Cmd: []any{"exists", "in15"}, Want: int64(0)},
			{Cmd: []any{"auth", "foo"}, WantErr: "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"},
			{Cmd: []any{"auth", "default", "anything"}, Want: "OK"}, // no password: the default user takes any
			{Cmd: []any{"auth", "nobody", "x"}, WantErr: "WRONGPASS invalid username-password pair or user is disabled."},
			{Cmd: []any{"auth", "a", "b", "c"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"hello", "1"}, WantErr: "NOPROTO unsupported protocol version"},
			{Cmd: []any{"hello", "4"}, WantErr: "NOPROTO unsupported protocol version"},
			{Cmd: []any{"hello", "abc"}, WantErr: "ERR Protocol version is not an integer or out of range"},
			{Cmd: []any{"hello", "3", "foo"}, WantErr: "ERR Syntax error in HELLO option 'foo'"},
			{Cmd: []any{"hello", "3", "auth", "default"}, WantErr: "ERR Syntax error in HELLO option 'auth'"},
			{Cmd: []any{"hello", "2", "setname"}, WantErr: "ERR Syntax error in HELLO option 'setname'"},
			{Cmd: []any{"hello", "2", "setname", "a b"}, WantErr: "ERR Client names cannot contain spaces, newlines or special characters."},
			{Cmd: []any{"client", "getname"}, Want: nil},
			{Cmd: []any{"client", "setname", "a b"}, WantErr: "ERR Client names cannot contain spaces, newlines or special characters."},
			{Cmd: []any{"client", "setname", "web-1"}, Want: "OK"},
			{Cmd: []any{"client", "getname"}, Want: "web-1"},
			{Cmd: []any{"client", "setname", ""}, Want: "OK"},
			{Cmd: []any{"client", "getname"}, Want: nil},
			{Cmd: []any{"client", "setname"}, WantErr: "ERR wrong number of arguments for 'client|setname' command"},
			{Cmd: []any{"client", "no-evict", "on"}, Want: "OK"},
			{Cmd: []any{"client", "no-evict", "off"}, Want: "OK"},
			{Cmd: []any{"client", "no-evict", "maybe"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"client", "kill", "1.2.3.4:5"}, WantErr: "ERR No such client"},
			{Cmd: []any{"client", "kill", "id", "abc"}, WantErr: "ERR client-id should be greater than 0"},
			{Cmd: []any{"client", "kill", "id", "0"}, WantErr: "ERR client-id should be greater than 0"},
			{Cmd: []any{"client", "kill", "id", "999999"}, Want: int64(0)},
			{Cmd: []any{"client", "kill", "addr", "1.2.3.4:5"}, Want: int64(0)},
			{Cmd: []any{"client", "kill", "foo", "bar"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"client", "kill", "type", "foo"}, WantErr: "ERR Unknown client type 'foo'"},
			{Cmd: []any{"client", "kill", "user", "nobody"}, WantErr: "ERR No such user 'nobody'"},
			{Cmd: []any{"client", "kill", "type", "pubsub"}, Want: int64(0)},
			{Cmd: []any{"client", "list", "type", "foo"}, WantErr: "ERR Unknown client type 'foo'"},
			{Cmd: []any{"client", "list", "id", "abc"}, WantErr: "ERR Invalid client ID"},
			{Cmd: []any{"client", "list", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"client", "list", "id", "0"}, Want: ""},
			{Cmd: []any{"client", "reply", "on"}, Want: "OK"},
			{Cmd: []any{"client", "reply", "foo"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"client", "foo"}, WantErr: "ERR unknown subcommand 'foo'. Try CLIENT HELP."},
			{Cmd: []any{"client"}, WantErr: "ERR wrong number of arguments for 'client' command"},
		})
		if !tg.oracle { // Redis 7.2 additions (the oracle may be 7.0)
			testserver.Run(t, tg.c, []C{
				{Cmd: []any{"client", "setinfo", "lib-name", "go-redis"}, Want: "OK"},
				{Cmd: []any{"client", "setinfo", "lib-ver", "9.7.0"}, Want: "OK"},
				{Cmd: []any{"client", "setinfo", "lib-name", "a b"}, WantErr: "ERR LIB-NAME cannot contain spaces, newlines or special characters."},
				{Cmd: []any{"client", "setinfo", "foo", "x"}, WantErr: "ERR Unrecognized option 'foo'"},
				{Cmd: []any{"client", "no-touch", "on"}, Want: "OK"},
				{Cmd: []any{"client", "no-touch", "off"}, Want: "OK"},
				{Cmd: []any{"client", "maint_notifications", "on", "moving-endpoint-type", "internal-ip"}, Want: "OK"},
				{Cmd: []any{"readonly"}, Want: "OK"},
				{Cmd: []any{"readwrite"}, Want: "OK"},
			})
		}
		id := mustInt(t, tg.c, "client", "id")
		if id <= 0 {
			t.Fatalf("CLIENT ID = %d", id)
		}
		info := must(t, tg.c, "client", "info").(string)
		if !strings.Contains(info, fmt.Sprintf("id=%d ", id)) || !strings.Contains(info, "cmd=client|info") || !strings.HasSuffix(info, "\n") {
			t.Fatalf("CLIENT INFO = %q", info)
		}
		if !strings.Contains(info, fmt.Sprintf("resp=%d", tg.proto)) {
			t.Fatalf("CLIENT INFO does not show resp=%d: %q", tg.proto, info)
		}
		list := must(t, tg.c, "client", "list", "id", id).(string)
		if strings.Count(list, "\n") != 1 || !strings.Contains(list, fmt.Sprintf("id=%d ", id)) {
			t.Fatalf("CLIENT LIST ID %d = %q", id, list)
		}
		if help := strs(must(t, tg.c, "client", "help")); len(help) < 10 {
			t.Fatalf("CLIENT HELP = %v", help)
		}
	})
}

// HELLO answers the server map and switches the protocol of later replies.
func TestHello(t *testing.T) {
	s := testserver.Start(t)
	nc := s.Dial()
	rd := bufio.NewReader(nc)
	send := func(cmd string) string {
		t.Helper()
		if _, err := io.WriteString(nc, cmd+"\r\n"); err != nil {
			t.Fatal(err)
		}
		return readFrame(t, rd)
	}
	if got := send("HELLO 3"); !strings.HasPrefix(got, "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n") ||
		!strings.Contains(got, "$5\r\nproto\r\n:3\r\n") || !strings.Contains(got, "$4\r\nmode\r\n$10\r\nstandalone\r\n") ||
		!strings.Contains(got, "$4\r\nrole\r\n$6\r\nmaster\r\n") || !strings.HasSuffix(got, "$7\r\nmodules\r\n*0\r\n") {
		t.Fatalf("HELLO 3 = %q", got)
	}
	if got := send("GET nope"); got != "_\r\n" {
		t.Fatalf("RESP3 null = %q", got)
	}
	if got := send("CONFIG GET maxclients"); got != "%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n" {
		t.Fatalf("RESP3 CONFIG GET = %q", got)
	}
	if got := send("HELLO 2 SETNAME app"); !strings.HasPrefix(got, "*14\r\n") || !strings.Contains(got, "$5\r\nproto\r\n:2\r\n") {
		t.Fatalf("HELLO 2 = %q", got)
	}
	if got := send("GET nope"); got != "$-1\r\n" {
		t.Fatalf("RESP2 null = %q", got)
	}
	if got := send("CLIENT GETNAME"); got != "$3\r\napp\r\n" {
		t.Fatalf("name set by HELLO = %q", got)
	}
	if got := send("HELLO"); !strings.HasPrefix(got, "*14\r\n") {
		t.Fatalf("HELLO without a version keeps RESP2: %q", got)
	}
	if got := send("RESET"); got != "+RESET\r\n" {
		t.Fatalf("RESET = %q", got)
	}
	if got := send("CLIENT GETNAME"); got != "$-1\r\n" {
		t.Fatalf("RESET kept the name: %q", got)
	}
	if got := send("QUIT"); got != "+OK\r\n" {
		t.Fatalf("QUIT = %q", got)
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := rd.ReadByte(); err != io.EOF {
		t.Fatalf("connection still open after QUIT: %v", err)
	}
}

// readFrame reads one complete RESP2/RESP3 frame and returns its bytes.
func readFrame(t *testing.T, rd *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	var read func()
	read = func() {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (so far %q)", err, b.String())
		}
		b.WriteString(line)
		body := strings.TrimSuffix(line[1:], "\r\n")
		switch line[0] {
		case '$', '=', '!':
			var n int
			fmt.Sscan(body, &n)
			if n >= 0 {
				buf := make([]byte, n+2)
				if _, err := io.ReadFull(rd, buf); err != nil {
					t.Fatal(err)
				}
				b.Write(buf)
			}
		case '*', '~', '>':
			var n int
			fmt.Sscan(body, &n)
			for i := 0; i < n; i++ {
				read()
			}
		case '%', '|':
			var n int
			fmt.Sscan(body, &n)
			for i := 0; i < 2*n; i++ {
				read()
			}
		}
	}
	read()
	return b.String()
}

// requirepass: NOAUTH before AUTH (or HELLO AUTH), in Redis' words; AUTH
// pass and AUTH default pass both work; RESET forgets the authentication.
func TestAuth(t *testing.T) {
	s := testserver.Start(t, "requirepass", "s3cret")
	ctx := context.Background()
	raw := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer raw.Close()
	testserver.Run(t, raw, []C{
		{Cmd: []any{"get", "k"}, WantErr: "NOAUTH Authentication required."},
		{Cmd: []any{"ping"}, WantErr: "NOAUTH Authentication required."},
		{Cmd: []any{"hello", "3"}, WantErr: "NOAUTH HELLO must be called with the client already authenticated"},
		{Cmd: []any{"hello", "3", "auth", "default", "wrong"}, WantErr: "WRONGPASS invalid username-password pair or user is disabled."},
		{Cmd: []any{"auth", "wrong"}, WantErr: "WRONGPASS invalid username-password pair or user is disabled."},
		{Cmd: []any{"auth", "default", "wrong"}, WantErr: "WRONGPASS invalid username-password pair or user is disabled."},
		{Cmd: []any{"auth", "admin", "s3cret"}, WantErr: "WRONGPASS invalid username-password pair or user is disabled."},
		{Cmd: []any{"auth", "s3cret"}, Want: "OK"},
		{Cmd: []any{"set", "k", "v"}, Want: "OK"},
		{Cmd: []any{"reset"}, Want: "RESET"},
		{Cmd: []any{"get", "k"}, WantErr: "NOAUTH Authentication required."},
		{Cmd: []any{"auth", "default", "s3cret"}, Want: "OK"},
		{Cmd: []any{"get", "k"}, Want: "v"},
		{Cmd: []any{"config", "get", "requirepass"}, Want: []any{"requirepass", "s3cret"}},
	})
	// HELLO 3 AUTH in one step, as node-redis and redis-py send it.
	c3 := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 3, Password: "s3cret"})
	defer c3.Close()
	if v, err := c3.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("HELLO 3 AUTH client: %v %v", v, err)
	}
	if v, err := c3.Do(ctx, "hello", "3", "auth", "default", "s3cret", "setname", "x").Result(); err != nil {
		t.Fatalf("HELLO 3 AUTH SETNAME: %v %v", v, err)
	} else if m, ok := v.(map[any]any); !ok || m["proto"] != int64(3) {
		t.Fatalf("HELLO 3 AUTH SETNAME = %#v", v)
	}
	// A wrong password refuses the connection with WRONGPASS.
	bad := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 3, Password: "nope", MaxRetries: -1})
	defer bad.Close()
	if err := bad.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: %v", err)
	}
	// CONFIG SET requirepass takes effect for new connections.
	c3.ConfigSet(ctx, "requirepass", "")
	open := redis.NewClient(&redis.Options{Addr: s.Addr, DisableIdentity: true})
	defer open.Close()
	if err := open.Ping(ctx).Err(); err != nil {
		t.Fatalf("after removing requirepass: %v", err)
	}
}

// CLIENT LIST / KILL see the other connections; a killed client's next
// command fails; CLIENT KILL of oneself closes after the reply.
func TestClientListKill(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	a := s.Client(2)
	b := s.Client(3)
	must(t, b, "client", "setname", "victim")
	idB := mustInt(t, b, "client", "id")
	list := must(t, a, "client", "list").(string)
	if !strings.Contains(list, fmt.Sprintf("id=%d ", idB)) || !strings.Contains(list, "name=victim") || !strings.Contains(list, "resp=3") {
		t.Fatalf("CLIENT LIST = %q", list)
	}
	if got := must(t, a, "client", "list", "type", "pubsub").(string); got != "" {
		t.Fatalf("CLIENT LIST TYPE pubsub = %q", got)
	}
	if n := mustInt(t, a, "client", "kill", "id", idB); n != 1 {
		t.Fatalf("CLIENT KILL ID = %d", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Contains(must(t, a, "client", "list").(string), fmt.Sprintf("id=%d ", idB)) {
		if time.Now().After(deadline) {
			t.Fatal("killed client still listed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// b's connection is gone; go-redis notices and redials.
	_, _ = send(b, "ping")
	if id := mustInt(t, b, "client", "id"); id == idB {
		t.Fatalf("client b kept its id %d after CLIENT KILL", id)
	}
	// Old form: CLIENT KILL addr:port.
	nc := s.Dial()
	rd := bufio.NewReader(nc)
	addr := nc.LocalAddr().String()
	// One round trip first: the server registers a connection after
	// accepting it, which may lag the dial.
	io.WriteString(nc, "PING\r\n")
	if got := readFrame(t, rd); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	if v, err := a.Do(ctx, "client", "kill", addr).Result(); err != nil || v != "OK" {
		t.Fatalf("CLIENT KILL %s = %v %v", addr, v, err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := rd.ReadByte(); err == nil {
		t.Fatal("killed raw connection still open")
	}
	// SKIPME no kills the caller too, after its reply.
	self := s.Dial()
	srd := bufio.NewReader(self)
	io.WriteString(self, "CLIENT KILL ADDR "+self.LocalAddr().String()+" SKIPME no\r\n")
	if got := readFrame(t, srd); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL self = %q", got)
	}
	_ = self.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := srd.ReadByte(); err == nil {
		t.Fatal("self-killed connection still open")
	}
}

// The handshakes that client libraries send must all succeed.
func TestClientHandshakes(t *testing.T) {
	s := testserver.Start(t)
	nc := s.Dial()
	rd := bufio.NewReader(nc)
	for _, cmd := range []string{
		"HELLO 3", // node-redis 5/6, redis-py 8, go-redis 9
		"CLIENT SETINFO LIB-NAME go-redis(,go1.26)", // go-redis
		"CLIENT SETINFO LIB-VER 9.7.0",
		"CLIENT MAINT_NOTIFICATIONS on moving-endpoint-type internal-ip", // go-redis 9.15+
		"HELLO 2",
		"CLIENT SETNAME ioredis", // ioredis connectionName
		"SELECT 1",
		"INFO",         // ioredis ready check
		"COMMAND DOCS", // redis-cli 7 interactive
		"READONLY",
		"CLIENT SETINFO LIB-NAME redis-py",
		"PING",
	} {
		io.WriteString(nc, cmd+"\r\n")
		if got := readFrame(t, rd); strings.HasPrefix(got, "-") {
			t.Errorf("%s: %q", cmd, got)
		}
	}
	net.Conn(nc).Close()
}
