package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/bench/load"
	"github.com/sessiond/sessiond/bench/sessions"
	"github.com/sessiond/sessiond/bench/wire"
)

// newRand returns a fast, seeded per-client generator (the bench's tokens need to be unique, not
// secret).
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
}

// randomToken returns nbytes random bytes as unpadded base64url, like a real session token.
func randomToken(r *rand.Rand, nbytes int) string {
	var b [32]byte
	if nbytes > len(b) {
		nbytes = len(b)
	}
	for i := 0; i < nbytes; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:nbytes], w[:])
	}
	return base64.RawURLEncoding.EncodeToString(b[:nbytes])
}

func filler(n int, c byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c + byte(i%23)
	}
	return b
}

// ---- plain keys ----

// setClient sends SET key:<r> value EX 3600 over a keyspace of keys.
type setClient struct {
	r     *rand.Rand
	keys  int
	value []byte
	kb    []byte
}

func (c *setClient) Next(w *wire.Writer) bool {
	c.kb = strconv.AppendInt(append(c.kb[:0], "key:"...), int64(c.r.IntN(c.keys)), 10)
	w.Begin(5)
	w.Str("SET")
	w.Bytes(c.kb)
	w.Bytes(c.value)
	w.Str("EX")
	w.Str("3600")
	return true
}

func (c *setClient) Check(v *wire.Value) error {
	if v.Kind != wire.Simple || string(v.Str) != "OK" {
		return fmt.Errorf("SET: unexpected reply %s", v.Text())
	}
	return nil
}

// getClient sends GET key:<r> over a prefilled keyspace and checks the value came back.
type getClient struct {
	r      *rand.Rand
	prefix string
	keys   int
	size   int
	kb     []byte
}

func (c *getClient) Next(w *wire.Writer) bool {
	c.kb = strconv.AppendInt(append(c.kb[:0], c.prefix...), int64(c.r.IntN(c.keys)), 10)
	w.Begin(2)
	w.Str("GET")
	w.Bytes(c.kb)
	return true
}

func (c *getClient) Check(v *wire.Value) error {
	if v.Kind != wire.Bulk || len(v.Str) != c.size {
		return fmt.Errorf("GET: unexpected reply %s", v.Text())
	}
	return nil
}

// ---- bulk loading ----

// bulkClient issues commands number 0..total-1, shared among several connections through an
// atomic counter; write and check get the command's number.
type bulkClient struct {
	next    *atomic.Int64
	total   int64
	pending []int64
	write   func(i int64, w *wire.Writer)
	check   func(i int64, v *wire.Value) error
}

func (c *bulkClient) Next(w *wire.Writer) bool {
	i := c.next.Add(1) - 1
	if i >= c.total {
		return false
	}
	c.pending = append(c.pending, i)
	c.write(i, w)
	return true
}

func (c *bulkClient) Check(v *wire.Value) error {
	i := c.pending[0]
	c.pending = c.pending[1:]
	if len(c.pending) == 0 {
		c.pending = c.pending[:0:0]
	}
	return c.check(i, v)
}

