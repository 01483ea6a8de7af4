package cache

import "testing"

// TestOpenNeverRetries pins one timeout per failure: go-redis reads
// MaxRetries 0 as "the default, 3", and a hung Redis then cost every
// request several timeouts before the breaker opened (the faults suite
// measured 658 ms against 303 ms).
func TestOpenNeverRetries(t *testing.T) {
	c, err := Open("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.rdb.Options().MaxRetries; got != 0 {
		t.Errorf("the client retries %d times, want 0", got)
	}
}
