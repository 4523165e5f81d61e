// Package commands is sessiond's command layer: the command table, argument
// parsing, and one file per command family. A command parses its arguments,
// calls the engine (one transaction), and writes its reply. It knows nothing
// of sockets; the server package feeds it parsed commands and flushes replies.
package commands

import (
	"sort"
	"strings"
	"sync/atomic"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/latency"
)

// Flag is a command property, as in Redis' command table.
type Flag uint32

const (
	FlagWrite    Flag = 1 << iota // may modify the keyspace
	FlagReadonly                  // reads only
	FlagDenyOOM                   // may grow memory
	FlagAdmin                     // administrative
	FlagPubSub                    // pub/sub related
	FlagNoScript                  // not allowed from scripts
	FlagBlocking                  // may block the client
	FlagLoading                   // allowed while loading
	FlagStale                     // allowed on a stale replica
	FlagFast                      // O(1) or O(log N)
	FlagNoAuth                    // allowed before AUTH
	FlagNoMulti                   // refused inside MULTI (SAVE, SHUTDOWN), as Redis' no_multi
	FlagAllowBusy
	// FlagTxControl marks the commands a client in MULTI runs at once
	// instead of queueing (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET): Redis
	// singles them out in processCommand, not in its table, so COMMAND does
	// not show it.
	FlagTxControl
	// FlagBatch lets consecutive pipelined commands of one client share one
	// engine transaction (one lock, one write to the data file). A batchable
	// handler must do all its work through one c.Read or c.Write and must not
	// write anything before it returns an error, since a shared transaction
	// cannot roll back one command alone. It is not shown by COMMAND.
	FlagBatch
	// FlagLong marks a command that may run long (a script, KEYS, SORT,
	// FLUSHALL, SAVE) or wait (with FlagBlocking): the server runs it off its
	// event loop, so the other connections of the loop are not held up. It is
	// not shown by COMMAND.
	FlagLong
)

var flagNames = []struct {
	f    Flag
	name string
}{
	{FlagWrite, "write"}, {FlagReadonly, "readonly"}, {FlagDenyOOM, "denyoom"},
	{FlagAdmin, "admin"}, {FlagPubSub, "pubsub"}, {FlagNoScript, "noscript"},
	{FlagBlocking, "blocking"}, {FlagLoading, "loading"}, {FlagStale, "stale"},
	{FlagFast, "fast"}, {FlagNoAuth, "no_auth"}, {FlagNoMulti, "no_multi"},
	{FlagAllowBusy, "allow_busy"},
}

// Spec declares one command. It is the only description of a command:
// dispatch, the arity check, COMMAND, COMMAND DOCS, the docs page and INFO
// commandstats all read it.
type Spec struct {
	Name     string // lowercase; "parent|sub" for subcommands after registration
	Arity    int    // exact argument count including the name; negative: at least -Arity
	Flags    Flag
	FirstKey int // position of the first key (0: none)
	LastKey  int // position of the last key (-1: the last argument)
	Step     int // distance between keys
	Group    string
	Since    string
	Summary  string
	Syntax   string // arguments after the name, for docs: "key value [EX seconds]"
	Example  string // a session showing the command, for docs ("> cmd\nreply")
	Run      func(c *Call)
	// MovableKeys finds keys that FirstKey/LastKey/Step cannot describe
	// (SORT's STORE destination): their argument indexes, counting the
	// command name as 0. COMMAND shows such commands as "movablekeys".
	MovableKeys func(args [][]byte) []int
	// KeySpecs declare keys that one range cannot describe (see KeySpec);
	// FirstKey/LastKey/Step then hold Redis' legacy range (the keys at
	// fixed positions, or 0 0 0).
	KeySpecs []KeySpec
	// Subcommands of a container command (CLIENT, CONFIG, ...), by name.
	Subcommands []*Spec
	// ACL names ACL categories beyond those the group and flags give
	// ("@dangerous", "@keyspace"): see ACLCategories.
	ACL string
	// KeyAccess is what the command does with its keys, for %R~ / %W~
	// patterns; zero derives it from the flags (readonly: read; write:
	// read and write, as Redis' RW keys).
	KeyAccess acl.KeyAccess
	// KeyRefs finds the keys and what the command does with each when
	// that differs between keys or depends on options (a read source and
	// a written destination, SET ... GET); it replaces the key positions
	// and KeyAccess for ACL checks.
	KeyRefs func(args [][]byte) []acl.KeyRef
	// Channels finds the channel arguments ACLs check (PUBLISH, SUBSCRIBE,
	// PSUBSCRIBE).
	Channels func(args [][]byte) []acl.ChannelRef

	parent *Spec
	subs   map[string]*Spec
	stats  cmdStats
	aclCmd *acl.Command // set when the ACL catalog is built (aclCatalog)
}

