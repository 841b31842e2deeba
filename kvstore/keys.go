package kvstore

import (
	"fmt"
	"strings"
)

// MaxKeyLen is the longest key, in bytes.
const MaxKeyLen = 256

// ValidKey checks key against the rules in the package documentation.
func ValidKey(key string) error {
	if key == "" {
		return &InvalidError{What: "key", Reason: "it is empty"}
	}
	if len(key) > MaxKeyLen {
		return &InvalidError{What: fmt.Sprintf("key %.40q...", key), Reason: fmt.Sprintf("longer than %d bytes", MaxKeyLen)}
	}
	if reason := checkSegments(key, false); reason != "" {
		return &InvalidError{What: fmt.Sprintf("key %q", key), Reason: reason}
	}
	return nil
}

// ValidPrefix checks a List or Watch prefix: "" (everything), or the beginning of a valid key
// (it may end with '/' or in the middle of a segment).
func ValidPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > MaxKeyLen {
		return &InvalidError{What: "prefix", Reason: fmt.Sprintf("longer than %d bytes", MaxKeyLen)}
	}
	if reason := checkSegments(prefix, true); reason != "" {
		return &InvalidError{What: fmt.Sprintf("prefix %q", prefix), Reason: reason}
	}
	return nil
}

// checkSegments returns what is wrong with a key (or, with open, a prefix whose last segment
// may be empty), or "".
func checkSegments(s string, open bool) string {
	segs := strings.Split(s, "/")
	for i, seg := range segs {
		if seg == "" {
			if open && i == len(segs)-1 {
				continue
			}
			return "segments between '/' must not be empty"
		}
		if seg[0] == '.' {
			return "segments must not start with '.'"
		}
		for j := 0; j < len(seg); j++ {
			if !keyByte(seg[j]) {
				return fmt.Sprintf("byte %q is not allowed: use A-Z, a-z, 0-9, '.', '_', '-' and '/'", seg[j])
			}
		}
	}
	return ""
}

func keyByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// CheckPut validates the arguments of Store.Put; backends call it first.
func CheckPut(key string, value []byte, ifRevision int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if len(value) > MaxValueSize {
		return &InvalidError{What: fmt.Sprintf("value of %d bytes for %s", len(value), key),
			Reason: fmt.Sprintf("larger than %d bytes", MaxValueSize)}
	}
	if ifRevision < 0 {
		return &InvalidError{What: fmt.Sprintf("revision %d", ifRevision), Reason: "revisions are not negative"}
	}
	return nil
}

// CheckDelete validates the arguments of Store.Delete; backends call it first.
func CheckDelete(key string, ifRevision int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if ifRevision <= 0 {
		return &InvalidError{What: fmt.Sprintf("revision %d", ifRevision), Reason: "delete needs the revision of the value it removes"}
	}
	return nil
}
