package source

import (
	"strings"

	"github.com/rpcbridge/rpcbridge/javatype"
)

// jdkClasses lists the JDK classes an API may name through java.lang's implicit import or an
// on-demand import ("import java.util.*;"), by package. Source files carry no class path, so a
// simple name reached only through an on-demand import of a package outside the upload
// resolves only when it is listed here: every class javatype maps to JSON, and the others
// below, which an API may mention without rpcbridge serving them.
var jdkClasses = withValueClasses(map[string]map[string]bool{
	"java.lang": words(`Enum Record Comparable Class Exception RuntimeException Throwable Error
		StringBuilder StringBuffer Thread Runnable Override Deprecated FunctionalInterface
		SuppressWarnings SafeVarargs AutoCloseable Cloneable Math IllegalArgumentException
		IllegalStateException UnsupportedOperationException NullPointerException`),
	"java.util": words(`Iterator Optional OptionalInt OptionalLong OptionalDouble Calendar UUID Locale
		Currency Properties Stack PriorityQueue EnumMap EnumSet BitSet Objects Arrays Collections
		TimeZone`),
	"java.util.concurrent": words(`TimeUnit`),
	"java.time":            words(`ZoneId ZoneOffset DayOfWeek Month`),
	"java.io":              words(`InputStream OutputStream File IOException`),
	"java.net":             words(`URI URL`),
	"java.nio":             words(`ByteBuffer`),
})

// withValueClasses adds javatype's JDK classes to byPackage.
func withValueClasses(byPackage map[string]map[string]bool) map[string]map[string]bool {
	for _, name := range javatype.JDKClasses() {
		i := strings.LastIndexByte(name, '.')
		pkg := name[:i]
		if byPackage[pkg] == nil {
			byPackage[pkg] = map[string]bool{}
		}
		byPackage[pkg][name[i+1:]] = true
	}
	return byPackage
}

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
