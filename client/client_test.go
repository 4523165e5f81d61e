package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/client"
	"github.com/sessiond/sessiond/internal/testserver"
)

// clients runs fn with a go-redis client of each kind the package supports,
// in RESP2 and RESP3: *redis.Client, the UniversalClient a program gets from
// redis.NewUniversalClient, and a failover client that finds the server
// through a real Redis Sentinel (redis-server --sentinel) monitoring it.
func clients(t *testing.T, srv *testserver.Server, fn func(t *testing.T, c *client.Client, rdb redis.UniversalClient)) {
	sentinel := startSentinel(t, srv)
	for _, proto := range []int{2, 3} {
		for _, kind := range []string{"Client", "UniversalClient", "FailoverClient"} {
			t.Run(fmt.Sprintf("%s/RESP%d", kind, proto), func(t *testing.T) {
				var rdb redis.UniversalClient
				switch kind {
				case "Client":
					rdb = srv.Client(proto)
				case "UniversalClient":
					rdb = redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{srv.Addr}, Protocol: proto})
				case "FailoverClient":
					if sentinel == "" {
						t.Skip("redis-server (for redis-server --sentinel) is not installed")
					}
					rdb = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "sessiond", SentinelAddrs: []string{sentinel}, Protocol: proto})
				}
				t.Cleanup(func() { rdb.Close() })
				if err := rdb.FlushAll(context.Background()).Err(); err != nil {
					t.Fatal(err)
				}
				fn(t, client.New(rdb), rdb)
			})
		}
	}
}

// startSentinel runs a Redis Sentinel monitoring srv as master "sessiond"
// and returns its address, or "" when redis-server is not installed (a
// failure instead when SESSIOND_REQUIRE_SENTINEL is set, as in ./test.sh).
func startSentinel(t *testing.T, srv *testserver.Server) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("SESSIOND_REQUIRE_SENTINEL") != "" {
			t.Fatal("redis-server is not installed (apt-get install redis-server)")
		}
		return ""
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	host, srvPort, _ := net.SplitHostPort(srv.Addr)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor sessiond %s %s 1\n", port, dir, host, srvPort)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := s.GetMasterAddrByName(context.Background(), "sessiond").Result()
		if err == nil && len(got) == 2 && got[1] == srvPort {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("sentinel on %s does not name sessiond as master: %v %v", addr, got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// must(call())(t) is call's value, failing the test on its error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantReason(t *testing.T, what string, err error, want client.Reason) {
	t.Helper()
	if !errors.Is(err, client.ErrInvalid) || client.ReasonOf(err) != want {
		t.Errorf("%s: got %v, want a failure with reason %q", what, err, want)
	}
}

func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, client.ErrInvalid) {
		t.Errorf("%s: got %v, want ErrInvalid", what, err)
	}
}

