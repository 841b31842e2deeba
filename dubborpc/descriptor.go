package dubborpc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/javatype"
)

// Descriptor turns Java parameter types into the JVM method descriptor Dubbo puts in a request
// ("Ljava/lang/String;I" for String, int); javatype.Descriptor says which spellings it accepts.
func Descriptor(types []string) (string, error) {
	if slices.Equal(types, invokeParamTypes[:]) { // every generic call: no parsing
		return invokeDescriptor, nil
	}
	var b strings.Builder
	for i, t := range types {
		d, err := javatype.Descriptor(t)
		if err != nil {
			return "", fmt.Errorf("parameter %d: %w", i, err)
		}
		b.WriteString(d)
	}
	return b.String(), nil
}

// invokeParamTypes are the parameter types of $invoke, the generic service's method, and
// invokeDescriptor their descriptor (TestInvokeDescriptor checks it against javatype's).
var invokeParamTypes = [...]string{"java.lang.String", "java.lang.String[]", "java.lang.Object[]"}

const invokeDescriptor = "Ljava/lang/String;[Ljava/lang/String;[Ljava/lang/Object;"
