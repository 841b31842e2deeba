package dubborpc

import (
	"encoding/binary"
	"fmt"
)

// HeaderLength is the size of a Dubbo packet header.
const HeaderLength = 16

// The header's fields.
const (
	magicHigh byte = 0xda
	magicLow  byte = 0xbb

	flagRequest byte = 0x80
	flagTwoWay  byte = 0x40
	flagEvent   byte = 0x20

	serializationMask byte = 0x1f
	// serializationHessian2 is Dubbo's id for hessian2, the only serialization this client speaks.
	serializationHessian2 byte = 2
)

// header is a decoded Dubbo packet header.
type header struct {
	request       bool
	twoWay        bool
	event         bool
	serialization byte
	status        Status // responses only
	id            int64
	bodyLength    int
}

// appendHeader appends the 16-byte header of h to b.
func appendHeader(b []byte, h header) []byte {
	flags := h.serialization & serializationMask
	if h.request {
		flags |= flagRequest
	}
	if h.twoWay {
		flags |= flagTwoWay
	}
	if h.event {
		flags |= flagEvent
	}
	b = append(b, magicHigh, magicLow, flags, byte(h.status))
	b = binary.BigEndian.AppendUint64(b, uint64(h.id))
	return binary.BigEndian.AppendUint32(b, uint32(h.bodyLength))
}

// parseHeader decodes a 16-byte header and checks it against maxBody: over it, the header
// comes with an *oversizedError.
func parseHeader(b []byte, maxBody int) (header, error) {
	if len(b) < HeaderLength {
		return header{}, fmt.Errorf("short header: %d bytes", len(b))
	}
	if b[0] != magicHigh || b[1] != magicLow {
		return header{}, fmt.Errorf("bad magic 0x%02x%02x: not a Dubbo stream", b[0], b[1])
	}
	h := header{
		request:       b[2]&flagRequest != 0,
		twoWay:        b[2]&flagTwoWay != 0,
		event:         b[2]&flagEvent != 0,
		serialization: b[2] & serializationMask,
		status:        Status(b[3]),
		id:            int64(binary.BigEndian.Uint64(b[4:12])),
	}
	n := binary.BigEndian.Uint32(b[12:16])
	h.bodyLength = int(n)
	if uint64(n) > uint64(maxBody) {
		return h, &oversizedError{length: int(n), limit: maxBody}
	}
	return h, nil
}

// setBodyLength patches the body length of the header at the start of frame.
func setBodyLength(frame []byte) {
	binary.BigEndian.PutUint32(frame[12:16], uint32(len(frame)-HeaderLength))
}
