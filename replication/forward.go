package replication

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Forwarding: a follower sends what only the leader may do (a write, a read
// index request) to the leader's RESP port as one command and reads one
// reply. Connections are pooled per leader address.

type fwdConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

const (
	forwardTimeout = 15 * time.Second
	leaderWait     = 3 * time.Second
)

// Forward sends args as one command to the leader and returns its reply as
// raw RESP. The reply is one of a bulk string (returned as its payload), an
// integer (":n"), a simple string ("+..."), or an error (returned as error).
func (n *Node) Forward(args [][]byte) ([]byte, error) {
	addr, ok := n.LeaderRESP()
	// Just started, or an election is under way: wait a little for a
	// leader (an election takes about a second) rather than fail at once.
	for deadline := time.Now().Add(leaderWait); !ok && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		addr, ok = n.LeaderRESP()
	}
	if !ok {
		return nil, ErrNoLeader
	}
	if addr == n.cfg.Announce {
		return nil, fmt.Errorf("%w: this node leads", ErrNotLeader)
	}
	c, err := n.getConn(addr)
	if err != nil {
		return nil, err
	}
	reply, err := c.roundTrip(args)
	var rerr replyError
	if err != nil && !errors.As(err, &rerr) {
		c.conn.Close()
		return nil, fmt.Errorf("forward to leader %s: %w", addr, err)
	}
	n.putConn(addr, c)
	return reply, err
}

type replyError string

func (e replyError) Error() string { return string(e) }

func (n *Node) getConn(addr string) (*fwdConn, error) {
	n.fwdMu.Lock()
	if cs := n.fwdPool[addr]; len(cs) > 0 {
		c := cs[len(cs)-1]
		n.fwdPool[addr] = cs[:len(cs)-1]
		n.fwdMu.Unlock()
		return c, nil
	}
	n.fwdMu.Unlock()
	var conn net.Conn
	var err error
	if n.cfg.TLS != nil {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 2 * time.Second}, Config: n.cfg.TLS.Client()}
		conn, err = d.Dial("tcp", addr)
	} else {
		conn, err = net.DialTimeout("tcp", addr, 2*time.Second)
	}
	if err != nil {
		return nil, fmt.Errorf("forward: dial leader %s: %w", addr, err)
	}
	c := &fwdConn{conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriter(conn)}
	if pw := n.password(); pw != "" {
		if _, err := c.roundTrip([][]byte{[]byte("AUTH"), []byte(pw)}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("forward: AUTH on leader %s: %w", addr, err)
		}
	}
	return c, nil
}

func (n *Node) password() string {
	if n.cfg.Password == nil {
		return ""
	}
	return n.cfg.Password()
}

func (n *Node) putConn(addr string, c *fwdConn) {
	n.fwdMu.Lock()
	defer n.fwdMu.Unlock()
	if n.fwdPool == nil || len(n.fwdPool[addr]) >= 64 {
		c.conn.Close()
		return
	}
	n.fwdPool[addr] = append(n.fwdPool[addr], c)
}

func (c *fwdConn) roundTrip(args [][]byte) ([]byte, error) {
	_ = c.conn.SetDeadline(time.Now().Add(forwardTimeout))
	c.w.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		c.w.WriteString("$" + strconv.Itoa(len(a)) + "\r\n")
		c.w.Write(a)
		c.w.WriteString("\r\n")
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("bad reply %q", line)
	}
	body := string(line[1 : len(line)-2])
	switch line[0] {
	case '-':
		return nil, replyError(body)
	case '+', ':':
		return []byte(string(line[:len(line)-2])), nil
	case '$':
		size, err := strconv.Atoi(body)
		if err != nil || size < -1 {
			return nil, fmt.Errorf("bad bulk length %q", body)
		}
		if size < 0 {
			return nil, nil
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return buf[:size], nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}