type cmdStats struct {
	calls, usec, rejected, failed atomic.Int64
	// hist counts calls by duration (LATENCY HISTOGRAM, the metrics
	// endpoint); its sum stays unused, usec has it.
	hist latency.Histogram
}

// FullName is "name" or "parent|name", as Redis names subcommands.
func (s *Spec) FullName() string {
	if s.parent != nil {
		return s.parent.Name + "|" + s.Name
	}
	return s.Name
}

var table = map[string]*Spec{}

// registerSubcommands adds subcommands to a container command registered
// by another family's file (CLIENT TRACKING beside CLIENT's own); if the
// container is not registered yet (files init in name order), they wait
// for it.
func registerSubcommands(parent string, subs ...*Spec) {
	s := table[parent]
	if s == nil {
		pendingSubs[parent] = append(pendingSubs[parent], subs...)
		return
	}
	attachSubcommands(s, subs)
}

var pendingSubs = map[string][]*Spec{}

func attachSubcommands(s *Spec, subs []*Spec) {
	if s.subs == nil {
		panic("commands: not a container command: " + s.Name)
	}
	parent := s.Name
	for _, sub := range subs {
		if _, dup := s.subs[sub.Name]; dup {
			panic("commands: duplicate subcommand " + parent + "|" + sub.Name)
		}
		sub.parent = s
		if sub.Step == 0 && sub.FirstKey > 0 {
			sub.Step = 1
		}
		s.subs[sub.Name] = sub
		s.Subcommands = append(s.Subcommands, sub)
	}
}

// register adds commands to the table. Families call it from init.
func register(specs ...*Spec) {
	for _, s := range specs {
		if _, dup := table[s.Name]; dup {
			panic("commands: duplicate command " + s.Name)
		}
		if s.Step == 0 && s.FirstKey > 0 {
			s.Step = 1
		}
		if len(s.Subcommands) > 0 {
			s.subs = map[string]*Spec{}
			for _, sub := range s.Subcommands {
				sub.parent = s
				if sub.Step == 0 && sub.FirstKey > 0 {
					sub.Step = 1
				}
				s.subs[sub.Name] = sub
			}
		}
		table[s.Name] = s
		if subs := pendingSubs[s.Name]; subs != nil {
			delete(pendingSubs, s.Name)
			attachSubcommands(s, subs)
		}
	}
}

// lookupCommand finds the command args names: its subcommand when args[1]
// names one, else the command itself (nil when there is none).
func lookupCommand(args [][]byte) *Spec {
	spec := lookup(args[0])
	if spec != nil && spec.subs != nil && len(args) >= 2 {
		if sub := spec.subs[strings.ToLower(string(args[1]))]; sub != nil {
			return sub
		}
	}
	return spec
}

