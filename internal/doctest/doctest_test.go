package doctest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/internal/testserver"
)

const root = "../.."

// block is one fenced code block of a markdown file.
type block struct {
	file  string
	line  int
	lang  string
	attrs map[string]string
	body  string
}

func (b block) String() string { return fmt.Sprintf("%s:%d (%s)", b.file, b.line, b.lang) }

// docFiles are the pages whose examples a user pastes.
func docFiles(t *testing.T) []string {
	files := []string{"README.md", "clients/node/README.md"}
	md, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range md {
		rel, _ := filepath.Rel(root, f)
		files = append(files, rel)
	}
	return files
}

var fence = regexp.MustCompile("^( *)```(.*)$")

func parseBlocks(t *testing.T, file string) []block {
	t.Helper()
	f, err := os.Open(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []block
	var cur *block
	indent := ""
	var body strings.Builder
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		m := fence.FindStringSubmatch(line)
		if cur == nil {
			if m == nil {
				continue
			}
			fields := strings.Fields(m[2])
			cur = &block{file: file, line: n, attrs: map[string]string{}}
			if len(fields) > 0 {
				cur.lang = fields[0]
				for _, a := range fields[1:] {
					k, v, _ := strings.Cut(a, "=")
					cur.attrs[k] = v
				}
			}
			indent = m[1]
			body.Reset()
			continue
		}
		if m != nil && m[2] == "" {
			cur.body = body.String()
			out = append(out, *cur)
			cur = nil
			continue
		}
		body.WriteString(strings.TrimPrefix(line, indent) + "\n")
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated code block", file, cur.line)
	}
	return out
}

// errorLine finds a line of redis-cli output that is an error reply.
var errorLine = regexp.MustCompile(`(?m)^(\(error\) )?(ERR|WRONGTYPE|NOAUTH|NOPERM|NOSCRIPT|BUSY|EXECABORT|DENIED)\b.*$|^Invalid argument\(s\)$|^Unrecognized option.*$`)

