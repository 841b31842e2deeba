// Command provider is a dubbo-go v3.3.2 provider for rpcbridge's tests: it serves
// org.rpcbridge.test.GreeterService and org.rpcbridge.test.FileService (version 1.0.0) over the dubbo protocol with hessian2 and
// registers it into ZooKeeper at interface level, application level or both, or nowhere
// (-registry none: for a static registry, as in the quickstart); -protocol tri serves it over
// Dubbo 3 Triple instead (triple.go), and -pb-version and -pb-group then register its protobuf
// service with a version and a group. -payload publishes and
// enforces a request size limit, -max-msg-len enforces one without publishing it.
//
// It lives in a Go module of its own so that dubbo-go and its dependencies stay out of
// rpcbridge's module. Build it with scripts/dubbo-provider.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"dubbo.apache.org/dubbo-go/v3"
	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/registry"
	"dubbo.apache.org/dubbo-go/v3/remoting/getty"
	"dubbo.apache.org/dubbo-go/v3/server"
)

func main() {
	zkAddr := flag.String("zookeeper", "127.0.0.1:2181", "ZooKeeper address host:port")
	app := flag.String("app", "rpcbridge-test-provider", "application name")
	port := flag.Int("port", 20880, "dubbo protocol port")
	ip := flag.String("ip", "127.0.0.1", "IP address application-level instances register")
	mode := flag.String("registry", "all", "registration mode: interface, application, all or none")
	payload := flag.Int("payload", 0, "request body limit in bytes: published as the URL parameter payload and enforced (0: dubbo-go's default, unpublished)")
	maxMsgLen := flag.Int("max-msg-len", 0, "getty's max-msg-len (header and body) without publishing it (0: from -payload, else dubbo-go's default 1024000)")
	proto := flag.String("protocol", "dubbo", "dubbo, or tri: Dubbo 3 Triple (GreeterService non-IDL with hessian2, PbGreeter with protobuf; see triple.go)")
	pbVersion := flag.String("pb-version", "", "with -protocol tri: the version PbGreeter is registered with (none by default)")
	pbGroup := flag.String("pb-group", "", "with -protocol tri: the group PbGreeter is registered with (none by default)")
	flag.Parse()
	pb := pbService{version: *pbVersion, group: *pbGroup}
	if err := run(*zkAddr, *app, *ip, *port, *mode, *payload, *maxMsgLen, *proto, pb); err != nil {
		fmt.Fprintln(os.Stderr, "provider:", err)
		os.Exit(1)
	}
}

func run(zkAddr, app, ip string, port int, mode string, payload, maxMsgLen int, proto string, pb pbService) error {
	registerTypes()
	var regMode registry.Option
	switch mode {
	case "none":
	case "interface":
		regMode = registry.WithRegisterInterface()
	case "application":
		regMode = registry.WithRegisterService()
	case "all":
		regMode = registry.WithRegisterServiceAndInterface()
	default:
		return fmt.Errorf("unknown registry mode %q (want interface, application, all or none)", mode)
	}
	// dubbo-go has no payload setting: getty's session max-msg-len bounds a whole packet, the
	// 16-byte header included, and a larger one closes the connection (dubbo-getty session.go).
	// The instance API does not pass protocol params on to getty in v3.3.2 ("protocolConfig not
	// found in URL attributes"), so the server config is set directly.
	if maxMsgLen == 0 && payload > 0 {
		maxMsgLen = payload + 16
	}
	if maxMsgLen > 0 {
		conf := getty.GetServerConfig()
		conf.GettySessionParam.MaxMsgLen = maxMsgLen
		getty.SetServerConfig(conf)
	}
	wire := protocol.WithDubbo()
	switch proto {
	case "dubbo":
	case "tri":
		wire = protocol.WithTriple()
	default:
		return fmt.Errorf("unknown protocol %q (want dubbo or tri)", proto)
	}
	opts := []dubbo.InstanceOption{dubbo.WithName(app), dubbo.WithProtocol(wire, protocol.WithPort(port))}
	if regMode != nil {
		opts = append(opts, dubbo.WithRegistry(registry.WithZookeeper(), registry.WithAddress(zkAddr), regMode))
	}
	// Application-level instances carry DUBBO_IP_TO_REGISTRY. Interface-level URLs always
	// carry the host's first non-loopback IP (dubbo-go v3.3.2 ignores the variable there), and
	// protocol.WithIp cannot help: the MetadataService then listens on the same port without
	// the IP and start-up panics. The provider listens on all interfaces, so both addresses
	// reach it.
	if err := os.Setenv("DUBBO_IP_TO_REGISTRY", ip); err != nil {
		return err
	}
	ins, err := dubbo.NewInstance(opts...)
	if err != nil {
		return fmt.Errorf("dubbo instance: %w", err)
	}
	srv, err := ins.NewServer()
	if err != nil {
		return fmt.Errorf("dubbo server: %w", err)
	}
	serviceOpts := []server.ServiceOption{server.WithInterface(Interface), server.WithVersion("1.0.0"), server.WithSerialization("hessian2")}
	if payload > 0 {
		serviceOpts = append(serviceOpts, server.WithParam("payload", strconv.Itoa(payload)))
	}
	if proto == "tri" {
		if err := registerTriple(srv, serviceOpts, pb); err != nil {
			return err
		}
	} else if err := srv.Register(&Greeter{}, nil, serviceOpts...); err != nil {
		return fmt.Errorf("register %s: %w", Interface, err)
	}
	// The file service (files.go) is served beside the greeter, with the same options.
	fileOpts := append([]server.ServiceOption{server.WithInterface(FileInterface)}, serviceOpts[1:]...)
	if err := srv.Register(&Files{}, nil, fileOpts...); err != nil {
		return fmt.Errorf("register %s: %w", FileInterface, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("provider %s serving %s on %s:%d (registry %s, mode %s)\n", app, proto, ip, port, zkAddr, mode)
	return srv.ServeContext(ctx)
}
