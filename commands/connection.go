package commands

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

func init() {
	register(
		&Spec{Name: "ping", Arity: -1, Flags: FlagFast | FlagStale | FlagLoading, Group: "connection", Since: "1.0.0",
			Syntax: "[message]", Summary: "Returns the server's liveliness response.", Example: "> PING\nPONG", Run: cmdPing},
		&Spec{Name: "echo", Arity: 2, Flags: FlagFast | FlagStale | FlagLoading, Group: "connection", Since: "1.0.0",
			Syntax: "message", Summary: "Returns the given string.", Example: "> ECHO hi\n\"hi\"", Run: func(c *Call) { c.W.Bulk(c.Args[1]) }},
		&Spec{Name: "quit", Arity: -1, Flags: FlagNoAuth | FlagFast | FlagStale | FlagLoading | FlagTxControl | FlagAllowBusy | FlagNoScript, Group: "connection", Since: "1.0.0",
			Summary: "Closes the connection.", Example: "> QUIT\nOK", Run: func(c *Call) { c.W.OK(); c.Client.CloseAfterReply = true }},
		&Spec{Name: "reset", Arity: 1, Flags: FlagNoAuth | FlagFast | FlagStale | FlagLoading | FlagTxControl | FlagNoScript | FlagAllowBusy, Group: "connection", Since: "6.2.0",
			Summary: "Resets the connection.", Example: "> RESET\nRESET", Run: cmdReset},
		&Spec{Name: "select", Arity: 2, Flags: FlagFast | FlagLoading | FlagStale, Group: "connection", Since: "1.0.0",
			Syntax: "index", Summary: "Changes the selected database.", Example: "> SELECT 1\nOK", Run: cmdSelect},
		&Spec{Name: "auth", Arity: -2, Flags: FlagNoAuth | FlagFast | FlagNoScript | FlagLoading | FlagStale | FlagAllowBusy, Group: "connection", Since: "1.0.0",
			Syntax: "[username] password", Summary: "Authenticates the connection.", Example: "> AUTH s3cret\nOK", Run: cmdAuth},
		&Spec{Name: "hello", Arity: -1, Flags: FlagNoAuth | FlagFast | FlagNoScript | FlagLoading | FlagStale | FlagAllowBusy, Group: "connection", Since: "6.0.0",
			Syntax: "[protover [AUTH username password] [SETNAME clientname]]", Summary: "Handshakes with the server: picks RESP2 or RESP3, optionally authenticates and names the connection.",
			Example: "> HELLO 3\n1# \"server\" => \"redis\"\n2# \"version\" => \"7.2.4\"\n3# \"proto\" => (integer) 3\n...", Run: cmdHello},
		&Spec{Name: "readonly", Arity: 1, Flags: FlagFast | FlagLoading | FlagStale, Group: "cluster", Since: "3.0.0",
			Summary: "Accepted for cluster clients; a no-op on a standalone server.", Example: "> READONLY\nOK", Run: func(c *Call) { c.W.OK() }},
		&Spec{Name: "readwrite", Arity: 1, Flags: FlagFast | FlagLoading | FlagStale, Group: "cluster", Since: "3.0.0",
			Summary: "Accepted for cluster clients; a no-op on a standalone server.", Example: "> READWRITE\nOK", Run: func(c *Call) { c.W.OK() }},
		&Spec{Name: "client", Arity: -2, Group: "connection", Since: "2.4.0", Summary: "A container for client connection commands.",
			Subcommands: []*Spec{
				{Name: "id", Arity: 2, Flags: FlagNoScript | FlagLoading | FlagStale, Summary: "Returns the unique client ID of the connection.", Example: "> CLIENT ID\n(integer) 7", Run: func(c *Call) { c.W.Int(c.Client.ID) }},
				{Name: "setname", Arity: 3, Flags: FlagNoScript | FlagLoading | FlagStale, Syntax: "connection-name", Summary: "Sets the connection name.", Example: "> CLIENT SETNAME web-1\nOK", Run: cmdClientSetname},
				{Name: "getname", Arity: 2, Flags: FlagNoScript | FlagLoading | FlagStale, Summary: "Returns the name of the connection.", Example: "> CLIENT GETNAME\n\"web-1\"", Run: cmdClientGetname},
				{Name: "setinfo", Arity: 4, Flags: FlagNoScript | FlagLoading | FlagStale, Syntax: "LIB-NAME libname | LIB-VER libver", Summary: "Sets information specific to the client or connection.", Example: "> CLIENT SETINFO LIB-NAME go-redis\nOK", Run: cmdClientSetinfo},
				{Name: "list", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "[TYPE NORMAL|PUBSUB] [ID client-id ...]", Summary: "Lists open connections.", Example: "> CLIENT LIST\n\"id=7 addr=127.0.0.1:50412 ... cmd=client|list ...\"", Run: cmdClientList},
				{Name: "info", Arity: 2, Flags: FlagNoScript | FlagLoading | FlagStale, Summary: "Returns information about the connection.", Example: "> CLIENT INFO\n\"id=7 addr=127.0.0.1:50412 ...\"", Run: cmdClientInfo},
				{Name: "kill", Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "ip:port | [ID client-id] [ADDR ip:port] [LADDR ip:port] [TYPE NORMAL|PUBSUB] [SKIPME yes|no]", Summary: "Terminates open connections.", Example: "> CLIENT KILL ID 9\n(integer) 1", Run: cmdClientKill},
				{Name: "unblock", Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "client-id [TIMEOUT|ERROR]", Summary: "Unblocks a client blocked by a blocking command from a different connection.", Example: "> CLIENT UNBLOCK 9\n(integer) 1", Run: cmdClientUnblock},
				{Name: "no-evict", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "ON|OFF", Summary: "Sets the client eviction mode of the connection.", Example: "> CLIENT NO-EVICT on\nOK", Run: cmdClientOnOff(func(cl *Client, on bool) { cl.noEvict.Store(on) })},
				{Name: "no-touch", Arity: 3, Flags: FlagNoScript | FlagLoading | FlagStale, Syntax: "ON|OFF", Summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", Example: "> CLIENT NO-TOUCH on\nOK", Run: cmdClientOnOff(func(cl *Client, on bool) { cl.noTouch = on })},
				{Name: "maint_notifications", Arity: -3, Flags: FlagNoScript | FlagLoading | FlagStale, Syntax: "ON|OFF [option value ...]", Summary: "Accepted for clients that ask for maintenance notifications; a standalone server sends none.", Example: "> CLIENT MAINT_NOTIFICATIONS on\nOK", Run: func(c *Call) { c.W.OK() }},
				{Name: "reply", Arity: 3, Flags: FlagNoScript | FlagLoading | FlagStale, Syntax: "ON|OFF|SKIP", Summary: "Instructs the server whether to reply to commands (only ON is supported).", Example: "> CLIENT REPLY ON\nOK", Run: cmdClientReply},
				{Name: "pause", Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "timeout [WRITE|ALL]", Summary: "Holds clients' commands (all of them, or those that write) for timeout milliseconds; they run in order after.", Example: "> CLIENT PAUSE 10000 WRITE\nOK", Run: cmdClientPause},
				{Name: "unpause", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Summary: "Ends a CLIENT PAUSE: the held commands run.", Example: "> CLIENT UNPAUSE\nOK", Run: cmdClientUnpause},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("CLIENT")},
			}},
	)
}

