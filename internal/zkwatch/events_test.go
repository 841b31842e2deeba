package zkwatch

import (
	"testing"

	"github.com/go-zookeeper/zk"
)

func TestEvents(t *testing.T) {
	e := NewEvents()
	woken := func() bool {
		select {
		case <-e.Wake():
			return true
		default:
			return false
		}
	}
	if _, connected := e.Take(); connected || woken() {
		t.Fatal("a fresh collector is connected or awake")
	}
	e.Callback(zk.Event{Type: zk.EventSession, State: zk.StateHasSession})
	e.Armed.Arm(Key{Data, "/a"})
	e.Callback(zk.Event{Type: zk.EventNodeDataChanged, Path: "/a"})
	if !woken() {
		t.Error("events did not wake the reader")
	}
	c, connected := e.Take()
	if !connected || !c.Full || !c.Paths["/a"] || len(c.Paths) != 1 || e.Armed.IsArmed(Key{Data, "/a"}) {
		t.Errorf("after a new session and a data change: %+v connected=%v", c, connected)
	}
	if c, _ := e.Take(); c.Full || len(c.Paths) != 0 {
		t.Errorf("Take did not clear: %+v", c)
	}
	e.Callback(zk.Event{Type: zk.EventSession, State: zk.StateDisconnected})
	if _, connected := e.Take(); connected || !woken() {
		t.Error("a disconnect must be taken as no session, and wake the reader")
	}
	e.Callback(zk.Event{Type: zk.EventSession, State: zk.StateConnecting})
	if woken() {
		t.Error("repeated reconnect attempts woke the reader")
	}
	e.RequestFull()
	if c, _ := e.Take(); !c.Full || !woken() {
		t.Error("RequestFull must ask for a full read and wake the reader")
	}
}
