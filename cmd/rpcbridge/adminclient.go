package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/credentials"

	"github.com/rpcbridge/rpcbridge/admin/auth"
	"github.com/rpcbridge/rpcbridge/config"
)

// tokenEnv is the environment variable an admin client reads its bearer token from when
// --token-file is not given.
const tokenEnv = "RPCBRIDGE_TOKEN"

// adminFlags are the flags every admin API client command shares.
type adminFlags struct {
	admin, tokenFile, caFile string
}

// register adds --admin, --token-file and --ca-file to cmd and its subcommands.
func (f *adminFlags) register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.admin, "admin", "http://"+config.DefaultAdminListen, "admin API base URL of the running rpcbridge (http:// or https://)")
	cmd.PersistentFlags().StringVar(&f.tokenFile, "token-file", "", "file holding the admin API bearer token (default: the "+tokenEnv+" environment variable)")
	cmd.PersistentFlags().StringVar(&f.caFile, "ca-file", "", "PEM CA bundle to verify an https:// admin address (default: the system's)")
}

// client builds the admin client of the flags.
func (f *adminFlags) client() (*adminClient, error) {
	return newAdminClient(f.admin, f.tokenFile, f.caFile)
}

// adminClient talks to a running rpcbridge's admin API with a bearer token (when it has one)
// over HTTP or HTTPS.
type adminClient struct {
	base  string
	token string
	http  *http.Client
}

// authError is an answer 401 or 403 of the admin API; the command exits with exitAuth.
type authError struct {
	status  int
	message string
}

func (e *authError) Error() string {
	if e.status == http.StatusUnauthorized {
		return fmt.Sprintf("admin API: 401 unauthenticated: %s (pass --token-file or set %s)", e.message, tokenEnv)
	}
	return fmt.Sprintf("admin API: 403 forbidden: %s", e.message)
}

// newAdminClient returns a client of the admin API at adminURL (http://host:port or
// https://host:port). The bearer token is read from tokenFile, else from RPCBRIDGE_TOKEN; with
// neither, requests carry none. caFile is a PEM CA bundle that verifies an https:// admin
// address instead of the system's roots. A token is sent over plain http:// only to a loopback
// address.
func newAdminClient(adminURL, tokenFile, caFile string) (*adminClient, error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Errorf("--admin %q: want http://host:port or https://host:port", adminURL)}
	}
	c := &adminClient{base: strings.TrimSuffix(adminURL, "/")}
	switch {
	case tokenFile != "":
		if c.token, err = readTokenFile("--token-file", tokenFile); err != nil {
			return nil, err
		}
	default:
		c.token = strings.TrimSpace(os.Getenv(tokenEnv))
	}
	if c.token != "" && u.Scheme == "http" && !auth.Loopback(u.Hostname()) {
		return nil, usageError{fmt.Errorf("--admin %s: refusing to send the token over plain http to another host; use https:// (with --ca-file)", adminURL)}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--ca-file: %w", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageError{fmt.Errorf("--ca-file %s: no PEM certificate in it", caFile)}
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	c.http = &http.Client{Timeout: 2 * time.Minute, Transport: transport}
	return c, nil
}

// request builds a request of the admin API at path (with its query).
func (c *adminClient) request(method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// do sends req and decodes a JSON answer into out; an error answer becomes an error that lists
// the problems the server named, 401 and 403 an *authError.
func (c *adminClient) do(req *http.Request, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Message  string `json:"message"`
				Problems []struct {
					File    string `json:"file"`
					Line    int    `json:"line"`
					Column  int    `json:"column"`
					Message string `json:"message"`
				} `json:"problems"`
			} `json:"error"`
		}
		decoded := json.Unmarshal(data, &e) == nil && e.Error.Message != ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			msg := e.Error.Message
			if !decoded {
				msg = strings.TrimSpace(string(data))
			}
			return &authError{status: resp.StatusCode, message: msg}
		}
		if !decoded {
			return fmt.Errorf("admin API: %s: %s", resp.Status, strings.TrimSpace(string(data)))
		}
		var b strings.Builder
		msg := e.Error.Message
		if len(e.Error.Problems) > 0 {
			msg, _, _ = strings.Cut(msg, "\n") // the problems follow, one per line
			msg = strings.TrimSuffix(msg, ":")
		}
		fmt.Fprintf(&b, "%s (%s)", msg, resp.Status)
		for _, p := range e.Error.Problems {
			fmt.Fprintf(&b, "\n  %s:%d:%d: %s", p.File, p.Line, p.Column, p.Message)
		}
		return errors.New(b.String())
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

// readTokenFile reads a bearer token from file (one trailing newline dropped); flag names the
// flag in errors.
func readTokenFile(flag, file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", usageError{fmt.Errorf("%s %s is empty", flag, file)}
	}
	return token, nil
}

// xdsTokenCredentials are the call credentials of --xds-token-file: nil without a file.
func xdsTokenCredentials(file string) (credentials.PerRPCCredentials, error) {
	if file == "" {
		return nil, nil
	}
	token, err := readTokenFile("--xds-token-file", file)
	if err != nil {
		return nil, err
	}
	return auth.NewBearer(token), nil
}
