package sitecontext

import (
	"context"
	"time"
)

// Limiter spaces requests to a provider at least Interval apart: inside
// the process by letting one caller at a time through a gate and making it
// wait until Interval after the previous one, and across instances by a
// Redis ticket (a key set NX with a TTL of Interval: whoever sets it may
// send, the others wait for it to expire).
type Limiter struct {
	key      string
	interval time.Duration
	gate     chan struct{}
	last     time.Time // guarded by gate
}

// NewLimiter returns a limiter whose Redis ticket is key.
func NewLimiter(key string, interval time.Duration) *Limiter {
	return &Limiter{key: key, interval: interval, gate: make(chan struct{}, 1)}
}

// ticketPoll is how often a caller retries a ticket another instance holds:
// a tenth of the interval wastes at most that much of the provider's rate.
const ticketPoll = 10

// Wait blocks until the caller may send one request, or ctx ends. tickets
// may be nil (no Redis): the in-process spacing alone then applies.
func (l *Limiter) Wait(ctx context.Context, tickets Tickets) error {
	select {
	case l.gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.gate }()
	if err := sleep(ctx, time.Until(l.last.Add(l.interval))); err != nil {
		return err
	}
	for tickets != nil {
		ok, err := tickets.SetNX(ctx, l.key, []byte("1"), l.interval)
		if err != nil || ok {
			// A Redis failure must not stop geocoding: the in-process
			// spacing above still holds for this instance.
			break
		}
		if err := sleep(ctx, l.interval/ticketPoll); err != nil {
			return err
		}
	}
	l.last = time.Now()
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
