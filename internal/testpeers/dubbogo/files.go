package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// FileInterface is the Java interface of the provider's file service, for rpcbridge's upload
// and download routes (byte[] arguments and results):
//
//	String upload(String name, byte[] data)  // "<name> <size> <sha256 hex>"
//	String checksum(byte[] data)             // "<size> <sha256 hex>"
//	byte[] download(String name, int size)   // size bytes of Pattern(name, size)
const FileInterface = "org.rpcbridge.test.FileService"

// maxDownload bounds what download makes, so that a test cannot make the provider allocate
// without bound.
const maxDownload = 16 << 20

// Files implements org.rpcbridge.test.FileService.
type Files struct{}

// Reference names the service for dubbo-go.
func (*Files) Reference() string { return FileInterface }

// MethodMapper gives the Go methods their Java names.
func (*Files) MethodMapper() map[string]string {
	return map[string]string{"Upload": "upload", "Checksum": "checksum", "Download": "download"}
}

// Upload reports the name, size and SHA-256 of what it received.
func (*Files) Upload(_ context.Context, name string, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%s %d %s", name, len(data), hex.EncodeToString(sum[:])), nil
}

// Checksum reports the size and SHA-256 of what it received.
func (*Files) Checksum(_ context.Context, data []byte) (string, error) {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%d %s", len(data), hex.EncodeToString(sum[:])), nil
}

// Download returns size bytes: the name's bytes followed by byte i%251 at offset i, so that
// every byte value occurs and a test can tell each offset (see dubboprovider.FilePattern).
func (*Files) Download(_ context.Context, name string, size int32) ([]byte, error) {
	if size < 0 || size > maxDownload {
		return nil, fmt.Errorf("download: size %d out of 0..%d", size, maxDownload)
	}
	out := make([]byte, size)
	n := copy(out, name)
	for i := n; i < len(out); i++ {
		out[i] = byte(i % 251)
	}
	return out, nil
}
