package commands

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sessiond/sessiond/replication"
)

// RAFT administers a replicated group; ROLE and SENTINEL tell clients where
// its leader and replicas are (README "A replicated group").

func init() {
	adm := FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagLong
	register(
		&Spec{Name: "raft", Arity: -2, Group: "server", Since: "sessiond", Summary: "A container for the commands of a replicated group.",
			Subcommands: []*Spec{
				{Name: "info", Arity: 2, Flags: adm, Summary: "Returns the node's view of the group: its state, term, leader, indexes and members.", Example: "> RAFT INFO\nstate:Leader\n...", Run: cmdRaftInfo},
				{Name: "add", Arity: 4, Flags: adm, Syntax: "id host:port", Summary: "Adds a voting member with its raft address (on the leader).", Example: "> RAFT ADD n4 10.0.0.4:7000\nOK", Run: cmdRaftAdd},
				{Name: "remove", Arity: 3, Flags: adm, Syntax: "id", Summary: "Removes a member from the group (on the leader).", Example: "> RAFT REMOVE n4\nOK", Run: cmdRaftRemove},
				{Name: "transfer", Arity: -2, Flags: adm, Syntax: "[id]", Summary: "Hands leadership over to a member, or to the most up-to-date one (on the leader).", Example: "> RAFT TRANSFER n2\nOK", Run: cmdRaftTransfer},
				{Name: "snapshot", Arity: 2, Flags: adm, Summary: "Takes a snapshot of the data set now and compacts the log.", Example: "> RAFT SNAPSHOT\nOK", Run: cmdRaftSnapshot},
				{Name: "forward", Arity: -8, Flags: adm, Syntax: "db proto lastonly user count argc arg [argc arg ...]", Summary: "Internal: a follower's writes, run on the leader through the log.", Run: cmdRaftForward},
				{Name: "readindex", Arity: 2, Flags: adm, Summary: "Internal: the leader's read index for a follower's consistent read.", Run: cmdRaftReadIndex},
				{Name: "announce", Arity: 4, Flags: adm, Syntax: "id host:port", Summary: "Internal: records a member's client address in the group's address book.", Run: cmdRaftAnnounce},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("RAFT")},
			}},
		&Spec{Name: "role", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Group: "server", Since: "2.8.12",
			Summary: "Returns the replication role: master (the group's leader, or a standalone server) or slave (a follower).", Example: "> ROLE\n1) \"master\"\n2) (integer) 0\n3) (empty array)", Run: cmdRole},
		&Spec{Name: "sentinel", Arity: -2, Group: "server", Since: "2.8.4", Summary: "Sentinel's discovery commands, answered by every node of a replicated group.",
			Subcommands: []*Spec{
				{Name: "get-master-addr-by-name", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagStale, Syntax: "name", Summary: "Returns the address of the group's leader.", Example: "> SENTINEL get-master-addr-by-name sessiond\n1) \"127.0.0.1\"\n2) \"6379\"", Run: cmdSentinelMasterAddr},
				{Name: "masters", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagStale, Summary: "Returns the group as Sentinel's monitored master.", Run: cmdSentinelMasters},
				{Name: "master", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagStale, Syntax: "name", Summary: "Returns the state of the group's leader.", Run: cmdSentinelMaster},
				{Name: "replicas", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagStale, Syntax: "name", Summary: "Returns the group's followers.", Run: cmdSentinelReplicas},
				{Name: "slaves", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagStale, Syntax: "name", Summary: "Returns the group's followers (old name of REPLICAS).", Run: cmdSentinelReplicas},
				{Name: "sentinels", Arity: 3, Flags: FlagAdmin | FlagNoScript | FlagStale, Syntax: "name", Summary: "Returns the other nodes of the group, each of which answers Sentinel's commands.", Run: cmdSentinelSentinels},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("SENTINEL")},
			}},
	)
	addInfoSection("raft", false, infoRaft)
}

const msgNotGroup = "ERR this server is not part of a replicated group (raft-node-id is empty)"

func groupOf(c *Call) Replicator {
	if c.d.repl == nil {
		c.W.Error(msgNotGroup)
		return nil
	}
	return c.d.repl.r
}

