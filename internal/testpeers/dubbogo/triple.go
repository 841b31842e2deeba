package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"dubbo.apache.org/dubbo-go/v3/common/constant"
	tri "dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// PbInterface is the protobuf (IDL-mode) Triple service the provider serves beside
// GreeterService when it speaks tri: org.rpcbridge.test.triple.PbGreeter of triple.proto
// (beside this file, which rpcbridge's tests upload). Its messages are written here as the
// well-known wrappers whose wire form they share (HelloRequest and HelloReply are a
// StringValue, SlowRequest an Int32Value), so that the provider needs no generated code.
const PbInterface = "org.rpcbridge.test.triple.PbGreeter"

// PbGreeter implements org.rpcbridge.test.triple.PbGreeter.
type PbGreeter struct{}

// SayHello answers "Hello, <name>".
func (*PbGreeter) SayHello(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return wrapperspb.String("Hello, " + req.GetValue()), nil
}

// Fail answers the Triple status NOT_FOUND with the request's text as its message.
func (*PbGreeter) Fail(_ context.Context, req *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return nil, tri.NewError(tri.CodeNotFound, errors.New(req.GetValue()))
}

// Slow answers after the requested milliseconds, or with DEADLINE_EXCEEDED when the call's
// deadline passes first, as a gRPC server does (a bare ctx.Err() would reach the client as
// dubbo-go's CodeBizError, 17, which no gRPC client maps; the gateway, like Envoy, answers 500
// for it, and which of the two deadlines fires first is a race on a loaded machine).
func (*PbGreeter) Slow(ctx context.Context, req *wrapperspb.Int32Value) (*wrapperspb.StringValue, error) {
	select {
	case <-time.After(time.Duration(req.GetValue()) * time.Millisecond):
		return wrapperspb.String(fmt.Sprintf("slept %dms", req.GetValue())), nil
	case <-ctx.Done():
		return nil, tri.NewError(tri.CodeDeadlineExceeded, ctx.Err())
	}
}

// pbUnary is the ServiceInfo entry of one unary method, as protoc-gen-go-triple generates it.
func pbUnary[Req any](name string, call func(*PbGreeter, context.Context, *Req) (*wrapperspb.StringValue, error)) server.MethodInfo {
	return server.MethodInfo{
		Name:        name,
		Type:        constant.CallUnary,
		ReqInitFunc: func() any { return new(Req) },
		MethodFunc: func(ctx context.Context, args []any, handler any) (any, error) {
			res, err := call(handler.(*PbGreeter), ctx, args[0].(*Req))
			if err != nil {
				return nil, err
			}
			return tri.NewResponse(res), nil
		},
	}
}

// pbGreeterInfo describes PbGreeter to dubbo-go's Triple server (IDL mode, protobuf).
var pbGreeterInfo = server.ServiceInfo{
	InterfaceName: PbInterface,
	ServiceType:   (*PbGreeter)(nil),
	Methods: []server.MethodInfo{
		pbUnary("SayHello", (*PbGreeter).SayHello),
		pbUnary("Fail", (*PbGreeter).Fail),
		pbUnary("Slow", (*PbGreeter).Slow),
	},
}

// TripleGreeter serves GreeterService over tri in non-IDL mode: the same methods as Greeter
// without MethodMapper, which dubbo-go's Triple server would take for an RPC method and refuse
// (it has no parameter). dubbo-go's service map also registers each Go name with its first
// letter's case swapped, so the Java names (sayHello) reach these methods.
type TripleGreeter struct{ g Greeter }

// Reference names the service for dubbo-go.
func (*TripleGreeter) Reference() string { return Interface }

// SayHello is Greeter.SayHello.
func (t *TripleGreeter) SayHello(ctx context.Context, name string, times ...int32) (string, error) {
	return t.g.SayHello(ctx, name, times...)
}

// EchoUser is Greeter.EchoUser.
func (t *TripleGreeter) EchoUser(ctx context.Context, u *User) (*User, error) {
	return t.g.EchoUser(ctx, u)
}

// EchoSample is Greeter.EchoSample.
func (t *TripleGreeter) EchoSample(ctx context.Context, s *Sample) (*Sample, error) {
	return t.g.EchoSample(ctx, s)
}

// Fail throws GreeterException with msg. dubbo-go's Triple server sends an error's text alone
// (grpc-status UNKNOWN, grpc-message; no exception object), so the error reads as Java's
// Throwable.toString() does, "org.rpcbridge.test.GreeterException: msg", the class included.
func (t *TripleGreeter) Fail(ctx context.Context, msg string) (string, error) {
	_, err := t.g.Fail(ctx, msg)
	var ge *GreeterException
	if errors.As(err, &ge) {
		return "", fmt.Errorf("%s: %s", ge.JavaClassName(), ge.DetailMessage)
	}
	return "", err
}

// Slow is Greeter.Slow.
func (t *TripleGreeter) Slow(ctx context.Context, millis int32) (string, error) {
	return t.g.Slow(ctx, millis)
}

// Attachments is Greeter.Attachments.
func (t *TripleGreeter) Attachments(ctx context.Context) (map[string]string, error) {
	return t.g.Attachments(ctx)
}

// registerTriple registers the provider's services over tri: GreeterService in Triple's
// non-IDL mode (its Java interface, hessian2 inside Triple's wrapper messages; the mode a Java
// provider is in when it switches its protocol to tri and keeps its interfaces), and
// PbGreeter in IDL mode (protobuf).
func registerTriple(srv *server.Server, greeterOpts []server.ServiceOption) error {
	if err := srv.RegisterService(&TripleGreeter{}, greeterOpts...); err != nil {
		return fmt.Errorf("register %s (non-IDL): %w", Interface, err)
	}
	if err := srv.Register(&PbGreeter{}, &pbGreeterInfo, server.WithInterface(PbInterface)); err != nil {
		return fmt.Errorf("register %s: %w", PbInterface, err)
	}
	return nil
}
