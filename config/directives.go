package config

import "strings"

// Directives are config-file lines that are not parameters: they may repeat
// and are kept in order for the package that owns them. "user" lines
// (Redis' ACL users in redis.conf) are the one kind today.
var directives = map[string]bool{"user": true}

// IsDirective reports whether name starts a config-file line that is not a
// parameter but a directive (user), which Load keeps for its owner.
func IsDirective(name string) bool { return directives[strings.ToLower(name)] }

// Directive is one directive line of the config file: its name and words.
type Directive struct {
	Name   string
	Args   []string
	Origin string // "file:line"
}

// DirectiveLines returns the directive lines named name (lowercase) the
// config file held, in file order.
func (c *Config) DirectiveLines(name string) []Directive {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Directive
	for _, d := range c.directives {
		if d.Name == name {
			out = append(out, d)
		}
	}
	return out
}

// AddDirective keeps a directive given outside the file ("--user ..." flags).
func (c *Config) AddDirective(name string, args []string, origin string) {
	c.addDirective(Directive{Name: strings.ToLower(name), Args: args, Origin: origin})
}

func (c *Config) addDirective(d Directive) {
	c.mu.Lock()
	c.directives = append(c.directives, d)
	c.mu.Unlock()
}
