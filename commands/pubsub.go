package commands

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sessiond/sessiond/acl"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/glob"
	"github.com/sessiond/sessiond/resp"
)

// Hub routes published messages to subscribers. Publishing never blocks on a
// subscriber: each message is handed to the subscriber's connection with
// Conn.Push, which queues it in a bounded outbox and disconnects a subscriber
// that falls behind (client-output-buffer-limit pubsub).
type Hub struct {
	d        *Dispatcher
	mu       sync.RWMutex
	channels map[string]map[*Client]struct{}
	patterns map[string]map[*Client]struct{}
	shards   map[string]map[*Client]struct{}
}

type subscriptions struct {
	mu       sync.Mutex
	channels map[string]struct{}
	patterns map[string]struct{}
	shards   map[string]struct{}
	// proto is the protocol publishers encode messages in, copied from the
	// client's writer by its own goroutine at each (un)subscribe, so that a
	// publisher never reads the writer another goroutine owns.
	proto atomic.Int32
}

func (s *subscriptions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.channels) + len(s.patterns) + len(s.shards)
}

func newHub(d *Dispatcher) *Hub {
	return &Hub{d: d, channels: map[string]map[*Client]struct{}{}, patterns: map[string]map[*Client]struct{}{}, shards: map[string]map[*Client]struct{}{}}
}

// Publish delivers msg on channel and returns the number of receivers.
func (h *Hub) Publish(channel, msg string) int {
	h.mu.RLock()
	type target struct {
		cl      *Client
		pattern string
	}
	var targets []target
	for cl := range h.channels[channel] {
		targets = append(targets, target{cl, ""})
	}
	for p, set := range h.patterns {
		if glob.Match(p, channel) {
			for cl := range set {
				targets = append(targets, target{cl, p})
			}
		}
	}
	h.mu.RUnlock()
	var frames [4][]byte // by proto and pattern-ness
	for _, t := range targets {
		proto := int(t.cl.subs.proto.Load())
		idx := 0
		if proto == 3 {
			idx = 1
		}
		if t.pattern != "" {
			// pattern frames name the pattern; build per target.
			w := resp.NewWriter(proto)
			w.Push(4)
			w.BulkString("pmessage")
			w.BulkString(t.pattern)
			w.BulkString(channel)
			w.BulkString(msg)
			t.cl.Conn.Push(w.Bytes())
			continue
		}
		if frames[idx] == nil {
			w := resp.NewWriter(proto)
			w.Push(3)
			w.BulkString("message")
			w.BulkString(channel)
			w.BulkString(msg)
			frames[idx] = w.Bytes()
		}
		t.cl.Conn.Push(frames[idx])
	}
	return len(targets)
}

// publishEvent turns an engine event into its pub/sub messages.
func (h *Hub) publishEvent(ev engine.Event) {
	if ev.Class == 'S' {
		h.Publish("__sessions__", ev.Name+" "+ev.Key)
		return
	}
	flags := h.d.Config.Get("notify-keyspace-events")
	db := strconv.Itoa(ev.DB)
	if strings.Contains(flags, "K") {
		h.Publish("__keyspace@"+db+"__:"+ev.Key, ev.Name)
	}
	if strings.Contains(flags, "E") {
		h.Publish("__keyevent@"+db+"__:"+ev.Name, ev.Key)
	}
}

// subKind says which of a client's subscriptions: channels, patterns, or
// shard channels (SSUBSCRIBE, Redis 7's sharded pub/sub; one shard here).
type subKind int

const (
	kindChannel subKind = iota
	kindPattern
	kindShard
)

// hubTable is the hub's map of subscribers for a kind; h.mu must be held.
func (h *Hub) hubTable(kind subKind) map[string]map[*Client]struct{} {
	switch kind {
	case kindPattern:
		return h.patterns
	case kindShard:
		return h.shards
	}
	return h.channels
}

// own is the client's set for a kind, made when make is set; s.mu must be held.
func (s *subscriptions) own(kind subKind, make bool) map[string]struct{} {
	p := &s.channels
	switch kind {
	case kindPattern:
		p = &s.patterns
	case kindShard:
		p = &s.shards
	}
	if *p == nil && make {
		*p = map[string]struct{}{}
	}
	return *p
}

