package replication_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// replyMap turns a SESS.* reply (a RESP3 map or a flat RESP2 array of
// field, value) into a map.
func replyMap(v interface{}) (map[string]interface{}, error) {
	out := map[string]interface{}{}
	switch r := v.(type) {
	case map[interface{}]interface{}:
		for k, x := range r {
			out[fmt.Sprint(k)] = x
		}
	case []interface{}:
		if len(r)%2 != 0 {
			return nil, fmt.Errorf("odd reply %v", r)
		}
		for i := 0; i < len(r); i += 2 {
			out[fmt.Sprint(r[i])] = r[i+1]
		}
	default:
		return nil, fmt.Errorf("unexpected reply %T %v", v, v)
	}
	return out, nil
}

func replyUint(v interface{}) uint64 {
	switch x := v.(type) {
	case int64:
		return uint64(x)
	case string:
		n, _ := strconv.ParseUint(x, 10, 64)
		return n
	}
	return 0
}

// notSent reports an error that proves the command never left the client
// (no connection could be made), so it cannot have happened.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// sessSlot is one of the few sessions the clients share: the newest pair
// (token, nonce) any client was answered, as a cookie jar shared by the tabs
// of one browser.
type sessSlot struct {
	handle    string
	token     string
	nonce     uint64
	dead      bool // some client was told revoked / replayed / unknown
	replacing bool // a client is creating its successor session
}

