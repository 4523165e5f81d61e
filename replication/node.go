// Package replication runs a sessiond node as a member of a replicated group
// on hashicorp/raft. It knows nothing of commands or RESP semantics: the
// command layer hands it opaque log entries (Propose) and applies the
// committed ones through the Applier it was given, on every node, in log
// order. The leader's reply to a write is the result of its own apply,
// returned once the entry is committed on a majority and applied.
//
// Besides the applier's entries the log carries the group's address book:
// each node's RESP address ("announce" address), so that every node can tell
// clients where the leader and the replicas are (ROLE, SENTINEL).
package replication

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Applier applies committed log entries to the data set. Apply is called
// from one goroutine, in log order, on every node; its result is the reply
// the proposer gets. Save and Restore write and replace the whole data set
// (snapshots); Save is called between applies, so it sees exactly the state
// after the entry at the snapshot's index.
type Applier interface {
	Apply(index uint64, data []byte) []byte
	Save(w io.Writer) error
	Restore(r io.Reader) error
}

// Config configures Open.
type Config struct {
	NodeID   string // raft server id; required
	Bind     string // raft transport host:port
	Peers    string // "id=host:port,..." initial membership (bootstrap only)
	Dir      string // raft log, stable store and snapshots
	Announce string // this node's RESP address host:port, as clients reach it
	Password func() string
	SyncLog  bool // fsync the raft log on every append (appendfsync always)
	// TLS, when set, encrypts and authenticates raft's transport and the
	// forwarding of writes (tls-replication); nil is plain TCP.
	TLS       *TLSConfig
	LogOutput io.Writer
	// OnLeaderChange is called (on a goroutine of the node) whenever the
	// leader this node knows of changes; leader is "" while there is none.
	OnLeaderChange func(isLeader bool, leaderID string)
}

// Timings of the group: a follower that hears nothing from the leader for
// heartbeatTimeout (randomised up to twice that) starts an election, so a
// dead leader is replaced within about a second on a healthy network.
const (
	heartbeatTimeout = 400 * time.Millisecond
	electionTimeout  = 400 * time.Millisecond
	leaderLease      = 300 * time.Millisecond
	applyTimeout     = 10 * time.Second
)

// Node is this process's membership in the group.
type Node struct {
	cfg     Config
	raft    *raft.Raft
	trans   *raft.NetworkTransport
	store   logStore
	fsm     *fsm
	applier Applier
	logger  hclog.Logger

	obsCh   chan raft.Observation
	stop    chan struct{}
	stopped sync.WaitGroup

	fwdMu   sync.Mutex
	fwdPool map[string][]*fwdConn // idle connections by RESP address

	lastLeader atomic.Value // string: leader id as last reported
}

// ErrNotLeader is returned by Propose on a node that is not the leader.
var ErrNotLeader = errors.New("not the leader")

// ErrOutcomeUnknown is returned by Propose when leadership was lost after
// the entry was appended: a later leader may commit and apply it, or drop
// it. The caller must not propose it again on its own (a write could apply
// twice); the client is told the outcome is unknown, as after a timeout.
var ErrOutcomeUnknown = errors.New("leadership lost while the write was being committed: it may or may not have been applied")

// ErrNoLeader is returned when the group has no known leader.
var ErrNoLeader = errors.New("CLUSTERDOWN the replicated group has no leader (no majority reachable)")

