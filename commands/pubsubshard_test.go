package commands_test

import (
	"testing"

	"github.com/sessiond/sessiond/internal/testserver"
)

// TestShardedPubSub: SPUBLISH reaches SSUBSCRIBE'd clients (as "smessage"),
// not classic subscribers, in RESP2 and RESP3.
func TestShardedPubSub(t *testing.T) {
	s := testserver.Start(t)
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			sub := dialRaw(t, s)
			sub.send("HELLO", proto)
			sub.read()
			sub.send("SSUBSCRIBE", "orders", "audit")
			prefix := ""
			if proto == "3" {
				prefix = ">"
			}
			for _, want := range []string{prefix + "[ssubscribe orders 1]", prefix + "[ssubscribe audit 2]"} {
				if got := sub.read(); got != want {
					t.Fatalf("ssubscribe: %q, want %q", got, want)
				}
			}
			classic := dialRaw(t, s)
			classic.send("SUBSCRIBE", "orders")
			classic.read()
			pub := dialRaw(t, s)
			pub.send("SPUBLISH", "orders", "new")
			if got := pub.read(); got != "1" {
				t.Fatalf("spublish = %q", got)
			}
			if got := sub.read(); got != prefix+"[smessage orders new]" {
				t.Fatalf("message = %q", got)
			}
			pub.send("PUBSUB", "SHARDCHANNELS", "o*")
			if got := pub.read(); got != "[orders]" {
				t.Fatalf("shardchannels = %q", got)
			}
			pub.send("PUBSUB", "SHARDNUMSUB", "orders", "none")
			if got := pub.read(); got != "[orders 1 none 0]" {
				t.Fatalf("shardnumsub = %q", got)
			}
			sub.send("SUNSUBSCRIBE")
			for _, want := range []string{prefix + "[sunsubscribe audit 1]", prefix + "[sunsubscribe orders 0]"} {
				if got := sub.read(); got != want {
					t.Fatalf("sunsubscribe: %q, want %q", got, want)
				}
			}
			pub.send("SPUBLISH", "orders", "again")
			if got := pub.read(); got != "0" {
				t.Fatalf("spublish after sunsubscribe = %q", got)
			}
		})
	}
}
