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
	"testing"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/internal/filestore"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/idl"
	javaidl "github.com/rpcbridge/rpcbridge/idl/java"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// The limits of the files stack: a listener buffer limit far below the upload limit, so that
// an upload larger than the buffer limit shows that file routes read within their own.
const (
	filesBufferLimit = 4 << 10
	filesUploadLimit = 64 << 10
)

// filesStack is the real dubbo-go provider's FileService and the filestore grpc-go server
// behind the embedded gateway, fed by rpcbridge's control plane with the routes transcoding
// builds for them.
type filesStack struct {
	addr  string
	store *filestore.Server
}

// fileServiceJava is the Java API of the provider's FileService (internal/testpeers/dubbogo
// files.go), as a user would upload it.
const fileServiceJava = `package org.rpcbridge.test;

public interface FileService {
    String upload(String name, byte[] data);
    String checksum(byte[] data);
    byte[] download(String name, int size);
}
`

// filesRules are the user's rules of the stack: the default route of upload (POST with the
// body members name and data), checksum's byte[] as the whole body, and download twice, with
// and without a download setting. The gRPC routes are filestore.proto's annotations.
func filesRules() transcoding.Rules {
	service := "dubbo:" + dubboprovider.FileInterface + ":" + dubboprovider.Version + ":"
	return transcoding.Rules{RPC: []transcoding.RPCRule{
		{Service: service, Method: "checksum", HTTP: transcoding.HTTPBinding{Method: "POST", Path: "/dubbo/checksums"},
			Params: []transcoding.ArgRule{{Arg: "data", From: ir.FromWholeBody}}},
		{Service: service, Method: "download", HTTP: transcoding.HTTPBinding{Method: "GET", Path: "/dubbo/files/{name}"},
			Download: &transcoding.DownloadRule{ContentType: "application/pdf", Filename: "{name}.pdf"}},
		{Service: service, Method: "download", HTTP: transcoding.HTTPBinding{Method: "GET", Path: "/dubbo/plain/{name}"}},
	}}
}

// uploadPath is the default route of FileService.upload.
const uploadPath = "/dubbo/" + dubboprovider.FileInterface + ":" + dubboprovider.Version + "/upload"

// startFilesStack builds the gateway with transcoding.Build from a catalog of the two peers,
// the Java API and the proto, and serves it with the stack's limits.
func startFilesStack(t *testing.T) *filesStack {
	t.Helper()
	ctx := context.Background()
	fds, err := filestore.Descriptors(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := &filesStack{store: filestore.Start(t, fds)}
	zk := zookeeper.Start(t)
	p := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "files", Registry: "interface"})
	java, err := javaidl.ParseSources(ctx, map[string][]byte{"org/rpcbridge/test/FileService.java": []byte(fileServiceJava)})
	if err != nil {
		t.Fatal(err)
	}
	java.Name = "files-api"
	dubboSvc := registries.Service{Protocol: registries.ProtocolDubbo, Interface: dubboprovider.FileInterface, Version: dubboprovider.Version}
	endpoint := func(ep ir.Endpoint) []bridge.Endpoint {
		return []bridge.Endpoint{{Endpoint: registries.Endpoint{Address: ep.Address, Port: ep.Port, Weight: 100, Healthy: true}, Source: "test"}}
	}
	cat := bridge.Catalog{Services: []bridge.Service{
		{ID: bridge.ServiceID(dubboSvc), Name: dubboprovider.FileInterface, Protocol: registries.ProtocolDubbo,
			Interface: dubboprovider.FileInterface, Version: dubboprovider.Version, Sources: []string{"test"},
			Endpoints: endpoint(ir.Endpoint{Address: "127.0.0.1", Port: uint32(p.Port())})},
		{ID: "grpc:" + filestore.Service, Name: filestore.Service, Protocol: registries.ProtocolGRPC, Sources: []string{"test"},
			Endpoints: endpoint(irEndpoint(t, s.store.Addr))},
	}}
	g, ds := transcoding.Build(cat, []idl.Schema{java, {Name: "filestore", Descriptors: fds}}, filesRules())
	for _, d := range ds {
		if d.Severity != diag.Info {
			t.Fatalf("Build: %s %s: %s", d.Code, d.Subject, d.Message)
		}
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
	ctx, cancel := context.WithCancel(ctx)
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
