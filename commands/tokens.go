package commands

import (
	"fmt"
	"github.com/google/uuid"
	"strings"

	"github.com/sessiond/sessiond/engine"
)

// The TOK.* family: transition tokens (COMMANDS.md, "Tokens"; seed 002's
// TokenTables). Each command parses its arguments, runs exactly one engine
// transaction and writes its reply. A wrong state (unknown token, a bound
// token to acquire, someone else's token to transfer, an existing token to
// add, a session token that does not authenticate) is an ordinary answer: 0,
// null, -2 or an empty array. -ERR is for malformed calls only.
//
// Transition tokens are kept in clear in the data file (under the SHA-256 of
// the token): TOK.LIST returns tokens, and a transition token is a
// capability the application forms and hands around, not an authentication
// secret. Session tokens, which are, are still stored only as hashes.

func init() {
	t := func(sp *Spec) *Spec {
		sp.Group, sp.Since = "token", sinceNative
		return sp
	}
	register(
		t(&Spec{Name: "tok.new", Arity: -1, Flags: FlagFast | FlagBatch,
			Syntax:  "[PREFIX prefix] [UUID]",
			Summary: "Returns a fresh random token: the prefix followed by 256 random bits in base64url, or with UUID by a version 4 UUID (122 random bits, token-session's transition-token form). Nothing is stored; add it with TOK.ADD.",
			Example: "> TOK.NEW PREFIX tt_\n\"tt_Qm9xZ2ZnY3JhbmRvbWJ5dGVzMzJieXRlc2xvbmc\"\n> TOK.NEW PREFIX tt_ UUID\n\"tt_3f2b8c1e-9d4a-4b7e-8f21-6c0d5e9a7b13\"",
			Run:     cmdTokNew}),
		t(&Spec{Name: "tok.add", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast | FlagBatch,
			Syntax:  "token value [SESSION sesstoken] [OWNER id] [TRANSFERABLE] [TTL seconds]",
			Summary: "Adds a token with a value. With SESSION it is held by that session and owned by its owner (OWNER, if given too, must be that owner); without, it is a free token, owned by OWNER if given. Not TRANSFERABLE with a session: session-bound, it dies with the session. TRANSFERABLE: it outlives its session, becoming unassigned; one added with neither session nor owner starts unassigned. TTL is its own timeout (default token-default-ttl; 0 none). 1 added; 0 when the token exists, the session token is not valid, or OWNER is not the session's owner. The token is stored in clear (TOK.LIST returns it).",
			Example: "> TOK.ADD tt_Qm9x... '{\"order\":7}' SESSION Hk1x0... TRANSFERABLE TTL 86400\n(integer) 1\n> TOK.ADD tt_Qm9x... other\n(integer) 0",
			Run:     cmdTokAdd}),
		t(&Spec{Name: "tok.get", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "The token's value, or null when it does not exist (never added, destroyed, expired, or gone with its session).",
			Example: "> TOK.GET tt_Qm9x...\n\"{\\\"order\\\":7}\"\n> TOK.GET nope\n(nil)",
			Run:     cmdTokGet}),
		t(&Spec{Name: "tok.info", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "The token's state: owner session (a handle) transferable sellable price expires unassigned timeout disown_timeout. Empty strings for no owner, session or price; expires is the effective deadline in Unix ms (0 none); timeout is its own timeout and disown_timeout the wait it gets once unassigned, in ms (0 none). Null when it does not exist.",
			Example: "> TOK.INFO tt_Qm9x...\n1) \"owner\"\n2) \"user:42\"\n3) \"session\"\n4) \"q8fW2mJ0bYpT1sVxZ3cR9a\"\n5) \"transferable\"\n6) (integer) 1\n7) \"sellable\"\n8) (integer) 1\n9) \"price\"\n10) \"-12.50\"\n11) \"expires\"\n12) (integer) 1754086400000\n13) \"unassigned\"\n14) (integer) 0\n15) \"timeout\"\n16) (integer) 86400000\n17) \"disown_timeout\"\n18) (integer) 3600000",
			Run:     cmdTokInfo}),
		t(&Spec{Name: "tok.owner", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "The owner id of the token; null when it has none (free, or unassigned) or does not exist.",
			Example: "> TOK.OWNER tt_Qm9x...\n\"user:42\"",
			Run:     cmdTokOwner}),
		t(&Spec{Name: "tok.session", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "The handle of the session holding the token; null when none holds it or it does not exist.",
			Example: "> TOK.SESSION tt_Qm9x...\n\"q8fW2mJ0bYpT1sVxZ3cR9a\"",
			Run:     cmdTokSession}),
		t(&Spec{Name: "tok.acquire", Arity: 3, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token sesstoken",
			Summary: "Binds a transferable token that is unassigned, or sellable and held elsewhere, to the session and its owner; the sellable mark is cleared (the offer is taken). 1 done; 0 for a bound or free token, one held and not for sale, one this session already holds, or a session token that is not valid.",
			Example: "> TOK.ACQUIRE tt_Qm9x... Zr9...\n(integer) 1",
			Run:     cmdTokAcquire}),
		t(&Spec{Name: "tok.transfer", Arity: 4, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token from-owner to-owner",
			Summary: "Gives a transferable token owned by from-owner to to-owner, atomically: it leaves the session that held it (held by its owner alone, no session end disowns it) and its sellable mark is cleared. 1 done (from-owner = to-owner changes nothing); 0 when from-owner does not own it, it is not transferable, or to-owner is empty.",
			Example: "> TOK.TRANSFER tt_Qm9x... user:42 user:7\n(integer) 1\n> TOK.TRANSFER tt_Qm9x... user:42 user:9\n(integer) 0",
			Run:     cmdTokTransfer}),
		t(&Spec{Name: "tok.destroy", Arity: 2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "Deletes the token from every table. 1 destroyed, 0 not found.",
			Example: "> TOK.DESTROY tt_Qm9x...\n(integer) 1",
			Run:     cmdTokDestroy}),
		t(&Spec{Name: "tok.ttl", Arity: 2, Flags: FlagReadonly | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "Remaining ms of the token (its own timeout, or the end of its disown wait when unassigned, whichever is first); -1 when it never expires, -2 when it does not exist. A session-bound token also ends with its session, whatever this says.",
			Example: "> TOK.TTL tt_Qm9x...\n(integer) 86399512",
			Run:     cmdTokTTL}),
		t(&Spec{Name: "tok.expire", Arity: 3, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token seconds",
			Summary: "Sets the token's own timeout, counted from now; 0 for none. It may be longer than its session's: a session-bound token still dies with the session. 1 set, 0 not found.",
			Example: "> TOK.EXPIRE tt_Qm9x... 600\n(integer) 1",
			Run:     cmdTokExpire}),
		t(&Spec{Name: "tok.disowntimeout", Arity: 3, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token seconds",
			Summary: "Sets how long this transferable token waits unassigned for TOK.ACQUIRE before it expires, instead of token-disown-timeout; 0 for no limit. For a token already unassigned the wait counts from when it was disowned (one already over expires it). 1 set; 0 not found or not transferable.",
			Example: "> TOK.DISOWNTIMEOUT tt_Qm9x... 300\n(integer) 1",
			Run:     cmdTokDisownTimeout}),
		t(&Spec{Name: "tok.sellable", Arity: -2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token [amount]",
			Summary: "Marks a transferable token sellable, with an optional decimal amount (positive or negative: which way money flows is the application's business), kept exactly as given and returned by TOK.INFO. Replaces an earlier amount. 1 done; 0 not found or not transferable.",
			Example: "> TOK.SELLABLE tt_Qm9x... -12.50\n(integer) 1",
			Run:     cmdTokSellable}),
		t(&Spec{Name: "tok.unsellable", Arity: 2, Flags: FlagWrite | FlagFast | FlagBatch,
			Syntax:  "token",
			Summary: "Clears the sellable mark and its amount. 1 cleared, 0 not found or not sellable.",
			Example: "> TOK.UNSELLABLE tt_Qm9x...\n(integer) 1",
			Run:     cmdTokUnsellable}),
		t(&Spec{Name: "tok.list", Arity: -2, Flags: FlagReadonly | FlagBatch,
			Syntax:  "SESSION sesstoken | OWNER id | TRANSFERABLE sesstoken | SELLABLE | UNASSIGNED",
			Summary: "Tokens, sorted, each listing read from its own index (never a scan): held by a session (bound and transferable), owned by an owner, the transferable ones a session holds, every sellable token, every unassigned token. Empty when the session token is not valid.",
			Example: "> TOK.LIST SESSION Hk1x0...\n1) \"tt_Abc...\"\n2) \"tt_Qm9x...\"\n> TOK.LIST UNASSIGNED\n(empty array)",
			Run:     cmdTokList}),
	)
	addInfoSection("tokens", true, infoTokens)
	onNewDispatcher(func(d *Dispatcher) {
		d.Engine.SetTokenPolicy(func() engine.TokenPolicy {
			return engine.TokenPolicy{DisownTimeout: d.Config.Int("token-disown-timeout") * 1000}
		})
	})
}

