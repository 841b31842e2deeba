package consulwatch

import "testing"

func TestNextIndex(t *testing.T) {
	for _, tc := range []struct{ used, got, want uint64 }{
		{0, 5, 5}, // first answer
		{5, 9, 9}, // moved on
		{9, 9, 9}, // wait expired without a change
		{9, 3, 0}, // went backwards (a restarted agent): start over
		{0, 0, 1}, // a zero index would make the next query return at once
		{4, 0, 0}, // backwards to zero: start over
	} {
		if got := nextIndex(tc.used, tc.got); got != tc.want {
			t.Errorf("nextIndex(%d, %d) = %d, want %d", tc.used, tc.got, got, tc.want)
		}
	}
}
