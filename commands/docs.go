package commands

import (
	"fmt"
	"sort"
	"strings"
)

// groupTitles orders and names the families in the command reference.
var groupTitles = []struct{ group, title, intro string }{
	{"session", "Native sessions (SESS.*)", "Sessions with idle and absolute deadlines, nonce rotation with replay detection, owners, detach/attach. Tokens appear only in the reply that creates them; the server stores only their SHA-256."},
	{"jwt", "JWT access tokens and refresh tokens", "Signed access tokens bound to a live session, with rotating single-use refresh tokens."},
	{"token", "Transition tokens (TOK.*)", "Capabilities under a session or an owner, with their own timeouts; transferable tokens outlive their session."},
	{"string", "Strings", ""},
	{"generic", "Keys", ""},
	{"hash", "Hashes", ""},
	{"set", "Sets", ""},
	{"sortedset", "Sorted sets", ""},
	{"list", "Lists", ""},
	{"bitmap", "Bitmaps", ""},
	{"transactions", "Transactions", ""},
	{"pubsub", "Pub/sub", ""},
	{"connection", "Connection", ""},
	{"server", "Server", ""},
	{"cluster", "Cluster compatibility", ""},
	{"scripting", "Scripting", ""},
}

// RenderDocs renders the command reference (docs/commands.md) from the
// command table. A test keeps the committed file equal to this output.
func RenderDocs() string {
	byGroup := map[string][]*Spec{}
	for _, s := range Specs() {
		byGroup[s.Group] = append(byGroup[s.Group], s)
	}
	var b strings.Builder
	b.WriteString("# sessiond command reference\n\n")
	b.WriteString("Generated from the command table (`go generate ./commands`); do not edit by hand.\n")
	b.WriteString("Names and keywords are case-insensitive. Arity counts the command name; a negative arity means \"at least\".\n\n")
	seen := map[string]bool{}
	var order []string
	for _, g := range groupTitles {
		if len(byGroup[g.group]) > 0 {
			order = append(order, g.group)
			seen[g.group] = true
		}
	}
	var rest []string
	for g := range byGroup {
		if !seen[g] {
			rest = append(rest, g)
		}
	}
	sort.Strings(rest)
	order = append(order, rest...)
	b.WriteString("## Contents\n\n")
	for _, g := range order {
		fmt.Fprintf(&b, "- [%s](#%s): ", title(g), anchor(title(g)))
		names := make([]string, 0, len(byGroup[g]))
		for _, s := range byGroup[g] {
			names = append(names, strings.ToUpper(s.Name))
		}
		b.WriteString(strings.Join(names, ", "))
		b.WriteString("\n")
	}
	for _, g := range order {
		fmt.Fprintf(&b, "\n## %s\n\n", title(g))
		if intro := introOf(g); intro != "" {
			b.WriteString(intro + "\n\n")
		}
		for _, s := range byGroup[g] {
			renderSpec(&b, s, "###")
		}
	}
	return b.String()
}

func title(group string) string {
	for _, g := range groupTitles {
		if g.group == group {
			return g.title
		}
	}
	if group == "" {
		return "Other"
	}
	return strings.ToUpper(group[:1]) + group[1:]
}

func introOf(group string) string {
	for _, g := range groupTitles {
		if g.group == group {
			return g.intro
		}
	}
	return ""
}

func anchor(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func renderSpec(b *strings.Builder, s *Spec, h string) {
	name := strings.ToUpper(strings.ReplaceAll(s.FullName(), "|", " "))
	fmt.Fprintf(b, "%s %s\n\n", h, name)
	fmt.Fprintf(b, "```\n%s\n```\n\n", strings.TrimSpace(name+" "+s.Syntax))
	if s.Summary != "" {
		b.WriteString(s.Summary + "\n\n")
	}
	var facts []string
	facts = append(facts, fmt.Sprintf("arity %d", s.Arity))
	if f := s.FlagNames(); len(f) > 0 {
		facts = append(facts, "flags "+strings.Join(f, ", "))
	}
	if s.FirstKey > 0 {
		facts = append(facts, fmt.Sprintf("keys %d..%d step %d", s.FirstKey, s.LastKey, s.Step))
	}
	if c := s.ACLCategories(); len(c) > 0 {
		facts = append(facts, "ACL "+strings.Join(c, " "))
	}
	since := s.Since
	if since == "" && s.parent != nil {
		since = s.parent.Since
	}
	if since != "" {
		facts = append(facts, "since "+since)
	}
	fmt.Fprintf(b, "*%s*\n\n", strings.Join(facts, " · "))
	if s.Example != "" {
		fmt.Fprintf(b, "```\n%s\n```\n\n", strings.TrimRight(s.Example, "\n"))
	}
	for _, sub := range s.Subs() {
		renderSpec(b, sub, h+"#")
	}
}
