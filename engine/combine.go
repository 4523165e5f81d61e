package engine

import (
	"sync"
	"time"

	"github.com/tidwall/buntdb"
)

// Write combining. Every buntdb write transaction takes the global lock and
// ends with one write(2) to the data file. When many clients each send one
// small write, UpdateShared lets the writes that arrive while a commit is
// running share the next transaction: one lock acquisition and one write for
// all of them, as Redis' event loop writes its AOF once per iteration.
//
// A leader runs its own request together with every request queued so far,
// then hands leadership to the next queued request, so no caller serves more
// than one batch for others.

type sharedReq struct {
	now      int64
	fn       func(tx *Tx) error
	err      error
	ticket   uint64
	panicked any       // a panic of fn, re-raised in the caller's goroutine
	lead     chan bool // true: run a batch as leader; false: your request is done
}

var sharedReqPool = sync.Pool{New: func() any { return &sharedReq{lead: make(chan bool, 1)} }}

type combiner struct {
	mu    sync.Mutex
	busy  bool
	queue []*sharedReq
	spare []*sharedReq
}

// maxShared bounds one combined transaction, so no batch holds the lock long.
const maxShared = 128

// UpdateShared runs fn like Update, possibly in one transaction with the
// UpdateShared calls of other goroutines. Because the transaction is shared,
// fn must not write anything before it returns an error: its error is
// returned to its caller alone and the other callers' writes are kept. The
// returned ticket covers fn's writes.
func (e *Engine) UpdateShared(now int64, fn func(tx *Tx) error) (uint64, error) {
	req := sharedReqPool.Get().(*sharedReq)
	req.now, req.fn, req.err, req.ticket, req.panicked = now, fn, nil, 0, nil
	c := &e.comb
	c.mu.Lock()
	if !c.busy {
		c.busy = true
		c.mu.Unlock()
		e.leadShared(req)
	} else {
		c.queue = append(c.queue, req)
		c.mu.Unlock()
		if <-req.lead {
			e.leadShared(req)
		}
	}
	ticket, err, panicked := req.ticket, req.err, req.panicked
	req.fn, req.panicked = nil, nil
	sharedReqPool.Put(req)
	if panicked != nil {
		panic(panicked)
	}
	return ticket, err
}

func (e *Engine) leadShared(first *sharedReq) {
	c := &e.comb
	c.mu.Lock()
	n := min(len(c.queue), maxShared-1)
	batch := append(c.spare[:0], first)
	batch = append(batch, c.queue[:n]...)
	c.queue = append(c.queue[:0], c.queue[n:]...)
	c.spare = nil
	c.mu.Unlock()

	e.runShared(batch)

	for _, r := range batch[1:] {
		r.lead <- false
	}
	c.mu.Lock()
	if c.spare == nil {
		c.spare = batch[:0]
	}
	if len(c.queue) > 0 {
		next := c.queue[0]
		c.queue = append(c.queue[:0], c.queue[1:]...)
		c.mu.Unlock()
		next.lead <- true
		return
	}
	c.busy = false
	c.mu.Unlock()
}

func (e *Engine) runShared(batch []*sharedReq) {
	tx := &Tx{e: e, writable: true}
	failed := -1 // index of a request whose fn panicked
	timed := e.timingCommits()
	var fnDone time.Time
	err := e.db.Update(func(bt *buntdb.Tx) (err error) {
		tx.bt.bind(bt, &e.points, batch[0].now)
		defer func() {
			if err != nil {
				tx.bt.rollback() // under the lock, as buntdb rolls back
			}
		}()
		for i, r := range batch {
			tx.Now = r.now
			tx.bt.now = clockOf(r.now)
			func() {
				defer func() {
					if p := recover(); p != nil {
						r.panicked, failed = p, i
					}
				}()
				r.err = r.fn(tx)
			}()
			if failed >= 0 {
				// buntdb would commit what the panicking function wrote:
				// roll the whole shared transaction back instead.
				return errPanicked
			}
		}
		tx.applySessCounts(1)
		tx.applied = true
		if timed {
			fnDone = time.Now()
		}
		return nil
	})
	if err != nil {
		e.undoFailed(tx)
		if tx.applied {
			// Every function succeeded: the commit could not be written.
			e.store.CommitFailed(err)
		}
	} else if timed && tx.wrote {
		e.observeCommit(fnDone)
	}
	if failed >= 0 {
		// Everyone else's functions ran against a transaction that was
		// rolled back: run them again, each on its own. (Their effects are
		// only in the transaction; replies are written after they return.)
		for i, r := range batch {
			if i == failed {
				continue
			}
			r.err, r.ticket, r.panicked = nil, 0, nil
			e.runShared([]*sharedReq{r})
		}
		return
	}
	var ticket uint64
	if err == nil && tx.wrote {
		e.stats.WriteCommits.Add(1)
		ticket = e.store.Committed()
	}
	for _, r := range batch {
		if err != nil {
			r.err = err
		} else if r.err == nil {
			r.ticket = ticket
		}
	}
	if err == nil && e.onCommit != nil && (len(tx.commit.Events) > 0 || len(tx.commit.Touched) > 0 || len(tx.commit.Flushed) > 0) {
		e.onCommit(tx.commit)
	}
}
