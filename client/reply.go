package client

import (
	"fmt"
	"strconv"
	"time"
)

// Replies: go-redis hands a structured reply over as []any of field, value
// pairs in RESP2 and as map[any]any in RESP3; integers as int64 in both. The
// helpers below read either, so every method returns the same Go value
// whatever protocol the connection speaks.

// fields is a map reply keyed by field name.
type fields map[string]any

func toFields(v any) (fields, error) {
	switch x := v.(type) {
	case map[any]any:
		f := make(fields, len(x))
		for k, val := range x {
			f[fmt.Sprint(k)] = val
		}
		return f, nil
	case map[string]any:
		return fields(x), nil
	case []any:
		if len(x)%2 != 0 {
			return nil, fmt.Errorf("sessiond: map reply with an odd number of elements (%d)", len(x))
		}
		f := make(fields, len(x)/2)
		for i := 0; i < len(x); i += 2 {
			f[fmt.Sprint(x[i])] = x[i+1]
		}
		return f, nil
	}
	return nil, fmt.Errorf("sessiond: want a map reply, got %T", v)
}

func (f fields) str(name string) string {
	switch x := f[name].(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

func (f fields) int(name string) int64 {
	n, _ := asInt(f[name])
	return n
}

func (f fields) bool(name string) bool { return f.int(name) == 1 }

// ms reads a duration field given in milliseconds.
func (f fields) ms(name string) time.Duration { return time.Duration(f.int(name)) * time.Millisecond }

// at reads a Unix-ms deadline field; 0 (none) is the zero Time.
func (f fields) at(name string) time.Time { return unixMs(f.int(name)) }

func unixMs(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func asInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("sessiond: want an integer reply, got %T", v)
}

func asStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = fmt.Sprint(e)
		}
		return out, nil
	case []string:
		return x, nil
	}
	return nil, fmt.Errorf("sessiond: want an array reply, got %T", v)
}

// stringMap reads a nested map (SESS.INFO's meta) as map[string]string.
func stringMap(v any) (map[string]string, error) {
	if v == nil {
		return map[string]string{}, nil
	}
	f, err := toFields(v)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(f))
	for k := range f {
		out[k] = f.str(k)
	}
	return out, nil
}
