package replication_test

import (
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// The sequential specification of one session under SESS.NEW,
// SESS.VALIDATE (with rotation) and SESS.TTL, as docs/sessions.md states it:
//
//   - validating the current token with the current nonce rotates: the
//     answer is a token never seen before and the nonce + 1;
//   - the current token with another nonce answers `nonce`;
//   - a rotated-out token within session-rotate-grace of its rotation
//     answers, for the nonce it had, the same successor again (whatever
//     happened since), and `nonce` for any other nonce;
//   - after the grace it is a replay: `replayed`, and the session is revoked
//     (session-replay-revoke yes): its current token answers `revoked`, every
//     older one `unknown`;
//   - a token never issued answers `unknown`;
//   - SESS.TTL (a read) says valid exactly when a validate would not fail,
//     and never revokes.
//
// Grace depends on time, which the model does not see directly: every
// input carries its call time and every output its return time, and the
// rotation's call and return are kept with the rotated-out token. The
// server stamps a write with one clock reading taken between call and
// return (all processes share one machine's clock), so "within the grace"
// is possible only when call <= rotation return + grace, and "after the
// grace" only when return > rotation call + grace (give or take sessSlack
// for the millisecond rounding). Both conditions are necessary, never
// sufficient, so the model stays sound; it still rejects a replay answered
// long before the grace could have passed, or a successor served long after.
// (A lost reply's operation is bounded only by its call: the model may
// assume it took effect late, past the grace, even where the operations
// linearized after it returned earlier. That only makes it more permissive.)

const (
	opNew = iota
	opValidate
	opTTL
)

// sessSlack covers the server's millisecond clock against the test's
// nanosecond one.
const sessSlack = int64(5e6)

// sessRemembered is how many rotated-out tokens a session remembers (older
// ones answer `unknown`); the model allows `unknown` a little earlier.
const sessRemembered = 250

type sessInput struct {
	handle string // the session (partition key)
	kind   int
	token  string
	nonce  uint64
	call   int64
}

type sessOutput struct {
	unknown bool   // the reply was lost: the operation may or may not have happened
	ok      bool   // validate succeeded
	token   string // validate: the next token; new: the token
	nonce   uint64 // validate / new: the next nonce
	reason  string // validate failed
	valid   bool   // TTL: the token is valid
	ret     int64  // return time (math.MaxInt64 when unknown)
}

// sessLink is one token of the session's chain; the last is the current one.
type sessLink struct {
	token           string // "" = issued by a validate whose reply was lost, not seen yet
	nonce           uint64
	rotCall, rotRet int64 // the rotation that retired this token (0 for the current one)
}

// sessState is immutable: steps copy.
type sessState struct {
	created bool
	ended   bool // revoked (by a replay)
	chain   []sessLink
}

func (s sessState) find(tok string) int {
	if tok == "" {
		return -1
	}
	for i, l := range s.chain {
		if l.token == tok {
			return i
		}
	}
	return -1
}

func (s sessState) clone() sessState {
	c := s
	c.chain = append([]sessLink(nil), s.chain...)
	return c
}

// rotate retires the current token (rotated by an operation called at call,
// returned at ret) in favour of tok.
func (s sessState) rotate(tok string, nonce uint64, call, ret int64) sessState {
	c := s.clone()
	last := len(c.chain) - 1
	c.chain[last].rotCall, c.chain[last].rotRet = call, ret
	c.chain = append(c.chain, sessLink{token: tok, nonce: nonce})
	return c
}

func (s sessState) end() sessState {
	c := s.clone()
	c.ended = true
	return c
}

// withinGrace: the rotated-out link l can still have been within its grace
// for an operation called at call.
func withinGrace(l sessLink, call, grace int64) bool {
	return l.rotRet == math.MaxInt64 || call-sessSlack <= l.rotRet+grace
}

// pastGrace: the grace of l can have passed before an operation returning
// at ret.
func pastGrace(l sessLink, ret, grace int64) bool {
	return ret == math.MaxInt64 || ret+sessSlack > l.rotCall+grace
}

func sessValidateStep(s sessState, in sessInput, out sessOutput, grace int64) []interface{} {
	var next []interface{}
	if out.unknown {
		// It may not have happened (or happened without changing anything).
		next = append(next, s)
	}
	i := s.find(in.token)
	last := len(s.chain) - 1
	if s.ended {
		switch {
		case out.unknown:
		case i == last && out.reason == "revoked":
			next = append(next, s)
		case i != last && out.reason == "unknown":
			next = append(next, s)
		}
		return next
	}
	if i < 0 {
		if out.reason == "unknown" {
			next = append(next, s)
		}
		return next
	}
	if i == last {
		switch {
		case in.nonce != s.chain[last].nonce:
			if out.reason == "nonce" {
				next = append(next, s)
			}
		case out.unknown:
			next = append(next, s.rotate("", in.nonce+1, in.call, math.MaxInt64))
		case out.ok && out.nonce == in.nonce+1 && out.token != "" && s.find(out.token) < 0:
			next = append(next, s.rotate(out.token, out.nonce, in.call, out.ret))
		}
		return next
	}
	l := s.chain[i]
	if last-i > sessRemembered && out.reason == "unknown" {
		next = append(next, s)
	}
	if withinGrace(l, in.call, grace) {
		succ := s.chain[i+1]
		switch {
		case in.nonce != l.nonce:
			if out.reason == "nonce" {
				next = append(next, s)
			}
		case !out.ok:
		case out.nonce != in.nonce+1:
		case succ.token == out.token:
			next = append(next, s)
		case succ.token == "" && out.token != "" && s.find(out.token) < 0:
			// The successor issued by a lost reply, now seen.
			c := s.clone()
			c.chain[i+1].token = out.token
			next = append(next, c)
		}
	}
	if pastGrace(l, out.ret, grace) && (out.unknown || out.reason == "replayed") {
		next = append(next, s.end())
	}
	return next
}

func sessTTLStep(s sessState, in sessInput, out sessOutput, grace int64) bool {
	i := s.find(in.token)
	last := len(s.chain) - 1
	switch {
	case s.ended || i < 0:
		return !out.valid
	case i == last:
		return out.valid
	}
	l := s.chain[i]
	if out.valid {
		return withinGrace(l, in.call, grace)
	}
	return last-i > sessRemembered || pastGrace(l, out.ret, grace)
}

// sessionModel is the model above for a grace of grace nanoseconds,
// partitioned by session.
func sessionModel(grace int64) porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition: partitionBy(func(in interface{}) string { return in.(sessInput).handle }),
		Init:      func() []interface{} { return []interface{}{sessState{}} },
		Step: func(state, input, output interface{}) []interface{} {
			s, in, out := state.(sessState), input.(sessInput), output.(sessOutput)
			if in.kind == opNew {
				if s.created || out.unknown {
					return nil
				}
				return []interface{}{sessState{created: true, chain: []sessLink{{token: out.token, nonce: out.nonce}}}}
			}
			if !s.created {
				return nil
			}
			if in.kind == opTTL {
				if sessTTLStep(s, in, out, grace) {
					return []interface{}{s}
				}
				return nil
			}
			return sessValidateStep(s, in, out, grace)
		},
		Equal: func(a, b interface{}) bool {
			x, y := a.(sessState), b.(sessState)
			if x.created != y.created || x.ended != y.ended || len(x.chain) != len(y.chain) {
				return false
			}
			for i := range x.chain {
				if x.chain[i] != y.chain[i] {
					return false
				}
			}
			return true
		},
		Hash: func(a interface{}) uint64 {
			s := a.(sessState)
			h := fnv.New64a()
			fmt.Fprint(h, s.created, s.ended, len(s.chain))
			if n := len(s.chain); n > 0 {
				fmt.Fprint(h, s.chain[n-1].token)
			}
			return h.Sum64()
		},
		DescribeOperation: func(input, output interface{}) string {
			in, out := input.(sessInput), output.(sessOutput)
			res := "?"
			switch {
			case out.unknown:
			case in.kind == opTTL:
				res = fmt.Sprint(out.valid)
			case out.ok || in.kind == opNew:
				res = fmt.Sprintf("%s/%d", short(out.token), out.nonce)
			default:
				res = out.reason
			}
			switch in.kind {
			case opNew:
				return "new -> " + res
			case opTTL:
				return fmt.Sprintf("ttl(%s) -> %s", short(in.token), res)
			}
			return fmt.Sprintf("validate(%s, %d) -> %s", short(in.token), in.nonce, res)
		},
		DescribeState: func(state interface{}) string {
			s := state.(sessState)
			var b strings.Builder
			for _, l := range s.chain {
				fmt.Fprintf(&b, "%s/%d ", short(l.token), l.nonce)
			}
			if s.ended {
				b.WriteString("(revoked)")
			}
			return b.String()
		},
	}
	return nm.ToModel()
}