// Open starts the node: it opens (or creates) the raft state under cfg.Dir,
// bootstraps the group from cfg.Peers when there is no state yet, and joins
// the elections.
func Open(cfg Config, app Applier) (*Node, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("raft: empty node id")
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = os.Stderr
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("raft: create %s: %w", cfg.Dir, err)
	}
	n := &Node{cfg: cfg, applier: app, stop: make(chan struct{}), fwdPool: map[string][]*fwdConn{}}
	n.lastLeader.Store("")
	n.logger = hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: cfg.LogOutput})
	n.fsm = &fsm{n: n, members: map[string]string{}}
	n.fsm.cond = sync.NewCond(&n.fsm.mu)

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.NodeID)
	rc.HeartbeatTimeout = heartbeatTimeout
	rc.ElectionTimeout = electionTimeout
	rc.LeaderLeaseTimeout = leaderLease
	rc.CommitTimeout = 5 * time.Millisecond
	// An entry already carries many clients' writes (the command layer's
	// group commit): raft's default of 64 entries per AppendEntries is
	// plenty, and raft allocates buffers of this size per RPC and per
	// commit (1024 made them the leader's largest source of garbage).
	rc.MaxAppendEntries = 64
	rc.BatchApplyCh = true
	rc.Logger = n.logger

	store, err := openLogStore(cfg.Dir, cfg.SyncLog, n.logger)
	if err != nil {
		return nil, fmt.Errorf("raft: %w", err)
	}
	n.store = store
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, n.logger)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raft: snapshot store: %w", err)
	}
	adv, err := net.ResolveTCPAddr("tcp", cfg.Bind)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raft: raft-bind %q: %w", cfg.Bind, err)
	}
	var trans *raft.NetworkTransport
	if cfg.TLS != nil {
		var stream *tlsStream
		if stream, err = newTLSStream(cfg.Bind, adv, cfg.TLS); err == nil {
			trans = raft.NewNetworkTransportWithLogger(stream, 4, 5*time.Second, n.logger)
		}
	} else {
		trans, err = raft.NewTCPTransportWithLogger(cfg.Bind, adv, 4, 5*time.Second, n.logger)
	}
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("raft: listen on %s: %w", cfg.Bind, err)
	}
	n.trans = trans
	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("raft: read state: %w", err)
	}
	if !existing && cfg.Peers != "" {
		servers, err := ParsePeers(cfg.Peers)
		if err != nil {
			trans.Close()
			store.Close()
			return nil, err
		}
		if err := raft.BootstrapCluster(rc, store, store, snaps, trans, raft.Configuration{Servers: servers}); err != nil {
			trans.Close()
			store.Close()
			return nil, fmt.Errorf("raft: bootstrap: %w", err)
		}
	}
	// Recent entries stay in memory: replicating them to followers does
	// not read them back from the log store.
	logs, err := raft.NewLogCache(8192, store)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("raft: log cache: %w", err)
	}
	r, err := raft.NewRaft(rc, n.fsm, logs, store, snaps, trans)
	if err != nil {
		trans.Close()
		store.Close()
		return nil, fmt.Errorf("raft: start: %w", err)
	}
	n.raft = r
	n.obsCh = make(chan raft.Observation, 16)
	r.RegisterObserver(raft.NewObserver(n.obsCh, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	}))
	return n, nil
}

// Start begins following leadership changes (OnLeaderChange) and keeping
// this node's address in the group's address book. Call it once, after
// whatever OnLeaderChange uses is ready.
func (n *Node) Start() {
	n.stopped.Add(1)
	go n.watch()
}

// ParsePeers parses raft-peers: "id=host:port,id=host:port,...".
func ParsePeers(s string) ([]raft.Server, error) {
	var out []raft.Server
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		id, addr, ok := strings.Cut(p, "=")
		if !ok || id == "" || addr == "" {
			return nil, fmt.Errorf("raft-peers: %q is not id=host:port", p)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("raft-peers: %q: %w", p, err)
		}
		if seen[id] {
			return nil, fmt.Errorf("raft-peers: id %q appears twice", id)
		}
		seen[id] = true
		out = append(out, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(id), Address: raft.ServerAddress(addr)})
	}
	if len(out) == 0 {
		return nil, errors.New("raft-peers: no peer")
	}
	return out, nil
}

