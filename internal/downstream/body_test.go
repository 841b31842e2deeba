package downstream

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// hideLength makes a body of unknown length (sent chunked).
type hideLength struct{ io.Reader }

func TestBodyLimitAndBudget(t *testing.T) {
	budget := NewBudget(100)
	read := func(r *http.Request) (*Body, error) {
		b := LimitBody(r, 60, budget)
		_, err := io.ReadAll(r.Body)
		return b, err
	}

	declared := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 61)))
	if b, err := read(declared); !errors.Is(err, ErrBodyTooLarge) || b.Err() != ErrBodyTooLarge || budget.InUse() != 0 {
		t.Errorf("declared 61 bytes over a limit of 60: %v, %d bytes reserved; want ErrBodyTooLarge before any reservation", err, budget.InUse())
	}
	chunked := httptest.NewRequest("POST", "/", hideLength{strings.NewReader(strings.Repeat("x", 1000))})
	chunked.ContentLength = -1
	if b, err := read(chunked); !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("1000 bytes of unknown length: %v", err)
	} else {
		b.Release()
	}
	exact := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 60)))
	held, err := read(exact)
	if err != nil || budget.InUse() != 60 {
		t.Fatalf("exactly the limit: %v, %d reserved", err, budget.InUse())
	}
	second := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 50)))
	if _, err := read(second); !errors.Is(err, ErrOverloaded) || budget.InUse() != 60 {
		t.Errorf("50 more bytes with 40 left in the budget: %v, %d reserved", err, budget.InUse())
	}
	rec := httptest.NewRecorder()
	if !secondBody(t, budget).Reject(rec, func(w http.ResponseWriter, code int, status, _ string) {
		w.WriteHeader(code)
		_, _ = io.WriteString(w, status)
	}) || rec.Code != http.StatusServiceUnavailable || rec.Body.String() != StatusOverloaded {
		t.Errorf("Reject of an overloaded body answered %d %s", rec.Code, rec.Body)
	}
	held.Release()
	if budget.InUse() != 0 {
		t.Errorf("after Release %d bytes stay reserved", budget.InUse())
	}
	if _, err := read(httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 50)))); err != nil {
		t.Errorf("after Release: %v", err)
	}
}

// secondBody is a body refused by a full budget.
func secondBody(t *testing.T, budget *Budget) *Body {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 50)))
	b := LimitBody(r, 0, budget)
	if _, err := io.ReadAll(r.Body); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("want ErrOverloaded, got %v", err)
	}
	return b
}
