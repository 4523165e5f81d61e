package engine

// JWT signing keys and refresh-token families (SESS.JWT, SESS.REFRESH,
// SESS.VERIFY, SESS.JWKS, SESS.ROTATEKEY).
//
// The engine never signs or verifies: it keeps the keys, decides what an
// access token says (kid, jti, iat, exp, sid, sub, aud, custom claims) inside
// one transaction, and the command layer signs or verifies outside the lock.
// Key material and random bytes come from the caller.
//
// # Layout (reserved databases, invisible to KEYS/SCAN/DBSIZE/FLUSHDB;
// FLUSHALL clears them, keys included)
//
//	"k" 0xFA kid               signing key (TypeJWTKey): Ed25519 seed and public
//	                           key, created, retired. Deadline 0 while it signs;
//	                           once rotated out, the exp of the last access token
//	                           it signed, so the expirer drops it exactly when no
//	                           token it signed can verify any more
//	"k" 0xFB "cur"             signing state (TypeJWTState): the current kid and
//	                           the latest exp it has signed (ms), rewritten only
//	                           when that exp grows (at most once a second)
//	"k" 0xFC sha256(refresh)   refresh token entry (TypeRefreshToken): handle,
//	                           generation, state. A rotated-out entry holds its
//	                           successor sealed with a key derived from itself and
//	                           the successor access token's kid/jti/iat/exp, so a
//	                           retry within the grace gets the same pair back.
//	                           Deadline: the family's
//	"k" 0xFD handle            refresh family (TypeRefreshFamily), one per session:
//	                           current generation, access TTL, audience, custom
//	                           claims. Deadline: created + jwt-refresh-ttl
//	                           (absolute: rotation never extends it)
//	"c" 0xFD len handle gen    SHA-256 of the refresh token of each generation
//	                           still remembered
//
// 0xFE is reserved for this family and unused.
//
// A session's family ends with the session, in the same transaction
// (OnSessionEnd): destroyed or expired, it is deleted with its entries;
// revoked (SESS.REVOKE, a replayed session token, a reused refresh token), it
// stays as a tombstone for at most RevokedTombstoneTTL so that its refresh
// tokens and access tokens answer `revoked` rather than `unknown`.
// SESS.JWT starts the session's family anew: the previous family's refresh
// tokens stop (`unknown`).

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
)

// Record types of the JWT namespace.
const (
	TypeJWTKey        byte = 'J' // signing key, db dbJWTKey
	TypeJWTState      byte = 'W' // signing state, db dbJWTState
	TypeRefreshToken  byte = 'R' // refresh token entry, db dbRefresh
	TypeRefreshFamily byte = 'F' // refresh family, db dbRefreshFamily
)

// Reserved databases of the JWT namespace.
const (
	dbJWTKey        = 0xFA
	dbJWTState      = 0xFB
	dbRefresh       = 0xFC
	dbRefreshFamily = 0xFD
)

// Reasons of SESS.VERIFY beyond the session ones.
const (
	ReasonSignature Reason = "signature" // malformed, unknown key, wrong algorithm, bad signature
	ReasonClaims    Reason = "claims"    // iss, aud, nbf, exp missing, no sid
)

// RefreshBytes is the number of random bytes of a refresh token (256 bits).
const RefreshBytes = 32

// JTIBytes is the number of random bytes of an access token's jti.
const JTIBytes = 16

// Ed25519 sizes (crypto/ed25519 lives in the command layer).
const (
	ed25519SeedLen = 32
	ed25519PubLen  = 32
)

// Errors of the JWT operations.
var (
	// ErrNoSigningKey: no current Ed25519 key yet (first start, or after
	// FLUSHALL); the caller generates one (InstallSigningKey) and retries.
	ErrNoSigningKey = errors.New("ERR no signing key")
	// ErrRefreshInUse: the drawn refresh token collides with a stored one.
	ErrRefreshInUse = errors.New("ERR refresh token collision, retry")
	// ErrBadSigningKey: key material of the wrong size.
	ErrBadSigningKey = errors.New("ERR invalid signing key")
)

// SigningKey is an Ed25519 signing key as stored.
type SigningKey struct {
	Kid     string
	Seed    []byte // private seed (ed25519.NewKeyFromSeed)
	Public  []byte // public key
	Created int64  // Unix ms
	Retired int64  // Unix ms; 0 = the current key
	Expires int64  // retired keys: when it is dropped (Unix ms); 0 = current
}

