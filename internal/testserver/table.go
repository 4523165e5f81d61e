package testserver

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Case is one command and the reply it must produce. Want is compared with
// the value go-redis decodes (string, int64, []interface{}, map, nil ...);
// WantErr, if set, is a prefix the error text must start with.
type Case struct {
	Cmd     []any
	Want    any
	WantErr string
	// Any skips the reply check (setup steps).
	Any bool
}

// Run sends each case in order on c and checks its reply.
func Run(t *testing.T, c *redis.Client, cases []Case) {
	t.Helper()
	ctx := context.Background()
	for i, tc := range cases {
		v, err := c.Do(ctx, tc.Cmd...).Result()
		name := fmt.Sprintf("#%d %v", i, tc.Cmd)
		switch {
		case tc.Any:
		case tc.WantErr != "":
			if err == nil || err == redis.Nil || !strings.HasPrefix(err.Error(), tc.WantErr) {
				t.Errorf("%s: got (%#v, %v), want error %q", name, v, err, tc.WantErr)
			}
		case tc.Want == nil:
			if err != redis.Nil {
				t.Errorf("%s: got (%#v, %v), want nil", name, v, err)
			}
		default:
			if err != nil {
				t.Errorf("%s: unexpected error %v", name, err)
				continue
			}
			if !reflect.DeepEqual(normalize(v), normalize(tc.Want)) {
				t.Errorf("%s: got %#v, want %#v", name, v, tc.Want)
			}
		}
	}
}

// normalize maps RESP2/RESP3 differences that do not matter for a check:
// int to int64, sets to slices.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	case map[any]any:
		out := map[any]any{}
		for k, val := range x {
			out[normalize(k)] = normalize(val)
		}
		return out
	}
	return v
}
