package controlplane

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestClusterShapeSeesEveryField changes every field of a cluster but its endpoints, down to the
// fields of what it points to, one at a time in a copy made by clusterShape, and checks that
// sameClusterShape notices: a field added to ir.Cluster (or to what it points to) that the
// incremental update would miss, or that clusterShape would share with the caller, fails it.
func TestClusterShapeSeesEveryField(t *testing.T) {
	var base ir.Cluster
	fill(reflect.ValueOf(&base).Elem())
	base.Endpoints = nil
	var paths [][]int
	leaves(reflect.TypeOf(base), nil, &paths)
	for _, path := range paths {
		if reflect.TypeOf(base).Field(path[0]).Name == "Endpoints" {
			continue
		}
		changed := clusterShape(base)
		bump(t, reflect.ValueOf(&changed).Elem().FieldByIndex(path))
		if sameClusterShape(&base, &changed) {
			t.Errorf("changing field %v of the cluster went unnoticed (or changed the original too)", path)
		}
	}
	other := clusterShape(base)
	other.Endpoints = []ir.Endpoint{{Address: "10.0.0.1", Port: 1}}
	if !sameClusterShape(&base, &other) {
		t.Error("a cluster that differs only in endpoints has another shape")
	}
	if len(paths) < 20 {
		t.Fatalf("only %d fields found: the walk is broken", len(paths))
	}
}

// fill gives every pointer in v a value, recursively.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	}
}

// leaves lists the index paths of every field of t, through pointers to structs: a pointer is a
// leaf itself and its fields are leaves too.
func leaves(t reflect.Type, prefix []int, out *[][]int) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		path := append(append([]int(nil), prefix...), i)
		ft := t.Field(i).Type
		switch {
		case ft.Kind() == reflect.Struct:
			leaves(ft, path, out)
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			*out = append(*out, path)
			leaves(ft, path, out)
		default:
			*out = append(*out, path)
		}
	}
}

// bump changes a value: a pointer becomes nil, a scalar another value.
func bump(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.Zero(v.Type()))
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(v.Uint() + 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(v.Float() + 1)
	case reflect.Slice:
		if v.Type() == reflect.TypeOf([]ir.Endpoint(nil)) {
			return
		}
		fallthrough
	default:
		panic(fmt.Sprintf("a field of kind %s: teach bump, clusterShape and sameClusterShape about it", v.Kind()))
	}
}
