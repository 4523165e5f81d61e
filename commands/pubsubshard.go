package commands

import (
	"sort"
	"sync"

	"github.com/sessiond/sessiond/glob"
	"github.com/sessiond/sessiond/resp"
)

// Sharded pub/sub (Redis 7): SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and PUBSUB
// SHARDCHANNELS / SHARDNUMSUB. A standalone server is one shard, so shard
// channels are a namespace of their own beside the classic channels:
// SPUBLISH reaches SSUBSCRIBE'd clients only, as "smessage".

type shardHub struct {
	mu       sync.RWMutex
	channels map[string]map[*Client]struct{}
}

func init() {
	register(
		&Spec{Name: "ssubscribe", Arity: -2, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, FirstKey: 1, LastKey: -1, Step: 1, Group: "pubsub", Since: "7.0.0",
			Syntax: "shardchannel [shardchannel ...]", Summary: "Listens for messages published to shard channels.",
			Example: "> SSUBSCRIBE orders\n1) \"ssubscribe\"\n2) \"orders\"\n3) (integer) 1", Run: cmdSsubscribe},
		&Spec{Name: "sunsubscribe", Arity: -1, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, FirstKey: 1, LastKey: -1, Step: 1, Group: "pubsub", Since: "7.0.0",
			Syntax: "[shardchannel [shardchannel ...]]", Summary: "Stops listening to messages posted to shard channels.",
			Example: "> SUNSUBSCRIBE\n1) \"sunsubscribe\"\n2) (nil)\n3) (integer) 0", Run: cmdSunsubscribe},
		&Spec{Name: "spublish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: "pubsub", Since: "7.0.0",
			Syntax: "shardchannel message", Summary: "Post a message to a shard channel.",
			Example: "> SPUBLISH orders new\n(integer) 1", Run: cmdSpublish},
	)
	registerSubcommands("pubsub",
		&Spec{Name: "shardchannels", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Syntax: "[pattern]",
			Summary: "Returns the active shard channels.", Example: "> PUBSUB SHARDCHANNELS\n1) \"orders\"", Run: cmdPubsubShardchannels},
		&Spec{Name: "shardnumsub", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Syntax: "[shardchannel [shardchannel ...]]",
			Summary: "Returns the count of subscribers of shard channels.", Example: "> PUBSUB SHARDNUMSUB orders\n1) \"orders\"\n2) (integer) 1", Run: cmdPubsubShardnumsub},
	)
}

// shardCount is the client's number of shard subscriptions (the count in
// SSUBSCRIBE/SUNSUBSCRIBE replies).
func shardCount(cl *Client) int {
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	return len(cl.subs.shards)
}

func (h *shardHub) subscribe(cl *Client, name string) int {
	cl.subs.proto.Store(int32(cl.Proto()))
	h.mu.Lock()
	if h.channels == nil {
		h.channels = map[string]map[*Client]struct{}{}
	}
	set := h.channels[name]
	if set == nil {
		set = map[*Client]struct{}{}
		h.channels[name] = set
	}
	set[cl] = struct{}{}
	h.mu.Unlock()
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	if cl.subs.shards == nil {
		cl.subs.shards = map[string]struct{}{}
	}
	cl.subs.shards[name] = struct{}{}
	return len(cl.subs.shards)
}

func (h *shardHub) unsubscribe(cl *Client, name string) int {
	h.mu.Lock()
	if set := h.channels[name]; set != nil {
		delete(set, cl)
		if len(set) == 0 {
			delete(h.channels, name)
		}
	}
	h.mu.Unlock()
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	delete(cl.subs.shards, name)
	return len(cl.subs.shards)
}

func (h *shardHub) list(cl *Client) []string {
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	out := make([]string, 0, len(cl.subs.shards))
	for k := range cl.subs.shards {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unsubscribeAll drops every shard subscription of a client (disconnect,
// RESET).
func (h *shardHub) unsubscribeAll(cl *Client) {
	for _, ch := range h.list(cl) {
		h.unsubscribe(cl, ch)
	}
}

func cmdSsubscribe(c *Call) {
	if c.Client.multi.active {
		c.W.Error(msgNotInMulti)
		return
	}
	for _, a := range c.Args[1:] {
		name := string(a)
		n := c.d.shards.subscribe(c.Client, name)
		subReply(c, "ssubscribe", &name, n)
	}
}

func cmdSunsubscribe(c *Call) {
	names := make([]string, 0, len(c.Args)-1)
	for _, a := range c.Args[1:] {
		names = append(names, string(a))
	}
	if len(names) == 0 {
		names = c.d.shards.list(c.Client)
		if len(names) == 0 {
			subReply(c, "sunsubscribe", nil, 0)
			return
		}
	}
	for _, name := range names {
		name := name
		n := c.d.shards.unsubscribe(c.Client, name)
		subReply(c, "sunsubscribe", &name, n)
	}
}

func cmdSpublish(c *Call) {
	h := &c.d.shards
	channel, msg := c.Arg(1), c.Arg(2)
	h.mu.RLock()
	targets := make([]*Client, 0, len(h.channels[channel]))
	for cl := range h.channels[channel] {
		targets = append(targets, cl)
	}
	h.mu.RUnlock()
	var frames [2][]byte
	for _, cl := range targets {
		idx := 0
		if cl.subs.proto.Load() == 3 {
			idx = 1
		}
		if frames[idx] == nil {
			w := resp.NewWriter(2 + idx)
			w.Push(3)
			w.BulkString("smessage")
			w.BulkString(channel)
			w.BulkString(msg)
			frames[idx] = w.Bytes()
		}
		cl.Conn.Push(frames[idx])
	}
	c.W.Int(int64(len(targets)))
}

func cmdPubsubShardchannels(c *Call) {
	pattern := ""
	if len(c.Args) > 2 {
		pattern = c.Arg(2)
	}
	h := &c.d.shards
	h.mu.RLock()
	var out []string
	for ch := range h.channels {
		if pattern == "" || glob.Match(pattern, ch) {
			out = append(out, ch)
		}
	}
	h.mu.RUnlock()
	sort.Strings(out)
	c.W.BulkStrings(out)
}

func cmdPubsubShardnumsub(c *Call) {
	h := &c.d.shards
	c.W.Array(2 * (len(c.Args) - 2))
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, a := range c.Args[2:] {
		c.W.Bulk(a)
		c.W.Int(int64(len(h.channels[string(a)])))
	}
}