// TestExamples runs every marked block against one live server.
func TestExamples(t *testing.T) {
	redisCLI, cliErr := exec.LookPath("redis-cli")
	srv := testserver.Start(t)
	_, port, _ := strings.Cut(srv.Addr, ":")

	// redis-cli on PATH reaches the test server, so blocks read as a user types them.
	bin := t.TempDir()
	if cliErr == nil {
		wrapper := fmt.Sprintf("#!/bin/sh\nexec %q -h 127.0.0.1 -p %s \"$@\"\n", redisCLI, port)
		if err := os.WriteFile(filepath.Join(bin, "redis-cli"), []byte(wrapper), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SESSIOND_PORT="+port, "SESSIOND_ADDR="+srv.Addr, "SESSIOND_URL=redis://"+srv.Addr)
	needCLI := func(t *testing.T) {
		if cliErr != nil {
			if os.Getenv("SESSIOND_DOCS_REQUIRE_ALL") != "" {
				t.Fatal("redis-cli is not installed (apt-get install redis-tools)")
			}
			t.Skip("redis-cli is not installed (apt-get install redis-tools)")
		}
	}

	ran := 0
	for _, file := range docFiles(t) {
		for _, b := range parseBlocks(t, file) {
			b := b
			switch {
			case (b.lang == "sh" || b.lang == "bash") && b.attrs["needs"] != "":
				continue // run by tests/clients/suites/guide.test.js with the program it needs
			case b.lang == "sh" || b.lang == "bash":
				t.Run(b.String(), func(t *testing.T) {
					if _, norun := b.attrs["norun"]; norun {
						run(t, b, exec.Command("bash", "-n", "-c", b.body), env)
						return
					}
					needCLI(t)
					ran++
					checkOutput(t, b, run(t, b, exec.Command("bash", "-euo", "pipefail", "-c", b.body), env))
				})
			case b.lang == "redis-cli":
				t.Run(b.String(), func(t *testing.T) {
					needCLI(t)
					ran++
					for _, line := range strings.Split(b.body, "\n") {
						if l := strings.TrimSpace(line); l == "" || strings.HasPrefix(l, "#") {
							continue
						}
						cmd := exec.Command(filepath.Join(bin, "redis-cli"))
						cmd.Stdin = strings.NewReader(line + "\n")
						checkOutput(t, b, run(t, b, cmd, env))
					}
				})
			case b.lang == "python" && b.attrs["run"] == "" && hasAttr(b, "run"):
				t.Run(b.String(), func(t *testing.T) {
					py := python()
					if py == "" {
						if os.Getenv("SESSIOND_DOCS_REQUIRE_ALL") != "" {
							t.Fatal("redis-py is not installed (apt-get install python3-redis)")
						}
						t.Skip("redis-py is not installed (apt-get install python3-redis)")
					}
					ran++
					cmd := exec.Command(py, "-")
					cmd.Stdin = strings.NewReader(b.body)
					run(t, b, cmd, env)
				})
			case b.lang == "go" && b.attrs["file"] != "":
				t.Run(b.String(), func(t *testing.T) {
					ran++
					runGo(t, b, env)
				})
			}
		}
	}
	if ran < 7 {
		t.Errorf("only %d runnable blocks ran: are the fences marked?", ran)
	}
}

func hasAttr(b block, k string) bool { _, ok := b.attrs[k]; return ok }

// python returns an interpreter that has redis-py: Debian's python3-redis
// lives in /usr/bin/python3's packages, which need not be the first python3
// on PATH.
func python() string {
	for _, p := range []string{os.Getenv("PYTHON"), "/usr/bin/python3", "python3"} {
		if p != "" && exec.Command(p, "-c", "import redis").Run() == nil {
			return p
		}
	}
	return ""
}

// run runs cmd with env and returns its combined output, failing on a
// non-zero exit.
func run(t *testing.T, b block, cmd *exec.Cmd, env []string) string {
	t.Helper()
	cmd.Env = env
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n--- block\n%s--- output\n%s", b, err, b.body, out)
	}
	return string(out)
}

func checkOutput(t *testing.T, b block, out string) {
	t.Helper()
	if m := errorLine.FindString(out); m != "" {
		t.Errorf("%s: an error reply: %q\n--- block\n%s--- output\n%s", b, m, b.body, out)
	}
}

// runGo builds a main package from the block (placed in the module by a
// build overlay, so it imports this module's packages) and runs it.
func runGo(t *testing.T, b block, env []string) {
	dir := t.TempDir()
	src := filepath.Join(dir, b.attrs["file"])
	if err := os.WriteFile(src, []byte(b.body), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(filepath.Join(root, "internal", "doctest", "testdata", "prog", b.attrs["file"]))
	if err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{abs: src}})
	ovl := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ovl, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "prog")
	build := exec.Command("go", "build", "-overlay", ovl, "-o", exe, "./internal/doctest/testdata/prog")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: go build: %v\n%s", b, err, out)
	}
	run(t, b, exec.Command(exe), env)
}

var (
	planning = regexp.MustCompile(`(?i:\bseed[ -]?0\d\d\b|\bseeds/|\bissue #?\d+\b)|\bCOMMANDS\.md|\bDESIGN\.md|\bSTYLE\.md|\bshared/`)
	mdLink   = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	codePath = regexp.MustCompile("`((?:[\\w.-]+/)*[\\w.-]+\\.(?:go|md|js|ts|sh|json|conf|service|py))`")
)

// TestNoDanglingReferences: every link and every backquoted file path of
// the pages names a file of the repository, and no page talks about how the
// project was planned.
func TestNoDanglingReferences(t *testing.T) {
	for _, file := range append(docFiles(t), "tests/clients/README.md") {
		body, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		text := string(body)
		for i, line := range strings.Split(text, "\n") {
			if m := planning.FindString(line); m != "" {
				t.Errorf("%s:%d: %q is about how the project was planned, not about sessiond", file, i+1, m)
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.Dir(file), target)); err != nil {
					t.Errorf("%s:%d: link to %s, which is not in the repository", file, i+1, target)
				}
			}
			for _, m := range codePath.FindAllStringSubmatch(line, -1) {
				p := m[1]
				if !strings.Contains(p, "/") && !strings.HasSuffix(p, ".md") {
					continue // a bare file name (app.js, sessiond.conf) is the reader's or relative
				}
				if !exists(filepath.Join(root, p)) && !exists(filepath.Join(root, filepath.Dir(file), p)) {
					t.Errorf("%s:%d: `%s` names no file of the repository", file, i+1, p)
				}
			}
		}
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
