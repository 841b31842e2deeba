// Package secret names where a credential is read from: a file or an environment variable,
// never the configuration file itself. A password, token or "user:password" digest written
// inline in rpcbridge.yaml would end up in version control, in ConfigMaps and in logs; a
// Ref keeps only its location there.
package secret

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Ref is where one credential is read from. Exactly one of File and Env is set; the zero Ref
// means "no credential".
type Ref struct {
	// File is a path whose content is the credential (a mounted Kubernetes Secret, say). One
	// trailing newline is dropped, as editors and `echo` add one.
	File string `yaml:"file" json:"file,omitempty"`
	// Env is the name of an environment variable holding the credential.
	Env string `yaml:"env" json:"env,omitempty"`
}

// IsZero reports whether r names no credential.
func (r Ref) IsZero() bool { return r.File == "" && r.Env == "" }

// Validate checks that r names at most one place.
func (r Ref) Validate() error {
	if r.File != "" && r.Env != "" {
		return errors.New("set file or env, not both")
	}
	return nil
}

// String names the place, never the credential, for logs and errors.
func (r Ref) String() string {
	switch {
	case r.File != "":
		return "file " + r.File
	case r.Env != "":
		return "environment variable " + r.Env
	}
	return "none"
}

// Read returns the credential. It fails when the file cannot be read, when the variable is
// unset, or when the credential is empty; the zero Ref reads as "".
func (r Ref) Read() (string, error) {
	if err := r.Validate(); err != nil {
		return "", err
	}
	var v string
	switch {
	case r.File != "":
		b, err := os.ReadFile(r.File)
		if err != nil {
			return "", fmt.Errorf("read credential: %w", err)
		}
		v = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	case r.Env != "":
		var ok bool
		if v, ok = os.LookupEnv(r.Env); !ok {
			return "", fmt.Errorf("read credential: environment variable %s is not set", r.Env)
		}
	default:
		return "", nil
	}
	if v == "" {
		return "", fmt.Errorf("read credential from %s: it is empty", r)
	}
	return v, nil
}
