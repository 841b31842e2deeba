package dynamicgrpc

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
)

// echoProto's Text has StringValue's wire form, so the test encodes and decodes it as one.
const echoProto = `syntax = "proto3";
package echo.v1;
message Text { string value = 1; }
service Echo {
  rpc Upper(Text) returns (Text);
  rpc Same(Text) returns (Text);
}`

func TestServe(t *testing.T) {
	fds, err := protoidl.Compile(context.Background(), map[string][]byte{"echo.proto": []byte(echoProto)})
	if err != nil {
		t.Fatal(err)
	}
	addr := Serve(t, fds, "echo.v1.Echo", func(c *Call) error {
		if c.Method.Name() == "Same" {
			return c.SendRaw(c.Raw)
		}
		return c.SendJSON(map[string]any{"value": "UPPER " + c.Field("value").String()})
	})
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(RawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in, _ := proto.Marshal(wrapperspb.String("ada"))
	for method, want := range map[string]string{"/echo.v1.Echo/Upper": "UPPER ada", "/echo.v1.Echo/Same": "ada"} {
		var out []byte
		if err := conn.Invoke(ctx, method, in, &out); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		var got wrapperspb.StringValue
		if err := proto.Unmarshal(out, &got); err != nil || got.GetValue() != want {
			t.Errorf("%s = %q (%v), want %q", method, got.GetValue(), err, want)
		}
	}
	var out []byte
	if err := conn.Invoke(ctx, "/echo.v1.Echo/Missing", in, &out); status.Code(err) != codes.Unimplemented {
		t.Errorf("unknown method: %v, want Unimplemented", err)
	}
}
