package dubbojson

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane/formdata"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// Downloads. A byte[] result is answered as the body itself, not as base64 JSON: with the
// route's content type (application/octet-stream unless the rule's download.contentType says
// otherwise), and, when the rule names a file (download.filename, "{var}" replaced by the path
// variable var), Content-Disposition: attachment; filename=... A Dubbo response carries no
// headers to take them from, so they are the route's.

// defaultDownloadType is the content type of a byte[] result without one of its own.
const defaultDownloadType = "application/octet-stream"

// download is how a route answers its byte[] result.
type download struct {
	contentType string
	filename    string
	// template binds the path variables the filename uses; nil when it uses none.
	template *template
}

// placeholderRE finds the "{var}" references of a filename.
var placeholderRE = regexp.MustCompile(`\{([^{}]*)\}`)

// newDownload prepares the answer of a route returning returns; nil when the result is not
// byte[]. A download setting on a route whose result is not byte[] is an error.
func newDownload(d *ir.Download, returns *javatype.Type, matchPattern string) (*download, error) {
	if returns.Family() != javatype.Bytes {
		if d != nil {
			return nil, fmt.Errorf("download is set, but the method returns %s, not byte[]", returns)
		}
		return nil, nil
	}
	out := &download{contentType: defaultDownloadType}
	if d == nil {
		return out, nil
	}
	if d.ContentType != "" {
		out.contentType = d.ContentType
	}
	out.filename = d.Filename
	if placeholderRE.MatchString(d.Filename) {
		tmpl, err := compileTemplate(matchPattern)
		if err != nil {
			return nil, fmt.Errorf("download filename %q: %w", d.Filename, err)
		}
		for _, m := range placeholderRE.FindAllStringSubmatch(d.Filename, -1) {
			if !slices.Contains(tmpl.vars, m[1]) {
				return nil, fmt.Errorf("download filename %q: the path template %q has no variable {%s}", d.Filename, matchPattern, m[1])
			}
		}
		out.template = tmpl
	}
	return out, nil
}

// write answers 200 with the result's bytes.
func (d *download) write(w http.ResponseWriter, req *http.Request, value any) error {
	data, ok := resultBytes(value)
	if !ok {
		return fmt.Errorf("the byte[] result is a %T", value)
	}
	h := w.Header()
	h.Set("Content-Type", d.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if name := d.name(req); name != "" {
		h.Set("Content-Disposition", formdata.Attachment(name))
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(data)
	return err
}

// name is the file name of the answer to req, "" for none.
func (d *download) name(req *http.Request) string {
	if d.template == nil || d.filename == "" {
		return d.filename
	}
	vars, _ := d.template.bind(req.URL.EscapedPath())
	return placeholderRE.ReplaceAllStringFunc(d.filename, func(m string) string {
		return vars[m[1:len(m)-1]]
	})
}

// errNotBytes is a byte[] result that is neither bytes nor a list of byte values.
var errNotBytes = errors.New("not a byte[]")

// resultBytes is a byte[] result as bytes: hessian2's binary, or the list of numbers a
// generic call's generalized result holds; null is no bytes.
func resultBytes(v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return []byte{}, true
	case []byte:
		return x, true
	}
	b, err := byteList(v)
	return b, err == nil
}

// byteList reads a slice of whole numbers in -128..255 as bytes.
func byteList(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return nil, errNotBytes
	}
	out := make([]byte, rv.Len())
	for i := range out {
		n, ok := wholeNumber(rv.Index(i).Interface())
		if !ok || n < -128 || n > 255 {
			return nil, errNotBytes
		}
		out[i] = byte(n)
	}
	return out, nil
}
