// Package upload unpacks IDL uploads (a zip archive, a multipart form or a single file) into a
// map of relative paths to contents, refusing unsafe entry names, symlinks and uploads that exceed
// size, count, depth or compression-ratio limits.
//
// Memory is bounded by the limits, never by what an upload claims or inflates to: the upload is
// spooled (in memory up to 256 KiB, beyond that to a temporary file) while its bytes are counted
// against MaxUploadBytes; an archive's central-directory records are counted before the zip reader
// parses them; every entry's declared size is checked against its limits, then every entry is
// inflated once into nothing while the bytes are counted, so a bomb stops at its limit having
// allocated nothing for its content; only an archive that passed all of that is read again into
// buffers of exactly the verified sizes.
package upload

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Kind says how an upload is packed.
type Kind struct {
	// Archive is true for a zip archive (a .zip or a .jar).
	Archive bool
	// Multipart is true for a multipart/form-data body whose file parts are the files, each
	// stored under its part's file name.
	Multipart bool
	// Boundary is the multipart boundary (from the Content-Type's boundary parameter).
	Boundary string
	// Name is the path a single-file upload is stored under, for example "greeter.proto"; it is
	// not used for archives and forms.
	Name string
}

// Zip is the Kind of a zip archive.
func Zip() Kind { return Kind{Archive: true} }

// Multipart is the Kind of a multipart/form-data body with the given boundary.
func Multipart(boundary string) Kind { return Kind{Multipart: true, Boundary: boundary} }

// File is the Kind of a single file stored under name.
func File(name string) Kind { return Kind{Name: name} }

// Limits bound what an upload may unpack to. A zero field takes its default.
type Limits struct {
	// MaxUploadBytes bounds the upload as sent (the compressed archive or the single file).
	MaxUploadBytes int64
	// MaxTotalBytes bounds the sum of all unpacked files.
	MaxTotalBytes int64
	// MaxFiles bounds the number of files (directories do not count).
	MaxFiles int
	// MaxEntries bounds the records of an archive's central directory, directories included,
	// which the zip reader holds in memory at once (a few hundred bytes each). They are counted
	// as record signatures anywhere in the archive before it is parsed, an upper bound of what
	// the reader would parse. The default is twice MaxFiles.
	MaxEntries int
	// MaxDepth bounds how many directories deep a file may be ("a/b/c.proto" is 2 deep).
	MaxDepth int
	// MaxRatio bounds each entry's unpacked size to MaxRatio times its compressed size (or
	// RatioFloorBytes, whichever is larger), against decompression bombs.
	MaxRatio int64
	// RatioFloorBytes is the size every entry may reach regardless of MaxRatio, so that small,
	// very compressible files are accepted.
	RatioFloorBytes int64
}

// DefaultLimits are the limits used for zero fields: 32 MiB uploaded, 256 MiB unpacked, 10,000
// files, 20,000 archive entries, 16 directory levels, a ratio of 200 with a 1 MiB floor.
func DefaultLimits() Limits {
	return Limits{
		MaxUploadBytes:  32 << 20,
		MaxTotalBytes:   256 << 20,
		MaxFiles:        10_000,
		MaxEntries:      20_000,
		MaxDepth:        16,
		MaxRatio:        200,
		RatioFloorBytes: 1 << 20,
	}
}

// WithDefaults returns l with its zero (or negative) fields taken from DefaultLimits, except
// MaxEntries, which defaults to twice MaxFiles.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.MaxUploadBytes <= 0 {
		l.MaxUploadBytes = d.MaxUploadBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = d.MaxFiles
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 2 * l.MaxFiles // as many directories as files
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = d.MaxRatio
	}
	if l.RatioFloorBytes <= 0 {
		l.RatioFloorBytes = d.RatioFloorBytes
	}
	return l
}

// LimitError reports an upload that exceeds one of its Limits. An HTTP API answers it with 413.
type LimitError struct {
	// Limit names the exceeded limit, for example "MaxTotalBytes".
	Limit string
	// Max is the limit's value.
	Max int64
	// Entry is the archive entry being read when the limit was hit, or "".
	Entry string
}

// Error describes the exceeded limit.
func (e *LimitError) Error() string {
	if e.Entry != "" {
		return fmt.Sprintf("upload exceeds %s (%d) at %q", e.Limit, e.Max, e.Entry)
	}
	return fmt.Sprintf("upload exceeds %s (%d)", e.Limit, e.Max)
}