// TestLinearizableSessionRotation records SESS.VALIDATE rotations (and
// SESS.TTL reads) of a few shared sessions by clients spread over every node
// while the leader is killed with SIGKILL and restarted, twice, and checks
// the history with porcupine against the session model (sessmodel_test.go).
//
// Each client presents, for a session, the newest pair any client saw, or
// the pair it last saw itself, or now and then the newest token with its own
// older nonce (the second-tab case of docs/sessions.md). So rotations race,
// repeats within session-rotate-grace (1 s here) must return the same
// successor, stale pairs past the grace are replays that revoke the session
// (a client then creates a new one for the slot), and mismatched pairs
// answer `nonce`. A validate whose reply was lost is an unknown outcome
// (open end); one that could not even connect is left out, as is a failed
// read.
func TestLinearizableSessionRotation(t *testing.T) {
	g := newGroup(t, 3, "--session-rotate-grace", "1")
	const grace = int64(time.Second)
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		slots   [3]sessSlot
		wg      sync.WaitGroup
		stop    = make(chan struct{})
	)
	record := func(op porcupine.Operation) {
		mu.Lock()
		history = append(history, op)
		mu.Unlock()
	}
	now := func() int64 { return time.Now().UnixNano() }
	// newSession creates the session for slot s through client c.
	newSession := func(c *redis.Client, w, s int) error {
		call := now()
		v, err := c.Do(ctx, "SESS.NEW").Result()
		ret := now()
		if err != nil {
			// Lost or refused: no client will ever use that session, so
			// it has no place in any partition.
			return err
		}
		m, err := replyMap(v)
		if err != nil {
			t.Error(err)
			return err
		}
		h, tok := fmt.Sprint(m["handle"]), fmt.Sprint(m["token"])
		n := replyUint(m["nonce"])
		record(porcupine.Operation{ClientId: w, Input: sessInput{handle: h, kind: opNew, call: call},
			Output: sessOutput{token: tok, nonce: n, ret: ret}, Call: call, Return: ret})
		mu.Lock()
		slots[s] = sessSlot{handle: h, token: tok, nonce: n}
		mu.Unlock()
		return nil
	}
	{
		c := g.client(g.waitLeader(-1))
		for s := range slots {
			if err := newSession(c, 0, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	var counts struct {
		sync.Mutex
		m map[string]int
	}
	counts.m = map[string]int{}
	count := func(k string) {
		counts.Lock()
		counts.m[k]++
		counts.Unlock()
	}
	const writers = 6
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 11))
			clients := g.spreadClients(w, 2+w%2)
			defer clients.close()
			type pair struct {
				token string
				nonce uint64
			}
			mine := map[string]pair{} // handle -> the pair this client last saw
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				c := clients.next(n)
				s := r.IntN(len(slots))
				mu.Lock()
				sl := slots[s]
				replace := sl.dead && !sl.replacing
				if replace {
					slots[s].replacing = true
				}
				mu.Unlock()
				if replace {
					if err := newSession(c, w, s); err != nil {
						mu.Lock()
						slots[s].replacing = false
						mu.Unlock()
						time.Sleep(100 * time.Millisecond)
					}
					continue
				}
				p := pair{sl.token, sl.nonce}
				own, haveOwn := mine[sl.handle]
				switch x := r.IntN(100); {
				case x < 25 && haveOwn:
					p = own
				case x < 32 && haveOwn && own.nonce != sl.nonce:
					p.nonce = own.nonce
				}
				in := sessInput{handle: sl.handle, token: p.token, nonce: p.nonce}
				if r.IntN(4) == 0 {
					in.kind = opTTL
					in.call = now()
					ms, err := c.Do(ctx, "SESS.TTL", p.token).Int64()
					ret := now()
					if err != nil {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					count("ttl")
					record(porcupine.Operation{ClientId: w, Input: in, Output: sessOutput{valid: ms != -2, ret: ret}, Call: in.call, Return: ret})
					continue
				}
				in.kind = opValidate
				in.call = now()
				v, err := c.Do(ctx, "SESS.VALIDATE", p.token, p.nonce).Result()
				ret := now()
				if err != nil {
					if !notSent(err) {
						count("lost")
						record(porcupine.Operation{ClientId: w, Input: in, Output: sessOutput{unknown: true, ret: math.MaxInt64}, Call: in.call, Return: math.MaxInt64})
					}
					time.Sleep(100 * time.Millisecond)
					continue
				}
				m, err := replyMap(v)
				if err != nil {
					t.Error(err)
					return
				}
				out := sessOutput{ret: ret}
				if replyUint(m["ok"]) == 1 {
					out.ok, out.token, out.nonce = true, fmt.Sprint(m["token"]), replyUint(m["nonce"])
					count("ok")
					mine[sl.handle] = pair{out.token, out.nonce}
					mu.Lock()
					if slots[s].handle == sl.handle && out.nonce <= slots[s].nonce {
						count("repeat") // a successor some client already had
					}
					if slots[s].handle == sl.handle && out.nonce > slots[s].nonce {
						slots[s].token, slots[s].nonce = out.token, out.nonce
					}
					mu.Unlock()
				} else {
					out.reason = fmt.Sprint(m["reason"])
					count(out.reason)
					switch out.reason {
					case "revoked", "replayed", "unknown":
						mu.Lock()
						if slots[s].handle == sl.handle {
							slots[s].dead = true
						}
						mu.Unlock()
					}
				}
				record(porcupine.Operation{ClientId: w, Input: in, Output: out, Call: in.call, Return: ret})
			}
		}(w)
	}
	g.crashLeaders(2)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	completed := 0
	handles := map[string]bool{}
	for _, op := range history {
		if op.Return != math.MaxInt64 {
			completed++
		}
		handles[op.Input.(sessInput).handle] = true
	}
	t.Logf("history: %d operations, %d completed, %d sessions; outcomes %v", len(history), completed, len(handles), counts.m)
	if completed < 100 {
		t.Fatalf("too few completed operations to mean anything: %d", completed)
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(sessionModel(grace), history, 60*time.Second)
	t.Logf("porcupine: %v in %v", res, time.Since(start).Round(time.Millisecond))
	switch res {
	case porcupine.Ok:
	case porcupine.Unknown:
		t.Fatal("porcupine: no verdict within 60 s")
	default:
		f := filepath.Join(t.TempDir(), "porcupine.html")
		if err := porcupine.VisualizePath(sessionModel(grace), info, f); err == nil {
			t.Logf("visualisation: %s", f)
		}
		t.Fatal("the history of SESS.VALIDATE rotations is not linearizable")
	}
	// The same history must be rejected by a model in which no repeat
	// within the grace is possible, whenever the history holds one: the
	// check looks at successors, not only at nonces. (The opposite wrong
	// model, one where no replay is possible, is rejected too but can take
	// porcupine minutes to prove; TestSessionModel covers it.)
	if counts.m["repeat"] > 0 {
		res := porcupine.CheckOperationsTimeout(sessionModel(-grace), history, 60*time.Second)
		t.Logf("the model without a grace: %v", res)
		if res == porcupine.Ok {
			t.Error("the history passes a model without a grace too: the check has no teeth there")
		}
	}
}
