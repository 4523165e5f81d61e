package config

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestEveryParameterHasADoc(t *testing.T) {
	c := Defaults()
	for _, p := range c.declared {
		if paramDocs[p.Name] == "" {
			t.Errorf("parameter %s has no comment in paramDocs (config/paramdocs.go)", p.Name)
		}
	}
	for name := range paramDocs {
		if p := c.Lookup(name); p == nil || p.Name != name {
			t.Errorf("paramDocs documents %q, which is not a parameter", name)
		}
	}
}

// TestConfFileIsGenerated keeps the repository's sessiond.conf equal to what
// the table renders: after changing a parameter, run go generate ./config.
func TestConfFileIsGenerated(t *testing.T) {
	file, err := os.ReadFile("../sessiond.conf")
	if err != nil {
		t.Fatal(err)
	}
	if want := Defaults().Render(); !bytes.Equal(file, want) {
		t.Errorf("sessiond.conf is not what the parameter table renders: run go generate ./config")
	}
}

// TestRenderedFileLoadsToDefaults reads every line of the rendered file back
// as the loader does and checks it names each parameter once, at its default
// (quoted empties and values with spaces come back unchanged), and that the
// loader accepts the whole file.
func TestRenderedFileLoadsToDefaults(t *testing.T) {
	c := Defaults()
	seen := map[string]bool{}
	for _, line := range strings.Split(string(c.Render()), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f, err := SplitArgs(line)
		if err != nil || len(f) < 2 {
			t.Fatalf("line %q: %v", line, err)
		}
		name, value := f[0], strings.Join(f[1:], " ")
		if seen[name] {
			t.Errorf("%s listed twice", name)
		}
		seen[name] = true
		if p := c.Lookup(name); p == nil || value != p.Default {
			t.Errorf("line %q: want the default of %s", line, name)
		}
	}
	for _, p := range c.declared {
		if !seen[p.Name] {
			t.Errorf("%s is not in the rendered file", p.Name)
		}
	}
	if err := c.Load(bytes.NewReader(c.Render()), "rendered"); err != nil {
		t.Fatal(err)
	}
}