func cmdTokNew(c *Call) {
	prefix, hasPrefix, asUUID := "", false, false
	for i := 1; i < len(c.Args); i++ {
		switch {
		case !asUUID && keyword(c.Args[i], "UUID"):
			asUUID = true
		case !hasPrefix && keyword(c.Args[i], "PREFIX") && i+1 < len(c.Args):
			prefix, hasPrefix = c.Arg(i+1), true
			i++
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	if asUUID {
		u, err := uuid.NewRandom()
		if err != nil {
			writeErr(c, fmt.Errorf("draw a UUID: %w", err))
			return
		}
		c.W.BulkString(prefix + u.String())
		return
	}
	c.W.BulkString(engine.FormatToken(prefix, randomToken(c)))
}

func cmdTokAdd(c *Call) {
	n := engine.NewTransitionToken{Token: c.Arg(1), Value: c.Arg(2),
		Timeout: c.d.Config.Int("token-default-ttl") * 1000}
	if n.Token == "" {
		c.W.Error(msgTokEmpty)
		return
	}
	sessToken, withSession := "", false
	for i := 3; i < len(c.Args); i++ {
		if keyword(c.Args[i], "TRANSFERABLE") {
			n.Transferable = true
			continue
		}
		if i+1 >= len(c.Args) {
			c.W.Error(msgSyntax)
			return
		}
		switch {
		case keyword(c.Args[i], "SESSION"):
			sessToken, withSession = c.Arg(i+1), true
		case keyword(c.Args[i], "OWNER"):
			n.Owner = c.Arg(i + 1)
		case keyword(c.Args[i], "TTL"):
			var ok bool
			if n.Timeout, ok = timeoutArg(c, i+1); !ok {
				return
			}
		default:
			c.W.Error(msgSyntax)
			return
		}
		i++
	}
	pol := sessPolicy(c)
	added := false
	_ = c.Write(func(tx *engine.Tx) error {
		if withSession {
			s, r := tx.AuthSession(sessToken, pol)
			if r != engine.ReasonOK {
				return nil
			}
			n.Session = &s
		}
		added = tx.AddTransitionToken(n)
		return nil
	})
	c.W.Int(b2i64(added))
}

// lookupTok reads one token in a read transaction.
func lookupTok(c *Call) (engine.TransitionToken, int64, bool) {
	var t engine.TransitionToken
	var wait int64
	ok := false
	_ = c.Read(func(tx *engine.Tx) error {
		if t, ok = tx.LookupTransitionToken(c.Arg(1)); ok {
			wait = tx.DisownWait(&t)
		}
		return nil
	})
	return t, wait, ok
}

func cmdTokGet(c *Call) {
	t, _, ok := lookupTok(c)
	if !ok {
		c.W.Null()
		return
	}
	c.W.BulkString(t.Value)
}

func cmdTokInfo(c *Call) {
	t, wait, ok := lookupTok(c)
	if !ok {
		c.W.Null()
		return
	}
	c.W.Map(9)
	c.W.BulkString("owner")
	c.W.BulkString(t.Owner)
	c.W.BulkString("session")
	c.W.BulkString(t.Session)
	c.W.BulkString("transferable")
	c.W.Int(b2i64(t.Transferable))
	c.W.BulkString("sellable")
	c.W.Int(b2i64(t.Sellable))
	c.W.BulkString("price")
	c.W.BulkString(t.Price)
	c.W.BulkString("expires")
	c.W.Int(t.Expires)
	c.W.BulkString("unassigned")
	c.W.Int(b2i64(t.Unassigned()))
	c.W.BulkString("timeout")
	c.W.Int(t.Timeout)
	c.W.BulkString("disown_timeout")
	if !t.Transferable {
		wait = 0
	}
	c.W.Int(wait)
}

func cmdTokOwner(c *Call) {
	t, _, ok := lookupTok(c)
	if !ok || t.Owner == "" {
		c.W.Null()
		return
	}
	c.W.BulkString(t.Owner)
}

func cmdTokSession(c *Call) {
	t, _, ok := lookupTok(c)
	if !ok || t.Session == "" {
		c.W.Null()
		return
	}
	c.W.BulkString(t.Session)
}

func cmdTokAcquire(c *Call) {
	pol := sessPolicy(c)
	done := false
	_ = c.Write(func(tx *engine.Tx) error {
		if s, r := tx.AuthSession(c.Arg(2), pol); r == engine.ReasonOK {
			done = tx.AcquireToken(c.Arg(1), s)
		}
		return nil
	})
	c.W.Int(b2i64(done))
}

// tokWrite runs one boolean token operation in a write transaction and
// replies 1 / 0.
func tokWrite(c *Call, op func(tx *engine.Tx) bool) {
	done := false
	_ = c.Write(func(tx *engine.Tx) error {
		done = op(tx)
		return nil
	})
	c.W.Int(b2i64(done))
}

func cmdTokTransfer(c *Call) {
	tokWrite(c, func(tx *engine.Tx) bool { return tx.TransferToken(c.Arg(1), c.Arg(2), c.Arg(3)) })
}

func cmdTokDestroy(c *Call) {
	tokWrite(c, func(tx *engine.Tx) bool { return tx.DestroyToken(c.Arg(1)) })
}

func cmdTokTTL(c *Call) {
	t, _, ok := lookupTok(c)
	if !ok {
		c.W.Int(-2)
		return
	}
	c.W.Int(t.Remaining(c.NowMS()))
}

func cmdTokExpire(c *Call) {
	ms, ok := timeoutArg(c, 2)
	if !ok {
		return
	}
	tokWrite(c, func(tx *engine.Tx) bool { return tx.ExpireToken(c.Arg(1), ms) })
}

func cmdTokDisownTimeout(c *Call) {
	ms, ok := timeoutArg(c, 2)
	if !ok {
		return
	}
	tokWrite(c, func(tx *engine.Tx) bool { return tx.SetDisownTimeout(c.Arg(1), ms) })
}

func cmdTokSellable(c *Call) {
	price := ""
	switch len(c.Args) {
	case 2:
	case 3:
		price = c.Arg(2)
		if !isDecimal(price) {
			c.W.Error(msgTokAmount)
			return
		}
	default:
		c.W.Error(msgSyntax)
		return
	}
	tokWrite(c, func(tx *engine.Tx) bool { return tx.SetTokenSellable(c.Arg(1), price) })
}

// isDecimal accepts an optional sign and digits with an optional fraction
// ("12", "-0.5", "+3.", ".25"): an amount, not a float (no exponent, inf, nan).
func isDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits++
		case s[i] == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

func cmdTokUnsellable(c *Call) {
	tokWrite(c, func(tx *engine.Tx) bool { return tx.UnsetTokenSellable(c.Arg(1)) })
}

func cmdTokList(c *Call) {
	var list func(tx *engine.Tx) []string
	pol := sessPolicy(c)
	bySession := func(transferableOnly bool) func(tx *engine.Tx) []string {
		return func(tx *engine.Tx) []string {
			s, r := tx.AuthSession(c.Arg(2), pol)
			if r != engine.ReasonOK {
				return nil
			}
			return tx.SessionTokens(s.Handle, transferableOnly)
		}
	}
	switch {
	case len(c.Args) == 3 && keyword(c.Args[1], "SESSION"):
		list = bySession(false)
	case len(c.Args) == 3 && keyword(c.Args[1], "TRANSFERABLE"):
		list = bySession(true)
	case len(c.Args) == 3 && keyword(c.Args[1], "OWNER"):
		list = func(tx *engine.Tx) []string { return tx.OwnerTokens(c.Arg(2)) }
	case len(c.Args) == 2 && keyword(c.Args[1], "SELLABLE"):
		list = func(tx *engine.Tx) []string { return tx.SellableTokens() }
	case len(c.Args) == 2 && keyword(c.Args[1], "UNASSIGNED"):
		list = func(tx *engine.Tx) []string { return tx.UnassignedTokens() }
	default:
		c.W.Error(msgSyntax)
		return
	}
	var out []string
	_ = c.Read(func(tx *engine.Tx) error {
		out = list(tx)
		return nil
	})
	c.W.BulkStrings(out)
}

func infoTokens(c *Call, b *strings.Builder) {
	d := c.d
	var n engine.TokenCounts
	_ = c.Read(func(tx *engine.Tx) error {
		n = tx.TokenCounts()
		return nil
	})
	st := d.Engine.TokenStats()
	fmt.Fprintf(b, "tokens_live:%d\r\ntokens_bound:%d\r\ntokens_transferable:%d\r\ntokens_unassigned:%d\r\ntokens_sellable:%d\r\n",
		n.Live, n.Bound, n.Transferable, n.Unassigned, n.Sellable)
	fmt.Fprintf(b, "tokens_added:%d\r\ntokens_acquired:%d\r\ntokens_transferred:%d\r\ntokens_disowned:%d\r\ntokens_expired:%d\r\ntokens_destroyed:%d\r\ntokens_ended_with_session:%d\r\n",
		st.Added.Load(), st.Acquired.Load(), st.Transferred.Load(), st.Disowned.Load(), st.Expired.Load(), st.Destroyed.Load(), st.EndedWithSession.Load())
}