// bulk runs total commands over 4 connections, pipelined 64 deep, and fails on any failed reply.
// newWriter is called once per connection (so each can keep its own random generator).
func bulk(ctx context.Context, addr string, total int,
	newWriter func(conn int) func(i int64, w *wire.Writer), check func(i int64, v *wire.Value) error) (time.Duration, error) {
	if total <= 0 {
		return 0, nil
	}
	var next atomic.Int64
	start := time.Now()
	res, err := load.Run(ctx, load.Options{
		Addr: addr, Clients: 4, Pipeline: 64, Ops: int64(total), Limit: 20 * time.Minute, MaxFailures: 1,
	}, func(id int) (load.Client, error) {
		return &bulkClient{next: &next, total: int64(total), write: newWriter(id), check: check}, nil
	})
	if err != nil {
		return 0, err
	}
	if res.Failures > 0 {
		return 0, fmt.Errorf("bulk load: %d failed replies, first: %v", res.Failures, res.Failed)
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if int(res.Ops) < total {
		return 0, fmt.Errorf("bulk load: only %d of %d done", res.Ops, total)
	}
	return time.Since(start), nil
}

// prefillPlain stores keys prefix0..prefix<n-1> with values of size bytes (EX ex seconds when
// ex > 0).
func prefillPlain(ctx context.Context, addr, prefix string, n, size int, ex int64) error {
	value := filler(size, 'a')
	_, err := bulk(ctx, addr, n, func(int) func(int64, *wire.Writer) {
		var kb []byte
		return func(i int64, w *wire.Writer) {
			kb = strconv.AppendInt(append(kb[:0], prefix...), i, 10)
			if ex > 0 {
				w.Begin(5)
			} else {
				w.Begin(3)
			}
			w.Str("SET")
			w.Bytes(kb)
			w.Bytes(value)
			if ex > 0 {
				w.Str("EX")
				w.Int(ex)
			}
		}
	}, func(_ int64, v *wire.Value) error {
		if v.Kind != wire.Simple || string(v.Str) != "OK" {
			return fmt.Errorf("SET: unexpected reply %s", v.Text())
		}
		return nil
	})
	return err
}

// ---- sessions ----

// sessTable is a population of live sessions on one server. Client id of the load generator owns
// the entries i with i%clients == id, so no two connections touch one session (validation
// rotates the token and bumps the nonce).
type sessTable struct {
	tokens  []string
	nonces  []int64
	dataLen int
}

// createSessions creates n sessions through api and returns their tokens. owner(i) names the
// owner of session i ("" for none); absolute(i) its absolute timeout in seconds, evaluated just
// before the command is written.
func createSessions(ctx context.Context, addr string, api sessions.API, n int, data []byte, idle int64,
	owner func(i int64) string, absolute func(i int64) int64) ([]string, time.Duration, error) {
	tokens := make([]string, n)
	var mu sync.Mutex
	var seed atomic.Uint64
	el, err := bulk(ctx, addr, n, func(int) func(int64, *wire.Writer) {
		r := newRand(seed.Add(1))
		var s sessions.NewSession
		return func(i int64, w *wire.Writer) {
			s = sessions.NewSession{Token: randomToken(r, 32), Handle: randomToken(r, 16), Owner: owner(i),
				Data: data, Idle: idle, Absolute: absolute(i)}
			api.WriteCreate(w, &s)
		}
	}, func(i int64, v *wire.Value) error {
		tok, err := api.ParseCreate(v)
		if err != nil {
			return err
		}
		mu.Lock()
		tokens[i] = tok
		mu.Unlock()
		return nil
	})
	return tokens, el, err
}

// sessCreate is the create scenario: SESS.NEW / the create script, owners spread over a space.
type sessCreate struct {
	api    sessions.API
	r      *rand.Rand
	owners int
	data   []byte
	s      sessions.NewSession
	ob     []byte
}

func (c *sessCreate) Next(w *wire.Writer) bool {
	c.ob = strconv.AppendInt(append(c.ob[:0], 'u'), int64(c.r.IntN(c.owners)), 10)
	c.s = sessions.NewSession{Token: randomToken(c.r, 32), Handle: randomToken(c.r, 16), Owner: string(c.ob),
		Data: c.data, Idle: 3600, Absolute: 86400}
	c.api.WriteCreate(w, &c.s)
	return true
}

func (c *sessCreate) Check(v *wire.Value) error {
	_, err := c.api.ParseCreate(v)
	return err
}

// sessOp runs get, touch or validate over this client's share of a sessTable, round robin.
type sessOp struct {
	api     sessions.API
	op      string // get | touch | validate
	t       *sessTable
	r       *rand.Rand
	mine    []int // indexes this client owns
	pos     int
	pending []int
}

func newSessOp(api sessions.API, op string, t *sessTable, id, clients int) *sessOp {
	c := &sessOp{api: api, op: op, t: t, r: newRand(uint64(id) + 7)}
	for i := id; i < len(t.tokens); i += clients {
		c.mine = append(c.mine, i)
	}
	return c
}

func (c *sessOp) Next(w *wire.Writer) bool {
	if len(c.mine) == 0 {
		return false
	}
	i := c.mine[c.pos]
	c.pos = (c.pos + 1) % len(c.mine)
	c.pending = append(c.pending, i)
	switch c.op {
	case "get":
		c.api.WriteGet(w, c.t.tokens[i], true)
	case "touch":
		c.api.WriteTouch(w, c.t.tokens[i])
	case "validate":
		c.api.WriteValidate(w, c.t.tokens[i], c.t.nonces[i], randomToken(c.r, 32))
	}
	return true
}

func (c *sessOp) Check(v *wire.Value) error {
	i := c.pending[0]
	c.pending = c.pending[1:]
	if len(c.pending) == 0 {
		c.pending = c.pending[:0:0]
	}
	switch c.op {
	case "get":
		return c.api.CheckGet(v, c.t.dataLen)
	case "touch":
		return c.api.CheckTouch(v)
	default:
		tok, nonce, err := c.api.ParseValidate(v)
		if err != nil {
			return err
		}
		if nonce != c.t.nonces[i]+1 {
			return fmt.Errorf("validate: nonce %d after %d", nonce, c.t.nonces[i])
		}
		c.t.tokens[i], c.t.nonces[i] = tok, nonce
		return nil
	}
}

// sessRevoke revokes prepared owners, each holding perOwner sessions. Finite.
type sessRevoke struct {
	api      sessions.API
	owners   []string
	perOwner int
	pos      int
}

func (c *sessRevoke) Next(w *wire.Writer) bool {
	if c.pos >= len(c.owners) {
		return false
	}
	c.api.WriteRevokeOwner(w, c.owners[c.pos])
	c.pos++
	return true
}

func (c *sessRevoke) Check(v *wire.Value) error { return c.api.CheckRevoke(v, c.perOwner) }

var errSkip = errors.New("skipped")
