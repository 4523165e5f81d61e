package engine

import (
	"encoding/binary"
	"strconv"
	"testing"

	"github.com/sessiond/sessiond/persistence"
)

// Micro-benchmarks of the engine's hot operations: one transaction per
// operation, as a command runs, over a store already holding benchKeys
// records so that the B-trees have a realistic depth. The store is in memory
// (no data file), so the figures are the engine's own CPU.
//
//	go test -run XXX -bench . -benchmem ./engine/

const benchKeys = 100_000

func openBench(b *testing.B) *Engine {
	b.Helper()
	st, err := persistence.Open(persistence.Options{})
	if err != nil {
		b.Fatal(err)
	}
	e, err := Open(Options{Store: st, Clock: frozen})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close(); st.Close() })
	return e
}

func benchKey(i int) string { return "key:" + strconv.Itoa(i) }

var benchValue = string(filler64())

func filler64() []byte {
	b := make([]byte, 64)
	for i := range b {
		b[i] = 'a' + byte(i%23)
	}
	return b
}

func prefillPlain(b *testing.B, e *Engine, n int, deadline int64) {
	b.Helper()
	for i := 0; i < n; i += 1000 {
		if _, err := e.Update(t0, func(tx *Tx) error {
			for j := i; j < i+1000 && j < n; j++ {
				tx.PutString(0, benchKey(j), benchValue, deadline)
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// SET key value EX 3600 over existing keys (the set-p16 scenario).
func BenchmarkSetEX(b *testing.B) {
	e := openBench(b)
	prefillPlain(b, e, benchKeys, t0+3600_000)
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = benchKey(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := t0 + int64(i/1000)
		k := keys[(i*7919)%benchKeys]
		_, _ = e.Update(now, func(tx *Tx) error {
			_, err := tx.Set(0, k, benchValue, SetOptions{Deadline: now + 3600_000})
			return err
		})
	}
}

// SET key value (no deadline) over existing keys.
func BenchmarkSetPlain(b *testing.B) {
	e := openBench(b)
	prefillPlain(b, e, benchKeys, 0)
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = benchKey(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[(i*7919)%benchKeys]
		_, _ = e.Update(t0, func(tx *Tx) error {
			_, err := tx.Set(0, k, benchValue, SetOptions{})
			return err
		})
	}
}

// GET of existing keys (with deadlines, as the get-p16 scenario's prefill).
func BenchmarkGet(b *testing.B) {
	e := openBench(b)
	prefillPlain(b, e, benchKeys, t0+3600_000)
	keys := make([]string, benchKeys)
	for i := range keys {
		keys[i] = benchKey(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[(i*7919)%benchKeys]
		_ = e.View(t0, func(tx *Tx) error {
			_, ok, err := tx.GetString(0, k)
			if !ok || err != nil {
				b.Fatal("missing")
			}
			return nil
		})
	}
}

// benchHandle and benchToken are deterministic, distinct per i.
func benchHandle(i int) string {
	var r [HandleBytes]byte
	binary.BigEndian.PutUint64(r[:], uint64(i)*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint64(r[8:], uint64(i))
	return FormatHandle(r)
}

func benchRaw(i, salt int) (r [TokenBytes]byte) {
	binary.BigEndian.PutUint64(r[:], uint64(i)*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint64(r[8:], uint64(i))
	binary.BigEndian.PutUint64(r[16:], uint64(salt))
	r[31] = 0x5A
	return
}

func benchToken(i int) string { return FormatToken("", benchRaw(i, 0)) }

var benchData = string(filler64()) + string(filler64())

func benchNewSession(i int, owner string) NewSession {
	return NewSession{Handle: benchHandle(i), Token: benchToken(i), Owner: owner,
		Data: benchData, Idle: 3600_000, Absolute: 86400_000}
}

func prefillSessions(b *testing.B, e *Engine, n int, owners int) []string {
	b.Helper()
	toks := make([]string, n)
	for i := 0; i < n; i += 500 {
		if _, err := e.Update(t0, func(tx *Tx) error {
			for j := i; j < i+500 && j < n; j++ {
				ns := benchNewSession(j, "owner:"+strconv.Itoa(j%owners))
				if _, err := tx.CreateSession(ns); err != nil {
					return err
				}
				toks[j] = ns.Token
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	return toks
}

// SESS.NEW OWNER o DATA d IDLE 3600 ABSOLUTE 86400.
func BenchmarkSessNew(b *testing.B) {
	e := openBench(b)
	prefillSessions(b, e, benchKeys, benchKeys/3)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ns := benchNewSession(benchKeys+i, "new:"+strconv.Itoa(i/3))
		_, err := e.Update(t0, func(tx *Tx) error {
			_, err := tx.CreateSession(ns)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func benchSessOp(b *testing.B, op func(tx *Tx, tok string) Reason) {
	e := openBench(b)
	toks := prefillSessions(b, e, benchKeys, benchKeys/3)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := t0 + 1 + int64(i/1000)
		tok := toks[(i*7919)%benchKeys]
		_, _ = e.Update(now, func(tx *Tx) error {
			if r := op(tx, tok); r != ReasonOK {
				b.Fatalf("%v", r)
			}
			return nil
		})
	}
}

// SESS.GET token (touching).
func BenchmarkSessGet(b *testing.B) {
	benchSessOp(b, func(tx *Tx, tok string) Reason {
		_, r := tx.SessionGet(tok, true, pol)
		return r
	})
}

// SESS.GET token NOTOUCH (a read transaction).
func BenchmarkSessGetNoTouch(b *testing.B) {
	e := openBench(b)
	toks := prefillSessions(b, e, benchKeys, benchKeys/3)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok := toks[(i*7919)%benchKeys]
		_ = e.View(t0+1, func(tx *Tx) error {
			if _, r := tx.SessionGet(tok, false, pol); r != ReasonOK {
				b.Fatalf("%v", r)
			}
			return nil
		})
	}
}

// SESS.TOUCH token.
func BenchmarkSessTouch(b *testing.B) {
	benchSessOp(b, func(tx *Tx, tok string) Reason {
		_, r := tx.SessionTouch(tok, Keep, pol)
		return r
	})
}

// SESS.VALIDATE token nonce NOROTATE.
func BenchmarkSessValidateNoRotate(b *testing.B) {
	e := openBench(b)
	toks := prefillSessions(b, e, benchKeys, benchKeys/3)
	nonces := make([]uint64, benchKeys)
	for i := range nonces {
		nonces[i] = 1
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := t0 + 1 + int64(i/1000)
		j := (i * 7919) % benchKeys
		_, _ = e.Update(now, func(tx *Tx) error {
			r, err := tx.SessionValidate(toks[j], nonces[j], false, [TokenBytes]byte{}, pol)
			if err != nil || r.Reason != ReasonOK {
				b.Fatalf("%v %v", r.Reason, err)
			}
			nonces[j] = r.Nonce
			return nil
		})
	}
}

// SESS.VALIDATE token nonce (rotating: the bench scenario).
func BenchmarkSessValidate(b *testing.B) {
	e := openBench(b)
	toks := prefillSessions(b, e, benchKeys, benchKeys/3)
	nonces := make([]uint64, benchKeys)
	for i := range nonces {
		nonces[i] = 1
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := t0 + 1 + int64(i/1000)
		j := (i * 7919) % benchKeys
		_, _ = e.Update(now, func(tx *Tx) error {
			r, err := tx.SessionValidate(toks[j], nonces[j], true, benchRaw(j, i+1), pol)
			if err != nil || r.Reason != ReasonOK {
				b.Fatalf("%v %v", r.Reason, err)
			}
			toks[j], nonces[j] = r.Token, r.Nonce
			return nil
		})
	}
}

// SESS.REVOKE OWNER o, owners of 3 sessions (the bench scenario). The figure
// is per owner (3 sessions).
func BenchmarkSessRevokeOwner(b *testing.B) {
	e := openBench(b)
	const per = 3
	n := max(b.N*per, 3000)
	prefillSessions(b, e, n, n/per)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		owner := "owner:" + strconv.Itoa(i%(n/per))
		_, _ = e.Update(t0+1, func(tx *Tx) error {
			tx.RevokeOwner(owner, "")
			return nil
		})
	}
}

// Expiry of sessions by the active expirer, per session.
func BenchmarkSessExpire(b *testing.B) {
	e := openBench(b)
	n := max(b.N, 1000)
	prefillSessions(b, e, n, n/3)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < n; {
		c, _ := e.expireBatch(t0+86400_001, 128, 0)
		if c == 0 {
			break
		}
		done += c
	}
}
