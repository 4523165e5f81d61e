package commands

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/acl"
)

// The ACL family: users, rules and their enforcement, as Redis 7. The
// rules live in package acl; this file builds its catalog from the command
// table, checks commands at dispatch (admit), in EXEC and in scripts, and
// serves ACL, AUTH's user lookups and the ACL LOG.

var (
	catalogOnce sync.Once
	catalog     *acl.Catalog
)

// aclCatalog builds the ACL catalog from the one command table (once, after
// every family has registered), and links each spec to its entry.
func aclCatalog() *acl.Catalog {
	catalogOnce.Do(func() {
		catalog = acl.NewCatalog()
		for _, s := range Specs() {
			s.aclCmd = catalog.Add(s.Name, s.aclCategories(), nil)
			for _, sub := range s.Subs() {
				sub.aclCmd = catalog.Add(sub.Name, sub.aclCategories(), s.aclCmd)
			}
		}
	})
	return catalog
}

// aclState is the dispatcher's ACL state.
type aclState struct {
	reg *acl.Registry
	log acl.Log
	// denied counts INFO's acl_access_denied_{auth,cmd,key,channel}.
	deniedAuth, deniedCmd, deniedKey, deniedChannel atomic.Int64
	// Failed AUTHs are logged as a warning at most once per authWarnEvery,
	// with the count of those not logged since.
	authWarnLast   atomic.Int64 // unix ms
	authWarnQuiet  atomic.Int64
	authWarnMu     sync.Mutex
	fromConfigFile bool // users came from user lines (ACL SAVE/LOAD need an aclfile)
}

const authWarnEvery = 10 * time.Second

// Log contexts, as Redis' ACL LOG "context".
const (
	ctxToplevel = "toplevel"
	ctxMulti    = "multi"
	ctxLua      = "lua"
)

func init() {
	onNewDispatcher(func(d *Dispatcher) {
		d.acl.reg = acl.NewRegistry(aclCatalog())
		d.Config.Follow(func() { d.acl.reg.SetPubSubDefault(d.Config.Get("acl-pubsub-default") == "allchannels") }, "acl-pubsub-default")
		d.Config.Follow(func() { d.applyRequirepass(d.Config.Get("requirepass")) }, "requirepass")
	})
	register(&Spec{Name: "acl", Arity: -2, Group: "server", Since: "6.0.0", Summary: "A container for Access List Control commands.",
		Subcommands: []*Spec{
			{Name: "setuser", Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "username [rule [rule ...]]", Summary: "Creates and modifies an ACL user and its rules.", Example: "> ACL SETUSER app on >s3cret ~app:* +@session\nOK", Run: cmdACLSetuser},
			{Name: "getuser", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "username", Summary: "Lists the ACL rules of a user.", Example: "> ACL GETUSER app\n1) \"flags\"\n2) 1) \"on\"\n...", Run: cmdACLGetuser},
			{Name: "deluser", Arity: -3, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "username [username ...]", Summary: "Deletes ACL users, and terminates their connections.", Example: "> ACL DELUSER app\n(integer) 1", Run: cmdACLDeluser},
			{Name: "users", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Summary: "Lists all ACL users.", Example: "> ACL USERS\n1) \"app\"\n2) \"default\"", Run: cmdACLUsers},
			{Name: "list", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Summary: "Dumps the effective rules in ACL file format.", Example: "> ACL LIST\n1) \"user default on nopass sanitize-payload ~* &* +@all\"", Run: cmdACLList},
			{Name: "whoami", Arity: 2, Flags: FlagNoScript | FlagLoading | FlagStale, Summary: "Returns the authenticated username of the current connection.", Example: "> ACL WHOAMI\n\"default\"", Run: cmdACLWhoami},
			{Name: "cat", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale, Syntax: "[category]", Summary: "Lists the ACL categories, or the commands inside a category.", Example: "> ACL CAT session\n1) \"sess.new\"\n...", Run: cmdACLCat},
			{Name: "log", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "[count|RESET]", Summary: "Lists recent security events generated due to ACL rules.", Example: "> ACL LOG 1\n1) 1) \"count\"\n   2) (integer) 1\n...", Run: cmdACLLog},
			{Name: "genpass", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale, Syntax: "[bits]", Summary: "Generates a pseudorandom, secure password that can be used to identify ACL users.", Example: "> ACL GENPASS 64\n\"1a2b3c4d5e6f7a8b\"", Run: cmdACLGenpass},
			{Name: "dryrun", Arity: -4, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Syntax: "username command [arg [arg ...]]", Summary: "Simulates the execution of a command by a user, without executing the command.", Example: "> ACL DRYRUN app GET app:1\nOK", Run: cmdACLDryrun},
			{Name: "save", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Summary: "Saves the effective ACL rules in the configured ACL file.", Example: "> ACL SAVE\nOK", Run: cmdACLSave},
			{Name: "load", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Summary: "Reloads the rules from the configured ACL file.", Example: "> ACL LOAD\nOK", Run: cmdACLLoad},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("ACL")},
		}})
}

