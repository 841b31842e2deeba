package diag

// Code is the stable name of a kind of diagnostic: "<area>.<what>", lower case with dashes.
// docs/troubleshooting.md has a section for every code (a test checks it), saying what it means
// and what to do; this file is the one list of codes.
type Code string

// Registry codes: what a registry adapter found (stage "registry/<name>").
const (
	// RegistryUnreachable: the registry could not be reached or listed; its last known services
	// are kept (stale), or it has none yet (pending).
	RegistryUnreachable Code = "registry.unreachable"
	// RegistryStopped: the adapter stopped and will not retry (its configuration cannot work).
	RegistryStopped Code = "registry.stopped"
	// RegistryReadFailed: one registry node could not be read; what was known of it is kept.
	RegistryReadFailed Code = "registry.read-failed"
	// RegistryEntrySkipped: a provider, instance or service entry is malformed and was skipped.
	RegistryEntrySkipped Code = "registry.entry-skipped"
	// RegistryProtocolUnknown: an entry names a protocol rpcbridge does not serve; the entry
	// (or, for Consul metadata, that protocol source) was passed over.
	RegistryProtocolUnknown Code = "registry.protocol-unknown"
	// RegistryProtocolMismatch: an instance speaks another protocol than most instances of its
	// service and was skipped.
	RegistryProtocolMismatch Code = "registry.protocol-mismatch"
	// RegistryDuplicateEndpoint: one service lists the same address:port twice; one is kept.
	RegistryDuplicateEndpoint Code = "registry.duplicate-endpoint"
)

// Dubbo application-level discovery codes (Dubbo 3 instances resolved through their
// MetadataService).
const (
	// DubboAppPending: application-level instances are published under a placeholder until
	// their MetadataService says which interfaces they serve.
	DubboAppPending Code = "dubbo.app-pending"
	// DubboMetadataUnavailable: the MetadataService call failed; it is retried.
	DubboMetadataUnavailable Code = "dubbo.metadata-unavailable"
	// DubboNoEndpoint: an instance has no port for the protocol of a service it serves.
	DubboNoEndpoint Code = "dubbo.no-endpoint"
)

// Catalog codes: what merging the registries found (stage "bridge").
const (
	// BridgeProtocolMerged: registries list one service as grpc and as triple; it is served as
	// grpc, which both speak.
	BridgeProtocolMerged Code = "bridge.protocol-merged"
	// BridgeProtocolConflict: registries disagree on a service's protocol; each claim becomes a
	// service of its own.
	BridgeProtocolConflict Code = "bridge.protocol-conflict"
	// BridgeMetadataConflict: registries give one service different metadata values; the first
	// registry by name wins.
	BridgeMetadataConflict Code = "bridge.metadata-conflict"
	// ServiceRetained: no registry lists a provider of the service any more; it keeps its routes,
	// without endpoints (503 no_healthy_upstream), until registries[].serviceRetention ends.
	ServiceRetained Code = "service.retained"
)

