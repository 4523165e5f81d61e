package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// User is one ACL user at one moment. A User is never modified once
// published in a Registry: changes build a new one (see Account).
type User struct {
	Name    string
	Enabled bool
	NoPass  bool
	// Sanitize is "", "sanitize-payload" or "skip-sanitize-payload": accepted
	// and shown as Redis does (sessiond has no RESTORE payloads to check).
	Sanitize  string
	passwords []string // hex SHA-256, in the order added
	selectors []*Selector
	// unrestricted: the root selector allows every command, key and
	// channel, so a check is one field load.
	unrestricted bool
}

// Unrestricted reports whether the user may run every command on every key
// and channel (+@all ~* &*): the dispatcher skips the check entirely.
func (u *User) Unrestricted() bool { return u.unrestricted }

func (u *User) root() *Selector { return u.selectors[0] }

func newUser(name string, pubsubAll bool) *User {
	root := &Selector{allChannels: pubsubAll}
	return &User{Name: name, selectors: []*Selector{root}}
}

func (u *User) clone() *User {
	n := *u
	n.passwords = append([]string(nil), u.passwords...)
	n.selectors = make([]*Selector, len(u.selectors))
	for i, s := range u.selectors {
		n.selectors[i] = s.clone()
	}
	return &n
}

// HashPassword is the form passwords are kept in: hex SHA-256, as Redis.
func HashPassword(p string) string {
	h := sha256.Sum256([]byte(p))
	return hex.EncodeToString(h[:])
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// apply applies one user rule (ACLSetUser); selector rules go to the root.
func (u *User) apply(cat *Catalog, op string, pubsubAll bool) error {
	if op == "" {
		return nil
	}
	low := strings.ToLower(op)
	switch {
	case low == "on":
		u.Enabled = true
	case low == "off":
		u.Enabled = false
	case low == "skip-sanitize-payload" || low == "sanitize-payload":
		u.Sanitize = low
	case low == "nopass":
		u.NoPass, u.passwords = true, nil
	case low == "resetpass":
		u.NoPass, u.passwords = false, nil
	case op[0] == '>' || op[0] == '#':
		h := op[1:]
		if op[0] == '>' {
			h = HashPassword(op[1:])
		} else if !validHash(h) {
			return ErrBadHash
		}
		found := false
		for _, p := range u.passwords {
			if p == h {
				found = true
			}
		}
		if !found {
			u.passwords = append(u.passwords, h)
		}
		u.NoPass = false
	case op[0] == '<' || op[0] == '!':
		h := op[1:]
		if op[0] == '<' {
			h = HashPassword(op[1:])
		} else if !validHash(h) {
			return ErrBadHash
		}
		for i, p := range u.passwords {
			if p == h {
				u.passwords = append(u.passwords[:i:i], u.passwords[i+1:]...)
				return nil
			}
		}
		return ErrNoSuchPassword
	case op[0] == '(' && op[len(op)-1] == ')':
		words := strings.Fields(op[1 : len(op)-1])
		s := &Selector{}
		for _, w := range words {
			// A rule ending in ')' inside a selector would end it early
			// when the description is read back (ACL LIST, ACL SAVE):
			// found by FuzzSetUserRules.
			if strings.HasSuffix(w, ")") || strings.HasPrefix(w, "(") {
				return ErrSyntax
			}
			if err := s.apply(cat, w); err != nil {
				return err
			}
		}
		u.selectors = append(u.selectors, s)
	case low == "clearselectors":
		u.selectors = u.selectors[:1]
	case low == "reset":
		u.NoPass, u.passwords = false, nil
		r := u.root()
		r.allKeys, r.keys = false, nil
		r.allChannels, r.channels = pubsubAll, nil
		u.Enabled = false
		u.Sanitize = "sanitize-payload"
		u.selectors = u.selectors[:1]
		r.setAll(false)
	default:
		return u.root().apply(cat, op)
	}
	return nil
}

func (u *User) finish() *User {
	r := u.root()
	u.unrestricted = r.allCommands && r.allKeys && r.allChannels
	return u
}

// Describe is the user in ACL LIST / aclfile words, without "user <name>".
func (u *User) Describe(cat *Catalog) string {
	var parts []string
	if u.Enabled {
		parts = append(parts, "on")
	} else {
		parts = append(parts, "off")
	}
	if u.NoPass {
		parts = append(parts, "nopass")
	}
	if u.Sanitize != "" {
		parts = append(parts, u.Sanitize)
	}
	for _, p := range u.passwords {
		parts = append(parts, "#"+p)
	}
	parts = append(parts, u.root().describe(cat))
	for _, s := range u.selectors[1:] {
		parts = append(parts, "("+s.describe(cat)+")")
	}
	return strings.Join(parts, " ")
}

// Flags lists the user's flags for ACL GETUSER.
func (u *User) Flags() []string {
	var f []string
	if u.Enabled {
		f = append(f, "on")
	} else {
		f = append(f, "off")
	}
	if u.NoPass {
		f = append(f, "nopass")
	}
	if u.Sanitize != "" {
		f = append(f, u.Sanitize)
	}
	return f
}

// Passwords returns the password hashes.
func (u *User) Passwords() []string { return append([]string(nil), u.passwords...) }

// SelectorInfo is a selector as ACL GETUSER shows it.
type SelectorInfo struct {
	Commands, Keys, Channels string
}

// Selectors describes the root selector then the others for ACL GETUSER.
func (u *User) Selectors(cat *Catalog) []SelectorInfo {
	out := make([]SelectorInfo, len(u.selectors))
	for i, s := range u.selectors {
		var keys, chans []string
		if s.allKeys {
			keys = []string{"~*"}
		} else {
			for _, k := range s.keys {
				keys = append(keys, k.String())
			}
		}
		if s.allChannels {
			chans = []string{"&*"}
		} else {
			for _, c := range s.channels {
				chans = append(chans, "&"+c)
			}
		}
		out[i] = SelectorInfo{Commands: s.describeCommands(cat), Keys: strings.Join(keys, " "), Channels: strings.Join(chans, " ")}
	}
	return out
}

// Check reports whether the user may run r: Allowed, or the denial that
// Redis would report (no selector allows the command: DeniedCmd; else the
// last key or channel no selector allowed) and the argument position.
func (u *User) Check(r *Request) (Denial, int) {
	if u.unrestricted {
		return Allowed, 0
	}
	worst, pos := DeniedCmd, 0
	for _, s := range u.selectors {
		d, p := s.checkCmd(r)
		if d == Allowed {
			return Allowed, 0
		}
		if d > worst || (d == worst && p > pos) {
			worst, pos = d, p
		}
	}
	return worst, pos
}

// ReadsEveryKey reports whether one selector allows r and grants read
// access to every key (allkeys, ~* or %R~*), as Redis'
// ACLUserCheckCmdWithUnrestrictedKeyAccess: SORT's BY and GET need it.
func (u *User) ReadsEveryKey(r *Request) bool {
	for _, s := range u.selectors {
		if d, _ := s.checkCmd(r); d != Allowed {
			continue
		}
		if s.allKeys {
			return true
		}
		for _, p := range s.keys {
			if p.Pattern == "*" && p.Perm&KeyRead != 0 {
				return true
			}
		}
	}
	return false
}

// CheckKey reports whether one of the user's selectors grants access to key.
func (u *User) CheckKey(key string, need KeyAccess) bool {
	for _, s := range u.selectors {
		if s.keyAllowed(key, need) {
			return true
		}
	}
	return false
}

// CheckChannel reports whether one of the user's selectors grants channel
// (a literal channel, or a PSUBSCRIBE pattern when pattern is true).
func (u *User) CheckChannel(ch string, pattern bool) bool {
	for _, s := range u.selectors {
		if s.channelAllowed(ch, pattern) {
			return true
		}
	}
	return false
}

// Account is a user's stable identity: connections hold the Account, which
// points to the current User, so ACL SETUSER takes effect on them at once.
type Account struct {
	cur     atomic.Pointer[User]
	deleted atomic.Bool
}

// User returns the account's current rules.
func (a *Account) User() *User { return a.cur.Load() }

// Deleted reports whether ACL DELUSER (or ACL LOAD) removed the user.
func (a *Account) Deleted() bool { return a.deleted.Load() }

// Registry holds the users of a server. Reads (Lookup, checks through
// Accounts) take no lock; changes are serialized.
type Registry struct {
	Catalog *Catalog
	mu      sync.Mutex
	users   map[string]*Account
	// PubSubDefault: new users start with allchannels (acl-pubsub-default
	// allchannels) instead of resetchannels (Redis 7's default).
	pubsubAll atomic.Bool
}

// NewRegistry returns a registry holding only the default user (on, nopass,
// +@all ~* &*).
func NewRegistry(cat *Catalog) *Registry {
	r := &Registry{Catalog: cat, users: map[string]*Account{}}
	a := &Account{}
	a.cur.Store(defaultUser(cat))
	r.users["default"] = a
	return r
}

// Nobody returns an account outside every registry that may run nothing:
// for replicated commands whose user this server does not know.
func Nobody(cat *Catalog) *Account {
	a := &Account{}
	a.cur.Store(newUser("nobody", false).finish())
	return a
}

// Trusted returns an account outside every registry that may run anything
// (+@all ~* &*): for the server's own clients, such as those that apply a
// replicated log, whose commands were checked on the node they were sent to.
func Trusted(cat *Catalog) *Account {
	a := &Account{}
	a.cur.Store(defaultUser(cat))
	return a
}

func defaultUser(cat *Catalog) *User {
	u := newUser("default", true)
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		_ = u.apply(cat, op, true)
	}
	return u.finish()
}

