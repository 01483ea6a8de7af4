package api

import (
	"context"
	"sync"
	"time"

	"github.com/frostguard/functions/shared/sweep"
)

// healthCacheFor bounds how often GET /healthz (public) reads the database.
const healthCacheFor = 10 * time.Second

// SweeperCheck is the api's GET /healthz check of the alert sweeper (see
// sweep.Problems): whether the last successful sweep is recent and no
// notification waits past its due time. An unreachable database is a
// problem too. The answer is cached for healthCacheFor per instance: the
// route is public.
func (s *Server) SweeperCheck() func(ctx context.Context) []string {
	var mu sync.Mutex
	var at time.Time
	var last []string
	return func(ctx context.Context) []string {
		mu.Lock()
		defer mu.Unlock()
		now := s.Now()
		if !at.IsZero() && now.Sub(at) < healthCacheFor && now.After(at) {
			return last
		}
		h, err := s.DB.SweeperHealth(ctx, now)
		if err != nil {
			last = []string{"the database is unreachable: the sweeper's state is unknown"}
		} else {
			last = sweep.Problems(h, now)
		}
		at = now
		return last
	}
}
