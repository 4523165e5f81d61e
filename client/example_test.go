package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/client"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/server"
)

// addr is the sessiond the examples talk to; TestMain starts one.
var addr string

func TestMain(m *testing.M) {
	os.Exit(runWithServer(m))
}

// runWithServer starts a real sessiond on a free loopback port for the
// examples (which, unlike tests, have no testing.T to start one with).
func runWithServer(m *testing.M) int {
	dir, err := os.MkdirTemp("", "sessiond-client-examples-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := config.Defaults()
	for _, kv := range [][2]string{{"dir", dir}, {"port", "0"}, {"appendonly", "no"}} {
		if err := cfg.Set(kv[0], kv[1]); err != nil {
			log.Fatal(err)
		}
	}
	srv, err := server.Open(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.ListenOn("127.0.0.1:0"); err != nil {
		log.Fatal(err)
	}
	addr = srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	code := m.Run()
	cancel()
	if err := <-done; err != nil {
		log.Print(err)
	}
	return code
}

// A session with an owner and data, validated with its nonce: each
// validation rotates the token, and a failure is an ordinary answer.
func Example() {
	ctx := context.Background()
	c := client.New(redis.NewClient(&redis.Options{Addr: addr}))

	s, err := c.NewSession(ctx, client.NewOptions{Owner: "user:42", Data: `{"cart":3}`})
	if err != nil {
		log.Fatal(err)
	}
	data, _ := c.Get(ctx, s.Token)
	fmt.Println("data:", data, "nonce:", s.Nonce)

	next, err := c.Validate(ctx, s.Token, s.Nonce)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rotated:", next.Token != s.Token, "nonce:", next.Nonce)

	_, err = c.Validate(ctx, next.Token, 7)
	fmt.Println("wrong nonce:", client.ReasonOf(err), errors.Is(err, client.ErrInvalid))

	_, err = c.Get(ctx, "no-such-token")
	fmt.Println("unknown token:", errors.Is(err, client.ErrInvalid))
	// Output:
	// data: {"cart":3} nonce: 1
	// rotated: true nonce: 2
	// wrong nonce: nonce true
	// unknown token: true
}

// "Log out everywhere else": every session of the owner but the current one.
func ExampleClient_RevokeOwner() {
	ctx := context.Background()
	c := client.New(redis.NewClient(&redis.Options{Addr: addr, Protocol: 3}))

	phone, _ := c.NewSession(ctx, client.NewOptions{Owner: "user:revoke", Meta: map[string]string{"device": "phone"}})
	laptop, _ := c.NewSession(ctx, client.NewOptions{Owner: "user:revoke", Meta: map[string]string{"device": "laptop"}})
	list, _ := c.List(ctx, "user:revoke")
	devices := []string{}
	for _, s := range list {
		devices = append(devices, s.Meta["device"])
	}
	slices.Sort(devices) // newest first, but these two were made in the same millisecond
	fmt.Println("sessions on", devices)
	n, _ := c.RevokeOwner(ctx, "user:revoke", laptop.Token)
	fmt.Println("revoked:", n)
	_, err := c.Validate(ctx, phone.Token, 1)
	fmt.Println("phone:", client.ReasonOf(err))
	// Output:
	// sessions on [laptop phone]
	// revoked: 1
	// phone: revoked
}

// An access token for a session, verified while the session lives.
func ExampleClient_JWT() {
	ctx := context.Background()
	c := client.New(redis.NewClient(&redis.Options{Addr: addr}))

	s, _ := c.NewSession(ctx, client.NewOptions{Owner: "user:42"})
	pair, err := c.JWT(ctx, s.Token, client.JWTOptions{Claims: map[string]any{"role": "admin"}})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := c.Verify(ctx, pair.JWT, "")
	if err != nil {
		log.Fatal(err)
	}
	var app struct{ Role string }
	_ = claims.Decode(&app)
	fmt.Println("sub:", claims.Subject, "role:", app.Role, "sid is the handle:", claims.Session == s.Handle)

	_, _ = c.Destroy(ctx, s.Token)
	_, err = c.Verify(ctx, pair.JWT, "")
	fmt.Println("after logout:", client.ReasonOf(err))
	// Output:
	// sub: user:42 role: admin sid is the handle: true
	// after logout: unknown
}

// A gorilla/sessions store on the native sessions.
func ExampleStore() {
	store := client.NewStore(client.New(redis.NewClient(&redis.Options{Addr: addr})))
	store.Options.MaxAge = 1800 // the idle timeout

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := store.Get(r, "app")
		n, _ := s.Values["views"].(int)
		s.Values["views"] = n + 1
		_ = s.Save(r, w)
		fmt.Fprintf(w, "views: %d", n+1)
	})
	web := httptest.NewServer(handler)
	defer web.Close()

	var cookie string
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", web.URL, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cookie = strings.Split(res.Header.Get("Set-Cookie"), ";")[0]
		fmt.Println(string(body))
	}
	var _ sessions.Store = store
	// Output:
	// views: 1
	// views: 2
}

// Rotating-token sessions for net/http: each response carries the next token.
func ExampleClient_Rotating() {
	c := client.New(redis.NewClient(&redis.Options{Addr: addr}))
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := client.SessionFrom(r.Context()).Start(r.Context(), client.NewOptions{Owner: "user:42"}); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "welcome")
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		s := client.SessionFrom(r.Context())
		if s.Token == "" {
			http.Error(w, "log in", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s, nonce %d", s.Owner, s.Nonce)
	})
	web := httptest.NewServer(c.Rotating(client.RotatingOptions{})(mux))
	defer web.Close()

	cookie := ""
	get := func(path string) {
		req, _ := http.NewRequest("GET", web.URL+path, nil)
		req.Header.Set("Cookie", cookie)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if sc := res.Header.Get("Set-Cookie"); sc != "" {
			cookie = strings.Split(sc, ";")[0]
		}
		fmt.Println(res.StatusCode, strings.TrimSpace(string(body)))
	}
	get("/me")
	get("/login")
	get("/me")
	get("/me")
	// Output:
	// 401 log in
	// 200 welcome
	// 200 user:42, nonce 2
	// 200 user:42, nonce 3
}