// watch follows leadership changes and keeps this node's RESP address in
// the group's address book.
func (n *Node) watch() {
	defer n.stopped.Done()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-n.obsCh:
			n.leaderChanged()
		case <-t.C:
			n.leaderChanged()
			n.announce()
		}
	}
}

func (n *Node) leaderChanged() {
	_, id := n.raft.LeaderWithID()
	if string(id) == n.lastLeader.Load().(string) {
		return
	}
	n.lastLeader.Store(string(id))
	if n.cfg.OnLeaderChange != nil {
		n.cfg.OnLeaderChange(n.IsLeader(), string(id))
	}
	n.announce()
}

// announce makes sure the address book has this node's RESP address: the
// leader proposes it; a follower asks the leader to (RAFT ANNOUNCE).
func (n *Node) announce() {
	if n.Member(n.cfg.NodeID) == n.cfg.Announce {
		return
	}
	if n.IsLeader() {
		_, _ = n.proposeRaw(encodeAnnounce(n.cfg.NodeID, n.cfg.Announce))
		return
	}
	if _, ok := n.LeaderRESP(); ok {
		_, _ = n.Forward([][]byte{[]byte("RAFT"), []byte("ANNOUNCE"), []byte(n.cfg.NodeID), []byte(n.cfg.Announce)})
	}
}

// ProposeAnnounce records a node's RESP address in the address book (on the
// leader; RAFT ANNOUNCE).
func (n *Node) ProposeAnnounce(id, addr string) error {
	_, err := n.proposeRaw(encodeAnnounce(id, addr))
	return err
}

// Close leaves the group (without removing this node from it) and closes
// the raft state.
func (n *Node) Close() error {
	close(n.stop)
	n.stopped.Wait()
	err := n.raft.Shutdown().Error()
	n.trans.Close()
	if cerr := n.store.Close(); err == nil {
		err = cerr
	}
	n.fwdMu.Lock()
	for _, cs := range n.fwdPool {
		for _, c := range cs {
			c.conn.Close()
		}
	}
	n.fwdPool = nil
	n.fwdMu.Unlock()
	return err
}

// ID returns this node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Announce returns this node's RESP address.
func (n *Node) Announce() string { return n.cfg.Announce }

// IsLeader reports whether this node is the leader now.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Entry kinds: the first byte of a log entry's data. The applier's own
// entries are passed through whole; kindAnnounce is the address book's.
const kindAnnounce = 0xA0

func encodeAnnounce(id, addr string) []byte {
	b := []byte{kindAnnounce}
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	return append(b, addr...)
}

// Propose appends data to the log and returns the applier's result on this
// node once the entry is committed on a majority and applied here. On a
// node that is not the leader it fails with ErrNotLeader.
func (n *Node) Propose(data []byte) ([]byte, error) {
	if len(data) > 0 && data[0] == kindAnnounce {
		return nil, errors.New("raft: reserved entry kind")
	}
	return n.proposeRaw(data)
}

func (n *Node) proposeRaw(data []byte) ([]byte, error) {
	f := n.raft.Apply(data, applyTimeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrLeadershipLost) {
			// The entry was appended and may still be committed by the next
			// leader: proposing it again could apply it twice.
			return nil, fmt.Errorf("%w: %v", ErrOutcomeUnknown, err)
		}
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipTransferInProgress) {
			return nil, fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		return nil, fmt.Errorf("raft apply: %w", err)
	}
	b, _ := f.Response().([]byte)
	return b, nil
}

// ReadIndex returns an applied index that covers every write acknowledged
// before the call, as the leader sees it after confirming with a majority
// that it still leads (raft's ReadIndex). Only on the leader.
func (n *Node) ReadIndex() (uint64, error) {
	if err := n.raft.VerifyLeader().Error(); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNotLeader, err)
	}
	return n.fsm.applied.Load(), nil
}

