package local

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fsnotify/fsnotify"

	"github.com/rpcbridge/rpcbridge/kvstore"
	"github.com/rpcbridge/rpcbridge/kvstore/kvtest"
)

// BenchmarkPropagation: a compare-and-set write on one store to the watch of another on the
// same directory (store), against fsnotify's own delay from a rename to its event (sdk).
func BenchmarkPropagation(b *testing.B) {
	b.Run("store", func(b *testing.B) {
		dir := b.TempDir()
		kvtest.Propagation(b, func(t testing.TB) kvstore.Store { return open(t, dir) }, []byte(`{"version": 7}`), 0)
	})
	b.Run("sdk", func(b *testing.B) {
		dir := b.TempDir()
		w, err := fsnotify.NewWatcher()
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		if err := w.Add(dir); err != nil {
			b.Fatal(err)
		}
		tmp := filepath.Join(b.TempDir(), "f")
		b.ResetTimer()
		for range b.N {
			if err := os.WriteFile(tmp, []byte(`{"version": 7}`), 0o644); err != nil {
				b.Fatal(err)
			}
			if err := os.Rename(tmp, filepath.Join(dir, "f")); err != nil {
				b.Fatal(err)
			}
			for ev := range w.Events {
				if ev.Has(fsnotify.Create) {
					break
				}
			}
		}
	})
}
