package commands_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/google/uuid"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/internal/testserver"
)

// SESS.JWT / REFRESH / VERIFY / JWKS / ROTATEKEY over a real socket. Tokens
// are checked against the server (SESS.VERIFY) and, independently, with
// go-jose (a second JOSE implementation) using the key from SESS.JWKS.

var jctx = context.Background()

const (
	jwtFields  = "jwt refresh expires"
	jwtFail    = "ok reason"
	jwtOK      = "ok claims"
	testSecret = "0123456789abcdef0123456789abcdef-test-secret"
)

func jDo(t testing.TB, c *redis.Client, args ...any) any {
	t.Helper()
	v, err := c.Do(jctx, args...).Result()
	if err != nil && err != redis.Nil {
		t.Fatalf("%v: %v", jArgs(args), err)
	}
	return v
}

// jArgs shortens long tokens in failure messages.
func jArgs(args []any) string {
	var b strings.Builder
	for i, a := range args {
		s := fmt.Sprint(a)
		if len(s) > 40 {
			s = s[:16] + "..." + s[len(s)-8:]
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	return b.String()
}

// jMap turns a map reply (RESP3 map, RESP2 flat array) into a map and checks
// its fields (and, in RESP2, their order).
func jMap(t testing.TB, v any, want string) map[string]any {
	t.Helper()
	out := map[string]any{}
	var order []string
	switch x := v.(type) {
	case map[any]any:
		for k, val := range x {
			out[fmt.Sprint(k)] = val
		}
	case []any:
		if len(x)%2 != 0 {
			t.Fatalf("odd flat map %v", x)
		}
		for i := 0; i < len(x); i += 2 {
			out[fmt.Sprint(x[i])] = x[i+1]
			order = append(order, fmt.Sprint(x[i]))
		}
	default:
		t.Fatalf("not a map reply: %#v", v)
	}
	if order != nil && strings.Join(order, " ") != want {
		t.Fatalf("fields %v, want %s", order, want)
	}
	if len(out) != len(strings.Fields(want)) {
		t.Fatalf("reply %v, want fields %s", out, want)
	}
	return out
}

type grant struct {
	jwt, refresh string
	expires      int64
}

func jSession(t testing.TB, c *redis.Client, args ...any) (token, handle string) {
	t.Helper()
	m := jMap(t, jDo(t, c, append([]any{"sess.new"}, args...)...), "token handle nonce expires idle absolute")
	return m["token"].(string), m["handle"].(string)
}

func jGrant(t testing.TB, v any) grant {
	t.Helper()
	m := jMap(t, v, jwtFields)
	g := grant{m["jwt"].(string), m["refresh"].(string), m["expires"].(int64)}
	if strings.Count(g.jwt, ".") != 2 || len(g.refresh) != 43 {
		t.Fatalf("grant %v", m)
	}
	return g
}

func jIssue(t testing.TB, c *redis.Client, token string, extra ...any) grant {
	t.Helper()
	return jGrant(t, jDo(t, c, append([]any{"sess.jwt", token}, extra...)...))
}

func jRefresh(t testing.TB, c *redis.Client, refresh string) grant {
	t.Helper()
	return jGrant(t, jDo(t, c, "sess.refresh", refresh))
}

// jVerify returns the claims of a good token, or fails the test.
func jVerify(t testing.TB, c *redis.Client, tok string, extra ...any) map[string]any {
	t.Helper()
	m := jMap(t, jDo(t, c, append([]any{"sess.verify", tok}, extra...)...), jwtOK)
	if m["ok"] != int64(1) {
		t.Fatalf("verify: %v", m)
	}
	var claims map[string]any
	dec := json.NewDecoder(strings.NewReader(m["claims"].(string)))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		t.Fatalf("claims %q: %v", m["claims"], err)
	}
	return claims
}

func jWantFail(t testing.TB, v any, reason string) {
	t.Helper()
	m := jMap(t, v, jwtFail)
	if m["ok"] != int64(0) || m["reason"] != reason {
		t.Fatalf("got %v, want ok 0 reason %s", m, reason)
	}
}

func jVerifyFails(t testing.TB, c *redis.Client, tok, reason string, extra ...any) {
	t.Helper()
	jWantFail(t, jDo(t, c, append([]any{"sess.verify", tok}, extra...)...), reason)
}

// jParts decodes a compact JWS (without checking it).
func jParts(t testing.TB, tok string) (header, claims map[string]any) {
	t.Helper()
	p := strings.Split(tok, ".")
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(p[i])
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			t.Fatal(err)
		}
	}
	return
}

func num(v any) int64 {
	n, _ := v.(json.Number).Int64()
	return n
}

func jJWKS(t testing.TB, c *redis.Client) jose.JSONWebKeySet {
	t.Helper()
	doc := jDo(t, c, "sess.jwks").(string)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(doc), &set); err != nil {
		t.Fatalf("JWKS %s: %v", doc, err)
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.Unmarshal([]byte(doc), &raw)
	for _, k := range raw.Keys {
		if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["use"] != "sig" || k["alg"] != "EdDSA" || k["kid"] == "" || k["d"] != nil {
			t.Fatalf("JWKS key %v", k)
		}
	}
	return set
}

