package replication_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"
)

// regInput is one operation of the register workload.
type regInput struct {
	key   string
	write bool
	value string // written value
}

type regOutput struct {
	value string // read value ("" = missing)
}

// registerModel: one register per key, initially missing.
var registerModel = porcupine.Model{
	Partition: partitionBy(func(in interface{}) string { return in.(regInput).key }),
	Init:      func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		in := input.(regInput)
		if in.write {
			return true, in.value
		}
		return output.(regOutput).value == state.(string), state
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(regInput)
		if in.write {
			return fmt.Sprintf("set(%s, %s)", in.key, in.value)
		}
		return fmt.Sprintf("get(%s) -> %q", in.key, output.(regOutput).value)
	},
}

// partitionBy splits a history by a key of each operation's input, in the
// order keys first appear.
func partitionBy(key func(input interface{}) string) func([]porcupine.Operation) [][]porcupine.Operation {
	return func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := key(op.Input)
			if _, ok := by[k]; !ok {
				keys = append(keys, k)
			}
			by[k] = append(by[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, by[k])
		}
		return out
	}
}

// spreadClients are one history-recording worker's clients, one per node:
// one connection each, no retries (a retried write would be two
// operations), short timeouts (a lost reply is recorded as an unknown
// outcome, not waited for).
type spreadClients struct {
	g       *group
	w       int
	proto   int
	clients map[int]*redis.Client
}

func (g *group) spreadClients(w, proto int) *spreadClients {
	return &spreadClients{g: g, w: w, proto: proto, clients: map[int]*redis.Client{}}
}

// next is the client for the worker's n-th operation: workers go round the
// nodes, each from its own starting node.
func (s *spreadClients) next(n int) *redis.Client {
	i := (s.w + n) % len(s.g.nodes)
	c := s.clients[i]
	if c == nil {
		c = redis.NewClient(&redis.Options{Addr: s.g.nodes[i].addr(), Protocol: s.proto, MaxRetries: -1, DialTimeout: 300 * time.Millisecond,
			ReadTimeout: 2 * time.Second, WriteTimeout: time.Second, PoolSize: 1})
		s.clients[i] = c
	}
	return c
}

func (s *spreadClients) close() {
	for _, c := range s.clients {
		c.Close()
	}
}

// crashLeaders lets a workload run for a second, then, rounds times, kills
// the leader with SIGKILL, waits for a new one, a second later restarts the
// killed node and lets the workload run another second.
func (g *group) crashLeaders(rounds int) {
	for round := 0; round < rounds; round++ {
		time.Sleep(time.Second)
		l := g.waitLeader(-1)
		g.kill(l)
		g.waitLeader(l)
		time.Sleep(time.Second)
		g.start(l)
	}
	time.Sleep(time.Second)
}

// TestLinearizableRegister records a history of SET/GET on a few keys by
// clients spread over every node (followers forward writes and read
// through the leader's read index) while the leader is killed with SIGKILL
// and later restarted, and checks it with porcupine. A write whose reply
// was lost (an error, a timeout) may or may not have happened: it is given
// an open end, as Jepsen does (or left out when no read saw its value); a
// failed read is left out.
func TestLinearizableRegister(t *testing.T) {
	g := newGroup(t, 3)
	start := time.Now()
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		wg      sync.WaitGroup
		stop    = make(chan struct{})
	)
	record := func(op porcupine.Operation) {
		mu.Lock()
		history = append(history, op)
		mu.Unlock()
	}
	keys := []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"}
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			clients := g.spreadClients(w, 3)
			defer clients.close()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				c := clients.next(n)
				key := keys[r.IntN(len(keys))]
				call := time.Since(start).Nanoseconds()
				if r.IntN(2) == 0 {
					val := fmt.Sprintf("%d-%d", w, n)
					err := c.Set(ctx, key, val, 0).Err()
					ret := time.Since(start).Nanoseconds()
					if err != nil {
						ret = math.MaxInt64 // unknown outcome
						time.Sleep(20 * time.Millisecond)
					}
					record(porcupine.Operation{ClientId: w, Input: regInput{key: key, write: true, value: val}, Call: call, Output: regOutput{}, Return: ret})
					continue
				}
				v, err := c.Get(ctx, key).Result()
				ret := time.Since(start).Nanoseconds()
				if errors.Is(err, redis.Nil) {
					v, err = "", nil
				}
				if err != nil {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				record(porcupine.Operation{ClientId: w, Input: regInput{key: key}, Call: call, Output: regOutput{value: v}, Return: ret})
			}
		}(w)
	}
	g.crashLeaders(1)
	close(stop)
	wg.Wait()
	// A write whose reply was lost and whose value no read ever returned
	// can be left out: had it happened, it was overwritten unseen.
	seen := map[string]bool{}
	for _, op := range history {
		if !op.Input.(regInput).write {
			seen[op.Output.(regOutput).value] = true
		}
	}
	kept := history[:0]
	for _, op := range history {
		if in := op.Input.(regInput); in.write && op.Return == math.MaxInt64 && !seen[in.value] {
			continue
		}
		kept = append(kept, op)
	}
	history = kept
	ok, writes := 0, 0
	for _, op := range history {
		if op.Return != math.MaxInt64 {
			ok++
		}
		if op.Input.(regInput).write {
			writes++
		}
	}
	t.Logf("history: %d operations (%d writes), %d completed", len(history), writes, ok)
	if ok < 100 {
		t.Fatalf("too few completed operations to mean anything: %d", ok)
	}
	res := porcupine.CheckOperationsTimeout(registerModel, history, 60*time.Second)
	switch res {
	case porcupine.Ok:
	case porcupine.Unknown:
		t.Fatal("porcupine: no verdict within 60 s")
	default:
		t.Fatal("the history is not linearizable")
	}
}