func replyGroupErr(c *Call, err error) {
	if err == nil {
		c.W.OK()
		return
	}
	c.W.Error(groupError(err))
}

func cmdRaftInfo(c *Call) {
	r := groupOf(c)
	if r == nil {
		return
	}
	var b strings.Builder
	writeRaftInfo(c, r, &b)
	c.W.BulkString(b.String())
}

func cmdRaftAdd(c *Call) {
	if r := groupOf(c); r != nil {
		replyGroupErr(c, r.Add(c.Arg(2), c.Arg(3)))
	}
}

func cmdRaftRemove(c *Call) {
	if r := groupOf(c); r != nil {
		replyGroupErr(c, r.Remove(c.Arg(2)))
	}
}

func cmdRaftTransfer(c *Call) {
	r := groupOf(c)
	if r == nil {
		return
	}
	if len(c.Args) > 3 {
		c.W.Error(errWrongArgs("raft|transfer"))
		return
	}
	id := ""
	if len(c.Args) == 3 {
		id = c.Arg(2)
	}
	replyGroupErr(c, r.Transfer(id))
}

func cmdRaftSnapshot(c *Call) {
	if r := groupOf(c); r != nil {
		replyGroupErr(c, r.Snapshot())
	}
}

func cmdRaftForward(c *Call) {
	r := groupOf(c)
	if r == nil {
		return
	}
	if !r.IsLeader() {
		c.W.Error("TRYAGAIN this node is no longer the leader")
		return
	}
	db, err1 := strconv.Atoi(c.Arg(2))
	proto, err2 := strconv.Atoi(c.Arg(3))
	lastOnly, err3 := strconv.ParseBool(c.Arg(4))
	user := c.Arg(5) // the ACL user the commands run as ("": every right)
	n, err4 := strconv.Atoi(c.Arg(6))
	if err := errors.Join(err1, err2, err3, err4); err != nil || db < 0 || db >= 16 || (proto != 2 && proto != 3) || n <= 0 {
		c.W.Error("ERR RAFT FORWARD: bad header")
		return
	}
	rest := c.Args[7:]
	cmds := make([][][]byte, 0, n)
	for i := 0; i < n; i++ {
		if len(rest) == 0 {
			c.W.Error("ERR RAFT FORWARD: truncated")
			return
		}
		argc, err := strconv.Atoi(string(rest[0]))
		if err != nil || argc <= 0 || argc > len(rest)-1 {
			c.W.Error("ERR RAFT FORWARD: bad argument count")
			return
		}
		cmds = append(cmds, CloneArgs(rest[1:1+argc]))
		rest = rest[1+argc:]
	}
	reply, err := c.d.propose(db, proto, lastOnly, user, cmds)
	if err != nil {
		c.W.Error(groupError(err))
		return
	}
	c.W.Bulk(reply)
}

func cmdRaftReadIndex(c *Call) {
	r := groupOf(c)
	if r == nil {
		return
	}
	idx, err := r.ReadIndex()
	if err != nil {
		c.W.Error(groupError(err))
		return
	}
	c.W.Int(int64(idx))
}

func cmdRaftAnnounce(c *Call) {
	if r := groupOf(c); r != nil {
		if _, _, err := net.SplitHostPort(c.Arg(3)); err != nil {
			c.W.Error("ERR invalid address")
			return
		}
		replyGroupErr(c, r.ProposeAnnounce(c.Arg(2), c.Arg(3)))
	}
}

// hostPort splits a RESP address for ROLE and SENTINEL.
func hostPort(addr string) (string, int) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func cmdRole(c *Call) {
	rs := c.d.repl
	if rs == nil {
		c.W.Array(3)
		c.W.BulkString("master")
		c.W.Int(0)
		c.W.Array(0)
		return
	}
	r := rs.r
	off := int64(r.Applied())
	if r.IsLeader() {
		var reps []replication.Peer
		for _, p := range r.Peers() {
			if !p.Self && p.RESPAddr != "" {
				reps = append(reps, p)
			}
		}
		c.W.Array(3)
		c.W.BulkString("master")
		c.W.Int(off)
		c.W.Array(len(reps))
		for _, p := range reps {
			h, port := hostPort(p.RESPAddr)
			c.W.Array(3)
			c.W.BulkString(h)
			c.W.BulkString(strconv.Itoa(port))
			c.W.BulkString(strconv.FormatInt(off, 10))
		}
		return
	}
	addr, ok := r.LeaderRESP()
	h, port := hostPort(addr)
	state := "connected"
	if !ok {
		h, port, state = "?", 0, "connect"
	}
	c.W.Array(5)
	c.W.BulkString("slave")
	c.W.BulkString(h)
	c.W.Int(int64(port))
	c.W.BulkString(state)
	c.W.Int(off)
}