// joseVerify verifies tok with go-jose: EdDSA against the JWKS key named by
// its kid, or HS256 with secret.
func joseVerify(t testing.TB, tok string, set jose.JSONWebKeySet, secret []byte, expect josejwt.Expected) (josejwt.Claims, map[string]any, error) {
	t.Helper()
	algs := []jose.SignatureAlgorithm{jose.EdDSA}
	if secret != nil {
		algs = []jose.SignatureAlgorithm{jose.HS256}
	}
	parsed, err := josejwt.ParseSigned(tok, algs)
	if err != nil {
		return josejwt.Claims{}, nil, err
	}
	var key any = secret
	if secret == nil {
		keys := set.Key(parsed.Headers[0].KeyID)
		if len(keys) != 1 {
			return josejwt.Claims{}, nil, fmt.Errorf("kid %q: %d keys in the JWKS", parsed.Headers[0].KeyID, len(keys))
		}
		key = keys[0].Key
	}
	var std josejwt.Claims
	custom := map[string]any{}
	if err := parsed.Claims(key, &std, &custom); err != nil {
		return std, nil, err
	}
	return std, custom, std.ValidateWithLeeway(expect, 0)
}

func TestJWTIssueAndVerify(t *testing.T) {
	s := testserver.Start(t, "jwt-issuer", "https://auth.example")
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		tok, handle := jSession(t, c, "OWNER", "alice")
		before := time.Now().Unix()
		g := jIssue(t, c, tok, "CLAIMS", `{"role":"admin","n":12345678901234567890,"nested":{"b":[1,2]}}`, "TTL", 60, "AUDIENCE", "app")
		if g.expires < (before+59)*1000 || g.expires > (time.Now().Unix()+61)*1000 {
			t.Fatalf("expires %d, want now+60s in ms", g.expires)
		}
		h, cl := jParts(t, g.jwt)
		if h["alg"] != "EdDSA" || h["typ"] != "JWT" || h["kid"] == "" || len(h) != 3 {
			t.Fatalf("header %v", h)
		}
		if cl["iss"] != "https://auth.example" || cl["sub"] != "alice" || cl["sid"] != handle || cl["aud"] != "app" ||
			cl["role"] != "admin" || num(cl["exp"])-num(cl["iat"]) != 60 || num(cl["exp"])*1000 != g.expires ||
			cl["n"].(json.Number).String() != "12345678901234567890" || !uuidV4(cl["jti"]) {
			t.Fatalf("claims %v", cl)
		}
		if strings.Contains(g.jwt, tok) || strings.Contains(g.jwt, g.refresh) {
			t.Fatal("a secret inside the JWT")
		}
		// SESS.VERIFY: with and without the audience; the claims are the payload.
		v := jVerify(t, c, g.jwt, "AUDIENCE", "app")
		if v["sid"] != handle || v["role"] != "admin" || v["jti"] != cl["jti"] {
			t.Fatalf("verify claims %v", v)
		}
		jVerify(t, c, g.jwt)
		jVerifyFails(t, c, g.jwt, "claims", "AUDIENCE", "other")
		jVerifyFails(t, c, g.jwt, "claims", "audience", "")
		// The JWKS publishes the key, and go-jose agrees.
		set := jJWKS(t, c)
		if len(set.Keys) != 1 || set.Keys[0].KeyID != h["kid"] {
			t.Fatalf("JWKS %v, kid %v", set.Keys, h["kid"])
		}
		std, custom, err := joseVerify(t, g.jwt, set, nil, josejwt.Expected{Issuer: "https://auth.example", AnyAudience: []string{"app"}, Time: time.Now()})
		if err != nil || std.Subject != "alice" || custom["sid"] != handle || custom["role"] != "admin" {
			t.Fatalf("go-jose: %v %v %v", err, std, custom)
		}
		// No session owner: no sub. Default TTL from jwt-access-ttl.
		tok2, _ := jSession(t, c)
		g2 := jIssue(t, c, tok2)
		_, cl2 := jParts(t, g2.jwt)
		if _, has := cl2["sub"]; has || num(cl2["exp"])-num(cl2["iat"]) != 900 {
			t.Fatalf("claims without owner %v", cl2)
		}
		if _, has := cl2["aud"]; has {
			t.Fatalf("aud without AUDIENCE: %v", cl2)
		}
		jVerify(t, c, g2.jwt)
		jVerifyFails(t, c, g2.jwt, "claims", "AUDIENCE", "app") // asked for, absent
		// jwt-issuer changes: tokens of the old issuer fail.
		jDo(t, c, "config", "set", "jwt-issuer", "other")
		jVerifyFails(t, c, g.jwt, "claims")
		jDo(t, c, "config", "set", "jwt-issuer", "https://auth.example")
		jVerify(t, c, g.jwt)
		// A session token that does not authenticate: a failure, not an error.
		jWantFail(t, jDo(t, c, "sess.jwt", strings.Repeat("A", 43)), "unknown")
		jWantFail(t, jDo(t, c, "sess.refresh", strings.Repeat("A", 43)), "unknown")
		jWantFail(t, jDo(t, c, "sess.refresh", ""), "unknown")
	})
}

