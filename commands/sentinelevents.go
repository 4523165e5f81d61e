package commands

import (
	"net"
	"strconv"
	"strings"
)

// Redis Sentinel announces a failover on its pub/sub in a sequence of
// events; clients subscribe to some of them. ioredis and go-redis watch
// +switch-master; node-redis (createSentinel) PSUBSCRIBEs to `[-+]sdown`,
// `[-+]odown`, `+slave`, `+sentinel` and `+slave-reconf-done` (and to
// `switch-master` without the plus, which Sentinel never publishes) and
// re-reads SENTINEL MASTER/REPLICAS on any of them. A node of a group
// publishes the same events, in Sentinel's words, when leadership moves, so
// an idle client of either kind moves to the new leader before its next
// command finds the old one gone.

// publishMasterDown is what a Sentinel publishes when it finds the master
// down and agrees with the others: +sdown then +odown. A node publishes it
// when it loses its leader (old is that leader's RESP address).
func (d *Dispatcher) publishMasterDown(old string) {
	name := d.Config.Get("raft-group-name")
	h, p, err := net.SplitHostPort(old)
	if err != nil {
		return
	}
	n := len(d.repl.r.Peers())
	d.hub.Publish("+sdown", strings.Join([]string{"master", name, h, p}, " "))
	d.hub.Publish("+odown", strings.Join([]string{"master", name, h, p, "#quorum", strconv.Itoa(n/2+1) + "/" + strconv.Itoa(n/2+1)}, " "))
}

// publishSwitch is what a Sentinel publishes at the end of a failover from
// old to addr (RESP addresses): +slave-reconf-done for each replica, then
// +switch-master, then +slave for each replica of the new master.
func (d *Dispatcher) publishSwitch(old, addr string) {
	name := d.Config.Get("raft-group-name")
	oh, op, err1 := net.SplitHostPort(old)
	nh, np, err2 := net.SplitHostPort(addr)
	if err1 != nil || err2 != nil {
		return
	}
	var replicas []string
	for _, p := range d.repl.r.Peers() {
		if p.RESPAddr != "" && p.RESPAddr != addr {
			replicas = append(replicas, p.RESPAddr)
		}
	}
	// "slave <ip>:<port> <ip> <port> @ <master name> <master ip> <master port>"
	slave := func(r, mh, mp string) string {
		h, p, _ := net.SplitHostPort(r)
		return strings.Join([]string{"slave", r, h, p, "@", name, mh, mp}, " ")
	}
	for _, r := range replicas {
		d.hub.Publish("+slave-reconf-done", slave(r, oh, op))
	}
	d.hub.Publish("+switch-master", strings.Join([]string{name, oh, op, nh, np}, " "))
	for _, r := range replicas {
		d.hub.Publish("+slave", slave(r, nh, np))
	}
}

// lastLeaderAddr is the RESP address of the leader this node knew last: the
// one it published, or, when that leader's address had not reached this
// node when it was elected (the address book is in the log), the address
// book's entry for its id.
func (d *Dispatcher) lastLeaderAddr(published, id string) string {
	if published != "" || id == "" {
		return published
	}
	for _, p := range d.repl.r.Peers() {
		if p.ID == id {
			return p.RESPAddr
		}
	}
	return ""
}