// sentinelGroup checks the master name of a SENTINEL command.
func sentinelGroup(c *Call) Replicator {
	r := groupOf(c)
	if r == nil {
		return nil
	}
	if len(c.Args) > 2 && c.Arg(2) != c.d.Config.Get("raft-group-name") {
		c.W.Error("ERR No such master with that name")
		return nil
	}
	return r
}

func cmdSentinelMasterAddr(c *Call) {
	r := sentinelGroup(c)
	if r == nil {
		return
	}
	addr, ok := r.LeaderRESP()
	if !ok {
		c.W.NullArray()
		return
	}
	h, p := hostPort(addr)
	c.W.Array(2)
	c.W.BulkString(h)
	c.W.BulkString(strconv.Itoa(p))
}

// fields writes a Sentinel record: a map in RESP3, a flat array in RESP2.
func fields(c *Call, kv []string) {
	c.W.Map(len(kv) / 2)
	for _, s := range kv {
		c.W.BulkString(s)
	}
}

// masterDownAfter is how long a follower may go without hearing from the
// leader (which heartbeats every 40 ms) before its Sentinel answers call
// the master down, as Sentinel's down-after-milliseconds: a client that
// re-reads the topology just after a leader's crash (node-redis on +sdown,
// redis-py) then waits for the election instead of connecting to the dead
// leader.
const masterDownAfter = 300 * time.Millisecond

func masterFields(c *Call, r Replicator) []string {
	addr, _ := r.LeaderRESP()
	h, p := hostPort(addr)
	flags := "master"
	lc := r.LastContact()
	if addr == "" || (!r.IsLeader() && !lc.IsZero() && time.Since(lc) > masterDownAfter) {
		flags = "master,s_down,o_down"
	}
	peers := r.Peers()
	return []string{"name", c.d.Config.Get("raft-group-name"), "ip", h, "port", strconv.Itoa(p),
		"runid", r.LeaderID(), "flags", flags, "role-reported", "master",
		"num-slaves", strconv.Itoa(max(len(peers)-1, 0)), "num-other-sentinels", strconv.Itoa(max(len(peers)-1, 0)),
		"quorum", strconv.Itoa(len(peers)/2 + 1), "config-epoch", r.Stats()["term"],
		"down-after-milliseconds", strconv.FormatInt(masterDownAfter.Milliseconds(), 10), "failover-timeout", "2000", "parallel-syncs", "1"}
}

func cmdSentinelMasters(c *Call) {
	r := sentinelGroup(c)
	if r == nil {
		return
	}
	c.W.Array(1)
	fields(c, masterFields(c, r))
}

func cmdSentinelMaster(c *Call) {
	if r := sentinelGroup(c); r != nil {
		fields(c, masterFields(c, r))
	}
}

func cmdSentinelReplicas(c *Call) {
	r := sentinelGroup(c)
	if r == nil {
		return
	}
	leader, _ := r.LeaderRESP()
	lh, lp := hostPort(leader)
	var reps []replication.Peer
	for _, p := range r.Peers() {
		if !p.Leader && p.RESPAddr != "" {
			reps = append(reps, p)
		}
	}
	c.W.Array(len(reps))
	off := strconv.FormatUint(r.CommitIndex(), 10)
	for _, p := range reps {
		h, port := hostPort(p.RESPAddr)
		fields(c, []string{"name", p.RESPAddr, "ip", h, "port", strconv.Itoa(port), "runid", p.ID,
			"flags", "slave", "role-reported", "slave", "master-link-status", "ok",
			"master-host", lh, "master-port", strconv.Itoa(lp), "slave-priority", "100", "slave-repl-offset", off})
	}
}

