package commands

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/google/uuid"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/sessiond/sessiond/engine"
)

// JWT access tokens and refresh tokens (COMMANDS.md, "JWT access tokens and
// refresh tokens"): SESS.JWT, SESS.REFRESH, SESS.VERIFY, SESS.JWKS,
// SESS.ROTATEKEY.
//
// Signing and verifying never happen under the engine lock. SESS.JWT and
// SESS.REFRESH run one write transaction that decides the access token
// (kid, jti, iat, exp, sid, sub, aud, custom claims) and stores the refresh
// token, then sign outside it. SESS.VERIFY parses and verifies the signature
// and the claims first, then runs one read transaction that checks that the
// key is still a live key of this server and that the session named by `sid`
// is alive. Key material (Ed25519, generated on first use, persisted in the
// data file) and random bytes are drawn here, never inside the engine.
//
// Inside MULTI/EXEC every command shares EXEC's transaction, so these
// commands, which would sign or verify under it, refuse to run there.

const (
	// maxJWTLen caps a token before SESS.VERIFY parses it.
	maxJWTLen = 8192
	// maxClaimsLen caps CLAIMS so that every token SESS.JWT issues is
	// well under maxJWTLen.
	maxClaimsLen = 4096
	// minHSSecret is the shortest jwt-secret HS256 accepts (RFC 7518 3.2:
	// a key at least as long as the hash).
	minHSSecret = 32
)

// reservedClaims are set by the server; CLAIMS may not carry them.
var reservedClaims = []string{"iss", "sub", "sid", "jti", "iat", "exp", "nbf"}

const (
	msgJWTClaimsJSON    = "ERR CLAIMS must be a JSON object"
	msgJWTClaimsLen     = "ERR CLAIMS must be at most 4096 bytes"
	msgJWTClaimReserved = "ERR CLAIMS may not set the reserved claim '%s'"
	msgJWTAudTwice      = "ERR CLAIMS may not set 'aud' together with AUDIENCE"
	msgJWTSecret        = "ERR jwt-algorithm hs256 needs a jwt-secret of at least 32 bytes"
	msgJWTRotateHS      = "ERR SESS.ROTATEKEY rotates EdDSA keys; with jwt-algorithm hs256 change jwt-secret instead"
)

