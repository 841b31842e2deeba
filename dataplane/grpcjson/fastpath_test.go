package grpcjson_test

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
)

// TestWholeBodyMatchesProtojson: a body that fills the whole request message (the protojsonwire
// fast path) gives the bytes protojson's message would, and a refused body the same 400 message
// protojson's error makes (the fast path hands refused bodies back to protojson).
func TestWholeBodyMatchesProtojson(t *testing.T) {
	tr := newTranscoder(t)
	b, _, ok := tr.Match("POST", "/v1/shelves")
	if !ok {
		t.Fatal("no POST /v1/shelves binding")
	}
	in := b.Method.Input()
	for _, body := range []string{`{"id":"7","name":"poetry"}`, `{"name":"a\u00e9","id":3}`, `{}`,
		`{"id":`, `{"nope":1}`, `{"id":1,"id":2}`, `{"name":"x"} x`, `{"id":1.5}`} {
		msg := dynamicpb.NewMessage(in)
		wantErr := protojson.Unmarshal([]byte(body), msg)
		call, err := tr.Prepare(request("POST", "/v1/shelves", body))
		if wantErr != nil {
			var re *grpcjson.RequestError
			if !errors.As(err, &re) || re.Status != 400 || re.Message != "body: "+wantErr.Error() {
				t.Errorf("%s: got %v, want 400 body: %v", body, err, wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if !bytes.Equal(call.Requests[0], want) {
			t.Errorf("%s: sent %x, want %x", body, call.Requests[0], want)
		}
	}
}
