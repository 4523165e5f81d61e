package config

import (
	"fmt"
	"strings"
)

//go:generate go run ../internal/genconf -o ../sessiond.conf

// Render returns a redis.conf-style file listing every parameter of c in the
// order of the table, each at its default value with its comment, so that
// the file loads (LoadFile) and changes nothing. The repository's
// sessiond.conf is this output (go generate ./config); a test keeps the two
// equal.
func (c *Config) Render() []byte {
	c.mu.Lock()
	decls := append([]*Param(nil), c.declared...)
	c.mu.Unlock()
	var b strings.Builder
	b.WriteString(`# sessiond configuration file.
#
# Generated from the parameter table (config/params.go) by "go generate ./config";
# do not edit by hand. Every parameter is listed at its default value, so this
# file changes nothing until you edit it. Format as redis.conf: "name value",
# values with spaces in quotes, "#" comments. Start with:
#
#   sessiond /etc/sessiond/sessiond.conf [--name value ...]
#
# Flags given after the file override it; CONFIG GET/SET read and change the
# parameters at run time (those marked "startup only" cannot be changed then).
`)
	for _, p := range decls {
		b.WriteString("\n")
		doc := paramDocs[p.Name]
		for _, line := range wrap(doc, 76) {
			b.WriteString("# " + line + "\n")
		}
		var facts []string
		switch p.Kind {
		case Bool:
			facts = append(facts, "yes or no")
		case Enum:
			facts = append(facts, strings.Join(p.Enum, ", "))
		case Int:
			if p.Memory {
				facts = append(facts, "bytes, or with a unit (kb, mb, gb)")
			}
		}
		if p.Alias != "" {
			facts = append(facts, "alias "+p.Alias)
		}
		if p.Immutable {
			facts = append(facts, "startup only")
		}
		if p.Protected {
			facts = append(facts, "protected (see enable-protected-configs)")
		}
		if len(facts) > 0 {
			b.WriteString("# (" + strings.Join(facts, "; ") + ")\n")
		}
		fmt.Fprintf(&b, "%s %s\n", p.Name, quoteValue(p.Default))
	}
	return []byte(b.String())
}

// quoteValue writes a value so that SplitArgs reads it back unchanged.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\"'\\#") {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(v) + `"`
}

// wrap splits text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
