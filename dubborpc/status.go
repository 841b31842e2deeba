package dubborpc

import "fmt"

// Status is the status byte of a Dubbo response.
type Status byte

// The statuses Dubbo defines.
const (
	StatusOK                        Status = 20
	StatusClientTimeout             Status = 30
	StatusServerTimeout             Status = 31
	StatusChannelInactive           Status = 35
	StatusBadRequest                Status = 40
	StatusBadResponse               Status = 50
	StatusServiceNotFound           Status = 60
	StatusServiceError              Status = 70
	StatusServerError               Status = 80
	StatusClientError               Status = 90
	StatusServerThreadpoolExhausted Status = 100
)

var statusNames = map[Status]string{
	StatusOK:                        "OK",
	StatusClientTimeout:             "CLIENT_TIMEOUT",
	StatusServerTimeout:             "SERVER_TIMEOUT",
	StatusChannelInactive:           "CHANNEL_INACTIVE",
	StatusBadRequest:                "BAD_REQUEST",
	StatusBadResponse:               "BAD_RESPONSE",
	StatusServiceNotFound:           "SERVICE_NOT_FOUND",
	StatusServiceError:              "SERVICE_ERROR",
	StatusServerError:               "SERVER_ERROR",
	StatusClientError:               "CLIENT_ERROR",
	StatusServerThreadpoolExhausted: "SERVER_THREADPOOL_EXHAUSTED_ERROR",
}

// String is Dubbo's name for the status.
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("STATUS_%d", byte(s))
}

// StatusError is a response whose status is not OK: the provider did not run the method (or
// could not answer), and says why in Message.
type StatusError struct {
	Status  Status
	Message string
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Message == "" {
		return "dubbo: " + e.Status.String()
	}
	return "dubbo: " + e.Status.String() + ": " + e.Message
}

// Is makes errors.Is(err, &StatusError{Status: s}) match any StatusError with status s.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	return ok && t.Status == e.Status && (t.Message == "" || t.Message == e.Message)
}

// RemoteError is an exception the provider's method threw (a Java Throwable, or what a dubbo-go
// provider sends for a Go error).
type RemoteError struct {
	// Class is the exception's Java class name, such as "java.lang.IllegalArgumentException".
	Class string
	// Message is the exception's detailMessage.
	Message string
	// Attachments are the response attachments that came with the exception.
	Attachments map[string]string
}

// Error implements error.
func (e *RemoteError) Error() string {
	if e.Message == "" {
		return "dubbo: remote exception " + e.Class
	}
	return "dubbo: remote exception " + e.Class + ": " + e.Message
}
