// Package config holds sessiond's run-time parameters: one declaration per
// parameter (name, default, validation), from which the config file, the
// command-line flags, CONFIG GET and CONFIG SET are all served.
//
// Values are read on hot paths, so each parameter keeps its current value in
// an atomic; readers never take a lock.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Kind says how a parameter's text is parsed.
type Kind int

const (
	String Kind = iota // any text
	Int                // a decimal integer (memory units like 512mb accepted)
	Bool               // yes or no
	Enum               // one of Param.Enum
)

// Param declares one parameter.
type Param struct {
	Name string
	// Alias is another name of the same parameter (Redis' renamed settings,
	// lua-time-limit / busy-reply-threshold): CONFIG GET lists both, CONFIG
	// SET on either changes both.
	Alias     string
	Kind      Kind
	Default   string
	Enum      []string
	Min, Max  int64
	Immutable bool // only from the file or flags, as Redis' "can't set immutable config"
	// Protected parameters name files and directories the server writes or
	// reads (dir, dbfilename, ...): CONFIG SET may change them only as
	// enable-protected-configs allows, as Redis' PROTECTED_CONFIG. The file
	// and flags at startup (the operator) always may.
	Protected bool
	Memory    bool // an Int that takes units (1gb, 64mb), as Redis' MEMORY_CONFIG
	Sensitive bool // never shown by CONFIG GET (secrets)
	// Hidden parameters (Redis' HIDDEN_CONFIG, test and debug knobs) are
	// left out of CONFIG GET patterns and CONFIG REWRITE: CONFIG GET shows
	// one only when asked for it by its exact name.
	Hidden bool
	// Check validates a value beyond its kind; it returns a message in Redis' words.
	Check func(v string) error
	// CheckLive validates a value set at run time (CONFIG SET) beyond Check:
	// what startup may still create, a running server requires to exist.
	CheckLive func(v string) error
	// Normalize rewrites an accepted value into its canonical form (for CONFIG GET).
	Normalize func(v string) string
	// OnChange runs after a successful CONFIG SET.
	OnChange func(v string)

	val atomic.Pointer[string]
	num atomic.Int64
}

// Config is a set of parameters. It is safe for concurrent use.
type Config struct {
	mu     sync.Mutex // serializes writers
	params map[string]*Param
	names  []string
	limits atomic.Pointer[limitsCache]
	// declared holds the declarations in the order of the table, for Render.
	declared []*Param
	// directives are the file's non-parameter lines (user), in order.
	directives []Directive
}

// New returns a Config holding the given declarations at their defaults.
func New(decls []*Param) *Config {
	c := &Config{params: make(map[string]*Param, len(decls))}
	for _, p := range decls {
		if p.Kind == Int && p.Max == 0 && p.Min == 0 {
			p.Min, p.Max = math.MinInt64, math.MaxInt64
		}
		c.params[p.Name] = p
		c.names = append(c.names, p.Name)
		c.declared = append(c.declared, p)
		if p.Alias != "" {
			c.params[p.Alias] = p
			c.names = append(c.names, p.Alias)
		}
		if err := c.set(p, p.Default); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", p.Name, err))
		}
	}
	sort.Strings(c.names)
	return c
}

// Add declares more parameters (used by command families that own their settings).
func (c *Config) Add(decls ...*Param) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range decls {
		if p.Kind == Int && p.Max == 0 && p.Min == 0 {
			p.Min, p.Max = math.MinInt64, math.MaxInt64
		}
		if _, dup := c.params[p.Name]; dup {
			panic("config: duplicate parameter " + p.Name)
		}
		c.params[p.Name] = p
		c.names = append(c.names, p.Name)
		c.declared = append(c.declared, p)
		if err := c.set(p, p.Default); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", p.Name, err))
		}
	}
	sort.Strings(c.names)
}

// Lookup returns the declaration of name (case-insensitive), or nil.
func (c *Config) Lookup(name string) *Param {
	return c.params[strings.ToLower(name)]
}

