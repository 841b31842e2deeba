package proto

import (
	"bufio"
	"bytes"
	"context"
	"runtime"
	"sync"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/ast"
	"github.com/bufbuild/protocompile/linker"
	"github.com/bufbuild/protocompile/parser"
	"github.com/bufbuild/protocompile/reporter"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// descriptorProtoPath is the file protocompile treats specially when an upload overrides it.
const descriptorProtoPath = "google/protobuf/descriptor.proto"

// compileInOrder compiles each root in a protocompile call of its own, once the uploaded files it
// imports are compiled, which it then receives as linked descriptors. The roots are parsed
// first, in parallel; files whose imports are compiled link in parallel; all calls share one
// symbol table, so a symbol defined twice is still found.
//
// Why not one call for everything: before waiting on an import, protocompile v0.14.1 checks for
// an import cycle by walking every file reachable from it and comparing each with the chain of
// imports that led there (executor.checkForDependencyCycle in its compiler.go); the walk does not
// stop at files already compiled, so with long import chains it grows with the cube of their
// depth (for 1,000 files importing their predecessor: 47% of the CPU time and 30% of the memory
// allocated by the compilation). A file whose imports are already-linked descriptors has nothing
// to walk.
//
// It reports ok=false on anything but a clean compilation (a syntax or link error, an import
// cycle, a missing import, an import of an uploaded file that is not a root, an uploaded
// descriptor.proto, ctx ending): the caller then compiles the upload in one call, which reports
// every problem as it always did.
func compileInOrder(ctx context.Context, files map[string][]byte, roots []string,
	bundled map[string]protoreflect.FileDescriptor, sourceInfo protocompile.SourceInfoMode) (compiled []protoreflect.FileDescriptor, ok bool) {
	if _, overrides := files[descriptorProtoPath]; overrides {
		return nil, false // protocompile then makes every file import it
	}
	asts, ok := parseAll(ctx, files, roots)
	if !ok {
		return nil, false
	}
	// pending counts the uploaded imports of each root not compiled yet; dependents are the roots
	// to look at when one is.
	pending := make(map[string]int, len(roots))
	dependents := make(map[string][]string, len(roots))
	for _, name := range roots {
		seen := map[string]bool{}
		for _, imp := range importsOf(asts[name]) {
			if seen[imp] {
				continue
			}
			seen[imp] = true
			if _, uploaded := files[imp]; !uploaded {
				continue // bundled, well-known, or missing (then the compilation fails)
			}
			if _, root := asts[imp]; !root {
				return nil, false
			}
			pending[name]++
			dependents[imp] = append(dependents[imp], name)
		}
	}

	var mu sync.Mutex
	done := make(map[string]linker.File, len(roots))
	// wrapped holds the bundled and well-known imports wrapped as linker files once: protocompile
	// wraps a plain descriptor on every call it meets it in (linker.NewFileRecursive walks it).
	wrapped := map[string]linker.File{}
	base := resolver(map[string][]byte{}, bundled)
	compiler := protocompile.Compiler{
		Resolver: protocompile.ResolverFunc(func(path string) (protocompile.SearchResult, error) {
			mu.Lock()
			f, isDone := done[path]
			mu.Unlock()
			if isDone {
				return protocompile.SearchResult{Desc: f}, nil
			}
			if a, isRoot := asts[path]; isRoot {
				return protocompile.SearchResult{AST: a}, nil
			}
			return wrappedImport(base, path, &mu, wrapped)
		}),
		Reporter:       failFast(),
		SourceInfoMode: sourceInfo,
		Symbols:        &linker.Symbols{},
		MaxParallelism: 1,
	}

	type outcome struct {
		name string
		file linker.File
		ok   bool
	}
	jobs := make(chan string)
	outcomes := make(chan outcome)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for name := range jobs {
				fs, err := compiler.Compile(ctx, name)
				o := outcome{name: name, ok: err == nil && len(fs) == 1}
				if o.ok {
					o.file = fs[0]
				}
				outcomes <- o
			}
		})
	}
	var queue []string
	for _, name := range roots {
		if pending[name] == 0 {
			queue = append(queue, name)
		}
	}
	failed := false
	inFlight := 0
	ctxDone := ctx.Done()
	for len(queue) > 0 || inFlight > 0 {
		var send chan<- string
		var next string
		if len(queue) > 0 {
			send, next = jobs, queue[0]
		}
		select {
		case send <- next:
			queue = queue[1:]
			inFlight++
		case o := <-outcomes:
			inFlight--
			if !o.ok {
				failed = true
				break
			}
			mu.Lock()
			done[o.name] = o.file
			mu.Unlock()
			for _, d := range dependents[o.name] {
				if pending[d]--; pending[d] == 0 {
					queue = append(queue, d)
				}
			}
		case <-ctxDone:
			failed, ctxDone = true, nil
		}
		if failed {
			queue = nil // let the files in flight finish, start no more
		}
	}
	close(jobs)
	wg.Wait()
	if failed || len(done) != len(roots) { // roots left over are in an import cycle
		return nil, false
	}
	compiled = make([]protoreflect.FileDescriptor, len(roots))
	for i, name := range roots {
		compiled[i] = done[name]
	}
	return compiled, true
}

