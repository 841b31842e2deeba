package dataplane_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/filestore"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// The limits of the files stack: a listener buffer limit far below the upload limit, so that
// an upload larger than the buffer limit shows that file routes read within their own.
const (
	filesBufferLimit = 4 << 10
	filesUploadLimit = 64 << 10
	filesCluster     = "dubbo:org.rpcbridge.test.FileService:1.0.0:"
	fileStoreCluster = "grpc:filestore"
)

// filesStack is the real dubbo-go provider's FileService and the filestore grpc-go server
// behind the embedded gateway, fed by rpcbridge's control plane with file routes.
type filesStack struct {
	addr  string
	store *filestore.Server
}

// dubboFileRoute is a route to a method of the provider's FileService.
func dubboFileRoute(name, method, template, returns string, params ...ir.DubboParam) ir.Route {
	return ir.Route{Name: name, Cluster: filesCluster, Timeout: 10 * time.Second,
		Match: ir.Match{PathTemplate: template, Methods: []string{method}},
		Dubbo: &ir.DubboRoute{Interface: dubboprovider.FileInterface, Version: dubboprovider.Version,
			Method: strings.TrimSuffix(name, "Plain"), Params: params, Returns: returns}}
}

// grpcFileRoute is a route to a method of the filestore.
func grpcFileRoute(method, verb, template, body string, upload, streaming bool) ir.Route {
	return ir.Route{Name: "filestore-" + method, Cluster: fileStoreCluster, Timeout: 10 * time.Second,
		Match: ir.Match{PathTemplate: template, Methods: []string{verb}},
		GRPC:  &ir.GRPCRoute{Service: filestore.Service, Method: method, Body: body, Upload: upload, ServerStreaming: streaming}}
}

func startFilesStack(t *testing.T) *filesStack {
	t.Helper()
	fds, err := filestore.Descriptors(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	set, err := proto.Marshal(fds)
	if err != nil {
		t.Fatal(err)
	}
	s := &filesStack{store: filestore.Start(t, fds)}
	zk := zookeeper.Start(t)
	p := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "files", Registry: "interface"})
	str, bytesT := "java.lang.String", "byte[]"
	upload := dubboFileRoute("upload", "POST", "/dubbo/files/upload", str,
		ir.DubboParam{Name: "name", Type: str, From: ir.FromBody, Key: "name"},
		ir.DubboParam{Name: "data", Type: bytesT, From: ir.FromBody, Key: "data"})
	upload.Dubbo.Upload = true
	checksum := dubboFileRoute("checksum", "POST", "/dubbo/checksums", str,
		ir.DubboParam{Name: "data", Type: bytesT, From: ir.FromWholeBody})
	checksum.Dubbo.Upload = true
	sizeParams := []ir.DubboParam{{Name: "name", Type: str, From: ir.FromPath, Key: "name"}, {Name: "size", Type: "int", From: ir.FromQuery, Key: "size"}}
	download := dubboFileRoute("download", "GET", "/dubbo/files/{name}", bytesT, sizeParams...)
	download.Dubbo.Download = &ir.Download{ContentType: "application/pdf", Filename: "{name}.pdf"}
	g := ir.Gateway{
		Clusters: []ir.Cluster{
			{Name: filesCluster, Protocol: ir.UpstreamDubbo, ConnectTimeout: time.Second,
				Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: uint32(p.Port()), Weight: 100, Healthy: true}}},
			{Name: fileStoreCluster, Protocol: ir.UpstreamHTTP2, ConnectTimeout: time.Second, Endpoints: []ir.Endpoint{irEndpoint(t, s.store.Addr)}},
		},
		Routes: []ir.Route{
			upload, checksum, download,
			dubboFileRoute("downloadPlain", "GET", "/dubbo/plain/{name}", bytesT, sizeParams...),
			grpcFileRoute("Upload", "POST", "/v1/files/{name}", "data", true, false),
			grpcFileRoute("UploadForm", "POST", "/v1/forms", "*", true, false),
			grpcFileRoute("Put", "PUT", "/v1/blobs/{name}", "file", true, false),
			grpcFileRoute("PutRaw", "POST", "/v1/raw", "*", true, false),
			grpcFileRoute("UploadStream", "POST", "/v1/streams", "*", true, false),
			grpcFileRoute("Get", "GET", "/v1/files/{name}:get", "", false, false),
			grpcFileRoute("Download", "GET", "/v1/files/{name}", "", false, true),
		},
		ProtoDescriptors: []ir.ProtoDescriptors{{Service: filestore.Service, FileDescriptorSet: set}},
	}
	limits := controlplane.DefaultDownstreamLimits()
	limits.BufferLimitBytes, limits.UploadLimitBytes = filesBufferLimit, filesUploadLimit
	cp := controlplane.NewServer(controlplane.ServerOptions{Translate: controlplane.Options{Downstream: &limits}})
	if err := cp.Update(g); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- cp.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })
	gw := runGateway(t, dataplaneOptions(ln.Addr().String()))
	s.addr = gw.Addr().String()
	eventually(t, "the file routes of both upstreams", func() error {
		for _, path := range []string{"/dubbo/plain/ready?size=1", "/v1/files/ready:get?size=1"} {
			if resp := s.do(t, "GET", path, "", nil); resp.status != http.StatusOK {
				return fmt.Errorf("GET %s: %d %s", path, resp.status, resp.body)
			}
		}
		return nil
	})
	return s
}

// response is what the gateway answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request (on a connection of its own: a refused upload closes it).
func (s *filesStack) do(t *testing.T, method, path, contentType string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.addr+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{Timeout: giveUp, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// formPart is one part of a multipart/form-data body built by mime/multipart, the client side.
type formPart struct {
	name, filename, contentType string
	data                        []byte
}

// multipartBody encodes parts and returns the content type and body.
func multipartBody(t *testing.T, parts ...formPart) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := map[string][]string{"Content-Disposition": {fmt.Sprintf(`form-data; name=%q`, p.name)}}
		if p.filename != "" {
			h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.filename)}
		}
		if p.contentType != "" {
			h["Content-Type"] = []string{p.contentType}
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = pw.Write(p.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

// randomFile is n random bytes: every byte value, CR LF and "--" sequences included.
func randomFile(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// dataplaneOptions are the gateway options of a stack whose xDS server listens on xdsAddr.
func dataplaneOptions(xdsAddr string) dataplane.Options {
	return dataplane.Options{XDSAddress: xdsAddr, NodeID: "files-test", NodeCluster: gatewayv1.EmbeddedNodeCluster, ListenAddress: "127.0.0.1:0"}
}
