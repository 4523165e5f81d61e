package config

import "testing"

func TestOutputLimitsFollowSet(t *testing.T) {
	c := Defaults()
	if got := c.OutputLimits()["pubsub"]; got.Hard != 32<<20 || got.Soft != 8<<20 || got.SoftSecs != 60 {
		t.Fatalf("default pubsub limit = %+v", got)
	}
	if err := c.Set("client-output-buffer-limit", "pubsub 1mb 512kb 5"); err != nil {
		t.Fatal(err)
	}
	if got := c.OutputLimits()["pubsub"]; got.Hard != 1<<20 || got.Soft != 512<<10 || got.SoftSecs != 5 {
		t.Fatalf("pubsub limit after CONFIG SET = %+v", got)
	}
	if got := c.OutputLimits()["normal"]; got.Hard != 0 {
		t.Fatalf("normal limit changed by a pubsub-only SET: %+v", got)
	}
}

func TestParseMemory(t *testing.T) {
	cases := map[string]int64{"1": 1, "1k": 1000, "1kb": 1024, "2mb": 2 << 20, "1gb": 1 << 30, "1G": 1000 * 1000 * 1000}
	for in, want := range cases {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "kb", "1x", "9999999999999999999gb"} {
		if _, err := ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q) accepted", bad)
		}
	}
}

func TestTypedValidation(t *testing.T) {
	c := Defaults()
	if err := c.Set("maxclients", "abc"); err == nil {
		t.Error("maxclients abc accepted")
	}
	if err := c.Set("appendfsync", "sometimes"); err == nil {
		t.Error("appendfsync sometimes accepted")
	}
	if err := c.Set("session-auto-touch", "maybe"); err == nil {
		t.Error("bool maybe accepted")
	}
	if err := c.Set("nosuch", "1"); err != ErrUnknown {
		t.Errorf("unknown parameter: %v", err)
	}
	if err := c.Set("notify-keyspace-events", "KEA"); err != nil || c.Get("notify-keyspace-events") != "AKE" {
		t.Errorf("notify-keyspace-events normalized to %q (%v)", c.Get("notify-keyspace-events"), err)
	}
}
