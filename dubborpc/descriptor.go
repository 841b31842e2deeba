package dubborpc

import (
	"fmt"
	"strings"
)

var primitiveDescriptors = map[string]string{
	"boolean": "Z", "byte": "B", "char": "C", "short": "S", "int": "I", "long": "J",
	"float": "F", "double": "D", "void": "V",
}

// Descriptor turns Java parameter types into the JVM method descriptor Dubbo puts in a request
// ("Ljava/lang/String;I" for String, int). It accepts source names ("java.lang.String",
// "int[]", "java.util.List<String>" with the generics dropped) and Class.getName() names
// ("[Ljava.lang.String;", "[I").
func Descriptor(types []string) (string, error) {
	var b strings.Builder
	for i, t := range types {
		d, err := typeDescriptor(t)
		if err != nil {
			return "", fmt.Errorf("parameter %d: %w", i, err)
		}
		b.WriteString(d)
	}
	return b.String(), nil
}

func typeDescriptor(t string) (string, error) {
	t = strings.TrimSpace(t)
	if i := strings.IndexByte(t, '<'); i >= 0 {
		if !strings.HasSuffix(strings.TrimRight(t, "[] "), ">") {
			return "", fmt.Errorf("type %q: unbalanced generics", t)
		}
		rest := t[strings.LastIndexByte(t, '>')+1:]
		t = t[:i] + rest
	}
	if t == "" {
		return "", fmt.Errorf("empty type name")
	}
	if strings.HasPrefix(t, "[") { // Class.getName() form of an array
		if err := checkClassNameDescriptor(t); err != nil {
			return "", err
		}
		return strings.ReplaceAll(t, ".", "/"), nil
	}
	dims := 0
	for strings.HasSuffix(t, "[]") {
		dims++
		t = strings.TrimSpace(strings.TrimSuffix(t, "[]"))
	}
	if strings.HasSuffix(t, "...") { // varargs
		dims++
		t = strings.TrimSuffix(t, "...")
	}
	prefix := strings.Repeat("[", dims)
	if p, ok := primitiveDescriptors[t]; ok {
		if p == "V" {
			return "", fmt.Errorf("void is not a parameter type")
		}
		return prefix + p, nil
	}
	for _, r := range t {
		if r == ' ' || r == ';' || r == '/' || r == '[' || r == ']' || r == '<' || r == '>' {
			return "", fmt.Errorf("type %q is not a Java class name", t)
		}
	}
	return prefix + "L" + strings.ReplaceAll(t, ".", "/") + ";", nil
}

// checkClassNameDescriptor checks a "[..." Class.getName() array name.
func checkClassNameDescriptor(t string) error {
	rest := strings.TrimLeft(t, "[")
	switch {
	case len(rest) == 1 && strings.Contains("ZBCSIJFD", rest):
		return nil
	case len(rest) > 2 && rest[0] == 'L' && strings.HasSuffix(rest, ";") && !strings.ContainsAny(rest[1:len(rest)-1], ";[ "):
		return nil
	}
	return fmt.Errorf("type %q is not a Java array class name", t)
}
