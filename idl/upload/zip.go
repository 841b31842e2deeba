package upload

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// zipEntry is one archive file that passed the name and declared-size checks.
type zipEntry struct {
	file *zip.File
	name string
	// allowed is what the entry may inflate to, and limit/limitValue name the limit that set it.
	allowed    int64
	limit      string
	limitValue int64
}

// unzip unpacks the archive in src in three passes: names and declared sizes, then every entry
// inflated into nothing while its bytes are counted, then every entry read into a buffer of its
// verified size. An archive refused by the first two passes has cost no buffer for its content.
func unzip(src io.ReaderAt, size int64, limits Limits) (map[string][]byte, error) {
	records, err := countDirectoryRecords(src, size)
	if err != nil {
		return nil, fmt.Errorf("read spooled upload: %w", err)
	}
	if records > limits.MaxEntries {
		return nil, &LimitError{Limit: "MaxEntries", Max: int64(limits.MaxEntries)}
	}
	zr, err := zip.NewReader(src, size)
	if errors.Is(err, zip.ErrInsecurePath) {
		err = nil // the reader is usable; CleanPath refuses the insecure names itself
	}
	if err != nil {
		return nil, &FormatError{Err: err}
	}
	entries, err := planEntries(zr.File, limits)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := e.verify(); err != nil {
			return nil, err
		}
	}
	files := make(map[string][]byte, len(entries))
	for _, e := range entries {
		content, err := e.read()
		if err != nil {
			return nil, err
		}
		files[e.name] = content
	}
	if err := checkFileDirClashes(files); err != nil {
		return nil, err
	}
	return files, nil
}

// planEntries checks every entry's name, type and declared size without inflating anything.
func planEntries(zfiles []*zip.File, limits Limits) ([]zipEntry, error) {
	var entries []zipEntry
	names := map[string]bool{}
	var declared int64
	for _, f := range zfiles {
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
		if names[name] {
			return nil, &UnsafePathError{Name: f.Name, Reason: "the archive holds this path twice"}
		}
		if len(entries) >= limits.MaxFiles {
			return nil, &LimitError{Limit: "MaxFiles", Max: int64(limits.MaxFiles), Entry: f.Name}
		}
		e := newEntry(f, name, limits, limits.MaxTotalBytes-declared)
		if f.UncompressedSize64 > uint64(e.allowed) {
			return nil, &LimitError{Limit: e.limit, Max: e.limitValue, Entry: name}
		}
		declared += int64(f.UncompressedSize64)
		names[name] = true
		entries = append(entries, e)
	}
	return entries, nil
}

// newEntry works out what one entry may inflate to: its ratio cap or the remaining total budget,
// whichever is smaller.
func newEntry(f *zip.File, name string, limits Limits, remaining int64) zipEntry {
	ratioCap := int64(f.CompressedSize64) * limits.MaxRatio
	if f.CompressedSize64 > uint64(limits.MaxUploadBytes) || ratioCap < limits.RatioFloorBytes {
		ratioCap = limits.RatioFloorBytes
	}
	e := zipEntry{file: f, name: name, allowed: remaining, limit: "MaxTotalBytes", limitValue: limits.MaxTotalBytes}
	if ratioCap < e.allowed {
		e.allowed, e.limit, e.limitValue = ratioCap, "MaxRatio", limits.MaxRatio
	}
	return e
}

// verify inflates the entry into nothing, counting the bytes actually produced against what it
// may reach, and lets archive/zip check them against the declared size and the CRC-32.
func (e zipEntry) verify() error {
	rc, err := e.file.Open()
	if err != nil {
		return &FormatError{Err: fmt.Errorf("%s: %w", e.file.Name, err)}
	}
	defer rc.Close()
	n, err := io.CopyN(io.Discard, rc, e.allowed+1)
	if n > e.allowed {
		return &LimitError{Limit: e.limit, Max: e.limitValue, Entry: e.name}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return &FormatError{Err: fmt.Errorf("%s: %w", e.file.Name, err)}
	}
	if uint64(n) != e.file.UncompressedSize64 {
		return &FormatError{Err: fmt.Errorf("%s: inflates to %d bytes, declares %d", e.file.Name, n, e.file.UncompressedSize64)}
	}
	return nil
}

// read inflates a verified entry into a buffer of exactly its size.
func (e zipEntry) read() ([]byte, error) {
	rc, err := e.file.Open()
	if err != nil {
		return nil, &FormatError{Err: fmt.Errorf("%s: %w", e.file.Name, err)}
	}
	defer rc.Close()
	content := make([]byte, e.file.UncompressedSize64)
	if _, err := io.ReadFull(rc, content); err != nil {
		return nil, &FormatError{Err: fmt.Errorf("%s: %w", e.file.Name, err)}
	}
	if n, err := rc.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		return nil, &FormatError{Err: fmt.Errorf("%s: does not end at its declared size (%v)", e.file.Name, err)}
	}
	return content, nil
}

// directoryRecordSignature starts every central-directory record (APPNOTE.TXT 4.3.12).
var directoryRecordSignature = []byte("PK\x01\x02")

// countDirectoryRecords counts central-directory record signatures anywhere in src. archive/zip
// parses records from the directory's offset until one does not start with the signature, and
// checks their count only modulo 65,536, so the count it would hold in memory is at most this.
func countDirectoryRecords(src io.ReaderAt, size int64) (int, error) {
	const overlap = 3 // a signature may straddle two chunks
	buf := make([]byte, 64<<10)
	count := 0
	for off := int64(0); off < size; {
		n, err := src.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		count += bytes.Count(buf[:n], directoryRecordSignature)
		if off+int64(n) >= size || n <= overlap {
			break
		}
		off += int64(n - overlap)
	}
	return count, nil
}
