package engine

import "testing"

// SESS.TOUCH where each session is touched once a minute or so (every touch
// of a session lands at a later time than the previous one): the case an
// index ordered by last use would pay on every request. The last-use index
// is lazy and pays nothing here; compare with BenchmarkSessTouch.
func BenchmarkSessTouchLater(b *testing.B) {
	e := openBench(b)
	toks := prefillSessions(b, e, benchKeys, benchKeys/3)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := t0 + 1 + int64(i/benchKeys+1)*61_000
		tok := toks[(i*7919)%benchKeys]
		_, _ = e.Update(now, func(tx *Tx) error {
			if _, r := tx.SessionTouch(tok, Keep, pol); r != ReasonOK {
				b.Fatalf("%v", r)
			}
			return nil
		})
	}
}