func TestJWTMalformedRequests(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		tok, _ := jSession(t, c, "OWNER", "frank")
		cases := []C{
			{Cmd: []any{"sess.jwt"}, WantErr: "ERR wrong number of arguments for 'sess.jwt' command"},
			{Cmd: []any{"sess.refresh"}, WantErr: "ERR wrong number of arguments for 'sess.refresh' command"},
			{Cmd: []any{"sess.refresh", "a", "b"}, WantErr: "ERR wrong number of arguments for 'sess.refresh' command"},
			{Cmd: []any{"sess.verify"}, WantErr: "ERR wrong number of arguments for 'sess.verify' command"},
			{Cmd: []any{"sess.verify", "x", "AUDIENCE"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.verify", "x", "FOO", "bar"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.jwks", "x"}, WantErr: "ERR wrong number of arguments for 'sess.jwks' command"},
			{Cmd: []any{"sess.rotatekey", "x"}, WantErr: "ERR wrong number of arguments for 'sess.rotatekey' command"},
			{Cmd: []any{"sess.jwt", tok, "TTL"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.jwt", tok, "TTL", "abc"}, WantErr: "ERR value is not an integer or out of range"},
			{Cmd: []any{"sess.jwt", tok, "TTL", "0"}, WantErr: "ERR invalid expire time in 'sess.jwt' command"},
			{Cmd: []any{"sess.jwt", tok, "TTL", "-5"}, WantErr: "ERR invalid expire time in 'sess.jwt' command"},
			{Cmd: []any{"sess.jwt", tok, "TTL", "5", "TTL", "6"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.jwt", tok, "BOGUS", "1"}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.jwt", tok, "AUDIENCE", ""}, WantErr: "ERR syntax error"},
			{Cmd: []any{"sess.jwt", tok, "CLAIMS", "notjson"}, WantErr: "ERR CLAIMS must be a JSON object"},
			{Cmd: []any{"sess.jwt", tok, "CLAIMS", "[1,2]"}, WantErr: "ERR CLAIMS must be a JSON object"},
			{Cmd: []any{"sess.jwt", tok, "CLAIMS", "null"}, WantErr: "ERR CLAIMS must be a JSON object"},
			{Cmd: []any{"sess.jwt", tok, "CLAIMS", `{"a":1} {"b":2}`}, WantErr: "ERR CLAIMS must be a JSON object"},
			{Cmd: []any{"sess.jwt", tok, "CLAIMS", `{"a":1`}, WantErr: "ERR CLAIMS must be a JSON object"},
			{Cmd: []any{"sess.jwt", tok, "CLAIMS", `{"x":"` + strings.Repeat("a", 4100) + `"}`}, WantErr: "ERR CLAIMS must be at most 4096 bytes"},
			{Cmd: []any{"sess.jwt", tok, "CLAIMS", `{"aud":"x"}`, "AUDIENCE", "y"}, WantErr: "ERR CLAIMS may not set 'aud' together with AUDIENCE"},
		}
		for _, r := range []string{"iss", "sub", "sid", "jti", "iat", "exp", "nbf"} {
			cases = append(cases, C{Cmd: []any{"sess.jwt", tok, "CLAIMS", `{"ok":1,"` + r + `":"x"}`},
				WantErr: "ERR CLAIMS may not set the reserved claim '" + r + "'"})
		}
		testserver.Run(t, c, cases)
		// A failed request issued nothing: the session has no refresh family.
		// CLAIMS with aud (no AUDIENCE) is allowed and verifies with AUDIENCE.
		g := jIssue(t, c, tok, "claims", `{"aud":["a","b"]}`, "ttl", 30)
		jVerify(t, c, g.jwt, "AUDIENCE", "b")
		jVerifyFails(t, c, g.jwt, "claims", "AUDIENCE", "c")
		jIssue(t, c, tok, "CLAIMS", "{}")
	})
}

// Inside MULTI every command shares EXEC's transaction: the JWT commands,
// which would sign or verify under it, refuse.
func TestJWTNotInMulti(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	tok, _ := jSession(t, c)
	g := jIssue(t, c, tok)
	cmds, err := c.TxPipelined(jctx, func(p redis.Pipeliner) error {
		p.Do(jctx, "sess.verify", g.jwt)
		p.Do(jctx, "sess.refresh", g.refresh)
		p.Do(jctx, "sess.jwt", tok)
		p.Do(jctx, "sess.rotatekey")
		p.Do(jctx, "sess.jwks")
		return nil
	})
	if err == nil {
		t.Fatal("no error from EXEC")
	}
	for _, cmd := range cmds[:4] {
		if cmd.Err() == nil || cmd.Err().Error() != "ERR Command not allowed inside a transaction" {
			t.Fatalf("%v: %v", cmd.Args(), cmd.Err())
		}
	}
	if cmds[4].Err() != nil {
		t.Fatalf("jwks in MULTI: %v", cmds[4].Err())
	}
	// Nothing happened to the refresh token.
	jRefresh(t, c, g.refresh)
}

