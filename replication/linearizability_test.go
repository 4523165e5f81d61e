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
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range history {
			k := op.Input.(regInput).key
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
	},
	Init: func() interface{} { return "" },
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

// TestLinearizableRegister records a history of SET/GET on a few keys by
// clients spread over every node (followers forward writes and read
// through the leader's read index) while the leader is killed with SIGKILL
// and later restarted, and checks it with porcupine. A write whose reply
// was lost (an error, a timeout) may or may not have happened: it is given
// an open end, as Jepsen does (or left out when no read saw its value); a
// failed read is left out.
func TestLinearizableRegister(t *testing.T) {
	g := newGroup(t, 3)
	l := g.waitLeader(-1)
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
			clients := map[int]*redis.Client{}
			defer func() {
				for _, c := range clients {
					c.Close()
				}
			}()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := (w + n) % len(g.nodes)
				c := clients[i]
				if c == nil {
					c = redis.NewClient(&redis.Options{Addr: g.nodes[i].addr(), MaxRetries: -1, DialTimeout: 300 * time.Millisecond,
						ReadTimeout: 2 * time.Second, WriteTimeout: time.Second, PoolSize: 1})
					clients[i] = c
				}
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
	time.Sleep(time.Second)
	g.kill(l)
	g.waitLeader(l)
	time.Sleep(time.Second)
	g.start(l)
	time.Sleep(time.Second)
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
