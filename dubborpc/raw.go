package dubborpc

import (
	"fmt"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"
	"github.com/apache/dubbo-go-hessian2/java_exception"

	"github.com/rpcbridge/rpcbridge/dubborpc/hessianwire"
)

// RawArg is a request argument that is already hessian2-encoded: its bytes are written into
// the request body as they are. It lets a caller send values the hessian2 library cannot
// build without registering Go types in its process-wide registry (typed objects of classes
// known only at run time). The bytes must be one complete hessian2 value that uses no class
// definition or type reference it does not itself define.
type RawArg []byte

// InBackoff reports whether the endpoint cannot take calls now: none of its connections is
// live and every one of them waits out a backoff after a failed dial. Calls made now would
// fail fast with ErrUnavailable, so a balancer can skip the endpoint.
func (e *Endpoint) InBackoff() bool {
	if e.closed.Load() {
		return true
	}
	now := time.Now()
	for _, s := range e.slots {
		s.mu.Lock()
		live := s.conn != nil && !s.conn.closed()
		waiting := s.dialing == nil && s.failures > 0 && now.Before(s.retryAt)
		s.mu.Unlock()
		if live || !waiting {
			return false
		}
	}
	return true
}

// EncodeArgs encodes each argument of req as one complete hessian2 value of its own, as Dubbo
// 3's Triple protocol carries arguments in non-IDL mode (TripleRequestWrapper.args): RawArgs
// as their bytes, the Object[] of a GenericRequest framed with its elements. Each value
// numbers its class definitions from zero, so a RawArg must define every class it uses (the
// elements of a GenericRequest's Object[] share one numbering, as dataplane/dubbojson writes
// them).
func EncodeArgs(req Request) ([][]byte, error) {
	if len(req.ParamTypes) != len(req.Args) {
		return nil, fmt.Errorf("%d parameter types for %d arguments", len(req.ParamTypes), len(req.Args))
	}
	out := make([][]byte, len(req.Args))
	for i, a := range req.Args {
		if !needsEncoder(a) { // what appendArg writes is the Encoder's bytes (request.go)
			out[i] = appendArg(nil, a)
			continue
		}
		enc := hessian.NewEncoder()
		if err := encodeArg(enc, a); err != nil {
			return nil, fmt.Errorf("encode argument %d (%s): %w", i, req.ParamTypes[i], err)
		}
		out[i] = enc.Buffer()
	}
	return out, nil
}

// DecodeValue decodes one hessian2 value (a Triple response's TripleResponseWrapper.data) as
// Response.Value holds it. A Throwable decodes into a *RemoteError, which is returned as the
// error: what a provider that answers with its exception object sends.
func DecodeValue(b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if v, _, ok := hessianwire.ReadScalar(b); ok { // the Decoder's value, without a Decoder
		return v, nil
	}
	v, err := hessian.NewDecoderSize(b, min(len(b), 4096)).Decode()
	if err != nil {
		return nil, fmt.Errorf("decode hessian2 value: %w", err)
	}
	if t, ok := v.(java_exception.Throwabler); ok {
		re := remoteError(t)
		unwrapGenericException(re)
		return nil, re
	}
	return v, nil
}