func TestJWTTampering(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	tok, _ := jSession(t, c, "OWNER", "carol")
	g := jIssue(t, c, tok, "CLAIMS", `{"role":"reader"}`, "AUDIENCE", "app")
	jVerify(t, c, g.jwt)
	p := strings.Split(g.jwt, ".")
	h, cl := jParts(t, g.jwt)
	kid := h["kid"].(string)
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}

	// Payload changed, signature kept.
	cl2 := map[string]any{}
	for k, v := range cl {
		cl2[k] = v
	}
	cl2["role"] = "admin"
	jVerifyFails(t, c, p[0]+"."+enc(cl2)+"."+p[2], "signature")
	// One character of the signature changed (middle and last).
	for _, i := range []int{len(p[2]) / 2, len(p[2]) - 1} {
		sig := []byte(p[2])
		if sig[i] == 'A' {
			sig[i] = 'Q'
		} else {
			sig[i] = 'A'
		}
		jVerifyFails(t, c, p[0]+"."+p[1]+"."+string(sig), "signature")
	}
	// Signature dropped; alg none (with and without a signature part).
	jVerifyFails(t, c, p[0]+"."+p[1]+".", "signature")
	none := enc(map[string]any{"alg": "none", "typ": "JWT"})
	jVerifyFails(t, c, none+"."+p[1]+".", "signature")
	jVerifyFails(t, c, enc(map[string]any{"alg": "none", "kid": kid})+"."+p[1]+"."+p[2], "signature")
	// HS256 signed with the public key as the secret (the algorithm
	// confusion attack), with the raw key and with its JWKS encoding.
	set := jJWKS(t, c)
	pub := set.Key(kid)[0].Key.(ed25519.PublicKey)
	for _, secret := range [][]byte{pub, []byte(base64.RawURLEncoding.EncodeToString(pub))} {
		hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(cl))
		hs.Header["kid"] = kid
		forged, err := hs.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		jVerifyFails(t, c, forged, "signature")
	}
	// The same claims and kid signed by another Ed25519 key.
	_, other, _ := ed25519.GenerateKey(nil)
	foreign := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims(cl))
	foreign.Header["kid"] = kid
	ft, _ := foreign.SignedString(other)
	jVerifyFails(t, c, ft, "signature")
	// An unknown kid, no kid, a crit header.
	for _, hdr := range []map[string]any{{"alg": "EdDSA", "kid": "nope"}, {"alg": "EdDSA"}, {"alg": "EdDSA", "kid": kid, "crit": []string{"x"}, "x": 1}} {
		tt := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims(cl))
		tt.Header = hdr
		st, _ := tt.SignedString(other)
		jVerifyFails(t, c, st, "signature")
	}
	// Malformed tokens, and a token over the length cap, are failures.
	for _, bad := range []string{"", "not.a.jwt", "a.b", "a.b.c.d", p[0] + "." + p[1], "!!." + p[1] + "." + p[2],
		p[0] + "." + p[1] + "." + p[2] + strings.Repeat("A", 9000)} {
		jVerifyFails(t, c, bad, "signature")
	}
	// Padding or trailing bits are not accepted (strict base64url).
	jVerifyFails(t, c, g.jwt+"=", "signature")
	// go-jose rejects the forgeries too, and accepts the original.
	if _, _, err := joseVerify(t, g.jwt, set, nil, josejwt.Expected{Time: time.Now()}); err != nil {
		t.Fatalf("go-jose original: %v", err)
	}
	if _, _, err := joseVerify(t, p[0]+"."+enc(cl2)+"."+p[2], set, nil, josejwt.Expected{Time: time.Now()}); err == nil {
		t.Fatal("go-jose accepted a changed payload")
	}
	jVerify(t, c, g.jwt, "AUDIENCE", "app")
}

