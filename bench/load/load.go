// Package load is the bench's closed-loop load generator: N connections, each sending batches of
// P pipelined commands and waiting for all P replies before sending the next batch, for a fixed
// duration or a fixed number of operations. Every reply is checked and every operation's latency
// (from the flush of its batch to the arrival of its reply) goes into a histogram.
//
// A closed loop does not correct for coordinated omission: when the server stalls, the clients
// stop sending, so a stall shows up once per connection in the tail (and in Max) rather than as the
// many requests that an open-loop client would have queued behind it.
package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessiond/sessiond/bench/wire"
)

// Client is one connection's share of a workload. The generator calls Next to write each command
// of a batch, then Check once per reply, in order. A Client is used by one goroutine only.
type Client interface {
	// Next appends one command to w. It returns false, writing nothing, when this client has no
	// more work (a finite workload such as revoking a prepared set of owners).
	Next(w *wire.Writer) bool
	// Check inspects the reply to the oldest command not yet checked. A non-nil error counts as a
	// failed operation (the reply was not a success).
	Check(v *wire.Value) error
}

// Options configure one run.
type Options struct {
	Addr     string
	Clients  int
	Pipeline int
	// Warmup runs the load without recording before the measured part starts.
	Warmup time.Duration
	// Duration bounds the measured part; Ops bounds the number of measured operations. At least
	// one must be set; the run ends at whichever comes first (or when every client is exhausted).
	Duration time.Duration
	Ops      int64
	// Timeout bounds each batch's round trip; a batch that takes longer fails the run.
	// Zero means 30 s.
	Timeout time.Duration
	// MaxFailures stops the run early after this many failed checks. Zero means 100.
	MaxFailures int64
	// Rate, when positive, paces the load at this many operations per second in total (spread
	// evenly over the clients) instead of running as fast as the server answers. Each batch has a
	// scheduled send time and its latency counts from that time, so a server stall is charged to
	// every request that should have been sent during it (no coordinated omission).
	Rate float64
	// SplitAt, when set, sends operations scheduled (paced) or sent before it to Result.Before
	// instead of Result.Hist: a calm baseline and the event after it, from one run.
	SplitAt time.Time
	// AtMeasure, when set, is called (on its own goroutine) when the measured part starts, e.g.
	// to sample the server's CPU time.
	AtMeasure func()
	// Limit bounds the whole run (warmup included) whatever the other bounds say. Zero means
	// Warmup+Duration+Timeout when Duration is set, else 10 minutes.
	Limit time.Duration
}

// Result is what one run measured.
type Result struct {
	Ops      uint64        // measured operations (replies received)
	Failures uint64        // replies whose check failed, warmup included
	Failed   []string      // the first few failure messages
	Elapsed  time.Duration // from the start of the measured part to its last reply
	Hist     Hist          // latency of every measured operation (from SplitAt on, if set)
	Before   Hist          // latency of the operations before SplitAt
}

// OpsPerSec is the measured throughput.
func (r *Result) OpsPerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// ErrNoBound is returned when neither Duration nor Ops is set.
var ErrNoBound = errors.New("load: neither Duration nor Ops set")

type worker struct {
	conn     *wire.Conn
	client   Client
	hist     Hist
	before   Hist
	ops      uint64
	fails    uint64
	failed   []string
	lastDone time.Time
	interval time.Duration // between batches when paced
	next     time.Time     // scheduled send time of the next batch when paced
}

