// Package cache is the Redis adapter (go-redis/v9). Redis only ever makes
// things faster: every method degrades to "no cache" when Redis is not
// configured or not answering, and the caller falls back to PostgreSQL,
// which stays the source of truth (docs/ARCHITECTURE.md "Layers").
package cache

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cache wraps a Redis client. A nil *Cache is valid and caches nothing.
type Cache struct {
	rdb *redis.Client
	// downUntil (unix nanoseconds) skips Redis for a while after a failure,
	// so an outage costs one timeout per instance per backoff period rather
	// than one per call.
	downUntil atomic.Int64
}

// backoff is how long Redis is skipped after a failure.
const backoff = 5 * time.Second

// Open parses url and configures a client without connecting. An empty url
// returns a nil *Cache.
func Open(url string) (*Cache, error) {
	if url == "" {
		return nil, nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("REDIS_URL cannot be parsed as a Redis URL")
	}
	// Short timeouts: waiting on a sick cache must cost less than skipping it.
	opts.DialTimeout = 300 * time.Millisecond
	opts.ReadTimeout = 300 * time.Millisecond
	opts.WriteTimeout = 300 * time.Millisecond
	// -1, not 0: go-redis reads 0 as "the default, 3 retries", which made a
	// hung Redis cost two timeouts instead of one.
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	return &Cache{rdb: redis.NewClient(opts)}, nil
}

// Close releases the connections.
func (c *Cache) Close() error {
	if c == nil {
		return nil
	}
	return c.rdb.Close()
}

// Get returns the value at key and whether it was found. Redis failures
// read as a miss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool) {
	if !c.up() {
		return nil, false
	}
	b, err := c.rdb.Get(ctx, key).Bytes()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			c.degraded(ctx, "get", err)
		}
		return nil, false
	}
	return b, true
}

// Set stores value at key for ttl, best effort.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) {
	if !c.up() {
		return
	}
	if err := c.rdb.Set(ctx, key, value, ttl).Err(); err != nil {
		c.degraded(ctx, "set", err)
	}
}

// Delete removes keys, best effort (used to invalidate after a write).
func (c *Cache) Delete(ctx context.Context, keys ...string) {
	if !c.up() || len(keys) == 0 {
		return
	}
	if err := c.rdb.Del(ctx, keys...).Err(); err != nil {
		c.degraded(ctx, "delete", err)
	}
}

// ErrUnavailable is SetNX's answer when Redis is not configured or is in
// its failure backoff.
var ErrUnavailable = errors.New("redis is not available")

// SetNX sets key to value for ttl only if the key does not exist (SET NX
// PX): a lock or ticket shared by every instance. Unlike the other methods
// it reports Redis being unusable as an error, so that the caller can fall
// back to something local instead of reading it as "taken".
func (c *Cache) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if !c.up() {
		return false, ErrUnavailable
	}
	ok, err := c.rdb.SetNX(ctx, key, value, ttl).Result()
	if err != nil {
		c.degraded(ctx, "setnx", err)
		return false, err
	}
	return ok, nil
}

// up reports whether Redis is configured and not in its failure backoff.
func (c *Cache) up() bool {
	return c != nil && time.Now().UnixNano() >= c.downUntil.Load()
}

func (c *Cache) degraded(ctx context.Context, op string, err error) {
	c.downUntil.Store(time.Now().Add(backoff).UnixNano())
	slog.WarnContext(ctx, "redis unavailable, skipping the cache for a while", "op", op, "backoff", backoff.String(), "err", err)
}
