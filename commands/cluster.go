package commands

import "strings"

// CLUSTER: sessiond is never a Redis Cluster node (a replicated group is
// raft's, see RAFT and SENTINEL). Every subcommand answers as a Redis
// started without cluster-enabled does, so cluster-aware clients that probe
// with CLUSTER INFO or CLUSTER SLOTS fall back to standalone mode, and the
// flags (admin, noscript) are Redis' so scripts and ACLs see what they would.

const msgClusterDisabled = "ERR This instance has cluster support disabled"

func cmdClusterDisabled(c *Call) { c.W.Error(msgClusterDisabled) }

// clusterSub declares one CLUSTER subcommand.
func clusterSub(name string, arity int, flags Flag, syntax, summary string) *Spec {
	return &Spec{Name: name, Arity: arity, Flags: flags | FlagStale, Syntax: syntax, Summary: summary,
		Example: "> CLUSTER " + strings.ToUpper(name) + "\n(error) " + msgClusterDisabled, Run: cmdClusterDisabled}
}

func init() {
	const admin = FlagAdmin
	register(&Spec{Name: "cluster", Arity: -2, Group: "cluster", Since: "3.0.0",
		Summary: "A container for Redis Cluster commands; sessiond answers each as a Redis without cluster support.",
		Subcommands: []*Spec{
			clusterSub("addslots", -3, admin, "slot [slot ...]", "Assigns new hash slots to a node."),
			clusterSub("addslotsrange", -4, admin, "start-slot end-slot [start-slot end-slot ...]", "Assigns new hash slot ranges to a node."),
			clusterSub("bumpepoch", 2, admin, "", "Advances the cluster config epoch."),
			clusterSub("count-failure-reports", 3, admin, "node-id", "Returns the number of active failure reports for a node."),
			clusterSub("countkeysinslot", 3, 0, "slot", "Returns the number of keys in a hash slot."),
			clusterSub("delslots", -3, admin, "slot [slot ...]", "Sets hash slots as unbound for a node."),
			clusterSub("delslotsrange", -4, admin, "start-slot end-slot [start-slot end-slot ...]", "Sets hash slot ranges as unbound for a node."),
			clusterSub("failover", -2, admin, "[FORCE | TAKEOVER]", "Forces a replica to perform a manual failover of its master."),
			clusterSub("flushslots", 2, admin, "", "Deletes all slots information from a node."),
			clusterSub("forget", 3, admin, "node-id", "Removes a node from the nodes table."),
			clusterSub("getkeysinslot", 4, 0, "slot count", "Returns the key names in a hash slot."),
			clusterSub("help", 2, FlagLoading, "", "Returns helpful text about the different subcommands."),
			clusterSub("info", 2, 0, "", "Returns information about the state of a node."),
			clusterSub("keyslot", 3, 0, "key", "Returns the hash slot for a key."),
			clusterSub("links", 2, 0, "", "Returns a list of all TCP links to and from peer nodes."),
			clusterSub("meet", -4, admin, "ip port [cluster-bus-port]", "Forces a node to handshake with another node."),
			clusterSub("myid", 2, 0, "", "Returns the ID of a node."),
			clusterSub("nodes", 2, 0, "", "Returns the cluster configuration for a node."),
			clusterSub("replicas", 3, admin, "node-id", "Lists the replica nodes of a master node."),
			clusterSub("replicate", 3, admin, "node-id", "Configures a node as replica of a master node."),
			clusterSub("reset", -2, admin|FlagNoScript, "[HARD | SOFT]", "Resets a node."),
			clusterSub("saveconfig", 2, admin, "", "Forces a node to save the cluster configuration to disk."),
			clusterSub("set-config-epoch", 3, admin, "config-epoch", "Sets the configuration epoch for a new node."),
			clusterSub("setslot", -4, admin, "slot IMPORTING node-id | MIGRATING node-id | NODE node-id | STABLE", "Binds a hash slot to a node."),
			clusterSub("shards", 2, 0, "", "Returns the mapping of cluster slots to shards."),
			clusterSub("slaves", 3, admin, "node-id", "Lists the replica nodes of a master node."),
			clusterSub("slots", 2, 0, "", "Returns the mapping of cluster slots to nodes."),
		}})
}
