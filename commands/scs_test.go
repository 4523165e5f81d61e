package commands_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessiond/sessiond/internal/testserver"
)

// alexedwards/scs redisstore, replayed as its redigo connection sends it:
// Commit pipelines MULTI, SET, PEXPIREAT and EXEC; Find is GET; Delete is
// DEL; All is KEYS then GET.
func TestScsRedisstore(t *testing.T) {
	s := testserver.Start(t)
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			c := dialRaw(t, s)
			c.send("hello", proto)
			c.read()
			c.send("flushall")
			c.read()
			const prefix = "scs:session:"
			token := "Vu0Ydx5y9ttl3N6kEVnx1Lzcnqf8w3GXmNLV0XVOrQ0"
			blob := "\x0e\xff\x81\x03\x01\x02\xff\x82\x00\x01\x02\x01\x08Deadline"
			commit := func(tok string, expiry time.Time) {
				// redigo: Send MULTI, Send SET, Send PEXPIREAT, Do EXEC - one pipeline.
				c.send("MULTI")
				c.send("SET", prefix+tok, blob)
				c.send("PEXPIREAT", prefix+tok, fmt.Sprint(expiry.UnixMilli()))
				c.send("EXEC")
				expect(t, c, "OK", "QUEUED", "QUEUED", "[OK 1]")
			}
			commit(token, time.Now().Add(24*time.Hour))
			c.send("GET", prefix+token)
			expect(t, c, blob)
			c.send("PTTL", prefix+token)
			if ttl := c.read(); len(ttl) < 8 {
				t.Fatalf("pttl %s", ttl)
			}
			// A renewed token (RenewToken) commits the new one and deletes the old.
			commit("second", time.Now().Add(time.Hour))
			c.send("KEYS", prefix+"*")
			expect(t, c, "[scs:session:Vu0Ydx5y9ttl3N6kEVnx1Lzcnqf8w3GXmNLV0XVOrQ0 scs:session:second]")
			c.send("DEL", prefix+token)
			expect(t, c, "1")
			c.send("GET", prefix+token)
			expect(t, c, "nil")
			// An expiry in the past makes the key disappear at once.
			commit("old", time.Now().Add(-time.Second))
			c.send("EXISTS", prefix+"old")
			expect(t, c, "0")
			_ = s.Client(2).Ping(context.Background())
		})
	}
}
