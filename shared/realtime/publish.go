package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/store"
)

// Publisher is the one hook every flow calls after its commit. It never
// fails the flow and returns within a bounded time: what it cannot deliver
// is logged and counted, and the SPA's next fetch shows it anyway.
type Publisher interface {
	Publish(ctx context.Context, events ...Event)
}

// Off publishes nothing (a deployment without the WebSocket API, tests of
// other things).
type Off struct{}

// Publish does nothing.
func (Off) Publish(context.Context, ...Event) {}

// Or returns p, or Off when p is nil: callers hold a Publisher field that
// may be unset.
func Or(p Publisher) Publisher {
	if p == nil {
		return Off{}
	}
	return p
}

// Fanout delivers events to the connections that watch them: the
// organisation's connections (store.RealtimeAudience) through a Poster.
type Fanout struct {
	DB     *store.DB
	Poster Poster
	// Timeout bounds a whole Publish call (default PublishTimeout).
	Timeout time.Duration
}

// PublishTimeout bounds one Publish: a webhook answers TTN within its own
// 10 s budget even when the gateway hangs.
const PublishTimeout = 3 * time.Second

// postsAtOnce bounds concurrent posts of one event.
const postsAtOnce = 8

// Publish posts each event, in order, to every connection watching it (the
// posts of one event run concurrently, so an event is delivered to all
// before the next one starts: each connection receives them in order).
func (f *Fanout) Publish(ctx context.Context, events ...Event) {
	if len(events) == 0 {
		return
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = PublishTimeout
	}
	// The flow's own context may end with its answer; publishing is bounded
	// by its own deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	var gone []string
	for _, e := range events {
		g, err := f.publishOne(ctx, e)
		gone = append(gone, g...)
		if err != nil {
			slog.WarnContext(ctx, "live event not delivered", "type", e.Type, "org", e.OrgID, "err", err)
			metrics.Add(ctx, metrics.LivePostFailures, 1, "Type", e.Type)
		}
	}
	if len(gone) > 0 {
		metrics.Add(ctx, metrics.LiveConnectionsGone, len(gone))
		// Its own short deadline: a hung post may have spent the fan-out's.
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer dcancel()
		if err := f.DB.DeleteRealtimeConnections(dctx, gone...); err != nil {
			slog.WarnContext(ctx, "removing gone live connections failed", "err", err)
		}
	}
}

// publishOne posts one event; it returns the connections found gone and an
// error when its audience could not be read. Failed posts are logged and
// counted here, per connection.
func (f *Fanout) publishOne(ctx context.Context, e Event) ([]string, error) {
	ids, err := f.DB.RealtimeAudience(ctx, e.OrgID, e.UnitID)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	e, send, err := f.complete(ctx, e)
	if err != nil || !send {
		return nil, err
	}
	data, err := e.Encode()
	if err != nil {
		return nil, err
	}
	var (
		mu     sync.Mutex
		gone   []string
		posted int
	)
	g := errgroup.Group{}
	g.SetLimit(postsAtOnce)
	for _, id := range ids {
		g.Go(func() error {
			err := f.Poster.PostToConnection(ctx, id, data)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				posted++
			case errors.Is(err, ErrGone):
				gone = append(gone, id)
			default:
				slog.WarnContext(ctx, "posting a live event failed", "type", e.Type, "connection", id, "err", err)
				metrics.Add(ctx, metrics.LivePostFailures, 1, "Type", e.Type)
			}
			return nil
		})
	}
	_ = g.Wait()
	if posted > 0 {
		metrics.Add(ctx, metrics.LiveMessagesPosted, posted, "Type", e.Type)
	}
	return gone, nil
}

// Configured is the publisher a function's configuration asks for: a
// Fanout through the configured management endpoint, or Off without one.
func Configured(db *store.DB, cfg config.Live) Publisher {
	if cfg.RealtimeEndpoint == "" {
		return Off{}
	}
	return &Fanout{DB: db, Poster: NewGateway(cfg.RealtimeEndpoint)}
}
