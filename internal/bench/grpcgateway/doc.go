// Package grpcgateway benchmarks REST-to-gRPC transcoding by rpcbridge's embedded gateway
// against grpc-gateway's generated handlers for the same proto (echopb/echo.proto), both in
// front of the same grpc-go server. The generated code in echopb is committed; regenerate it
// with `go generate ./internal/bench/grpcgateway` (no protoc needed, see gen/).
package grpcgateway

//go:generate go run ./gen
