package dubbojson

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// userJSON is an org.rpcbridge.test.User as the gateway renders it.
const userJSON = `{"id":"9007199254740993","name":"Ada","balance":"12345678901234567890.123456789","level":"SILVER",` +
	`"created":"2024-05-06T07:08:09.123Z","tags":["a","b"],"scores":{"math":90},` +
	`"address":{"street":"1 Rue","city":"Paris","zip":"75001"}}`

// TestAgainstDubboGoProvider sends converted arguments to the real dubbo-go provider's echo
// methods as generic calls and renders what comes back: User (long, BigDecimal, enum, Date,
// List, Map, nested DTO) and Sample (a field of every other Java type family the conversion
// supports) must come back field for field.
func TestAgainstDubboGoProvider(t *testing.T) {
	zk := zookeeper.Start(t)
	p := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), Registry: "interface"})
	client := dubborpc.New(dubborpc.Options{})
	defer client.Close()
	for _, c := range []struct{ method, class, body string }{
		{"echoUser", "org.rpcbridge.test.User", userJSON},
		{"echoSample", "org.rpcbridge.test.Sample", dubboprovider.SampleJSON},
	} {
		t.Run(c.method, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			echo, err := NewRoute(Metadata{Route: ir.DubboRoute{
				Interface: dubboprovider.Interface, Version: dubboprovider.Version, Method: c.method,
				Params:  []ir.DubboParam{{Name: "arg", Type: c.class, From: ir.FromWholeBody}},
				Returns: c.class,
			}, JavaClasses: dubboprovider.JavaClasses()}, "/echo")
			if err != nil {
				t.Fatal(err)
			}
			req, err := echo.Prepare(httptest.NewRequest("POST", "/echo", strings.NewReader(c.body)))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Invoke(ctx, p.Addr(), req)
			if err != nil {
				t.Fatalf("%v; provider log:\n%s", err, p.LogTail())
			}
			got, _ := json.Marshal(echo.Render(resp))
			var want, have map[string]any
			_ = json.Unmarshal([]byte(c.body), &want)
			_ = json.Unmarshal(got, &have)
			for k, w := range want {
				if string(mustJSON(w)) != string(mustJSON(have[k])) {
					t.Errorf("%s: field %s came back as %s, want %s", c.method, k, mustJSON(have[k]), mustJSON(w))
				}
			}
			if len(have) != len(want) {
				t.Errorf("%s returned %d fields, want %d: %s", c.method, len(have), len(want), got)
			}
		})
	}
}

// TestDecimalLimitsAgainstDubboGoProvider: the BigDecimals at the corners of the default
// limits (most digits at either end of the scale, one digit at either end) reach the real
// dubbo-go provider as the value sent and come back unchanged, and one beyond them is refused
// before anything is sent.
func TestDecimalLimitsAgainstDubboGoProvider(t *testing.T) {
	p := dubboprovider.Start(t, dubboprovider.Options{Registry: "none"})
	client := dubborpc.New(dubborpc.Options{})
	defer client.Close()
	echo, err := NewRoute(Metadata{Route: ir.DubboRoute{
		Interface: dubboprovider.Interface, Version: dubboprovider.Version, Method: "echoUser",
		Params:  []ir.DubboParam{{Name: "arg", Type: "org.rpcbridge.test.User", From: ir.FromWholeBody}},
		Returns: "org.rpcbridge.test.User",
	}, JavaClasses: dubboprovider.JavaClasses()}, "/echo")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	digits := strings.Repeat("9", javatype.DefaultMaxDecimalDigits)
	scale := strconv.Itoa(javatype.DefaultMaxDecimalScale)
	for _, balance := range []string{
		digits + "E+" + scale, "-" + digits + "E-" + scale, "0." + digits, "1E+" + scale, "-1E-" + scale, "0E-" + scale,
	} {
		req, err := echo.Prepare(httptest.NewRequest("POST", "/echo", strings.NewReader(`{"balance":"`+balance+`"}`)))
		if err != nil {
			t.Errorf("%s: %v", balance, err)
			continue
		}
		resp, err := client.Invoke(ctx, p.Addr(), req)
		if err != nil {
			t.Fatalf("%s: %v; provider log:\n%s", balance, err, p.LogTail())
		}
		got, _ := echo.Render(resp).(map[string]any)["balance"].(string)
		want, _ := new(big.Rat).SetString(balance)
		if have, ok := new(big.Rat).SetString(got); !ok || have.Cmp(want) != 0 {
			t.Errorf("balance %s came back as %q", balance, got)
		}
	}
	if _, err := echo.Prepare(httptest.NewRequest("POST", "/echo", strings.NewReader(`{"balance":"1E+`+strconv.Itoa(javatype.DefaultMaxDecimalScale+1)+`"}`))); err == nil {
		t.Error("a scale beyond the limit was accepted")
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
