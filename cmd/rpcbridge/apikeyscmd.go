package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/spf13/cobra"
)

// apiKeySetView is what the admin API answers for a key set: its clients and key counts, never
// a key or a digest.
type apiKeySetView struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Revision int64  `json:"revision"`
	Clients  []struct {
		Client string `json:"client"`
		Keys   int    `json:"keys"`
	} `json:"clients"`
	Keys    int    `json:"keys"`
	Problem string `json:"problem"`
}

// newAPIKeysCommand is `rpcbridge apikeys`: the API key sets held hashed in the store, which
// policies read with keys: {store: NAME}, through the admin API's /api/v1/apikeys, with the
// same client as `rpcbridge idl` and `rpcbridge rules`.
func newAPIKeysCommand(stdout io.Writer) *cobra.Command {
	c := &idlClient{}
	cmd := &cobra.Command{
		Use:   "apikeys",
		Short: "Store, show and remove the API key sets held hashed in the store (keys: {store: NAME})",
		Long: `apikeys talks to the admin API of a running rpcbridge. A key set is a key file ("<client>: <key>"
or "<client>: sha256:<digest>" lines, as for keys: {file: PATH}); it is validated strictly (every
problem with its line, never a key) and every plaintext key is replaced by its SHA-256 before it is
stored, so the store holds no key in the clear. Every replica on the store follows the sets: the
routes of a policy with keys: {store: NAME} verify the set's keys on rpcbridge's gateways within a
moment of a push (Envoy cannot verify digests: its routes answer 503). get and list show client
names and key counts only. Writes are compare-and-set: --if-match takes the ETag that "apikeys get"
printed, and a push over a set that changed since answers 412.`,
		Example: `  rpcbridge apikeys push partners ./api-keys
  rpcbridge apikeys get partners
  rpcbridge apikeys list --admin https://rpcbridge-0.rpcbridge:19901 --token-file ci-token --ca-file ca.crt`,
	}
	c.flags.register(cmd)
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error { return c.connect() }

	var ifMatch string
	var create bool
	push := &cobra.Command{
		Use:   "push NAME FILE",
		Short: "Validate a key file, hash its keys and store it as the set NAME (\"-\" reads stdin)",
		Example: `  rpcbridge apikeys push partners ./api-keys

  # rotate: only over the revision that was read (412 if it changed meanwhile)
  rpcbridge apikeys push partners ./api-keys --if-match '"42"'

  # only if no set of that name is stored yet, from stdin
  rpcbridge apikeys push partners - --create < ./api-keys`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return apiKeysPush(c, stdout, args[0], args[1], ifMatch, create)
		},
	}
	push.Flags().StringVar(&ifMatch, "if-match", "", "write only over this ETag (from apikeys get)")
	push.Flags().BoolVar(&create, "create", false, "write only if no set of that name is stored (If-None-Match: *)")
	get := &cobra.Command{
		Use:     "get NAME",
		Short:   "Print a set's clients and their key counts, and its ETag",
		Example: `  rpcbridge apikeys get partners`,
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			req, err := c.request(http.MethodGet, "/api/v1/apikeys/"+url.PathEscape(args[0]), nil)
			if err != nil {
				return err
			}
			var v apiKeySetView
			if err := c.do(req, &v); err != nil {
				return err
			}
			printAPIKeySet(stdout, v)
			return nil
		},
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the stored sets with their client and key counts",
		Example: `  rpcbridge apikeys list`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			req, err := c.request(http.MethodGet, "/api/v1/apikeys", nil)
			if err != nil {
				return err
			}
			var out struct {
				Sets []apiKeySetView `json:"sets"`
			}
			if err := c.do(req, &out); err != nil {
				return err
			}
			if len(out.Sets) == 0 {
				fmt.Fprintln(stdout, "no API key sets are stored")
			}
			for _, s := range out.Sets {
				if s.Problem != "" {
					fmt.Fprintf(stdout, "%s\tetag \"%d\"\tunusable: %s\n", s.Name, s.Revision, s.Problem)
					continue
				}
				fmt.Fprintf(stdout, "%s\tetag \"%d\"\t%d clients\t%d keys\n", s.Name, s.Revision, len(s.Clients), s.Keys)
			}
			return nil
		},
	}
	var delMatch string
	del := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Remove a set (the routes of the policies that use it answer 503)",
		Example: `  rpcbridge apikeys delete partners --if-match '"42"'`,
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			req, err := c.request(http.MethodDelete, "/api/v1/apikeys/"+url.PathEscape(args[0]), nil)
			if err != nil {
				return err
			}
			if delMatch != "" {
				req.Header.Set("If-Match", delMatch)
			}
			if err := c.do(req, nil); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "key set %s deleted\n", args[0])
			return nil
		},
	}
	del.Flags().StringVar(&delMatch, "if-match", "", "delete only this ETag (from apikeys get)")
	cmd.AddCommand(push, get, list, del)
	return cmd
}

func apiKeysPush(c *idlClient, stdout io.Writer, name, file, ifMatch string, create bool) error {
	if ifMatch != "" && create {
		return usageError{fmt.Errorf("--if-match and --create exclude each other")}
	}
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("read the key file: %w", err)
	}
	req, err := c.request(http.MethodPut, "/api/v1/apikeys/"+url.PathEscape(name), bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain")
	switch {
	case ifMatch != "":
		req.Header.Set("If-Match", ifMatch)
	case create:
		req.Header.Set("If-None-Match", "*")
	}
	var v apiKeySetView
	if err := c.do(req, &v); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key set %s stored hashed (etag \"%d\"): %d clients, %d keys\n", v.Name, v.Revision, len(v.Clients), v.Keys)
	return nil
}

// printAPIKeySet prints a set's clients and key counts.
func printAPIKeySet(w io.Writer, v apiKeySetView) {
	fmt.Fprintf(w, "key set %s (%s, etag \"%d\")\n", v.Name, v.Key, v.Revision)
	if v.Problem != "" {
		fmt.Fprintf(w, "unusable: %s\n", v.Problem)
		return
	}
	for _, cl := range v.Clients {
		fmt.Fprintf(w, "  %s\t%d keys\n", cl.Client, cl.Keys)
	}
}