// Route building codes (stage "transcoding").
const (
	// RuleInvalid: a rule is invalid on its own (a bad path, method or binding); it is skipped.
	RuleInvalid Code = "rule.invalid"
	// RuleUnknownService: a rule names a service that is not in the catalog, or a name that
	// several services share; it is skipped.
	RuleUnknownService Code = "rule.unknown-service"
	// RuleWrongProtocol: a rule of one kind names a service of another (an HTTP rule on an RPC
	// service, an RPC rule on an HTTP service); it is skipped.
	RuleWrongProtocol Code = "rule.wrong-protocol"
	// RuleUnresolved: an RPC rule does not fit the service's schema (no such method, an
	// ambiguous overload, an argument binding that does not fit); it is skipped.
	RuleUnresolved Code = "rule.unresolved"
	// RuleIgnoredFields: a rule sets fields that do not apply to its service; they are ignored.
	RuleIgnoredFields Code = "rule.ignored-fields"
	// RouteConflict: two routes claim the same requests; neither is served.
	RouteConflict Code = "route.conflict"
	// SchemaMissing: an RPC service has no schema, so it gets no routes (and rules naming it are
	// skipped).
	SchemaMissing Code = "schema.missing"
	// SchemaConflict: two schemas define the same service or type differently; the schema whose
	// name sorts first is used.
	SchemaConflict Code = "schema.conflict"
	// SchemaClassConflict: two services' schemas define a Java class differently; the first is
	// used for both.
	SchemaClassConflict Code = "schema.class-conflict"
	// SchemaInvalidDefinition: a schema's definition of a service cannot be used.
	SchemaInvalidDefinition Code = "schema.invalid-definition"
	// GRPCDescriptorsUnlinked: a protobuf schema's descriptors do not link; the service gets no
	// routes.
	GRPCDescriptorsUnlinked Code = "grpc.descriptors-unlinked"
	// GRPCBindingInvalid: a google.api.http annotation in the IDL is invalid; that binding is
	// skipped.
	GRPCBindingInvalid Code = "grpc.binding-invalid"
	// GRPCClientStreaming: a client-streaming method cannot be transcoded; it gets no route.
	GRPCClientStreaming Code = "grpc.client-streaming"
	// GRPCProxylessNameTaken: two services want the same proxyless gRPC name; the second is not
	// offered to xDS gRPC clients.
	GRPCProxylessNameTaken Code = "grpc.proxyless-name-taken"
	// DubboBadTimeout: a provider's timeout parameter is not a number of milliseconds; it is
	// ignored.
	DubboBadTimeout Code = "dubbo.bad-timeout"
	// DubboBadPayload: a provider's payload parameter is not a number of bytes; Dubbo's default
	// (8 MiB) is assumed.
	DubboBadPayload Code = "dubbo.bad-payload"
	// DubboOverloaded: an overloaded Dubbo method is served once per overload, at
	// <method>~<parameter types>.
	DubboOverloaded Code = "dubbo.overloaded"
	// TripleServedOverDubbo: a service that providers export over both Dubbo and Triple
	// (non-IDL) gets its REST routes over Dubbo only; the Triple twin gets none.
	TripleServedOverDubbo Code = "triple.served-over-dubbo"
	// JavaTypeUnmapped: a Java class that has no JSON mapping (java.util.UUID, Optional, ...) is
	// needed by a method's argument or result, which is then not served (a rule naming it is
	// skipped), or by a DTO field, which is then always null.
	JavaTypeUnmapped Code = "java.type-unmapped"
	// UpstreamPolicyInvalid: the upstreams: overrides that apply to a service give an invalid
	// policy once combined; the service keeps the defaults.
	UpstreamPolicyInvalid Code = "upstream.policy-invalid"
	// PolicyInvalid: an edge policy (policies:) is invalid or defined twice; the routes that use
	// it are withheld.
	PolicyInvalid Code = "policy.invalid"
	// PolicyUnknown: a route rule references a policy that is not defined (or is invalid); the
	// route is withheld rather than served without it.
	PolicyUnknown Code = "policy.unknown"
	// PolicyUnknownService: a policy's services: names a service that is not in the catalog; the
	// policy attaches to the others.
	PolicyUnknownService Code = "policy.unknown-service"
	// PolicyKeysUnavailable: a JWT provider of a policy has no good key set (its JWKS file or URL
	// was never read successfully), or the API key set a policy reads from the store
	// (keys: {store: NAME}) is not there or holds no good set; the routes that use the policy
	// are withheld.
	PolicyKeysUnavailable Code = "policy.keys-unavailable"
	// PolicyKeysStale: the latest read or fetch of a JWT provider's key set failed or gave a bad
	// key set; the last good keys are kept.
	PolicyKeysStale Code = "policy.keys-stale"
	// PolicyCanaryInactive: a canary's subset matches no endpoint of a service it applies to
	// (or every one), so its weight split is inactive: the route's requests stay on the whole
	// service, and those its header or cookie selects are answered 503 while the subset is
	// empty.
	PolicyCanaryInactive Code = "policy.canary-inactive"
)

// Envoy translation codes (stage "controlplane").
const (
	// EnvoyGatewayOnly: a route is left out of the Envoy configuration of the configured flavor
	// and served by the embedded gateway only.
	EnvoyGatewayOnly Code = "envoy.gateway-only"
	// EnvoyFilesGatewayOnly: a Dubbo route that takes or returns a file (byte[]) is served as a
	// file by the embedded gateway only; Higress's transcoder reads and answers JSON (base64).
	EnvoyFilesGatewayOnly Code = "envoy.files-gateway-only"
	// EnvoyPolicyWithheld: a route's edge policy cannot be translated into Envoy filter
	// configuration; the route answers 503 instead of being served without it.
	EnvoyPolicyWithheld Code = "envoy.policy-withheld"
	// EnvoyToolOmitted: a route of a service exposed as MCP tools cannot be described as a
	// tool; the route is served as REST, without a tool.
	EnvoyToolOmitted Code = "envoy.tool-omitted"
)

// Store codes: what the shared store (kvstore) found in its space.
const (
	// StoreEntryUnreadable: a store entry cannot be read (a chunk missing or failing its
	// checksum, a head that does not decode); its last good value is kept.
	StoreEntryUnreadable Code = "store.entry-unreadable"
	// StoreStray: data in the store's space that is not an entry of rpcbridge's (another
	// program's node, file or key); it is ignored.
	StoreStray Code = "store.stray"
	// StoreUnreachable: the shared store cannot be reached; the last good state keeps serving
	// and writes (IDL uploads, rules) answer 503 until it is back.
	StoreUnreachable Code = "store.unreachable"
)
