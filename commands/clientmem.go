package commands

import (
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/sessiond/sessiond/config"
)

// Client memory: what each connection holds (its input and output buffers,
// the commands it queued in MULTI, its watched keys, subscriptions and
// tracking prefixes), reported by CLIENT LIST (qbuf, argv-mem, multi-mem,
// omem, tot-mem ...) and INFO (mem_clients_normal), and bounded by
// maxmemory-clients, as Redis 7's client eviction: when all clients together
// hold more, the largest ones are disconnected until they fit.

// ConnBuffers are a connection's buffers as CLIENT LIST reports them. The
// server's connections report them (BufferReporter).
type ConnBuffers struct {
	// QueryBuf is the input not yet parsed into a command's arguments
	// (qbuf); QueryBufFree the room left in its buffer (qbuf-free).
	QueryBuf, QueryBufFree int64
	// ArgvMem is the payload of the complete arguments of a command not all
	// of which has arrived (argv-mem).
	ArgvMem int64
	// OutBuf is the reply bytes waiting for the socket (obl), OutMem what
	// the output limits count: those and pub/sub pushes held (omem).
	OutBuf, OutMem int64
	// ReplyBuf is the size of the buffer replies are built in (rbs).
	ReplyBuf int64
	// Alloc is the memory of the connection's structures and buffers.
	Alloc int64
}

// BufferReporter is a Conn that reports its buffers. Its Buffers may be
// called from any goroutine.
type BufferReporter interface {
	Buffers() ConnBuffers
}

// Estimates of the memory of one entry of a client's sets (map entries,
// their keys and bookkeeping), as Redis counts a fixed size per entry.
const (
	subEntryMem    = 96 // a subscribed channel or pattern
	watchEntryMem  = 96 // a watched key, beside the key's own bytes
	prefixEntryMem = 64 // a tracking prefix, beside its bytes
	queuedArgMem   = 24 // a queued command's argument, beside its bytes
	queuedCmdMem   = 48 // a queued command
)

// clientOverhead is the client's own structure.
var clientOverhead = int64(unsafe.Sizeof(Client{}) + unsafe.Sizeof(subscriptions{}) + 256)

// clientMem is a client's memory accounting.
type clientMem struct {
	mu      sync.Mutex // orders updates with eviction
	total   int64      // what the dispatcher's sum holds for this client
	extra   int64      // the last extraMem, for updates between commands
	evicted bool       // disconnected by eviction or released: counts no more
	pub     atomic.Int64
	multi   atomic.Int64 // bytes of the commands queued in MULTI
	watch   atomic.Int64 // bytes of the watched keys
}

// clientMemAccount is the dispatcher's side: the sum over every client and
// the eviction count.
type clientMemAccount struct {
	sum     atomic.Int64
	evicted atomic.Int64 // INFO evicted_clients
	evictMu sync.Mutex   // one eviction pass at a time
	limit   atomic.Int64 // maxmemory-clients in bytes, 0: no limit
}

// queuedMem is what a command queued in MULTI holds.
func queuedMem(args [][]byte) int64 {
	n := int64(queuedCmdMem)
	for _, a := range args {
		n += int64(len(a)) + queuedArgMem
	}
	return n
}

// extraMem is the client's memory beside its connection's buffers. It is
// called by the goroutine that serves the client, between its commands.
func (cl *Client) extraMem(d *Dispatcher) int64 {
	if !cl.multi.active || len(cl.multi.queue) == 0 {
		if cl.mem.multi.Load() != 0 {
			cl.mem.multi.Store(0)
		}
	}
	if cl.multi.watched == nil && cl.mem.watch.Load() != 0 {
		cl.mem.watch.Store(0)
	}
	n := clientOverhead + cl.mem.multi.Load() + cl.mem.watch.Load()
	n += int64(cl.subs.count()) * subEntryMem
	n += d.trackingPrefixMem(cl)
	return n
}