func init() {
	j := func(sp *Spec) *Spec {
		sp.Group, sp.Since = "jwt", sinceNative
		return sp
	}
	register(
		j(&Spec{Name: "sess.jwt", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagFast,
			Syntax:  "token [CLAIMS json] [TTL seconds] [AUDIENCE aud]",
			Summary: "Issues a signed access token (claims iss sub sid jti iat exp, plus aud and your CLAIMS; sub = the session's owner, sid = its handle) and a refresh token for the session the token authenticates. Returns jwt, refresh and expires (the access token's exp, Unix ms); ok 0 and a reason when the session token is not valid. Starts the session's refresh family anew. Reserved claims in CLAIMS are an error. TTL defaults to jwt-access-ttl and also applies to the tokens SESS.REFRESH issues later.",
			Example: "> SESS.JWT Hk1x0... CLAIMS '{\"role\":\"admin\"}' AUDIENCE app\n1) \"jwt\"\n2) \"eyJhbGciOiJFZERTQSIsImtpZCI6...\"\n3) \"refresh\"\n4) \"u3Vb0...43 chars\"\n5) \"expires\"\n6) (integer) 1754000900000\n> SESS.JWT nope\n1) \"ok\"\n2) (integer) 0\n3) \"reason\"\n4) \"unknown\"",
			Run:     cmdSessJWT}),
		j(&Spec{Name: "sess.refresh", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast,
			Syntax:  "refresh",
			Summary: "Redeems a refresh token (single use): returns a new access token and a new refresh token (jwt refresh expires) while the session lives and the family's absolute deadline (jwt-refresh-ttl from SESS.JWT; rotation never extends it) has not passed. A retry of the same refresh token within session-rotate-grace returns the same pair; reuse after the grace revokes the session and every refresh token of its family (reason replayed). Failure: ok 0 and a reason (unknown, expired, revoked, detached, replayed).",
			Example: "> SESS.REFRESH u3Vb0...\n1) \"jwt\"\n2) \"eyJhbGciOiJFZERTQSIsImtpZCI6...\"\n3) \"refresh\"\n4) \"Qm9x...\"\n5) \"expires\"\n6) (integer) 1754001800000\n> SESS.REFRESH u3Vb0...   (60 s later: reuse)\n1) \"ok\"\n2) (integer) 0\n3) \"reason\"\n4) \"replayed\"",
			Run:     cmdSessRefresh}),
		j(&Spec{Name: "sess.verify", Arity: -2, Flags: FlagReadonly | FlagFast,
			Syntax:  "jwt [AUDIENCE aud]",
			Summary: "Verifies an access token: length cap, the configured algorithm only (never none), a live signing key, the signature, exp (required), iss = jwt-issuer, aud when AUDIENCE is given, and that the session named by sid is alive and attached. Success: ok 1 and claims (the token's payload, a JSON string). Failure: ok 0 and a reason (signature, expired, claims, unknown, revoked, detached).",
			Example: "> SESS.VERIFY eyJhbGciOiJFZERTQSIsImtpZCI6... AUDIENCE app\n1) \"ok\"\n2) (integer) 1\n3) \"claims\"\n4) \"{\\\"aud\\\":\\\"app\\\",\\\"exp\\\":1754000900,\\\"iat\\\":1754000000,\\\"iss\\\":\\\"sessiond\\\",\\\"jti\\\":\\\"...\\\",\\\"role\\\":\\\"admin\\\",\\\"sid\\\":\\\"q8fW2mJ0bYpT1sVxZ3cR9a\\\",\\\"sub\\\":\\\"user:42\\\"}\"\n> SESS.VERIFY eyJhbGciOiJFZERTQSIsImtpZCI6...   (after SESS.DESTROY)\n1) \"ok\"\n2) (integer) 0\n3) \"reason\"\n4) \"unknown\"",
			Run:     cmdSessVerify}),
		j(&Spec{Name: "sess.jwks", Arity: 1, Flags: FlagReadonly | FlagFast,
			Syntax:  "",
			Summary: "The public signing keys as an RFC 7517 JWKS JSON document (OKP/Ed25519, with kid, use sig, alg EdDSA): the current key first, then rotated-out keys that still verify. An empty key set with jwt-algorithm hs256. Creates the first key on first use.",
			Example: "> SESS.JWKS\n\"{\\\"keys\\\":[{\\\"kty\\\":\\\"OKP\\\",\\\"crv\\\":\\\"Ed25519\\\",\\\"x\\\":\\\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\\\",\\\"kid\\\":\\\"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k\\\",\\\"use\\\":\\\"sig\\\",\\\"alg\\\":\\\"EdDSA\\\"}]}\"",
			Run:     cmdSessJWKS}),
		j(&Spec{Name: "sess.rotatekey", Arity: 1, Flags: FlagWrite | FlagAdmin,
			Syntax:  "",
			Summary: "Generates a new Ed25519 signing key and signs with it from now on; returns its kid (the RFC 7638 thumbprint). The previous key keeps verifying until the last token it signed has expired, then it is dropped. An error with jwt-algorithm hs256.",
			Example: "> SESS.ROTATEKEY\n\"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs\"",
			Run:     cmdSessRotateKey}),
	)
	addInfoSection("jwt", true, infoJWT)
}

// ---- counters ----

type jwtCounters struct {
	issued, refreshed, reused, verified, rejected, rotated atomic.Int64
}

var jwtCountersBy sync.Map // *Dispatcher -> *jwtCounters

func jwtStats(d *Dispatcher) *jwtCounters {
	if v, ok := jwtCountersBy.Load(d); ok {
		return v.(*jwtCounters)
	}
	v, _ := jwtCountersBy.LoadOrStore(d, &jwtCounters{})
	return v.(*jwtCounters)
}

// ---- keys ----