func TestSessions(t *testing.T) {
	srv := testserver.Start(t)
	ctx := context.Background()
	clients(t, srv, func(t *testing.T, c *client.Client, _ redis.UniversalClient) {
		s := must(c.NewSession(ctx, client.NewOptions{Owner: "user:42", Data: `{"cart":3}`, Idle: 30 * time.Minute,
			Detachable: true, Meta: map[string]string{"ua": "curl", "ip": "127.0.0.1"}}))(t)
		if s.Nonce != 1 || s.Idle != 30*time.Minute || s.Absolute != 24*time.Hour || len(s.Token) < 40 || s.Handle == "" {
			t.Fatalf("NewSession: %+v", s)
		}
		if until := time.Until(s.Expires); until <= 0 || until > 30*time.Minute {
			t.Errorf("NewSession expires in %v", until)
		}
		if d := must(c.Get(ctx, s.Token))(t); d != `{"cart":3}` {
			t.Errorf("Get: %q", d)
		}
		_, err := c.Get(ctx, "nope")
		wantInvalid(t, "Get(nope)", err)

		info := must(c.Info(ctx, s.Token))(t)
		want := client.SessionInfo{Handle: s.Handle, Owner: "user:42", Nonce: 1, Created: info.Created, LastSeen: info.LastSeen,
			Expires: info.Expires, Idle: 30 * time.Minute, Absolute: 24 * time.Hour, Detachable: true,
			Meta: map[string]string{"ua": "curl", "ip": "127.0.0.1"}}
		if !reflect.DeepEqual(info, want) || info.Created.IsZero() {
			t.Errorf("Info:\n got %+v\nwant %+v", info, want)
		}
		if byHandle := must(c.InfoByHandle(ctx, s.Handle))(t); !reflect.DeepEqual(byHandle, info) {
			t.Errorf("InfoByHandle: %+v", byHandle)
		}
		_, err = c.Info(ctx, "nope")
		wantInvalid(t, "Info(nope)", err)

		if err := c.Set(ctx, s.Token, `{"cart":4}`, client.SetOptions{Idle: 10 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		wantInvalid(t, "Set(nope)", c.Set(ctx, "nope", "x", client.SetOptions{}))
		if d := must(c.GetNoTouch(ctx, s.Token))(t); d != `{"cart":4}` {
			t.Errorf("GetNoTouch: %q", d)
		}
		if left := must(c.Touch(ctx, s.Token, 0))(t); left <= 9*time.Minute || left > 10*time.Minute {
			t.Errorf("Touch: %v", left)
		}
		_, err = c.Touch(ctx, "nope", 0)
		wantInvalid(t, "Touch(nope)", err)
		if left := must(c.TTL(ctx, s.Token))(t); left <= 0 {
			t.Errorf("TTL: %v", left)
		}
		if ok := must(c.Active(ctx, s.Token, "user:42"))(t); !ok {
			t.Error("Active(owner) false")
		}
		if ok := must(c.Active(ctx, s.Token, "user:7"))(t); ok {
			t.Error("Active(other owner) true")
		}
		if err := c.ExpireIdle(ctx, s.Token, 15*time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := must(c.Info(ctx, s.Token))(t).Idle; got != 15*time.Minute {
			t.Errorf("ExpireIdle: idle %v", got)
		}
		wantInvalid(t, "ExpireAbsolute(nope)", c.ExpireAbsolute(ctx, "nope", time.Hour))

		v := must(c.Validate(ctx, s.Token, 1))(t)
		if v.Nonce != 2 || v.Token == s.Token {
			t.Errorf("Validate: %+v", v)
		}
		again := must(c.Validate(ctx, s.Token, 1))(t)
		if again.Token != v.Token || again.Nonce != v.Nonce {
			t.Errorf("Validate within the grace: %+v, want the same successor %+v", again, v)
		}
		_, err = c.Validate(ctx, v.Token, 9)
		wantReason(t, "Validate(wrong nonce)", err, client.ReasonNonce)
		_, err = c.Validate(ctx, "nope", 1)
		wantReason(t, "Validate(nope)", err, client.ReasonUnknown)
		kept := must(c.ValidateNoRotate(ctx, v.Token, 2))(t)
		if kept.Token != v.Token || kept.Nonce != 3 {
			t.Errorf("ValidateNoRotate: %+v", kept)
		}
		g := must(c.Regenerate(ctx, kept.Token))(t)
		if g.Token == kept.Token {
			t.Error("Regenerate kept the token")
		}
		if ok := must(c.Active(ctx, kept.Token, ""))(t); ok {
			t.Error("the token before Regenerate still works")
		}
		_, err = c.Regenerate(ctx, "nope")
		wantInvalid(t, "Regenerate(nope)", err)

		// detach / attach
		if err := c.AllowDetach(ctx, g.Token); err != nil {
			t.Fatal(err)
		}
		if err := c.Detach(ctx, g.Token); err != nil {
			t.Fatal(err)
		}
		_, err = c.Validate(ctx, g.Token, g.Nonce)
		wantReason(t, "Validate(detached)", err, client.ReasonDetached)
		if hs := must(c.Detached(ctx, "user:42"))(t); !slices.Equal(hs, []string{s.Handle}) {
			t.Errorf("Detached: %v", hs)
		}
		if hs := must(c.Detached(ctx, ""))(t); !slices.Equal(hs, []string{s.Handle}) {
			t.Errorf("Detached(all): %v", hs)
		}
		at := must(c.Attach(ctx, s.Handle, "user:42"))(t)
		_, err = c.Attach(ctx, s.Handle, "user:42")
		wantInvalid(t, "Attach(attached)", err)

		// listing, counting, revoking
		other := must(c.NewSession(ctx, client.NewOptions{Owner: "user:42"}))(t)
		list := must(c.List(ctx, "user:42"))(t)
		// newest first; two sessions made in one millisecond may come in either order
		byHandle := map[string]client.SessionInfo{}
		for _, info := range list {
			byHandle[info.Handle] = info
		}
		if len(list) != 2 || byHandle[other.Handle].Owner != "user:42" || byHandle[s.Handle].Meta["ua"] != "curl" {
			t.Errorf("List: %+v", list)
		}
		if n := must(c.Count(ctx, "user:42"))(t); n != 2 {
			t.Errorf("Count(owner) %d", n)
		}
		if n := must(c.Count(ctx, ""))(t); n != 2 {
			t.Errorf("Count() %d", n)
		}
		if n := must(c.RevokeOwner(ctx, "user:42", at.Token))(t); n != 1 {
			t.Errorf("RevokeOwner except: %d", n)
		}
		_, err = c.Validate(ctx, other.Token, 1)
		wantReason(t, "Validate(revoked)", err, client.ReasonRevoked)
		third := must(c.NewSession(ctx, client.NewOptions{}))(t)
		if ok := must(c.RevokeHandle(ctx, third.Handle))(t); !ok {
			t.Error("RevokeHandle false")
		}
		if ok := must(c.DestroyHandle(ctx, s.Handle))(t); !ok {
			t.Error("DestroyHandle false")
		}
		if ok := must(c.Destroy(ctx, at.Token))(t); ok {
			t.Error("Destroy after DestroyHandle true")
		}

		// the application's own token, and -ERR as an error that is not ErrInvalid
		own := "app-token-0123456789abcdefghijkl"
		if n := must(c.NewSession(ctx, client.NewOptions{Token: own, Idle: client.NoExpiry, Absolute: client.NoExpiry}))(t); n.Token != own {
			t.Errorf("NewSession(Token): %+v", n)
		}
		if left := must(c.TTL(ctx, own))(t); left != client.NoExpiry {
			t.Errorf("TTL of a session without timeouts: %v", left)
		}
		_, err = c.NewSession(ctx, client.NewOptions{Token: own})
		wantInvalid(t, "NewSession(token in use)", err)
		_, err = c.NewSession(ctx, client.NewOptions{Token: "short"})
		if err == nil || errors.Is(err, client.ErrInvalid) {
			t.Errorf("NewSession(short token): %v, want the server's error", err)
		}
	})
}

func TestJWT(t *testing.T) {
	srv := testserver.Start(t)
	ctx := context.Background()
	clients(t, srv, func(t *testing.T, c *client.Client, _ redis.UniversalClient) {
		s := must(c.NewSession(ctx, client.NewOptions{Owner: "user:42"}))(t)
		p := must(c.JWT(ctx, s.Token, client.JWTOptions{Claims: map[string]any{"role": "admin"}, TTL: 5 * time.Minute, Audience: "app"}))(t)
		if p.JWT == "" || p.Refresh == "" || time.Until(p.Expires) > 5*time.Minute+time.Second {
			t.Fatalf("JWT: %+v", p)
		}
		cl := must(c.Verify(ctx, p.JWT, "app"))(t)
		if cl.Subject != "user:42" || cl.Session != s.Handle || cl.Issuer != "sessiond" || cl.ExpiresAt != p.Expires.Unix() {
			t.Errorf("Verify: %+v", cl)
		}
		var mine struct{ Role string }
		if err := cl.Decode(&mine); err != nil || mine.Role != "admin" {
			t.Errorf("Decode: %+v %v", mine, err)
		}
		_, err := c.Verify(ctx, p.JWT, "other")
		wantReason(t, "Verify(wrong audience)", err, client.ReasonClaims)
		_, err = c.Verify(ctx, "garbage", "")
		wantReason(t, "Verify(garbage)", err, client.ReasonSignature)
		r := must(c.Refresh(ctx, p.Refresh))(t)
		if r.Refresh == p.Refresh {
			t.Error("Refresh returned the same refresh token")
		}
		_, err = c.JWT(ctx, "nope", client.JWTOptions{})
		wantReason(t, "JWT(nope)", err, client.ReasonUnknown)
		_, err = c.Refresh(ctx, "nope")
		wantReason(t, "Refresh(nope)", err, client.ReasonUnknown)
		if _, err := c.JWT(ctx, s.Token, client.JWTOptions{Claims: map[string]any{"sub": "x"}}); err == nil || errors.Is(err, client.ErrInvalid) {
			t.Errorf("JWT with a reserved claim: %v", err)
		}
		if jwks := must(c.JWKS(ctx))(t); len(jwks) < 20 || jwks[0] != '{' {
			t.Errorf("JWKS: %q", jwks)
		}
		if kid := must(c.RotateKey(ctx))(t); kid == "" {
			t.Error("RotateKey: empty kid")
		}
		if _, err := c.Verify(ctx, r.JWT, "app"); err != nil {
			t.Errorf("Verify after RotateKey: %v", err)
		}
		must(c.Destroy(ctx, s.Token))(t)
		_, err = c.Verify(ctx, r.JWT, "app")
		wantReason(t, "Verify(after destroy)", err, client.ReasonUnknown)
	})
}

func TestTokens(t *testing.T) {
	srv := testserver.Start(t)
	ctx := context.Background()
	clients(t, srv, func(t *testing.T, c *client.Client, _ redis.UniversalClient) {
		s := must(c.NewSession(ctx, client.NewOptions{Owner: "user:42"}))(t)
		tok := must(c.NewToken(ctx, "tt_"))(t)
		if len(tok) < 40 || tok[:3] != "tt_" {
			t.Fatalf("NewToken: %q", tok)
		}
		if ok := must(c.AddToken(ctx, tok, `{"order":7}`, client.TokenOptions{Session: s.Token, Transferable: true, TTL: 10 * time.Minute}))(t); !ok {
			t.Fatal("AddToken false")
		}
		if ok := must(c.AddToken(ctx, tok, "again", client.TokenOptions{}))(t); ok {
			t.Error("AddToken of an existing token true")
		}
		if v := must(c.GetToken(ctx, tok))(t); v != `{"order":7}` {
			t.Errorf("GetToken: %q", v)
		}
		_, err := c.GetToken(ctx, "nope")
		wantInvalid(t, "GetToken(nope)", err)
		if err := c.SellToken(ctx, tok, "-12.50"); err != nil {
			t.Fatal(err)
		}
		info := must(c.TokenInfo(ctx, tok))(t)
		want := client.TokenInfo{Owner: "user:42", Session: s.Handle, Transferable: true, Sellable: true, Price: "-12.50",
			Expires: info.Expires, Timeout: 10 * time.Minute, DisownTimeout: time.Hour}
		if !reflect.DeepEqual(info, want) || info.Expires.IsZero() {
			t.Errorf("TokenInfo:\n got %+v\nwant %+v", info, want)
		}
		_, err = c.TokenInfo(ctx, "nope")
		wantInvalid(t, "TokenInfo(nope)", err)
		if o := must(c.TokenOwner(ctx, tok))(t); o != "user:42" {
			t.Errorf("TokenOwner %q", o)
		}
		if h := must(c.TokenSession(ctx, tok))(t); h != s.Handle {
			t.Errorf("TokenSession %q", h)
		}
		for name, got := range map[string][]string{
			"session":      must(c.TokensOfSession(ctx, s.Token))(t),
			"owner":        must(c.TokensOfOwner(ctx, "user:42"))(t),
			"transferable": must(c.TransferableTokens(ctx, s.Token))(t),
			"sellable":     must(c.SellableTokens(ctx))(t),
		} {
			if !slices.Equal(got, []string{tok}) {
				t.Errorf("TOK.LIST %s: %v", name, got)
			}
		}
		if err := c.UnsellToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		wantInvalid(t, "UnsellToken(not sellable)", c.UnsellToken(ctx, tok))
		if err := c.ExpireToken(ctx, tok, 20*time.Minute); err != nil {
			t.Fatal(err)
		}
		if left := must(c.TokenTTL(ctx, tok))(t); left <= 10*time.Minute {
			t.Errorf("TokenTTL after ExpireToken: %v", left)
		}
		if err := c.DisownTimeout(ctx, tok, time.Minute); err != nil {
			t.Fatal(err)
		}
		if ok := must(c.TransferToken(ctx, tok, "user:42", "user:7"))(t); !ok {
			t.Error("TransferToken false")
		}
		free := must(c.NewToken(ctx, ""))(t)
		must(c.AddToken(ctx, free, "v", client.TokenOptions{Transferable: true}))(t)
		if got := must(c.UnassignedTokens(ctx))(t); !slices.Equal(got, []string{free}) {
			t.Errorf("UnassignedTokens: %v", got)
		}
		if ok := must(c.AcquireToken(ctx, free, s.Token))(t); !ok {
			t.Error("AcquireToken false")
		}
		if ok := must(c.DestroyToken(ctx, free))(t); !ok {
			t.Error("DestroyToken false")
		}
		_, err = c.TokenTTL(ctx, free)
		wantInvalid(t, "TokenTTL(destroyed)", err)
	})
}
