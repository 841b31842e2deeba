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
