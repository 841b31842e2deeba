// Package dubboprovider runs the real dubbo-go v3.3.2 test provider (internal/testpeers/dubbogo,
// built by scripts/dubbo-provider.sh) for tests: org.rpcbridge.test.GreeterService (and
// FileService) version 1.0.0 over the dubbo protocol (or over Dubbo 3 Triple, Options.Protocol,
// beside the protobuf service PbInterface), registered into a ZooKeeper at interface level,
// application level or both, or nowhere (for a static registry, as in the quickstart).
package dubboprovider

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/peerproc"
)

// Interface and Version are what the provider serves.
const (
	Interface = "org.rpcbridge.test.GreeterService"
	Version   = "1.0.0"
	// PbInterface is the protobuf service a provider started with Protocol "tri" also serves,
	// defined by TripleProto.
	PbInterface = "org.rpcbridge.test.triple.PbGreeter"
)

// TripleProto is the path of the .proto of PbInterface (internal/testpeers/dubbogo/triple.proto),
// what a test uploads as the service's IDL.
func TripleProto() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "dubbogo", "triple.proto")
}

// FileInterface is the provider's file service, of the same version (internal/testpeers/dubbogo
// files.go): String upload(String name, byte[] data) answers "<name> <size> <sha256 hex>",
// String checksum(byte[] data) "<size> <sha256 hex>", and byte[] download(String name, int
// size) gives size bytes of the same pattern as dataplane/internal/filestore.Pattern.
const FileInterface = "org.rpcbridge.test.FileService"

// JavaClasses are the DTOs and enums of the provider's Java API (internal/testpeers/dubbogo),
// as rpcbridge's IDL reads them from examples/quickstart/dubbo-api.
func JavaClasses() []ir.JavaClass {
	return []ir.JavaClass{
		{Name: "org.rpcbridge.test.Address", Fields: []ir.JavaField{
			{Name: "street", Type: "java.lang.String"}, {Name: "city", Type: "java.lang.String"}, {Name: "zip", Type: "java.lang.String"}}},
		{Name: "org.rpcbridge.test.Level", Enum: true, Constants: []string{"GOLD", "SILVER"}},
		{Name: "org.rpcbridge.test.User", Doc: "A user of the greeter.", Fields: []ir.JavaField{
			{Name: "id", Type: "long"}, {Name: "name", Type: "java.lang.String", Doc: "The user's display name."},
			{Name: "balance", Type: "java.math.BigDecimal"}, {Name: "level", Type: "org.rpcbridge.test.Level"},
			{Name: "created", Type: "java.util.Date"}, {Name: "tags", Type: "java.util.List<java.lang.String>"},
			{Name: "scores", Type: "java.util.Map<java.lang.String,java.lang.Integer>"},
			{Name: "address", Type: "org.rpcbridge.test.Address"}}},
		{Name: "org.rpcbridge.test.Sample", Doc: "One field of every Java type family the REST-to-Dubbo conversion handles.", Fields: []ir.JavaField{
			{Name: "flag", Type: "boolean"}, {Name: "small", Type: "byte"}, {Name: "medium", Type: "short"},
			{Name: "count", Type: "int"}, {Name: "big", Type: "long"}, {Name: "ratio", Type: "float"},
			{Name: "precise", Type: "double"}, {Name: "letter", Type: "char"},
			{Name: "boxedInt", Type: "java.lang.Integer"}, {Name: "boxedLong", Type: "java.lang.Long"},
			{Name: "boxedFlag", Type: "java.lang.Boolean"}, {Name: "boxedDouble", Type: "java.lang.Double"},
			{Name: "huge", Type: "java.math.BigInteger"}, {Name: "money", Type: "java.math.BigDecimal"},
			{Name: "when", Type: "java.util.Date"}, {Name: "day", Type: "java.time.LocalDate"},
			{Name: "clock", Type: "java.time.LocalTime"}, {Name: "local", Type: "java.time.LocalDateTime"},
			{Name: "instant", Type: "java.time.Instant"}, {Name: "offset", Type: "java.time.OffsetDateTime"},
			{Name: "zoned", Type: "java.time.ZonedDateTime"}, {Name: "zonedFixed", Type: "java.time.ZonedDateTime"},
			{Name: "offsetClock", Type: "java.time.OffsetTime"}, {Name: "duration", Type: "java.time.Duration"},
			{Name: "period", Type: "java.time.Period"}, {Name: "year", Type: "java.time.Year"},
			{Name: "yearMonth", Type: "java.time.YearMonth"}, {Name: "monthDay", Type: "java.time.MonthDay"},
			{Name: "sqlDate", Type: "java.sql.Date"}, {Name: "sqlTime", Type: "java.sql.Time"},
			{Name: "sqlTimestamp", Type: "java.sql.Timestamp"},
			{Name: "raw", Type: "byte[]"}, {Name: "counts", Type: "int[]"}, {Name: "names", Type: "java.lang.String[]"},
			{Name: "places", Type: "org.rpcbridge.test.Address[]"},
			{Name: "addresses", Type: "java.util.List<org.rpcbridge.test.Address>"},
			{Name: "labels", Type: "java.util.Set<java.lang.String>"},
			{Name: "matrix", Type: "java.util.Map<java.lang.String,java.util.List<java.lang.Integer>>"},
			{Name: "levels", Type: "java.util.List<org.rpcbridge.test.Level>"}}},
	}
}