// Get returns the current text of a parameter; it panics on an undeclared name,
// which is a programming error.
func (c *Config) Get(name string) string {
	p := c.params[name]
	if p == nil {
		panic("config: undeclared parameter " + name)
	}
	return *p.val.Load()
}

// Int returns the current value of an Int parameter.
func (c *Config) Int(name string) int64 {
	p := c.params[name]
	if p == nil {
		panic("config: undeclared parameter " + name)
	}
	return p.num.Load()
}

// Bool returns the current value of a Bool parameter.
func (c *Config) Bool(name string) bool { return c.Int(name) != 0 }

// ErrUnknown is returned for a parameter that is not declared.
var ErrUnknown = errors.New("unknown option")

// Follow calls fn now and after every successful CONFIG SET of one of
// names (parameters the config does not have are skipped): how a part of
// the server keeps its own copy of settings in step. It chains after the
// OnChange already installed.
func (c *Config) Follow(fn func(), names ...string) {
	fn()
	for _, name := range names {
		p := c.Lookup(name)
		if p == nil {
			continue
		}
		prev := p.OnChange
		p.OnChange = func(v string) {
			if prev != nil {
				prev(v)
			}
			fn()
		}
	}
}

// Set validates and stores a value, then runs the parameter's OnChange.
func (c *Config) Set(name, value string) error {
	c.mu.Lock()
	p := c.params[strings.ToLower(name)]
	if p == nil {
		c.mu.Unlock()
		return ErrUnknown
	}
	err := c.set(p, value)
	c.mu.Unlock()
	if err == nil && p.OnChange != nil {
		p.OnChange(c.Get(p.Name))
	}
	return err
}

// ErrImmutable and ErrProtected are MaySet's refusals, in Redis' words.
var (
	ErrImmutable = errors.New("can't set immutable config")
	ErrProtected = errors.New("can't set protected config")
)

// MaySet reports whether a client may change name at run time (CONFIG SET).
// local says whether the client connects from this machine (a loopback
// address or a unix socket), which enable-protected-configs local requires
// of a change to a protected parameter.
func (c *Config) MaySet(name string, local bool) error {
	p := c.params[strings.ToLower(name)]
	switch {
	case p == nil:
		return ErrUnknown
	case p.Immutable:
		return ErrImmutable
	case p.Protected && !c.protectedAllowed(local):
		return ErrProtected
	}
	return nil
}

// protectedAllowed applies enable-protected-configs, as Redis'
// allowProtectedAction: yes allows everyone, local only local clients, no
// nobody. A config without the parameter (a test's New) allows nobody.
func (c *Config) protectedAllowed(local bool) bool {
	p := c.params["enable-protected-configs"]
	if p == nil {
		return false
	}
	switch *p.val.Load() {
	case "yes":
		return true
	case "local":
		return local
	}
	return false
}

// Unchanged reports whether setting name to value would leave it as it is:
// the value, parsed and normalized, equals the current one. CONFIG SET of an
// immutable parameter to its current value is accepted as a no-op on that
// ground (a client that saves every parameter and sets it back works).
func (c *Config) Unchanged(name, value string) bool {
	p := c.params[strings.ToLower(name)]
	if p == nil {
		return false
	}
	text, _, err := parse(p, value)
	return err == nil && text == *p.val.Load()
}

// Validate reports whether value is acceptable for name at run time (CONFIG
// SET) without storing it. It does not ask MaySet.
func (c *Config) Validate(name, value string) error {
	p := c.params[strings.ToLower(name)]
	if p == nil {
		return ErrUnknown
	}
	text, _, err := parse(p, value)
	if err == nil && p.CheckLive != nil {
		err = p.CheckLive(text)
	}
	return err
}

func (c *Config) set(p *Param, value string) error {
	text, num, err := parse(p, value)
	if err != nil {
		return err
	}
	p.num.Store(num)
	p.val.Store(&text)
	return nil
}

