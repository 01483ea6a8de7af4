// Package sitecontext proxies the third parties that give a site its
// context: current and recent weather (Open-Meteo) and address geocoding
// (Nominatim). The browser never calls them directly: answers are cached in
// Redis, Nominatim's usage policy (one request per second per installation,
// a real User-Agent) is honoured in one place, and a failing provider turns
// into a clear UPSTREAM_FAILED rather than its own error page. Redis only
// makes this faster: without it every request goes upstream (geocoding still
// one per second, process-wide).
package sitecontext

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/tracing"
)

// Cache is the part of the Redis adapter (*cache.Cache, nil-safe) used
// here: misses and failures read the same.
type Cache interface {
	Get(ctx context.Context, key string) ([]byte, bool)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration)
}

// Tickets hands out a key for ttl to one caller at a time across every
// instance sharing Redis (SET key value NX PX ttl). An error means Redis is
// unusable: the limiter then relies on its in-process spacing alone.
type Tickets interface {
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
}

// maxBody bounds what is read from a provider: both answers are a few
// kilobytes; anything far larger is not the answer we asked for.
const maxBody = 1 << 20

// getJSON sends req and returns the body of a 200 answer. Every failure is
// an UPSTREAM_FAILED with a message naming the service only: a provider's
// body may be an HTML error page or say things about our request that the
// caller has no use for, so it is logged (as the cause), never echoed.
func getJSON(client *http.Client, req *http.Request, service string) ([]byte, error) {
	res, err := client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, apperr.Wrap(apperr.BadGateway, err, "the %s service did not answer in time; try again later", service)
		}
		return nil, apperr.Wrap(apperr.BadGateway, err, "the %s service could not be reached; try again later", service)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, apperr.Wrap(apperr.BadGateway, err, "the %s service's answer was cut off; try again later", service)
	}
	if res.StatusCode != http.StatusOK {
		snippet := body
		if len(snippet) > 200 {
			snippet = snippet[:200]
		}
		return nil, apperr.Wrap(apperr.BadGateway, fmt.Errorf("HTTP %d: %s", res.StatusCode, snippet),
			"the %s service failed (HTTP %d); try again later", service, res.StatusCode)
	}
	return body, nil
}

// client returns c, or a client with a timeout: a provider must never hold
// a request for the function's whole lifetime.
func client(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return tracing.Client(5 * time.Second)
}
