package replication_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestEvictionSameOnEveryNode: with maxmemory in a group, every node must
// end with the same keys. Eviction inside the replicated apply picked its
// own victims on each node (about half of the keys differed after 20,000
// SETs over a 3 MB limit), so a node of a group does not evict: whatever
// the policy, it acts as noeviction (writes that may grow memory answer
// OOM), which the replicated memory estimate makes the same everywhere.
func TestEvictionSameOnEveryNode(t *testing.T) {
	for _, policy := range []string{"allkeys-random", "allkeys-lru"} {
		t.Run(policy, func(t *testing.T) {
			g := newGroup(t, 3, "--maxmemory", "3000000", "--maxmemory-policy", policy)
			l := g.waitLeader(-1)
			c := g.client(l)
			val := strings.Repeat("v", 100)
			oom := 0
			for b := 0; b < 40; b++ {
				p := c.Pipeline()
				for i := 0; i < 500; i++ {
					p.Set(ctx, fmt.Sprintf("k%d", b*500+i), val, 0)
				}
				cmds, err := p.Exec(ctx)
				if err != nil && !strings.HasPrefix(err.Error(), "OOM") {
					t.Fatal(err)
				}
				for _, cmd := range cmds {
					if cmd.Err() != nil && strings.HasPrefix(cmd.Err().Error(), "OOM") {
						oom++
					}
				}
				// Reads on some keys (LRU clocks differ between nodes).
				c.Get(ctx, fmt.Sprintf("k%d", b*250))
			}
			if oom == 0 {
				t.Fatal("no write answered OOM over maxmemory")
			}
			// Make room for the marker every node waits for.
			must(t, "", c.Del(ctx, "k0", "k1", "k2", "k3").Err())
			must(t, "", c.Set(ctx, "last", "1", 0).Err())
			keysOf := func(i int) []string {
				cl := g.client(i)
				var keys []string
				deadline := time.Now().Add(10 * time.Second)
				for {
					if v, err := cl.Get(ctx, "last").Result(); err == nil && v == "1" {
						break
					} else if time.Now().After(deadline) {
						t.Fatalf("node %d: %v", i, err)
					}
					time.Sleep(20 * time.Millisecond)
				}
				var cur uint64
				for {
					ks, next, err := cl.Scan(ctx, cur, "*", 1000).Result()
					if err != nil && err != redis.Nil {
						t.Fatal(err)
					}
					keys = append(keys, ks...)
					if cur = next; cur == 0 {
						break
					}
				}
				sort.Strings(keys)
				return keys
			}
			ref := keysOf(l)
			t.Logf("leader: %d keys, %d writes answered OOM", len(ref), oom)
			for i := range g.nodes {
				if i == l {
					continue
				}
				got := keysOf(i)
				if strings.Join(got, ",") != strings.Join(ref, ",") {
					diff := 0
					in := map[string]bool{}
					for _, k := range ref {
						in[k] = true
					}
					for _, k := range got {
						if !in[k] {
							diff++
						}
					}
					t.Errorf("node %d holds %d keys, the leader %d; %d of its keys are not on the leader", i, len(got), len(ref), diff)
				}
			}
		})
	}
}
