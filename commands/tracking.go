package commands

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/resp"
)

// Client-side caching: CLIENT TRACKING, CLIENT CACHING, CLIENT GETREDIR and
// CLIENT TRACKINGINFO, as Redis 6+ does it. In the default mode the server
// remembers, per key name (whatever the database, as Redis), which clients
// read it; the first write to the key sends each of them one invalidation
// and forgets them. In BCAST mode a client names prefixes and hears of
// every write to a key under one of them (one message per prefix and
// commit). Invalidations go to the client itself as a RESP3 push
// (">2 invalidate [keys]") or, with REDIRECT, to another connection: a
// RESP3 push, or a message on __redis__:invalidate to a RESP2 subscriber. A
// flush sends a null invalidation. Native sessions are tracked under their
// own key names (sessionTrackingKey).

const trackingChannel = "__redis__:invalidate"

// tracker is one client's tracking mode.
type tracker struct {
	cl                   *Client
	bcast, optin, optout bool
	noloop               bool
	redirect             int64
	prefixes             []string
	caching              int // CLIENT CACHING for the next command: 0 none, 1 yes, 2 no
	brokenRedir          bool
}

// trackingRegistry is the server's tracking table.
type trackingRegistry struct {
	mu       sync.Mutex
	clients  map[int64]*tracker
	keys     map[string]map[int64]struct{} // key name -> clients that read it
	prefixes map[string]map[int64]struct{} // BCAST prefix -> clients
	// sessTokens: session handle -> the tokens SESS.GET read it by, each
	// also a key of keys.
	sessTokens map[string]map[string]struct{}
	items      int            // sum of the sizes of keys' sets
	active     atomic.Bool    // any client tracking
	engine     *engine.Engine // told whether touched keys are needed
}

func init() {
	registerSubcommands("client",
		&Spec{Name: "tracking", Arity: -3, Flags: FlagNoScript | FlagLoading | FlagStale, Syntax: "ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]",
			Summary: "Controls server-assisted client-side caching for the connection.", Example: "> CLIENT TRACKING ON\nOK", Run: cmdClientTracking},
		&Spec{Name: "caching", Arity: 3, Flags: FlagNoScript | FlagLoading | FlagStale, Syntax: "YES|NO",
			Summary: "Instructs the server whether to track the keys in the next request.", Example: "> CLIENT CACHING YES\nOK", Run: cmdClientCaching},
		&Spec{Name: "getredir", Arity: 2, Flags: FlagNoScript | FlagLoading | FlagStale,
			Summary: "Returns the client ID to which the connection's tracking notifications are redirected.", Example: "> CLIENT GETREDIR\n(integer) -1", Run: cmdClientGetredir},
		&Spec{Name: "trackinginfo", Arity: 2, Flags: FlagNoScript | FlagLoading | FlagStale,
			Summary: "Returns information about server-assisted client-side caching for the connection.", Example: "> CLIENT TRACKINGINFO\n1) \"flags\"\n2) 1) \"off\"\n...", Run: cmdClientTrackinginfo},
	)
	onNewDispatcher(func(d *Dispatcher) {
		t := &d.tracking
		t.clients = map[int64]*tracker{}
		t.keys = map[string]map[int64]struct{}{}
		t.prefixes = map[string]map[int64]struct{}{}
		t.sessTokens = map[string]map[string]struct{}{}
		t.engine = d.Engine
		d.Config.Follow(d.trackingEvict, "tracking-table-max-keys")
	})
}

