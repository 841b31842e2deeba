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

// BenchmarkDecodeResponse measures decoding one response body: a DTO result (through the
// Decoder), and the string and attachments the dubbo-go provider answers slow(0) with.
func BenchmarkDecodeResponse(b *testing.B) {
	for name, body := range map[string][]byte{"DTO": benchResponse(b), "string": []byte("\x94\tslept 0msH\aversion\x051.0.0" +
		"\x04path0!org.rpcbridge.test.GreeterService\nlocal-addr\x0f127.0.0.1:44695" +
		"0+dubbo-go-graceful-shutdown-provider-countedT\atimeout\x041000\ageneric\x04true" +
		"\tinterface0!org.rpcbridge.test.GreeterService\x05dubbo\x052.0.2\vremote-addr\x0f127.0.0.1:40174ZN")} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := decodeResponse(StatusOK, body); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"-decoder", func(b *testing.B) { // the baseline: the Decoder alone
			b.ReportAllocs()
			for range b.N {
				if _, err := decodeResponseWithDecoder(StatusOK, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
