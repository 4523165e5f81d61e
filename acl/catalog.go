// Package acl is sessiond's access control, as Redis 7's ACLs: users with
// passwords and selectors (a root one and any number of "(...)" ones), each
// selector a set of allowed commands (a bitmap over command ids, with
// categories as shortcuts), key patterns with read/write permissions and
// channel patterns. The command layer builds the Catalog from its one command
// table, asks a User whether it may run a command with its keys and
// channels, and keeps the denials in a Log.
//
// The package knows nothing about sockets or RESP. Users are immutable once
// published: ACL SETUSER builds a changed copy and swaps it in the Registry,
// so a permission check never takes a lock.
package acl

import (
	"sort"
	"strings"
)

// Category is one ACL category bit (@read, @write, ...).
type Category uint64

// Categories, in Redis' order (ACL CAT lists them in this order), then
// sessiond's own for the native commands.
const (
	CatKeyspace Category = 1 << iota
	CatRead
	CatWrite
	CatSet
	CatSortedSet
	CatList
	CatHash
	CatString
	CatBitmap
	CatHyperLogLog
	CatGeo
	CatStream
	CatPubSub
	CatAdmin
	CatFast
	CatSlow
	CatBlocking
	CatDangerous
	CatConnection
	CatTransaction
	CatScripting
	CatSession
	CatToken
	CatJWT
)

var categoryNames = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting",
	"session", "token", "jwt",
}

// CategoryNames lists every category name without the '@', in ACL CAT order.
func CategoryNames() []string { return append([]string(nil), categoryNames...) }

// CategoryByName returns the category named name (without '@',
// case-insensitive).
func CategoryByName(name string) (Category, bool) {
	for i, n := range categoryNames {
		if strings.EqualFold(n, name) {
			return Category(1) << i, true
		}
	}
	return 0, false
}

// ParseCategories parses "@read @fast" (the '@' optional) into a mask; it
// panics on an unknown name, since categories come from the command table.
func ParseCategories(s string) Category {
	var c Category
	for _, f := range strings.Fields(s) {
		bit, ok := CategoryByName(strings.TrimPrefix(f, "@"))
		if !ok {
			panic("acl: unknown category " + f)
		}
		c |= bit
	}
	return c
}

// Names lists the categories of the mask, with '@', in ACL CAT order.
func (c Category) Names() []string {
	var out []string
	for i, n := range categoryNames {
		if c&(1<<i) != 0 {
			out = append(out, "@"+n)
		}
	}
	return out
}

// KeyAccess says what a command does with a key, for %R~ and %W~ patterns
// (Redis' key-spec flags reduced to what ACLs look at).
type KeyAccess uint8

const (
	// KeyRead: the command reads the key's value (Redis' ACCESS).
	KeyRead KeyAccess = 1 << iota
	// KeyWrite: the command inserts, updates or deletes (INSERT, UPDATE, DELETE).
	KeyWrite
	// KeyNone: the command neither reads the value nor writes (EXISTS,
	// TYPE, STRLEN): any pattern that matches the key grants it.
	KeyNone KeyAccess = 1 << 7
)

// Command is one command or subcommand as ACLs see it.
type Command struct {
	ID         int
	Name       string // "get", or "config|get" for a subcommand
	Categories Category
	Parent     *Command
	subs       []*Command
}

// Catalog is the set of commands ACL rules name. It is built once, before
// any user exists, from the command table.
type Catalog struct {
	byName map[string]*Command
	top    []*Command // sorted by name
	all    []*Command // by id
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog { return &Catalog{byName: map[string]*Command{}} }

// Add declares a command (parent nil) or a subcommand of parent, named
// without the parent ("get" under "config").
func (c *Catalog) Add(name string, cats Category, parent *Command) *Command {
	full := strings.ToLower(name)
	if parent != nil {
		full = parent.Name + "|" + full
	}
	cmd := &Command{ID: len(c.all), Name: full, Categories: cats, Parent: parent}
	c.all = append(c.all, cmd)
	c.byName[full] = cmd
	if parent != nil {
		parent.subs = append(parent.subs, cmd)
		sort.Slice(parent.subs, func(i, j int) bool { return parent.subs[i].Name < parent.subs[j].Name })
	} else {
		c.top = append(c.top, cmd)
		sort.Slice(c.top, func(i, j int) bool { return c.top[i].Name < c.top[j].Name })
	}
	return cmd
}

// Lookup finds a command by its full name ("get", "config|get"), case-insensitively.
func (c *Catalog) Lookup(name string) *Command { return c.byName[strings.ToLower(name)] }

// Len is the number of commands and subcommands.
func (c *Catalog) Len() int { return len(c.all) }

// InCategory lists the full names of the commands and subcommands in cat,
// in table order (commands by name, each followed by its subcommands).
func (c *Catalog) InCategory(cat Category) []string {
	var out []string
	c.walk(func(cmd *Command) {
		if cmd.Categories&cat != 0 {
			out = append(out, cmd.Name)
		}
	})
	return out
}

// walk visits every command then its subcommands, by name.
func (c *Catalog) walk(fn func(cmd *Command)) {
	for _, cmd := range c.top {
		fn(cmd)
		for _, s := range cmd.subs {
			fn(s)
		}
	}
}
