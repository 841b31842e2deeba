package source

import "strings"

// jdkClasses lists the JDK classes an API may name through java.lang's implicit import or an
// on-demand import ("import java.util.*;"). Source files carry no class path, so a simple name
// reached only through an on-demand import of a package outside the upload resolves only when
// it is listed here.
var jdkClasses = map[string]map[string]bool{
	"java.lang": words(`Object String Integer Long Short Byte Character Boolean Float Double Number
		Void Enum Record Iterable Comparable CharSequence Class Exception RuntimeException Throwable
		Error StringBuilder StringBuffer Thread Runnable Override Deprecated FunctionalInterface
		SuppressWarnings SafeVarargs AutoCloseable Cloneable Math IllegalArgumentException
		IllegalStateException UnsupportedOperationException NullPointerException`),
	"java.util": words(`List ArrayList LinkedList Map HashMap LinkedHashMap TreeMap SortedMap
		NavigableMap Set HashSet LinkedHashSet TreeSet SortedSet NavigableSet Collection Queue Deque
		ArrayDeque PriorityQueue Iterator Optional OptionalInt OptionalLong OptionalDouble Date
		Calendar UUID Locale Currency Properties Vector Stack Hashtable EnumMap EnumSet BitSet
		Objects Arrays Collections TimeZone`),
	"java.util.concurrent": words(`CompletableFuture Future ConcurrentHashMap ConcurrentMap
		TimeUnit CompletionStage`),
	"java.math": words(`BigDecimal BigInteger`),
	"java.time": words(`LocalDate LocalDateTime LocalTime Instant Duration Period ZonedDateTime
		OffsetDateTime OffsetTime ZoneId ZoneOffset Year YearMonth MonthDay DayOfWeek Month`),
	"java.io":  words(`Serializable InputStream OutputStream File IOException`),
	"java.sql": words(`Timestamp Date Time`),
	"java.net": words(`URI URL`),
	"java.nio": words(`ByteBuffer`),
}

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