// wrappedImport resolves a file that is not uploaded with base, wrapping a descriptor as a
// linker file once and keeping it in wrapped (guarded by mu).
func wrappedImport(base protocompile.Resolver, path string, mu *sync.Mutex, wrapped map[string]linker.File) (protocompile.SearchResult, error) {
	mu.Lock()
	defer mu.Unlock()
	if f, ok := wrapped[path]; ok {
		return protocompile.SearchResult{Desc: f}, nil
	}
	res, err := base.FindFileByPath(path)
	if err != nil || res.Desc == nil {
		return res, err
	}
	f, err := linker.NewFileRecursive(res.Desc)
	if err != nil {
		return protocompile.SearchResult{}, err
	}
	wrapped[path] = f
	return protocompile.SearchResult{Desc: f}, nil
}

// parseAll parses roots in parallel. ok is false when one has a syntax error or ctx ended.
func parseAll(ctx context.Context, files map[string][]byte, roots []string) (map[string]*ast.FileNode, bool) {
	asts := make(map[string]*ast.FileNode, len(roots))
	var mu sync.Mutex
	// The lexer wraps its input in a bufio.Reader of the default size unless it already is one:
	// reuse them rather than allocate one per file.
	readers := sync.Pool{New: func() any { return bufio.NewReader(nil) }}
	err := forEachFile(ctx, roots, func(name string) error {
		br := readers.Get().(*bufio.Reader)
		br.Reset(bytes.NewReader(files[name]))
		node, err := parser.Parse(name, br, reporter.NewHandler(failFast()))
		br.Reset(nil)
		readers.Put(br)
		if err != nil {
			return err
		}
		mu.Lock()
		asts[name] = node
		mu.Unlock()
		return nil
	})
	return asts, err == nil
}

// forEachFile runs fn on every name with GOMAXPROCS workers; it stops at the first error.
func forEachFile(ctx context.Context, names []string, fn func(string) error) error {
	jobs := make(chan string)
	var once sync.Once
	var first error
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(names)) {
		wg.Go(func() {
			for name := range jobs {
				if err := fn(name); err != nil {
					once.Do(func() { first = err; close(stop) })
				}
			}
		})
	}
feed:
	for _, name := range names {
		select {
		case jobs <- name:
		case <-stop:
			break feed
		case <-ctx.Done():
			once.Do(func() { first = ctx.Err(); close(stop) })
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return first
}

// importsOf lists the files node imports, in declaration order.
func importsOf(node *ast.FileNode) []string {
	var imports []string
	for _, decl := range node.Decls {
		if imp, ok := decl.(*ast.ImportNode); ok {
			imports = append(imports, imp.Name.AsString())
		}
	}
	return imports
}

// failFast is a reporter that stops at the first error and ignores warnings.
func failFast() reporter.Reporter {
	return reporter.NewReporter(func(err reporter.ErrorWithPos) error { return err }, nil)
}
