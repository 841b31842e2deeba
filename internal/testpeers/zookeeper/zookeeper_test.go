package zookeeper

import (
	"log"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func connect(t *testing.T, addr string, cb zk.EventCallback) *zk.Conn {
	t.Helper()
	conn, _, err := zk.Connect([]string{addr}, 4*time.Second,
		zk.WithLogger(log.New(testWriter{t}, "", 0)), zk.WithEventCallback(cb))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

func TestRestartKeepsData(t *testing.T) {
	s := Start(t)
	conn := connect(t, s.Addr(), nil)
	if _, err := conn.Create("/kept", []byte("v"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	if reply, err := FourLetterWord(s.Addr(), "ruok"); err != nil || reply != "imok" {
		t.Fatalf("ruok after restart = %q, %v", reply, err)
	}
	// A fresh client: what is tested is that the data survived, not how the old client's
	// session fares across the restart (under load its reconnect can time out).
	fresh := connect(t, s.Addr(), nil)
	deadline := time.Now().Add(20 * time.Second)
	for {
		data, _, err := fresh.Get("/kept")
		if err == nil {
			if string(data) != "v" {
				t.Fatalf("data after restart = %q", data)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("get after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestExpireSessionThroughProxy(t *testing.T) {
	s := Start(t)
	proxy := NewProxy(t, s.Addr())
	expired := make(chan struct{}, 1)
	conn := connect(t, proxy.Addr(), func(ev zk.Event) {
		if ev.Type == zk.EventSession && ev.State == zk.StateExpired {
			select {
			case expired <- struct{}{}:
			default:
			}
		}
	})
	if _, err := conn.Create("/eph", nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	session, ok := proxy.LastSession()
	if !ok || session.ID != conn.SessionID() {
		t.Fatalf("proxy saw session %#x (%v), client has %#x", session.ID, ok, conn.SessionID())
	}
	if err := s.ExpireSession(session); err != nil {
		t.Fatal(err)
	}
	select {
	case <-expired:
	case <-time.After(20 * time.Second):
		t.Fatal("client never saw its session expire")
	}
	other := connect(t, s.Addr(), nil)
	if ok, _, err := other.Exists("/eph"); err != nil || ok {
		t.Fatalf("ephemeral node of the expired session: exists=%v err=%v", ok, err)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
