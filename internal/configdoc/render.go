package configdoc

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
)

// render writes the sections as Markdown: the header, a table of contents, then one table per
// section.
func render(header string, sections []*section) []byte {
	var b bytes.Buffer
	b.WriteString(strings.TrimRight(header, "\n") + "\n\n")
	b.WriteString("Sections:")
	for i, s := range sections {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s [%s](#%s)", sep, title(s.path), anchor(title(s.path)))
	}
	b.WriteString(".\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "\n## %s\n\n", title(s.path))
		if s.doc != "" {
			b.WriteString(cell(s.doc) + "\n\n")
		}
		b.WriteString("| key | type | default | example | description |\n|---|---|---|---|---|\n")
		for _, k := range s.keys {
			typ, def, ex := k.typeName, code(k.def), code(k.example)
			if k.section != "" {
				typ = fmt.Sprintf("%s, see [%s](#%s)", k.typeName, title(k.section), anchor(title(k.section)))
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", k.path, typ, def, ex, cell(k.doc))
		}
	}
	return b.Bytes()
}

// title is the heading of the section at path.
func title(path string) string {
	if path == "" {
		return "Top level"
	}
	return path
}

// anchor is the fragment GitHub gives a heading: lower case, punctuation other than '-' and '_'
// dropped, spaces turned into '-'.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// code renders a YAML value as inline code, or a dash when there is none.
func code(v string) string {
	if v == "" {
		return "—"
	}
	return "`" + strings.ReplaceAll(v, "|", `\|`) + "`"
}

// cell makes text safe inside a table cell: no column separators, no HTML tags.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}
