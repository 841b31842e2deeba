package classfile

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// jarEntries reads the prebuilt golden jar (compiled with javac -parameters from
// ../testdata/userservice/src).
func jarEntries(t testing.TB) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader("../testdata/userservice/api.jar")
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".class") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	return files
}

// corrupt replaces the first occurrence of old (a constant-pool UTF-8 string) by a string of
// the same length, so that the class file stays well-formed but says something else.
func corrupt(t *testing.T, class []byte, old, replacement string) []byte {
	t.Helper()
	if len(old) != len(replacement) || !bytes.Contains(class, []byte(old)) {
		t.Fatalf("cannot replace %q in the class file", old)
	}
	return bytes.Replace(class, []byte(old), []byte(replacement), 1)
}

func TestBrokenClassFilesNameClassAndMember(t *testing.T) {
	files := jarEntries(t)
	user := files["com/example/user/model/User.class"]
	service := files["com/example/user/UserService.class"]
	cases := []struct {
		name  string
		entry string
		data  []byte
		want  string
	}{
		{"bad field signature", "com/example/user/model/User.class",
			corrupt(t, user, "Ljava/util/Set<Ljava/lang/String;>;", "Ljava/util/Set<Qjava/lang/String;>;"),
			`com/example/user/model/User.class: class com.example.user.model.User: field tags: bad signature "Ljava/util/Set<Qjava/lang/String;>;" at offset 15: unexpected 'Q'`},
		{"bad method signature", "com/example/user/UserService.class",
			corrupt(t, service, "(Ljava/util/Set<Ljava/lang/Long;>;)", "(Ljava/util/Set<Ljava/lang/Long;>;X"),
			`com/example/user/UserService.class: class com.example.user.UserService: method findAll(Ljava/util/Set;)Ljava/util/List;: bad signature`},
		{"truncated", "com/example/user/model/User.class", user[:len(user)-3],
			"com/example/user/model/User.class: class com.example.user.model.User: truncated class file"},
		{"not a class", "com/example/X.class", []byte("PK\x03\x04"),
			"com/example/X.class: not a class file (bad magic number)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(context.Background(), map[string][]byte{c.entry: c.data})
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error = %v\nwant prefix %s", err, c.want)
			}
		})
	}
}

func TestSkipsAnonymousEnumBodies(t *testing.T) {
	d, err := Parse(context.Background(), jarEntries(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range d.Classes {
		names = append(names, c.Name)
	}
	got := strings.Join(names, " ")
	if strings.Contains(got, "Role$1") || !strings.Contains(got, "com.example.user.model.Role") {
		t.Errorf("classes = %s: want Role without its anonymous constant body Role$1", got)
	}
}

func TestParseSignatures(t *testing.T) {
	sig, err := parseMethodSig("<T:Ljava/lang/Object;U::Ljava/lang/Comparable<TU;>;>(TT;[TU;Ljava/util/Map<+TT;*>;)Lcom/a/Outer<TT;>.Inner<-Ljava/lang/Integer;>;^Ljava/io/IOException;")
	if err != nil {
		t.Fatal(err)
	}
	got := []string{string(sig.params[0]), string(sig.params[1]), string(sig.params[2]), string(sig.returns)}
	want := []string{"java.lang.Object", "java.lang.Comparable[]", "java.util.Map<? extends java.lang.Object,?>",
		"com.a.Outer$Inner<? super java.lang.Integer>"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	cs, err := parseClassSig("<K:Ljava/lang/Number;>Lcom/a/Base<TK;>;Ljava/io/Serializable;")
	if err != nil {
		t.Fatal(err)
	}
	if cs.typeParams[0].name != "K" || cs.super != "com.a.Base<K>" || len(cs.interfaces) != 1 {
		t.Errorf("class signature = %+v", cs)
	}
}

// FuzzReadClass checks that no input makes the class reader panic; seeds are the real class
// files of the golden jar.
func FuzzReadClass(f *testing.F) {
	for _, b := range jarEntries(f) {
		f.Add(b)
	}
	f.Add([]byte{0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 61, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Parse(context.Background(), map[string][]byte{"F.class": data})
	})
}