// AccessToken is what an access token says, decided inside the transaction;
// the command layer signs it outside the lock. Signing the same AccessToken
// twice gives the same JWT (Ed25519 and HMAC are deterministic), which is how
// a retried refresh returns the same pair.
type AccessToken struct {
	Kid       string
	Key       SigningKey // EdDSA: the key to sign with (zero with a caller-given kid)
	Jti       [JTIBytes]byte
	IssuedAt  int64 // Unix s
	ExpiresAt int64 // Unix s
	Handle    string
	Owner     string
	Audience  string
	Claims    string // custom claims, a JSON object; "" none
}

// JWTGrant is the answer of IssueJWT and RefreshJWT: an access token to sign
// and a refresh token, or a reason.
type JWTGrant struct {
	Reason  Reason
	Access  AccessToken
	Refresh string
}

// JWTIssue describes SESS.JWT.
type JWTIssue struct {
	Token      string             // the session token (AuthSession rules)
	Refresh    [RefreshBytes]byte // the refresh token's random bytes
	Jti        [JTIBytes]byte
	TTL        int64 // access token lifetime, s (> 0)
	FamilyTTL  int64 // lifetime of the family's later access tokens, s; 0 = RefreshJWT's DefaultTTL
	RefreshTTL int64 // the family's absolute lifetime, ms (> 0)
	Audience   string
	Claims     string
	Kid        string // a caller-managed key (HS256); "" = the current Ed25519 key
	Touch      bool   // touch the session
}

// JWTRefresh describes SESS.REFRESH.
type JWTRefresh struct {
	Refresh    string
	Next       [RefreshBytes]byte // the successor's random bytes
	Jti        [JTIBytes]byte
	DefaultTTL int64 // s, when the family has no TTL of its own
	Kid        string
	Touch      bool
}

// ---- encoding ----

const jwtVersion = 1

type jwtState struct {
	kid     string
	lastExp int64 // ms
}

func jwtStateKey() string { return itemKey(dbJWTState, "cur") }

func encodeSigningKey(k *SigningKey) string {
	b := make([]byte, 0, 96+len(k.Kid))
	b = append(b, jwtVersion, 'E')
	b = append(b, k.Seed...)
	b = append(b, k.Public...)
	b = binary.AppendUvarint(b, uint64(k.Created))
	b = binary.AppendUvarint(b, uint64(k.Retired))
	return string(b)
}

func decodeSigningKey(kid string, r Record) (SigningKey, bool) {
	d := decoder{s: r.Payload}
	if d.byte1() != jwtVersion || d.byte1() != 'E' {
		return SigningKey{}, false
	}
	k := SigningKey{Kid: kid}
	k.Seed = []byte(d.bytes(ed25519SeedLen))
	k.Public = []byte(d.bytes(ed25519PubLen))
	k.Created = int64(d.uvarint())
	k.Retired = int64(d.uvarint())
	k.Expires = r.Deadline
	return k, !d.bad
}

type refreshFamily struct {
	revoked bool
	gen     uint64 // generation of the current refresh token
	oldest  uint64 // oldest generation possibly remembered
	created int64
	ttl     int64 // s; 0 = the default at refresh time
	aud     string
	claims  string

	deadline int64
}

func encodeRefreshFamily(f *refreshFamily) string {
	b := make([]byte, 0, 48+len(f.aud)+len(f.claims))
	var flags byte
	if f.revoked {
		flags |= 1
	}
	b = append(b, jwtVersion, flags)
	b = binary.AppendUvarint(b, f.gen)
	b = binary.AppendUvarint(b, f.oldest)
	b = binary.AppendUvarint(b, uint64(f.created))
	b = binary.AppendUvarint(b, uint64(f.ttl))
	b = appendStr(b, f.aud)
	b = appendStr(b, f.claims)
	return string(b)
}

func decodeRefreshFamily(payload string) (refreshFamily, bool) {
	d := decoder{s: payload}
	if d.byte1() != jwtVersion {
		return refreshFamily{}, false
	}
	f := refreshFamily{revoked: d.byte1()&1 != 0}
	f.gen = d.uvarint()
	f.oldest = d.uvarint()
	f.created = int64(d.uvarint())
	f.ttl = int64(d.uvarint())
	f.aud = d.str()
	f.claims = d.str()
	return f, !d.bad
}

