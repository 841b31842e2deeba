package source

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a position in a source file: 1-based line and column (columns count characters).
type Pos struct {
	Line, Col int
}

// Error is a problem in one source file, at a position.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

// Error implements error: "file:line:col: message".
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// tokenKind tells identifiers (keywords included), punctuation, literals and the end apart.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokIdent
	tokPunct
	tokLiteral
)

// token is one lexical token; text is the identifier or punctuation ("...", "::", "->" or one
// character) and is empty for literals. doc is the body of the last documentation comment
// ("/** … */") between the previous token and this one, as written.
type token struct {
	kind tokenKind
	text string
	pos  Pos
	doc  string
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of file"
	case tokLiteral:
		return "literal"
	}
	return fmt.Sprintf("%q", t.text)
}

// lexer turns a Java source file into tokens, dropping whitespace and comments but keeping
// documentation comments on the token they precede.
type lexer struct {
	file string
	src  string
	off  int
	line int
	col  int
	// doc is the last documentation comment since the previous token.
	doc string
}

// tokenize returns every token of src followed by one tokEOF token.
func tokenize(file, src string) ([]token, error) {
	lx := &lexer{file: file, src: src, line: 1, col: 1}
	var toks []token
	for {
		tok, err := lx.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, tok)
		if tok.kind == tokEOF {
			return toks, nil
		}
	}
}

func (lx *lexer) errorf(pos Pos, format string, args ...any) error {
	return &Error{File: lx.file, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (lx *lexer) pos() Pos { return Pos{Line: lx.line, Col: lx.col} }

func (lx *lexer) peekRune(ahead int) rune {
	off := lx.off
	for i := 0; ; i++ {
		if off >= len(lx.src) {
			return -1
		}
		r, size := utf8.DecodeRuneInString(lx.src[off:])
		if i == ahead {
			return r
		}
		off += size
	}
}

func (lx *lexer) advance() rune {
	r, size := utf8.DecodeRuneInString(lx.src[lx.off:])
	lx.off += size
	if r == '\n' {
		lx.line++
		lx.col = 1
	} else {
		lx.col++
	}
	return r
}

func (lx *lexer) next() (token, error) {
	tok, err := lx.scan()
	tok.doc, lx.doc = lx.doc, ""
	return tok, err
}

func (lx *lexer) scan() (token, error) {
	if err := lx.skipSpaceAndComments(); err != nil {
		return token{}, err
	}
	start := lx.pos()
	if lx.off >= len(lx.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	r := lx.peekRune(0)
	switch {
	case isJavaIdentStart(r):
		begin := lx.off
		for lx.off < len(lx.src) && isJavaIdentPart(lx.peekRune(0)) {
			lx.advance()
		}
		return token{kind: tokIdent, text: lx.src[begin:lx.off], pos: start}, nil
	case r >= '0' && r <= '9' || r == '.' && isDigit(lx.peekRune(1)):
		lx.scanNumber()
		return token{kind: tokLiteral, pos: start}, nil
	case r == '"':
		if strings.HasPrefix(lx.src[lx.off:], `"""`) {
			return token{kind: tokLiteral, pos: start}, lx.scanTextBlock(start)
		}
		return token{kind: tokLiteral, pos: start}, lx.scanQuoted('"', start)
	case r == '\'':
		return token{kind: tokLiteral, pos: start}, lx.scanQuoted('\'', start)
	}
	for _, op := range []string{"...", "::", "->"} {
		if strings.HasPrefix(lx.src[lx.off:], op) {
			for range op {
				lx.advance()
			}
			return token{kind: tokPunct, text: op, pos: start}, nil
		}
	}
	if r == utf8.RuneError || unicode.IsControl(r) {
		return token{}, lx.errorf(start, "unexpected character %q", r)
	}
	lx.advance()
	return token{kind: tokPunct, text: string(r), pos: start}, nil
}

func (lx *lexer) skipSpaceAndComments() error {
	for lx.off < len(lx.src) {
		r := lx.peekRune(0)
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f':
			lx.advance()
		case r == '/' && lx.peekRune(1) == '/':
			for lx.off < len(lx.src) && lx.peekRune(0) != '\n' {
				lx.advance()
			}
		case r == '/' && lx.peekRune(1) == '*':
			start := lx.pos()
			begin := lx.off
			lx.advance()
			lx.advance()
			for {
				if lx.off >= len(lx.src) {
					return lx.errorf(start, "unterminated comment")
				}
				if lx.peekRune(0) == '*' && lx.peekRune(1) == '/' {
					lx.advance()
					lx.advance()
					break
				}
				lx.advance()
			}
			// "/**/" is an empty ordinary comment, not a documentation comment.
			if body := lx.src[begin:lx.off]; strings.HasPrefix(body, "/**") && len(body) > len("/**/") {
				lx.doc = body[len("/**") : len(body)-len("*/")]
			}
		default:
			return nil
		}
	}
	return nil
}

func (lx *lexer) scanNumber() {
	begin := lx.off
	hex := strings.HasPrefix(lx.src[begin:], "0x") || strings.HasPrefix(lx.src[begin:], "0X")
	exponent := "eE"
	if hex {
		exponent = "pP"
	}
	for lx.off < len(lx.src) {
		r := lx.peekRune(0)
		if (r == '+' || r == '-') && lx.off > begin && strings.ContainsRune(exponent, rune(lx.src[lx.off-1])) {
			lx.advance()
			continue
		}
		if !(isJavaIdentPart(r) || r == '.') {
			return
		}
		lx.advance()
	}
}

func (lx *lexer) scanQuoted(quote rune, start Pos) error {
	lx.advance()
	for {
		if lx.off >= len(lx.src) || lx.peekRune(0) == '\n' {
			return lx.errorf(start, "unterminated %s literal", literalName(quote))
		}
		r := lx.advance()
		if r == '\\' {
			if lx.off >= len(lx.src) {
				return lx.errorf(start, "unterminated %s literal", literalName(quote))
			}
			lx.advance()
			continue
		}
		if r == quote {
			return nil
		}
	}
}

func literalName(quote rune) string {
	if quote == '"' {
		return "string"
	}
	return "character"
}

func (lx *lexer) scanTextBlock(start Pos) error {
	for range 3 {
		lx.advance()
	}
	for {
		if lx.off >= len(lx.src) {
			return lx.errorf(start, "unterminated text block")
		}
		if strings.HasPrefix(lx.src[lx.off:], `"""`) {
			for range 3 {
				lx.advance()
			}
			return nil
		}
		if lx.advance() == '\\' && lx.off < len(lx.src) {
			lx.advance()
		}
	}
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isJavaIdentStart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r)
}

func isJavaIdentPart(r rune) bool {
	return isJavaIdentStart(r) || unicode.IsDigit(r)
}