func cmdSentinelSentinels(c *Call) {
	r := sentinelGroup(c)
	if r == nil {
		return
	}
	var others []replication.Peer
	for _, p := range r.Peers() {
		if !p.Self && p.RESPAddr != "" {
			others = append(others, p)
		}
	}
	c.W.Array(len(others))
	for _, p := range others {
		h, port := hostPort(p.RESPAddr)
		fields(c, []string{"name", p.ID, "ip", h, "port", strconv.Itoa(port), "runid", p.ID, "flags", "sentinel",
			"voted-leader", "?", "voted-leader-epoch", "0"})
	}
}

// infoReplicated is INFO replication on a node of a group, in Redis' words.
func infoReplicated(c *Call, r Replicator, b *strings.Builder) {
	off := r.Applied()
	if r.IsLeader() {
		var reps []replication.Peer
		for _, p := range r.Peers() {
			if !p.Self {
				reps = append(reps, p)
			}
		}
		fmt.Fprintf(b, "role:master\r\nconnected_slaves:%d\r\n", len(reps))
		for i, p := range reps {
			h, port := hostPort(p.RESPAddr)
			fmt.Fprintf(b, "slave%d:ip=%s,port=%d,state=online,offset=%d,lag=0\r\n", i, h, port, off)
		}
		fmt.Fprintf(b, "master_failover_state:no-failover\r\nmaster_replid:%s\r\nmaster_repl_offset:%d\r\n", runID[:40], off)
		return
	}
	addr, ok := r.LeaderRESP()
	h, port := hostPort(addr)
	link := "up"
	if !ok {
		link = "down"
	}
	since := int64(-1)
	if lc := r.LastContact(); !lc.IsZero() {
		since = int64(time.Since(lc).Seconds())
	}
	fmt.Fprintf(b, "role:slave\r\nmaster_host:%s\r\nmaster_port:%d\r\nmaster_link_status:%s\r\nmaster_last_io_seconds_ago:%d\r\nmaster_sync_in_progress:0\r\nslave_read_repl_offset:%d\r\nslave_repl_offset:%d\r\nslave_priority:100\r\nslave_read_only:1\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:%s\r\nmaster_repl_offset:%d\r\n",
		h, port, link, since, off, off, runID[:40], off)
}

func infoRaft(c *Call, b *strings.Builder) {
	if c.d.repl == nil {
		b.WriteString("raft_enabled:0\r\n")
		return
	}
	writeRaftInfo(c, c.d.repl.r, b)
}

func writeRaftInfo(c *Call, r Replicator, b *strings.Builder) {
	st := r.Stats()
	leader, _ := r.LeaderRESP()
	fmt.Fprintf(b, "raft_enabled:1\r\nnode_id:%s\r\ngroup_name:%s\r\nstate:%s\r\nterm:%s\r\nleader_id:%s\r\nleader_addr:%s\r\ncommit_index:%s\r\napplied_index:%d\r\nlast_log_index:%s\r\nlast_snapshot_index:%s\r\nlast_contact:%s\r\nfollower_writes:%s\r\nfollower_reads:%s\r\nlog_store:%s\r\ntransport:%s\r\n",
		r.ID(), c.d.Config.Get("raft-group-name"), r.State(), st["term"], r.LeaderID(), leader, st["commit_index"], r.Applied(),
		st["last_log_index"], st["last_snapshot_index"], st["last_contact"], c.d.Config.Get("raft-follower-writes"), c.d.Config.Get("raft-follower-reads"),
		st["log_store"], st["transport"])
	peers := r.Peers()
	sort.Slice(peers, func(i, j int) bool { return peers[i].ID < peers[j].ID })
	fmt.Fprintf(b, "peers:%d\r\n", len(peers))
	for i, p := range peers {
		role := "follower"
		if p.Leader {
			role = "leader"
		}
		fmt.Fprintf(b, "peer%d:id=%s,raft=%s,addr=%s,voter=%d,role=%s,self=%d\r\n", i, p.ID, p.RaftAddr, p.RESPAddr, b2i(p.Voter), role, b2i(p.Self))
	}
}
