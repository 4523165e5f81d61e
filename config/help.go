package config

import (
	"fmt"
	"io"
	"strings"
)

// Doc returns what a parameter means ("" when undocumented): the same text
// `sessiond --help` prints and sessiond.conf carries as the comment.
func (p *Param) Doc() string { return paramDocs[p.Name] }

// Usage writes the command line's help: the usage line, then every
// parameter with its default and meaning, from the parameter table.
func (c *Config) Usage(w io.Writer) {
	fmt.Fprint(w, `Usage: sessiond [config-file] [--name value ...]
       sessiond check [--repair] data-file
       sessiond -v | --version
       sessiond -h | --help

The config file holds "name value" lines (as redis.conf); --name value flags
override it. Parameters, with their defaults:

`)
	width := 0
	for _, n := range c.names {
		width = max(width, len(n))
	}
	seen := map[*Param]bool{}
	for _, n := range c.names {
		p := c.params[n]
		if seen[p] {
			continue
		}
		seen[p] = true
		name := p.Name
		if p.Alias != "" {
			name += " (" + p.Alias + ")"
		}
		def := p.Default
		if def == "" {
			def = `""`
		}
		if p.Kind == Enum {
			def += " (" + strings.Join(p.Enum, "|") + ")"
		}
		fmt.Fprintf(w, "  --%-*s %s\n  %*s   default %s\n", width, name, p.Doc(), width, "", def)
	}
}
