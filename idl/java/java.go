// Package java reads Java/Dubbo service APIs into idl.Schema from any of four forms: Java
// source files, the class files of an API jar, the service definitions Java providers write to
// a Dubbo metadata center, and declarative YAML. Each returns every interface of the input and
// the classes reachable from them, sorted by name, so that the same API gives the same Schema
// in every form (the metadata center carries less; see package metadata).
//
// ParseSources, ParseJar and ParseDeclarative have the validator shape the schema store takes:
// func(ctx, files map[string][]byte) (idl.Schema, error).
package java

import (
	"context"
	"fmt"
	"slices"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java/classfile"
	"github.com/rpcbridge/rpcbridge/idl/java/declarative"
	"github.com/rpcbridge/rpcbridge/idl/java/metadata"
	"github.com/rpcbridge/rpcbridge/idl/java/reach"
	"github.com/rpcbridge/rpcbridge/idl/java/source"
)

// ParseSources parses the .java files of files (keyed by path, for example the entries of an
// uploaded zip). Errors carry file:line:col.
func ParseSources(ctx context.Context, files map[string][]byte) (idl.Schema, error) {
	return schema(source.Parse(ctx, files))
}

// ParseJar reads the .class entries of an unpacked API jar (keyed by entry path). Errors name
// the class and member.
func ParseJar(ctx context.Context, files map[string][]byte) (idl.Schema, error) {
	return schema(classfile.Parse(ctx, files))
}

// ParseServiceDefinitions reads FullServiceDefinition JSON documents from a metadata center.
func ParseServiceDefinitions(ctx context.Context, jsons [][]byte) (idl.Schema, error) {
	return schema(metadata.Parse(ctx, jsons))
}

// ParseServiceDefinitionFiles is ParseServiceDefinitions with the store's validator shape: every
// file is one JSON document.
func ParseServiceDefinitionFiles(ctx context.Context, files map[string][]byte) (idl.Schema, error) {
	docs := make([][]byte, 0, len(files))
	for _, name := range sortedKeys(files) {
		docs = append(docs, files[name])
	}
	return ParseServiceDefinitions(ctx, docs)
}

// ParseDeclarative reads hand-written signatures from the .yaml files of files (format in
// package declarative). Errors carry file:line.
func ParseDeclarative(ctx context.Context, files map[string][]byte) (idl.Schema, error) {
	return schema(declarative.Parse(ctx, files))
}

func schema(d reach.Decls, err error) (idl.Schema, error) {
	if err != nil {
		return idl.Schema{}, err
	}
	s := reach.Schema(d)
	if len(s.Interfaces) == 0 {
		return idl.Schema{}, fmt.Errorf("no Java interface found")
	}
	return s, nil
}

func sortedKeys(files map[string][]byte) []string {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
