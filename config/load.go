package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
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

// Parse decodes and validates a configuration read from the file called name. It reports every
// problem of the file in one *Error, sorted by line: values that do not decode (a wrong type, a
// bad duration, an unknown key) and values that decode but are invalid. Only a YAML syntax error
// stops it early. A file without content (empty, blank, comments only) is an error, so that a
// truncated file is never taken for "no registries, no routes".
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data, true)
}

// parse is Parse; references false leaves policy references unchecked (a rules document in the
// store may reference the file's policies, which transcoding resolves and diagnoses).
func parse(name string, data []byte, references bool) (*Config, error) {
	empty := &Error{Problems: []Problem{{File: name, Message: "the configuration is empty"}}}
	if blank(data) {
		return nil, empty // before parsing: a tab on an otherwise blank line is a YAML syntax error
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{Problems: []Problem{problemOf(name, err.Error())}}
	}
	if isEmpty(&root) {
		return nil, empty
	}
	keys := indexKeys(&root)

	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	problems := decodeProblems(name, keys, dec.Decode(&cfg))
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		problems = append(problems, Problem{File: name, Line: next.Line,
			Message: "a second YAML document; the configuration is one document"})
	case !errors.Is(err, io.EOF):
		problems = append(problems, problemOf(name, err.Error()))
	}

	cfg = cfg.Defaults()
	invalid := cfg.validate()
	if references {
		invalid = append(invalid, cfg.validateReferences()...)
	}
	for _, p := range invalid {
		if !blamed(problems, p.Key) {
			p.File, p.Line = name, locate(&root, p.Key)
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int { return cmp.Compare(a.Line, b.Line) })
		return nil, &Error{Problems: problems}
	}
	for i := range cfg.Routes {
		cfg.Routes[i].Origin = fmt.Sprintf("%s routes[%d]", name, i)
	}
	for i := range cfg.RPCRoutes {
		cfg.RPCRoutes[i].Origin = fmt.Sprintf("%s rpcRoutes[%d]", name, i)
	}
	for i := range cfg.Policies {
		cfg.Policies[i].Origin = fmt.Sprintf("%s policies[%d]", name, i)
	}
	return &cfg, nil
}

// blank reports whether every line of data is white space or a comment.
func blank(data []byte) bool {
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return false
		}
	}
	return true
}

// isEmpty reports whether a parsed document has no content: no document at all, or a null
// ("---", "~").
func isEmpty(root *yaml.Node) bool {
	if root.Kind == 0 || len(root.Content) == 0 {
		return true
	}
	n := root.Content[0]
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

var (
	lineRE         = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownFieldRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// problemOf turns one yaml.v3 message ("yaml: line 3: ..." or "line 3: ...") into a problem
// with its line.
func problemOf(name, msg string) Problem {
	p := Problem{File: name, Message: strings.TrimPrefix(msg, "yaml: ")}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Message = m[2]
	}
	return p
}

// decodeProblems turns the error of decoding the whole file into problems, each with its key.
// yaml.v3 collects type mismatches (yamltime's bad durations included) in one *yaml.TypeError
// and goes on decoding, so this lists every value that did not decode.
func decodeProblems(name string, keys keyIndex, err error) []Problem {
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var typeErr *yaml.TypeError
	if !errors.As(err, &typeErr) {
		return []Problem{problemOf(name, err.Error())}
	}
	problems := make([]Problem, 0, len(typeErr.Errors))
	seen := map[string]int{} // how often each message came, to blame repeats on the next key
	for _, msg := range typeErr.Errors {
		p := problemOf(name, msg)
		if m := unknownFieldRE.FindStringSubmatch(p.Message); m != nil {
			p.Message = fmt.Sprintf("unknown key %q", m[1])
			p.Key = keys.unknown(p.Line, m[1], seen[msg])
		} else {
			p.Key = keys.undecodable(p.Line, p.Message, seen[msg])
		}
		seen[msg]++
		problems = append(problems, p)
	}
	return problems
}

// blamed reports whether one of problems is at key or at a key that holds it: a value that did
// not decode is left zero, and validating that zero would only repeat the problem.
func blamed(problems []Problem, key string) bool {
	for _, p := range problems {
		if p.Key != "" && (key == p.Key || strings.HasPrefix(key, p.Key+".") || strings.HasPrefix(key, p.Key+"[")) {
			return true
		}
	}
	return false
}
