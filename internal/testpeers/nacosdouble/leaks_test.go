package nacosdouble

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// blockedUntil stands for a goroutine our own code forgot to stop.
func blockedUntil(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	<-stop
}

// TestSDKLeaksIsNotABlanketIgnore checks that SDKLeaks leaves every other goroutine to goleak:
// a stray goroutine of ours is still reported with the options TestMain uses.
func TestSDKLeaksIsNotABlanketIgnore(t *testing.T) {
	before := goleak.IgnoreCurrent()
	stop, done := make(chan struct{}), make(chan struct{})
	go blockedUntil(stop, done)
	defer func() { close(stop); <-done }()
	err := goleak.Find(append(SDKLeaks(), before)...)
	if err == nil || !strings.Contains(err.Error(), "nacosdouble.blockedUntil") {
		t.Fatalf("goleak.Find with SDKLeaks = %v, want the stray goroutine reported", err)
	}
}