// HS256 with jwt-secret: tokens verify with go-jose using the secret, the
// JWKS is empty, ROTATEKEY is refused; with the secret a test can also mint
// tokens whose claims are wrong in ways sessiond never issues.
func TestJWTHS256(t *testing.T) {
	s := testserver.Start(t, "jwt-algorithm", "hs256", "jwt-secret", testSecret)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		tok, handle := jSession(t, c, "OWNER", "hs")
		g := jIssue(t, c, tok, "CLAIMS", `{"role":"x"}`, "AUDIENCE", "api")
		h, cl := jParts(t, g.jwt)
		if h["alg"] != "HS256" || !strings.HasPrefix(h["kid"].(string), "hs-") {
			t.Fatalf("header %v", h)
		}
		jVerify(t, c, g.jwt, "AUDIENCE", "api")
		std, custom, err := joseVerify(t, g.jwt, jose.JSONWebKeySet{}, []byte(testSecret),
			josejwt.Expected{Issuer: "sessiond", AnyAudience: []string{"api"}, Time: time.Now()})
		if err != nil || std.Subject != "hs" || custom["sid"] != handle {
			t.Fatalf("go-jose HS256: %v %v %v", err, std, custom)
		}
		if doc := jDo(t, c, "sess.jwks"); doc != `{"keys":[]}` {
			t.Fatalf("JWKS with hs256: %v", doc)
		}
		testserver.Run(t, c, []C{{Cmd: []any{"sess.rotatekey"}, WantErr: "ERR SESS.ROTATEKEY rotates EdDSA keys"}})
		g2 := jRefresh(t, c, g.refresh)
		jVerify(t, c, g2.jwt, "AUDIENCE", "api")

		mint := func(claims jwt.MapClaims, hdr map[string]any, secret string) string {
			tt := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
			for k, v := range hdr {
				tt.Header[k] = v
			}
			st, err := tt.SignedString([]byte(secret))
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
		base := func() jwt.MapClaims {
			m := jwt.MapClaims{}
			for k, v := range cl {
				m[k] = v
			}
			return m
		}
		kid := map[string]any{"kid": h["kid"]}
		jVerify(t, c, mint(base(), kid, testSecret)) // the same token, re-minted
		noExp := base()
		delete(noExp, "exp")
		jVerifyFails(t, c, mint(noExp, kid, testSecret), "claims")
		noSid := base()
		delete(noSid, "sid")
		jVerifyFails(t, c, mint(noSid, kid, testSecret), "claims")
		otherSid := base()
		otherSid["sid"] = "nosuchsession"
		jVerifyFails(t, c, mint(otherSid, kid, testSecret), "unknown")
		future := base()
		future["nbf"] = time.Now().Unix() + 3600
		jVerifyFails(t, c, mint(future, kid, testSecret), "claims")
		badIss := base()
		badIss["iss"] = "evil"
		jVerifyFails(t, c, mint(badIss, kid, testSecret), "claims")
		past := base()
		past["exp"] = time.Now().Unix() - 1
		jVerifyFails(t, c, mint(past, kid, testSecret), "expired")
		jVerifyFails(t, c, mint(base(), kid, testSecret+"x"), "signature")
		jVerifyFails(t, c, mint(base(), map[string]any{"kid": "hs-other"}, testSecret), "signature")
		jVerifyFails(t, c, mint(base(), nil, testSecret), "signature") // no kid
		// An EdDSA token is refused by an HS256 server (allow-list).
		_, priv, _ := ed25519.GenerateKey(nil)
		ed := jwt.NewWithClaims(jwt.SigningMethodEdDSA, base())
		ed.Header["kid"] = h["kid"]
		est, _ := ed.SignedString(priv)
		jVerifyFails(t, c, est, "signature")
		// Changing the secret ends the old tokens.
		jDo(t, c, "config", "set", "jwt-secret", testSecret+"-rotated")
		jVerifyFails(t, c, g2.jwt, "signature")
		jDo(t, c, "config", "set", "jwt-secret", testSecret)
	})
	// No usable secret: a fault of the configuration, an error.
	c := s.Client(3)
	tok, _ := jSession(t, c)
	jDo(t, c, "config", "set", "jwt-secret", "short")
	testserver.Run(t, c, []C{
		{Cmd: []any{"sess.jwt", tok}, WantErr: "ERR jwt-algorithm hs256 needs a jwt-secret of at least 32 bytes"},
		{Cmd: []any{"sess.verify", "a.b.c"}, WantErr: "ERR jwt-algorithm hs256 needs a jwt-secret"},
		{Cmd: []any{"sess.refresh", "x"}, WantErr: "ERR jwt-algorithm hs256 needs a jwt-secret"},
	})
}

func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	c := s.Client(3)
	tok, _ := jSession(t, c, "OWNER", "dave")
	g := jIssue(t, c, tok, "TTL", 1)
	jVerify(t, c, g.jwt)
	set := jJWKS(t, c)
	time.Sleep(time.Until(time.UnixMilli(g.expires)) + 50*time.Millisecond)
	jVerifyFails(t, c, g.jwt, "expired")
	if _, _, err := joseVerify(t, g.jwt, set, nil, josejwt.Expected{Time: time.Now()}); err != josejwt.ErrExpired {
		t.Fatalf("go-jose on an expired token: %v", err)
	}
	// The refresh token outlives the access token; its successors keep TTL 1.
	g2 := jRefresh(t, c, g.refresh)
	_, cl := jParts(t, g2.jwt)
	if num(cl["exp"])-num(cl["iat"]) != 1 {
		t.Fatalf("refreshed TTL: %v", cl)
	}
	jVerify(t, c, g2.jwt)
}

