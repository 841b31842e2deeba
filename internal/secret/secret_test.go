package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RPCBRIDGE_SECRET_TEST", "from-env")
	for _, tc := range []struct {
		name    string
		ref     Ref
		want    string
		wantErr string
	}{
		{"zero", Ref{}, "", ""},
		{"file drops one newline", Ref{File: file}, "s3cret", ""},
		{"env", Ref{Env: "RPCBRIDGE_SECRET_TEST"}, "from-env", ""},
		{"both", Ref{File: file, Env: "RPCBRIDGE_SECRET_TEST"}, "", "not both"},
		{"missing file", Ref{File: filepath.Join(dir, "nope")}, "", "no such file"},
		{"unset env", Ref{Env: "RPCBRIDGE_SECRET_UNSET"}, "", "is not set"},
		{"empty file", Ref{File: empty}, "", "it is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.ref.Read()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Read() = %q, %v; want an error containing %q", got, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("the error shows the credential: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Read() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if s := (Ref{File: file}).String(); strings.Contains(s, "s3cret") || !strings.Contains(s, file) {
		t.Errorf("String() = %q: want the place, not the credential", s)
	}
}
