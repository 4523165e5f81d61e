package commands_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/internal/testserver"
)

// The native commands say in COMMAND DOCS that sessiond 0.1.0 introduced
// them; Redis' own commands keep the Redis version (GET: 1.0.0).
func TestCommandDocsSince(t *testing.T) {
	srv := testserver.Start(t)
	ctx := context.Background()
	var native []string
	for _, s := range commands.Specs() {
		if strings.HasPrefix(s.Name, "sess.") || strings.HasPrefix(s.Name, "tok.") {
			native = append(native, s.Name)
		}
	}
	if len(native) < 38 {
		t.Fatalf("%d native commands in the table", len(native))
	}
	srv.Protocols(t, func(t *testing.T, c *redis.Client) {
		want := map[string]string{"get": "1.0.0", "hello": "6.0.0"}
		for _, n := range native {
			want[n] = "0.1.0"
		}
		for name, since := range want {
			v, err := c.Do(ctx, "COMMAND", "DOCS", name).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got := docField(v, name, "since"); got != since {
				t.Errorf("COMMAND DOCS %s: since %q, want %q", name, got, since)
			}
		}
	})
}

// docField digs field out of a COMMAND DOCS reply for one command, RESP2
// (flat arrays) or RESP3 (maps).
func docField(reply any, name, field string) string {
	pairs := func(v any) map[string]any {
		out := map[string]any{}
		switch x := v.(type) {
		case map[any]any:
			for k, val := range x {
				out[fmt.Sprint(k)] = val
			}
		case []any:
			for i := 0; i+1 < len(x); i += 2 {
				out[fmt.Sprint(x[i])] = x[i+1]
			}
		}
		return out
	}
	return fmt.Sprint(pairs(pairs(reply)[name])[field])
}