// counted is what a (un)subscribe reply counts: channels and patterns
// together, shard channels apart, as Redis.
func (s *subscriptions) counted(kind subKind) int {
	if kind == kindShard {
		return len(s.shards)
	}
	return len(s.channels) + len(s.patterns)
}

func (h *Hub) subscribe(cl *Client, kind subKind, name string) int {
	cl.subs.proto.Store(int32(cl.Proto()))
	h.mu.Lock()
	m := h.hubTable(kind)
	set := m[name]
	if set == nil {
		set = map[*Client]struct{}{}
		m[name] = set
	}
	set[cl] = struct{}{}
	h.mu.Unlock()
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	cl.subs.own(kind, true)[name] = struct{}{}
	return cl.subs.counted(kind)
}

// unsubscribe removes one subscription; it returns whether it existed and the
// client's remaining count.
func (h *Hub) unsubscribe(cl *Client, kind subKind, name string) (bool, int) {
	h.mu.Lock()
	m := h.hubTable(kind)
	if set := m[name]; set != nil {
		delete(set, cl)
		if len(set) == 0 {
			delete(m, name)
		}
	}
	h.mu.Unlock()
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	own := cl.subs.own(kind, false)
	_, had := own[name]
	delete(own, name)
	return had, cl.subs.counted(kind)
}

