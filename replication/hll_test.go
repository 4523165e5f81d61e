package replication_test

import (
	"strconv"
	"testing"
)

// HyperLogLogs replicate as their exact bytes: every node counts the same,
// PFCOUNT answers on every node (a node of a group does not write the
// cached count back: a read may not write outside the log), and PFMERGE's
// result is the same value everywhere (the cached-count bytes aside).
func TestGroupHyperLogLog(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
	lc := g.client(l)
	args := []any{}
	for i := 0; i < 500; i++ {
		args = append(args, "e"+strconv.Itoa(i))
	}
	if n := get[int64](t)(lc.PFAdd(ctx, "h1", args[:300]...).Result()); n != 1 {
		t.Fatalf("PFADD = %d", n)
	}
	get[int64](t)(lc.PFAdd(ctx, "h2", args[200:]...).Result())
	if s := get[string](t)(lc.PFMerge(ctx, "u", "h1", "h2").Result()); s != "OK" {
		t.Fatalf("PFMERGE = %q", s)
	}
	want := get[string](t)(lc.Get(ctx, "u").Result())
	wantCount := get[int64](t)(lc.PFCount(ctx, "h1", "h2").Result())
	for i := range g.nodes {
		c := g.client(i)
		if n := get[int64](t)(c.PFCount(ctx, "u").Result()); n != wantCount {
			t.Fatalf("node %d: PFCOUNT u = %d, want %d", i, n, wantCount)
		}
		if v := get[string](t)(c.Get(ctx, "u").Result()); len(v) != len(want) || v[:8] != want[:8] || v[16:] != want[16:] {
			t.Fatalf("node %d: the merged value differs from the leader's", i)
		}
		if n := get[int64](t)(c.PFCount(ctx, "h1", "h2").Result()); n != wantCount {
			t.Fatalf("node %d: PFCOUNT h1 h2 = %d, want %d", i, n, wantCount)
		}
	}
}
