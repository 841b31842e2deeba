package transcoding

// Where an apiKey block's keys come from: a key file or an environment variable (a
// secret.Ref), or a key set held, hashed, in the shared store ({store: NAME}). The store's
// sets reach Build as input (Rules.APIKeySets, published by the stage that follows the store),
// so that Build stays pure and never reads the store. A set in the store holds digests only:
// HashAPIKeys turns a key file into that form before it is written, and a set that holds a
// plaintext key is refused when it is read back. Nothing here ever prints a key or a digest.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/secret"
)

// APIKeys is where an apiKey block's keys are read from: exactly one of a key file, an
// environment variable holding the key file's text, or a key set held hashed in the shared
// store.
type APIKeys struct {
	// File is a key file (a mounted Kubernetes Secret, say), re-read when it changes.
	File string `yaml:"file,omitempty" json:"file,omitempty"`
	// Env is an environment variable holding the key file's text, read at each build.
	Env string `yaml:"env,omitempty" json:"env,omitempty"`
	// Store names a key set held hashed in the shared store (written by PUT
	// /api/v1/apikeys/NAME, `rpcbridge apikeys push NAME FILE`) and followed by every replica.
	Store string `yaml:"store,omitempty" json:"store,omitempty"`
}

// apiKeySetNameRE is what a store-held key set may be named (it is a store key segment and a
// URL path segment).
var apiKeySetNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidAPIKeySetName reports what is wrong with name as the name of a store-held key set.
func ValidAPIKeySetName(name string) error {
	if !apiKeySetNameRE.MatchString(name) {
		return fmt.Errorf("%q is not a key set name (lower-case letters, digits and dashes, at most 63)", name)
	}
	return nil
}

// IsZero reports whether k names no place.
func (k APIKeys) IsZero() bool { return k.File == "" && k.Env == "" && k.Store == "" }

// Validate checks that k names exactly one place, and a valid set name.
func (k APIKeys) Validate() error {
	set := 0
	for _, v := range []string{k.File, k.Env, k.Store} {
		if v != "" {
			set++
		}
	}
	switch {
	case set != 1:
		return errors.New("set exactly one of {file: PATH}, {env: NAME} or {store: NAME}")
	case k.Store != "":
		return ValidAPIKeySetName(k.Store)
	}
	return nil
}

// String names the place, never a key, for diagnostics.
func (k APIKeys) String() string {
	if k.Store != "" {
		return fmt.Sprintf("store key set %q", k.Store)
	}
	return k.secret().String()
}

// secret is the file or environment variable of k (zero for a store-held set).
func (k APIKeys) secret() secret.Ref { return secret.Ref{File: k.File, Env: k.Env} }

// ReadFile returns the key file's text of a file or environment variable; a store-held set has
// none ("", false).
func (k APIKeys) ReadFile() (text string, ok bool, err error) {
	if k.Store != "" {
		return "", false, nil
	}
	text, err = k.secret().Read()
	return text, true, err
}

// UnmarshalYAML decodes {file: PATH}, {env: NAME} or {store: NAME} strictly. A plain string is
// refused without repeating it (it is likely a key), as secret.Ref does; file and env are
// secret.Ref's own decoding, store is taken out before it.
func (k *APIKeys) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf(
			"line %d: keys are never written in the configuration: write {file: PATH}, {env: NAME} or {store: NAME} (docs/policies.md)", n.Line)}}
	}
	var out APIKeys
	rest := *n
	rest.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := n.Content[i], n.Content[i+1]
		if key.Value != "store" {
			rest.Content = append(rest.Content, key, v)
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: store: want a string", v.Line)}}
		}
		out.Store = v.Value
	}
	var ref secret.Ref
	if err := ref.UnmarshalYAML(&rest); err != nil {
		return err
	}
	out.File, out.Env = ref.File, ref.Env
	*k = out
	return nil
}

// HashAPIKeys turns a key file into the form a store-held set is kept in: one
// "<client>: sha256:<hex>" line per key, in the file's order, each plaintext key replaced by
// its SHA-256 (comments are dropped). It parses the file as the policies do (parseAPIKeys);
// its problems name lines, never keys, joined.
func HashAPIKeys(text string) (string, error) {
	creds, problems := parseAPIKeys(text)
	if len(problems) > 0 {
		return "", errors.Join(problems...)
	}
	var b strings.Builder
	for _, c := range creds {
		b.WriteString(c.Client + ": " + apiKeyDigestPrefix + credentialDigest(c) + "\n")
	}
	return b.String(), nil
}

// APIKeyClient is one client of a key set and how many keys it has; what the admin API shows of
// a set (never a key or a digest).
type APIKeyClient struct {
	// Client is the client's name.
	Client string `json:"client"`
	// Keys is how many keys the client has.
	Keys int `json:"keys"`
}

// SummarizeStoredAPIKeys parses a store-held set (hashed only) and returns its clients in the
// order they first appear, with their key counts; problems name lines, never digests.
func SummarizeStoredAPIKeys(text string) ([]APIKeyClient, error) {
	creds, problems := parseStoredAPIKeys(text)
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	var out []APIKeyClient
	at := map[string]int{}
	for _, c := range creds {
		i, ok := at[c.Client]
		if !ok {
			i = len(out)
			at[c.Client] = i
			out = append(out, APIKeyClient{Client: c.Client})
		}
		out[i].Keys++
	}
	return out, nil
}

// parseStoredAPIKeys parses a store-held set: a key file of digests only. A plaintext key there
// (a hand edit in the store) makes the set unusable: the store holds no key in the clear.
func parseStoredAPIKeys(text string) ([]ir.APIKeyCredential, []error) {
	creds, problems := parseAPIKeys(text)
	if len(problems) > 0 {
		return nil, problems
	}
	for i, c := range creds {
		if c.Digest == "" {
			return nil, []error{fmt.Errorf("key %d of client %q is not hashed: a set in the store holds \"sha256:\" digests only", i+1, c.Client)}
		}
	}
	return creds, nil
}

// storeEdgeCredentials are the credentials of the store-held set name from sets; an error says
// the set is missing or unusable (withholding the policy's routes).
func storeEdgeCredentials(name string, sets map[string]string) ([]ir.APIKeyCredential, error) {
	text, ok := sets[name]
	if !ok {
		return nil, fmt.Errorf("key set %q is not in the store (push it: rpcbridge apikeys push %s FILE)", name, name)
	}
	creds, problems := parseStoredAPIKeys(text)
	if len(problems) > 0 {
		errs := make([]error, len(problems))
		for i, p := range problems {
			errs[i] = fmt.Errorf("store key set %q %w", name, p)
		}
		return nil, errors.Join(errs...)
	}
	return creds, nil
}

// StoreAPIKeySets names the store-held key sets that policies use, in order, each once.
func StoreAPIKeySets(policies []Policy) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range policies {
		if p.APIKey != nil && p.APIKey.Keys.Store != "" && !seen[p.APIKey.Keys.Store] {
			seen[p.APIKey.Keys.Store] = true
			out = append(out, p.APIKey.Keys.Store)
		}
	}
	return out
}

// credentialDigest is the hex SHA-256 of c's key: its digest when it has one.
func credentialDigest(c ir.APIKeyCredential) string {
	if c.Digest != "" {
		return c.Digest
	}
	sum := sha256.Sum256([]byte(c.Key))
	return hex.EncodeToString(sum[:])
}
