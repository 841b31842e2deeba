// Package auth is the authentication of rpcbridge's control surfaces: bearer tokens with scopes
// for the admin API and bearer tokens for the xDS server. Tokens are read from files or
// environment variables (internal/secret), never from the configuration file; token files are
// re-read when they change, so a token is rotated by rewriting its file. It owns the table that
// maps every admin endpoint to a group and the scope it needs (groups.go), the HTTP middleware
// in front of the admin API (middleware.go) and the gRPC interceptors and call credentials of
// the xDS connection (grpc.go). Tokens are compared in constant time and only their names are
// ever logged.
package auth

import (
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/secret"
)

// Scope is what a token may do on the admin API.
type Scope string

// The scopes.
const (
	// ScopeRead allows every GET (and HEAD) of the groups that are not public.
	ScopeRead Scope = "read"
	// ScopeWrite allows what changes state: IDL upload, delete and rollback, reload, rules and
	// API key sets PUT and DELETE.
	ScopeWrite Scope = "write"
)

// MinTokenLength is the shortest token accepted: shorter ones are guessable, and a typo in a
// secret file (a path instead of the secret) shows as an error at start.
const MinTokenLength = 16

var tokenNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Credential is one named bearer token: its name, which logs show, and where its value is read
// from.
type Credential struct {
	// Name identifies the token in logs and errors (letters, digits, ".", "_", "-"); the token
	// itself is never logged.
	Name string `yaml:"name" json:"name"`
	// File is a file holding the token (a mounted Kubernetes Secret, say), re-read when it
	// changes; one trailing newline is dropped.
	File string `yaml:"file" json:"file,omitempty"`
	// Env is an environment variable holding the token, read at start.
	Env string `yaml:"env" json:"env,omitempty"`
}

// Ref is where the token is read from.
func (c Credential) Ref() secret.Ref { return secret.Ref{File: c.File, Env: c.Env} }

// Token is a bearer token of the admin API with the scopes it grants.
type Token struct {
	Credential `yaml:",inline" json:",inline"`
	// Scopes are what the token may do: read (every GET), write (IDL upload, delete and
	// rollback, reload, rules and API key sets PUT and DELETE); write does not imply read.
	Scopes []Scope `yaml:"scopes" json:"scopes"`
}

// Config is the admin API's authentication (admin.auth). Without tokens the admin API is open,
// which the configuration allows only on a loopback admin.listen.
type Config struct {
	// Tokens are the bearer tokens the admin API accepts.
	Tokens []Token `yaml:"tokens" json:"tokens"`
	// Public are endpoint groups readable (GET) without a token: metrics, catalog, routes,
	// openapi, idl, rules, apikeys, gateway. health (/healthz, /readyz) and console (the console's
	// static files, which hold no data) are always public; writes always need a token.
	Public []Group `yaml:"public" json:"public"`
}

// XDSConfig is the xDS server's authentication (xds.auth): with tokens set, a client must send
// one as "authorization: Bearer <token>" gRPC metadata, or it gets Unauthenticated and no
// configuration.
type XDSConfig struct {
	// Tokens are the bearer tokens the xDS server accepts.
	Tokens []Credential `yaml:"tokens" json:"tokens"`
}

// On reports whether the admin API needs tokens.
func (c Config) On() bool { return len(c.Tokens) > 0 }

// On reports whether the xDS server needs tokens.
func (c XDSConfig) On() bool { return len(c.Tokens) > 0 }

// Validate reports every problem of c, at its key path.
func (c Config) Validate() error {
	var errs []error
	creds := make([]Credential, len(c.Tokens))
	for i, t := range c.Tokens {
		creds[i] = t.Credential
		at := fmt.Sprintf("tokens[%d]", i)
		if len(t.Scopes) == 0 {
			errs = append(errs, field.Errorf(at+".scopes", "a token needs at least one scope: read, write"))
		}
		for j, s := range t.Scopes {
			if s != ScopeRead && s != ScopeWrite {
				errs = append(errs, field.Errorf(fmt.Sprintf("%s.scopes[%d]", at, j), "scope %q: want read or write", s))
			}
		}
	}
	errs = append(errs, validateCredentials("tokens", creds))
	for i, g := range c.Public {
		if !slices.Contains(Groups(), g) {
			errs = append(errs, field.Errorf(fmt.Sprintf("public[%d]", i), "group %q: want one of %v", g, Groups()))
		}
	}
	return errors.Join(errs...)
}

// Validate reports every problem of c, at its key path.
func (c XDSConfig) Validate() error { return validateCredentials("tokens", c.Tokens) }

// validateCredentials checks names (present, unique) and references (exactly one place each).
func validateCredentials(key string, creds []Credential) error {
	var errs []error
	names := map[string]int{}
	for i, c := range creds {
		at := fmt.Sprintf("%s[%d]", key, i)
		if !tokenNameRE.MatchString(c.Name) {
			errs = append(errs, field.Errorf(at+".name", "token name %q: want letters, digits, '.', '_' or '-'", c.Name))
		} else if first, dup := names[c.Name]; dup {
			errs = append(errs, field.Errorf(at+".name", "token %q is already defined at %s[%d]", c.Name, key, first))
		}
		names[c.Name] = i
		if c.Ref().IsZero() {
			errs = append(errs, field.Errorf(at, "set file or env: where the token is read from"))
		} else if err := c.Ref().Validate(); err != nil {
			errs = append(errs, field.Errorf(at, "%v", err))
		}
	}
	return errors.Join(errs...)
}