// refresh entry states
const (
	refreshCurrent = 'c'
	refreshRotated = 'r'
)

type refreshEntry struct {
	state  byte
	gen    uint64
	handle string
	// rotated-out entries:
	rotatedAt int64
	sealed    string // the successor's random bytes, sealed
	next      accessStamp

	deadline int64
}

// accessStamp is what varies between two access tokens of one family.
type accessStamp struct {
	kid      string
	jti      [JTIBytes]byte
	iat, exp int64 // s
}

func encodeRefreshEntry(t *refreshEntry) string {
	b := make([]byte, 0, 128+len(t.handle))
	b = append(b, jwtVersion, t.state)
	b = binary.AppendUvarint(b, t.gen)
	b = appendStr(b, t.handle)
	if t.state == refreshRotated {
		b = binary.AppendUvarint(b, uint64(t.rotatedAt))
		b = append(b, t.sealed...)
		b = appendStr(b, t.next.kid)
		b = append(b, t.next.jti[:]...)
		b = binary.AppendUvarint(b, uint64(t.next.iat))
		b = binary.AppendUvarint(b, uint64(t.next.exp))
	}
	return string(b)
}

func decodeRefreshEntry(payload string) (refreshEntry, bool) {
	d := decoder{s: payload}
	if d.byte1() != jwtVersion {
		return refreshEntry{}, false
	}
	t := refreshEntry{state: d.byte1()}
	t.gen = d.uvarint()
	t.handle = d.str()
	if t.state == refreshRotated {
		t.rotatedAt = int64(d.uvarint())
		t.sealed = d.bytes(RefreshBytes)
		t.next.kid = d.str()
		copy(t.next.jti[:], d.bytes(JTIBytes))
		t.next.iat = int64(d.uvarint())
		t.next.exp = int64(d.uvarint())
	}
	return t, !d.bad
}

// sealRefresh XORs the successor's random bytes with a key only the holder
// of the old refresh token can derive (its own label: a refresh token and a
// session token never seal with the same key).
func sealRefresh(oldToken string, raw []byte) string {
	m := hmac.New(sha256.New, []byte(oldToken))
	m.Write([]byte("sessiond refresh successor v1"))
	k := m.Sum(nil)
	out := make([]byte, len(raw))
	for i := range raw {
		out[i] = raw[i] ^ k[i%len(k)]
	}
	return string(out)
}

func refreshKey(h [32]byte) string { return itemKey(dbRefresh, string(h[:])) }

func refreshFamilyKey(handle string) string { return itemKey(dbRefreshFamily, handle) }

func refreshGenChild(handle string, gen uint64) string {
	var g [8]byte
	binary.BigEndian.PutUint64(g[:], gen)
	return childPrefix(dbRefreshFamily, handle) + string(g[:])
}

// ---- low-level access ----

func (tx *Tx) jwtSet(item, val string) {
	if item[0] == 'k' {
		tx.setItem(item, val)
		return
	}
	_, _, _ = tx.bt.Set(item, val, nil)
	tx.wrote = true
}

func (tx *Tx) jwtDel(item string) {
	if _, err := tx.bt.Delete(item); err == nil {
		tx.wrote = true
	}
}

// jwtRecord returns the record stored at item. An expired one is reported
// as such and reaped (now in a write transaction, right after a read one).
func (tx *Tx) jwtRecord(item string, typ byte) (r Record, found, isExpired bool) {
	v, err := tx.bt.Get(item, true)
	if err != nil {
		return Record{}, false, false
	}
	r = decodeRecord(item, v)
	if r.Type != typ {
		return Record{}, false, false
	}
	if expired(r.Deadline, tx.Now) {
		if tx.writable {
			tx.expireRecord(r)
		} else {
			tx.noteExpired(item)
		}
		return Record{}, false, true
	}
	return r, true, false
}

func init() {
	declareOpen(func(e *Engine) {
		e.OnDrop(TypeRefreshFamily, func(tx *Tx, r Record, _ DropReason) {
			tx.dropRefreshEntries(r.Key)
		})
		e.OnSessionEnd(func(tx *Tx, s Session, why SessionEndReason) {
			if s.deps&sessDepJWT != 0 {
				tx.endRefreshFamily(s.Handle, why.revokes())
			}
		})
	})
}

