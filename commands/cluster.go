package commands

// CLUSTER, as a Redis server that runs without cluster mode answers it:
// sessiond is never a Redis Cluster node (a replicated group is raft's, see
// README "A replicated group"), so every subcommand but HELP answers
// Redis' "cluster support disabled" error. Declaring them keeps COMMAND,
// COMMAND DOCS and ACLs as Redis has them, and clients that probe CLUSTER
// INFO or CLUSTER SLOTS to detect cluster mode get the answer they expect
// from a standalone server.

const msgClusterDisabled = "ERR This instance has cluster support disabled"

func cmdClusterDisabled(c *Call) { c.W.Error(msgClusterDisabled) }

func init() {
	a, st := FlagAdmin, FlagStale
	sub := func(name string, arity int, flags Flag, since, syntax, summary string) *Spec {
		return &Spec{Name: name, Arity: arity, Flags: flags | st, Since: since, Syntax: syntax,
			Summary: summary + " (Redis Cluster only: answers that cluster support is disabled)", Run: cmdClusterDisabled}
	}
	register(&Spec{Name: "cluster", Arity: -2, Group: "cluster", Since: "3.0.0", Summary: "A container for Redis Cluster commands (sessiond is not a cluster node: every subcommand but HELP answers that cluster support is disabled).",
		Subcommands: []*Spec{
			sub("addslots", -3, a, "3.0.0", "slot [slot ...]", "Assigns new hash slots to a node."),
			sub("addslotsrange", -4, a, "7.0.0", "start-slot end-slot [start-slot end-slot ...]", "Assigns new hash slot ranges to a node."),
			sub("bumpepoch", 2, a, "3.0.0", "", "Advances the cluster config epoch."),
			sub("count-failure-reports", 3, a, "3.0.0", "node-id", "Returns the number of active failure reports active for a node."),
			sub("countkeysinslot", 3, 0, "3.0.0", "slot", "Returns the number of keys in a hash slot."),
			sub("delslots", -3, a, "3.0.0", "slot [slot ...]", "Sets hash slots as unbound for a node."),
			sub("delslotsrange", -4, a, "7.0.0", "start-slot end-slot [start-slot end-slot ...]", "Sets hash slot ranges as unbound for a node."),
			sub("failover", -2, a, "3.0.0", "[FORCE|TAKEOVER]", "Forces a replica to perform a manual failover of its master."),
			sub("flushslots", 2, a, "3.0.0", "", "Deletes all slots information from a node."),
			sub("forget", 3, a, "3.0.0", "node-id", "Removes a node from the nodes table."),
			sub("getkeysinslot", 4, 0, "3.0.0", "slot count", "Returns the key names in a hash slot."),
			sub("info", 2, 0, "3.0.0", "", "Returns information about the state of a node."),
			sub("keyslot", 3, 0, "3.0.0", "key", "Returns the hash slot for a key."),
			sub("links", 2, 0, "7.0.0", "", "Returns a list of all TCP links to and from peer nodes."),
			sub("meet", -4, a, "3.0.0", "ip port [cluster-bus-port]", "Forces a node to handshake with another node."),
			sub("myid", 2, 0, "3.0.0", "", "Returns the ID of a node."),
			sub("nodes", 2, 0, "3.0.0", "", "Returns the cluster configuration for a node."),
			sub("replicas", 3, a, "5.0.0", "node-id", "Lists the replica nodes of a master node."),
			sub("replicate", 3, a, "3.0.0", "node-id", "Configure a node as replica of a master node."),
			sub("reset", -2, a|FlagNoScript, "3.0.0", "[HARD|SOFT]", "Resets a node."),
			sub("saveconfig", 2, a, "3.0.0", "", "Forces a node to save the cluster configuration to disk."),
			sub("set-config-epoch", 3, a, "3.0.0", "config-epoch", "Sets the configuration epoch for a new node."),
			sub("setslot", -4, a, "3.0.0", "slot IMPORTING node-id|MIGRATING node-id|NODE node-id|STABLE", "Binds a hash slot to a node."),
			sub("shards", 2, 0, "7.0.0", "", "Returns the mapping of cluster slots to shards."),
			sub("slaves", 3, a, "3.0.0", "node-id", "Lists the replica nodes of a master node (deprecated: CLUSTER REPLICAS)."),
			sub("slots", 2, 0, "3.0.0", "", "Returns the mapping of cluster slots to nodes."),
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Since: "5.0.0", Summary: "Returns helpful text about the different subcommands.", Run: helpFor("CLUSTER")},
		}})
}
