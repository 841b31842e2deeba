// Command rpcbridge exposes RPC services (Dubbo, gRPC, Triple) found in service registries as
// REST: it serves the routing configuration to Envoy over xDS and runs an embedded gateway that
// executes the same configuration.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rpcbridge/rpcbridge/config"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
	// exitAuth is an admin API answer 401 or 403 to a client command.
	exitAuth = 3
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// usageError marks a wrong command line, which exits with exitConfig like a bad config file.
type usageError struct{ error }

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// The logger, progress lines and diagnostics all write to stderr, from several goroutines.
	stderr = &lockedWriter{w: stderr}
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	called, err := root.ExecuteContextC(ctx)
	var cerr *config.Error
	var uerr usageError
	var failed *checkFailed
	var aerr *authError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &failed):
		fmt.Fprintf(stderr, "%s\n", failed)
		return exitConfig
	case errors.As(err, &cerr):
		fmt.Fprintf(stderr, "invalid configuration:\n%s\n", cerr)
		return exitConfig
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "error: %v\nRun '%s --help' for usage.\n", uerr.error, called.CommandPath())
		return exitConfig
	case errors.As(err, &aerr):
		fmt.Fprintf(stderr, "error: %v\n", aerr)
		return exitAuth
	case errors.Is(err, context.Canceled):
		return exitOK
	default:
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitFailed
	}
}

// lockedWriter serializes the writes of everything that shares one writer, so that their lines
// do not interleave and a writer that is not safe for concurrent use (a test's buffer) is safe.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p as one call to the underlying writer.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// globalFlags are the flags every command takes.
type globalFlags struct {
	logLevel  string
	logFormat string
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	var g globalFlags
	root := &cobra.Command{
		Use:   "rpcbridge",
		Short: "Expose Dubbo and gRPC services from your registries as REST, through Envoy or on its own",
		Long: `rpcbridge watches service registries (a static list, ZooKeeper, Nacos, Consul), learns the
methods of each RPC service, builds HTTP-to-RPC routes, serves them to Envoy over xDS, and runs an
embedded gateway that executes the same configuration.`,
		Example: `  rpcbridge check --config rpcbridge.yaml      # validate the configuration and the stored IDL
  rpcbridge serve --config rpcbridge.yaml      # run it
  rpcbridge catalog --config rpcbridge.yaml    # what the registries hold
  rpcbridge idl push greeter ./protos          # teach it the methods of a gRPC service`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	logger := func() (*slog.Logger, error) { return newLogger(stderr, g) }
	root.AddCommand(
		newServeCommand(logger),
		newGatewayCommand(logger),
		newRenderCommand(logger, stdout),
		newCatalogCommand(logger, stdout, stderr),
		newBootstrapCommand(stdout),
		newIDLCommand(stdout),
		newRulesCommand(stdout, stderr),
		newAPIKeysCommand(stdout),
		newOpenAPICommand(logger, stdout),
		newVersionCommand(stdout),
		newCheckCommand(stdout),
	)
	return root
}

func newLogger(w io.Writer, g globalFlags) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, usageError{fmt.Errorf("--log-format %q: want text or json", g.logFormat)}
	}
}
