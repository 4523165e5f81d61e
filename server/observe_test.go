package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/server"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metricValue finds a sample line "name{labels} value" in an exposition.
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in /metrics", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

func metricValueOr0(body, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetricsEndpoint(t *testing.T) {
	cfg := config.Defaults()
	for k, v := range map[string]string{"dir": t.TempDir(), "port": "0", "appendfsync": "always"} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenOn("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenMetrics("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.MetricsAddr().String()
	if code, body := httpGet(t, base+"/health"); code != http.StatusServiceUnavailable || !strings.Contains(body, "loading") {
		t.Errorf("/health before serving: %d %q", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := httpGet(t, base+"/health")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health never answered 200 (last %d)", code)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Command statistics are the process's (other tests' servers count
	// too): compare with a scrape taken before.
	_, before := httpGet(t, base+"/metrics")
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr().String(), Protocol: proto})
		c.Set(ctx, "k", "v", 0)
		c.Set(ctx, "e", "v", time.Hour)
		c.Get(ctx, "k")
		c.Do(ctx, "nosuchcommand")
		c.Do(ctx, "sess.new")
		c.Close()
	}
	_, body := httpGet(t, base+"/metrics")
	for series, want := range map[string]float64{
		`sessiond_commands_total{cmd="set"}`:                            4,
		`sessiond_commands_total{cmd="get"}`:                            2,
		`sessiond_command_duration_seconds_count{cmd="set"}`:            4,
		`sessiond_command_duration_seconds_bucket{cmd="set",le="+Inf"}`: 4,
	} {
		if got := metricValue(t, body, series) - metricValueOr0(before, series); got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}
	checks := map[string]float64{
		`sessiond_db_keys{db="0"}`:             2,
		`sessiond_db_expiring_keys{db="0"}`:    1,
		`sessiond_sessions`:                    2,
		`sessiond_tokens_live`:                 0,
		`sessiond_errorstat_total{code="ERR"}`: 2,
		`sessiond_loading`:                     0,
		`sessiond_rejected_connections_total`:  0,
		`sessiond_evicted_keys_total`:          0,
		`sessiond_expired_keys_total`:          0,
	}
	for series, want := range checks {
		if got := metricValue(t, body, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	for _, series := range []string{"sessiond_connected_clients", "sessiond_commands_processed_total", "sessiond_net_input_bytes_total", "go_goroutines", "process_cpu_seconds_total"} {
		metricValue(t, body, series)
	}
	if n := metricValue(t, body, "sessiond_data_file_fsync_duration_seconds_count"); n < 1 {
		t.Errorf("no fsync counted under appendfsync always: %v", n)
	}
	if n := metricValue(t, body, "sessiond_data_file_write_duration_seconds_count"); n < 4 {
		t.Errorf("data file writes counted: %v, want at least 4", n)
	}
	if got := metricValue(t, body, "sessiond_net_input_bytes_total"); got <= 0 {
		t.Errorf("net input bytes: %v", got)
	}
}

// A port already taken stops the server before the data file exists.
func TestStartBindsBeforeDataFile(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	cfg := config.Defaults()
	_ = cfg.Set("dir", dir)
	_ = cfg.Set("port", strconv.Itoa(taken.Addr().(*net.TCPAddr).Port))
	if _, err := server.Start(cfg); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("start on a taken port: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left in dir after a port clash: %v", entries)
	}
	// The same with the metrics port taken.
	cfg2 := config.Defaults()
	_ = cfg2.Set("dir", filepath.Join(dir, "sub"))
	_ = cfg2.Set("port", strconv.Itoa(freePort(t)))
	_ = cfg2.Set("metrics-port", strconv.Itoa(taken.Addr().(*net.TCPAddr).Port))
	if _, err := server.Start(cfg2); err == nil || !strings.Contains(err.Error(), "metrics") {
		t.Fatalf("start with a taken metrics port: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub")); !os.IsNotExist(err) {
		t.Errorf("data directory created despite the clash: %v", err)
	}
}

// CLIENT PAUSE WRITE holds a TLS client's write too (the goroutine path).
func TestClientPauseOverTLS(t *testing.T) {
	s, port, pool := startTLS(t)
	ctx := context.Background()
	tc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: 3, MaxRetries: -1,
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}})
	defer tc.Close()
	admin := s.Client(2)
	if err := admin.Do(ctx, "client", "pause", "60000", "write").Err(); err != nil {
		t.Fatal(err)
	}
	if err := tc.Get(ctx, "k").Err(); err != redis.Nil {
		t.Fatalf("read over TLS during a write pause: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- tc.Set(ctx, "k", "v", 0).Err() }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, _ := admin.Info(ctx, "clients").Result()
		if strings.Contains(info, "blocked_clients:1\r\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the TLS write was not held:\n%s", info)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("SET over TLS returned during the pause: %v", err)
	default:
	}
	admin.Do(ctx, "client", "unpause")
	if err := <-done; err != nil {
		t.Fatalf("held SET: %v", err)
	}
	if v, _ := admin.Get(ctx, "k").Result(); v != "v" {
		t.Errorf("after unpause: %q", v)
	}
}
