package kvstore

import (
	"errors"
	"fmt"
)

// Sentinels for errors.Is; the errors themselves are the typed errors below.
var (
	// ErrConflict: a compare-and-set lost (HTTP 409).
	ErrConflict = errors.New("revision conflict")
	// ErrUnavailable: the backend could not be reached or failed the request (HTTP 503).
	ErrUnavailable = errors.New("store unavailable")
	// ErrNotFound: the key does not exist (HTTP 404).
	ErrNotFound = errors.New("key not found")
	// ErrCorrupt: the stored value cannot be read (foreign data, a missing or damaged chunk).
	ErrCorrupt = errors.New("corrupt value")
	// ErrInvalid: a key, prefix or value that no store accepts (HTTP 400).
	ErrInvalid = errors.New("invalid request")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)

// ConflictError is returned by a compare-and-set that lost: the key was not at the revision
// the caller named.
type ConflictError struct {
	// Key is the key written.
	Key string
	// Want is the revision the caller named (0: absent).
	Want int64
	// Got is the key's revision as the store saw it (0: absent; -1: unknown).
	Got int64
}

// Error describes the race.
func (e *ConflictError) Error() string {
	want, got := revisionText(e.Want), revisionText(e.Got)
	return fmt.Sprintf("%s: expected %s, found %s: %v", e.Key, want, got, ErrConflict)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

func revisionText(r int64) string {
	switch {
	case r == 0:
		return "no key"
	case r < 0:
		return "another revision"
	}
	return fmt.Sprintf("revision %d", r)
}

// UnavailableError is returned when the backend could not serve a request.
type UnavailableError struct {
	// Backend names the backend ("zookeeper", "consul", ...).
	Backend string
	// Op is what was attempted ("get idl/orders", "put idl/orders", "list idl/").
	Op string
	// Err is the cause.
	Err error
}

// Error names the backend, the operation and the cause.
func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s store: %s: %v: %v", e.Backend, e.Op, ErrUnavailable, e.Err)
}

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// NotFoundError is returned by Get for a key that does not exist.
type NotFoundError struct{ Key string }

// Error names the key.
func (e *NotFoundError) Error() string { return fmt.Sprintf("%s: %v", e.Key, ErrNotFound) }

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// CorruptError is returned by Get for a value that cannot be read, and is what a diagnostic
// reports for an entry left out of a listing.
type CorruptError struct {
	// Key is the entry's key.
	Key string
	// Revision is the revision of the unreadable write, when known.
	Revision int64
	// Reason says what is wrong ("not an rpcbridge value", "chunk 3 of 40 is missing", ...).
	Reason string
}

// Error names the key, the revision and the reason.
func (e *CorruptError) Error() string {
	if e.Revision > 0 {
		return fmt.Sprintf("%s at revision %d: %v: %s", e.Key, e.Revision, ErrCorrupt, e.Reason)
	}
	return fmt.Sprintf("%s: %v: %s", e.Key, ErrCorrupt, e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// InvalidError is returned for a key, prefix, revision or value that no store accepts.
type InvalidError struct {
	// What is the rejected thing ("key \"a//b\"", "value of 70000000 bytes").
	What string
	// Reason is the rule it breaks.
	Reason string
}

// Error names the thing and the rule.
func (e *InvalidError) Error() string { return fmt.Sprintf("invalid %s: %s", e.What, e.Reason) }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }
