// Package nacossdk owns what nacos-sdk-go keeps process-global, for every user of the SDK in
// rpcbridge (the registry adapter, the store backend): its one logger, routed into rpcbridge's
// slog loggers (InstallLogger), and the closing of clients, which must not run concurrently
// (CloseClient).
package nacossdk

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	sdklogger "github.com/nacos-group/nacos-sdk-go/v2/common/logger"
)

// The Nacos SDK keeps its logger in a process-global variable (and would otherwise create a
// zap logger writing files into LogDir when the first client is made), and its goroutines
// outlive the clients that started them: a closed client's stream goroutine still logs. That
// global is the SDK's, not ours, so the process installs one sdkLogger in it, once, and the
// sdkLogger sends each line to the logger of the most recently started Source that is still
// running; when none is, lines are dropped (never written to the writer of a command that has
// returned). Several Nacos registries share the route; their own lines carry their names.
var (
	sdkLoggerOnce sync.Once
	sdkLoggers    sdkRoute
)

// sdkRoute is the stack of running Sources' loggers.
type sdkRoute struct {
	mu   sync.Mutex
	live []*slog.Logger
}

// log sends one line to the current logger, if any. The line is written under the route's
// lock, so that once a release has returned no line reaches the released logger.
func (r *sdkRoute) log(level slog.Level, line func() string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.live) == 0 {
		return
	}
	if logger := r.live[len(r.live)-1]; logger.Enabled(context.Background(), level) {
		logger.Log(context.Background(), level, line())
	}
}

// InstallLogger routes the SDK's log lines into logger until the returned release is called
// (when its user stops, after closing its SDK clients). Call it before creating the first SDK
// client.
func InstallLogger(logger *slog.Logger) (release func()) {
	sdkLoggerOnce.Do(func() { sdklogger.SetLogger(sdkLogger{route: &sdkLoggers}) })
	l := logger.With("component", "nacos-sdk")
	sdkLoggers.mu.Lock()
	sdkLoggers.live = append(sdkLoggers.live, l)
	sdkLoggers.mu.Unlock()
	return func() {
		sdkLoggers.mu.Lock()
		defer sdkLoggers.mu.Unlock()
		if i := slices.Index(sdkLoggers.live, l); i >= 0 {
			sdkLoggers.live = slices.Delete(sdkLoggers.live, i, i+1)
		}
	}
}

// sdkLogger implements the SDK's logger.Logger on slog. The SDK logs routine events (every
// subscription, every pushed change) at info and every failed reconnect attempt at error, so
// its levels are lowered one step: info becomes debug, warn info and error warn. rpcbridge
// reports registry outages itself.
type sdkLogger struct{ route *sdkRoute }

// logf formats and logs a line, unless the level is off (the SDK logs a lot at debug).
func (l sdkLogger) logf(level slog.Level, format string, args ...any) {
	l.route.log(level, func() string { return fmt.Sprintf(format, args...) })
}

// logArgs is logf for the SDK's Print-style calls.
func (l sdkLogger) logArgs(level slog.Level, args ...any) {
	l.route.log(level, func() string { return fmt.Sprint(args...) })
}

// Debug implements the SDK's Logger.
func (l sdkLogger) Debug(args ...any) { l.logArgs(slog.LevelDebug, args...) }

// Info implements the SDK's Logger.
func (l sdkLogger) Info(args ...any) { l.logArgs(slog.LevelDebug, args...) }

// Warn implements the SDK's Logger.
func (l sdkLogger) Warn(args ...any) { l.logArgs(slog.LevelInfo, args...) }

// Error implements the SDK's Logger.
func (l sdkLogger) Error(args ...any) { l.logArgs(slog.LevelWarn, args...) }

// Debugf implements the SDK's Logger.
func (l sdkLogger) Debugf(format string, args ...any) {
	l.logf(slog.LevelDebug, format, args...)
}

// Infof implements the SDK's Logger.
func (l sdkLogger) Infof(format string, args ...any) {
	l.logf(slog.LevelDebug, format, args...)
}

// Warnf implements the SDK's Logger.
func (l sdkLogger) Warnf(format string, args ...any) {
	l.logf(slog.LevelInfo, format, args...)
}

// Errorf implements the SDK's Logger.
func (l sdkLogger) Errorf(format string, args ...any) {
	l.logf(slog.LevelWarn, format, args...)
}

// Close implements the SDK's Logger; there is nothing to flush.
func (l sdkLogger) Close() error { return nil }