// dropRefreshEntries deletes every remembered refresh token of a family and
// the generation index (the family record itself is deleted by the caller).
func (tx *Tx) dropRefreshEntries(handle string) {
	prefix := childPrefix(dbRefreshFamily, handle)
	var hashes []string
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		hashes = append(hashes, v)
		return true
	})
	for _, h := range hashes {
		tx.jwtDel(itemKey(dbRefresh, h))
	}
	tx.deletePrefix(prefix)
}

// endRefreshFamily ends the family of a session that ended: deleted, or left
// as a revoked tombstone.
func (tx *Tx) endRefreshFamily(handle string, revoked bool) {
	ik := refreshFamilyKey(handle)
	v, err := tx.bt.Get(ik, true)
	if err != nil {
		return
	}
	r := decodeRecord(ik, v)
	f, ok := decodeRefreshFamily(r.Payload)
	if !revoked || !ok || expired(r.Deadline, tx.Now) {
		tx.removeRecord(r, DropDeleted)
		return
	}
	if f.revoked {
		return
	}
	f.revoked = true
	dl := tx.Now + RevokedTombstoneTTL
	if r.Deadline != 0 && r.Deadline < dl {
		dl = r.Deadline
	}
	tx.jwtSet(ik, encodeRecord(TypeRefreshFamily, dl, encodeRefreshFamily(&f)))
}

// ---- signing keys ----

func (tx *Tx) jwtState() (jwtState, bool) {
	ik := jwtStateKey()
	v, err := tx.bt.Get(ik, true)
	if err != nil {
		return jwtState{}, false
	}
	d := decoder{s: decodeRecord(ik, v).Payload}
	if d.byte1() != jwtVersion {
		return jwtState{}, false
	}
	st := jwtState{kid: d.str(), lastExp: int64(d.uvarint())}
	return st, !d.bad
}

func (tx *Tx) putJWTState(st jwtState) {
	b := []byte{jwtVersion}
	b = appendStr(b, st.kid)
	b = binary.AppendUvarint(b, uint64(st.lastExp))
	tx.jwtSet(jwtStateKey(), encodeRecord(TypeJWTState, 0, string(b)))
}

// SigningKeyByID returns the live signing key with this kid (current or
// retired and not yet dropped).
func (tx *Tx) SigningKeyByID(kid string) (SigningKey, bool) {
	ik := itemKey(dbJWTKey, kid)
	r, ok, _ := tx.jwtRecord(ik, TypeJWTKey)
	if !ok {
		return SigningKey{}, false
	}
	return decodeSigningKey(kid, r)
}

// CurrentSigningKey returns the key SESS.JWT signs with, if there is one.
func (tx *Tx) CurrentSigningKey() (SigningKey, bool) {
	st, ok := tx.jwtState()
	if !ok || st.kid == "" {
		return SigningKey{}, false
	}
	k, ok := tx.SigningKeyByID(st.kid)
	if !ok || k.Retired != 0 {
		return SigningKey{}, false
	}
	return k, true
}

// SigningKeys returns the live signing keys, the current one first, then
// the retired ones newest first.
func (tx *Tx) SigningKeys() []SigningKey {
	cur, hasCur := tx.CurrentSigningKey()
	var out []SigningKey
	if hasCur {
		out = append(out, cur)
	}
	prefix := dbPrefix(dbJWTKey)
	var retired []SigningKey
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		r := decodeRecord(k, v)
		if r.Type != TypeJWTKey || expired(r.Deadline, tx.Now) || (hasCur && r.Key == cur.Kid) {
			return true
		}
		if sk, ok := decodeSigningKey(r.Key, r); ok {
			retired = append(retired, sk)
		}
		return true
	})
	for i := 1; i < len(retired); i++ { // newest first (few keys: insertion sort)
		for j := i; j > 0 && retired[j].Retired > retired[j-1].Retired; j-- {
			retired[j], retired[j-1] = retired[j-1], retired[j]
		}
	}
	return append(out, retired...)
}

func validKeyMaterial(k SigningKey) bool {
	return k.Kid != "" && len(k.Seed) == ed25519SeedLen && len(k.Public) == ed25519PubLen
}