// Barrier makes a read on this node see every write acknowledged before it
// started: on the leader it confirms leadership; on a follower it asks the
// leader for its read index and waits until this node has applied that far.
func (n *Node) Barrier() error {
	if n.IsLeader() {
		_, err := n.ReadIndex()
		return err
	}
	reply, err := n.Forward([][]byte{[]byte("RAFT"), []byte("READINDEX")})
	if err != nil {
		return err
	}
	idx, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(string(reply), ":")), 10, 64)
	if err != nil {
		return fmt.Errorf("raft: read index reply %q", reply)
	}
	return n.fsm.waitApplied(idx, applyTimeout)
}

// Applied returns the index of the last entry applied on this node.
func (n *Node) Applied() uint64 { return n.fsm.applied.Load() }

// LeaderID returns the current leader's id ("" when none is known).
func (n *Node) LeaderID() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// LeaderRESP returns the leader's RESP address from the address book.
func (n *Node) LeaderRESP() (string, bool) {
	id := n.LeaderID()
	if id == "" {
		return "", false
	}
	if id == n.cfg.NodeID {
		return n.cfg.Announce, true
	}
	a := n.Member(id)
	return a, a != ""
}

// Member returns a node's RESP address from the address book.
func (n *Node) Member(id string) string {
	n.fsm.mu.Lock()
	defer n.fsm.mu.Unlock()
	return n.fsm.members[id]
}

// Peer is one member of the group as INFO and SENTINEL show it.
type Peer struct {
	ID       string
	RaftAddr string
	RESPAddr string // "" until the node has announced itself
	Voter    bool
	Leader   bool
	Self     bool
}

// Peers returns the group's members (the latest configuration), by id.
func (n *Node) Peers() []Peer {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	leader := n.LeaderID()
	var out []Peer
	for _, s := range f.Configuration().Servers {
		p := Peer{ID: string(s.ID), RaftAddr: string(s.Address), Voter: s.Suffrage == raft.Voter,
			Leader: string(s.ID) == leader, Self: string(s.ID) == n.cfg.NodeID}
		p.RESPAddr = n.Member(p.ID)
		if p.Self {
			p.RESPAddr = n.cfg.Announce
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Add adds a voter (RAFT ADD); only on the leader.
func (n *Node) Add(id, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("ERR invalid raft address %q", addr)
	}
	return wrapLeader(n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, applyTimeout).Error())
}

// Remove removes a member (RAFT REMOVE); only on the leader.
func (n *Node) Remove(id string) error {
	return wrapLeader(n.raft.RemoveServer(raft.ServerID(id), 0, applyTimeout).Error())
}

// Transfer hands leadership to id, or to the most up-to-date follower when
// id is "" (RAFT TRANSFER); only on the leader.
func (n *Node) Transfer(id string) error {
	if id == "" {
		return wrapLeader(n.raft.LeadershipTransfer().Error())
	}
	for _, p := range n.Peers() {
		if p.ID == id {
			return wrapLeader(n.raft.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(p.RaftAddr)).Error())
		}
	}
	return fmt.Errorf("ERR no member %q in the group", id)
}

// Snapshot takes a snapshot now and compacts the log (RAFT SNAPSHOT).
func (n *Node) Snapshot() error { return n.raft.Snapshot().Error() }

func wrapLeader(err error) error {
	if errors.Is(err, raft.ErrNotLeader) {
		return fmt.Errorf("%w: %v", ErrNotLeader, err)
	}
	return err
}

// Stats returns raft's figures (state, term, commit and applied index,
// last contact, ...) for INFO raft.
func (n *Node) Stats() map[string]string {
	s := n.raft.Stats()
	s["fsm_applied_index"] = strconv.FormatUint(n.fsm.applied.Load(), 10)
	s["log_store"] = "raft-wal"
	if _, bolt := n.store.(boltStore); bolt {
		s["log_store"] = "raft-boltdb"
	}
	s["transport"] = "tcp"
	if n.cfg.TLS != nil {
		s["transport"] = "tls"
	}
	return s
}

