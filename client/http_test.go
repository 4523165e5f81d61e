package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/client"
	"github.com/sessiond/sessiond/internal/testserver"
)

// browser is an HTTP client with its own cookie jar, as a user agent.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, http: &http.Client{Jar: jar}}
}

type response struct {
	status    int
	body      map[string]any
	setCookie []string
}

func (b *browser) do(method, path string) response {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, setCookie: res.Header.Values("Set-Cookie")}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		b.t.Fatalf("%s %s: HTTP %d %q", method, path, res.StatusCode, raw)
	}
	return out
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.base)
	b.http.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func gorillaApp(t *testing.T, store *client.Store) *httptest.Server {
	mux := http.NewServeMux()
	get := func(r *http.Request) *sessions.Session {
		s, err := store.Get(r, "app")
		if err != nil {
			t.Errorf("store.Get: %v", err)
		}
		return s
	}
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		s := get(r)
		n, _ := s.Values["views"].(int)
		s.Values["views"] = n + 1
		if err := s.Save(r, w); err != nil {
			t.Errorf("Save: %v", err)
		}
		writeJSON(w, map[string]any{"views": n + 1})
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := get(r)
		s.Values["user"] = r.URL.Query().Get("user")
		if err := s.Save(r, w); err != nil {
			t.Errorf("Save: %v", err)
		}
		writeJSON(w, map[string]any{"ok": true})
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		s := get(r)
		user, _ := s.Values["user"].(string)
		n, _ := s.Values["views"].(int)
		writeJSON(w, map[string]any{"user": user, "views": n, "new": s.IsNew})
	})
	mux.HandleFunc("/revoke-then-save", func(w http.ResponseWriter, r *http.Request) {
		// a save that races a "log out everywhere" from elsewhere
		s := get(r)
		user, _ := s.Values["user"].(string)
		if _, err := store.RevokeOwner(r.Context(), user); err != nil {
			t.Errorf("RevokeOwner: %v", err)
		}
		s.Values["views"] = 99
		if err := s.Save(r, w); err != nil {
			t.Errorf("Save: %v", err)
		}
		writeJSON(w, map[string]any{"ok": true})
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		s := get(r)
		s.Options.MaxAge = -1
		if err := s.Save(r, w); err != nil {
			t.Errorf("Save: %v", err)
		}
		writeJSON(w, map[string]any{"ok": true})
	})
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)
	return web
}

func TestGorillaStore(t *testing.T) {
	srv := testserver.Start(t)
	ctx := context.Background()
	srv.Protocols(t, func(t *testing.T, rdb *redis.Client) {
		for _, keys := range [][][]byte{nil, {[]byte("0123456789abcdef0123456789abcdef")}} {
			t.Run(fmt.Sprintf("keys=%d", len(keys)), func(t *testing.T) {
				c := client.New(rdb)
				store := client.NewStore(c, keys...)
				store.Options.MaxAge = 600
				store.Absolute = 2 * time.Hour
				store.Owner = func(s *sessions.Session) string { u, _ := s.Values["user"].(string); return u }
				web := gorillaApp(t, store)

				a := newBrowser(t, web.URL)
				if r := a.do("GET", "/count"); r.body["views"] != 1.0 {
					t.Fatalf("first count: %v", r.body)
				}
				if r := a.do("GET", "/count"); r.body["views"] != 2.0 {
					t.Fatalf("second count: %v", r.body)
				}
				token := a.cookie("app")
				if len(keys) > 0 {
					// the signed cookie is not the token itself
					if ok, _ := c.Active(ctx, token, ""); ok {
						t.Fatal("a signed cookie holds the bare token")
					}
				} else {
					info := must(c.Info(ctx, token))(t)
					if info.Idle != 10*time.Minute || info.Absolute != 2*time.Hour || info.Owner != "" {
						t.Errorf("session behind the cookie: %+v", info)
					}
				}
				if r := a.do("GET", "/login?user=alice"); r.body["ok"] != true {
					t.Fatal(r.body)
				}
				before := a.cookie("app")
				if r := a.do("GET", "/me"); r.body["user"] != "alice" || r.body["views"] != 2.0 || r.body["new"] != false {
					t.Errorf("after login: %v", r.body)
				}
				list := must(store.ListOwner(ctx, "alice"))(t)
				if len(list) != 1 || list[0].Owner != "alice" {
					t.Fatalf("ListOwner: %+v", list)
				}
				if before == token {
					t.Error("login kept the anonymous session's cookie: an owner needs a new session")
				}
				b := newBrowser(t, web.URL)
				b.do("GET", "/login?user=alice")
				if n := must(store.RevokeOwner(ctx, "alice"))(t); n != 2 {
					t.Errorf("RevokeOwner: %d", n)
				}
				if r := a.do("GET", "/me"); r.body["user"] != "" || r.body["new"] != true {
					t.Errorf("after RevokeOwner: %v", r.body)
				}
				e := newBrowser(t, web.URL)
				e.do("GET", "/login?user=erin")
				e.do("GET", "/revoke-then-save")
				if n := must(c.Count(ctx, "erin"))(t); n != 0 || e.cookie("app") != "" {
					t.Errorf("a save after a revocation: erin has %d sessions, cookie %q", n, e.cookie("app"))
				}
				d := newBrowser(t, web.URL)
				d.do("GET", "/count")
				n := must(c.Count(ctx, ""))(t)
				d.do("GET", "/logout")
				if m := must(c.Count(ctx, ""))(t); m != n-1 {
					t.Errorf("logout: %d sessions, want %d", m, n-1)
				}
				if d.cookie("app") != "" {
					t.Error("logout kept the cookie")
				}
			})
		}
	})
}

