package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// newRulesCommand is `rpcbridge rules`: the route rules kept in the store (store.rules: true),
// through the admin API's /api/v1/rules, with the same client as `rpcbridge idl`.
func newRulesCommand(stdout, stderr io.Writer) *cobra.Command {
	c := &idlClient{}
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Read, replace and remove the route rules kept in the store (store.rules)",
		Long: `rules talks to the admin API of a running rpcbridge whose configuration sets store.rules:
true. The rules document holds routes, rpcRoutes and policies exactly as rpcbridge.yaml does (YAML
or JSON; a rule may reference a policy of the file); it is validated strictly before it is stored, and every replica on the store serves it
beside the rules of its own file. Writes are compare-and-set: --if-match takes the ETag that
"rules get" printed, and a push over rules that changed since answers 412.`,
		Example: `  rpcbridge rules get > rules.yaml
  rpcbridge rules push rules.yaml --admin https://rpcbridge-0.rpcbridge:19901 --token-file ci-token --ca-file ca.crt`,
	}
	c.flags.register(cmd)
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error { return c.connect() }

	get := &cobra.Command{
		Use:   "get",
		Short: "Print the stored rules document; its ETag goes to stderr",
		Example: `  rpcbridge rules get
  rpcbridge rules get > rules.yaml 2> etag`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return rulesGet(c, stdout, stderr) },
	}
	var ifMatch string
	var create bool
	push := &cobra.Command{
		Use:   "push FILE",
		Short: "Validate and store a rules document (\"-\" reads stdin)",
		Example: `  rpcbridge rules push rules.yaml

  # only over the revision that was read (412 if it changed meanwhile)
  rpcbridge rules push rules.yaml --if-match '"42"'

  # only if no rules are stored yet
  rpcbridge rules push rules.yaml --create`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return rulesPush(c, stdout, args[0], ifMatch, create)
		},
	}
	push.Flags().StringVar(&ifMatch, "if-match", "", "write only over this ETag (from rules get)")
	push.Flags().BoolVar(&create, "create", false, "write only if no rules are stored (If-None-Match: *)")
	var delMatch string
	del := &cobra.Command{
		Use:     "delete",
		Short:   "Remove the stored rules (the files' rules keep serving)",
		Example: `  rpcbridge rules delete --if-match '"42"'`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			req, err := c.request(http.MethodDelete, "/api/v1/rules", nil)
			if err != nil {
				return err
			}
			if delMatch != "" {
				req.Header.Set("If-Match", delMatch)
			}
			if err := c.do(req, nil); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "rules deleted")
			return nil
		},
	}
	del.Flags().StringVar(&delMatch, "if-match", "", "delete only this ETag (from rules get)")
	cmd.AddCommand(get, push, del)
	return cmd
}

func rulesGet(c *idlClient, stdout, stderr io.Writer) error {
	req, err := c.request(http.MethodGet, "/api/v1/rules", nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		return &authError{status: resp.StatusCode, message: e.Error.Message}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s (%s)", e.Error.Message, resp.Status)
		}
		return fmt.Errorf("admin API: %s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	if _, err := stdout.Write(data); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "etag: %s\n", resp.Header.Get("ETag"))
	return nil
}

func rulesPush(c *idlClient, stdout io.Writer, file, ifMatch string, create bool) error {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("read the rules: %w", err)
	}
	req, err := c.request(http.MethodPut, "/api/v1/rules", bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/yaml")
	switch {
	case ifMatch != "" && create:
		return fmt.Errorf("--if-match and --create exclude each other")
	case ifMatch != "":
		req.Header.Set("If-Match", ifMatch)
	case create:
		req.Header.Set("If-None-Match", "*")
	}
	var out struct {
		Revision int64 `json:"revision"`
	}
	if err := c.do(req, &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rules stored (etag \"%d\")\n", out.Revision)
	return nil
}
