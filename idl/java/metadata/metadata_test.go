package metadata

import (
	"context"
	"strings"
	"testing"
)

// TestOlderDubboFormat reads the Dubbo 2.7 shape: properties as nested type definitions with
// typeBuilderName, binary ('$') nested names, and ", " inside generic types.
func TestOlderDubboFormat(t *testing.T) {
	doc := `{"canonicalName":"org.demo.DemoService","codeSource":"file:/x/classes/",
	 "methods":[{"name":"sayHello","parameterTypes":["java.util.Map<java.lang.String, org.demo.Outer$In>"],"returnType":"org.demo.Color"}],
	 "types":[{"type":"int","typeBuilderName":"org.apache.dubbo.metadata.definition.builder.DefaultTypeBuilder"},
	  {"type":"org.demo.Outer$In","properties":{"b":{"type":"int","typeBuilderName":"x"},"a":{"type":"org.demo.Outer.In","typeBuilderName":"x"}}},
	  {"type":"org.demo.Color","enums":["RED","GREEN"]}]}`
	d, err := Parse(context.Background(), [][]byte{[]byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	m := d.Interfaces[0].Methods[0]
	if m.Params[0].Type != "java.util.Map<java.lang.String,org.demo.Outer$In>" || m.Returns != "org.demo.Color" {
		t.Errorf("method = %+v", m)
	}
	var got []string
	for _, c := range d.Classes {
		s := c.Name + ":" + string(c.Kind) + ":" + strings.Join(c.Constants, ",")
		for _, f := range c.Fields {
			s += " " + f.Name + "=" + string(f.Type)
		}
		got = append(got, s)
	}
	want := "org.demo.Outer$In:class: a=org.demo.Outer$In b=int|org.demo.Color:enum:RED,GREEN"
	if strings.Join(got, "|") != want {
		t.Errorf("classes = %q\nwant      %q", strings.Join(got, "|"), want)
	}
}

func TestMalformedTypeIsNamed(t *testing.T) {
	doc := `{"canonicalName":"a.S","methods":[{"name":"f","parameterTypes":["java.util.List<"],"returnType":"void"}]}`
	_, err := Parse(context.Background(), [][]byte{[]byte(doc)})
	if err == nil || !strings.HasPrefix(err.Error(), "service definition 0 (a.S): method f: parameter 0: malformed Java type name") {
		t.Errorf("error = %v", err)
	}
}
