package dubborpc

import (
	"fmt"
	"strings"

	"github.com/rpcbridge/rpcbridge/javatype"
)

// Descriptor turns Java parameter types into the JVM method descriptor Dubbo puts in a request
// ("Ljava/lang/String;I" for String, int); javatype.Descriptor says which spellings it accepts.
func Descriptor(types []string) (string, error) {
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
