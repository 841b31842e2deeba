package jwtauthn

// Parsing a token as Envoy's source/common/jwt/jwt.cc (Jwt::parseFromString) does, with its
// checks in its order, and its time constraints (verifyTimeConstraint).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
)

// implementedAlgs are the algorithms Envoy verifies (jwt.cc isImplemented).
var implementedAlgs = map[string]bool{
	"ES256": true, "ES384": true, "ES512": true, "HS256": true, "HS384": true, "HS512": true,
	"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true, "EdDSA": true,
}

// token is a parsed JWT.
type token struct {
	alg, kid              string
	iss, sub              string
	nbf, exp              uint64
	audiences             []string
	payload               map[string]any
	headerB64, payloadB64 string
	signature             []byte
}

// decodeB64URL decodes base64url with or without padding, as absl::WebSafeBase64Unescape does.
func decodeB64URL(s string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return b, err == nil
}

// jsonObject decodes a JSON object, numbers kept exact.
func jsonObject(b []byte) (map[string]any, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil || d.More() {
		return nil, false
	}
	return m, true
}

// parseToken parses s; a status other than Ok says why it is not a JWT.
func parseToken(s string) (*token, Status) {
	var parts []string
	for _, p := range strings.Split(s, ".") {
		if p != "" { // absl::SkipEmpty
			parts = append(parts, p)
		}
	}
	if len(parts) != 3 {
		return nil, JwtBadFormat
	}
	t := &token{headerB64: parts[0], payloadB64: parts[1]}
	hb, ok := decodeB64URL(parts[0])
	if !ok {
		return nil, JwtHeaderParseErrorBadBase64
	}
	header, ok := jsonObject(hb)
	if !ok {
		return nil, JwtHeaderParseErrorBadJSON
	}
	alg, isString := header["alg"].(string)
	if !isString {
		return nil, JwtHeaderBadAlg
	}
	if t.alg = alg; !implementedAlgs[alg] {
		return nil, JwtHeaderNotImplementedAlg
	}
	if v, present := header["kid"]; present {
		if t.kid, isString = v.(string); !isString {
			return nil, JwtHeaderBadKid
		}
	}
	pb, ok := decodeB64URL(parts[1])
	if !ok {
		return nil, JwtPayloadParseErrorBadBase64
	}
	if t.payload, ok = jsonObject(pb); !ok {
		return nil, JwtPayloadParseErrorBadJSON
	}
	for _, f := range []struct {
		name string
		dst  *string
		bad  Status
	}{{"iss", &t.iss, JwtPayloadParseErrorIssNotString}, {"sub", &t.sub, JwtPayloadParseErrorSubNotString}} {
		if v, present := t.payload[f.name]; present {
			if *f.dst, isString = v.(string); !isString {
				return nil, f.bad
			}
		}
	}
	var iat uint64
	for _, f := range []struct {
		name          string
		dst           *uint64
		bad, outRange Status
	}{
		{"iat", &iat, JwtPayloadParseErrorIatNotInteger, JwtPayloadParseErrorIatOutOfRange},
		{"nbf", &t.nbf, JwtPayloadParseErrorNbfNotInteger, JwtPayloadParseErrorNbfOutOfRange},
		{"exp", &t.exp, JwtPayloadParseErrorExpNotInteger, JwtPayloadParseErrorExpOutOfRange},
	} {
		if st := uint64Claim(t.payload, f.name, f.dst); st == claimWrongType {
			return nil, f.bad
		} else if st == claimOutOfRange {
			return nil, f.outRange
		}
	}
	if v, present := t.payload["jti"]; present {
		if _, isString = v.(string); !isString {
			return nil, JwtPayloadParseErrorJtiNotString
		}
	}
	switch aud := t.payload["aud"].(type) {
	case nil:
		if _, present := t.payload["aud"]; present {
			return nil, JwtPayloadParseErrorAudNotString
		}
	case string:
		t.audiences = []string{aud}
	case []any:
		for _, a := range aud {
			s, isString := a.(string)
			if !isString {
				return nil, JwtPayloadParseErrorAudNotString
			}
			t.audiences = append(t.audiences, s)
		}
	default:
		return nil, JwtPayloadParseErrorAudNotString
	}
	if t.signature, ok = decodeB64URL(parts[2]); !ok {
		return nil, JwtSignatureParseErrorBadBase64
	}
	return t, Ok
}

// claimStatus is what reading a numeric claim found (Envoy's StructUtils results).
type claimStatus int

const (
	claimOK claimStatus = iota
	claimMissing
	claimWrongType
	claimOutOfRange
)

// uint64Claim reads a non-negative integer claim (StructUtils::GetUInt64: a JSON number, its
// integer part, within 0 and 2^64).
func uint64Claim(m map[string]any, name string, dst *uint64) claimStatus {
	v, present := m[name]
	if !present {
		return claimMissing
	}
	n, isNumber := v.(json.Number)
	if !isNumber {
		return claimWrongType
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f >= math.MaxUint64 {
		return claimOutOfRange
	}
	*dst = uint64(f)
	return claimOK
}

// checkTime is Envoy's Jwt::verifyTimeConstraint: not before nbf - skew, not after exp + skew; a
// token without exp never expires.
func (t *token) checkTime(now, skew uint64) Status {
	if now+skew < t.nbf {
		return JwtNotYetValid
	}
	if t.exp != 0 && now > t.exp+skew {
		return JwtExpired
	}
	return Ok
}
