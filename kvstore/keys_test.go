package kvstore

import (
	"errors"
	"strings"
	"testing"
)

func TestValidKey(t *testing.T) {
	for _, k := range []string{"a", "idl/orders/current", "A-b_c.d/0", "a/b.c/d..e"} {
		if err := ValidKey(k); err != nil {
			t.Errorf("ValidKey(%q) = %v", k, err)
		}
	}
	for _, k := range []string{"", "/a", "a/", "a//b", ".a", "a/.b", "a b", "a:b", "ä", strings.Repeat("a", MaxKeyLen+1)} {
		err := ValidKey(k)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidKey(%q) = %v, want ErrInvalid", k, err)
		}
	}
	for _, p := range []string{"", "idl/", "idl", "idl/or"} {
		if err := ValidPrefix(p); err != nil {
			t.Errorf("ValidPrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"/", "a//", ".x", "a b"} {
		if err := ValidPrefix(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidPrefix(%q) = %v, want ErrInvalid", p, err)
		}
	}
}

func TestCheckWrites(t *testing.T) {
	if err := CheckPut("a", make([]byte, MaxValueSize+1), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized value: %v", err)
	}
	if err := CheckPut("a", nil, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative revision: %v", err)
	}
	if err := CheckDelete("a", 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("delete without revision: %v", err)
	}
	if err := CheckPut("a", []byte("v"), 0); err != nil {
		t.Errorf("create: %v", err)
	}
}

func TestErrors(t *testing.T) {
	cause := errors.New("connection refused")
	var err error = &UnavailableError{Backend: "zookeeper", Op: "put a", Err: cause}
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, cause) || errors.Is(err, ErrConflict) {
		t.Errorf("UnavailableError: %v", err)
	}
	err = &ConflictError{Key: "a", Want: 3, Got: 0}
	var ce *ConflictError
	if !errors.Is(err, ErrConflict) || !errors.As(err, &ce) || ce.Got != 0 || !strings.Contains(err.Error(), "found no key") {
		t.Errorf("ConflictError: %v", err)
	}
	if err := error(&CorruptError{Key: "a", Revision: 7, Reason: "chunk 1 is missing"}); !errors.Is(err, ErrCorrupt) ||
		!strings.Contains(err.Error(), "revision 7") {
		t.Errorf("CorruptError: %v", err)
	}
	if !errors.Is(&NotFoundError{Key: "a"}, ErrNotFound) {
		t.Error("NotFoundError is not ErrNotFound")
	}
}