func cmdClientTracking(c *Call) {
	var on bool
	switch {
	case keyword(c.Args[2], "ON"):
		on = true
	case keyword(c.Args[2], "OFF"):
	default:
		c.W.Error(msgSyntax)
		return
	}
	opt := tracker{cl: c.Client}
	for i := 3; i < len(c.Args); i++ {
		more := i+1 < len(c.Args)
		switch {
		case keyword(c.Args[i], "REDIRECT") && more:
			if opt.redirect != 0 {
				c.W.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			if id != c.Client.ID {
				c.d.clientsMu.RLock()
				_, exists := c.d.clients[id]
				c.d.clientsMu.RUnlock()
				if !exists {
					c.W.Error("ERR The client ID you want redirect to does not exist")
					return
				}
			}
			opt.redirect = id
			i++
		case keyword(c.Args[i], "BCAST"):
			opt.bcast = true
		case keyword(c.Args[i], "OPTIN"):
			opt.optin = true
		case keyword(c.Args[i], "OPTOUT"):
			opt.optout = true
		case keyword(c.Args[i], "NOLOOP"):
			opt.noloop = true
		case keyword(c.Args[i], "PREFIX") && more:
			opt.prefixes = append(opt.prefixes, c.Arg(i+1))
			i++
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	t := &c.d.tracking
	if !on {
		t.disable(c.Client.ID)
		c.W.OK()
		return
	}
	if len(opt.prefixes) > 0 && !opt.bcast {
		c.W.Error("ERR PREFIX option requires BCAST mode to be enabled")
		return
	}
	if opt.optin && opt.optout {
		c.W.Error("ERR You can't use both OPTIN and OPTOUT")
		return
	}
	if opt.bcast && (opt.optin || opt.optout) {
		c.W.Error("ERR OPTIN and OPTOUT are not compatible with BCAST")
		return
	}
	if msg := t.enable(&opt); msg != "" {
		c.W.Error(msg)
		return
	}
	c.W.OK()
}

// enable turns tracking on for opt.cl (or changes its options), or returns
// an error reply.
func (t *trackingRegistry) enable(opt *tracker) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := opt.cl.ID
	old := t.clients[id]
	if old != nil {
		if old.bcast != opt.bcast {
			return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
		}
		if (old.optin && opt.optout) || (old.optout && opt.optin) {
			return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
		}
	}
	if opt.bcast {
		if len(opt.prefixes) == 0 {
			opt.prefixes = []string{""}
		}
		var have []string
		if old != nil {
			have = old.prefixes
		}
		// Prefixes of one client must not overlap (new against existing,
		// and the new ones among themselves).
		for i, p := range opt.prefixes {
			for _, q := range append(append([]string{}, have...), opt.prefixes[i+1:]...) {
				if p != q && (strings.HasPrefix(p, q) || strings.HasPrefix(q, p)) {
					return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + q + "'. Prefixes for a single client must not overlap."
				}
			}
		}
		for _, p := range have {
			if !contains(opt.prefixes, p) {
				opt.prefixes = append(opt.prefixes, p)
			}
		}
		for _, p := range opt.prefixes {
			set := t.prefixes[p]
			if set == nil {
				set = map[int64]struct{}{}
				t.prefixes[p] = set
			}
			set[id] = struct{}{}
		}
	}
	t.clients[id] = opt
	t.active.Store(true)
	t.engine.TrackKeys(true)
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// disable turns tracking off for client id. Keys it read stay in the table
// (as in Redis); they are skipped when invalidated.
func (t *trackingRegistry) disable(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.clients[id]
	if tr == nil {
		return
	}
	for _, p := range tr.prefixes {
		if set := t.prefixes[p]; set != nil {
			delete(set, id)
			if len(set) == 0 {
				delete(t.prefixes, p)
			}
		}
	}
	delete(t.clients, id)
	if len(t.clients) == 0 {
		t.active.Store(false)
		t.engine.TrackKeys(false)
	}
}

func cmdClientCaching(c *Call) {
	t := &c.d.tracking
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := t.clients[c.Client.ID]
	if tr == nil || (!tr.optin && !tr.optout) {
		c.W.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case keyword(c.Args[2], "YES"):
		if !tr.optin {
			c.W.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
		tr.caching = 1
	case keyword(c.Args[2], "NO"):
		if !tr.optout {
			c.W.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
		tr.caching = 2
	default:
		c.W.Error(msgSyntax)
		return
	}
	c.W.OK()
}

func cmdClientGetredir(c *Call) {
	t := &c.d.tracking
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr := t.clients[c.Client.ID]; tr != nil {
		c.W.Int(tr.redirect)
		return
	}
	c.W.Int(-1)
}

func cmdClientTrackinginfo(c *Call) {
	t := &c.d.tracking
	t.mu.Lock()
	tr := t.clients[c.Client.ID]
	var flags, prefixes []string
	redirect := int64(-1)
	if tr == nil {
		flags = []string{"off"}
	} else {
		flags = []string{"on"}
		for _, f := range []struct {
			on   bool
			name string
		}{{tr.bcast, "bcast"}, {tr.optin, "optin"}, {tr.optout, "optout"}, {tr.caching == 1, "caching-yes"},
			{tr.caching == 2, "caching-no"}, {tr.noloop, "noloop"}, {tr.brokenRedir, "broken_redirect"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		redirect = tr.redirect
		prefixes = append(prefixes, tr.prefixes...)
	}
	t.mu.Unlock()
	w := c.W
	w.Map(3)
	w.BulkString("flags")
	w.Set(len(flags))
	for _, f := range flags {
		w.BulkString(f)
	}
	w.BulkString("redirect")
	w.Int(redirect)
	w.BulkString("prefixes")
	w.BulkStrings(prefixes)
}

// trackingAfter runs after each command of a tracking client: it remembers
// the keys a read command read (as OPTIN/OPTOUT allow) and clears a CLIENT
// CACHING given for this command.
func (d *Dispatcher) trackingAfter(cl *Client, spec *Spec, args [][]byte) {
	t := &d.tracking
	if !t.active.Load() || cl.scriptCaller {
		return
	}
	t.mu.Lock()
	tr := t.clients[cl.ID]
	if tr == nil {
		t.mu.Unlock()
		return
	}
	caching := tr.caching
	if spec.FullName() != "client|caching" && !cl.multi.active {
		tr.caching = 0
	}
	track := !tr.bcast && spec.Flags&FlagReadonly != 0 && spec.Flags&FlagNoScript == 0 &&
		(!tr.optin || caching == 1) && (!tr.optout || caching != 2)
	if track {
		for _, p := range spec.keyPositions(args) {
			t.rememberLocked(cl.ID, string(args[p]))
		}
	}
	t.mu.Unlock()
	if track {
		d.trackingEvict()
	}
}

// trackingRemember records that client cl read keys (a script that called a
// read command tracks its declared keys, as Redis does).
func (d *Dispatcher) trackingRemember(cl *Client, keys []string) {
	t := &d.tracking
	if !t.active.Load() {
		return
	}
	t.mu.Lock()
	tr := t.clients[cl.ID]
	if tr == nil || tr.bcast || (tr.optin && tr.caching != 1) || (tr.optout && tr.caching == 2) {
		t.mu.Unlock()
		return
	}
	for _, k := range keys {
		t.rememberLocked(cl.ID, k)
	}
	t.mu.Unlock()
	d.trackingEvict()
}

// trackingRememberSession records that cl read the session of token by
// SESS.GET. The tracked key name is the token itself: what the client's
// cache keys the reply by. Any change of the session (its data set, its
// end, rotation, regeneration, detach, attach) invalidates every token it
// was read by. A token that was not valid (handle "") is tracked too; only
// a flush or the table's limit invalidates it.
func (d *Dispatcher) trackingRememberSession(cl *Client, token, handle string) {
	t := &d.tracking
	t.mu.Lock()
	tr := t.clients[cl.ID]
	caching := 0
	if tr != nil {
		caching = tr.caching
		if !cl.multi.active {
			tr.caching = 0
		}
	}
	if tr == nil || tr.bcast || (tr.optin && caching != 1) || (tr.optout && caching == 2) {
		t.mu.Unlock()
		return
	}
	t.rememberLocked(cl.ID, token)
	if handle != "" {
		set := t.sessTokens[handle]
		if set == nil {
			set = map[string]struct{}{}
			t.sessTokens[handle] = set
		}
		set[token] = struct{}{}
	}
	t.mu.Unlock()
	d.trackingEvict()
}

func (t *trackingRegistry) rememberLocked(id int64, key string) {
	set := t.keys[key]
	if set == nil {
		set = map[int64]struct{}{}
		t.keys[key] = set
	}
	if _, ok := set[id]; !ok {
		set[id] = struct{}{}
		t.items++
	}
}

// trackingEvict invalidates keys of the table beyond tracking-table-max-keys
// (0: no limit), as Redis does to bound the table.
func (d *Dispatcher) trackingEvict() {
	max := d.Config.Int("tracking-table-max-keys")
	t := &d.tracking
	if max <= 0 {
		return
	}
	t.mu.Lock()
	var out []invalidation
	for k := range t.keys {
		if len(t.keys) <= int(max) {
			break
		}
		out = t.invalidateKeyLocked(out, k, 0)
	}
	t.mu.Unlock()
	d.sendInvalidations(out, nil)
}

// invalidation is one message to send: keys (nil with flush: a flush).
type invalidation struct {
	tr    *tracker
	keys  []string
	flush bool
}

// invalidateKeyLocked queues the invalidation of key for the clients that
// read it (except a NOLOOP writer) and forgets them.
func (t *trackingRegistry) invalidateKeyLocked(out []invalidation, key string, by int64) []invalidation {
	set := t.keys[key]
	if set == nil {
		return out
	}
	for id := range set {
		tr := t.clients[id]
		if tr == nil || tr.bcast || (tr.noloop && id == by) {
			continue
		}
		out = append(out, invalidation{tr: tr, keys: []string{key}})
	}
	t.items -= len(set)
	delete(t.keys, key)
	return out
}

// trackingInvalidate handles a commit: the keys it wrote, and flushes.
func (d *Dispatcher) trackingInvalidate(c engine.Commit) { d.trackingInvalidateBefore(c, nil) }

// trackingInvalidateBefore is trackingInvalidate for keys changed before
// current's command runs (eviction): what current itself is to be told goes
// into its reply stream ahead of that command's reply, not after it.
func (d *Dispatcher) trackingInvalidateBefore(c engine.Commit, current *Client) {
	t := &d.tracking
	// A flush empties the table even with nobody tracking now (keys read
	// by clients that turned tracking off stay until then, as in Redis).
	if len(c.Flushed) == 0 && (!t.active.Load() || len(c.Touched) == 0) {
		return
	}
	t.mu.Lock()
	var out []invalidation
	type bkey struct {
		id     int64
		prefix string
	}
	var bcast map[bkey]*invalidation
	var border []bkey
	for i, k := range c.Touched {
		var by int64
		if i < len(c.TouchedBy) {
			by = c.TouchedBy[i]
		}
		if k.DB == engine.TouchedSessionDB {
			for token := range t.sessTokens[k.Key] {
				out = t.invalidateKeyLocked(out, token, by)
			}
			delete(t.sessTokens, k.Key)
			continue
		}
		out = t.invalidateKeyLocked(out, k.Key, by)
		for p, set := range t.prefixes {
			if !strings.HasPrefix(k.Key, p) {
				continue
			}
			for id := range set {
				tr := t.clients[id]
				if tr == nil || (tr.noloop && id == by) {
					continue
				}
				if bcast == nil {
					bcast = map[bkey]*invalidation{}
				}
				bk := bkey{id, p}
				inv := bcast[bk]
				if inv == nil {
					inv = &invalidation{tr: tr}
					bcast[bk] = inv
					border = append(border, bk)
				}
				inv.keys = append(inv.keys, k.Key)
			}
		}
	}
	if len(c.Flushed) > 0 {
		for _, tr := range t.clients {
			out = append(out, invalidation{tr: tr, flush: true})
		}
		t.keys = map[string]map[int64]struct{}{}
		t.sessTokens = map[string]map[string]struct{}{}
		t.items = 0
	}
	sort.SliceStable(border, func(i, j int) bool { return border[i].prefix < border[j].prefix })
	for _, bk := range border {
		out = append(out, *bcast[bk])
	}
	t.mu.Unlock()
	d.sendInvalidations(out, current)
}

// sendInvalidations delivers invalidation messages (Redis'
// sendTrackingMessage): to the redirect target if there is one (a broken
// redirect is reported to a RESP3 client once per message), else to the
// client itself when it speaks RESP3. A message to current (see
// trackingInvalidateBefore) is written into its reply stream.
func (d *Dispatcher) sendInvalidations(list []invalidation, current *Client) {
	for _, inv := range list {
		tr := inv.tr
		target := tr.cl
		redirected := false
		if tr.redirect != 0 && tr.redirect != tr.cl.ID {
			d.clientsMu.RLock()
			target = d.clients[tr.redirect]
			d.clientsMu.RUnlock()
			if target == nil {
				d.tracking.mu.Lock()
				tr.brokenRedir = true
				d.tracking.mu.Unlock()
				if clientProto(tr.cl) == 3 {
					w := resp.NewWriter(3)
					w.Push(2)
					w.BulkString("tracking-redir-broken")
					w.Int(tr.redirect)
					tr.cl.Conn.Push(w.Bytes())
				}
				continue
			}
			redirected = true
		}
		proto := clientProto(target)
		w := resp.NewWriter(proto)
		switch {
		case proto == 3:
			w.Push(2)
			w.BulkString("invalidate")
		case redirected && target.subs.count() > 0:
			w.Array(3)
			w.BulkString("message")
			w.BulkString(trackingChannel)
		default:
			continue // a RESP2 client not listening: nowhere to send
		}
		if inv.flush {
			w.Null()
		} else {
			w.BulkStrings(inv.keys)
		}
		if target == current && current.replyMode == replyOn {
			current.W.Raw(w.Bytes())
			continue
		}
		target.Conn.Push(w.Bytes())
	}
}

// clientProto is cl's protocol, read without its command lock.
func clientProto(cl *Client) int {
	if p := cl.subs.proto.Load(); p == 3 {
		return 3
	}
	return 2
}

// trackingForget drops a disconnected client's tracking.
func (d *Dispatcher) trackingForget(cl *Client) { d.tracking.disable(cl.ID) }

// trackingStats are INFO's tracking_* figures.
func (d *Dispatcher) trackingStats() (clients, keys, items, prefixes int) {
	t := &d.tracking
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.clients), len(t.keys), t.items, len(t.prefixes)
}
