// Package formdata reads the bodies of the gateway's file routes: which kind a request body is
// (JSON, multipart/form-data or raw bytes), the parts of a multipart/form-data body read as
// they arrive (never spooled to disk, bounded by the reader the caller gives), and the
// Content-Disposition header of a download. The REST→gRPC (dataplane/grpcjson) and REST→Dubbo
// (dataplane/dubbojson) transcoders share it, so that both bind uploads by the same rules.
package formdata

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
)

// Kind is how a request body is decoded.
type Kind int

// The kinds of request bodies.
const (
	// JSON is a JSON body: the content type is JSON (application/json, */*+json), absent, or
	// application/x-www-form-urlencoded, which is what curl -d sends and what these routes
	// always read as JSON.
	JSON Kind = iota
	// Multipart is a multipart/form-data body: file parts and form fields.
	Multipart
	// Raw is any other content type: the body's bytes are the value of the route's one file
	// argument (a bytes or google.api.HttpBody field, a byte[] parameter).
	Raw
)

// KindOf classifies a request by its Content-Type header value.
func KindOf(contentType string) Kind {
	if strings.TrimSpace(contentType) == "" {
		return JSON
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return Raw
	}
	switch {
	case mt == "multipart/form-data":
		return Multipart
	case mt == "application/json", strings.HasSuffix(mt, "+json"), mt == "application/x-www-form-urlencoded":
		return JSON
	}
	return Raw
}

// DefaultMaxParts bounds the parts of one multipart/form-data body (Go's own form parser
// bounds them at 1000 as well, mime/multipart's ReadForm).
const DefaultMaxParts = 1000

// ErrMalformed is wrapped by every error about the form of a multipart/form-data body (no
// boundary, a broken delimiter, a part without a form name, too many parts): a 400.
var ErrMalformed = errors.New("malformed multipart/form-data body")

// Part is one part of a multipart/form-data body.
type Part struct {
	// Name is the form field's name (Content-Disposition: form-data; name="...").
	Name string
	// Filename is the file name the client gave, "" for a plain form field.
	Filename string
	// ContentType is the part's Content-Type, "" when the part has none.
	ContentType string
	// Data is the part's content.
	Data []byte
}

// Read reads every part of a multipart/form-data body of content type contentType from body,
// part by part as it arrives. Errors of body itself (a size limit, a client gone) are returned
// wrapped as they are; every problem with the form wraps ErrMalformed.
func Read(body io.Reader, contentType string) ([]Part, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("%w: content type %q: %v", ErrMalformed, contentType, err)
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, fmt.Errorf("%w: the content type has no boundary", ErrMalformed)
	}
	src := &tracked{r: body}
	mr := multipart.NewReader(src, boundary)
	var parts []Part
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) && len(parts) == 0 {
			// mime/multipart skips everything before the first delimiter, so a body without
			// one (a wrong boundary, not multipart at all) ends without a part.
			return nil, src.explain(errors.New("no part: the body holds no delimiter of the boundary"), "reading the first part")
		}
		if errors.Is(err, io.EOF) {
			return parts, nil
		}
		if err != nil {
			return nil, src.explain(err, "reading the next part")
		}
		if len(parts) == DefaultMaxParts {
			return nil, fmt.Errorf("%w: more than %d parts", ErrMalformed, DefaultMaxParts)
		}
		name := p.FormName()
		if name == "" {
			return nil, fmt.Errorf("%w: part %d has no form-data name", ErrMalformed, len(parts)+1)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, src.explain(err, fmt.Sprintf("part %q", name))
		}
		parts = append(parts, Part{Name: name, Filename: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data})
	}
}

// tracked remembers the first error its reader returned other than io.EOF, to tell the body's
// failures from the form's.
type tracked struct {
	r   io.Reader
	err error
}

func (t *tracked) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && t.err == nil {
		t.err = err
	}
	return n, err
}

// explain is the error of a failed read: the body's own error when it failed, else a
// malformed form (an io.ErrUnexpectedEOF there is a body that ends inside a part).
func (t *tracked) explain(err error, where string) error {
	if t.err != nil {
		return fmt.Errorf("multipart/form-data body, %s: %w", where, t.err)
	}
	return fmt.Errorf("%w: %s: %v", ErrMalformed, where, err)
}

// ErrTooLarge is the error of a Limit reader whose source holds more than its limit.
var ErrTooLarge = errors.New("request body too large")

// Limit returns a reader of r that fails with ErrTooLarge once r has more than n bytes; it
// reads at most n+1 bytes of r.
func Limit(r io.Reader, n int64) io.Reader { return &limited{r: r, left: n} }

type limited struct {
	r    io.Reader
	left int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, ErrTooLarge
	}
	return n, err
}

// Attachment is the Content-Disposition value of a download saved as filename:
// attachment; filename="..." (RFC 6266), with the RFC 2231 filename* form for names that are
// not plain ASCII, as mime.FormatMediaType writes them. An empty filename gives "attachment".
func Attachment(filename string) string {
	if filename == "" {
		return "attachment"
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": filename}); v != "" {
		return v
	}
	return "attachment"
}
