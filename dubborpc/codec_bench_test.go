package dubborpc

import (
	"testing"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"
)

// benchRequest is the generic call of the REST→Dubbo benchmark (dataplane's
// BenchmarkRESTToDubbo): slow(int) through $invoke, with a trace attachment.
func benchRequest() Request {
	return GenericRequest("org.rpcbridge.test.Greeter", "1.0.0", "", "slow", []string{"int"}, []any{int32(0)},
		map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
}

// benchResponse is a response body with a generalized DTO (a map with a class key) and
// attachments, as a provider's generic filter answers.
func benchResponse(tb testing.TB) []byte {
	enc := hessian.NewEncoder()
	for _, v := range []any{int32(responseValueWithAttachments), map[string]any{
		"class": "org.rpcbridge.test.User", "id": int64(9007199254740993), "name": "Ada",
		"tags": []any{"a", "b"}, "created": time.UnixMilli(1714979289123).UTC(),
		"address": map[string]any{"class": "org.rpcbridge.test.Address", "street": "1 Rue", "city": "Paris"},
	}, map[string]string{"dubbo": "2.0.2"}} {
		if err := enc.Encode(v); err != nil {
			tb.Fatal(err)
		}
	}
	return enc.Buffer()
}

// BenchmarkEncodeRequest measures framing one generic request.
//
//	go test ./dubborpc -run '^$' -bench BenchmarkEncodeRequest -benchmem
func BenchmarkEncodeRequest(b *testing.B) {
	req := benchRequest()
	b.ReportAllocs()
	for i := range b.N {
		_, buf, err := encodeRequest(int64(i), req, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		putBuffer(buf)
	}
}

// BenchmarkDecodeResponse measures decoding one response body with a DTO result.
func BenchmarkDecodeResponse(b *testing.B) {
	body := benchResponse(b)
	b.ReportAllocs()
	for range b.N {
		if _, err := decodeResponse(StatusOK, body); err != nil {
			b.Fatal(err)
		}
	}
}