// edKey is an Ed25519 key ready to sign and verify, derived once per kid.
type edKey struct {
	seed []byte
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

// edKeys caches derived keys by kid. The kid is the key's thumbprint, and
// every use is checked against the engine's record (seed or public key), so
// the cache can be shared by every server of a process.
var edKeys sync.Map // kid -> *edKey

func edKeyOf(k engine.SigningKey) *edKey {
	if v, ok := edKeys.Load(k.Kid); ok {
		if ek := v.(*edKey); bytes.Equal(ek.seed, k.Seed) {
			return ek
		}
	}
	priv := ed25519.NewKeyFromSeed(k.Seed)
	ek := &edKey{seed: append([]byte(nil), k.Seed...), priv: priv, pub: priv.Public().(ed25519.PublicKey)}
	edKeys.Store(k.Kid, ek)
	return ek
}

// thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 public key.
func thumbprint(pub []byte) string {
	h := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// newSigningKey draws a fresh Ed25519 key (outside any transaction).
func newSigningKey(c *Call) (engine.SigningKey, error) {
	pub, priv, err := ed25519.GenerateKey(c.randReader())
	if err != nil {
		return engine.SigningKey{}, err
	}
	return engine.SigningKey{Kid: thumbprint(pub), Seed: priv.Seed(), Public: pub}, nil
}

// ensureSigningKey installs a first Ed25519 key unless one exists.
func ensureSigningKey(c *Call) error {
	k, err := newSigningKey(c)
	if err != nil {
		return err
	}
	return c.Write(func(tx *engine.Tx) error {
		_, _, err := tx.InstallSigningKey(k)
		return err
	})
}

// jwtAlg is the configured signing setup, read once per command.
type jwtAlg struct {
	hs     bool
	secret []byte
	hsKid  string // HS256: a fingerprint of the secret (HMAC, not a plain hash)
	issuer string
}

func (a jwtAlg) name() string {
	if a.hs {
		return jwt.SigningMethodHS256.Alg()
	}
	return jwt.SigningMethodEdDSA.Alg()
}

// jwtConfig reads jwt-algorithm, jwt-secret and jwt-issuer; it writes the
// error reply and returns false when HS256 has no usable secret.
func jwtConfig(c *Call) (jwtAlg, bool) {
	cfg := c.d.Config
	a := jwtAlg{issuer: cfg.Get("jwt-issuer")}
	if strings.EqualFold(cfg.Get("jwt-algorithm"), "hs256") {
		a.hs, a.secret = true, []byte(cfg.Get("jwt-secret"))
		if len(a.secret) < minHSSecret {
			c.W.Error(msgJWTSecret)
			return a, false
		}
		m := hmac.New(sha256.New, a.secret)
		m.Write([]byte("sessiond jwt kid v1"))
		a.hsKid = "hs-" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
	}
	return a, true
}

// sign turns an access token decided by the engine into a JWT. Header and
// claims are JSON objects with sorted keys and the signature schemes are
// deterministic, so the same AccessToken always gives the same JWT.
func (a jwtAlg) sign(at engine.AccessToken) (string, error) {
	claims := jwt.MapClaims{}
	if at.Claims != "" {
		dec := json.NewDecoder(strings.NewReader(at.Claims))
		dec.UseNumber()
		if err := dec.Decode(&claims); err != nil {
			return "", fmt.Errorf("stored claims: %w", err)
		}
	}
	claims["iss"] = a.issuer
	if at.Owner != "" {
		claims["sub"] = at.Owner
	}
	claims["sid"] = at.Handle
	// The jti is a UUID (RFC 9562) in its canonical text form: the 16
	// stored bytes are a version 4 UUID (randomJti), so a token signed
	// again within the grace carries the same jti.
	claims["jti"] = uuid.UUID(at.Jti).String()
	claims["iat"] = at.IssuedAt
	claims["exp"] = at.ExpiresAt
	if at.Audience != "" {
		claims["aud"] = at.Audience
	}
	if a.hs {
		t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		t.Header["kid"] = a.hsKid
		return t.SignedString(a.secret)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = at.Kid
	return t.SignedString(edKeyOf(at.Key).priv)
}

// ---- helpers ----

// jwtOutsideTx refuses to run inside MULTI/EXEC, where the command would
// sign or verify under EXEC's transaction.
func jwtOutsideTx(c *Call) bool {
	if c.tx != nil {
		c.W.Error(msgNotInMulti)
		return false
	}
	return true
}

func randomRefresh(c *Call) (r [engine.RefreshBytes]byte) {
	c.randRead(r[:])
	return
}

// randomJti draws an access token's jti: a version 4 UUID (122 random bits
// from crypto/rand). Version 4 rather than 7: a jti only has to be unique and
// unguessable, and version 7 would spend 48 of its bits on a millisecond
// timestamp (iat already says when) for an ordering nobody here indexes on.
func randomJti(c *Call) (r [engine.JTIBytes]byte) {
	c.randRead(r[:])
	r[6] = r[6]&0x0f | 0x40 // version 4
	r[8] = r[8]&0x3f | 0x80 // variant RFC 9562
	return
}

// parseClaims checks CLAIMS: a JSON object of at most maxClaimsLen bytes
// without reserved claims; it returns its canonical form (sorted keys,
// numbers kept as written).
func parseClaims(c *Call, raw []byte, withAudience bool) (string, bool) {
	if len(raw) > maxClaimsLen {
		c.W.Error(msgJWTClaimsLen)
		return "", false
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil || m == nil {
		c.W.Error(msgJWTClaimsJSON)
		return "", false
	}
	if _, err := dec.Token(); err != io.EOF {
		c.W.Error(msgJWTClaimsJSON) // something after the object
		return "", false
	}
	for _, r := range reservedClaims {
		if _, ok := m[r]; ok {
			c.W.Error(fmt.Sprintf(msgJWTClaimReserved, r))
			return "", false
		}
	}
	if _, ok := m["aud"]; ok && withAudience {
		c.W.Error(msgJWTAudTwice)
		return "", false
	}
	if len(m) == 0 {
		return "", true
	}
	b, err := json.Marshal(m)
	if err != nil {
		c.W.Error(msgJWTClaimsJSON)
		return "", false
	}
	return string(b), true
}

func writeGrant(c *Call, jwtStr, refresh string, expiresAt int64) {
	c.W.Map(3)
	c.W.BulkString("jwt")
	c.W.BulkString(jwtStr)
	c.W.BulkString("refresh")
	c.W.BulkString(refresh)
	c.W.BulkString("expires")
	c.W.Int(expiresAt * 1000)
}

// runGrant runs an issuing transaction, installing a first signing key or
// drawing fresh random bytes when the engine asks for it.
func runGrant(c *Call, redraw func(), fn func(tx *engine.Tx) (engine.JWTGrant, error)) (engine.JWTGrant, bool) {
	var g engine.JWTGrant
	for attempt := 0; ; attempt++ {
		err := c.Write(func(tx *engine.Tx) error {
			var err error
			g, err = fn(tx)
			return err
		})
		switch {
		case err == nil:
			return g, true
		case errors.Is(err, engine.ErrNoSigningKey) && attempt < 2:
			if err := ensureSigningKey(c); err != nil {
				writeErr(c, err)
				return g, false
			}
		case errors.Is(err, engine.ErrRefreshInUse) && attempt < 2:
			redraw()
		default:
			writeErr(c, err)
			return g, false
		}
	}
}

// ---- commands ----

func cmdSessJWT(c *Call) {
	if !jwtOutsideTx(c) {
		return
	}
	cfg := c.d.Config
	req := engine.JWTIssue{Token: c.Arg(1), TTL: cfg.Int("jwt-access-ttl"),
		RefreshTTL: cfg.Int("jwt-refresh-ttl") * 1000, Touch: cfg.Bool("session-auto-touch")}
	var claims []byte
	var seenClaims, seenTTL, seenAud bool
	for i := 2; i < len(c.Args); i += 2 {
		if i+1 >= len(c.Args) {
			c.W.Error(msgSyntax)
			return
		}
		switch {
		case keyword(c.Args[i], "CLAIMS") && !seenClaims:
			claims, seenClaims = c.Args[i+1], true
		case keyword(c.Args[i], "TTL") && !seenTTL:
			n, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(msgNotInt)
				return
			}
			if n < 1 || n > maxTimeoutSec {
				c.W.Error(fmt.Sprintf(msgInvalidExpire, c.Spec.Name))
				return
			}
			req.TTL, req.FamilyTTL, seenTTL = n, n, true
		case keyword(c.Args[i], "AUDIENCE") && !seenAud:
			req.Audience, seenAud = c.Arg(i+1), true
			if req.Audience == "" {
				c.W.Error(msgSyntax)
				return
			}
		default:
			c.W.Error(msgSyntax)
			return
		}
	}
	if seenClaims {
		var ok bool
		if req.Claims, ok = parseClaims(c, claims, seenAud); !ok {
			return
		}
	}
	alg, ok := jwtConfig(c)
	if !ok {
		return
	}
	req.Kid = alg.hsKid
	pol := sessPolicy(c)
	req.Refresh, req.Jti = randomRefresh(c), randomJti(c)
	g, ok := runGrant(c, func() { req.Refresh = randomRefresh(c) }, func(tx *engine.Tx) (engine.JWTGrant, error) {
		return tx.IssueJWT(req, pol)
	})
	if !ok {
		return
	}
	if g.Reason != engine.ReasonOK {
		writeFailure(c, g.Reason)
		return
	}
	tok, err := alg.sign(g.Access)
	if err != nil {
		writeErr(c, err)
		return
	}
	jwtStats(c.d).issued.Add(1)
	writeGrant(c, tok, g.Refresh, g.Access.ExpiresAt)
}

func cmdSessRefresh(c *Call) {
	if !jwtOutsideTx(c) {
		return
	}
	alg, ok := jwtConfig(c)
	if !ok {
		return
	}
	cfg := c.d.Config
	pol := sessPolicy(c)
	req := engine.JWTRefresh{Refresh: c.Arg(1), Next: randomRefresh(c), Jti: randomJti(c),
		DefaultTTL: cfg.Int("jwt-access-ttl"), Kid: alg.hsKid, Touch: cfg.Bool("session-auto-touch")}
	g, ok := runGrant(c, func() { req.Next = randomRefresh(c) }, func(tx *engine.Tx) (engine.JWTGrant, error) {
		return tx.RefreshJWT(req, pol)
	})
	if !ok {
		return
	}
	if g.Reason != engine.ReasonOK {
		if g.Reason == engine.ReasonReplayed {
			jwtStats(c.d).reused.Add(1)
		}
		writeFailure(c, g.Reason)
		return
	}
	tok, err := alg.sign(g.Access)
	if err != nil {
		writeErr(c, err)
		return
	}
	jwtStats(c.d).refreshed.Add(1)
	writeGrant(c, tok, g.Refresh, g.Access.ExpiresAt)
}

// errUnknownKey: the token names no live key of this server.
var errUnknownKey = errors.New("unknown key")

func cmdSessVerify(c *Call) {
	if !jwtOutsideTx(c) {
		return
	}
	aud, hasAud := "", false
	switch {
	case len(c.Args) == 4 && keyword(c.Args[2], "AUDIENCE"):
		aud, hasAud = c.Arg(3), true
	case len(c.Args) != 2:
		c.W.Error(msgSyntax)
		return
	}
	alg, ok := jwtConfig(c)
	if !ok {
		return
	}
	st := jwtStats(c.d)
	fail := func(r engine.Reason) {
		st.rejected.Add(1)
		writeFailure(c, r)
	}
	raw := c.Arg(1)
	if len(raw) > maxJWTLen {
		fail(engine.ReasonSignature)
		return
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{alg.name()}), // the allow-list: one algorithm, never none
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(alg.issuer),
		jwt.WithTimeFunc(func() time.Time { return c.Now }),
		jwt.WithJSONNumber(),
		jwt.WithStrictDecoding(),
	}
	if hasAud {
		opts = append(opts, jwt.WithAudience(aud))
	}
	var kid string
	var pub ed25519.PublicKey // nil for HS256
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(opts...).ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if _, crit := t.Header["crit"]; crit {
			return nil, errUnknownKey // no extension is understood here (RFC 7515 4.1.11)
		}
		kid, _ = t.Header["kid"].(string)
		if alg.hs {
			if kid != alg.hsKid {
				return nil, errUnknownKey
			}
			return alg.secret, nil
		}
		if kid == "" {
			return nil, errUnknownKey
		}
		if v, ok := edKeys.Load(kid); ok {
			pub = v.(*edKey).pub
			return pub, nil
		}
		var k engine.SigningKey
		found := false
		_ = c.Read(func(tx *engine.Tx) error {
			k, found = tx.SigningKeyByID(kid)
			return nil
		})
		if !found {
			return nil, errUnknownKey
		}
		pub = edKeyOf(k).pub
		return pub, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenMalformed), errors.Is(err, jwt.ErrTokenUnverifiable):
		fail(engine.ReasonSignature)
		return
	case errors.Is(err, jwt.ErrTokenExpired):
		fail(engine.ReasonExpired)
		return
	default:
		fail(engine.ReasonClaims)
		return
	}
	sid, _ := claims["sid"].(string)
	if sid == "" {
		fail(engine.ReasonClaims)
		return
	}
	var r engine.Reason
	_ = c.Read(func(tx *engine.Tx) error {
		r = tx.CheckJWT(kid, []byte(pub), sid)
		return nil
	})
	if r != engine.ReasonOK {
		fail(r)
		return
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	if err != nil { // cannot happen: the parser decoded it
		fail(engine.ReasonSignature)
		return
	}
	st.verified.Add(1)
	c.W.Map(2)
	c.W.BulkString("ok")
	c.W.Int(1)
	c.W.BulkString("claims")
	c.W.Bulk(payload)
}

// jwk is one public key of SESS.JWKS, members in RFC 8037 order.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

func cmdSessJWKS(c *Call) {
	cfg := c.d.Config
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	if !strings.EqualFold(cfg.Get("jwt-algorithm"), "hs256") {
		var keys []engine.SigningKey
		read := func() {
			_ = c.Read(func(tx *engine.Tx) error {
				keys = tx.SigningKeys()
				return nil
			})
		}
		read()
		if len(keys) == 0 && c.tx == nil {
			if err := ensureSigningKey(c); err != nil {
				writeErr(c, err)
				return
			}
			read()
		}
		for _, k := range keys {
			doc.Keys = append(doc.Keys, jwk{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Public),
				Kid: k.Kid, Use: "sig", Alg: "EdDSA"})
		}
	}
	b, _ := json.Marshal(doc)
	c.W.Bulk(b)
}

