package nacos

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	sdklogger "github.com/nacos-group/nacos-sdk-go/v2/common/logger"
)

// sdkLoggerOnce guards the one call to the SDK's logger.SetLogger.
//
// The Nacos SDK keeps its logger in a process-global variable (and would otherwise create a
// zap logger writing files into LogDir when the first client is made). That global is the
// SDK's, not ours: whichever Source runs first routes the SDK's lines into its logger, once per
// process, before it creates its first client. Later sources (other Nacos registries) share
// it; their own lines still carry their registry name.
var sdkLoggerOnce sync.Once

// installSDKLogger routes the SDK's log lines into logger, the first time it is called in the
// process.
func installSDKLogger(logger *slog.Logger) {
	sdkLoggerOnce.Do(func() {
		sdklogger.SetLogger(sdkLogger{logger: logger.With("component", "nacos-sdk")})
	})
}

// sdkLogger implements the SDK's logger.Logger on slog. The SDK logs routine events (every
// subscription, every pushed change) at info and every failed reconnect attempt at error, so
// its levels are lowered one step: info becomes debug, warn info and error warn. rpcbridge
// reports registry outages itself.
type sdkLogger struct{ logger *slog.Logger }

// logf formats and logs a line, unless the level is off (the SDK logs a lot at debug).
func (l sdkLogger) logf(level slog.Level, format string, args ...any) {
	if l.logger.Enabled(context.Background(), level) {
		l.logger.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

// logArgs is logf for the SDK's Print-style calls.
func (l sdkLogger) logArgs(level slog.Level, args ...any) {
	if l.logger.Enabled(context.Background(), level) {
		l.logger.Log(context.Background(), level, fmt.Sprint(args...))
	}
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
