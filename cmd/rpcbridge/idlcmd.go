package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// idlClient is the IDL commands' admin API client, made from the flags when a command runs.
type idlClient struct {
	flags adminFlags
	*adminClient
}

// connect makes the admin client from the flags.
func (c *idlClient) connect() error {
	ac, err := c.flags.client()
	c.adminClient = ac
	return err
}

func newIDLCommand(stdout io.Writer) *cobra.Command {
	c := &idlClient{}
	cmd := &cobra.Command{
		Use:   "idl",
		Short: "Upload, list and remove IDL (protobuf, Java API) on a running rpcbridge",
		Long: `idl talks to the admin API of a running rpcbridge. An upload is validated before it
replaces anything: a bad one is rejected with file:line:column and the previous version keeps
serving. Kinds: proto (.proto sources with imports), descriptor-set (binary FileDescriptorSet),
java-source (.java interfaces and DTOs), java-jar (an API jar), java-yaml (hand-written
signatures), dubbo-metadata (FullServiceDefinition JSON from a metadata center).`,
		Example: `  rpcbridge idl push greeter ./protos
  rpcbridge idl ls --admin http://rpcbridge.internal:9901

  # an admin API with tokens, over TLS
  rpcbridge idl push greeter ./protos --admin https://rpcbridge.internal:19901 --token-file ~/.rpcbridge/ci-token --ca-file ca.crt`,
	}
	c.flags.register(cmd)
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error { return c.connect() }

	var kind string
	push := &cobra.Command{
		Use:   "push NAME PATH...",
		Short: "Upload files, a directory or a zip/jar as the next version of NAME",
		Example: `  # a directory of .proto files
  rpcbridge idl push greeter ./protos

  # a Dubbo API jar, and Java sources named explicitly
  rpcbridge idl push users-api ./users-api-1.4.0.jar
  rpcbridge idl push orders --kind java-source src/main/java/com/foo/OrderService.java src/main/java/com/foo/Order.java`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.push(stdout, args[0], args[1:], kind)
		},
	}
	push.Flags().StringVar(&kind, "kind", "", "IDL kind (default: the admin API infers it from the file names)")
	ls := &cobra.Command{
		Use:     "ls",
		Short:   "List the stored IDL with kinds and versions",
		Example: `  rpcbridge idl ls`,
		Args:    cobra.NoArgs,
		RunE:    func(*cobra.Command, []string) error { return c.list(stdout) },
	}
	rm := &cobra.Command{
		Use:     "rm NAME",
		Short:   "Remove an IDL upload",
		Example: `  rpcbridge idl rm greeter`,
		Args:    cobra.ExactArgs(1),
		RunE:    func(_ *cobra.Command, args []string) error { return c.remove(stdout, args[0]) },
	}
	cmd.AddCommand(push, ls, rm)
	return cmd
}

func (c *idlClient) push(stdout io.Writer, name string, paths []string, kind string) error {
	files, err := collectFiles(paths)
	if err != nil {
		return err
	}
	// Without --kind the admin API infers it from the (unpacked) file names.
	params := url.Values{}
	if kind != "" {
		params.Set("kind", kind)
	}
	body, ctype := &bytes.Buffer{}, ""
	if len(files) == 1 && (strings.HasSuffix(files[0].name, ".zip") || strings.HasSuffix(files[0].name, ".jar")) {
		body.Write(files[0].data)
		ctype = "application/zip"
	} else if len(files) == 1 {
		body.Write(files[0].data)
		ctype = "application/octet-stream"
		params.Set("filename", filepath.Base(files[0].name))
	} else {
		zw := zip.NewWriter(body)
		for _, f := range files {
			w, err := zw.Create(f.name)
			if err != nil {
				return err
			}
			if _, err := w.Write(f.data); err != nil {
				return err
			}
		}
		if err := zw.Close(); err != nil {
			return err
		}
		ctype = "application/zip"
	}
	req, err := c.request(http.MethodPut, "/api/v1/idl/"+name+"?"+params.Encode(), body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	var out struct {
		Kind    string `json:"kind"`
		Version int64  `json:"version"`
		Files   int    `json:"files"`
	}
	if err := c.do(req, &out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: version %d stored (%s, %d files)\n", name, out.Version, out.Kind, out.Files)
	return nil
}

func (c *idlClient) list(stdout io.Writer) error {
	req, err := c.request(http.MethodGet, "/api/v1/idl", nil)
	if err != nil {
		return err
	}
	var out struct {
		Schemas []struct {
			Name    string    `json:"name"`
			Kind    string    `json:"kind"`
			Version int64     `json:"version"`
			Created time.Time `json:"created"`
			Files   []string  `json:"files"`
		} `json:"schemas"`
	}
	if err := c.do(req, &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tVERSION\tFILES\tCREATED")
	for _, s := range out.Schemas {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", s.Name, s.Kind, s.Version, len(s.Files), s.Created.Format(time.RFC3339))
	}
	return tw.Flush()
}

func (c *idlClient) remove(stdout io.Writer, name string) error {
	req, err := c.request(http.MethodDelete, "/api/v1/idl/"+name, nil)
	if err != nil {
		return err
	}
	if err := c.do(req, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: removed\n", name)
	return nil
}

type localFile struct {
	name string
	data []byte
}

// collectFiles reads the given files, and every file below the given directories with paths
// relative to that directory.
func collectFiles(paths []string) ([]localFile, error) {
	var files []localFile
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			files = append(files, localFile{name: filepath.Base(p), data: data})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(p, path)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files = append(files, localFile{name: filepath.ToSlash(rel), data: data})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(files) == 0 {
		return nil, usageError{fmt.Errorf("no files in %s", strings.Join(paths, ", "))}
	}
	return files, nil
}
