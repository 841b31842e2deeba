package dubbojson

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
)

// BenchmarkPrepare measures building the Dubbo call of one request: the benchmark route's
// query argument (GET /slow?ms=0 → slow(int)), and a User DTO from a JSON body.
//
//	go test ./dataplane/dubbojson -run '^$' -bench . -benchmem
func BenchmarkPrepare(b *testing.B) {
	for _, c := range []struct {
		name  string
		param ir.DubboParam
		url   string
		body  string
	}{
		{"query-int", ir.DubboParam{Name: "ms", Type: "int", From: ir.FromQuery, Key: "ms"}, "/slow?ms=0", ""},
		{"body-User", ir.DubboParam{Name: "arg", Type: "org.rpcbridge.test.User", From: ir.FromWholeBody}, "/echo", userJSON},
		{"body-Sample", ir.DubboParam{Name: "arg", Type: "org.rpcbridge.test.Sample", From: ir.FromWholeBody}, "/echo", dubboprovider.SampleJSON},
	} {
		b.Run(c.name, func(b *testing.B) {
			route, err := NewRoute(Metadata{Route: ir.DubboRoute{Interface: dubboprovider.Interface,
				Version: dubboprovider.Version, Method: "m", Params: []ir.DubboParam{c.param}},
				JavaClasses: dubboprovider.JavaClasses()}, "")
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest("POST", c.url, nil)
			body := strings.NewReader(c.body)
			req.Body = io.NopCloser(body)
			b.ReportAllocs()
			for range b.N {
				body.Reset(c.body)
				req.ContentLength = int64(len(c.body))
				if _, err := route.Prepare(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRender measures turning a decoded User result (as a generic call returns it) into
// the JSON body.
func BenchmarkRender(b *testing.B) {
	route, err := NewRoute(Metadata{Route: ir.DubboRoute{Interface: dubboprovider.Interface,
		Version: dubboprovider.Version, Method: "m", Returns: "org.rpcbridge.test.User"},
		JavaClasses: dubboprovider.JavaClasses()}, "")
	if err != nil {
		b.Fatal(err)
	}
	var generalized map[string]any
	if err := json.Unmarshal([]byte(userJSON), &generalized); err != nil {
		b.Fatal(err)
	}
	generalized["class"] = "org.rpcbridge.test.User"
	resp := dubborpc.Response{Value: generalized}
	b.ReportAllocs()
	for range b.N {
		if _, err := json.Marshal(route.Render(resp)); err != nil {
			b.Fatal(err)
		}
	}
}
