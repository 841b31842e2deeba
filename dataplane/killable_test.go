package dataplane_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// killable is a TCP proxy in front of a server that can be killed as a crashed process is: its
// port closes and every connection through it is reset. It delays answers by a few
// milliseconds (slowReader).
type killable struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
	frozen atomic.Bool
	dead   chan struct{} // closed by Kill

	mu     sync.Mutex
	conns  []net.Conn
	killed bool
}

func startKillable(t *testing.T, target string) *killable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k := &killable{ln: ln, target: target, dead: make(chan struct{})}
	k.wg.Go(k.accept)
	t.Cleanup(k.Kill)
	return k
}

func (k *killable) port() string {
	_, port, _ := net.SplitHostPort(k.ln.Addr().String())
	return port
}

func (k *killable) accept() {
	for {
		in, err := k.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", k.target)
		if err != nil {
			_ = in.Close()
			continue
		}
		k.mu.Lock()
		if k.killed {
			k.mu.Unlock()
			_, _ = in.Close(), out.Close()
			return
		}
		k.conns = append(k.conns, in, out)
		k.mu.Unlock()
		pipe := func(dst net.Conn, src io.Reader) {
			_, _ = io.Copy(dst, src)
			_, _ = in.Close(), out.Close()
		}
		k.wg.Go(func() { pipe(out, gated{in, k}) })
		k.wg.Go(func() { pipe(in, gated{slowReader{out}, k}) })
	}
}

// slowReader holds each answer back a little, so that calls are in flight when the proxy is
// killed.
type slowReader struct{ io.Reader }

func (r slowReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if n > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	return n, err
}

// Freeze stops passing bytes either way, on the connections there are and the ones to come,
// until Kill.
func (k *killable) Freeze() { k.frozen.Store(true) }

// gated passes what it reads while its proxy is not frozen; frozen, it holds everything until
// the proxy is killed.
type gated struct {
	io.Reader
	k *killable
}

func (g gated) Read(p []byte) (int, error) {
	n, err := g.Reader.Read(p)
	if g.k.frozen.Load() {
		<-g.k.dead
		return 0, io.EOF
	}
	return n, err
}

// Kill closes the port and resets every connection, and waits for the proxy to end.
func (k *killable) Kill() {
	k.mu.Lock()
	if !k.killed {
		close(k.dead)
	}
	k.killed = true
	_ = k.ln.Close()
	for _, c := range k.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with RST, as the kernel does for a killed process's sockets
		}
		_ = c.Close()
	}
	k.mu.Unlock()
	k.wg.Wait()
}
