package upload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
)

// unpackMultipart reads every file part of a multipart/form-data body (parts without a file name
// are skipped), with the same path rules and limits as an archive. r is the spooled body, so the
// whole form is within MaxUploadBytes before any part is read.
func unpackMultipart(r io.Reader, boundary string, limits Limits) (map[string][]byte, error) {
	if boundary == "" {
		return nil, &FormatError{Err: errors.New("multipart upload without a boundary")}
	}
	mr := multipart.NewReader(r, boundary)
	files := map[string][]byte{}
	var total int64
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &FormatError{Err: err}
		}
		raw := partFileName(part)
		if raw == "" {
			continue
		}
		name, err := CleanPath(raw)
		if err != nil {
			return nil, err
		}
		if err := checkDepth(name, limits); err != nil {
			return nil, err
		}
		if _, dup := files[name]; dup {
			return nil, &UnsafePathError{Name: raw, Reason: "the form holds this path twice"}
		}
		if len(files) >= limits.MaxFiles {
			return nil, &LimitError{Limit: "MaxFiles", Max: int64(limits.MaxFiles), Entry: name}
		}
		var content bytes.Buffer
		n, err := content.ReadFrom(io.LimitReader(part, limits.MaxTotalBytes-total+1))
		if err != nil {
			return nil, &FormatError{Err: fmt.Errorf("%s: %w", name, err)}
		}
		if total += n; total > limits.MaxTotalBytes {
			return nil, &LimitError{Limit: "MaxTotalBytes", Max: limits.MaxTotalBytes, Entry: name}
		}
		files[name] = content.Bytes()
	}
	if err := checkFileDirClashes(files); err != nil {
		return nil, err
	}
	return files, nil
}

// partFileName is the filename parameter of a part's Content-Disposition as sent. Part.FileName
// would reduce it to its last element, but a form may upload a directory tree ("greet/v1/a.proto",
// as browsers send a directory picked with webkitdirectory), and CleanPath checks the whole path.
func partFileName(p *multipart.Part) string {
	_, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		return "" // as Part.FileName answers a malformed header
	}
	return params["filename"]
}