func cmdPing(c *Call) {
	if len(c.Args) > 2 {
		c.W.Error(errWrongArgs("ping"))
		return
	}
	if c.Client.proto == 2 && c.Client.subs.count() > 0 {
		c.W.Array(2)
		c.W.BulkString("pong")
		if len(c.Args) == 2 {
			c.W.Bulk(c.Args[1])
		} else {
			c.W.BulkString("")
		}
		return
	}
	if len(c.Args) == 2 {
		c.W.Bulk(c.Args[1])
		return
	}
	c.W.Simple("PONG")
}

func cmdReset(c *Call) {
	cl := c.Client
	c.d.watch.unwatchAll(cl)
	c.d.hub.unsubscribeAll(cl)
	c.d.obs.unmonitor(cl)
	c.d.trackingForget(cl)
	cl.subs.proto.Store(2)
	cl.multi = multiState{}
	cl.mu.Lock()
	cl.db = 0
	cl.name = ""
	cl.mu.Unlock()
	cl.proto = 2
	cl.W.SetProto(2)
	cl.noEvict.Store(false)
	cl.noTouch = false
	c.d.resetAuth(cl)
	c.W.Simple("RESET")
}

func cmdSelect(c *Call) {
	n, ok := parseInt(c.Args[1])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	if n < 0 || n >= c.d.Config.Int("databases") {
		c.W.Error(msgDBIndex)
		return
	}
	c.Client.mu.Lock()
	c.Client.db = int(n)
	c.Client.mu.Unlock()
	c.W.OK()
}