func short(tok string) string {
	if len(tok) > 6 {
		return tok[:6]
	}
	if tok == "" {
		return "?"
	}
	return tok
}

// sessHist builds hand-made histories for the model's own tests: times in
// milliseconds, grace 1000 ms.
type sessHist struct{ ops []porcupine.Operation }

const ms = int64(time.Millisecond)

func (h *sessHist) add(client int, in sessInput, out sessOutput, call, ret int64) {
	in.call = call * ms
	out.ret = ret * ms
	if ret < 0 {
		out.unknown, out.ret = true, math.MaxInt64
	}
	in.handle = "h"
	r := out.ret
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Output: out, Call: in.call, Return: r})
}

func (h *sessHist) newSess(call, ret int64) {
	h.add(0, sessInput{kind: opNew}, sessOutput{token: "T1", nonce: 1}, call, ret)
}

func (h *sessHist) validate(client int, tok string, nonce uint64, out sessOutput, call, ret int64) {
	h.add(client, sessInput{kind: opValidate, token: tok, nonce: nonce}, out, call, ret)
}

func (h *sessHist) ttl(client int, tok string, valid bool, call, ret int64) {
	h.add(client, sessInput{kind: opTTL, token: tok}, sessOutput{valid: valid}, call, ret)
}

func rotated(tok string, nonce uint64) sessOutput {
	return sessOutput{ok: true, token: tok, nonce: nonce}
}
func failed(reason string) sessOutput { return sessOutput{reason: reason} }