// Run dials opts.Clients connections, makes one Client per connection with newClient, and drives
// them. Dialing and newClient happen before any timing starts.
func Run(ctx context.Context, opts Options, newClient func(id int) (Client, error)) (*Result, error) {
	if opts.Duration <= 0 && opts.Ops <= 0 {
		return nil, ErrNoBound
	}
	if opts.Clients <= 0 {
		opts.Clients = 1
	}
	if opts.Pipeline <= 0 {
		opts.Pipeline = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 100
	}
	// A run never lasts past this, whatever the bounds say.
	hardStop := opts.Limit
	if hardStop <= 0 {
		hardStop = 10 * time.Minute
		if opts.Duration > 0 {
			hardStop = opts.Warmup + opts.Duration + opts.Timeout
		}
	}

	workers := make([]*worker, opts.Clients)
	defer func() {
		for _, w := range workers {
			if w != nil && w.conn != nil {
				w.conn.Close()
			}
		}
	}()
	for i := range workers {
		c, err := wire.Dial(opts.Addr, 5*time.Second)
		if err != nil {
			return nil, fmt.Errorf("dial client %d: %w", i, err)
		}
		workers[i] = &worker{conn: c}
		cl, err := newClient(i)
		if err != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
		workers[i].client = cl
	}

	var (
		budget   atomic.Int64 // measured operations still to issue (when opts.Ops > 0)
		failures atomic.Int64
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	budget.Store(opts.Ops)
	start := time.Now()
	measureFrom := start.Add(opts.Warmup)
	var measureTo time.Time
	if opts.Duration > 0 {
		measureTo = measureFrom.Add(opts.Duration)
	}
	hardDeadline := start.Add(hardStop)
	stopTimer := make(chan struct{})
	defer close(stopTimer)
	if opts.AtMeasure != nil {
		go func() {
			select {
			case <-time.After(opts.Warmup):
				opts.AtMeasure()
			case <-stopTimer:
			}
		}()
	}

	for i, w := range workers {
		if opts.Rate > 0 {
			w.interval = time.Duration(float64(opts.Clients*opts.Pipeline) / opts.Rate * float64(time.Second))
			// Spread the clients' schedules evenly over one interval.
			w.next = start.Add(w.interval * time.Duration(i) / time.Duration(opts.Clients))
		}
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			var err error
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("load: panic in client: %v", r)
				}
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					// Unblock the others quickly: a broken run is not worth finishing.
					failures.Add(opts.MaxFailures)
				}
			}()
			err = w.loop(ctx, &opts, measureFrom, measureTo, hardDeadline, &budget, &failures)
		}(w)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	res := &Result{}
	var last time.Time
	for _, w := range workers {
		res.Hist.Merge(&w.hist)
		res.Before.Merge(&w.before)
		res.Ops += w.ops
		res.Failures += w.fails
		for _, f := range w.failed {
			if len(res.Failed) < 5 {
				res.Failed = append(res.Failed, f)
			}
		}
		if w.lastDone.After(last) {
			last = w.lastDone
		}
	}
	if last.After(measureFrom) {
		res.Elapsed = last.Sub(measureFrom)
	}
	return res, nil
}

func (w *worker) loop(ctx context.Context, o *Options, measureFrom, measureTo, hardDeadline time.Time,
	budget, failures *atomic.Int64) error {
	var v wire.Value
	lat := make([]time.Duration, 0, o.Pipeline)
	for {
		if ctx.Err() != nil || failures.Load() >= o.MaxFailures {
			return nil
		}
		if w.interval > 0 {
			if d := time.Until(w.next); d > 0 {
				time.Sleep(d)
			}
		}
		now := time.Now()
		if now.After(hardDeadline) || (!measureTo.IsZero() && !now.Before(measureTo)) {
			return nil
		}
		measured := !now.Before(measureFrom)
		k := o.Pipeline
		if measured && o.Ops > 0 {
			left := budget.Add(-int64(k))
			if left+int64(k) <= 0 {
				return nil
			}
			if left < 0 {
				k += int(left)
			}
		}
		n := 0
		for n < k && w.client.Next(w.conn.W) {
			n++
		}
		if n == 0 {
			return nil
		}
		w.conn.SetReadDeadline(now.Add(o.Timeout))
		t0 := time.Now()
		if w.interval > 0 {
			// Latency counts from when the batch should have gone out.
			t0 = w.next
			w.next = w.next.Add(w.interval)
		}
		if err := w.conn.W.Flush(); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		lat = lat[:0]
		for i := 0; i < n; i++ {
			if err := w.conn.R.Read(&v); err != nil {
				return fmt.Errorf("read reply: %w", err)
			}
			t := time.Now()
			lat = append(lat, t.Sub(t0))
			if err := w.client.Check(&v); err != nil {
				w.fails++ // warmup failures count too: a failed reply is a failure whenever it comes
				failures.Add(1)
				if len(w.failed) < 5 {
					w.failed = append(w.failed, err.Error())
				}
			}
			if measured {
				w.lastDone = t
			}
		}
		if measured {
			h := &w.hist
			if !o.SplitAt.IsZero() && t0.Before(o.SplitAt) {
				h = &w.before
			}
			for _, d := range lat {
				h.Record(d)
			}
			w.ops += uint64(n)
		}
		if n < k {
			return nil // client exhausted
		}
	}
}
