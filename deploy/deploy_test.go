package deploy_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/internal/sessiondbin"
)

// TestConfFileStartsServer runs the binary as the unit and the image do,
// "sessiond sessiond.conf --flag value", and checks over RESP2 and RESP3 that
// every parameter the file lists has the value the file gives.
func TestConfFileStartsServer(t *testing.T) {
	bin := sessiondbin.Path(t)
	conf, err := filepath.Abs("../sessiond.conf")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := sessiondbin.FreePort(t)
	cmd := exec.Command(bin, conf, "--port", fmt.Sprint(port), "--dir", dir)
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	want := config.Defaults()
	if err := want.LoadFile(conf); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Protocol: proto, MaxRetries: -1})
		defer c.Close()
		deadline := time.Now().Add(20 * time.Second)
		for c.Ping(ctx).Err() != nil {
			if time.Now().After(deadline) {
				log, _ := os.ReadFile(filepath.Join(dir, "log"))
				t.Fatalf("sessiond with %s did not answer PING:\n%s", conf, log)
			}
			time.Sleep(50 * time.Millisecond)
		}
		got, err := c.ConfigGet(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range want.Names() {
			p := want.Lookup(name)
			if p.Sensitive || p.Hidden || name == "port" || name == "dir" || name != p.Name {
				continue
			}
			if got[name] != want.Get(name) {
				t.Errorf("RESP%d: CONFIG GET %s = %q, the file says %q", proto, name, got[name], want.Get(name))
			}
		}
	}
}

// unit is a parsed systemd unit file: section -> key -> values.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a directive in a section: %q", path, n, line)
			}
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, "sessiond.service")
	for _, want := range []struct{ section, key, value string }{
		{"Service", "Type", "simple"},
		{"Service", "DynamicUser", "yes"},
		{"Service", "StateDirectory", "sessiond"},
		{"Service", "Restart", "on-failure"},
		{"Service", "KillSignal", "SIGTERM"},
		{"Install", "WantedBy", "multi-user.target"},
	} {
		if got := u[want.section][want.key]; len(got) != 1 || got[0] != want.value {
			t.Errorf("[%s] %s = %v, want %q", want.section, want.key, got, want.value)
		}
	}
	execStart := u["Service"]["ExecStart"]
	if len(execStart) != 1 {
		t.Fatalf("ExecStart: %v", execStart)
	}
	args := strings.Fields(execStart[0])
	if args[0] != "/usr/local/bin/sessiond" || args[1] != "/etc/sessiond/sessiond.conf" || !slicesContain(args, "/var/lib/sessiond") {
		t.Errorf("ExecStart %q: want the binary, the config file and --dir /var/lib/sessiond (the StateDirectory)", execStart[0])
	}
	// The flags of ExecStart must be parameters the server knows.
	cfg := config.Defaults()
	for i := 2; i+1 < len(args); i += 2 {
		if err := cfg.Set(strings.TrimPrefix(args[i], "--"), args[i+1]); err != nil {
			t.Errorf("ExecStart flag %s %s: %v", args[i], args[i+1], err)
		}
	}
	if nofile := u["Service"]["LimitNOFILE"]; len(nofile) != 1 || nofile[0] != fmt.Sprint(cfg.Int("maxclients")+32) {
		t.Errorf("LimitNOFILE %v, want maxclients + 32 = %d", nofile, cfg.Int("maxclients")+32)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: the unit was checked by parsing only")
		return
	}
	// systemd-analyze verify checks that ExecStart's binary exists: point the
	// unit at a built one.
	bin := sessiondbin.Path(t)
	body, err := os.ReadFile("sessiond.service")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sessiond.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(body), "/usr/local/bin/sessiond", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	// verify also reports on units of the host that ours depends on; only
	// lines about ours count.
	var ours []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "sessiond.service") {
			ours = append(ours, line)
		}
	}
	if err != nil || len(ours) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, strings.Join(ours, "\n"))
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	cmd, args string
	line      int
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(string(body), "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	return out
}

