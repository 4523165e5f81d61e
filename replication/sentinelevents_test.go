package replication_test

import (
	"strings"
	"testing"
	"time"
)

// TestSentinelEventsOnFailover: a surviving node publishes, in Sentinel's
// words and order, what Redis Sentinel publishes around a failover: +sdown
// and +odown for the lost leader (when the node saw itself leaderless), +slave-reconf-done for each replica,
// +switch-master, then +slave for each replica of the new leader
// (node-redis' createSentinel re-reads the topology on +sdown, +odown,
// +slave and +slave-reconf-done; ioredis and go-redis on +switch-master).
func TestSentinelEventsOnFailover(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+string(rune('0'+proto)), func(t *testing.T) {
			g := newGroup(t, 3)
			g.proto = proto
			l := g.waitLeader(-1)
			f := g.follower(l)
			// The nodes' RESP addresses reach the address book through the
			// log just after the group forms: wait until it is complete.
			fc := g.client(f)
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				reps, err := fc.Do(ctx, "SENTINEL", "replicas", "sessiond").Slice()
				if err == nil && len(reps) == 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("SENTINEL replicas: %v %v", reps, err)
				}
			}
			sub := fc.PSubscribe(ctx, "*")
			defer sub.Close()
			if _, err := sub.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			old := strings.Replace(g.nodes[l].addr(), ":", " ", 1)
			g.kill(l)
			var got []string
			timeout := time.After(20 * time.Second)
		collect:
			for {
				select {
				case m := <-sub.Channel():
					got = append(got, m.Channel+" "+m.Payload)
					if m.Channel == "+slave" && len(got) > 1 && strings.HasPrefix(got[len(got)-2], "+slave ") {
						break collect // the last of the failover's events (two replicas)
					}
				case <-timeout:
					t.Fatalf("events within 20 s of the kill: %q", got)
				}
			}
			nl := g.waitLeader(l)
			nw := strings.Replace(g.nodes[nl].addr(), ":", " ", 1)
			var other string
			for i := range g.nodes {
				if i != l && i != nl {
					other = g.nodes[i].addr()
				}
			}
			slave := func(addr, master string) string {
				return "slave " + addr + " " + strings.Replace(addr, ":", " ", 1) + " @ sessiond " + master
			}
			// The killed node is still a member (a replica that is down), as in Sentinel.
			want := map[string]bool{
				"+sdown master sessiond " + old:                       true,
				"+odown master sessiond " + old + " #quorum 2/2":      true,
				"+slave-reconf-done " + slave(other, old):             true,
				"+slave-reconf-done " + slave(g.nodes[l].addr(), old): true,
				"+switch-master sessiond " + old + " " + nw:           true,
				"+slave " + slave(other, nw):                          true,
				"+slave " + slave(g.nodes[l].addr(), nw):              true,
			}
			order := []string{"+sdown", "+odown", "+slave-reconf-done", "+switch-master", "+slave"}
			k := 0
			for _, e := range got {
				if strings.HasPrefix(e, "__") { // keyspace or session events
					continue
				}
				if !want[e] {
					t.Errorf("unexpected event %q", e)
				}
				delete(want, e)
				ch := strings.Fields(e)[0]
				for k < len(order) && order[k] != ch {
					k++
				}
				if k == len(order) {
					t.Errorf("%q out of order in %q", e, got)
				}
			}
			for e := range want {
				// +sdown/+odown come from the node's leaderless moment, which
				// its leadership watcher may not see when the election is quick.
				if strings.HasPrefix(e, "+sdown") || strings.HasPrefix(e, "+odown") {
					continue
				}
				t.Errorf("missing event %q (got %q)", e, got)
			}
		})
	}
}
