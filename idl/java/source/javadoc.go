package source

import (
	"strings"
)

// javadoc is what rpcbridge keeps of a documentation comment: the main description, and the
// text of the @param and @return block tags (other block tags are dropped).
type javadoc struct {
	text    string
	params  map[string]string
	returns string
}

// parseJavadoc reads the body of a documentation comment (between "/**" and "*/") as the
// javadoc tool does: each line loses its leading white space and asterisks; the main
// description runs until the first line that starts with a block tag ("@param name text",
// "@return text"), and each tag's text until the next. The text is HTML, so white space is
// collapsed; paragraphs (a blank line or <p>) are kept as blank lines. Inline tags become
// their text: {@code x}, {@literal x} and {@value x} become x, {@link ref label} becomes label
// (ref without one), {@inheritDoc} nothing.
func parseJavadoc(body string) javadoc {
	var doc javadoc
	var main []string
	cur := &main
	var tag, tagName string
	var tagText []string
	flush := func() {
		text := docText(strings.Join(tagText, "\n"))
		switch tag {
		case "@param":
			if tagName != "" && text != "" {
				if doc.params == nil {
					doc.params = map[string]string{}
				}
				doc.params[tagName] = text
			}
		case "@return":
			doc.returns = text
		}
		tag, tagName, tagText = "", "", nil
	}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimLeft(line, " \t\r\f")
		line = strings.TrimLeft(line, "*")
		line = strings.TrimPrefix(line, " ")
		if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "@") {
			flush()
			fields := strings.Fields(trimmed)
			tag = fields[0]
			rest := strings.TrimSpace(strings.TrimPrefix(trimmed, tag))
			if tag == "@param" && len(fields) > 1 {
				tagName = fields[1]
				rest = strings.TrimSpace(strings.TrimPrefix(rest, tagName))
			}
			tagText = []string{rest}
			cur = &tagText
			continue
		}
		*cur = append(*cur, line)
	}
	flush()
	doc.text = docText(strings.Join(main, "\n"))
	return doc
}

// docText renders Javadoc HTML text as plain paragraphs.
func docText(s string) string {
	s = inlineTags(s)
	s = strings.NewReplacer("<p>", "\n\n", "<P>", "\n\n", "</p>", "", "</P>", "").Replace(s)
	var paragraphs []string
	for _, p := range strings.Split(s, "\n\n") {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			paragraphs = append(paragraphs, p)
		}
	}
	return strings.Join(paragraphs, "\n\n")
}

// inlineTags replaces each inline tag {@name …} (its braces balanced) with its text.
func inlineTags(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{@")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		depth, end := 0, -1
		for j := i; j < len(s) && end < 0; j++ {
			switch s[j] {
			case '{':
				depth++
			case '}':
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 { // unbalanced: keep the rest as written
			b.WriteString(s[i:])
			return b.String()
		}
		inner := s[i+2 : end]
		inner = strings.TrimSpace(inner)
		name, arg := inner, ""
		if k := strings.IndexAny(inner, " \t\n"); k >= 0 {
			name, arg = inner[:k], strings.TrimSpace(inner[k:])
		}
		switch name {
		case "link", "linkplain":
			if k := strings.IndexAny(arg, " \t\n"); k >= 0 {
				arg = strings.TrimSpace(arg[k:])
			} else {
				arg = strings.TrimPrefix(arg, "#")
			}
		case "inheritDoc":
			arg = ""
		}
		b.WriteString(arg)
		s = s[end+1:]
	}
}