// TestDockerfile checks what hadolint would not: the image's contract. It
// runs docker build too when a Docker daemon answers.
func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t, "../Dockerfile")
	known := map[string]bool{"FROM": true, "RUN": true, "COPY": true, "WORKDIR": true, "USER": true, "VOLUME": true,
		"EXPOSE": true, "HEALTHCHECK": true, "ENTRYPOINT": true, "CMD": true, "STOPSIGNAL": true, "ARG": true, "ENV": true, "LABEL": true}
	var froms, stages []string
	last := map[string]instruction{}
	final := 0
	for i, in := range ins {
		if !known[in.cmd] {
			t.Errorf("Dockerfile:%d: unknown instruction %s", in.line, in.cmd)
		}
		if in.cmd == "FROM" {
			froms = append(froms, in.args)
			if f := strings.Fields(in.args); len(f) == 3 && strings.EqualFold(f[1], "AS") {
				stages = append(stages, f[2])
			}
			final = i
			if strings.HasSuffix(strings.Fields(in.args)[0], ":latest") || !strings.Contains(strings.Fields(in.args)[0], ":") {
				t.Errorf("Dockerfile:%d: pin the base image's tag: %s", in.line, in.args)
			}
		}
	}
	if len(froms) < 2 || len(stages) == 0 {
		t.Fatalf("want a multi-stage build (a named build stage, then the runtime image): FROM %v", froms)
	}
	copiesConf := false
	for _, in := range ins[final:] {
		last[in.cmd] = in
		if in.cmd == "COPY" && in.args == "sessiond.conf /etc/sessiond/sessiond.conf" {
			copiesConf = true
		}
		if in.cmd == "COPY" && strings.Contains(in.args, "--from=") && !strings.Contains(in.args, "--from="+stages[0]) {
			t.Errorf("Dockerfile:%d: COPY from an unknown stage: %s", in.line, in.args)
		}
	}
	if u, ok := last["USER"]; !ok || strings.HasPrefix(u.args, "root") || strings.HasPrefix(u.args, "0") {
		t.Errorf("the runtime image must run as a non-root USER, got %q", u.args)
	}
	if v, ok := last["VOLUME"]; !ok || !strings.Contains(v.args, "/data") {
		t.Errorf("want VOLUME /data, got %q", v.args)
	}
	hc, ok := last["HEALTHCHECK"]
	if !ok || !strings.Contains(hc.args, "CMD") || !strings.Contains(hc.args, "PING") {
		t.Errorf("want a HEALTHCHECK that PINGs the server, got %q", hc.args)
	}
	ep, ok := last["ENTRYPOINT"]
	if !ok {
		t.Fatal("no ENTRYPOINT")
	}
	// The entrypoint's flags must be parameters the server knows, its data
	// directory the volume, and its config file the one COPY puts there.
	argv := regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(ep.args, -1)
	cfg := config.Defaults()
	var words []string
	for _, m := range argv {
		words = append(words, m[1])
	}
	if len(words) < 2 || words[1] != "/etc/sessiond/sessiond.conf" || !copiesConf {
		t.Errorf("ENTRYPOINT %v: want the config file the image copies", words)
	}
	for i := 2; i+1 < len(words); i += 2 {
		if err := cfg.Set(strings.TrimPrefix(words[i], "--"), words[i+1]); err != nil {
			t.Errorf("ENTRYPOINT flag %s %s: %v", words[i], words[i+1], err)
		}
	}
	if cfg.Get("dir") != "/data" {
		t.Errorf("ENTRYPOINT: --dir %q, want the volume /data", cfg.Get("dir"))
	}
	if p := last["EXPOSE"].args; p != fmt.Sprint(cfg.Int("port")) {
		t.Errorf("EXPOSE %q, want the port %d", p, cfg.Int("port"))
	}

	docker, err := exec.LookPath("docker")
	if err != nil || exec.Command(docker, "info").Run() != nil {
		t.Log("no Docker daemon: the Dockerfile was checked by parsing only")
		return
	}
	if out, err := exec.Command(docker, "build", "-q", "-t", "sessiond-test", "..").CombinedOutput(); err != nil {
		t.Errorf("docker build: %v\n%s", err, out)
	}
}