// jwt-refresh-ttl is absolute: rotation never extends a family.
func TestJWTRefreshAbsolute(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, "jwt-refresh-ttl", "4")
	c := s.Client(3)
	tok, _ := jSession(t, c)
	start := time.Now()
	g := jIssue(t, c, tok)
	time.Sleep(1500 * time.Millisecond)
	g = jRefresh(t, c, g.refresh)
	time.Sleep(time.Until(start.Add(4200 * time.Millisecond)))
	// expired while the record waits for the expirer, unknown once reaped
	if m := jMap(t, jDo(t, c, "sess.refresh", g.refresh), jwtFail); m["reason"] != "expired" && m["reason"] != "unknown" {
		t.Fatalf("refresh after the family's deadline: %v", m)
	}
	// The access token and the session are unaffected.
	jVerify(t, c, g.jwt)
	// A new SESS.JWT starts a new family with a full lifetime.
	g = jIssue(t, c, tok)
	jRefresh(t, c, g.refresh)
}

func TestJWTKeyRotation(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, "jwt-access-ttl", "2")
	c := s.Client(3)
	tok, handle := jSession(t, c, "OWNER", "ivy")
	old := jIssue(t, c, tok)
	oh, _ := jParts(t, old.jwt)
	oldKid := oh["kid"].(string)
	kid := jDo(t, c, "sess.rotatekey").(string)
	if kid == oldKid || len(kid) != 43 {
		t.Fatalf("new kid %q (old %q)", kid, oldKid)
	}
	set := jJWKS(t, c)
	if len(set.Keys) != 2 || set.Keys[0].KeyID != kid || set.Keys[1].KeyID != oldKid {
		t.Fatalf("JWKS after rotation: %v", set.Keys)
	}
	fresh := jIssue(t, c, tok)
	if fh, _ := jParts(t, fresh.jwt); fh["kid"] != kid {
		t.Fatalf("new token kid %v, want %s", fh["kid"], kid)
	}
	jVerify(t, c, old.jwt)
	jVerify(t, c, fresh.jwt)
	for _, tk := range []string{old.jwt, fresh.jwt} {
		if _, _, err := joseVerify(t, tk, set, nil, josejwt.Expected{Time: time.Now()}); err != nil {
			t.Fatalf("go-jose after rotation: %v", err)
		}
	}
	// A token signed with the old key that would live longer than any token
	// sessiond issued with it: it verifies only while the key is kept.
	var oldKey engine.SigningKey
	_ = s.Engine().View(time.Now().UnixMilli(), func(tx *engine.Tx) error {
		oldKey, _ = tx.SigningKeyByID(oldKid)
		return nil
	})
	lt := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"iss": "sessiond", "sid": handle, "exp": time.Now().Unix() + 3600})
	lt.Header["kid"] = oldKid
	longLived, err := lt.SignedString(ed25519.NewKeyFromSeed(oldKey.Seed))
	if err != nil {
		t.Fatal(err)
	}
	jVerify(t, c, longLived)
	// The old key goes when the last token it signed has expired.
	time.Sleep(time.Until(time.UnixMilli(old.expires)) + 300*time.Millisecond)
	jVerifyFails(t, c, old.jwt, "expired")
	if set := jJWKS(t, c); len(set.Keys) != 1 || set.Keys[0].KeyID != kid {
		t.Fatalf("JWKS after the old key's tokens expired: %v", set.Keys)
	}
	jVerifyFails(t, c, longLived, "signature")
	// Rotating twice quickly keeps both predecessors while they have tokens.
	t2 := jIssue(t, c, tok)
	k3 := jDo(t, c, "sess.rotatekey").(string)
	k4 := jDo(t, c, "sess.rotatekey").(string) // k3 signed nothing: dropped at once
	time.Sleep(150 * time.Millisecond)
	kids := []string{}
	for _, k := range jJWKS(t, c).Keys {
		kids = append(kids, k.KeyID)
	}
	if strings.Join(kids, " ") != k4+" "+kid {
		t.Fatalf("JWKS kids %v, want %s %s (not %s)", kids, k4, kid, k3)
	}
	jVerify(t, c, t2.jwt)
}