func (tx *Tx) putSigningKey(k SigningKey, deadline int64) {
	tx.jwtSet(itemKey(dbJWTKey, k.Kid), encodeRecord(TypeJWTKey, deadline, encodeSigningKey(&k)))
}

// InstallSigningKey makes k the current key unless there already is one (a
// concurrent first use got there first); it returns the current key and
// whether k was installed.
func (tx *Tx) InstallSigningKey(k SigningKey) (SigningKey, bool, error) {
	if cur, ok := tx.CurrentSigningKey(); ok {
		return cur, false, nil
	}
	if !validKeyMaterial(k) {
		return SigningKey{}, false, ErrBadSigningKey
	}
	k.Created, k.Retired, k.Expires = tx.Now, 0, 0
	tx.putSigningKey(k, 0)
	tx.putJWTState(jwtState{kid: k.Kid})
	return k, true, nil
}

// RotateSigningKey makes k the current key. The previous current key keeps
// verifying until the last access token it signed expires, and is dropped
// then; it is returned (ok false when there was none).
func (tx *Tx) RotateSigningKey(k SigningKey) (SigningKey, bool, error) {
	if !validKeyMaterial(k) {
		return SigningKey{}, false, ErrBadSigningKey
	}
	if _, exists := tx.SigningKeyByID(k.Kid); exists {
		return SigningKey{}, false, ErrBadSigningKey
	}
	st, _ := tx.jwtState()
	old, had := tx.CurrentSigningKey()
	if had {
		old.Retired = tx.Now
		old.Expires = max(st.lastExp, tx.Now)
		tx.putSigningKey(old, old.Expires)
	}
	k.Created, k.Retired, k.Expires = tx.Now, 0, 0
	tx.putSigningKey(k, 0)
	tx.putJWTState(jwtState{kid: k.Kid})
	return old, had, nil
}

// accessKey picks the key of a new access token: a caller-managed kid
// (HS256), or the current Ed25519 key.
func (tx *Tx) accessKey(kid string) (string, SigningKey, error) {
	if kid != "" {
		return kid, SigningKey{}, nil
	}
	k, ok := tx.CurrentSigningKey()
	if !ok {
		return "", SigningKey{}, ErrNoSigningKey
	}
	return k.Kid, k, nil
}

// noteSigned records that the current key signs a token expiring at exp
// (Unix s), so that the key outlives every token it signed. It writes only
// when that exp is later than any before (at most once a second).
func (tx *Tx) noteSigned(key SigningKey, exp int64) {
	if key.Kid == "" {
		return
	}
	st, _ := tx.jwtState()
	if ms := exp * 1000; st.kid != key.Kid || ms > st.lastExp {
		tx.putJWTState(jwtState{kid: key.Kid, lastExp: max(ms, st.lastExp)})
	}
}

// ---- refresh families ----

func (tx *Tx) getRefreshFamily(handle string) (refreshFamily, Reason) {
	r, ok, exp := tx.jwtRecord(refreshFamilyKey(handle), TypeRefreshFamily)
	if !ok {
		if exp {
			return refreshFamily{}, ReasonExpired
		}
		return refreshFamily{}, ReasonUnknown
	}
	f, ok := decodeRefreshFamily(r.Payload)
	if !ok {
		return refreshFamily{}, ReasonUnknown
	}
	f.deadline = r.Deadline
	if f.revoked {
		return f, ReasonRevoked
	}
	return f, ReasonOK
}

func (tx *Tx) putRefreshFamily(handle string, f *refreshFamily) {
	tx.jwtSet(refreshFamilyKey(handle), encodeRecord(TypeRefreshFamily, f.deadline, encodeRefreshFamily(f)))
}

func (tx *Tx) putRefreshEntry(h [32]byte, t *refreshEntry) {
	tx.jwtSet(refreshKey(h), encodeRecord(TypeRefreshToken, t.deadline, encodeRefreshEntry(t)))
}

// addRefreshToken makes h the family's current refresh token (generation
// f.gen+1), forgetting the oldest remembered ones beyond MaxRememberedTokens.
func (tx *Tx) addRefreshToken(handle string, f *refreshFamily, h [32]byte) {
	f.gen++
	tx.putRefreshEntry(h, &refreshEntry{state: refreshCurrent, gen: f.gen, handle: handle, deadline: f.deadline})
	tx.jwtSet(refreshGenChild(handle, f.gen), string(h[:]))
	for f.gen-f.oldest >= MaxRememberedTokens {
		ck := refreshGenChild(handle, f.oldest)
		if v, err := tx.bt.Get(ck, true); err == nil {
			tx.jwtDel(itemKey(dbRefresh, v))
			tx.jwtDel(ck)
		}
		f.oldest++
	}
}

