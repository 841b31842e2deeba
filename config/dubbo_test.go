package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

func TestParseDubboValueLimits(t *testing.T) {
	cfg, err := Parse("rpcbridge.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Rules().DubboValues; got != nil {
		t.Errorf("without gateway.dubbo the rules carry %+v, want nil (the defaults)", got)
	}
	with := valid + "gateway:\n  dubbo: {maxDecimalDigits: 30, maxIntegerDigits: 100}\n"
	cfg, err = Parse("rpcbridge.yaml", []byte(with))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Rules().DubboValues, (ir.DubboValueLimits{MaxDecimalDigits: 30, MaxIntegerDigits: 100}); got == nil || *got != want {
		t.Errorf("gateway.dubbo gives %+v, want %+v", got, want)
	}
	for in, problem := range map[string]string{
		"{maxDecimalScale: -1}":         "gateway.dubbo.maxDecimalScale: -1 is negative; use 0 for the default",
		"{maxDecimalScale: 4294967296}": "gateway.dubbo.maxDecimalScale: 4294967296 is beyond Java's int",
		"{maxDigits: 3}":                `gateway.dubbo.maxDigits: unknown key "maxDigits"`,
	} {
		_, err := Parse("rpcbridge.yaml", []byte(valid+"gateway:\n  dubbo: "+in+"\n"))
		var cerr *Error
		if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || !strings.Contains(cerr.Problems[0].String(), problem) {
			t.Errorf("gateway.dubbo %s: %v, want one problem containing %q", in, err, problem)
		}
	}
}