func cmdAuth(c *Call) {
	if len(c.Args) > 3 {
		c.W.Error(msgSyntax)
		return
	}
	user, pass := "default", c.Arg(1)
	if len(c.Args) == 3 {
		user, pass = c.Arg(1), c.Arg(2)
	} else if u := c.d.acl.reg.Default().User(); u.NoPass {
		c.W.Error(msgNoPassSet)
		return
	}
	if !c.d.authenticate(c, user, pass) {
		c.W.Error(msgWrongPass)
		return
	}
	c.W.OK()
}

func cmdHello(c *Call) {
	proto := c.Client.proto
	i := 1
	if len(c.Args) > 1 {
		n, ok := parseInt(c.Args[1])
		if !ok {
			c.W.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if n != 2 && n != 3 {
			c.W.Error(msgNoProto)
			return
		}
		proto = int(n)
		i = 2
	}
	var name *string
	var authUser, authPass *string
	authed := c.Client.Authed
	for ; i < len(c.Args); i++ {
		more := len(c.Args) - i - 1
		switch {
		case keyword(c.Args[i], "AUTH") && more >= 2:
			u, p := c.Arg(i+1), c.Arg(i+2)
			authUser, authPass = &u, &p
			i += 2
		case keyword(c.Args[i], "SETNAME") && more >= 1:
			n := c.Arg(i + 1)
			if !validClientName(n) {
				c.W.Error("ERR Client names cannot contain spaces, newlines or special characters.")
				return
			}
			name = &n
			i++
		default:
			c.W.Error(fmt.Sprintf("ERR Syntax error in HELLO option '%s'", c.Args[i]))
			return
		}
	}
	// AUTH is applied once every option is known good, as Redis does.
	if authUser != nil {
		if !c.d.authenticate(c, *authUser, *authPass) {
			c.W.Error(msgWrongPass)
			return
		}
		authed = true
	}
	if !authed {
		c.W.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	c.Client.Authed = true
	if name != nil {
		c.Client.mu.Lock()
		c.Client.name = *name
		c.Client.mu.Unlock()
	}
	c.Client.proto = proto
	c.Client.subs.proto.Store(int32(proto)) // read by other clients' invalidations (tracking.go)
	c.W.SetProto(proto)
	c.W.Map(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(Version)
	c.W.BulkString("proto")
	c.W.Int(int64(proto))
	c.W.BulkString("id")
	c.W.Int(c.Client.ID)
	c.W.BulkString("mode")
	c.W.BulkString("standalone")
	c.W.BulkString("role")
	c.W.BulkString("master")
	c.W.BulkString("modules")
	c.W.Array(0)
}

// RedisVersion is the Redis version sessiond reports: the one whose commands
// and replies it follows.
const RedisVersion = "7.2.4"

func validClientName(n string) bool {
	for i := 0; i < len(n); i++ {
		if n[i] < '!' || n[i] > '~' {
			return false
		}
	}
	return true
}

func cmdClientSetname(c *Call) {
	n := c.Arg(2)
	if !validClientName(n) {
		c.W.Error("ERR Client names cannot contain spaces, newlines or special characters.")
		return
	}
	c.Client.mu.Lock()
	c.Client.name = n
	c.Client.mu.Unlock()
	c.W.OK()
}

func cmdClientGetname(c *Call) {
	c.Client.mu.Lock()
	n := c.Client.name
	c.Client.mu.Unlock()
	if n == "" {
		c.W.Null()
		return
	}
	c.W.BulkString(n)
}

func cmdClientSetinfo(c *Call) {
	v := c.Arg(3)
	for i := 0; i < len(v); i++ {
		if v[i] < '!' || v[i] > '~' {
			c.W.Error(fmt.Sprintf("ERR %s cannot contain spaces, newlines or special characters.", strings.ToUpper(c.Arg(2))))
			return
		}
	}
	c.Client.mu.Lock()
	defer c.Client.mu.Unlock()
	switch upper(c.Args[2]) {
	case "LIB-NAME":
		c.Client.libName = v
	case "LIB-VER":
		c.Client.libVer = v
	default:
		c.W.Error(fmt.Sprintf("ERR Unrecognized option '%s'", c.Args[2]))
		return
	}
	c.W.OK()
}

func cmdClientOnOff(set func(cl *Client, on bool)) func(c *Call) {
	return func(c *Call) {
		switch upper(c.Args[2]) {
		case "ON":
			set(c.Client, true)
		case "OFF":
			set(c.Client, false)
		default:
			c.W.Error(msgSyntax)
			return
		}
		c.W.OK()
	}
}

func cmdClientReply(c *Call) {
	switch upper(c.Args[2]) {
	case "ON":
		c.Client.replyMode = replyOn
		c.W.OK()
	case "OFF":
		c.Client.replyMode = replyOff
	case "SKIP":
		if c.Client.replyMode == replyOn {
			c.Client.replyMode = replySkip
		}
	default:
		c.W.Error(msgSyntax)
	}
}

func sortClients(cs []*Client) { sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID }) }

// describe renders one CLIENT LIST line.
// For the calling client (self), cmd= is the command running now, as in Redis.
func (d *Dispatcher) describe(cl *Client, now time.Time, self *Call) string {
	cl.mu.Lock()
	name, db, lastCmd, lib, ver, inter := cl.name, cl.db, cl.lastCmd, cl.libName, cl.libVer, cl.lastInter
	cl.mu.Unlock()
	if self != nil && self.Client == cl {
		lastCmd = self.Spec.FullName()
	}
	cl.subs.mu.Lock()
	sub, psub, ssub := len(cl.subs.channels), len(cl.subs.patterns), len(cl.subs.shards)
	cl.subs.mu.Unlock()
	flags := "N"
	if sub+psub+ssub > 0 {
		flags = "P"
	}
	if lastCmd == "" {
		lastCmd = "NULL"
	}
	multi := -1
	bufs, multiMem, totMem := cl.memFields()
	if self != nil && self.Client == cl {
		// The command running now is still in the caller's query buffer,
		// as Redis shows it (it trims the buffer once the command ran).
		bufs.QueryBuf += respSize(self.Args)
	}
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=0 name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=%d qbuf=%d qbuf-free=%d argv-mem=%d multi-mem=%d rbs=%d rbp=0 obl=%d oll=0 omem=%d tot-mem=%d events=r cmd=%s user=%s redir=-1 resp=%d lib-name=%s lib-ver=%s",
		cl.ID, cl.Conn.RemoteAddr(), cl.Conn.LocalAddr(), name, int(now.Sub(cl.Created).Seconds()), int(now.Sub(inter).Seconds()),
		flags, db, sub, psub, ssub, multi, bufs.QueryBuf, bufs.QueryBufFree, bufs.ArgvMem, multiMem, bufs.ReplyBuf, bufs.OutBuf, bufs.OutMem, totMem,
		lastCmd, cl.Username(), cl.proto, lib, ver)
}

