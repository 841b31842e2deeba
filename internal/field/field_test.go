package field

import (
	"errors"
	"reflect"
	"testing"
)

func TestUnderAndList(t *testing.T) {
	inner := errors.Join(Errorf("port", "port %d is not in 1..65535", 0), errors.New("no servers"))
	err := Under("registries[1]", errors.Join(Under("endpoints[0]", inner), Errorf("", "empty")))
	var got []string
	for _, e := range List(err) {
		got = append(got, e.Path+" | "+e.Err.Error())
	}
	want := []string{
		"registries[1].endpoints[0].port | port 0 is not in 1..65535",
		"registries[1].endpoints[0] | no servers",
		"registries[1] | empty",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %q\nwant %q", got, want)
	}
	if List(nil) != nil || Under("x", nil) != nil {
		t.Error("nil must stay nil")
	}
	if s := Errorf("a.b", "bad").Error(); s != "a.b: bad" {
		t.Errorf("Error() = %q", s)
	}
}

func TestJoin(t *testing.T) {
	for _, c := range [][3]string{{"", "a", "a"}, {"a", "", "a"}, {"a", "b", "a.b"}, {"a", "[2]", "a[2]"}} {
		if got := Join(c[0], c[1]); got != c[2] {
			t.Errorf("Join(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
