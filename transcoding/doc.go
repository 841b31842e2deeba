// Package transcoding decides which HTTP request reaches which RPC target and how: Build turns
// the catalog, the IDL schemas and the user's rules into the gateway IR plus diagnostics. It is a
// pure function; runners call it whenever an input changes.
//
// # Schemas
//
// A gRPC or Triple service is looked up by its fully qualified name (the catalog Name, else its
// Interface) among the protobuf services of all schemas; a Dubbo service by its Interface among
// the Java interfaces. When several schemas define a service differently, the schema whose name
// sorts first is used and a warning names both. A service without a schema gets no REST routes
// and an info diagnostic (a gRPC service keeps its proxyless gRPC entry).
//
// # gRPC and Triple
//
// Every google.api.http binding of a method (additional_bindings included) is one route: the
// template becomes Match.PathTemplate (Match.Path when it has no variable or wildcard), the verb
// Match.Methods. A method without an annotation is served at POST /<package>.<Service>/<Method>
// with the whole request message as JSON body. Bindings whose template is malformed, whose
// variables do not name a singular scalar request field (well-known wrappers, Timestamp,
// Duration and FieldMask count as scalars), or whose body or response_body field is missing
// are skipped with an error. Client-streaming methods are skipped with an info diagnostic.
// Each service with routes gets its file and its transitive imports as one descriptor set.
//
// # Dubbo: the default REST convention
//
// Every method of a Dubbo service is served at
//
//	POST /dubbo/[<group>/]<interface>[:<version>]/<method>
//
// The path segment after /dubbo/ is Dubbo's own service key (group/interface:version) with the
// group and the version left out when empty, so several versions and groups of one interface
// never share a path: /dubbo/com.foo.Users/find, /dubbo/com.foo.Users:1.0.0/find,
// /dubbo/beta/com.foo.Users:2.0.0/find. Group and version are path-escaped.
//
// The body is a JSON object with one member per argument, named as in the IDL ({"id": 7,
// "name": "x"}); when the IDL carries no names (the metadata-center form), the arguments are
// "arg0", "arg1", ... in order, as Java names them without -parameters. When every argument is
// simple (an enum or a scalar javatype family: a primitive or its wrapper, String, BigDecimal,
// BigInteger, java.util.Date and the java.sql dates, a java.time value), the method is also
// served by GET on the same path with one query parameter per argument
// (GET /dubbo/com.foo.Users/find?id=7). A method whose argument or result needs a JDK class
// without a JSON mapping (javatype.Unsupported, such as java.util.UUID) is not served at all,
// with a warning; a DTO field of such a type gets a warning and is always null.
//
// An overloaded method has no route under its bare name; each overload is served at
//
//	/dubbo/.../<method>~<type>,<type>,...
//
// where each type is the erasure Dubbo's generic call uses ("long", "java.lang.String",
// "com.foo.Outer$Inner") with every "[]" written "-array" so that the path needs no escaping:
// find~long, find~java.lang.String, save~com.foo.User,java.lang.String-array, and find~ for
// the overload without parameters. An info diagnostic lists each overloaded method.
//
// The Dubbo call timeout is the provider's "<method>.timeout" URL parameter, else its "timeout"
// parameter (milliseconds, as Dubbo's URL.getMethodParameter reads them), unless a rule sets
// one.
//
// A route's PayloadLimit is the largest request body the service's providers accept
// (dubbourl.Payload: the payload parameter, the smallest among the providers; dubbo-go's packet
// limit for dubbo-go providers, which publish none), so that gateways answer 413 rather than
// send what a provider would close the connection on; it is left 0 for Dubbo's default.
//
// # Rules
//
// An RPCRule routes one method (one overload, chosen by paramTypes) under an HTTP method and a
// path template, replacing that method's default routes; a rule that is skipped replaces
// nothing. Arguments come from path variables, query parameters, headers, body fields or the
// whole body (see ArgRule); unlisted arguments default to the path variable of their name, else
// the query (GET, HEAD, DELETE) or the body. Every path variable must bind an argument.
//
// The rule types are the format users write (the configuration file embeds them). Each has a
// Validate method for what shows without a catalog (a missing service or method, an HTTP method
// that is not upper-case, a path template that does not parse, an unknown argument source);
// config.Parse rejects a file with such a rule, and Build skips one it is given, with an error
// diagnostic per problem.
//
// # Upstream policies
//
// Every cluster gets the policy of its protocol family (upstreampolicy.go): gRPC, Triple and
// Dubbo clusters DefaultRPCPolicy (least request over a full scan, outlier detection on
// consecutive gateway failures, circuit breakers with a cap of calls in flight per endpoint),
// HTTP clusters DefaultHTTPPolicy; every route gets its cluster's retry policy, which retries only
// requests that never reached an endpoint. Rules.Upstreams (the upstreams: config block) change
// them per family and per service (upstreamrules.go); a result that does not validate keeps the defaults and is an
// error diagnostic. docs/operations.md lists each default and why.
//
// # Order and conflicts
//
// Routes are ordered exact paths first, then templates (segment by segment literal before "*"
// before "**", longer before shorter, a verb before none), then longer prefixes before shorter
// ones. Two routes that claim the same requests (the same path, prefix, or template once
// variables are replaced by their patterns, with a common HTTP method) are both dropped with one
// error naming both.
package transcoding