// UnsafePathError reports an entry that could write outside the upload's root or is not a plain
// file. An HTTP API answers it with 400.
type UnsafePathError struct {
	// Name is the entry name as the archive spells it.
	Name string
	// Reason says what is wrong with it.
	Reason string
}

// Error describes the refused entry.
func (e *UnsafePathError) Error() string {
	return fmt.Sprintf("unsafe upload entry %q: %s", e.Name, e.Reason)
}

// FormatError reports an upload that is not a readable archive. An HTTP API answers it with 400.
type FormatError struct {
	Err error
}

// Error describes the format problem.
func (e *FormatError) Error() string { return "unreadable upload: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// Unpack reads an upload of the given kind from r and returns its files by cleaned relative path
// ("dir/file.proto"). It fails with *LimitError, *UnsafePathError or *FormatError, or with the
// error of reading r or of spooling it to a temporary file (in os.TempDir, so $TMPDIR).
func Unpack(r io.Reader, kind Kind, limits Limits) (map[string][]byte, error) {
	limits = limits.WithDefaults()
	var name string
	if !kind.Archive && !kind.Multipart {
		var err error
		if name, err = CleanPath(kind.Name); err != nil {
			return nil, err
		}
		if err := checkDepth(name, limits); err != nil {
			return nil, err
		}
	}
	sp, err := spool(r, limits.MaxUploadBytes)
	if err != nil {
		return nil, err
	}
	defer sp.close()
	switch {
	case kind.Archive:
		return unzip(sp, sp.size, limits)
	case kind.Multipart:
		return unpackMultipart(io.NewSectionReader(sp, 0, sp.size), kind.Boundary, limits)
	}
	if sp.size > limits.MaxTotalBytes {
		return nil, &LimitError{Limit: "MaxTotalBytes", Max: limits.MaxTotalBytes, Entry: name}
	}
	data := make([]byte, sp.size)
	if _, err := sp.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read spooled upload: %w", err)
	}
	return map[string][]byte{name: data}, nil
}

// CleanPath checks an entry name and returns it cleaned. It refuses empty, absolute and
// drive-letter names, backslashes, NUL bytes and ".." segments; "." and empty segments are
// dropped ("./a//b.proto" becomes "a/b.proto"), so the result always stays below the root.
func CleanPath(name string) (string, error) {
	refuse := func(reason string) (string, error) {
		return "", &UnsafePathError{Name: name, Reason: reason}
	}
	switch {
	case name == "":
		return refuse("empty name")
	case strings.ContainsRune(name, '\\'):
		return refuse("backslashes are not accepted")
	case strings.ContainsRune(name, 0):
		return refuse("NUL byte in name")
	case strings.HasPrefix(name, "/"):
		return refuse("absolute path")
	case len(name) >= 2 && name[1] == ':':
		return refuse("drive-letter path")
	}
	var kept []string
	for _, seg := range strings.Split(name, "/") {
		switch seg {
		case "..":
			return refuse("'..' segments are not accepted")
		case "", ".":
			continue
		}
		kept = append(kept, seg)
	}
	if len(kept) == 0 {
		return refuse("names no file")
	}
	return strings.Join(kept, "/"), nil
}

// checkDepth enforces MaxDepth on a cleaned name.
func checkDepth(name string, limits Limits) error {
	if depth := strings.Count(name, "/"); depth > limits.MaxDepth {
		return &LimitError{Limit: "MaxDepth", Max: int64(limits.MaxDepth), Entry: name}
	}
	return nil
}

// checkFileDirClashes refuses a file whose path is also a directory of another file ("a" and
// "a/b"), which could not both be written to disk.
func checkFileDirClashes(files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for dir := n; ; {
			i := strings.LastIndexByte(dir, '/')
			if i < 0 {
				break
			}
			dir = dir[:i]
			if _, clash := files[dir]; clash {
				return &UnsafePathError{Name: n, Reason: fmt.Sprintf("%q is both a file and a directory", dir)}
			}
		}
	}
	return nil
}

// IsClientError reports whether err is the uploader's fault (a limit, an unsafe entry or an
// unreadable archive) rather than the server's.
func IsClientError(err error) bool {
	var le *LimitError
	var ue *UnsafePathError
	var fe *FormatError
	return errors.As(err, &le) || errors.As(err, &ue) || errors.As(err, &fe)
}
