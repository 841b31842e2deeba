package zkwatch

import (
	"testing"

	"github.com/go-zookeeper/zk"
)

func TestArmed(t *testing.T) {
	var a Armed
	children, data, exist := Key{Children, "/a"}, Key{Data, "/a"}, Key{Exist, "/a"}
	if !a.Arm(children) || a.Arm(children) {
		t.Fatal("a watch must arm once until it fires")
	}
	a.Arm(data)
	if a.Observe(zk.Event{Type: zk.EventNodeChildrenChanged, Path: "/b"}) != true || !a.IsArmed(children) {
		t.Error("an event on another node ended /a's watch")
	}
	if !a.Observe(zk.Event{Type: zk.EventNodeChildrenChanged, Path: "/a"}) || a.IsArmed(children) || !a.IsArmed(data) {
		t.Error("children changed must end the children watch only")
	}
	if !a.Observe(zk.Event{Type: zk.EventNodeDataChanged, Path: "/a"}) || a.IsArmed(data) {
		t.Error("data changed must end the data watch")
	}
	a.Arm(exist)
	if !a.Observe(zk.Event{Type: zk.EventNodeCreated, Path: "/a"}) || a.IsArmed(exist) {
		t.Error("created must end the exist watch")
	}
	a.Arm(children)
	a.Arm(data)
	if !a.Observe(zk.Event{Type: zk.EventNodeDeleted, Path: "/a"}) || a.IsArmed(children) || a.IsArmed(data) {
		t.Error("deleted must end every watch on the node")
	}
	a.Arm(children)
	if a.Observe(zk.Event{Type: zk.EventSession, State: zk.StateDisconnected}) || !a.IsArmed(children) {
		t.Error("a disconnect alone keeps the watches (ZooKeeper restores them on reconnect)")
	}
	if a.Observe(zk.Event{Type: zk.EventSession, State: zk.StateExpired}) || a.IsArmed(children) {
		t.Error("an expired session must end every watch")
	}
	a.Arm(data)
	a.Disarm(data)
	if a.IsArmed(data) {
		t.Error("Disarm kept the watch")
	}
}