func (f *refreshFamily) access(s Session, st accessStamp, key SigningKey) AccessToken {
	return AccessToken{Kid: st.kid, Key: key, Jti: st.jti, IssuedAt: st.iat, ExpiresAt: st.exp,
		Handle: s.Handle, Owner: s.Owner, Audience: f.aud, Claims: f.claims}
}

// IssueJWT authenticates the session token (AuthSession rules: a replayed
// token revokes in this transaction), starts the session's refresh family
// anew, and returns the access token to sign and the refresh token.
func (tx *Tx) IssueJWT(req JWTIssue, pol SessionPolicy) (JWTGrant, error) {
	iat := tx.Now / 1000
	exp := iat + req.TTL
	// Key first: a missing key rolls the transaction back before anything
	// (a replay revocation included) is written.
	kid, key, err := tx.accessKey(req.Kid)
	if err != nil {
		return JWTGrant{}, err
	}
	refresh := FormatToken("", req.Refresh)
	h := HashToken(refresh)
	if _, found, _ := tx.jwtRecord(refreshKey(h), TypeRefreshToken); found {
		return JWTGrant{}, ErrRefreshInUse
	}
	s, r := tx.AuthSession(req.Token, pol)
	if r != ReasonOK {
		return JWTGrant{Reason: r}, nil
	}
	tx.noteSigned(key, exp)
	if old, ok, _ := tx.jwtRecord(refreshFamilyKey(s.Handle), TypeRefreshFamily); ok {
		tx.removeRecord(old, DropDeleted)
	}
	f := refreshFamily{oldest: 1, created: tx.Now, ttl: req.FamilyTTL, aud: req.Audience,
		claims: req.Claims, deadline: tx.Now + req.RefreshTTL}
	tx.addRefreshToken(s.Handle, &f, h)
	tx.markSessionDeps(s.Handle, sessDepJWT) // its end must find the family
	tx.putRefreshFamily(s.Handle, &f)
	if req.Touch {
		tx.touchSession(&s)
	}
	st := accessStamp{kid: kid, jti: req.Jti, iat: iat, exp: exp}
	return JWTGrant{Access: f.access(s, st, key), Refresh: refresh}, nil
}