// applyRequirepass makes requirepass the default user's password, as Redis:
// a password replaces the default user's passwords, "" makes it nopass.
func (d *Dispatcher) applyRequirepass(pass string) {
	rule := "nopass"
	if pass != "" {
		rule = ">" + pass
	}
	if _, _, err := d.acl.reg.SetUser("default", []string{"resetpass", rule}); err != nil {
		log.Printf("acl: requirepass: %v", err)
	}
}

// LoadUsers loads the ACL users at startup: the config file's user lines or
// the aclfile (not both, as Redis). It fails when a rule is bad or the
// aclfile cannot be read.
func (d *Dispatcher) LoadUsers() error {
	lines := d.Config.DirectiveLines("user")
	file := d.Config.Get("aclfile")
	if len(lines) > 0 && file != "" {
		return errors.New("configuring Redis with users defined in redis.conf and at the same time setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both")
	}
	if len(lines) > 0 {
		text := make([]string, len(lines))
		for i, l := range lines {
			text[i] = "user " + strings.Join(quoteRules(l.Args), " ")
		}
		users, err := d.acl.reg.ParseUsers(text, func(i int) string { return lines[i].Origin })
		if err != nil {
			return fmt.Errorf("acl: %w", err)
		}
		d.installUsers(users, nil)
		d.acl.fromConfigFile = true
		return nil
	}
	if file != "" {
		if err := d.loadACLFile(nil); err != nil {
			return fmt.Errorf("acl: %w", err)
		}
	}
	return nil
}

// quoteRules quotes rules that hold spaces (selectors) for re-parsing.
func quoteRules(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t\"'") {
			out[i] = strconv.Quote(a)
		} else {
			out[i] = a
		}
	}
	return out
}

func (d *Dispatcher) aclFilePath() string {
	f := d.Config.Get("aclfile")
	if f == "" || filepath.IsAbs(f) {
		return f
	}
	return filepath.Join(d.Config.Get("dir"), f)
}

func (d *Dispatcher) loadACLFile(self *Client) error {
	path := d.aclFilePath()
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("Error loading ACLs, opening file '%s': %s", d.Config.Get("aclfile"), strerrorOf(err))
	}
	users, err := d.acl.reg.ParseFile(string(data), d.Config.Get("aclfile"))
	if err != nil {
		return err
	}
	d.installUsers(users, self)
	return nil
}

