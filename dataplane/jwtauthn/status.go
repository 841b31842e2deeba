package jwtauthn

// Status is the outcome of verifying a request's tokens, with the texts of Envoy's
// source/common/jwt/status.cc (getStatusString), which jwt_authn answers as the body of a
// refused request.
type Status int

// The statuses the gateway can reach, as Envoy names them.
const (
	Ok Status = iota
	JwtMissed
	JwtNotYetValid
	JwtExpired
	JwtBadFormat
	JwtHeaderParseErrorBadBase64
	JwtHeaderParseErrorBadJSON
	JwtHeaderBadAlg
	JwtHeaderNotImplementedAlg
	JwtHeaderBadKid
	JwtPayloadParseErrorBadBase64
	JwtPayloadParseErrorBadJSON
	JwtPayloadParseErrorIssNotString
	JwtPayloadParseErrorSubNotString
	JwtPayloadParseErrorIatNotInteger
	JwtPayloadParseErrorIatOutOfRange
	JwtPayloadParseErrorNbfNotInteger
	JwtPayloadParseErrorNbfOutOfRange
	JwtPayloadParseErrorExpNotInteger
	JwtPayloadParseErrorExpOutOfRange
	JwtPayloadParseErrorJtiNotString
	JwtPayloadParseErrorAudNotString
	JwtSignatureParseErrorBadBase64
	JwtEd25519SignatureWrongLength
	JwtUnknownIssuer
	JwtAudienceNotAllowed
	JwtVerificationFail
	JwksNoValidKeys
	JwksKidAlgMismatch
)

var statusText = map[Status]string{
	Ok:                                "OK",
	JwtMissed:                         "Jwt is missing",
	JwtNotYetValid:                    "Jwt not yet valid",
	JwtExpired:                        "Jwt is expired",
	JwtBadFormat:                      "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
	JwtHeaderParseErrorBadBase64:      "Jwt header is an invalid Base64url encoded",
	JwtHeaderParseErrorBadJSON:        "Jwt header is an invalid JSON",
	JwtHeaderBadAlg:                   "Jwt header [alg] field is required and must be a string",
	JwtHeaderNotImplementedAlg:        "Jwt header [alg] is not supported",
	JwtHeaderBadKid:                   "Jwt header [kid] field is not a string",
	JwtPayloadParseErrorBadBase64:     "Jwt payload is an invalid Base64url encoded",
	JwtPayloadParseErrorBadJSON:       "Jwt payload is an invalid JSON",
	JwtPayloadParseErrorIssNotString:  "Jwt payload [iss] field is not a string",
	JwtPayloadParseErrorSubNotString:  "Jwt payload [sub] field is not a string",
	JwtPayloadParseErrorIatNotInteger: "Jwt payload [iat] field is not an integer",
	JwtPayloadParseErrorIatOutOfRange: "Jwt payload [iat] field is not a positive 64 bit integer",
	JwtPayloadParseErrorNbfNotInteger: "Jwt payload [nbf] field is not an integer",
	JwtPayloadParseErrorNbfOutOfRange: "Jwt payload [nbf] field is not a positive 64 bit integer",
	JwtPayloadParseErrorExpNotInteger: "Jwt payload [exp] field is not an integer",
	JwtPayloadParseErrorExpOutOfRange: "Jwt payload [exp] field is not a positive 64 bit integer",
	JwtPayloadParseErrorJtiNotString:  "Jwt payload [jti] field is not a string",
	JwtPayloadParseErrorAudNotString:  "Jwt payload [aud] field is not a string or string list",
	JwtSignatureParseErrorBadBase64:   "Jwt signature is an invalid Base64url encoded",
	JwtEd25519SignatureWrongLength:    "Jwt ED25519 signature is wrong length",
	JwtUnknownIssuer:                  "Jwt issuer is not configured",
	JwtAudienceNotAllowed:             "Audiences in Jwt are not allowed",
	JwtVerificationFail:               "Jwt verification fails",
	JwksNoValidKeys:                   "Jwks doesn't have any valid public key",
	JwksKidAlgMismatch:                "Jwks doesn't have key to match kid or alg from Jwt",
}

// String is Envoy's text for the status.
func (s Status) String() string { return statusText[s] }