func rotatingApp(t *testing.T, c *client.Client, opts client.RotatingOptions) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := client.SessionFrom(r.Context())
		user := r.URL.Query().Get("user")
		if err := s.Start(r.Context(), client.NewOptions{Owner: user, Data: user, Detachable: true}); err != nil {
			t.Errorf("Start: %v", err)
		}
		writeJSON(w, map[string]any{"ok": true})
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		s := client.SessionFrom(r.Context())
		if s.Token == "" {
			writeJSON(w, map[string]any{"user": nil, "failure": string(client.FailureFrom(r.Context()))})
			return
		}
		data, err := s.Data(r.Context())
		if err != nil {
			t.Errorf("Data: %v", err)
		}
		writeJSON(w, map[string]any{"user": data, "owner": s.Owner, "nonce": s.Nonce})
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := client.SessionFrom(r.Context()).End(r.Context()); err != nil {
			t.Errorf("End: %v", err)
		}
		writeJSON(w, map[string]any{"ok": true})
	})
	web := httptest.NewServer(c.Rotating(opts)(mux))
	t.Cleanup(web.Close)
	return web
}

func tokenOf(cookie string) string { return cookie[:strings.LastIndexByte(cookie, '.')] }

func TestRotating(t *testing.T) {
	srv := testserver.Start(t)
	ctx := context.Background()
	srv.Protocols(t, func(t *testing.T, rdb *redis.Client) {
		c := client.New(rdb)
		web := rotatingApp(t, c, client.RotatingOptions{})
		a := newBrowser(t, web.URL)
		if r := a.do("GET", "/me"); r.body["user"] != nil || r.body["failure"] != "" {
			t.Fatalf("visitor: %v", r.body)
		}
		a.do("GET", "/login?user=alice")
		first := a.cookie("sessiond")
		if !strings.HasSuffix(first, ".1") {
			t.Fatalf("cookie after login: %q", first)
		}
		if r := a.do("GET", "/me"); r.body["user"] != "alice" || r.body["owner"] != "alice" || r.body["nonce"] != 2.0 {
			t.Fatalf("/me: %v", r.body)
		}
		second := a.cookie("sessiond")
		if tokenOf(second) == tokenOf(first) || !strings.HasSuffix(second, ".2") {
			t.Fatalf("no rotation: %q then %q", first, second)
		}

		// second tab: two requests with one cookie at once get one successor
		tab := newBrowser(t, web.URL)
		tab.setCookie("sessiond", second)
		var wg sync.WaitGroup
		var ra, rt response
		wg.Add(2)
		go func() { defer wg.Done(); ra = a.do("GET", "/me") }()
		go func() { defer wg.Done(); rt = tab.do("GET", "/me") }()
		wg.Wait()
		if ra.body["user"] != "alice" || rt.body["user"] != "alice" || a.cookie("sessiond") != tab.cookie("sessiond") {
			t.Fatalf("second tab: %v %v, cookies %q %q", ra.body, rt.body, a.cookie("sessiond"), tab.cookie("sessiond"))
		}
		a.do("GET", "/me")
		newest := a.cookie("sessiond")
		late := newBrowser(t, web.URL)
		late.setCookie("sessiond", second)
		if r := late.do("GET", "/me"); r.body["user"] != "alice" || len(r.setCookie) != 0 {
			t.Errorf("late twin: %v, Set-Cookie %q (want none)", r.body, r.setCookie)
		}
		if r := a.do("GET", "/me"); r.body["user"] != "alice" || a.cookie("sessiond") == newest {
			t.Errorf("after the late twin: %v", r.body)
		}

		// nonce: rejected, cookie cleared
		forged := newBrowser(t, web.URL)
		forged.setCookie("sessiond", tokenOf(a.cookie("sessiond"))+".99")
		if r := forged.do("GET", "/me"); r.status != 401 || r.body["error"] != "nonce" || forged.cookie("sessiond") != "" {
			t.Errorf("wrong nonce: %d %v cookie %q", r.status, r.body, forged.cookie("sessiond"))
		}
		// unknown: a visitor
		stranger := newBrowser(t, web.URL)
		stranger.setCookie("sessiond", "madeup-token-0123456789abc.1")
		if r := stranger.do("GET", "/me"); r.body["failure"] != "unknown" || stranger.cookie("sessiond") != "" {
			t.Errorf("unknown: %v", r.body)
		}
		// revoked
		b := newBrowser(t, web.URL)
		b.do("GET", "/login?user=bob")
		must(c.RevokeOwner(ctx, "bob", ""))(t)
		if r := b.do("GET", "/me"); r.body["failure"] != "revoked" {
			t.Errorf("revoked: %v", r.body)
		}
		// detached
		d := newBrowser(t, web.URL)
		d.do("GET", "/login?user=dave")
		if err := c.Detach(ctx, tokenOf(d.cookie("sessiond"))); err != nil {
			t.Fatal(err)
		}
		if r := d.do("GET", "/me"); r.body["failure"] != "detached" {
			t.Errorf("detached: %v", r.body)
		}
		// replayed: a rotated-out token after the grace (0 here) is rejected and revokes the session
		if err := rdb.ConfigSet(ctx, "session-rotate-grace", "0").Err(); err != nil {
			t.Fatal(err)
		}
		f := newBrowser(t, web.URL)
		f.do("GET", "/login?user=fay")
		old := f.cookie("sessiond")
		f.do("GET", "/me")
		// A grace of 0 still covers the millisecond of the rotation: let it pass.
		time.Sleep(2 * time.Millisecond)
		thief := newBrowser(t, web.URL)
		thief.setCookie("sessiond", old)
		if r := thief.do("GET", "/me"); r.status != 401 || r.body["error"] != "replayed" {
			t.Errorf("replay: %d %v", r.status, r.body)
		}
		if r := f.do("GET", "/me"); r.body["failure"] != "revoked" {
			t.Errorf("after the replay: %v", r.body)
		}
		if err := rdb.ConfigSet(ctx, "session-rotate-grace", "10").Err(); err != nil {
			t.Fatal(err)
		}
		// logout
		g := newBrowser(t, web.URL)
		g.do("GET", "/login?user=gus")
		gt := tokenOf(g.cookie("sessiond"))
		g.do("GET", "/logout")
		if ok := must(c.Active(ctx, gt, ""))(t); ok || g.cookie("sessiond") != "" {
			t.Errorf("logout: active %v cookie %q", ok, g.cookie("sessiond"))
		}

		// OnFailure overrides
		strict := rotatingApp(t, c, client.RotatingOptions{CookieName: "s", OnFailure: map[client.Reason]client.Action{client.ReasonUnknown: client.Reject}})
		s := newBrowser(t, strict.URL)
		s.setCookie("s", "madeup-token-0123456789abc.1")
		if r := s.do("GET", "/me"); r.status != 401 || r.body["error"] != "unknown" {
			t.Errorf("OnFailure unknown=Reject: %d %v", r.status, r.body)
		}
	})
}
