package store

import (
	"context"
	"fmt"
)

// VerifyError is a current schema whose stored files no longer validate as their kind.
type VerifyError struct {
	// Entry describes the stored version.
	Entry Entry
	// Err is the validator's error (for protobuf a *proto.CompileError with file:line:column,
	// the paths being the uploaded ones), or why the files could not be read back.
	Err error
}

// Error names the schema, its kind and version, and the problem.
func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s (%s, version %d): %v", e.Entry.Name, e.Entry.Kind, e.Entry.Version, e.Err)
}

// Unwrap returns the validator's error.
func (e *VerifyError) Unwrap() error { return e.Err }

// Verify validates the uploaded files of every current schema again, with the validator Put
// used, and returns one *VerifyError per schema that fails, sorted by name. It changes nothing.
// A stored schema can stop validating when rpcbridge is upgraded to a stricter parser or when
// the data directory was edited by hand; Verify finds that before a restart would.
func (s *Store) Verify(ctx context.Context) []*VerifyError {
	var out []*VerifyError
	for _, e := range s.List() {
		if err := ctx.Err(); err != nil {
			return append(out, &VerifyError{Entry: e, Err: err})
		}
		validate, ok := s.validators[e.Kind]
		if !ok {
			out = append(out, &VerifyError{Entry: e, Err: &UnknownKindError{Kind: e.Kind}})
			continue
		}
		files, err := s.Files(e.Name)
		if err == nil {
			_, err = validate(ctx, files)
		}
		if err != nil {
			out = append(out, &VerifyError{Entry: e, Err: err})
		}
	}
	return out
}
