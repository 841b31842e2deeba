// Package field locates problems inside a configuration value: an Error is an error at a path of
// keys ("services[0].endpoints[1].port"), relative to the value that was validated. A type's
// Validate method returns the errors.Join of every problem it finds; whoever validates an
// enclosing value puts them Under its own key, and the configuration loader turns each path into
// the file's line and key.
package field

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a problem at Path, a dotted key path with [i] for list items; "" is the value itself.
type Error struct {
	Path string
	Err  error
}

// Errorf returns the problem at path described by format and args.
func Errorf(path, format string, args ...any) error {
	return &Error{Path: path, Err: fmt.Errorf(format, args...)}
}

// Error renders "path: problem", or the problem alone for the value itself.
func (e *Error) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap returns the problem.
func (e *Error) Unwrap() error { return e.Err }

// Join returns the path of key (or of an index "[i]") inside path.
func Join(path, key string) string {
	switch {
	case path == "":
		return key
	case key == "":
		return path
	case strings.HasPrefix(key, "["):
		return path + key
	}
	return path + "." + key
}

// Under returns err with every problem in it moved under path: an Error's path is joined to it,
// any other error becomes a problem at path itself. It returns nil for nil.
func Under(path string, err error) error {
	list := List(err)
	if len(list) == 0 {
		return nil
	}
	errs := make([]error, len(list))
	for i, e := range list {
		errs[i] = &Error{Path: Join(path, e.Path), Err: e.Err}
	}
	return errors.Join(errs...)
}

// List flattens err (joined errors included) into its problems, in order; an error that is not
// an Error is a problem of the value itself (Path ""). It returns nil for nil.
func List(err error) []*Error {
	if err == nil {
		return nil
	}
	if fe, ok := err.(*Error); ok {
		return []*Error{fe}
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []*Error
		for _, e := range joined.Unwrap() {
			out = append(out, List(e)...)
		}
		return out
	}
	return []*Error{{Err: err}}
}