// SampleJSON is an org.rpcbridge.test.Sample (the argument and result of the provider's
// echoSample) with a value of every Java type family, written as rpcbridge's gateway renders
// it, so that a round trip through the gateway must give it back unchanged.
const SampleJSON = `{"flag":true,"small":-7,"medium":1234,"count":-42,"big":"9007199254740993",` +
	`"ratio":1.5,"precise":3.141592653589793,"letter":"λ",` +
	`"boxedInt":7,"boxedLong":"-9007199254740993","boxedFlag":false,"boxedDouble":null,` +
	`"huge":"123456789012345678901234567890","money":"-0.000000000000000001",` +
	`"when":"2024-05-06T07:08:09.123Z","day":"2024-02-29","clock":"23:59:58.123456789",` +
	`"local":"2024-02-29T23:59:58.5","instant":"2024-05-06T07:08:09.123456789Z","offset":"2024-05-06T07:08:09+05:30",` +
	`"zoned":"2024-10-27T02:30:00.5+01:00[Europe/Paris]","zonedFixed":"2024-05-06T07:08:09-03:00",` +
	`"offsetClock":"23:59:58.000000001+05:30","duration":"PT49H30M0.25S","period":"P1Y-2M3D",` +
	`"year":2024,"yearMonth":"2024-02","monthDay":"--02-29",` +
	`"sqlDate":"2024-02-29T00:00:00Z","sqlTime":"1970-01-01T23:59:58Z","sqlTimestamp":"2024-05-06T07:08:09.123Z",` +
	`"raw":"AAEC/w==","counts":[1,-2,3],"names":["a","b"],"places":[{"street":"s","city":"c","zip":"z"}],` +
	`"addresses":[{"street":"s2","city":"c2","zip":"z2"}],"labels":["x"],"matrix":{"m":[1,2]},"levels":["GOLD","SILVER"]}`

// registerGiveUp bounds the wait for the provider to appear in ZooKeeper (a cold start of
// dubbo-go on a loaded machine takes seconds).
const registerGiveUp = 60 * time.Second

// Options says where and how the provider registers.
type Options struct {
	// ZooKeeper is the registry's "host:port".
	ZooKeeper string
	// App is the application name (default "rpcbridge-test-provider").
	App string
	// Port is the dubbo port (0: a free one).
	Port int
	// Registry is "interface", "application", "all" (default) or "none" (ZooKeeper unused).
	Registry string
	// Payload, when positive, is the largest request body the provider accepts, published as
	// the provider URL's "payload" parameter (as Java Dubbo publishes its protocol's payload);
	// a larger request makes the provider close the connection.
	Payload int
	// MaxMessageLength, when positive, is the largest request packet (header included) the
	// provider accepts without publishing it (dubbo-go's getty max-msg-len; its default is
	// 1,024,000 bytes).
	MaxMessageLength int
	// Protocol is "dubbo" (default), or "tri": Dubbo 3 Triple on Port, GreeterService in non-IDL
	// mode (hessian2 in Triple's wrapper messages) and the protobuf service PbInterface.
	Protocol string
	// PbVersion and PbGroup, with Protocol "tri", register PbInterface with this version and
	// group (empty: none); dubbo-go's Triple server then answers only calls that name them in
	// the tri-service-version and tri-service-group headers.
	PbVersion, PbGroup string
}

// Provider is one running (or stopped) provider process.
type Provider struct {
	t    testing.TB
	bin  string
	opts Options
	log  string
	proc *peerproc.Process // nil while stopped
}

// Start builds the provider if needed, runs it, and waits until it is registered. It stops the
// provider when the test ends. It skips the test when the provider cannot be built, unless
// RPCBRIDGE_REQUIRE_PEERS=1, which makes that a failure.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	if opts.App == "" {
		opts.App = "rpcbridge-test-provider"
	}
	if opts.Registry == "" {
		opts.Registry = "all"
	}
	if opts.Protocol == "" {
		opts.Protocol = "dubbo"
	}
	if opts.Port == 0 {
		opts.Port = peerproc.FreePort(t)
	}
	bin, err := Binary()
	if err != nil {
		if os.Getenv("RPCBRIDGE_REQUIRE_PEERS") == "1" {
			t.Fatalf("dubbo-go provider unavailable: %v", err)
		}
		t.Skipf("dubbo-go provider unavailable (set RPCBRIDGE_REQUIRE_PEERS=1 to fail instead): %v", err)
	}
	p := &Provider{t: t, bin: bin, opts: opts, log: filepath.Join(t.TempDir(), "provider.log")}
	t.Cleanup(p.Kill)
	p.Restart()
	return p
}

