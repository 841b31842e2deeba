package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// DefaultReloadInterval is how often, at most, token files are read again to pick up a rotated
// token: a request arriving later than this after the last read re-reads them first.
const DefaultReloadInterval = time.Second

// Identity is who presented a valid token.
type Identity struct {
	// Name is the token's name.
	Name string
	// Scopes are what the token grants (nil for xDS tokens).
	Scopes []Scope
}

// Has reports whether the identity was granted s.
func (id Identity) Has(s Scope) bool { return slices.Contains(id.Scopes, s) }

// KeyringOptions tune a Keyring.
type KeyringOptions struct {
	// Logger receives token rotations and unreadable token files; nil discards them.
	Logger *slog.Logger
	// ReloadInterval is the least time between two reads of the token files (default
	// DefaultReloadInterval).
	ReloadInterval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// entry is one token as last read.
type entry struct {
	id   Identity
	ref  Credential
	hash [sha256.Size]byte // of the token; zero while its file cannot be read
	ok   bool
}

// Keyring holds the accepted tokens. Env tokens are read once, when it is made; file tokens are
// read then and again when a request comes more than ReloadInterval after the last read, so that
// rewriting a file rotates its token without a restart. A file that becomes unreadable or empty
// refuses its token until it is readable again (fail closed). It is safe for concurrent use.
type Keyring struct {
	opts KeyringOptions

	mu      sync.Mutex
	entries []entry
	checked time.Time
}

// NewKeyring reads every token; it fails when one cannot be read, is shorter than
// MinTokenLength, or equals another.
func NewKeyring(tokens []Token, opts KeyringOptions) (*Keyring, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ReloadInterval <= 0 {
		opts.ReloadInterval = DefaultReloadInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	k := &Keyring{opts: opts, checked: opts.Now()}
	seen := map[[sha256.Size]byte]string{}
	for _, t := range tokens {
		h, err := readToken(t.Credential)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[h]; dup {
			return nil, fmt.Errorf("tokens %q and %q have the same value: give each its own", other, t.Name)
		}
		seen[h] = t.Name
		k.entries = append(k.entries, entry{id: Identity{Name: t.Name, Scopes: slices.Clone(t.Scopes)}, ref: t.Credential, hash: h, ok: true})
	}
	return k, nil
}

// NewXDSKeyring is NewKeyring for tokens without scopes (xds.auth).
func NewXDSKeyring(creds []Credential, opts KeyringOptions) (*Keyring, error) {
	tokens := make([]Token, len(creds))
	for i, c := range creds {
		tokens[i] = Token{Credential: c}
	}
	return NewKeyring(tokens, opts)
}

// AddStatic adds a token that lives only in this process (the embedded gateway's own xDS
// token, say) under name.
func (k *Keyring) AddStatic(name, token string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.entries = append(k.entries, entry{id: Identity{Name: name}, hash: sha256.Sum256([]byte(token)), ok: true})
}

// readToken reads and hashes one token.
func readToken(c Credential) ([sha256.Size]byte, error) {
	v, err := c.Ref().Read()
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("token %q: %w", c.Name, err)
	}
	if len(v) < MinTokenLength {
		return [sha256.Size]byte{}, fmt.Errorf("token %q from %s: %d characters, want at least %d (e.g. openssl rand -hex 32)", c.Name, c.Ref(), len(v), MinTokenLength)
	}
	return sha256.Sum256([]byte(v)), nil
}

// Authenticate returns the identity whose token is token. Every token is compared, in constant
// time, whatever matches, so the time taken tells nothing about the tokens.
func (k *Keyring) Authenticate(token string) (Identity, bool) {
	h := sha256.Sum256([]byte(token))
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reloadLocked()
	var found Identity
	match := 0
	for _, e := range k.entries {
		eq := subtle.ConstantTimeCompare(h[:], e.hash[:])
		if eq == 1 && e.ok && match == 0 {
			found, match = e.id, 1
		}
	}
	return found, match == 1 && token != ""
}

// reloadLocked re-reads the token files when ReloadInterval has passed since the last read.
func (k *Keyring) reloadLocked() {
	now := k.opts.Now()
	if now.Sub(k.checked) < k.opts.ReloadInterval {
		return
	}
	k.checked = now
	for i := range k.entries {
		e := &k.entries[i]
		if e.ref.File == "" {
			continue
		}
		h, err := readToken(e.ref)
		switch {
		case err != nil && e.ok:
			e.ok, e.hash = false, [sha256.Size]byte{}
			k.opts.Logger.Warn("token file unreadable, the token is refused until it is fixed", "token", e.id.Name, "file", e.ref.File, "err", err)
		case err == nil && (!e.ok || h != e.hash):
			e.ok, e.hash = true, h
			k.opts.Logger.Info("token read again from its file", "token", e.id.Name, "file", e.ref.File)
		}
	}
}
