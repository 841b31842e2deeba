package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rpcbridge/rpcbridge/config"
	idlproto "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/idl/store"
)

// checkFailed is what check found wrong: one problem per line, and a note on what was not
// checked. It exits with exitConfig.
type checkFailed struct {
	problems []string
	note     string
}

// Error lists the problems, one per line, then how many there are.
func (e *checkFailed) Error() string {
	out := strings.Join(e.problems, "\n") + "\n" + plural(len(e.problems), "problem", "problems")
	if e.note != "" {
		out += " (" + e.note + ")"
	}
	return out
}

func newCheckCommand(stdout io.Writer) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "check --config FILE",
		Short: "Validate the configuration and the stored IDL without contacting any registry",
		Long: `check reads the configuration file as serve would (every problem as file:line: key: message)
and validates the files of every schema in the IDL store of its dataDir again, as an upload is
validated (every problem as file:line:column, the paths as they were uploaded). It contacts no
registry and changes nothing. It exits with 0 and a one-line summary when everything is valid,
with 2 and every problem otherwise; run it before a deploy or a restart.`,
		Example: `  rpcbridge check --config rpcbridge.yaml

  # in CI, before rolling out a changed configuration
  rpcbridge check -c deploy/rpcbridge.yaml && kubectl apply -f deploy/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(file)
			var cerr *config.Error
			switch {
			case errors.As(err, &cerr):
				lines := make([]string, 0, len(cerr.Problems))
				for _, p := range cerr.Problems {
					lines = append(lines, p.String())
				}
				return &checkFailed{problems: lines, note: "the IDL store was not checked: its dataDir comes from a valid configuration"}
			case err != nil:
				return err
			}
			summary, problems := checkStore(cmd, cfg)
			if len(problems) > 0 {
				return &checkFailed{problems: problems}
			}
			_, err = fmt.Fprintf(stdout, "%s: valid (%s, %s, %s); %s\n", file,
				plural(len(cfg.Registries), "registry", "registries"), plural(len(cfg.Routes), "route", "routes"),
				plural(len(cfg.RPCRoutes), "RPC route", "RPC routes"), summary)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "rpcbridge.yaml", "configuration file")
	return cmd
}

// checkStore validates every stored schema again. It returns a summary of what was checked, or
// the problems: one line for each compiler problem (file:line:column) or other error.
func checkStore(cmd *cobra.Command, cfg *config.Config) (string, []string) {
	dir := storeDir(cfg)
	var st *store.Store
	var err error
	if sharedIDL(cfg) { // the store section's shared store (store.go)
		dir = storeType(cfg) + " store"
		var closeStore func()
		if st, _, closeStore, err = openIDLStore(cmd.Context(), cfg, slog.New(slog.DiscardHandler)); err != nil {
			return "", []string{fmt.Sprintf("%s: %v", dir, err)}
		}
		defer closeStore()
	} else {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return fmt.Sprintf("no IDL store at %s", dir), nil
		}
		if st, err = openStore(cfg, slog.New(slog.DiscardHandler)); err != nil {
			return "", []string{fmt.Sprintf("%s: %v", dir, err)}
		}
	}
	var problems []string
	for _, v := range st.Verify(cmd.Context()) {
		at := fmt.Sprintf("%s: schema %s (%s, version %d)", dir, v.Entry.Name, v.Entry.Kind, v.Entry.Version)
		var ce *idlproto.CompileError
		if errors.As(v.Err, &ce) {
			for _, p := range ce.Problems {
				problems = append(problems, at+": "+p.String())
			}
			continue
		}
		problems = append(problems, at+": "+v.Err.Error())
	}
	return fmt.Sprintf("IDL store %s: %s valid", dir, plural(len(st.List()), "schema", "schemas")), problems
}
