package proto

import (
	"context"
	"testing"
)

// BenchmarkCompileLargeProtoSetWithDocs is BenchmarkCompileLargeProtoSet through
// CompileWithDocs, the path of uploads: the cost of source info and of extracting comments.
func BenchmarkCompileLargeProtoSetWithDocs(b *testing.B) {
	const n = 1000
	files := largeProtoSet(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fds, _, err := CompileWithDocs(context.Background(), files)
		if err != nil {
			b.Fatal(err)
		}
		if got := len(Services(fds)); got != n {
			b.Fatalf("compiled %d services, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
