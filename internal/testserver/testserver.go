// Package testserver starts a real sessiond (the server package, in-process)
// on a free loopback port with a temporary data directory, for tests that
// talk to it over a real socket.
package testserver

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessiond/sessiond/commands"
	"github.com/sessiond/sessiond/config"
	"github.com/sessiond/sessiond/engine"
	"github.com/sessiond/sessiond/server"
)

// Server is a running sessiond for a test.
type Server struct {
	t      testing.TB
	Dir    string
	Addr   string
	params map[string]string
	file   string // a config file loaded before params (StartWithFile)
	srv    *server.Server
	cancel context.CancelFunc
	done   chan error
}

// Start runs a server with the given config overrides ("name", "value", ...)
// and stops it when the test ends.
func Start(t testing.TB, params ...string) *Server {
	t.Helper()
	return StartWithFile(t, "", params...)
}

// StartWithFile runs a server from a config file (user lines included; ""
// for none), then the overrides, as sessiond's command line does.
func StartWithFile(t testing.TB, file string, params ...string) *Server {
	t.Helper()
	s := &Server{t: t, Dir: t.TempDir(), params: map[string]string{}, file: file}
	for i := 0; i+1 < len(params); i += 2 {
		s.params[params[i]] = params[i+1]
	}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// Config returns a config for this server (its dir, its overrides, a free port).
func (s *Server) config() *config.Config {
	cfg := config.Defaults()
	must := func(err error) {
		if err != nil {
			s.t.Fatal(err)
		}
	}
	if s.file != "" {
		must(cfg.LoadFile(s.file))
	}
	must(cfg.Set("dir", s.Dir))
	must(cfg.Set("port", "0"))
	for k, v := range s.params {
		must(cfg.Set(k, v))
	}
	return cfg
}

func (s *Server) start() {
	s.t.Helper()
	cfg := s.config()
	srv, err := server.Open(cfg)
	if err != nil {
		s.t.Fatalf("open server: %v", err)
	}
	addr := "127.0.0.1:0" // a free port (port 0 in the config means no plain listener)
	if s.Addr != "" {
		addr = s.Addr // a restart keeps its address
	}
	if err := srv.ListenOn(addr); err != nil {
		s.t.Fatalf("listen: %v", err)
	}
	s.Addr = srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	s.srv, s.cancel, s.done = srv, cancel, make(chan error, 1)
	go func() { s.done <- srv.Serve(ctx) }()
}

// Stop shuts the server down and waits for it to close its data file.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Errorf("server stopped with: %v", err)
		}
	case <-time.After(10 * time.Second):
		s.t.Errorf("server did not stop within 10s")
	}
	s.cancel = nil
}

// Restart stops the server and starts it again on the same address and data directory.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Engine returns the running server's engine, for tests that count engine
// work or stored items behind what the socket shows.
func (s *Server) Engine() *engine.Engine { return s.srv.Dispatcher().Engine }

// Dispatcher is the server's command layer, to run commands as a client
// the test makes up (one connected from another machine, say) without a
// socket.
func (s *Server) Dispatcher() *commands.Dispatcher { return s.srv.Dispatcher() }

// Set changes a config override for the next Restart.
func (s *Server) Set(name, value string) { s.params[name] = value }

// Client returns a go-redis client speaking protocol proto (2 or 3), closed
// when the test ends.
func (s *Server) Client(proto int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: proto, DisableIdentity: false,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxRetries: -1})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// ClientAs returns a go-redis client that authenticates as user with
// password (HELLO 3 AUTH for RESP3, AUTH user password for RESP2), closed
// when the test ends.
func (s *Server) ClientAs(proto int, user, password string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: proto, Username: user, Password: password,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxRetries: -1})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// Protocols runs fn as subtests for RESP2 and RESP3.
func (s *Server) Protocols(t *testing.T, fn func(t *testing.T, c *redis.Client)) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
			c := s.Client(proto)
			if err := c.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			fn(t, c)
		})
	}
}

// Dial opens a raw connection to the server, for byte-level tests.
func (s *Server) Dial() net.Conn {
	s.t.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr, 5*time.Second)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { nc.Close() })
	return nc
}