// Binary returns the provider binary: $RPCBRIDGE_DUBBO_PROVIDER_BIN, or what
// scripts/dubbo-provider.sh builds (once; it is cached).
func Binary() (string, error) {
	if bin := os.Getenv("RPCBRIDGE_DUBBO_PROVIDER_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("RPCBRIDGE_DUBBO_PROVIDER_BIN: %w", err)
		}
		return bin, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the repository")
	}
	script := filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "dubbo-provider.sh")
	var stderr bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w\n%s", script, err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// Addr is the provider's dubbo "127.0.0.1:port".
func (p *Provider) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.opts.Port)) }

// Port is the provider's dubbo port.
func (p *Provider) Port() int { return p.opts.Port }

// App is the provider's application name.
func (p *Provider) App() string { return p.opts.App }

// Stop shuts the provider down gracefully (SIGTERM: it unregisters from ZooKeeper and closes its
// session) and waits for it to exit; it kills it if that takes too long.
func (p *Provider) Stop() {
	if p.proc == nil {
		return
	}
	p.proc.Terminate(20 * time.Second)
	p.proc = nil
}

// Kill kills the provider as a crash would: its connections drop, but its ephemeral ZooKeeper
// nodes stay until its session expires. Killing a stopped provider does nothing.
func (p *Provider) Kill() {
	if p.proc == nil {
		return
	}
	p.proc.Kill()
	p.proc = nil
}

// Freeze stops the provider process in place (SIGSTOP), as a stalled host would: its
// connections stay open, the kernel still accepts new ones and acknowledges requests, but no
// request is answered until Thaw. Its ZooKeeper session expires if the freeze outlasts it. Freeze
// and Thaw may be called from any goroutine.
func (p *Provider) Freeze() error {
	if p.proc == nil {
		return errors.New("freeze: the provider is not running")
	}
	return p.proc.Pause()
}

// Thaw lets a frozen provider run again (SIGCONT).
func (p *Provider) Thaw() error {
	if p.proc == nil {
		return errors.New("thaw: the provider is not running")
	}
	return p.proc.Resume()
}

// Restart stops the provider if it runs, starts it again with the same options (same port) and
// waits until it is registered.
func (p *Provider) Restart() {
	p.t.Helper()
	p.Stop()
	what, ready := "dubbo-go provider (listening)", p.listening
	if p.opts.Registry != "none" {
		conn, _, err := zk.Connect([]string{p.opts.ZooKeeper}, 10*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
		if err != nil {
			p.t.Fatalf("connect to zookeeper: %v", err)
		}
		defer conn.Close()
		what, ready = "dubbo-go provider (registered in zookeeper)", func() bool { return p.registered(conn) }
	}
	args := []string{"-app", p.opts.App, "-port", strconv.Itoa(p.opts.Port), "-registry", p.opts.Registry, "-ip", "127.0.0.1",
		"-payload", strconv.Itoa(p.opts.Payload), "-max-msg-len", strconv.Itoa(p.opts.MaxMessageLength), "-protocol", p.opts.Protocol}
	if p.opts.PbVersion != "" || p.opts.PbGroup != "" {
		args = append(args, "-pb-version", p.opts.PbVersion, "-pb-group", p.opts.PbGroup)
	}
	if p.opts.ZooKeeper != "" {
		args = append(args, "-zookeeper", p.opts.ZooKeeper)
	}
	cmd := exec.Command(p.bin, args...)
	cmd.Dir = filepath.Dir(p.log) // dubbo-go looks for config files in the working directory
	proc, err := peerproc.Start(cmd, p.log, what, registerGiveUp, ready)
	if err != nil {
		p.t.Fatal(err)
	}
	p.proc = proc
}

// listening reports whether the provider accepts connections on its port.
func (p *Provider) listening() bool {
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// registered reports whether the provider's nodes are in ZooKeeper.
func (p *Provider) registered(conn *zk.Conn) bool {
	port := ":" + strconv.Itoa(p.opts.Port)
	if p.opts.Registry != "application" {
		children, _, err := conn.Children("/dubbo/" + Interface + "/providers")
		found := false
		for _, c := range children {
			if strings.Contains(c, "%3A"+strconv.Itoa(p.opts.Port)+"%2F") {
				found = true
			}
		}
		if err != nil || !found {
			return false
		}
	}
	if p.opts.Registry != "interface" {
		ok, _, err := conn.Exists("/services/" + p.opts.App + "/127.0.0.1" + port)
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// LogTail returns the last few kilobytes of the provider's output, for a failing test's log.
func (p *Provider) LogTail() string { return peerproc.LogTail(p.log) }
