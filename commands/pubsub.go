package commands

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

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
}

type subscriptions struct {
	mu       sync.Mutex
	channels map[string]struct{}
	patterns map[string]struct{}
	shards   map[string]struct{} // SSUBSCRIBE (pubsubshard.go)
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
	return &Hub{d: d, channels: map[string]map[*Client]struct{}{}, patterns: map[string]map[*Client]struct{}{}}
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

func (h *Hub) subscribe(cl *Client, pattern bool, name string) int {
	cl.subs.proto.Store(int32(cl.Proto()))
	h.mu.Lock()
	m := h.channels
	if pattern {
		m = h.patterns
	}
	set := m[name]
	if set == nil {
		set = map[*Client]struct{}{}
		m[name] = set
	}
	set[cl] = struct{}{}
	h.mu.Unlock()
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	if pattern {
		if cl.subs.patterns == nil {
			cl.subs.patterns = map[string]struct{}{}
		}
		cl.subs.patterns[name] = struct{}{}
	} else {
		if cl.subs.channels == nil {
			cl.subs.channels = map[string]struct{}{}
		}
		cl.subs.channels[name] = struct{}{}
	}
	return len(cl.subs.channels) + len(cl.subs.patterns)
}

// unsubscribe removes one subscription; it returns whether it existed and the
// client's remaining count.
func (h *Hub) unsubscribe(cl *Client, pattern bool, name string) (bool, int) {
	h.mu.Lock()
	m := h.channels
	if pattern {
		m = h.patterns
	}
	if set := m[name]; set != nil {
		delete(set, cl)
		if len(set) == 0 {
			delete(m, name)
		}
	}
	h.mu.Unlock()
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	own := cl.subs.channels
	if pattern {
		own = cl.subs.patterns
	}
	_, had := own[name]
	delete(own, name)
	return had, len(cl.subs.channels) + len(cl.subs.patterns)
}

func (h *Hub) list(cl *Client, pattern bool) []string {
	cl.subs.mu.Lock()
	defer cl.subs.mu.Unlock()
	src := cl.subs.channels
	if pattern {
		src = cl.subs.patterns
	}
	out := make([]string, 0, len(src))
	for k := range src {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (h *Hub) unsubscribeAll(cl *Client) {
	for _, ch := range h.list(cl, false) {
		h.unsubscribe(cl, false, ch)
	}
	for _, p := range h.list(cl, true) {
		h.unsubscribe(cl, true, p)
	}
	h.d.shards.unsubscribeAll(cl)
}

func init() {
	register(
		&Spec{Name: "subscribe", Arity: -2, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "2.0.0",
			Syntax: "channel [channel ...]", Summary: "Listens for messages published to channels.", Example: "> SUBSCRIBE __sessions__\n1) \"subscribe\"\n2) \"__sessions__\"\n3) (integer) 1", Run: cmdSubscribe},
		&Spec{Name: "psubscribe", Arity: -2, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "2.0.0",
			Syntax: "pattern [pattern ...]", Summary: "Listens for messages published to channels that match one or more patterns.", Example: "> PSUBSCRIBE __keyevent@0__:*\n1) \"psubscribe\"\n2) \"__keyevent@0__:*\"\n3) (integer) 1", Run: cmdPsubscribe},
		&Spec{Name: "unsubscribe", Arity: -1, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "2.0.0",
			Syntax: "[channel [channel ...]]", Summary: "Stops listening to messages posted to channels.", Example: "> UNSUBSCRIBE\n1) \"unsubscribe\"\n2) (nil)\n3) (integer) 0", Run: cmdUnsubscribe},
		&Spec{Name: "punsubscribe", Arity: -1, Flags: FlagPubSub | FlagNoScript | FlagLoading | FlagStale, Group: "pubsub", Since: "2.0.0",
			Syntax: "[pattern [pattern ...]]", Summary: "Stops listening to messages published to channels that match one or more patterns.", Example: "> PUNSUBSCRIBE\n1) \"punsubscribe\"\n2) (nil)\n3) (integer) 0", Run: cmdPunsubscribe},
		&Spec{Name: "publish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast, Group: "pubsub", Since: "2.0.0",
			Syntax: "channel message", Summary: "Posts a message to a channel.", Example: "> PUBLISH news hello\n(integer) 1", Run: cmdPublish},
		&Spec{Name: "pubsub", Arity: -2, Group: "pubsub", Since: "2.8.0", Summary: "A container for Pub/Sub commands.",
			Subcommands: []*Spec{
				{Name: "channels", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Syntax: "[pattern]", Summary: "Returns the active channels.", Example: "> PUBSUB CHANNELS\n1) \"news\"", Run: cmdPubsubChannels},
				{Name: "numsub", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Syntax: "[channel [channel ...]]", Summary: "Returns a count of subscribers to channels.", Example: "> PUBSUB NUMSUB news\n1) \"news\"\n2) (integer) 1", Run: cmdPubsubNumsub},
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

func cmdSubscribe(c *Call) {
	if c.Client.multi.active {
		c.W.Error(msgNotInMulti)
		return
	}
	for _, a := range c.Args[1:] {
		name := string(a)
		n := c.d.hub.subscribe(c.Client, false, name)
		subReply(c, "subscribe", &name, n)
	}
}

func cmdPsubscribe(c *Call) {
	if c.Client.multi.active {
		c.W.Error(msgNotInMulti)
		return
	}
	for _, a := range c.Args[1:] {
		name := string(a)
		n := c.d.hub.subscribe(c.Client, true, name)
		subReply(c, "psubscribe", &name, n)
	}
}

func unsubscribeCmd(c *Call, pattern bool, kind string) {
	names := make([]string, 0, len(c.Args)-1)
	for _, a := range c.Args[1:] {
		names = append(names, string(a))
	}
	if len(names) == 0 {
		names = c.d.hub.list(c.Client, pattern)
		if len(names) == 0 {
			subReply(c, kind, nil, c.Client.subs.count())
			return
		}
	}
	for _, name := range names {
		name := name
		_, n := c.d.hub.unsubscribe(c.Client, pattern, name)
		subReply(c, kind, &name, n)
	}
}

func cmdUnsubscribe(c *Call)  { unsubscribeCmd(c, false, "unsubscribe") }
func cmdPunsubscribe(c *Call) { unsubscribeCmd(c, true, "punsubscribe") }

func cmdPublish(c *Call) {
	c.W.Int(int64(c.d.hub.Publish(c.Arg(1), c.Arg(2))))
}

func cmdPubsubChannels(c *Call) {
	pattern := ""
	if len(c.Args) > 2 {
		pattern = c.Arg(2)
	}
	c.d.hub.mu.RLock()
	var out []string
	for ch := range c.d.hub.channels {
		if pattern == "" || glob.Match(pattern, ch) {
			out = append(out, ch)
		}
	}
	c.d.hub.mu.RUnlock()
	sort.Strings(out)
	c.W.BulkStrings(out)
}

func cmdPubsubNumsub(c *Call) {
	c.W.Array(2 * (len(c.Args) - 2))
	c.d.hub.mu.RLock()
	defer c.d.hub.mu.RUnlock()
	for _, a := range c.Args[2:] {
		c.W.Bulk(a)
		c.W.Int(int64(len(c.d.hub.channels[string(a)])))
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

func (h *Hub) patternCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.patterns)
}