// lookup finds a command by name, case-insensitively, without allocating for
// names that are already lowercase.
func lookup(name []byte) *Spec {
	if s, ok := table[string(name)]; ok {
		return s
	}
	var buf [32]byte
	if len(name) <= len(buf) {
		for i, c := range name {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		return table[string(buf[:len(name)])]
	}
	return table[strings.ToLower(string(name))]
}

// Specs returns every top-level command, sorted by name.
func Specs() []*Spec {
	out := make([]*Spec, 0, len(table))
	for _, s := range table {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Subs returns a container command's subcommands, sorted by name.
func (s *Spec) Subs() []*Spec {
	out := append([]*Spec(nil), s.Subcommands...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FlagNames lists the spec's flags in Redis' words.
func (s *Spec) FlagNames() []string {
	var out []string
	for _, fn := range flagNames {
		if s.Flags&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	movable := s.MovableKeys != nil
	for _, k := range s.KeySpecs {
		movable = movable || k.movable()
	}
	if movable {
		out = append(out, "movablekeys")
	}
	return out
}

// ACLCategories lists the command's ACL categories ("@read", ...), in ACL
// CAT order: those of its group and flags, as Redis assigns them, plus the
// declaration's ACL field.
func (s *Spec) ACLCategories() []string { return s.aclCategories().Names() }

func (s *Spec) aclCategories() acl.Category {
	c := acl.ParseCategories(s.ACL)
	if len(s.Subcommands) > 0 {
		// A container (CONFIG, CLIENT) is only a name: its subcommands
		// carry the categories, as in Redis.
		return c | acl.CatSlow
	}
	group := s.Group
	if s.parent != nil {
		c |= acl.ParseCategories(s.parent.ACL)
		if group == "" {
			group = s.parent.Group
		}
	}
	switch group {
	case "string":
		c |= acl.CatString
	case "hash":
		c |= acl.CatHash
	case "list":
		c |= acl.CatList
	case "set":
		c |= acl.CatSet
	case "sortedset":
		c |= acl.CatSortedSet
	case "stream":
		c |= acl.CatStream
	case "bitmap":
		c |= acl.CatBitmap
	case "hyperloglog":
		c |= acl.CatHyperLogLog
	case "geo":
		c |= acl.CatGeo
	case "pubsub":
		c |= acl.CatPubSub
	case "connection":
		c |= acl.CatConnection
	case "transactions":
		c |= acl.CatTransaction
	case "scripting":
		c |= acl.CatScripting
	case "generic":
		c |= acl.CatKeyspace
	case "session":
		c |= acl.CatSession
	case "token":
		c |= acl.CatToken
	case "jwt":
		c |= acl.CatJWT
	}
	if s.Flags&FlagWrite != 0 {
		c |= acl.CatWrite
	}
	if s.Flags&FlagReadonly != 0 {
		c |= acl.CatRead
	}
	if s.Flags&FlagAdmin != 0 {
		c |= acl.CatAdmin | acl.CatDangerous
	}
	if s.Flags&FlagPubSub != 0 {
		c |= acl.CatPubSub
	}
	if s.Flags&FlagBlocking != 0 {
		c |= acl.CatBlocking
	}
	if s.Flags&FlagFast != 0 {
		c |= acl.CatFast
	} else {
		c |= acl.CatSlow
	}
	return c
}

// keyAccess is what the command does with its keys (see Spec.KeyAccess).
func (s *Spec) keyAccess() acl.KeyAccess {
	switch {
	case s.KeyAccess != 0:
		return s.KeyAccess
	case s.Flags&FlagWrite != 0:
		return acl.KeyRead | acl.KeyWrite
	case s.Flags&FlagReadonly != 0:
		return acl.KeyRead
	}
	return 0
}

// keyPositions returns the argument indexes holding keys for args: those
// of the declared key specs, or of the FirstKey/LastKey/Step range, then
// those MovableKeys finds.
func (s *Spec) keyPositions(args [][]byte) []int {
	var out []int
	if s.MovableKeys != nil && s.incompleteSpecs() {
		// Specs that cannot find every key (MIGRATE's KEYS after AUTH
		// arguments): the command's own finder does, as Redis'
		// getkeys_proc.
		return s.MovableKeys(args)
	}
	if len(s.KeySpecs) > 0 {
		for _, k := range s.KeySpecs {
			out = k.positions(args, out)
		}
	} else if s.FirstKey > 0 {
		last := s.LastKey
		if last < 0 {
			last = len(args) + last
		}
		for i := s.FirstKey; i <= last && i < len(args); i += s.Step {
			out = append(out, i)
		}
	}
	if s.MovableKeys != nil {
		out = append(out, s.MovableKeys(args)...)
	}
	return out
}
