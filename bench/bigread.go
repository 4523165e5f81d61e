package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessiond/sessiond/bench/load"
	"github.com/sessiond/sessiond/bench/proc"
	"github.com/sessiond/sessiond/bench/wire"
)

// The bigread-stall scenario (issue 13, D4): one client pipelines many GETs of a big value and
// reads none of the replies, while another client sends SET x y now and then. The row reports the
// other client's SET latencies (its max is the headline, as in the storm) and the note the
// server's peak RSS and the latency of a SET sent after the greedy client has gone.

const (
	bigreadValue = 10 << 20 // bytes of the big value
	bigreadGets  = 100      // GETs the greedy client pipelines
	bigreadSets  = 50       // SETs of the other client, one every bigreadGap
	bigreadGap   = 40 * time.Millisecond
)

func (b *bench) bigreadScenario() error {
	if !b.cfg.want("bigread-stall") {
		return nil
	}
	r := b.row("bigread-stall", kindStorm, "max<=10ms")
	for round := 0; round < b.cfg.rounds; round++ {
		for _, k := range b.cfg.sides {
			if b.ctx.Err() != nil {
				return b.ctx.Err()
			}
			m, err := b.bigread(k, round)
			b.record(r, k, round, m, err)
		}
	}
	return nil
}

func (b *bench) bigread(k proc.Kind, round int) (measure, error) {
	var m measure
	dir := fmt.Sprintf("bigread-%s-r%d", k, round)
	s, err := b.startSide(k, dir, "everysec")
	if err != nil {
		return m, err
	}
	defer func() {
		b.stopSide(s)
		if !b.cfg.keep {
			os.RemoveAll(filepath.Join(b.workdir, dir))
		}
	}()
	c, err := wire.Dial(s.srv.Addr, 5*time.Second)
	if err != nil {
		return m, err
	}
	defer c.Close()
	var v wire.Value
	if err := c.Do(30*time.Second, &v, "SET", "big", strings.Repeat("v", bigreadValue)); err != nil || v.IsError() {
		return m, fmt.Errorf("SET big: %v %s", err, v.Text())
	}
	rss0, _ := s.srv.RSS()

	// The greedy client sends its GETs and reads nothing.
	greedy, err := net.DialTimeout("tcp", s.srv.Addr, 5*time.Second)
	if err != nil {
		return m, err
	}
	var cmds strings.Builder
	for i := 0; i < bigreadGets; i++ {
		cmds.WriteString("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n")
	}
	if _, err := greedy.Write([]byte(cmds.String())); err != nil {
		greedy.Close()
		return m, err
	}

	hist := &load.Hist{}
	peak := rss0
	var failures uint64
	for i := 0; i < bigreadSets; i++ {
		time.Sleep(bigreadGap)
		t0 := time.Now()
		if err := c.Do(30*time.Second, &v, "SET", "x", "y"); err != nil || v.IsError() {
			failures++
		}
		hist.Record(time.Since(t0))
		if r, err := s.srv.RSS(); err == nil && r > peak {
			peak = r
		}
	}
	greedy.Close()
	time.Sleep(100 * time.Millisecond)
	t0 := time.Now()
	if err := c.Do(30*time.Second, &v, "SET", "x", "z"); err != nil || v.IsError() {
		failures++
	}
	after := time.Since(t0)
	m.Ops = uint64(bigreadSets)
	m.Failures = failures
	m.P50, m.P99, m.P999, m.Max = hist.Quantile(0.5), hist.Quantile(0.99), hist.Quantile(0.999), hist.Max()
	m.Note = fmt.Sprintf("%d GETs of %s unread; peak RSS %s (from %s); SET after the greedy client left %s",
		bigreadGets, mib(bigreadValue), mib(peak), mib(rss0), fmtDur(after))
	return m, nil
}
