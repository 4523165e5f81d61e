package commands

import (
	"bytes"
	"log"
	"strings"
	"testing"
	"time"
)

// D8: failed AUTHs are logged as a warning at most once per authWarnEvery,
// the next line carrying how many were not logged; never one per failure.
func TestFailedAuthWarningIsRateLimited(t *testing.T) {
	d, cl := newTestDispatcher(t)
	var buf bytes.Buffer
	orig := log.Writer()
	log.SetOutput(&buf)
	defer log.SetOutput(orig)
	t0 := time.Unix(1_800_000_000, 0)
	for i := 0; i < 1000; i++ {
		d.warnFailedAuth(cl, "admin", t0.Add(time.Duration(i)*time.Millisecond))
	}
	if n := strings.Count(buf.String(), "failed AUTH"); n != 1 {
		t.Fatalf("1000 failures within a second logged %d lines:\n%s", n, buf.String())
	}
	d.warnFailedAuth(cl, "admin", t0.Add(authWarnEvery+time.Second))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "(999 more failed AUTHs in the last 10s; see ACL LOG)") {
		t.Fatalf("after the window: %q", lines)
	}
}
