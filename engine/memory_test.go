package engine

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// Eviction under every policy keeps the hash index, the memory estimate and
// the candidate lists exact (checkPoints), brings memory under the limit,
// and leaves the session counts equal to what a walk of the records finds.
func TestEvictionKeepsStateConsistent(t *testing.T) {
	for _, name := range []string{"allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"} {
		t.Run(name, func(t *testing.T) {
			var now atomic.Int64
			now.Store(base)
			e := openClocked(t, &now)
			pol, _ := ParsePolicy(name)
			update(t, e, now.Load(), func(tx *Tx) error {
				for i := 0; i < 300; i++ {
					var h [HandleBytes]byte
					var k [TokenBytes]byte
					copy(h[:], fmt.Sprintf("h%015d", i))
					copy(k[:], fmt.Sprintf("t%031d", i))
					s, err := tx.CreateSession(NewSession{Handle: FormatHandle(h), Token: FormatToken("", k), Owner: fmt.Sprintf("u%d", i%7), Idle: int64(1000+i) * 1000, Data: strings.Repeat("d", i)})
					if err != nil {
						return err
					}
					// Transition tokens: bound to the session, owned, or
					// transferable and unassigned; with and without a TTL.
					nt := NewTransitionToken{Token: fmt.Sprint("tok", i), Value: "v", Timeout: int64(i%2) * 5000_000}
					switch i % 3 {
					case 0:
						nt.Session = &s
					case 1:
						nt.Owner = s.Owner
					default:
						nt.Transferable = true
					}
					if !tx.AddTransitionToken(nt) {
						return fmt.Errorf("token %d refused", i)
					}
					if _, err := tx.Set(0, fmt.Sprint("plain", i), "value", SetOptions{}); err != nil {
						return err
					}
					if _, err := tx.HSet(1, fmt.Sprint("h", i), []string{"a", "1", "b", "2"}, false); err != nil {
						return err
					}
				}
				return nil
			})
			checkPoints(t, e)
			max := BaseMemory + e.DatasetMemory()/2
			e.SetMemoryPolicy(MemoryPolicy{Max: max, Policy: pol, Samples: 5, LFULogFactor: 10, LFUDecayTime: 1})
			freed := false
			if _, err := e.Update(now.Load(), func(tx *Tx) error { freed = tx.FreeMemory(); return nil }); err != nil {
				t.Fatal(err)
			}
			if !freed {
				t.Fatal("could not get under the limit")
			}
			if e.UsedMemory() > max {
				t.Fatalf("used %d over %d", e.UsedMemory(), max)
			}
			if e.Stats().EvictedKeys.Load() == 0 {
				t.Fatal("nothing evicted")
			}
			checkPoints(t, e)
			_ = e.View(now.Load(), func(tx *Tx) error {
				live, owners, _ := tx.SessionCounts()
				var walked int64
				seen := map[string]bool{}
				_ = tx.bt.AscendGreaterOrEqual("", string([]byte{'k', dbSession}), func(k, v string) bool {
					if k[1] != dbSession {
						return false
					}
					walked++
					s, _ := decodeSession(k[2:], v[headerLen:])
					seen[s.Owner] = true
					return true
				})
				if live != walked || owners != int64(len(seen)) {
					t.Fatalf("counts say %d sessions of %d owners, records %d of %d", live, owners, walked, len(seen))
				}
				// Token counters agree with the token records left, and each
				// token has its index entries and nothing more (a bound token
				// of an evicted session went with it).
				var toks int64
				_ = tx.bt.AscendGreaterOrEqual("", string([]byte{'k', dbToken}), func(k, _ string) bool {
					if k[1] != dbToken {
						return false
					}
					toks++
					return true
				})
				if tc := tx.TokenCounts(); tc.Live != toks {
					t.Fatalf("token counts say %d live, records %d", tc.Live, toks)
				}
				idx := int64(len(tx.OwnerTokens("u0")) + len(tx.UnassignedTokens()))
				for i := 1; i < 7; i++ {
					idx += int64(len(tx.OwnerTokens(fmt.Sprint("u", i))))
				}
				if idx > toks {
					t.Fatalf("%d index entries for %d tokens", idx, toks)
				}
				if strings.HasPrefix(name, "volatile") {
					for i := 0; i < 300; i++ {
						if _, ok := tx.Lookup(0, fmt.Sprint("plain", i)); !ok {
							t.Fatalf("%s evicted plain%d, which has no TTL", name, i)
						}
					}
				}
				return nil
			})
		})
	}
}

// Redis' LFU counter: logarithmic growth, decay by lfu-decay-time minutes.
func TestLFUCounter(t *testing.T) {
	var p points
	p.lfuLog.Store(10)
	p.lfuDecay.Store(1)
	c := uint32(lfuInitVal)
	for i := 0; i < 1000; i++ {
		c = p.lfuIncr(c)
	}
	if c < 10 || c > 30 {
		t.Fatalf("counter after 1000 hits with lfu-log-factor 10 = %d", c)
	}
	now := clockOf(base)
	v := now.minutes()<<8 | 20
	if got := p.lfuDecr(v, now); got != 20 {
		t.Fatalf("no time elapsed: %d", got)
	}
	later := accessClock{sec: now.sec + 5*60}
	if got := p.lfuDecr(v, later); got != 15 {
		t.Fatalf("5 minutes with decay 1: %d, want 15", got)
	}
	p.lfuDecay.Store(0)
	if got := p.lfuDecr(v, later); got != 20 {
		t.Fatalf("decay off: %d", got)
	}
}