// SetPubSubDefault sets acl-pubsub-default (true: allchannels).
func (r *Registry) SetPubSubDefault(all bool) { r.pubsubAll.Store(all) }

// Lookup returns the account named name, or nil.
func (r *Registry) Lookup(name string) *Account {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.users[name]
}

// Default returns the default user's account.
func (r *Registry) Default() *Account { return r.Lookup("default") }

// Names lists the user names, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.users))
	for n := range r.users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// RuleError is a refused rule of ACL SETUSER, in Redis' words.
type RuleError struct {
	Rule string
	Err  error
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("Error in ACL SETUSER modifier '%s': %s", e.Rule, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }

// MergeSelectorArgs joins the words of a selector written over several
// arguments ("(~x", "+get)") into one, as Redis' ACLMergeSelectorArguments.
func MergeSelectorArgs(args []string) ([]string, error) {
	var out []string
	open := -1
	var cur string
	for i, a := range args {
		if open < 0 && strings.HasPrefix(a, "(") && !strings.HasSuffix(a, ")") {
			open, cur = i, a
			continue
		}
		if open >= 0 {
			cur += " " + a
			if strings.HasSuffix(a, ")") {
				out = append(out, cur)
				open = -1
			}
			continue
		}
		out = append(out, a)
	}
	if open >= 0 {
		return nil, fmt.Errorf("Unmatched parenthesis in acl selector starting at '%s'.", args[open])
	}
	return out, nil
}

// Build applies rules to a copy of base (or to a new user named name when
// base is nil) and returns the result without publishing it: nothing
// changes when a rule fails.
func (r *Registry) Build(base *User, name string, rules []string) (*User, error) {
	merged, err := MergeSelectorArgs(rules)
	if err != nil {
		return nil, err
	}
	var u *User
	if base != nil {
		u = base.clone()
	} else {
		u = newUser(name, r.pubsubAll.Load())
	}
	for _, op := range merged {
		if err := u.apply(r.Catalog, op, r.pubsubAll.Load()); err != nil {
			return nil, &RuleError{Rule: op, Err: err}
		}
	}
	return u.finish(), nil
}

// SetUser applies rules to the user named name, creating it if needed, and
// returns the previous and new rules (old nil for a new user).
func (r *Registry) SetUser(name string, rules []string) (old, now *User, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.users[name]
	var base *User
	if a != nil {
		base = a.User()
	}
	u, err := r.Build(base, name, rules)
	if err != nil {
		return nil, nil, err
	}
	u.Name = name
	if a == nil {
		a = &Account{}
		r.users[name] = a
	}
	a.cur.Store(u)
	return base, u, nil
}

// DelUser removes a user and returns its account (nil if there was none).
// The default user cannot be removed.
func (r *Registry) DelUser(name string) *Account {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.users[name]
	if a == nil || name == "default" {
		return nil
	}
	delete(r.users, name)
	a.deleted.Store(true)
	return a
}

// Authenticate checks name and password: the account when the user exists,
// is on, and either is nopass or has the password. Comparisons are
// constant-time.
func (r *Registry) Authenticate(name, password string) *Account {
	a := r.Lookup(name)
	if a == nil {
		return nil
	}
	u := a.User()
	if !u.Enabled {
		return nil
	}
	if u.NoPass {
		return a
	}
	h := HashPassword(password)
	ok := 0
	for _, p := range u.passwords {
		ok |= subtle.ConstantTimeCompare([]byte(p), []byte(h))
	}
	if ok == 1 {
		return a
	}
	return nil
}

// Replace swaps the whole set of users (ACL LOAD, startup). As Redis'
// ACLLoadFromFile, the default user keeps its identity (its connections
// stay, with the new rules) and every other user is new: the old accounts
// are marked deleted and returned. users must hold "default".
func (r *Registry) Replace(users map[string]*User) (gone []*Account) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, a := range r.users {
		if name != "default" {
			a.deleted.Store(true)
			delete(r.users, name)
			gone = append(gone, a)
		}
	}
	for name, u := range users {
		u.Name = name
		a := r.users[name]
		if a == nil {
			a = &Account{}
			r.users[name] = a
		}
		a.cur.Store(u)
	}
	return gone
}
