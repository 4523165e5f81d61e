package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessiond/sessiond/config"
)

func TestLevelsAndFormats(t *testing.T) {
	var b bytes.Buffer
	lv := new(slog.LevelVar)
	l, _ := ParseLevel("verbose")
	lv.Set(l)
	log := New(Options{Level: lv, Format: "json", Out: &b})
	log.Debug("hidden")
	log.Log(context.Background(), LevelVerbose, "shown", "client", 7)
	log.Warn("careful")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines at verbose: %q", lines)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["level"] != "verbose" || rec["msg"] != "shown" || rec["client"] != float64(7) {
		t.Errorf("json record: %v", rec)
	}
	if !strings.Contains(lines[1], `"level":"warning"`) {
		t.Errorf("warning line: %s", lines[1])
	}
	b.Reset()
	l, _ = ParseLevel("nothing")
	lv.Set(l)
	log.Warn("never")
	if b.Len() != 0 {
		t.Errorf("loglevel nothing logged %q", b.String())
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel accepted loud")
	}
}

func TestSetupLogfileAndLiveLevel(t *testing.T) {
	prev := slog.Default()
	defer slog.SetDefault(prev)
	cfg := config.Defaults()
	path := filepath.Join(t.TempDir(), "sessiond.log")
	for k, v := range map[string]string{"logfile": path, "loglevel": "warning"} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	closeLog, err := Setup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	slog.Info("not at warning")
	slog.Warn("at warning")
	if err := cfg.Set("loglevel", "notice"); err != nil { // CONFIG SET loglevel
		t.Fatal(err)
	}
	slog.Info("now shown")
	closeLog()
	data, _ := os.ReadFile(path)
	out := string(data)
	if strings.Contains(out, "not at warning") || !strings.Contains(out, "level=warning msg=\"at warning\"") || !strings.Contains(out, "level=notice msg=\"now shown\"") {
		t.Errorf("log file:\n%s", out)
	}
}