func TestJWTRefreshRotation(t *testing.T) {
	s := testserver.Start(t)
	s.Protocols(t, func(t *testing.T, c *redis.Client) {
		tok, handle := jSession(t, c, "OWNER", "erin")
		g1 := jIssue(t, c, tok, "CLAIMS", `{"plan":"pro"}`, "AUDIENCE", "web", "TTL", 120)
		g2 := jRefresh(t, c, g1.refresh)
		if g2.refresh == g1.refresh || g2.jwt == g1.jwt {
			t.Fatal("refresh returned the same pair")
		}
		_, c1 := jParts(t, g1.jwt)
		_, c2 := jParts(t, g2.jwt)
		// The family keeps its claims, audience and TTL; the jti is new.
		if c2["plan"] != "pro" || c2["aud"] != "web" || c2["sid"] != handle || c2["sub"] != "erin" ||
			num(c2["exp"])-num(c2["iat"]) != 120 || c2["jti"] == c1["jti"] {
			t.Fatalf("refreshed claims %v", c2)
		}
		jVerify(t, c, g2.jwt, "AUDIENCE", "web")
		jVerify(t, c, g1.jwt, "AUDIENCE", "web") // access tokens live until exp
		// A retry within the grace: the same pair, byte for byte.
		if again := jRefresh(t, c, g1.refresh); again != g2 {
			t.Fatalf("retry: %v, want %v", again, g2)
		}
		g3 := jRefresh(t, c, g2.refresh)
		if again := jRefresh(t, c, g1.refresh); again != g2 {
			t.Fatal("retry after a further rotation")
		}
		if again := jRefresh(t, c, g2.refresh); again != g3 {
			t.Fatal("retry of the second token")
		}
		var cur, rot int
		_ = s.Engine().View(time.Now().UnixMilli(), func(tx *engine.Tx) error {
			cur, rot = tx.RefreshTokenCount(handle)
			return nil
		})
		if cur != 1 || rot != 2 {
			t.Fatalf("family: %d current, %d rotated", cur, rot)
		}
		// A new SESS.JWT starts the family anew: the old chain stops.
		g4 := jIssue(t, c, tok)
		jWantFail(t, jDo(t, c, "sess.refresh", g3.refresh), "unknown")
		jWantFail(t, jDo(t, c, "sess.refresh", g1.refresh), "unknown")
		jRefresh(t, c, g4.refresh)
		// Refreshing touches the session (session-auto-touch).
		info := jMap(t, jDo(t, c, "sess.info", "HANDLE", handle), "handle owner nonce created last_seen expires idle absolute detachable detached tokens meta")
		if time.Now().UnixMilli()-info["last_seen"].(int64) > 2000 {
			t.Fatalf("not touched: %v", info)
		}
	})
}

// Twenty connections present the same refresh token at once: one rotation,
// and everyone gets the same successor pair.
func TestJWTRefreshConcurrent(t *testing.T) {
	s := testserver.Start(t)
	c := s.Client(3)
	tok, handle := jSession(t, c)
	g := jIssue(t, c, tok)
	const n = 20
	clients := make([]*redis.Client, n)
	for i := range clients {
		clients[i] = s.Client(2 + i%2)
		if err := clients[i].Ping(jctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	got := make([]grant, n)
	errs := make([]error, n)
	for i := range clients {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			v, err := clients[i].Do(jctx, "sess.refresh", g.refresh).Result()
			if err != nil {
				errs[i] = err
				return
			}
			m := map[string]any{}
			switch x := v.(type) {
			case map[any]any:
				for k, val := range x {
					m[fmt.Sprint(k)] = val
				}
			case []any:
				for j := 0; j+1 < len(x); j += 2 {
					m[fmt.Sprint(x[j])] = x[j+1]
				}
			}
			jw, _ := m["jwt"].(string)
			rt, _ := m["refresh"].(string)
			ex, _ := m["expires"].(int64)
			got[i] = grant{jw, rt, ex}
		}(i)
	}
	close(start)
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i].jwt == "" || got[i] != got[0] {
			t.Fatalf("client %d: %v %v, client 0: %v", i, got[i], errs[i], got[0])
		}
	}
	var cur, rot int
	_ = s.Engine().View(time.Now().UnixMilli(), func(tx *engine.Tx) error {
		cur, rot = tx.RefreshTokenCount(handle)
		return nil
	})
	if cur != 1 || rot != 1 {
		t.Fatalf("family after 20 concurrent refreshes: %d current, %d rotated; want exactly one successor", cur, rot)
	}
	jVerify(t, c, got[0].jwt)
	jRefresh(t, c, got[0].refresh)
}

// Reuse of a rotated-out refresh token after the grace is theft: the session
// and every refresh token of its family are revoked, and its access tokens
// stop verifying.
func TestJWTRefreshReuse(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, "session-rotate-grace", "1")
	c := s.Client(3)
	tok, handle := jSession(t, c, "OWNER", "jack")
	other, _ := jSession(t, c, "OWNER", "jack")
	og := jIssue(t, c, other)
	g1 := jIssue(t, c, tok)
	g2 := jRefresh(t, c, g1.refresh)
	g3 := jRefresh(t, c, g2.refresh)
	time.Sleep(1100 * time.Millisecond)
	jWantFail(t, jDo(t, c, "sess.refresh", g1.refresh), "replayed")
	for _, rt := range []string{g1.refresh, g2.refresh, g3.refresh} {
		jWantFail(t, jDo(t, c, "sess.refresh", rt), "revoked")
	}
	for _, at := range []string{g1.jwt, g2.jwt, g3.jwt} {
		jVerifyFails(t, c, at, "revoked")
	}
	if jDo(t, c, "sess.active", tok) != int64(0) {
		t.Fatal("session still active")
	}
	jWantFail(t, jDo(t, c, "sess.jwt", tok), "revoked")
	// The owner's other session is untouched.
	jVerify(t, c, og.jwt)
	jRefresh(t, c, og.refresh)
	if info := jDo(t, c, "info", "jwt").(string); !strings.Contains(info, "jwt_refresh_reused:1\r\n") {
		t.Fatalf("INFO jwt: %s", info)
	}
	var cur, rot int
	_ = s.Engine().View(time.Now().UnixMilli(), func(tx *engine.Tx) error {
		cur, rot = tx.RefreshTokenCount(handle)
		return nil
	})
	if cur+rot != 3 {
		t.Fatalf("tombstoned family: %d current, %d rotated", cur, rot)
	}
}