func parse(p *Param, value string) (string, int64, error) {
	var num int64
	switch p.Kind {
	case Int:
		var n int64
		var err error
		if p.Memory {
			if n, err = ParseMemory(value); err != nil {
				return "", 0, fmt.Errorf("argument must be a memory value")
			}
		} else if n, err = strconv.ParseInt(value, 10, 64); err != nil {
			return "", 0, fmt.Errorf("argument couldn't be parsed into an integer")
		}
		if n < p.Min || n > p.Max {
			return "", 0, fmt.Errorf("argument must be between %d and %d inclusive", p.Min, p.Max)
		}
		num = n
		value = strconv.FormatInt(n, 10)
	case Bool:
		switch strings.ToLower(value) {
		case "yes":
			num, value = 1, "yes"
		case "no":
			num, value = 0, "no"
		default:
			return "", 0, fmt.Errorf("argument must be 'yes' or 'no'")
		}
	case Enum:
		v := strings.ToLower(value)
		ok := false
		for _, e := range p.Enum {
			if e == v {
				ok = true
			}
		}
		if !ok {
			return "", 0, fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(p.Enum, ", "))
		}
		value = v
	}
	if p.Check != nil {
		if err := p.Check(value); err != nil {
			return "", 0, err
		}
	}
	if p.Normalize != nil {
		value = p.Normalize(value)
	}
	return value, num, nil
}

// Names returns every declared name, sorted.
func (c *Config) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.names...)
}

// ParseMemory parses an integer with an optional Redis memory unit
// (k, kb, m, mb, g, gb; case-insensitive).
func ParseMemory(s string) (int64, error) {
	ls := strings.ToLower(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kb", 1024}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}} {
		if strings.HasSuffix(ls, u.suffix) && len(ls) > len(u.suffix) {
			ls = strings.TrimSuffix(ls, u.suffix)
			mult = u.mult
			break
		}
	}
	n, err := strconv.ParseInt(ls, 10, 64)
	if err != nil {
		return 0, err
	}
	if mult != 1 && (n > math.MaxInt64/mult || n < math.MinInt64/mult) {
		return 0, errors.New("overflow")
	}
	return n * mult, nil
}

// LoadFile applies a redis.conf-style file: one "name value..." per line,
// '#' comments, values optionally quoted.
func (c *Config) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open config %s: %w", path, err)
	}
	defer f.Close()
	return c.Load(f, path)
}

// Load applies config lines from r; origin names the source in errors.
func (c *Config) Load(r io.Reader, origin string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields, err := SplitArgs(text)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", origin, line, err)
		}
		if len(fields) < 2 {
			return fmt.Errorf("%s:%d: %q needs a value", origin, line, fields[0])
		}
		if IsDirective(fields[0]) {
			c.addDirective(Directive{Name: strings.ToLower(fields[0]), Args: fields[1:], Origin: fmt.Sprintf("%s:%d", origin, line)})
			continue
		}
		if err := c.Set(fields[0], strings.Join(fields[1:], " ")); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", origin, line, fields[0], ExplainUnknown(fields[0], err))
		}
	}
	return sc.Err()
}

// SplitArgs splits a line into words the way redis.conf does: spaces separate,
// double or single quotes group.
func SplitArgs(line string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord, quote := false, byte(0)
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quote != 0:
			if ch == '\\' && quote == '"' && i+1 < len(line) {
				i++
				switch line[i] {
				case 'n':
					cur.WriteByte('\n')
				case 't':
					cur.WriteByte('\t')
				case 'r':
					cur.WriteByte('\r')
				default:
					cur.WriteByte(line[i])
				}
			} else if ch == quote {
				quote = 0
			} else {
				cur.WriteByte(ch)
			}
		case ch == '"' || ch == '\'':
			quote, inWord = ch, true
		case ch == ' ' || ch == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unbalanced quotes")
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
