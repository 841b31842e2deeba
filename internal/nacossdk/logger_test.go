package nacossdk

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	sdklogger "github.com/nacos-group/nacos-sdk-go/v2/common/logger"
)

func TestRouteToTheLatestUser(t *testing.T) {
	var a, b bytes.Buffer
	logger := func(w *bytes.Buffer) *slog.Logger {
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	releaseA := InstallLogger(logger(&a))
	releaseB := InstallLogger(logger(&b))
	sdklogger.Warnf("to %s", "b")
	releaseB()
	sdklogger.Errorf("to %s", "a")
	releaseA()
	sdklogger.Errorf("to nobody")
	if !strings.Contains(b.String(), "to b") || strings.Contains(b.String(), "to a") {
		t.Errorf("b got %q", b.String())
	}
	if !strings.Contains(a.String(), "to a") || !strings.Contains(a.String(), "level=WARN") || strings.Contains(a.String(), "nobody") {
		t.Errorf("a got %q (an SDK error is logged as a warning)", a.String())
	}
}