func cmdSessRotateKey(c *Call) {
	if !jwtOutsideTx(c) {
		return
	}
	if strings.EqualFold(c.d.Config.Get("jwt-algorithm"), "hs256") {
		c.W.Error(msgJWTRotateHS)
		return
	}
	k, err := newSigningKey(c)
	if err != nil {
		writeErr(c, err)
		return
	}
	err = c.Write(func(tx *engine.Tx) error {
		_, _, err := tx.RotateSigningKey(k)
		return err
	})
	if err != nil {
		writeErr(c, err)
		return
	}
	jwtStats(c.d).rotated.Add(1)
	c.W.BulkString(k.Kid)
}

func infoJWT(c *Call, b *strings.Builder) {
	d := c.d
	var keys int
	_ = c.Read(func(tx *engine.Tx) error {
		keys = len(tx.SigningKeys())
		return nil
	})
	st := jwtStats(d)
	fmt.Fprintf(b, "jwt_algorithm:%s\r\njwt_signing_keys:%d\r\n", strings.ToLower(d.Config.Get("jwt-algorithm")), keys)
	fmt.Fprintf(b, "jwt_issued:%d\r\njwt_refreshed:%d\r\njwt_refresh_reused:%d\r\njwt_verified:%d\r\njwt_rejected:%d\r\njwt_keys_rotated:%d\r\n",
		st.issued.Load(), st.refreshed.Load(), st.reused.Load(), st.verified.Load(), st.rejected.Load(), st.rotated.Load())
}