// State returns "Leader", "Follower", "Candidate" or "Shutdown".
func (n *Node) State() string { return n.raft.State().String() }

// CommitIndex returns raft's commit index (the replication offset shown by ROLE).
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }

// LastContact returns when this node last heard from the leader.
func (n *Node) LastContact() time.Time { return n.raft.LastContact() }

// fsm is raft's state machine: the applier plus the address book.
type fsm struct {
	n       *Node
	applied atomic.Uint64

	mu      sync.Mutex
	cond    *sync.Cond
	members map[string]string // node id -> RESP address
}

var _ raft.BatchingFSM = (*fsm)(nil)

func (f *fsm) Apply(l *raft.Log) interface{} { return f.ApplyBatch([]*raft.Log{l})[0] }

func (f *fsm) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	for i, l := range logs {
		if l.Type == raft.LogCommand && len(l.Data) > 0 {
			if l.Data[0] == kindAnnounce {
				f.applyAnnounce(l.Data[1:])
			} else {
				out[i] = f.n.applier.Apply(l.Index, l.Data)
			}
		}
	}
	if len(logs) > 0 {
		f.setApplied(logs[len(logs)-1].Index)
	}
	return out
}

func (f *fsm) setApplied(idx uint64) {
	f.mu.Lock()
	f.applied.Store(idx)
	f.cond.Broadcast()
	f.mu.Unlock()
}

// waitApplied waits until the entry at idx is applied on this node.
func (f *fsm) waitApplied(idx uint64, timeout time.Duration) error {
	if f.applied.Load() >= idx {
		return nil
	}
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer timer.Stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.applied.Load() < idx {
		if time.Now().After(deadline) {
			return fmt.Errorf("raft: timed out catching up to index %d (applied %d)", idx, f.applied.Load())
		}
		f.cond.Wait()
	}
	return nil
}

func (f *fsm) applyAnnounce(b []byte) {
	l, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < l {
		return
	}
	id, addr := string(b[k:k+int(l)]), string(b[k+int(l):])
	f.mu.Lock()
	f.members[id] = addr
	f.mu.Unlock()
}

// Snapshot writes the state at this point of the log to a file (applies
// wait meanwhile, so it is exactly the state after the last applied entry);
// raft then persists it off the apply goroutine.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	tmp, err := os.CreateTemp(f.n.cfg.Dir, "fsm-snapshot-*")
	if err != nil {
		return nil, fmt.Errorf("raft snapshot: %w", err)
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	f.mu.Lock()
	members, _ := json.Marshal(f.members)
	f.mu.Unlock()
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(len(members)))
	w.Write(hdr[:])
	w.Write(members)
	if err := f.n.applier.Save(w); err == nil {
		err = w.Flush()
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("raft snapshot: %w", err)
	}
	return &fileSnapshot{f: tmp}, nil
}

func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 1<<20)
	var hdr [8]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return fmt.Errorf("raft restore: %w", err)
	}
	mb := make([]byte, binary.BigEndian.Uint64(hdr[:]))
	if _, err := io.ReadFull(br, mb); err != nil {
		return fmt.Errorf("raft restore: %w", err)
	}
	members := map[string]string{}
	if err := json.Unmarshal(mb, &members); err != nil {
		return fmt.Errorf("raft restore: address book: %w", err)
	}
	if err := f.n.applier.Restore(br); err != nil {
		return err
	}
	f.mu.Lock()
	f.members = members
	f.mu.Unlock()
	return nil
}

type fileSnapshot struct{ f *os.File }

func (s *fileSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		sink.Cancel()
		return err
	}
	if _, err := io.Copy(sink, s.f); err != nil {
		sink.Cancel()
		return fmt.Errorf("raft snapshot: persist: %w", err)
	}
	return sink.Close()
}

func (s *fileSnapshot) Release() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// logf logs through the process log.
func logf(format string, args ...any) { log.Printf("raft: "+format, args...) }
