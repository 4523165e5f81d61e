package acl

import (
	"errors"
	"strings"

	"github.com/sessiond/sessiond/glob"
)

// maxCommands bounds command ids; the last bit stands for "commands added
// later" and is set only by +@all / allcommands, as Redis' reserved bit.
const maxCommands = 1024

const futureBit = maxCommands - 1

type bitmap [maxCommands / 64]uint64

func (b *bitmap) get(id int) bool { return b[id/64]&(1<<(id%64)) != 0 }
func (b *bitmap) set(id int, v bool) {
	if v {
		b[id/64] |= 1 << (id % 64)
	} else {
		b[id/64] &^= 1 << (id % 64)
	}
}

// Rule errors, in Redis' words (ACLSetUserStringError).
var (
	ErrUnknownCommand = errors.New("Unknown command or category name in ACL")
	ErrSyntax         = errors.New("Syntax error")
	ErrKeysAfterAll   = errors.New("Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
	ErrChansAfterAll  = errors.New("Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
	ErrNoSuchPassword = errors.New("The password you are trying to remove from the user does not exist")
	ErrBadHash        = errors.New("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
	ErrSubFirstArg    = errors.New("Allowing first-arg of a subcommand is not supported")
	ErrDuplicateUser  = errors.New("Duplicate user found. A user can only be defined once in config files")
)

// KeyPattern is one key pattern of a selector with the access it grants.
type KeyPattern struct {
	Pattern string
	Perm    KeyAccess
}

// Selector is one set of permissions: a user may run a command when one of
// its selectors allows the command with all its keys and channels.
type Selector struct {
	allKeys, allChannels, allCommands bool
	cmds                              bitmap
	firstArgs                         map[int][]string // allowed first arguments of a denied command (+select|0)
	keys                              []KeyPattern
	channels                          []string
}

func (s *Selector) clone() *Selector {
	n := *s
	n.keys = append([]KeyPattern(nil), s.keys...)
	n.channels = append([]string(nil), s.channels...)
	if s.firstArgs != nil {
		n.firstArgs = make(map[int][]string, len(s.firstArgs))
		for k, v := range s.firstArgs {
			n.firstArgs[k] = append([]string(nil), v...)
		}
	}
	return &n
}

func (s *Selector) setBit(id int, v bool) {
	s.cmds.set(id, v)
	if !v {
		s.allCommands = false
	}
}

// changePerm allows or denies a command; a container's subcommands follow.
func (s *Selector) changePerm(cmd *Command, allow bool) {
	s.setBit(cmd.ID, allow)
	delete(s.firstArgs, cmd.ID)
	for _, sub := range cmd.subs {
		s.setBit(sub.ID, allow)
	}
}

func (s *Selector) setCategory(cat *Catalog, c Category, allow bool) {
	cat.walk(func(cmd *Command) {
		if cmd.Categories&c != 0 {
			s.changePerm(cmd, allow)
		}
	})
}

func (s *Selector) setAll(allow bool) {
	for i := range s.cmds {
		if allow {
			s.cmds[i] = ^uint64(0)
		} else {
			s.cmds[i] = 0
		}
	}
	s.allCommands = allow
	s.firstArgs = nil
}

// apply applies one selector rule (ACLSetSelector).
func (s *Selector) apply(cat *Catalog, op string) error {
	low := strings.ToLower(op)
	switch {
	case low == "allkeys" || op == "~*":
		s.allKeys, s.keys = true, nil
	case low == "resetkeys":
		s.allKeys, s.keys = false, nil
	case low == "allchannels" || op == "&*":
		s.allChannels, s.channels = true, nil
	case low == "resetchannels":
		s.allChannels, s.channels = false, nil
	case low == "allcommands" || low == "+@all":
		s.setAll(true)
	case low == "nocommands" || low == "-@all":
		s.setAll(false)
	case op[0] == '~' || op[0] == '%':
		if s.allKeys {
			return ErrKeysAfterAll
		}
		var perm KeyAccess
		rest := op[1:]
		if op[0] == '%' {
			i := 0
			ok := false
			for ; i < len(rest); i++ {
				c := rest[i]
				if (c == 'R' || c == 'r') && perm&KeyRead == 0 {
					perm |= KeyRead
				} else if (c == 'W' || c == 'w') && perm&KeyWrite == 0 {
					perm |= KeyWrite
				} else if c == '~' {
					i++
					ok = true
					break
				} else {
					break
				}
			}
			// "%RW" without "~" is accepted as a pattern of no key, as
			// Redis 7.0 does (its test calls it a tolerated syntax error).
			if perm == 0 || (!ok && i < len(rest)) {
				return ErrSyntax
			}
			rest = rest[i:]
		} else {
			perm = KeyRead | KeyWrite
		}
		if hasSpaces(rest) {
			return ErrSyntax
		}
		for i := range s.keys {
			if s.keys[i].Pattern == rest {
				s.keys[i].Perm |= perm
				return nil
			}
		}
		s.keys = append(s.keys, KeyPattern{Pattern: rest, Perm: perm})
	case op[0] == '&':
		if s.allChannels {
			return ErrChansAfterAll
		}
		if hasSpaces(op[1:]) {
			return ErrSyntax
		}
		for _, c := range s.channels {
			if c == op[1:] {
				return nil
			}
		}
		s.channels = append(s.channels, op[1:])
	case op[0] == '+' && !strings.HasPrefix(op, "+@"):
		name := op[1:]
		bar := strings.LastIndexByte(name, '|')
		if bar < 0 {
			cmd := cat.Lookup(name)
			if cmd == nil {
				return ErrUnknownCommand
			}
			s.changePerm(cmd, true)
			return nil
		}
		cmd := cat.Lookup(name[:bar])
		if cmd == nil {
			return ErrUnknownCommand
		}
		if cmd.Parent != nil {
			return ErrSubFirstArg
		}
		first := name[bar+1:]
		if first == "" {
			return ErrSyntax
		}
		if len(cmd.subs) > 0 {
			sub := cat.Lookup(name)
			if sub == nil {
				return ErrUnknownCommand
			}
			s.changePerm(sub, true)
			return nil
		}
		// A first argument of a command without subcommands (+select|0):
		// Redis' allowed_firstargs.
		if s.firstArgs == nil {
			s.firstArgs = map[int][]string{}
		}
		for _, a := range s.firstArgs[cmd.ID] {
			if strings.EqualFold(a, first) {
				return nil
			}
		}
		s.firstArgs[cmd.ID] = append(s.firstArgs[cmd.ID], first)
	case op[0] == '-' && !strings.HasPrefix(op, "-@"):
		cmd := cat.Lookup(op[1:])
		if cmd == nil {
			return ErrUnknownCommand
		}
		s.changePerm(cmd, false)
	case strings.HasPrefix(op, "+@") || strings.HasPrefix(op, "-@"):
		c, ok := CategoryByName(op[2:])
		if !ok {
			return ErrUnknownCommand
		}
		s.setCategory(cat, c, op[0] == '+')
	default:
		return ErrSyntax
	}
	return nil
}

func hasSpaces(s string) bool { return strings.ContainsAny(s, " \t\r\n\x00") }

// Denial says why a check failed.
type Denial int

const (
	Allowed Denial = iota
	DeniedCmd
	DeniedKey
	DeniedChannel
	DeniedAuth
)

// Reason is the denial's name in ACL LOG ("command", "key", "channel", "auth").
func (d Denial) Reason() string {
	switch d {
	case DeniedCmd:
		return "command"
	case DeniedKey:
		return "key"
	case DeniedChannel:
		return "channel"
	case DeniedAuth:
		return "auth"
	}
	return ""
}

// KeyRef is a key argument of a command and what the command does with it.
type KeyRef struct {
	Pos    int
	Access KeyAccess
}

// ChannelRef is a channel argument; Pattern for PSUBSCRIBE's patterns,
// which match ACL patterns literally, as Redis.
type ChannelRef struct {
	Pos     int
	Pattern bool
}

// Request is a command to check: the command, its arguments (name at 0),
// whether it runs without authentication (no_auth commands skip the
// command check), and where its keys and channels are.
type Request struct {
	Cmd      *Command
	Args     [][]byte
	NoAuth   bool
	Keys     []KeyRef
	Channels []ChannelRef
}

func (s *Selector) checkCmd(r *Request) (Denial, int) {
	if !s.allCommands && !r.NoAuth && !s.cmds.get(r.Cmd.ID) {
		fa := s.firstArgs[r.Cmd.ID]
		idx := 1
		if r.Cmd.Parent != nil {
			idx = 2
		}
		ok := false
		if len(r.Args) > idx {
			for _, a := range fa {
				if strings.EqualFold(a, string(r.Args[idx])) {
					ok = true
					break
				}
			}
		}
		if !ok {
			return DeniedCmd, 0
		}
	}
	if !s.allKeys {
		for _, k := range r.Keys {
			if !s.keyAllowed(string(r.Args[k.Pos]), k.Access) {
				return DeniedKey, k.Pos
			}
		}
	}
	if !s.allChannels {
		for _, c := range r.Channels {
			if !s.channelAllowed(string(r.Args[c.Pos]), c.Pattern) {
				return DeniedChannel, c.Pos
			}
		}
	}
	return Allowed, 0
}

func (s *Selector) keyAllowed(key string, need KeyAccess) bool {
	if s.allKeys {
		return true
	}
	need &^= KeyNone
	for _, p := range s.keys {
		if p.Perm&need != need {
			continue
		}
		if glob.Match(p.Pattern, key) {
			return true
		}
	}
	return false
}

func (s *Selector) channelAllowed(ch string, pattern bool) bool {
	if s.allChannels {
		return true
	}
	for _, p := range s.channels {
		if (pattern && p == ch) || (!pattern && glob.Match(p, ch)) {
			return true
		}
	}
	return false
}

// describe is the selector in ACL SETUSER words (ACLDescribeSelector).
func (s *Selector) describe(cat *Catalog) string {
	var b strings.Builder
	if s.allKeys {
		b.WriteString("~* ")
	} else {
		for _, k := range s.keys {
			b.WriteString(k.String())
			b.WriteByte(' ')
		}
	}
	if s.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range s.channels {
			b.WriteString("&" + c + " ")
		}
	}
	b.WriteString(s.describeCommands(cat))
	return b.String()
}

// String is the pattern as a rule: ~p, %R~p or %W~p.
func (k KeyPattern) String() string {
	switch k.Perm {
	case KeyRead:
		return "%R~" + k.Pattern
	case KeyWrite:
		return "%W~" + k.Pattern
	}
	return "~" + k.Pattern
}

// describeCommands finds rules that rebuild the command bitmap: +@all or
// -@all, then the categories that fit best, then single commands, as
// Redis' ACLDescribeSelectorCommandRules.
func (s *Selector) describeCommands(cat *Catalog) string {
	var rules []string
	additive := !s.cmds.get(futureBit)
	fake := &Selector{}
	if additive {
		rules = append(rules, "-@all")
		fake.setAll(false)
	} else {
		rules = append(rules, "+@all")
		fake.setAll(true)
	}
	temp := &Selector{cmds: s.cmds}
	applied := make([]bool, len(categoryNames))
	for {
		best, mindiff, maxsame := -1, int(^uint(0)>>1), 0
		for j := range categoryNames {
			if applied[j] {
				continue
			}
			on, off := temp.countCategory(cat, Category(1)<<j)
			diff, same := on, off
			if additive {
				diff, same = off, on
			}
			if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
				best, mindiff, maxsame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		c := Category(1) << best
		fake.setCategory(cat, c, additive)
		temp.setCategory(cat, c, !additive)
		sign := "-@"
		if additive {
			sign = "+@"
		}
		rules = append(rules, sign+categoryNames[best])
		applied[best] = true
	}
	cat.walk(func(cmd *Command) {
		user, f := s.cmds.get(cmd.ID), fake.cmds.get(cmd.ID)
		if user != f {
			if user {
				rules = append(rules, "+"+cmd.Name)
			} else {
				rules = append(rules, "-"+cmd.Name)
			}
			fake.changePerm(cmd, user)
		}
		if !user {
			for _, a := range s.firstArgs[cmd.ID] {
				rules = append(rules, "+"+cmd.Name+"|"+a)
			}
		}
	})
	return strings.Join(rules, " ")
}

func (s *Selector) countCategory(cat *Catalog, c Category) (on, off int) {
	cat.walk(func(cmd *Command) {
		if cmd.Categories&c != 0 {
			if s.cmds.get(cmd.ID) {
				on++
			} else {
				off++
			}
		}
	})
	return on, off
}
