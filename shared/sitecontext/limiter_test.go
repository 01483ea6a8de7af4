package sitecontext_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frostguard/functions/shared/sitecontext"
	"github.com/frostguard/functions/shared/testenv"
)

// redisTickets is the SET NX PX ticket on a plain go-redis client: what
// the shared cache adapter provides in production.
type redisTickets struct{ rdb *redis.Client }

func (r redisTickets) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	return r.rdb.SetNX(ctx, key, value, ttl).Result()
}

type brokenTickets struct{}

func (brokenTickets) SetNX(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, errors.New("connection refused")
}

// grants runs one Wait per limiter concurrently, n rounds each, and
// returns when each was granted, sorted.
func grants(t *testing.T, n int, limiters []*sitecontext.Limiter, tickets sitecontext.Tickets) []time.Time {
	var mu sync.Mutex
	var out []time.Time
	var wg sync.WaitGroup
	for _, l := range limiters {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := l.Wait(context.Background(), tickets); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				out = append(out, time.Now())
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

func checkSpacing(t *testing.T, at []time.Time, min time.Duration) {
	t.Helper()
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < min {
			t.Errorf("grants %d and %d were %s apart, want at least %s", i-1, i, gap, min)
		}
	}
}

// TestLimiterAcrossInstances: two limiters (two instances of the function)
// sharing one Redis ticket never grant closer than the interval.
func TestLimiterAcrossInstances(t *testing.T) {
	opts, err := redis.ParseURL(testenv.Require(t, "REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	key := fmt.Sprintf("test:sitecontext:ticket:%d", rand.Int64())
	const interval = 300 * time.Millisecond
	a, b := sitecontext.NewLimiter(key, interval), sitecontext.NewLimiter(key, interval)
	at := grants(t, 3, []*sitecontext.Limiter{a, b}, redisTickets{rdb})
	if len(at) != 6 {
		t.Fatalf("%d grants", len(at))
	}
	// The ticket poll (a tenth of the interval) and Redis round trips
	// only ever add to the gap; a few ms of slack covers timer rounding.
	checkSpacing(t, at, interval-5*time.Millisecond)
}

// TestLimiterRedisDown: a failing ticket store leaves the in-process
// spacing in force and never blocks.
func TestLimiterRedisDown(t *testing.T) {
	const interval = 200 * time.Millisecond
	l := sitecontext.NewLimiter("unused", interval)
	start := time.Now()
	at := grants(t, 4, []*sitecontext.Limiter{l}, brokenTickets{})
	checkSpacing(t, at, interval-5*time.Millisecond)
	if d := time.Since(start); d > 4*interval {
		t.Errorf("4 grants took %s", d)
	}
}

// TestLimiterGivesUpWithTheContext: a caller whose context ends stops
// queueing.
func TestLimiterGivesUpWithTheContext(t *testing.T) {
	l := sitecontext.NewLimiter("unused", time.Hour)
	if err := l.Wait(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the deadline", err)
	}
}