func (h *Hub) list(cl *Client, kind subKind) []string {
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	src := cl.subs.own(kind, false)
	out := make([]string, 0, len(src))
	for k := range src {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (h *Hub) unsubscribeAll(cl *Client) {
	for _, kind := range []subKind{kindChannel, kindPattern, kindShard} {
		for _, ch := range h.list(cl, kind) {
			h.unsubscribe(cl, kind, ch)
		}
	}
}

// SPublish delivers msg to the subscribers of shard channel (SPUBLISH) and
// returns their number.
func (h *Hub) SPublish(channel, msg string) int {
	h.mu.RLock()
	var targets []*Client
	for cl := range h.shards[channel] {
		targets = append(targets, cl)
	}
	h.mu.RUnlock()
	for _, cl := range targets {
		w := resp.NewWriter(int(cl.subs.proto.Load()))
		w.Push(3)
		w.BulkString("smessage")
		w.BulkString(channel)
		w.BulkString(msg)
		cl.Conn.Push(w.Bytes())
	}
	return len(targets)
}

// channelArgs: every argument from first on is a channel (or a pattern).
func channelArgs(first int, pattern bool) func(args [][]byte) []acl.ChannelRef {
	return func(args [][]byte) []acl.ChannelRef {
		var out []acl.ChannelRef
		for i := first; i < len(args); i++ {
			out = append(out, acl.ChannelRef{Pos: i, Pattern: pattern})
		}
		return out
	}
}

func init() {
	register(
		&Spec{Name: "subscribe", Arity: -2, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "2.0.0",
			Syntax: "channel [channel ...]", Summary: "Listens for messages published to channels.", Example: "> SUBSCRIBE __sessions__\n1) \"subscribe\"\n2) \"__sessions__\"\n3) (integer) 1", Run: cmdSubscribe,
			Channels: channelArgs(1, false)},
		&Spec{Name: "psubscribe", Arity: -2, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "2.0.0",
			Syntax: "pattern [pattern ...]", Summary: "Listens for messages published to channels that match one or more patterns.", Example: "> PSUBSCRIBE __keyevent@0__:*\n1) \"psubscribe\"\n2) \"__keyevent@0__:*\"\n3) (integer) 1", Run: cmdPsubscribe,
			Channels: channelArgs(1, true)},
		&Spec{Name: "unsubscribe", Arity: -1, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "2.0.0",
			Syntax: "[channel [channel ...]]", Summary: "Stops listening to messages posted to channels.", Example: "> UNSUBSCRIBE\n1) \"unsubscribe\"\n2) (nil)\n3) (integer) 0", Run: cmdUnsubscribe},
		&Spec{Name: "punsubscribe", Arity: -1, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "2.0.0",
			Syntax: "[pattern [pattern ...]]", Summary: "Stops listening to messages published to channels that match one or more patterns.", Example: "> PUNSUBSCRIBE\n1) \"punsubscribe\"\n2) (nil)\n3) (integer) 0", Run: cmdPunsubscribe},
		&Spec{Name: "publish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast | flagMayReplicate, Group: "pubsub", Since: "2.0.0",
			Syntax: "channel message", Summary: "Posts a message to a channel.", Example: "> PUBLISH news hello\n(integer) 1", Run: cmdPublish,
			Channels: func(args [][]byte) []acl.ChannelRef { return []acl.ChannelRef{{Pos: 1}} }},
		&Spec{Name: "ssubscribe", Arity: -2, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "7.0.0",
			Syntax: "shardchannel [shardchannel ...]", Summary: "Listens for messages published to shard channels (one shard: the server).", Example: "> SSUBSCRIBE orders\n1) \"ssubscribe\"\n2) \"orders\"\n3) (integer) 1", Run: cmdSsubscribe,
			Channels: channelArgs(1, false)},
		&Spec{Name: "sunsubscribe", Arity: -1, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "7.0.0",
			Syntax: "[shardchannel [shardchannel ...]]", Summary: "Stops listening to messages posted to shard channels.", Example: "> SUNSUBSCRIBE\n1) \"sunsubscribe\"\n2) (nil)\n3) (integer) 0", Run: cmdSunsubscribe},
		&Spec{Name: "spublish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast | flagMayReplicate, Group: "pubsub", Since: "7.0.0",
			Syntax: "shardchannel message", Summary: "Posts a message to a shard channel.", Example: "> SPUBLISH orders hello\n(integer) 1", Run: cmdSpublish,
			Channels: func(args [][]byte) []acl.ChannelRef { return []acl.ChannelRef{{Pos: 1}} }},
		&Spec{Name: "pubsub", Arity: -2, Group: "pubsub", Since: "2.8.0", Summary: "A container for Pub/Sub commands.",
			Subcommands: []*Spec{
				{Name: "channels", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Syntax: "[pattern]", Summary: "Returns the active channels.", Example: "> PUBSUB CHANNELS\n1) \"news\"", Run: cmdPubsubChannels},
				{Name: "numsub", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Syntax: "[channel [channel ...]]", Summary: "Returns a count of subscribers to channels.", Example: "> PUBSUB NUMSUB news\n1) \"news\"\n2) (integer) 1", Run: cmdPubsubNumsub},
				{Name: "shardchannels", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Syntax: "[pattern]", Summary: "Returns the active shard channels.", Example: "> PUBSUB SHARDCHANNELS\n1) \"orders\"", Run: cmdPubsubShardchannels},
				{Name: "shardnumsub", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Syntax: "[shardchannel [shardchannel ...]]", Summary: "Returns the count of subscribers of shard channels.", Example: "> PUBSUB SHARDNUMSUB orders\n1) \"orders\"\n2) (integer) 1", Run: cmdPubsubShardnumsub},
				{Name: "numpat", Arity: 2, Flags: FlagPubSub | FlagLoading | FlagStale, Summary: "Returns a count of unique pattern subscriptions.", Example: "> PUBSUB NUMPAT\n(integer) 0", Run: cmdPubsubNumpat},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Summary: "Returns helpful text about the different subcommands.", Run: helpFor("PUBSUB")},
			}},
	)
}

// CLIENT REPLY modes. Replies are dropped while OFF, and for the one
// command after SKIP; pub/sub confirmations and messages still flow, as in
// Redis, since they are pushes.
const (
	replyOn = iota
	replyOff
	replySkip
)

// suppressReply drops what the command just run wrote after mark, unless it
// was CLIENT REPLY itself.
func suppressReply(cl *Client, mark int, args [][]byte) {
	if len(args) >= 2 && keyword(args[0], "CLIENT") && keyword(args[1], "REPLY") {
		return
	}
	cl.W.Truncate(mark)
	if cl.replyMode == replySkip {
		cl.replyMode = replyOn
	}
}

// subReply writes a (un)subscribe confirmation; with replies turned off it
// goes out as a push instead.
func subReply(c *Call, kind string, name *string, count int) {
	if c.Client.replyMode != replyOn && c.tx == nil {
		w := resp.NewWriter(c.W.Proto())
		writeSubReply(w, kind, name, count)
		c.Client.Conn.Push(w.Bytes())
		return
	}
	writeSubReply(c.W, kind, name, count)
}

func writeSubReply(w *resp.Writer, kind string, name *string, count int) {
	w.Push(3)
	w.BulkString(kind)
	if name == nil {
		w.Null()
	} else {
		w.BulkString(*name)
	}
	w.Int(int64(count))
}

func subscribeCmd(kind subKind, reply string) func(c *Call) {
	return func(c *Call) {
		if c.Client.multi.active {
			c.W.Error(msgNotInMulti)
			return
		}
		for _, a := range c.Args[1:] {
			name := string(a)
			n := c.d.hub.subscribe(c.Client, kind, name)
			subReply(c, reply, &name, n)
		}
	}
}

var (
	cmdSubscribe  = subscribeCmd(kindChannel, "subscribe")
	cmdPsubscribe = subscribeCmd(kindPattern, "psubscribe")
	cmdSsubscribe = subscribeCmd(kindShard, "ssubscribe")
)

func unsubscribeCmd(c *Call, pattern subKind, kind string) {
	names := make([]string, 0, len(c.Args)-1)
	for _, a := range c.Args[1:] {
		names = append(names, string(a))
	}
	if len(names) == 0 {
		names = c.d.hub.list(c.Client, pattern)
		if len(names) == 0 {
			c.Client.subs.mu.Lock()
			n := c.Client.subs.counted(pattern)
			c.Client.subs.mu.Unlock()
			subReply(c, kind, nil, n)
			return
		}
	}
	for _, name := range names {
		name := name
		_, n := c.d.hub.unsubscribe(c.Client, pattern, name)
		subReply(c, kind, &name, n)
	}
}

func cmdUnsubscribe(c *Call)  { unsubscribeCmd(c, kindChannel, "unsubscribe") }
func cmdPunsubscribe(c *Call) { unsubscribeCmd(c, kindPattern, "punsubscribe") }
func cmdSunsubscribe(c *Call) { unsubscribeCmd(c, kindShard, "sunsubscribe") }

func cmdPublish(c *Call) {
	c.W.Int(int64(c.d.hub.Publish(c.Arg(1), c.Arg(2))))
}

func cmdSpublish(c *Call) {
	c.W.Int(int64(c.d.hub.SPublish(c.Arg(1), c.Arg(2))))
}

func cmdPubsubChannels(c *Call)      { pubsubChannels(c, kindChannel) }
func cmdPubsubShardchannels(c *Call) { pubsubChannels(c, kindShard) }
func cmdPubsubNumsub(c *Call)        { pubsubNumsub(c, kindChannel) }
func cmdPubsubShardnumsub(c *Call)   { pubsubNumsub(c, kindShard) }

// pubsubChannels is PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the channels
// of a kind with at least one subscriber.
func pubsubChannels(c *Call, kind subKind) {
	pattern := ""
	if len(c.Args) > 2 {
		pattern = c.Arg(2)
	}
	c.d.hub.mu.RLock()
	var out []string
	for ch := range c.d.hub.hubTable(kind) {
		if pattern == "" || glob.Match(pattern, ch) {
			out = append(out, ch)
		}
	}
	c.d.hub.mu.RUnlock()
	sort.Strings(out)
	c.W.BulkStrings(out)
}

// pubsubNumsub is PUBSUB NUMSUB / SHARDNUMSUB [channel ...].
func pubsubNumsub(c *Call, kind subKind) {
	c.W.Array(2 * (len(c.Args) - 2))
	c.d.hub.mu.RLock()
	defer c.d.hub.mu.RUnlock()
	table := c.d.hub.hubTable(kind)
	for _, a := range c.Args[2:] {
		c.W.Bulk(a)
		c.W.Int(int64(len(table[string(a)])))
	}
}

func cmdPubsubNumpat(c *Call) {
	c.d.hub.mu.RLock()
	defer c.d.hub.mu.RUnlock()
	c.W.Int(int64(len(c.d.hub.patterns)))
}

func (h *Hub) channelCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.channels)
}

func (h *Hub) shardCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.shards)
}

func (h *Hub) patternCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.patterns)
}
