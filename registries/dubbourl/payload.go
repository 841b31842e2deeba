package dubbourl

import (
	"fmt"
	"strconv"
	"strings"
)

// What a provider's parameters say about the largest request it takes. A Dubbo provider that
// receives a larger request packet does not answer it: it closes the connection, and every
// other call in flight on it fails, so a client must know the limit before it sends.

// PayloadParam is the provider URL parameter of the request body limit in bytes (Dubbo's
// "payload": ProtocolConfig.payload, published with the protocol's other settings).
const PayloadParam = "payload"

// DefaultPayload is the limit of a Java provider whose URL has no payload parameter: Dubbo's
// DEFAULT_PAYLOAD (org.apache.dubbo.remoting.Constants, 8 MiB), which ExchangeCodec.checkPayload
// compares with a packet's body length, the 16-byte header excluded.
const DefaultPayload = 8 << 20

// DubboGoPayload is the limit of a dubbo-go provider whose URL has no payload parameter.
// dubbo-go publishes none: its getty session closes the connection on a packet, header
// included, longer than max-msg-len, by default 1,024,000 bytes (dubbo-go v3
// remoting/getty/config.go DefaultMaxMsgLen, dubbo-getty session.go).
const DubboGoPayload = 1024000 - 16

// dubboGoRelease prefixes the release parameter of dubbo-go providers ("dubbo-golang-3.3.2").
const dubboGoRelease = "dubbo-golang-"

// Payload is the request body limit of a provider with these parameters (or of a service with
// this metadata): its payload parameter, else DubboGoPayload for a dubbo-go provider (release
// "dubbo-golang-…"), else DefaultPayload. A payload parameter that is not a positive number is
// reported and not used (Dubbo reads it with URL.getPositiveParameter).
func Payload(params map[string]string) (int, error) {
	fallback := DefaultPayload
	if strings.HasPrefix(params["release"], dubboGoRelease) {
		fallback = DubboGoPayload
	}
	raw, ok := params[PayloadParam]
	if !ok || raw == "" {
		return fallback, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 32)
	if err != nil || n <= 0 {
		return fallback, fmt.Errorf("provider %s %q is not a positive number of bytes; %d applies", PayloadParam, raw, fallback)
	}
	return int(n), nil
}

// sharedPayload sets metadata's payload parameter to the smallest limit among the providers
// when the metadata would otherwise say another one (providers that differ in their payload
// parameters or their implementations), so that whichever provider gets a request accepts it.
func sharedPayload(providers []URL, metadata map[string]string) map[string]string {
	if len(providers) == 0 {
		return metadata
	}
	smallest := 0
	for i, u := range providers {
		if n, _ := Payload(u.Params); i == 0 || n < smallest {
			smallest = n
		}
	}
	if said, _ := Payload(metadata); said == smallest {
		return metadata
	}
	if metadata == nil {
		metadata = map[string]string{}
	}
	metadata[PayloadParam] = strconv.Itoa(smallest)
	return metadata
}

// What a Triple provider's parameters say about the largest request message it takes (the
// protobuf message after gRPC's 5-byte prefix; a larger one is refused with RESOURCE_EXHAUSTED
// or resets the stream).

// TripleRecvSizeParam is the URL parameter in which dubbo-go publishes its Triple server's
// receive limit ("max-server-recv-msg-size=4mib", read with go-humanize's ParseBytes;
// protocol/triple/server.go getHanOpts).
const TripleRecvSizeParam = "max-server-recv-msg-size"

// DubboGoTriplePayload is the limit of a dubbo-go Triple provider that publishes neither
// parameter: dubbo-go's constant.DefaultMaxServerRecvMsgSize, 4 MiB.
const DubboGoTriplePayload = 4 << 20

// TriplePayload is the request limit of a Triple provider with these parameters: its payload
// parameter (as for Dubbo), else, for a dubbo-go provider, its max-server-recv-msg-size or
// DubboGoTriplePayload, else DefaultPayload (Java Dubbo's Triple limit is its payload, 8 MiB by
// default). A parameter that does not parse is reported and not used.
func TriplePayload(params map[string]string) (int, error) {
	if raw, ok := params[PayloadParam]; ok && raw != "" {
		return Payload(params)
	}
	if !strings.HasPrefix(params["release"], dubboGoRelease) {
		return DefaultPayload, nil
	}
	raw := params[TripleRecvSizeParam]
	if raw == "" {
		return DubboGoTriplePayload, nil
	}
	n, err := parseBytes(raw)
	if err != nil || n == 0 {
		// dubbo-go itself falls back to its default on a value that does not parse or is 0.
		return DubboGoTriplePayload, fmt.Errorf("provider %s %q is not a size in bytes; %d applies", TripleRecvSizeParam, raw, DubboGoTriplePayload)
	}
	return n, nil
}

// byteUnits are the units go-humanize's ParseBytes accepts, by lower-case name.
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
}

// parseBytes reads a size as go-humanize's ParseBytes does for the units a limit takes: a
// number, optional spaces, an optional SI or IEC unit ("4mib", "4 MB", "1024").
func parseBytes(s string) (int, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == ',') {
		i++
	}
	num, err := strconv.ParseFloat(strings.ReplaceAll(s[:i], ",", ""), 64)
	if err != nil {
		return 0, err
	}
	unit, ok := byteUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, fmt.Errorf("unknown unit in %q", s)
	}
	n := num * unit
	if n < 0 || n > 1<<31-1 {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	return int(n), nil
}