func cmdClientList(c *Call) {
	var typ string
	var ids map[int64]bool
	for i := 2; i < len(c.Args); i++ {
		switch {
		case keyword(c.Args[i], "TYPE") && i+1 < len(c.Args):
			typ = strings.ToLower(c.Arg(i + 1))
			switch typ {
			case "normal", "pubsub", "master", "replica", "slave":
			default:
				c.W.Error(fmt.Sprintf("ERR Unknown client type '%s'", c.Arg(i+1)))
				return
			}
			i++
		case keyword(c.Args[i], "ID") && i+1 < len(c.Args):
			ids = map[int64]bool{}
			for i++; i < len(c.Args); i++ {
				n, ok := parseInt(c.Args[i])
				if !ok {
					c.W.Error("ERR Invalid client ID")
					return
				}
				ids[n] = true
			}
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	now := time.Now()
	var b strings.Builder
	for _, cl := range c.d.Clients() {
		if ids != nil && !ids[cl.ID] {
			continue
		}
		isPub := cl.subs.count() > 0
		if (typ == "normal" && isPub) || (typ == "pubsub" && !isPub) || typ == "master" || typ == "replica" || typ == "slave" {
			continue
		}
		b.WriteString(c.d.describe(cl, now, c))
		b.WriteByte('\n')
	}
	c.W.Verbatim(b.String())
}

func cmdClientInfo(c *Call) {
	c.W.Verbatim(c.d.describe(c.Client, time.Now(), c) + "\n")
}

func cmdClientKill(c *Call) {
	args := c.Args[2:]
	if len(args) == 1 {
		// Old form: CLIENT KILL addr:port.
		addr := string(args[0])
		for _, cl := range c.d.Clients() {
			if cl.Conn.RemoteAddr() == addr {
				c.d.kill(c, cl)
				c.W.OK()
				return
			}
		}
		c.W.Error("ERR No such client")
		return
	}
	if len(args)%2 != 0 {
		c.W.Error(msgSyntax)
		return
	}
	var id int64
	var addr, laddr, typ string
	skipMe := true
	for i := 0; i < len(args); i += 2 {
		v := string(args[i+1])
		switch upper(args[i]) {
		case "ID":
			n, ok := parseInt(args[i+1])
			if !ok || n <= 0 {
				c.W.Error("ERR client-id should be greater than 0")
				return
			}
			id = n
		case "ADDR":
			addr = v
		case "LADDR":
			laddr = v
		case "TYPE":
			typ = strings.ToLower(v)
			switch typ {
			case "normal", "pubsub", "master", "replica", "slave":
			default:
				c.W.Error(fmt.Sprintf("ERR Unknown client type '%s'", v))
				return
			}
		case "USER":
			if v != "default" {
				c.W.Error(fmt.Sprintf("ERR No such user '%s'", v))
				return
			}
		case "SKIPME":
			switch strings.ToLower(v) {
			case "yes":
				skipMe = true
			case "no":
				skipMe = false
			default:
				c.W.Error(msgSyntax)
				return
			}
		case "MAXAGE":
			if _, ok := parseInt(args[i+1]); !ok {
				c.W.Error(msgNotInt)
				return
			}
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	killed := 0
	for _, cl := range c.d.Clients() {
		if id != 0 && cl.ID != id || addr != "" && cl.Conn.RemoteAddr() != addr || laddr != "" && cl.Conn.LocalAddr() != laddr {
			continue
		}
		isPub := cl.subs.count() > 0
		if typ == "normal" && isPub || typ == "pubsub" && !isPub || typ == "master" || typ == "replica" || typ == "slave" {
			continue
		}
		if skipMe && cl == c.Client {
			continue
		}
		c.d.kill(c, cl)
		killed++
	}
	c.W.Int(int64(killed))
}

// kill disconnects cl; the caller's own connection closes after its reply.
func (d *Dispatcher) kill(c *Call, cl *Client) {
	if cl == c.Client {
		cl.CloseAfterReply = true
		return
	}
	_ = cl.Conn.Close()
}

// helpFor builds the HELP subcommand of a container command from its table entry.
func helpFor(parent string) func(c *Call) {
	return func(c *Call) {
		spec := table[strings.ToLower(parent)]
		lines := []string{fmt.Sprintf("%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", parent)}
		for _, s := range spec.Subs() {
			lines = append(lines, strings.TrimSpace(strings.ToUpper(s.Name)+" "+s.Syntax), "    "+s.Summary)
		}
		c.W.Array(len(lines))
		for _, l := range lines {
			c.W.Simple(l)
		}
	}
}

var _ = strconv.Itoa

// cmdClientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]: the target's
// blocking command answers as on a timeout, or with an UNBLOCKED error.
func cmdClientUnblock(c *Call) {
	if len(c.Args) > 4 {
		c.W.Error(errWrongArgs("client|unblock"))
		return
	}
	withError := false
	if len(c.Args) == 4 {
		switch {
		case keyword(c.Args[3], "TIMEOUT"):
		case keyword(c.Args[3], "ERROR"):
			withError = true
		default:
			c.W.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(msgNotInt)
		return
	}
	c.d.clientsMu.RLock()
	target := c.d.clients[id]
	c.d.clientsMu.RUnlock()
	if target != nil && c.d.watch.unblockClient(target, withError) {
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}