func strerrorOf(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// installUsers swaps in a whole user set (startup, ACL LOAD). As Redis,
// every user but default is new afterwards: their clients (self included,
// after its reply) are disconnected.
func (d *Dispatcher) installUsers(users map[string]*acl.User, self *Client) {
	gone := d.acl.reg.Replace(users)
	for _, a := range gone {
		d.killAccount(a, self)
	}
	d.refreshPubSubClients()
}

// killAccount disconnects every client authenticated as a (self closes
// after its reply).
func (d *Dispatcher) killAccount(a *acl.Account, self *Client) {
	for _, cl := range d.Clients() {
		if cl.account.Load() == a {
			d.drop(cl, self)
		}
	}
}

// drop disconnects cl for an ACL change. It leaves the client list at once,
// as Redis frees the client at once (a CLIENT LIST right after the change
// does not show it); the server releases it again when the socket closes.
func (d *Dispatcher) drop(cl, self *Client) {
	if cl == self {
		cl.CloseAfterReply = true
		return
	}
	_ = cl.Conn.Close()
	d.Release(cl)
}

// refreshPubSubClients disconnects subscribers whose user may no longer
// listen to one of their channels or patterns (Redis'
// ACLKillPubsubClientsIfNeeded).
func (d *Dispatcher) refreshPubSubClients() {
	for _, cl := range d.Clients() {
		a := cl.account.Load()
		if a == nil || cl.subs.count() == 0 {
			continue
		}
		u := a.User()
		if u.Unrestricted() {
			continue
		}
		ok := true
		cl.subs.mu.Lock()
		for ch := range cl.subs.channels {
			if !u.CheckChannel(ch, false) {
				ok = false
			}
		}
		for ch := range cl.subs.shards {
			if !u.CheckChannel(ch, false) {
				ok = false
			}
		}
		for p := range cl.subs.patterns {
			if !u.CheckChannel(p, true) {
				ok = false
			}
		}
		cl.subs.mu.Unlock()
		if !ok {
			d.drop(cl, nil)
		}
	}
}

// DefaultUserProtected reports whether the default user needs a password
// or is disabled: protected mode then lets other machines connect, as Redis.
func (d *Dispatcher) DefaultUserProtected() bool {
	u := d.acl.reg.Default().User()
	return !u.Enabled || !u.NoPass
}

// resetAuth puts a client back on the default user: authenticated when the
// default user is on and needs no password.
func (d *Dispatcher) resetAuth(cl *Client) {
	a := d.acl.reg.Default()
	u := a.User()
	cl.account.Store(a)
	cl.Authed = u.Enabled && u.NoPass
}

// authenticate checks a user name and password and, on success, moves the
// client to that user. A failure lands in ACL LOG, counts in
// acl_access_denied_auth and is logged as a warning at a bounded rate.
func (d *Dispatcher) authenticate(c *Call, user, pass string) bool {
	a := d.acl.reg.Authenticate(user, pass)
	if a == nil {
		d.acl.deniedAuth.Add(1)
		ctx := ctxToplevel
		if c.Client.multi.active {
			ctx = ctxMulti
		}
		d.logDenial(c.Client, acl.DeniedAuth, ctx, string(c.Args[0]), user, c.Now)
		d.warnFailedAuth(c.Client, user, c.Now)
		return false
	}
	c.Client.account.Store(a)
	c.Client.Authed = true
	return true
}

// warnFailedAuth logs failed authentications as a brute-force signal, at
// most one line per authWarnEvery with the count of the failures since.
func (d *Dispatcher) warnFailedAuth(cl *Client, user string, now time.Time) {
	st := &d.acl
	st.authWarnMu.Lock()
	defer st.authWarnMu.Unlock()
	last := st.authWarnLast.Load()
	if last != 0 && now.UnixMilli()-last < authWarnEvery.Milliseconds() {
		st.authWarnQuiet.Add(1)
		return
	}
	quiet := st.authWarnQuiet.Swap(0)
	st.authWarnLast.Store(now.UnixMilli())
	if quiet > 0 {
		log.Printf("warning: failed AUTH for user '%s' from %s (%d more failed AUTHs in the last %s; see ACL LOG)", user, cl.Conn.RemoteAddr(), quiet, authWarnEvery)
		return
	}
	log.Printf("warning: failed AUTH for user '%s' from %s (see ACL LOG)", user, cl.Conn.RemoteAddr())
}

func (d *Dispatcher) logDenial(cl *Client, why acl.Denial, ctx, object, user string, now time.Time) {
	max := int(d.Config.Int("acllog-max-len"))
	d.acl.log.Add(acl.LogEntry{Reason: why.Reason(), Context: ctx, Object: object, Username: user, ClientInfo: d.describe(cl, now, nil)}, now, max)
}

// aclRequest describes a resolved command for a permission check: its keys
// from the table's key positions and its channels.
func aclRequest(spec *Spec, args [][]byte) acl.Request {
	r := acl.Request{Cmd: spec.aclCmd, Args: args, NoAuth: spec.Flags&FlagNoAuth != 0}
	if spec.KeyRefs != nil {
		r.Keys = spec.KeyRefs(args)
	} else if len(spec.KeySpecs) > 0 && !spec.incompleteSpecs() {
		r.Keys = spec.keySpecRefs(args)
	} else if spec.hasKeys() {
		access := spec.keyAccess()
		for _, p := range spec.keyPositions(args) {
			if p > 0 && p < len(args) {
				r.Keys = append(r.Keys, acl.KeyRef{Pos: p, Access: access})
			}
		}
	}
	if spec.Channels != nil {
		r.Channels = spec.Channels(args)
	}
	return r
}

// checkACL asks the client's user whether it may run spec with args. On a
// denial it logs it, counts it and returns the denial and the argument it
// concerns; the caller words the error.
func (d *Dispatcher) checkACL(cl *Client, spec *Spec, args [][]byte, ctx string, now time.Time) (acl.Denial, int) {
	u := cl.account.Load().User()
	if u.Unrestricted() {
		return acl.Allowed, 0
	}
	aclCatalog()
	r := aclRequest(spec, args)
	why, pos := u.Check(&r)
	if why == acl.Allowed {
		return why, 0
	}
	object := spec.FullName()
	switch why {
	case acl.DeniedCmd:
		d.acl.deniedCmd.Add(1)
	case acl.DeniedKey:
		d.acl.deniedKey.Add(1)
		object = string(args[pos])
	case acl.DeniedChannel:
		d.acl.deniedChannel.Add(1)
		object = string(args[pos])
	}
	d.logDenial(cl, why, ctx, object, u.Name, now)
	return why, pos
}

// noPermMessage is the -NOPERM reply for a denial at dispatch (Redis 7.0's
// processCommand words).
func noPermMessage(why acl.Denial, spec *Spec) string {
	switch why {
	case acl.DeniedCmd:
		return fmt.Sprintf("NOPERM this user has no permissions to run the '%s' command", spec.FullName())
	case acl.DeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	case acl.DeniedChannel:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	return "NOPERM no permission"
}

// execDenied words a queued command that the ACLs refuse at EXEC time.
func execDenied(why acl.Denial) string {
	reason := "no permission"
	switch why {
	case acl.DeniedCmd:
		reason = "no permission to execute the command or subcommand"
	case acl.DeniedKey:
		reason = "no permission to touch the specified keys"
	case acl.DeniedChannel:
		reason = "no permission to access one of the channels used as arguments"
	}
	return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + reason
}

// scriptDenied words a redis.call the ACLs refuse (Redis' scriptVerifyACL).
func scriptDenied(why acl.Denial) string {
	switch why {
	case acl.DeniedCmd:
		return "The user executing the script can't run this command or subcommand"
	case acl.DeniedKey:
		return "The user executing the script can't access at least one of the keys mentioned in the command arguments"
	case acl.DeniedChannel:
		return "The user executing the script can't publish to the channel mentioned in the command"
	}
	return "The user executing the script is lacking the permissions for the command"
}

// Username is the user the client is authenticated as.
func (cl *Client) Username() string {
	a := cl.account.Load()
	if a == nil {
		return "default"
	}
	return a.User().Name
}

// --- the ACL command ---

func cmdACLSetuser(c *Call) {
	name := c.Arg(2)
	if strings.ContainsAny(name, " \t\r\n\x00") {
		c.W.Error("ERR Usernames can't contain spaces or null characters")
		return
	}
	rules := make([]string, 0, len(c.Args)-3)
	for _, a := range c.Args[3:] {
		rules = append(rules, string(a))
	}
	if _, _, err := c.d.acl.reg.SetUser(name, rules); err != nil {
		c.W.Error("ERR " + err.Error())
		return
	}
	c.d.refreshPubSubClients()
	c.W.OK()
}

func cmdACLGetuser(c *Call) {
	a := c.d.acl.reg.Lookup(c.Arg(2))
	if a == nil {
		c.W.Null()
		return
	}
	u := a.User()
	cat := c.d.acl.reg.Catalog
	sels := u.Selectors(cat)
	c.W.Map(6)
	c.W.BulkString("flags")
	flags := u.Flags()
	c.W.Array(len(flags))
	for _, f := range flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("passwords")
	pw := u.Passwords()
	c.W.Array(len(pw))
	for _, p := range pw {
		c.W.BulkString(p)
	}
	root := sels[0]
	c.W.BulkString("commands")
	c.W.BulkString(root.Commands)
	c.W.BulkString("keys")
	c.W.BulkString(root.Keys)
	c.W.BulkString("channels")
	c.W.BulkString(root.Channels)
	c.W.BulkString("selectors")
	c.W.Array(len(sels) - 1)
	for _, s := range sels[1:] {
		c.W.Map(3)
		c.W.BulkString("commands")
		c.W.BulkString(s.Commands)
		c.W.BulkString("keys")
		c.W.BulkString(s.Keys)
		c.W.BulkString("channels")
		c.W.BulkString(s.Channels)
	}
}

func cmdACLDeluser(c *Call) {
	for _, a := range c.Args[2:] {
		if string(a) == "default" {
			c.W.Error("ERR The 'default' user cannot be removed")
			return
		}
	}
	n := 0
	for _, a := range c.Args[2:] {
		if acct := c.d.acl.reg.DelUser(string(a)); acct != nil {
			n++
			c.d.killAccount(acct, c.Client)
		}
	}
	c.W.Int(int64(n))
}

func cmdACLUsers(c *Call) {
	names := c.d.acl.reg.Names()
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func cmdACLList(c *Call) {
	lines := c.d.acl.reg.Lines()
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.BulkString(l)
	}
}

func cmdACLWhoami(c *Call) { c.W.BulkString(c.Client.Username()) }

func cmdACLCat(c *Call) {
	if len(c.Args) > 3 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.")
		return
	}
	if len(c.Args) == 2 {
		// The categories this server has commands in (sessiond has no
		// HyperLogLog or geo commands: those categories are accepted in
		// rules but not listed).
		var names []string
		for _, n := range acl.CategoryNames() {
			cat, _ := acl.CategoryByName(n)
			if len(c.d.acl.reg.Catalog.InCategory(cat)) > 0 {
				names = append(names, n)
			}
		}
		c.W.Array(len(names))
		for _, n := range names {
			c.W.BulkString(n)
		}
		return
	}
	cat, ok := acl.CategoryByName(c.Arg(2))
	if !ok {
		c.W.Error(fmt.Sprintf("ERR Unknown category '%s'", c.Arg(2)))
		return
	}
	names := c.d.acl.reg.Catalog.InCategory(cat)
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func cmdACLLog(c *Call) {
	n := -1
	if len(c.Args) > 3 {
		c.W.Error(msgSyntax)
		return
	}
	if len(c.Args) == 3 {
		if keyword(c.Args[2], "RESET") {
			c.d.acl.log.Reset()
			c.W.OK()
			return
		}
		v, ok := parseInt(c.Args[2])
		if !ok || v < 0 {
			c.W.Error("ERR value is out of range, must be positive")
			return
		}
		n = int(v)
	}
	now := time.Now()
	entries := c.d.acl.log.Entries(n)
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Map(10)
		c.W.BulkString("count")
		c.W.Int(e.Count)
		c.W.BulkString("reason")
		c.W.BulkString(e.Reason)
		c.W.BulkString("context")
		c.W.BulkString(e.Context)
		c.W.BulkString("object")
		c.W.BulkString(e.Object)
		c.W.BulkString("username")
		c.W.BulkString(e.Username)
		c.W.BulkString("age-seconds")
		c.W.Double(float64(now.Sub(e.Updated).Milliseconds()) / 1000)
		c.W.BulkString("client-info")
		c.W.BulkString(e.ClientInfo)
		c.W.BulkString("entry-id")
		c.W.Int(e.ID)
		c.W.BulkString("timestamp-created")
		c.W.Int(e.Created.UnixMilli())
		c.W.BulkString("timestamp-last-updated")
		c.W.Int(e.Updated.UnixMilli())
	}
}

func cmdACLGenpass(c *Call) {
	bits := int64(256)
	if len(c.Args) > 3 {
		c.W.Error(errUnknownSubcommand("GENPASS", "ACL"))
		return
	}
	if len(c.Args) == 3 {
		v, ok := parseInt(c.Args[2])
		if !ok || v <= 0 || v > 4096 {
			c.W.Error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
			return
		}
		bits = v
	}
	chars := (bits + 3) / 4
	buf := make([]byte, (chars+1)/2)
	if _, err := rand.Read(buf); err != nil {
		c.W.Error("ERR " + err.Error())
		return
	}
	c.W.BulkString(hex.EncodeToString(buf)[:chars])
}

func cmdACLDryrun(c *Call) {
	a := c.d.acl.reg.Lookup(c.Arg(2))
	if a == nil {
		c.W.Error(fmt.Sprintf("ERR User '%s' not found", c.Arg(2)))
		return
	}
	args := c.Args[3:]
	spec := lookupCommand(args)
	if spec == nil {
		c.W.Error(fmt.Sprintf("ERR Command '%s' not found", args[0]))
		return
	}
	if !arityOK(spec.Arity, len(args)) {
		c.W.Error(errWrongArgs(spec.FullName()))
		return
	}
	aclCatalog()
	r := aclRequest(spec, args)
	why, pos := a.User().Check(&r)
	switch why {
	case acl.Allowed:
		c.W.OK()
	case acl.DeniedCmd:
		c.W.BulkString(fmt.Sprintf("This user has no permissions to run the '%s' command", spec.FullName()))
	case acl.DeniedKey:
		c.W.BulkString(fmt.Sprintf("This user has no permissions to access the '%s' key", args[pos]))
	case acl.DeniedChannel:
		c.W.BulkString(fmt.Sprintf("This user has no permissions to access the '%s' channel", args[pos]))
	}
}

func cmdACLSave(c *Call) {
	if c.d.Config.Get("aclfile") == "" {
		c.W.Error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
		return
	}
	path := c.d.aclFilePath()
	text := strings.Join(c.d.acl.reg.Lines(), "\n") + "\n"
	tmp := path + ".tmp"
	err := os.WriteFile(tmp, []byte(text), 0o600)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		log.Printf("acl: save %s: %v", path, err)
		c.W.Error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.W.OK()
}

func cmdACLLoad(c *Call) {
	if c.d.Config.Get("aclfile") == "" {
		c.W.Error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.")
		return
	}
	if err := c.d.loadACLFile(c.Client); err != nil {
		c.W.Error("ERR " + err.Error())
		return
	}
	c.W.OK()
}

// aclConfigLines are the user lines CONFIG REWRITE writes when users are not
// kept in an aclfile, as Redis does.
func (d *Dispatcher) aclConfigLines() string {
	if d.Config.Get("aclfile") != "" {
		return ""
	}
	var b strings.Builder
	for _, l := range d.acl.reg.Lines() {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}
