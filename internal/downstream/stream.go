package downstream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The causes a Stream cancels its request's context with, and the error its body returns once
// a timeout fired.
var (
	// ErrStreamIdleTimeout: neither the request body nor the response moved for
	// StreamTimeouts.Idle (Envoy's stream_idle_timeout, response code detail
	// stream_idle_timeout, response flag SI).
	ErrStreamIdleTimeout = errors.New("stream idle timeout")
	// ErrRequestTimeout: the request was not received in full within StreamTimeouts.Request
	// (Envoy's request_timeout, response code detail request_overall_timeout).
	ErrRequestTimeout = errors.New("request timeout")
)

// The statuses of the 408 answers, Envoy's response code details for the same cases.
const (
	StatusStreamIdleTimeout = "stream_idle_timeout"
	StatusRequestTimeout    = "request_overall_timeout"
)

// StreamTimeouts are the per-request timeouts of an HTTP connection manager; zero disables one,
// as in Envoy.
type StreamTimeouts struct {
	// Idle bounds the time in which neither a byte of the request body is read nor a byte of
	// the response is written (HCM stream_idle_timeout). It also runs while the handler waits
	// for an upstream.
	Idle time.Duration
	// Request bounds the time until the whole request has been received: armed when the
	// handler starts, disarmed when the body has been read to its end or the response starts
	// (HCM request_timeout).
	Request time.Duration
}

// Answer writes a gateway's error response: its status code, a machine-readable status and a
// message (both APIs answer {"error":{"code","status","message"}}).
type Answer func(w http.ResponseWriter, code int, status, message string)

// Stream applies StreamTimeouts to one request. When a timeout fires before the response
// started, the request's context is cancelled with the cause, the handler's body reads fail,
// whatever the handler writes afterwards is dropped, and Finish answers 408 Request Timeout, as
// Envoy does; when the response had started, Finish resets the stream (panics with
// http.ErrAbortHandler, which makes net/http close the HTTP/1 connection or reset the HTTP/2
// stream), as Envoy resets it.
type Stream struct {
	rw     http.ResponseWriter
	req    *http.Request
	answer Answer
	out    *streamWriter

	idleAfter time.Duration
	idle      *time.Timer
	request   *time.Timer
	cancel    context.CancelCauseFunc

	mu       sync.Mutex // orders the timers' callbacks before Finish
	finished bool
	expired  atomic.Pointer[error]
	started  atomic.Bool
}

// StartStream begins timing a request. Serve the request with s.ResponseWriter() and
// s.Request() and call s.Finish when the handler returns (defer it). With both timeouts zero
// the stream only passes the request through.
func StartStream(w http.ResponseWriter, r *http.Request, t StreamTimeouts, answer Answer) *Stream {
	s := &Stream{rw: w, answer: answer, idleAfter: t.Idle}
	ctx, cancel := context.WithCancelCause(r.Context())
	s.cancel = cancel
	s.req = r.WithContext(ctx)
	s.out = &streamWriter{ResponseWriter: w, s: s}
	if t.Idle > 0 {
		s.idle = time.AfterFunc(t.Idle, func() { s.expire(ErrStreamIdleTimeout) })
	}
	if r.Body != nil && r.Body != http.NoBody {
		s.req.Body = &streamBody{ReadCloser: r.Body, s: s}
		if t.Request > 0 {
			s.request = time.AfterFunc(t.Request, func() { s.expire(ErrRequestTimeout) })
		}
	}
	return s
}

// ResponseWriter is the writer the handler must use.
func (s *Stream) ResponseWriter() http.ResponseWriter { return s.out }

// Request is the request the handler must serve: its context ends with the timeout's cause and
// its body counts as activity.
func (s *Stream) Request() *http.Request { return s.req }

// Expired returns the timeout that fired (ErrStreamIdleTimeout, ErrRequestTimeout), or nil.
func (s *Stream) Expired() error {
	if p := s.expired.Load(); p != nil {
		return *p
	}
	return nil
}

// Finish stops the timers and, when one fired, answers 408 or resets the stream (see Stream).
// Call it once, after the handler returned.
func (s *Stream) Finish() {
	s.mu.Lock()
	s.finished = true
	s.mu.Unlock()
	stop(s.idle)
	stop(s.request)
	s.cancel(nil)
	err := s.Expired()
	if err == nil {
		return
	}
	if s.started.Load() {
		panic(http.ErrAbortHandler)
	}
	status, message := StatusStreamIdleTimeout, "stream timeout: no request or response data for "+s.idleAfter.String()
	if errors.Is(err, ErrRequestTimeout) {
		status, message = StatusRequestTimeout, "request timeout: the request was not received in full in time"
	}
	// A local reply of its own (what the handler set is not part of it); the body may be
	// unread, so the connection cannot carry another request.
	clear(s.rw.Header())
	s.rw.Header().Set("Connection", "close")
	s.answer(s.rw, http.StatusRequestTimeout, status, message)
}

// expire is a timer's callback: it ends the stream with cause unless it is over already.
func (s *Stream) expire(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished || !s.expired.CompareAndSwap(nil, &cause) {
		return
	}
	s.cancel(cause)
	// Wake a handler blocked reading the body, or writing to a client that stopped reading.
	rc := http.NewResponseController(s.rw)
	_ = rc.SetReadDeadline(time.Now())
	if s.started.Load() {
		_ = rc.SetWriteDeadline(time.Now())
	}
}

// active restarts the idle timer: the stream moved.
func (s *Stream) active() {
	if s.idle != nil && s.expired.Load() == nil {
		s.idle.Reset(s.idleAfter)
	}
}

// requestDone disarms the request timer: the request was received, or the response started.
func (s *Stream) requestDone() { stop(s.request) }

func stop(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// streamBody counts body reads as activity and fails them once the stream expired.
type streamBody struct {
	io.ReadCloser
	s *Stream
}

func (b *streamBody) Read(p []byte) (int, error) {
	if err := b.s.Expired(); err != nil {
		return 0, err
	}
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.s.active()
	}
	if errors.Is(err, io.EOF) {
		b.s.requestDone()
	}
	if expired := b.s.Expired(); expired != nil && err != nil && !errors.Is(err, io.EOF) {
		err = expired // the read failed because the timeout woke it
	}
	return n, err
}

// streamWriter counts response writes as activity and drops them once the stream expired.
// Unwrap keeps http.ResponseController working through it.
type streamWriter struct {
	http.ResponseWriter
	s *Stream
}

func (w *streamWriter) WriteHeader(code int) {
	if w.s.Expired() != nil {
		return
	}
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.s.started.Store(true)
		w.s.requestDone()
	}
	w.s.active()
	w.ResponseWriter.WriteHeader(code)
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if err := w.s.Expired(); err != nil {
		return 0, err
	}
	w.s.started.Store(true)
	w.s.requestDone()
	n, err := w.ResponseWriter.Write(p)
	if n > 0 {
		w.s.active()
	}
	return n, err
}

func (w *streamWriter) Flush() { _ = w.FlushError() }

// FlushError flushes through the wrapped writers (http.ResponseController's method).
func (w *streamWriter) FlushError() error {
	if err := w.s.Expired(); err != nil {
		return err
	}
	w.s.active()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Guard is middleware that runs every request of h under t with StartStream, for servers whose
// timeouts do not change (the admin API).
func Guard(h http.Handler, t StreamTimeouts, answer Answer) http.Handler {
	if t.Idle <= 0 && t.Request <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := StartStream(w, r, t, answer)
		defer s.Finish()
		h.ServeHTTP(s.ResponseWriter(), s.Request())
	})
}
