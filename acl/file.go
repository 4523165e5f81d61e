package acl

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"github.com/sessiond/sessiond/config"
)

// ParseUsers builds users from "user <name> <rules...>" lines (an aclfile,
// or the user lines of the config file), as Redis' ACLLoadFromFile: every
// line is checked and every error reported, and nothing is returned unless
// all lines are good. A missing default user gets the default rules.
func (r *Registry) ParseUsers(lines []string, origin func(i int) string) (map[string]*User, error) {
	users := map[string]*User{}
	var errs []string
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := config.SplitArgs(line)
		if err != nil || len(words) == 0 {
			errs = append(errs, fmt.Sprintf("%s: unbalanced quotes in acl line. ", origin(i)))
			continue
		}
		if words[0] != "user" || len(words) < 2 {
			errs = append(errs, fmt.Sprintf("%s should start with user keyword. ", origin(i)))
			continue
		}
		name := words[1]
		if hasSpaces(name) {
			errs = append(errs, fmt.Sprintf("%s: username '%s' contains invalid characters. ", origin(i), name))
			continue
		}
		if _, dup := users[name]; dup {
			errs = append(errs, fmt.Sprintf("%s: Duplicate user '%s' found. ", origin(i), name))
			continue
		}
		u, err := r.Build(nil, name, words[2:])
		if err != nil {
			if re, ok := err.(*RuleError); ok {
				err = re.Err
			}
			errs = append(errs, fmt.Sprintf("%s: %s. ", origin(i), err))
			continue
		}
		u.Name = name
		users[name] = u
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.TrimSpace(strings.Join(errs, "")))
	}
	if users["default"] == nil {
		users["default"] = defaultUser(r.Catalog)
	}
	return users, nil
}

// ParseFile parses an aclfile's text; name is the file's name in errors.
func (r *Registry) ParseFile(text, name string) (map[string]*User, error) {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1<<24)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return r.ParseUsers(lines, func(i int) string { return fmt.Sprintf("%s:%d", name, i+1) })
}

// Lines describes every user as an aclfile line ("user name rules"), by name.
func (r *Registry) Lines() []string {
	r.mu.Lock()
	users := make([]*User, 0, len(r.users))
	for _, a := range r.users {
		users = append(users, a.User())
	}
	r.mu.Unlock()
	sort.Slice(users, func(i, j int) bool { return users[i].Name < users[j].Name })
	out := make([]string, 0, len(users))
	for _, u := range users {
		out = append(out, "user "+u.Name+" "+u.Describe(r.Catalog))
	}
	return out
}
