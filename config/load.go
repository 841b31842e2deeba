package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Problem is one error in a configuration file.
type Problem struct {
	// File is the file's path as given to Load.
	File string
	// Line is the 1-based line of the problem, 0 when unknown.
	Line int
	// Key is the dotted path of the offending key ("registries[0].static.services[1].port"),
	// when known.
	Key string
	// Message says what is wrong.
	Message string
}

// String renders the problem as "file:line: key: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error is returned for an invalid configuration; it lists every problem found.
type Error struct {
	Problems []Problem
}

// Error renders one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads, decodes and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a configuration read from the file called name.
func Parse(name string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{Problems: yamlProblems(name, err, nil)}
	}
	keys := keyLines(&root)

	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{Problems: yamlProblems(name, err, keys)}
	}
	cfg.applyDefaults()
	if problems := cfg.validate(); len(problems) > 0 {
		for i := range problems {
			problems[i].File = name
			problems[i].Line = locate(&root, problems[i].Key)
		}
		return nil, &Error{Problems: problems}
	}
	return &cfg, nil
}

var (
	lineRE         = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// yamlProblems turns yaml.v3's errors ("yaml: line 3: ...", or a TypeError listing
// "line 3: field x not found in type T") into problems with file, line and key.
func yamlProblems(name string, err error, keys map[int][]string) []Problem {
	var messages []string
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		messages = typeErr.Errors
	} else {
		messages = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	problems := make([]Problem, 0, len(messages))
	for _, msg := range messages {
		p := Problem{File: name, Message: msg}
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			p.Line, _ = strconv.Atoi(m[1])
			p.Message = m[2]
			p.Key = pickKey(keys[p.Line], "")
		}
		if m := unknownFieldRE.FindStringSubmatch(p.Message); m != nil {
			p.Message = fmt.Sprintf("unknown key %q", m[1])
			p.Key = pickKey(keys[p.Line], m[1])
		}
		problems = append(problems, p)
	}
	return problems
}

// pickKey chooses, among the key paths on one line, the one whose last segment is name, or the
// first when name is empty or not found (a flow mapping puts several keys on one line).
func pickKey(paths []string, name string) string {
	for _, p := range paths {
		if name != "" && (p == name || strings.HasSuffix(p, "."+name)) {
			return p
		}
	}
	if len(paths) == 0 {
		return ""
	}
	return paths[0]
}

// keyLines maps each line to the dotted paths of the mapping keys on it, in order.
func keyLines(root *yaml.Node) map[int][]string {
	lines := map[int][]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := joinKey(path, k.Value)
				lines[k.Line] = append(lines[k.Line], p)
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(root, "")
	return lines
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var segmentRE = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

// locate returns the line of the node at a dotted key path, or of its nearest existing parent,
// or 0.
func locate(root *yaml.Node, key string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, m := range segmentRE.FindAllStringSubmatch(key, -1) {
		next := (*yaml.Node)(nil)
		switch {
		case m[1] != "" && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == m[1] {
					line = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		case m[2] != "" && n.Kind == yaml.SequenceNode:
			if i, _ := strconv.Atoi(m[2]); i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}
