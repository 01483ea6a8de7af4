// Package faults holds FrostGuard's fault-injection tests (issue 9). It has
// no production code: only this comment and tests, which `make test` runs
// with the rest.
//
// The webhooks (ttn-webhook, stripe-webhook, telnyx-webhook) promise their
// providers two things that only show under failure:
//
//   - While a dependency is down they answer 503 (with the JSON error
//     envelope and Retry-After), never 500 and never 2xx, and they leave
//     nothing half-written, so that the provider's retry is processed in
//     full once the dependency is back. The PostgreSQL tests crash a
//     private cluster (shared/testenv StartPostgres: `pg_ctl stop -m
//     immediate`, then WAL recovery) in the middle of a stream of
//     deliveries that the test client retries as the providers do, and
//     compare the database afterwards with that of the same stream
//     delivered without faults: every delivery applied exactly once.
//   - A delivery repeated many times at once (providers retry on timeouts,
//     and may deliver twice in parallel) has exactly one side effect. The
//     burst tests send 1,000 identical deliveries from 32 clients and count
//     rows and provider calls.
//
// Each test builds the functions exactly as their binaries do (shared/app
// Build: configuration, store pool, middleware) and serves them over
// loopback HTTP; SMS and e-mail go to a fake provider that counts them.
package faults