// Destroy, revoke, detach and expiry of the session take effect for its
// JWTs at once, and ending a session leaves nothing of its family behind.
func TestJWTSessionEnd(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t)
	c := s.Client(3)
	footprint := func() int {
		n := 0
		_ = s.Engine().View(time.Now().UnixMilli(), func(tx *engine.Tx) error {
			n = tx.JWTFootprint()
			return nil
		})
		return n
	}

	tok, _ := jSession(t, c, "OWNER", "hank")
	g := jIssue(t, c, tok)
	jRefresh(t, c, g.refresh)
	if footprint() == 0 {
		t.Fatal("no family stored")
	}
	jDo(t, c, "sess.destroy", tok)
	jVerifyFails(t, c, g.jwt, "unknown")
	jWantFail(t, jDo(t, c, "sess.refresh", g.refresh), "unknown")
	if n := footprint(); n != 0 {
		t.Fatalf("destroy left %d items", n)
	}

	tok, handle := jSession(t, c, "OWNER", "hank")
	g = jIssue(t, c, tok)
	jDo(t, c, "sess.revoke", "HANDLE", handle)
	jVerifyFails(t, c, g.jwt, "revoked")
	jWantFail(t, jDo(t, c, "sess.refresh", g.refresh), "revoked")

	tok, _ = jSession(t, c, "OWNER", "hank", "DETACHABLE")
	g = jIssue(t, c, tok)
	jDo(t, c, "sess.detach", tok)
	jVerifyFails(t, c, g.jwt, "detached")
	jWantFail(t, jDo(t, c, "sess.refresh", g.refresh), "detached")

	tok, _ = jSession(t, c, "IDLE", 1)
	g = jIssue(t, c, tok)
	jVerify(t, c, g.jwt)
	time.Sleep(1100 * time.Millisecond)
	v := jMap(t, jDo(t, c, "sess.verify", g.jwt), jwtFail)
	if v["reason"] != "expired" && v["reason"] != "unknown" {
		t.Fatalf("verify after session expiry: %v", v)
	}
	time.Sleep(300 * time.Millisecond) // the active expirer reaps it and its family
	jVerifyFails(t, c, g.jwt, "unknown")
	jWantFail(t, jDo(t, c, "sess.refresh", g.refresh), "unknown")
	// Left: the revoked session's tombstone and the detached session's
	// family (each a family record, one generation entry, one token entry).
	if n := footprint(); n != 6 {
		t.Fatalf("%d items left, want 6", n)
	}
	jDo(t, c, "flushall")
	if n := footprint(); n != 0 {
		t.Fatalf("FLUSHALL left %d items", n)
	}
}

// Keys and refresh families are in the data file.
func TestJWTRestart(t *testing.T) {
	s := testserver.Start(t, "session-rotate-grace", "60")
	c := s.Client(3)
	tok, _ := jSession(t, c, "OWNER", "kim")
	g1 := jIssue(t, c, tok, "CLAIMS", `{"k":1}`)
	g2 := jRefresh(t, c, g1.refresh)
	kid := jDo(t, c, "sess.rotatekey").(string)
	g3 := jIssue(t, c, tok)
	before := jDo(t, c, "sess.jwks")
	s.Restart()
	c = s.Client(3)
	if after := jDo(t, c, "sess.jwks"); after != before {
		t.Fatalf("JWKS changed across restart:\n%v\n%v", before, after)
	}
	jVerify(t, c, g2.jwt)
	jVerify(t, c, g3.jwt)
	if h, _ := jParts(t, g3.jwt); h["kid"] != kid {
		t.Fatal("kid")
	}
	// g1's family was replaced by g3's; g3's refresh works, and a retry
	// within the grace still returns the same pair after the restart.
	jWantFail(t, jDo(t, c, "sess.refresh", g2.refresh), "unknown")
	g4 := jRefresh(t, c, g3.refresh)
	s.Restart()
	c = s.Client(3)
	if again := jRefresh(t, c, g3.refresh); again != g4 {
		t.Fatalf("retry after restart: %v, want %v", again, g4)
	}
	jVerify(t, c, g4.jwt)
}

// uuidV4 reports whether v is a version 4 UUID in canonical text form (the
// jti sessiond issues).
func uuidV4(v any) bool {
	str, ok := v.(string)
	if !ok || len(str) != 36 {
		return false
	}
	u, err := uuid.Parse(str)
	return err == nil && u.Version() == 4 && u.Variant() == uuid.RFC4122 && u.String() == str
}
