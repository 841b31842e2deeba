package zookeeper

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Session identifies a client session: what a client needs to reattach to it.
type Session struct {
	ID       int64
	Password []byte
}

// Proxy is a TCP proxy in front of a server that remembers the sessions the server hands out,
// so that a test can expire the session of a client it does not control (the client connects to
// Proxy.Addr instead of the server).
type Proxy struct {
	ln       net.Listener
	target   string
	mu       sync.Mutex
	sessions []Session
}

// NewProxy starts a proxy to target (a server's Addr) and closes it when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close() })
	go p.serve()
	return p
}

// Addr is the proxy's client address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// LastSession is the session from the most recent connect handshake through the proxy.
func (p *Proxy) LastSession() (Session, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sessions) == 0 {
		return Session{}, false
	}
	return p.sessions[len(p.sessions)-1], true
}

func (p *Proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.relay(client)
	}
}

func (p *Proxy) relay(client net.Conn) {
	defer client.Close()
	server, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		return
	}
	defer server.Close()
	go func() { _, _ = io.Copy(server, client); _ = server.Close() }()
	// The server's first packet answers the connect request.
	frame, err := readFrame(server)
	if err != nil {
		return
	}
	if s, err := decodeConnectResponse(frame); err == nil && s.ID != 0 {
		p.mu.Lock()
		p.sessions = append(p.sessions, s)
		p.mu.Unlock()
	}
	if _, err := client.Write(frame); err != nil {
		return
	}
	_, _ = io.Copy(client, server)
}

// ExpireSession ends session s on the server the classic way: it attaches to the session from a
// second connection and closes it there. The session's own client then finds it expired.
func (s *Server) ExpireSession(session Session) error {
	conn, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return fmt.Errorf("expire session: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))

	req := binary.BigEndian.AppendUint32(nil, 0)    // protocol version
	req = binary.BigEndian.AppendUint64(req, 0)     // last zxid seen
	req = binary.BigEndian.AppendUint32(req, 10000) // session timeout, ms
	req = binary.BigEndian.AppendUint64(req, uint64(session.ID))
	req = binary.BigEndian.AppendUint32(req, uint32(len(session.Password)))
	req = append(req, session.Password...)
	req = append(req, 0) // read-only: false
	if _, err := conn.Write(frameOf(req)); err != nil {
		return fmt.Errorf("expire session: connect: %w", err)
	}
	frame, err := readFrame(conn)
	if err != nil {
		return fmt.Errorf("expire session: connect reply: %w", err)
	}
	if got, err := decodeConnectResponse(frame); err != nil || got.ID != session.ID {
		return fmt.Errorf("expire session: could not attach to session %#x (%v)", session.ID, err)
	}
	var opClose int32 = -11
	closeReq := binary.BigEndian.AppendUint32(nil, 1) // xid
	closeReq = binary.BigEndian.AppendUint32(closeReq, uint32(opClose))
	if _, err := conn.Write(frameOf(closeReq)); err != nil {
		return fmt.Errorf("expire session: close: %w", err)
	}
	if _, err := readFrame(conn); err != nil {
		return fmt.Errorf("expire session: close reply: %w", err)
	}
	return nil
}

func frameOf(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// readFrame reads one length-prefixed packet and returns it with its prefix.
func readFrame(r io.Reader) ([]byte, error) {
	head := make([]byte, 4)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(head)
	if n > 1<<20 {
		return nil, fmt.Errorf("packet of %d bytes", n)
	}
	frame := make([]byte, 4+n)
	copy(frame, head)
	_, err := io.ReadFull(r, frame[4:])
	return frame, err
}

// decodeConnectResponse reads {protocolVersion int32, timeOut int32, sessionId int64,
// passwd buffer} from a framed connect reply.
func decodeConnectResponse(frame []byte) (Session, error) {
	b := frame[4:]
	if len(b) < 20 {
		return Session{}, errors.New("short connect reply")
	}
	id := int64(binary.BigEndian.Uint64(b[8:16]))
	n := int(binary.BigEndian.Uint32(b[16:20]))
	if n < 0 || len(b) < 20+n {
		return Session{}, errors.New("bad password length in connect reply")
	}
	return Session{ID: id, Password: append([]byte(nil), b[20:20+n]...)}, nil
}
