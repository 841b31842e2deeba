package source

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rpcbridge/rpcbridge/idl"
)

// TestJavadoc: the documentation comment before an interface, a method, a class, a field, an
// enum and a record becomes its Doc (main description, inline tags as text, paragraphs kept,
// HTML white space collapsed), @param tags the parameters' and a record's components' Doc,
// @return the method's ReturnsDoc; ordinary comments, "/**/" and comments inside bodies are no
// one's documentation.
func TestJavadoc(t *testing.T) {
	schema, err := parseOne(t, map[string]string{
		"a/Greeter.java": `package a;

/** Greets people. */
public interface Greeter {
    /**
     * Says hello to {@code name}, {@link #times repeated}
     *   as asked.
     * <p>
     * Uses {@link a.User}.
     *
     * @param name  who is greeted,
     *              by first name
     * @param times how often ({@code 1} or more)
     * @return the greeting
     * @throws IllegalArgumentException never
     */
    @Deprecated
    String sayHello(String name, int times);

    // An ordinary comment.
    String plain(String name);

    /**/
    User empty(User user);

    Level level(Point at);
}
`,
		"a/User.java": `package a;

/**
 * A user. {@inheritDoc}
 */
public class User {
    /** The user's name. */
    private String name;
    /* not Javadoc */ private int age;
    /** Both ids. */
    long id, other;

    /** A getter: not a field. */
    public String getName() { /** inside a body */ return name; }
}
`,
		"a/Level.java": "package a;\n/** How good. */\npublic enum Level { /** The best. */ GOLD, SILVER }\n",
		"a/Point.java": "package a;\n/**\n * A point.\n * @param x across\n * @param y up\n */\npublic record Point(int x, int y) {}\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := idl.Schema{
		Interfaces: []idl.JavaInterface{{Name: "a.Greeter", Doc: "Greets people.", Methods: []idl.JavaMethod{
			{Name: "sayHello", Doc: "Says hello to name, repeated as asked.\n\nUses a.User.", Returns: "java.lang.String", ReturnsDoc: "the greeting",
				Params: []idl.JavaParam{{Name: "name", Type: "java.lang.String", Doc: "who is greeted, by first name"}, {Name: "times", Type: "int", Doc: "how often (1 or more)"}}},
			{Name: "plain", Returns: "java.lang.String", Params: []idl.JavaParam{{Name: "name", Type: "java.lang.String"}}},
			{Name: "empty", Returns: "a.User", Params: []idl.JavaParam{{Name: "user", Type: "a.User"}}},
			{Name: "level", Returns: "a.Level", Params: []idl.JavaParam{{Name: "at", Type: "a.Point"}}},
		}}},
		Classes: []idl.JavaClass{
			{Name: "a.Level", Kind: idl.ClassEnum, Doc: "How good.", Constants: []string{"GOLD", "SILVER"}},
			{Name: "a.Point", Kind: idl.ClassDTO, Doc: "A point.", Fields: []idl.JavaField{{Name: "x", Type: "int", Doc: "across"}, {Name: "y", Type: "int", Doc: "up"}}},
			{Name: "a.User", Kind: idl.ClassDTO, Doc: "A user.", Fields: []idl.JavaField{
				{Name: "name", Type: "java.lang.String", Doc: "The user's name."}, {Name: "age", Type: "int"},
				{Name: "id", Type: "long", Doc: "Both ids."}, {Name: "other", Type: "long", Doc: "Both ids."}}},
		},
	}
	if diff := cmp.Diff(want, schema); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}
}