// RefreshJWT redeems a refresh token. The current token of a live family of
// a live, attached session is rotated: the reply is a new access token and
// a new refresh token, and the old one answers for pol.RotateGrace with the
// same pair. A rotated-out token presented after the grace is theft: the
// session and its whole family are revoked (RFC 9700 section 4.14.2) and the
// reason is ReasonReplayed.
func (tx *Tx) RefreshJWT(req JWTRefresh, pol SessionPolicy) (JWTGrant, error) {
	h := HashToken(req.Refresh)
	r, found, isExp := tx.jwtRecord(refreshKey(h), TypeRefreshToken)
	if !found {
		if isExp {
			return JWTGrant{Reason: ReasonExpired}, nil
		}
		return JWTGrant{Reason: ReasonUnknown}, nil
	}
	t, ok := decodeRefreshEntry(r.Payload)
	if !ok {
		return JWTGrant{Reason: ReasonUnknown}, nil
	}
	t.deadline = r.Deadline
	f, fr := tx.getRefreshFamily(t.handle)
	if fr != ReasonOK {
		return JWTGrant{Reason: fr}, nil
	}
	if (t.state == refreshCurrent && t.gen != f.gen) || (t.state == refreshRotated && t.gen >= f.gen) {
		return JWTGrant{Reason: ReasonUnknown}, nil // not of this family's chain
	}
	s, sr := tx.getSession(t.handle)
	if sr != ReasonOK {
		return JWTGrant{Reason: sr}, nil
	}
	if s.Detached {
		return JWTGrant{Reason: ReasonDetached}, nil
	}
	if t.state == refreshRotated {
		if tx.Now > t.rotatedAt+pol.RotateGrace {
			tx.e.sess.stats.Replayed.Add(1)
			tx.sessEventOf("refresh-reuse", &s, "replayed")
			tx.endSession(s, SessionRefreshReuse)
			return JWTGrant{Reason: ReasonReplayed}, nil
		}
		// A retry within the grace: the same pair, whatever happened since.
		var next [RefreshBytes]byte
		copy(next[:], sealRefresh(req.Refresh, []byte(t.sealed)))
		st := t.next
		var key SigningKey
		if req.Kid == "" {
			var ok bool
			if key, ok = tx.SigningKeyByID(st.kid); !ok {
				// Dropped: every token it signed has expired, this one too.
				if key, ok = tx.CurrentSigningKey(); !ok {
					return JWTGrant{}, ErrNoSigningKey
				}
				st.kid = key.Kid
			}
		}
		return JWTGrant{Access: f.access(s, st, key), Refresh: FormatToken("", next)}, nil
	}
	ttl := f.ttl
	if ttl <= 0 {
		ttl = req.DefaultTTL
	}
	iat := tx.Now / 1000
	exp := iat + ttl
	kid, key, err := tx.accessKey(req.Kid)
	if err != nil {
		return JWTGrant{}, err
	}
	nextTok := FormatToken("", req.Next)
	nh := HashToken(nextTok)
	if _, found, _ := tx.jwtRecord(refreshKey(nh), TypeRefreshToken); found {
		return JWTGrant{}, ErrRefreshInUse
	}
	tx.noteSigned(key, exp)
	st := accessStamp{kid: kid, jti: req.Jti, iat: iat, exp: exp}
	t.state, t.rotatedAt, t.next = refreshRotated, tx.Now, st
	t.sealed = sealRefresh(req.Refresh, req.Next[:])
	tx.putRefreshEntry(h, &t)
	tx.addRefreshToken(s.Handle, &f, nh)
	tx.markSessionDeps(s.Handle, sessDepJWT) // its end must find the family
	tx.putRefreshFamily(s.Handle, &f)
	if req.Touch {
		tx.touchSession(&s)
	}
	return JWTGrant{Access: f.access(s, st, key), Refresh: nextTok}, nil
}

// CheckJWT is SESS.VERIFY's transaction, after the signature and the claims
// have been verified outside the lock: the key that verified it must still be
// a live signing key of this server (pub: its public key; nil for a
// caller-managed HS256 key), and the session named by sid must be alive and
// attached. Destroy, revoke, expiry and replay therefore take effect for
// access tokens at once.
func (tx *Tx) CheckJWT(kid string, pub []byte, sid string) Reason {
	if pub != nil {
		k, ok := tx.SigningKeyByID(kid)
		if !ok || !bytes.Equal(k.Public, pub) {
			return ReasonSignature
		}
	}
	s, r := tx.getSession(sid)
	switch {
	case r == ReasonUnknown:
		if _, fr := tx.getRefreshFamily(sid); fr == ReasonRevoked {
			return ReasonRevoked
		}
		return ReasonUnknown
	case r != ReasonOK:
		return r
	case s.Detached:
		return ReasonDetached
	}
	return ReasonOK
}

// RefreshTokenCount reports how many refresh tokens of the session's family
// are remembered: current (at most one) and rotated-out. Tests use it.
func (tx *Tx) RefreshTokenCount(handle string) (current, rotated int) {
	prefix := childPrefix(dbRefreshFamily, handle)
	tx.bt.AscendGreaterOrEqual("", prefix, func(k, v string) bool {
		if !strings.HasPrefix(k, prefix) {
			return false
		}
		if ev, err := tx.bt.Get(itemKey(dbRefresh, v), true); err == nil {
			if t, ok := decodeRefreshEntry(decodeRecord("", ev).Payload); ok {
				if t.state == refreshCurrent {
					current++
				} else {
					rotated++
				}
			}
		}
		return true
	})
	return
}

// JWTFootprint counts every item of the refresh namespace (family records,
// generation index, token entries). Tests use it to show that ending a
// session leaves nothing behind.
func (tx *Tx) JWTFootprint() int {
	n := 0
	for _, p := range []string{dbPrefix(dbRefresh), dbPrefix(dbRefreshFamily), string([]byte{'c', dbRefreshFamily})} {
		tx.bt.AscendGreaterOrEqual("", p, func(k, _ string) bool {
			if !strings.HasPrefix(k, p) {
				return false
			}
			n++
			return true
		})
	}
	return n
}
