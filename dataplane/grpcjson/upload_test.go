package grpcjson_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	grpcjsonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/filestore"
)

// fileTranscoder is a transcoder of the filestore service (dataplane/internal/filestore) with
// a max_request_body_size of limit bytes, and a decoder of its request messages.
func fileTranscoder(t *testing.T, limit uint32) (*grpcjson.Transcoder, func(name string, raw []byte) string) {
	t.Helper()
	fds, err := filestore.Descriptors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bin, err := proto.Marshal(fds)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := grpcjson.New(&grpcjsonv3.GrpcJsonTranscoder{
		DescriptorSet: &grpcjsonv3.GrpcJsonTranscoder_ProtoDescriptorBin{ProtoDescriptorBin: bin},
		Services:      []string{filestore.Service}, MaxRequestBodySize: wrapperspb.UInt32(limit),
	})
	if err != nil {
		t.Fatal(err)
	}
	files, err := protodesc.NewFiles(fds)
	if err != nil {
		t.Fatal(err)
	}
	decode := func(name string, raw []byte) string {
		d, err := files.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			t.Fatal(err)
		}
		msg := dynamicpb.NewMessage(d.(protoreflect.MessageDescriptor))
		if err := proto.Unmarshal(raw, msg); err != nil {
			t.Fatal(err)
		}
		out, _ := protojson.Marshal(msg)
		var compact bytes.Buffer
		_ = json.Compact(&compact, out)
		return compact.String()
	}
	return tr, decode
}

// form is a multipart/form-data body of fields (name, value) and one file part, if file != "".
func form(t *testing.T, file string, data []byte, fields ...string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = w.WriteField(fields[i], fields[i+1])
	}
	if file != "" {
		fw, _ := w.CreateFormFile(file, "f.bin")
		_, _ = fw.Write(data)
	}
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func TestPrepareUploads(t *testing.T) {
	tr, decode := fileTranscoder(t, 1000)
	ct, multi := form(t, "data", []byte{0, 1, 2}, "note", "n", "copies", "3", "copies", "4")
	htCT, htForm := form(t, "file", []byte("x"))
	cases := []struct {
		name, method, target, contentType string
		body                              []byte
		input, want                       string
	}{
		{"raw into a bytes field", "POST", "/v1/files/a", "application/octet-stream", []byte{0, 255}, "filestore.v1.UploadRequest",
			`{"name":"a","data":"AP8="}`},
		{"JSON into a bytes field stays base64", "POST", "/v1/files/a", "application/json", []byte(`"AP8="`), "filestore.v1.UploadRequest",
			`{"name":"a","data":"AP8="}`},
		{"multipart into body *, the last of a repeated singular wins", "POST", "/v1/forms?name=q", ct, multi, "filestore.v1.UploadRequest",
			`{"name":"q","data":"AAEC","note":"n","copies":4}`},
		{"multipart file part into the bytes body field", "POST", "/v1/files/b", ct, multi, "filestore.v1.UploadRequest",
			`{"name":"b","data":"AAEC","note":"n","copies":4}`},
		{"an HttpBody field takes a multipart body raw", "PUT", "/v1/blobs/c", htCT, htForm, "filestore.v1.PutRequest",
			`{"name":"c","file":{"contentType":"` + htCT + `","data":"` + b64(htForm) + `"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, bytes.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.contentType)
			call, err := tr.Prepare(req)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if got := decode(tc.input, call.Requests[0]); got != tc.want {
				t.Errorf("request = %s\nwant      %s", got, tc.want)
			}
		})
	}
}

func TestPrepareUploadRefusals(t *testing.T) {
	tr, _ := fileTranscoder(t, 1000)
	bigCT, big := form(t, "data", bytes.Repeat([]byte("x"), 1001))
	ct, multi := form(t, "", nil, "copies", "many")
	for name, c := range map[string]struct {
		contentType string
		body        []byte
		status      int
		message     string
	}{
		"over the limit":     {bigCT, big, http.StatusRequestEntityTooLarge, "larger than 1000 bytes"},
		"no boundary":        {"multipart/form-data", big, http.StatusBadRequest, "no boundary"},
		"cut short":          {bigCT, big[:200], http.StatusBadRequest, "malformed multipart/form-data body"},
		"value of a field":   {ct, multi, http.StatusBadRequest, `form field "copies"`},
		"unknown form field": {"multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"nope\"\r\n\r\nx\r\n--b--\r\n"), http.StatusBadRequest, `form field "nope"`},
	} {
		req := httptest.NewRequest("POST", "/v1/forms", bytes.NewReader(c.body))
		req.Header.Set("Content-Type", c.contentType)
		_, err := tr.Prepare(req)
		re, ok := err.(*grpcjson.RequestError)
		if !ok || re.Status != c.status || !strings.Contains(re.Message, c.message) {
			t.Errorf("%s: %v, want %d with %q", name, err, c.status, c.message)
		}
	}
}

// TestPrepareStreamedBody: a client-streaming HttpBody method's body is not read by Prepare.
func TestPrepareStreamedBody(t *testing.T) {
	tr, _ := fileTranscoder(t, 10)
	body := strings.NewReader(strings.Repeat("x", 100))
	req := httptest.NewRequest("POST", "/v1/streams", body)
	call, err := tr.Prepare(req)
	if err != nil || !call.StreamsBody() || len(call.Requests) != 0 || body.Len() != 100 {
		t.Fatalf("Prepare: %v, streams %v, %d requests, %d bytes left unread", err, call != nil && call.StreamsBody(), len(call.Requests), body.Len())
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
