package upload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// memorySpoolBytes is how much of an upload is kept in memory; a larger upload is spooled to a
// temporary file, so its size costs disk, not memory, until it has passed the limits.
const memorySpoolBytes = 256 << 10

// spooled is an upload read to its end: random access, as zip.NewReader needs, and a size
// counted while reading, never taken from the sender.
type spooled struct {
	io.ReaderAt
	size  int64
	close func()
}

// spool reads r to its end, failing with *LimitError as soon as more than max bytes arrive. The
// first memorySpoolBytes stay in memory; beyond them everything goes to a temporary file that is
// removed by close (on Unix already when it is created, so a crash leaves nothing behind).
func spool(r io.Reader, max int64) (*spooled, error) {
	tooLarge := &LimitError{Limit: "MaxUploadBytes", Max: max}
	head := make([]byte, min(max, memorySpoolBytes)+1) // one buffer, never grown
	n, err := io.ReadFull(r, head)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &spooled{ReaderAt: bytes.NewReader(head[:n]), size: int64(n), close: func() {}}, nil
	case err != nil:
		return nil, fmt.Errorf("read upload: %w", err)
	case int64(n) > max:
		return nil, tooLarge
	}
	f, err := os.CreateTemp("", "rpcbridge-upload-*")
	if err != nil {
		return nil, fmt.Errorf("spool upload: %w", err)
	}
	removed := os.Remove(f.Name()) == nil // an open file stays readable after its name is gone
	sp := &spooled{ReaderAt: f, close: func() {
		_ = f.Close()
		if !removed {
			_ = os.Remove(f.Name())
		}
	}}
	if _, err := f.Write(head); err != nil {
		sp.close()
		return nil, fmt.Errorf("spool upload: %w", err)
	}
	rest, err := io.Copy(f, io.LimitReader(r, max+1-int64(n)))
	if err != nil {
		sp.close()
		return nil, fmt.Errorf("spool upload: %w", err)
	}
	if sp.size = int64(n) + rest; sp.size > max {
		sp.close()
		return nil, tooLarge
	}
	return sp, nil
}
