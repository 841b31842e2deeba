// Package upload unpacks IDL uploads (a zip archive or a single file) into a map of relative
// paths to contents, refusing unsafe entry names, symlinks and archives that exceed size, count,
// depth or compression-ratio limits. The limits are enforced on the bytes actually read, never on
// the sizes an archive claims.
package upload

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
)

// Kind says how an upload is packed.
type Kind struct {
	// Archive is true for a zip archive (a .zip or a .jar).
	Archive bool
	// Name is the path a single-file upload is stored under, for example "greeter.proto"; it is
	// not used for archives.
	Name string
}

// Zip is the Kind of a zip archive.
func Zip() Kind { return Kind{Archive: true} }

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
// files, 16 directory levels, a ratio of 200 with a 1 MiB floor.
func DefaultLimits() Limits {
	return Limits{
		MaxUploadBytes:  32 << 20,
		MaxTotalBytes:   256 << 20,
		MaxFiles:        10_000,
		MaxDepth:        16,
		MaxRatio:        200,
		RatioFloorBytes: 1 << 20,
	}
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
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
// ("dir/file.proto"). It fails with *LimitError, *UnsafePathError or *FormatError.
func Unpack(r io.Reader, kind Kind, limits Limits) (map[string][]byte, error) {
	limits = limits.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, limits.MaxUploadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if int64(len(data)) > limits.MaxUploadBytes {
		return nil, &LimitError{Limit: "MaxUploadBytes", Max: limits.MaxUploadBytes}
	}
	if !kind.Archive {
		name, err := CleanPath(kind.Name)
		if err != nil {
			return nil, err
		}
		if err := checkDepth(name, limits); err != nil {
			return nil, err
		}
		if int64(len(data)) > limits.MaxTotalBytes {
			return nil, &LimitError{Limit: "MaxTotalBytes", Max: limits.MaxTotalBytes, Entry: name}
		}
		return map[string][]byte{name: data}, nil
	}
	return unzip(data, limits)
}

// unzip unpacks an archive held in memory.
func unzip(data []byte, limits Limits) (map[string][]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if errors.Is(err, zip.ErrInsecurePath) {
		err = nil // the reader is usable; CleanPath refuses the insecure names itself
	}
	if err != nil {
		return nil, &FormatError{Err: err}
	}
	files := map[string][]byte{}
	var total int64
	for _, f := range zr.File {
		mode := f.Mode()
		if mode.IsDir() || strings.HasSuffix(f.Name, "/") {
			if _, err := CleanPath(strings.TrimSuffix(f.Name, "/")); err != nil {
				return nil, err
			}
			continue
		}
		if mode&fs.ModeSymlink != 0 {
			return nil, &UnsafePathError{Name: f.Name, Reason: "symbolic links are not accepted"}
		}
		if !mode.IsRegular() {
			return nil, &UnsafePathError{Name: f.Name, Reason: "only regular files are accepted"}
		}
		name, err := CleanPath(f.Name)
		if err != nil {
			return nil, err
		}
		if err := checkDepth(name, limits); err != nil {
			return nil, err
		}
		if _, dup := files[name]; dup {
			return nil, &UnsafePathError{Name: f.Name, Reason: "the archive holds this path twice"}
		}
		if len(files) >= limits.MaxFiles {
			return nil, &LimitError{Limit: "MaxFiles", Max: int64(limits.MaxFiles), Entry: f.Name}
		}
		content, err := readEntry(f, name, limits, limits.MaxTotalBytes-total)
		if err != nil {
			return nil, err
		}
		total += int64(len(content))
		files[name] = content
	}
	if err := checkFileDirClashes(files); err != nil {
		return nil, err
	}
	return files, nil
}

// readEntry reads one entry, counting the bytes actually decompressed against the remaining
// total budget and the entry's ratio cap.
func readEntry(f *zip.File, name string, limits Limits, remaining int64) ([]byte, error) {
	ratioCap := int64(f.CompressedSize64) * limits.MaxRatio
	if f.CompressedSize64 > uint64(limits.MaxUploadBytes) || ratioCap < limits.RatioFloorBytes {
		ratioCap = limits.RatioFloorBytes
	}
	allowed, limit, limitValue := remaining, "MaxTotalBytes", limits.MaxTotalBytes
	if ratioCap < allowed {
		allowed, limit, limitValue = ratioCap, "MaxRatio", limits.MaxRatio
	}
	rc, err := f.Open()
	if err != nil {
		return nil, &FormatError{Err: fmt.Errorf("%s: %w", f.Name, err)}
	}
	defer rc.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(rc, allowed+1))
	if n > allowed {
		return nil, &LimitError{Limit: limit, Max: limitValue, Entry: name}
	}
	if err != nil {
		return nil, &FormatError{Err: fmt.Errorf("%s: %w", f.Name, err)}
	}
	return buf.Bytes(), nil
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