// trackingPrefixMem is the memory of the client's BCAST tracking prefixes.
func (d *Dispatcher) trackingPrefixMem(cl *Client) int64 {
	t := &d.tracking
	if !t.active.Load() {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.clients[cl.ID]
	if tr == nil {
		return 0
	}
	var n int64
	for _, p := range tr.prefixes {
		n += prefixEntryMem + int64(len(p))
	}
	return n
}

// ClientMemory records the memory of cl, whose connection's structures and
// buffers take conn bytes, and disconnects the largest clients when all of
// them together pass maxmemory-clients (cl among them). The server calls
// it from the goroutine serving the client: between its commands with
// between true (what the client holds beside its buffers is measured
// again), else while a command runs (the last measure stands).
func (d *Dispatcher) ClientMemory(cl *Client, conn int64, between bool) {
	// Measured before taking m.mu, which is never held while another lock
	// is taken (eviction holds the client list while it takes m.mu).
	var extra int64
	if between {
		extra = cl.extraMem(d)
	}
	m := &cl.mem
	m.mu.Lock()
	if between {
		m.extra = extra
	}
	total := conn + m.extra
	m.pub.Store(total)
	if m.evicted || m.total == total {
		m.mu.Unlock()
		return
	}
	delta := total - m.total
	m.total = total
	sum := d.cmem.sum.Add(delta)
	m.mu.Unlock()
	if lim := d.cmem.limit.Load(); lim > 0 && sum > lim && delta > 0 {
		d.evictClients()
	}
}

// Evictable reports whether client eviction may disconnect cl: a
// maxmemory-clients limit is set and the client has not asked for
// CLIENT NO-EVICT. The server lets such a client's replies pile up (the
// limit bounds them) rather than pausing its commands.
func (d *Dispatcher) Evictable(cl *Client) bool {
	return d.cmem.limit.Load() > 0 && !cl.noEvict.Load()
}

// forgetClientMemory takes a released client out of the sum.
func (d *Dispatcher) forgetClientMemory(cl *Client) {
	m := &cl.mem
	m.mu.Lock()
	if !m.evicted {
		m.evicted = true
		d.cmem.sum.Add(-m.total)
		m.total = 0
	}
	m.mu.Unlock()
}

// ClientsMemory is the memory of every client together (INFO
// mem_clients_normal).
func (d *Dispatcher) ClientsMemory() int64 { return d.cmem.sum.Load() }

// evictClients disconnects the largest clients, as Redis' client eviction,
// until the clients together hold no more than maxmemory-clients. Clients
// with CLIENT NO-EVICT on are never evicted.
func (d *Dispatcher) evictClients() {
	if !d.cmem.evictMu.TryLock() {
		return // a pass in progress goes on until the sum fits
	}
	defer d.cmem.evictMu.Unlock()
	for {
		lim := d.cmem.limit.Load()
		if lim <= 0 || d.cmem.sum.Load() <= lim {
			return
		}
		var victim *Client
		var most int64
		d.clientsMu.RLock()
		for _, cl := range d.clients {
			if cl.noEvict.Load() {
				continue
			}
			cl.mem.mu.Lock()
			t, gone := cl.mem.total, cl.mem.evicted
			cl.mem.mu.Unlock()
			if !gone && t > most {
				victim, most = cl, t
			}
		}
		d.clientsMu.RUnlock()
		if victim == nil {
			return
		}
		d.evict(victim)
	}
}

// evict disconnects one client for client eviction: it leaves the client
// list and the memory sum at once (its socket is closed by its server
// goroutine), as Redis frees an evicted client.
func (d *Dispatcher) evict(cl *Client) {
	d.forgetClientMemory(cl)
	d.clientsMu.Lock()
	delete(d.clients, cl.ID)
	d.clientsMu.Unlock()
	d.cmem.evicted.Add(1)
	cl.mu.Lock()
	name := cl.name
	cl.mu.Unlock()
	slog.Info("client evicted: clients' memory over maxmemory-clients", "client", cl.ID, "name", name, "addr", cl.Conn.RemoteAddr())
	_ = cl.Conn.Close()
}

// maxClientsMemory is maxmemory-clients in bytes: a size, or a percentage
// of maxmemory (0 while maxmemory is 0).
func maxClientsMemory(cfg *config.Config) int64 {
	return config.PercentOrMemory(cfg.Get("maxmemory-clients"), cfg.Int("maxmemory"))
}

func init() {
	onNewDispatcher(func(d *Dispatcher) {
		d.Config.Follow(func() {
			d.cmem.limit.Store(maxClientsMemory(d.Config))
			// A lower limit evicts at once (Redis evicts on CONFIG SET).
			d.evictClients()
		}, "maxmemory-clients", "maxmemory")
	})
}

// memFields are CLIENT LIST's memory fields of cl: its connection's
// buffers, multi-mem and tot-mem, from any goroutine. tot-mem is the figure
// client eviction counts, as of the client's last command.
func (cl *Client) memFields() (bufs ConnBuffers, multiMem, totMem int64) {
	if r, ok := cl.Conn.(BufferReporter); ok {
		bufs = r.Buffers()
	}
	multiMem = cl.mem.multi.Load()
	totMem = cl.mem.pub.Load()
	if totMem == 0 {
		totMem = clientOverhead + bufs.Alloc + multiMem + cl.mem.watch.Load()
	}
	return bufs, multiMem, totMem
}

// respSize is the size of args sent as a RESP multibulk.
func respSize(args [][]byte) int64 {
	n := int64(len(strconv.Itoa(len(args)))) + 3
	for _, a := range args {
		n += int64(len(strconv.Itoa(len(a)))+3) + int64(len(a)) + 2
	}
	return n
}