// TestSessionModel checks the model on small hand-made histories, each
// either linearizable or not, so the check over recorded histories is known
// to reject what it should.
func TestSessionModel(t *testing.T) {
	grace := 1000 * ms
	cases := []struct {
		name string
		ok   bool
		hist func(h *sessHist)
	}{
		{"rotation then a repeat within the grace gets the same successor", true, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(2, "T1", 1, rotated("T2", 2), 30, 40)
			h.validate(2, "T2", 2, rotated("T3", 3), 50, 60)
			h.ttl(1, "T1", true, 70, 80)
			h.ttl(1, "T3", true, 70, 80)
		}},
		{"a repeat within the grace forks the session", false, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(2, "T1", 1, rotated("T9", 2), 30, 40)
		}},
		{"two rotations with the same nonce", false, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(2, "T2", 1, rotated("T3", 2), 30, 40)
		}},
		{"concurrent validations: either order", true, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 2, failed("nonce"), 10, 40)
			h.validate(2, "T1", 1, rotated("T3", 2), 15, 30)
			h.validate(3, "T1", 1, rotated("T3", 2), 12, 35)
		}},
		{"the current token with an old nonce", true, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(1, "T2", 1, failed("nonce"), 30, 40)
			h.validate(1, "T1", 2, failed("nonce"), 50, 60)
		}},
		{"a replay after the grace revokes", true, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(2, "T1", 1, failed("replayed"), 1100, 1110)
			h.validate(1, "T2", 2, failed("revoked"), 1200, 1210)
			h.validate(2, "T1", 1, failed("unknown"), 1300, 1310)
			h.ttl(1, "T2", false, 1400, 1410)
		}},
		{"a replay long before the grace can have passed", false, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(2, "T1", 1, failed("replayed"), 500, 510)
		}},
		{"a successor served long after the grace", false, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(2, "T1", 1, rotated("T2", 2), 1500, 1510)
		}},
		{"a revoked session read as alive (a stale follower read)", false, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(2, "T1", 1, failed("replayed"), 1100, 1110)
			h.ttl(3, "T2", true, 1120, 1130)
		}},
		{"a stale read of the rotated-out token past the grace", false, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.ttl(3, "T1", true, 1200, 1210)
		}},
		{"revoked session keeps rotating", false, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(2, "T1", 1, failed("replayed"), 1100, 1110)
			h.validate(1, "T2", 2, rotated("T3", 3), 1200, 1210)
		}},
		{"a lost rotation whose successor is seen later through a repeat", true, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, sessOutput{}, 10, -1)
			h.validate(2, "T1", 2, failed("nonce"), 100, 110)
			h.validate(2, "T1", 1, rotated("T2", 2), 120, 130)
			h.validate(2, "T2", 2, rotated("T3", 3), 140, 150)
		}},
		{"a lost rotation that never happened", true, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, sessOutput{}, 10, -1)
			h.validate(2, "T1", 1, rotated("T2", 2), 100, 110)
			h.validate(2, "T2", 2, rotated("T3", 3), 120, 130)
		}},
		{"a lost rotation cannot explain a nonce jump of two", false, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, sessOutput{}, 10, -1)
			h.validate(2, "T1", 1, rotated("T2", 3), 100, 110)
		}},
		{"a lost replay revoked the session", true, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T1", 1, rotated("T2", 2), 10, 20)
			h.validate(2, "T1", 1, sessOutput{}, 1100, -1)
			h.validate(1, "T2", 2, failed("revoked"), 1200, 1210)
		}},
		{"a token never issued", false, func(h *sessHist) {
			h.newSess(0, 1)
			h.validate(1, "T7", 1, failed("nonce"), 10, 20)
		}},
	}
	m := sessionModel(grace)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h sessHist
			tc.hist(&h)
			got := porcupine.CheckOperationsTimeout(m, h.ops, 10*time.Second)
			want := porcupine.Illegal
			if tc.ok {
				want = porcupine.Ok
			}
			if got != want {
				t.Fatalf("porcupine says %v, want %v", got, want)
			}
		})
	}
}
