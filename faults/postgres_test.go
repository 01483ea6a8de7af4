package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// The stream: pgWorkers senders per webhook, each with deliveries of its own
// (one unit, one subscription, its own receipts and phones), so the order of
// each one's deliveries is fixed and the result is deterministic.
const (
	pgWorkers      = 4
	pgUplinks      = 40 // per TTN sender: one unit, an excursion in the middle
	pgStripeEvents = 40 // per Stripe sender: one subscription
	pgTelnyxEvents = 40 // per Telnyx sender: receipts and STOPs alternately
)

var pgKinds = []string{"ttn", "stripe", "telnyx"}

var pgBase = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// pgStripeStatuses cycle through each subscription's events (Stripe's
// names); the prices cycle through pgPrices, i.e. plans pgPlans.
var (
	pgStripeStatuses = []string{"trialing", "active", "active", "past_due"}
	pgPlans          = []string{"starter", "pro", "haccp"}
)

func pgStreams() map[string][][]pgDelivery {
	s := map[string][][]pgDelivery{}
	for w := 0; w < pgWorkers; w++ {
		var ttn, stripe, telnyx []pgDelivery
		for i := 0; i < pgUplinks; i++ {
			temp := 3 + float64(i%3)/2
			if i >= 15 && i < 20 {
				temp = 9.5 // over 5 °C: an alert opens (SMS and e-mail), then resolves
			}
			ttn = append(ttn, pgDelivery{"ttn", pgUplink(pgDevEUI(w), pgBase.Add(time.Duration(i)*time.Minute), i+1, temp)})
		}
		for i := 0; i < pgStripeEvents; i++ {
			typ := "customer.subscription.updated"
			if i == 0 {
				typ = "customer.subscription.created"
			}
			stripe = append(stripe, pgDelivery{"stripe", pgSubscriptionEvent(fmt.Sprintf("evt_faults_%d_%03d", w, i), typ,
				pgBase.Add(time.Duration(i)*time.Second), pgID(5, w), fmt.Sprintf("sub_faults_%d", w),
				pgStripeStatuses[i%len(pgStripeStatuses)], pgPrices[i%len(pgPrices)], i%5 == 4)})
		}
		for i := 0; i < pgTelnyxEvents; i++ {
			at := pgBase.Add(time.Duration(i) * time.Second)
			id := fmt.Sprintf("6f1e0000-0000-4000-8000-%04d%08d", w, i)
			body := pgInbound(id, fmt.Sprintf("+1555556%02d%03d", w, i), "STOP", at)
			if i%2 == 0 {
				n := w*pgTelnyxEvents/2 + i/2
				body = pgFinalized(id, pgMessageID(n), fmt.Sprintf("+1555557%04d", n), at)
			}
			telnyx = append(telnyx, pgDelivery{"telnyx", body})
		}
		s["ttn"], s["stripe"], s["telnyx"] = append(s["ttn"], ttn), append(s["stripe"], stripe), append(s["telnyx"], telnyx)
	}
	return s
}

// pgStats counts one webhook's answers.
type pgStats struct {
	attempts, delivered, unavailable atomic.Int64
	// duplicates: 2xx "duplicate" answers. Each delivery is distinct, so
	// one means an earlier attempt committed although its answer was a
	// 503 (the crash hit between COMMIT and the reply).
	duplicates atomic.Int64
	mu         sync.Mutex
	bad        []string // anything but 2xx or a well-formed 503
}

func (s *pgStats) note(problem string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bad = append(s.bad, problem)
}

// pgRunner sends the streams, each delivery retried until 2xx as the
// providers do, and lets the test release them phase by phase (quarters of
// each sender's deliveries), so crashes land mid-stream.
type pgRunner struct {
	f        pgFunctions
	streams  map[string][][]pgDelivery
	phase    atomic.Int64
	stats    map[string]*pgStats
	progress map[string][]atomic.Int64
}

func pgNewRunner(f pgFunctions, streams map[string][][]pgDelivery) *pgRunner {
	r := &pgRunner{f: f, streams: streams, stats: map[string]*pgStats{}, progress: map[string][]atomic.Int64{}}
	for _, k := range pgKinds {
		r.stats[k] = &pgStats{}
		r.progress[k] = make([]atomic.Int64, len(streams[k]))
	}
	return r
}

func pgLimit(n int, phase int64) int { return (n*int(phase) + 3) / 4 }

// run starts the senders, calls orchestrate and stops the senders, also
// when orchestrate fails the test.
func (r *pgRunner) run(orchestrate func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, k := range pgKinds {
		for w, items := range r.streams[k] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.send(ctx, k, w, items)
			}()
		}
	}
	orchestrate()
}

func (r *pgRunner) send(ctx context.Context, kind string, w int, items []pgDelivery) {
	st := r.stats[kind]
	for i, d := range items {
		for i >= pgLimit(len(items), r.phase.Load()) {
			if !pgSleep(ctx, 2*time.Millisecond) {
				return
			}
		}
		for {
			st.attempts.Add(1)
			a, err := r.f.send(ctx, d)
			if ctx.Err() != nil {
				return
			}
			if err == nil && a.Status/100 == 2 {
				if pgDuplicate(a.Body) {
					st.duplicates.Add(1)
				}
				break
			}
			switch {
			case err != nil:
				st.note(err.Error())
			case a.Status == 503:
				st.unavailable.Add(1)
				if p := pgCheckUnavailable(a); p != "" {
					st.note(p)
				}
			default:
				st.note(pgCheckUnavailable(a))
			}
			// Providers back off for seconds to hours; 20 ms keeps the test
			// short while still retrying through the whole outage.
			if !pgSleep(ctx, 20*time.Millisecond) {
				return
			}
		}
		st.delivered.Add(1)
		r.progress[kind][w].Store(int64(i + 1))
		// A stream, not a flood: each sender paces itself, so deliveries are
		// still in flight when the crash lands.
		if !pgSleep(ctx, 2*time.Millisecond) {
			return
		}
	}
}

// pgDuplicate recognises the three webhooks' "already processed" answers.
func pgDuplicate(body []byte) bool {
	var a struct {
		Status    string `json:"status"`
		Duplicate bool   `json:"duplicate"`
	}
	return json.Unmarshal(body, &a) == nil && (a.Status == "duplicate" || a.Duplicate)
}

func pgSleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (r *pgRunner) reached(kind string, phase int64) bool {
	for w, items := range r.streams[kind] {
		if r.progress[kind][w].Load() < int64(pgLimit(len(items), phase)) {
			return false
		}
	}
	return true
}

func (r *pgRunner) waitReached(t *testing.T, phase int64, timeout time.Duration) {
	t.Helper()
	pgWaitFor(t, fmt.Sprintf("every delivery of phase %d/4 applied", phase), timeout, func() bool {
		return !slices.ContainsFunc(pgKinds, func(k string) bool { return !r.reached(k, phase) })
	})
}

func (r *pgRunner) snapshot(get func(*pgStats) *atomic.Int64) map[string]int64 {
	m := map[string]int64{}
	for _, k := range pgKinds {
		m[k] = get(r.stats[k]).Load()
	}
	return m
}

// pgWaitFor polls cond until it holds or fails the test at the deadline.
func pgWaitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for: %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPostgresCrashMidStream crashes PostgreSQL twice under a stream of
// TTN uplinks, Stripe events and Telnyx events: every answer is 2xx or a
// proper 503, the same handlers (same pools) recover on restart, and the
// database ends exactly as the same stream leaves a database that never
// failed: each delivery applied once, none half-applied.
func TestPostgresCrashMidStream(t *testing.T) {
	pgQuiet(t)
	start := time.Now()
	key := pgNewTelnyxKey(t)
	fixture := pgFixture{Units: pgWorkers, StripeOrgs: pgWorkers, Receipts: pgWorkers * pgTelnyxEvents / 2}
	streams := pgStreams()

	// The reference: the same stream on the shared server, no faults.
	controlDSN := testenv.NewDatabase(t)
	control := pgOpen(t, controlDSN)
	pgSeed(t, control, fixture)
	reference := pgNewRunner(pgServe(t, controlDSN, pgNewProvider(t), key), streams)
	reference.run(func() {
		reference.phase.Store(4)
		reference.waitReached(t, 4, 60*time.Second)
	})
	for _, k := range pgKinds {
		st := reference.stats[k]
		if len(st.bad) > 0 || st.unavailable.Load() > 0 || st.duplicates.Load() > 0 {
			t.Fatalf("%s without faults: %d 503s, %d duplicates, problems %q", k, st.unavailable.Load(), st.duplicates.Load(), st.bad)
		}
	}
	t.Logf("reference stream applied in %v", time.Since(start).Round(time.Millisecond))

	pg := testenv.StartPostgres(t)
	db := pgOpen(t, pg.DSN())
	pgSeed(t, db, fixture)
	provider := pgNewProvider(t)
	r := pgNewRunner(pgServe(t, pg.DSN(), provider, key), streams)
	r.run(func() {
		r.phase.Store(1)
		r.waitReached(t, 1, 30*time.Second)
		for phase := int64(2); phase <= 3; phase++ {
			delivered := r.snapshot(func(s *pgStats) *atomic.Int64 { return &s.delivered })
			r.phase.Store(phase)
			pgWaitFor(t, "every webhook delivering again", 10*time.Second, func() bool {
				now := r.snapshot(func(s *pgStats) *atomic.Int64 { return &s.delivered })
				return !slices.ContainsFunc(pgKinds, func(k string) bool { return now[k] == delivered[k] })
			})
			unavailable := r.snapshot(func(s *pgStats) *atomic.Int64 { return &s.unavailable })
			down := time.Now()
			pg.Stop()
			stopped := time.Now()
			// Down until every webhook has answered a few 503s (or has
			// nothing left to send in this phase).
			pgWaitFor(t, "503s from every webhook", 10*time.Second, func() bool {
				now := r.snapshot(func(s *pgStats) *atomic.Int64 { return &s.unavailable })
				return !slices.ContainsFunc(pgKinds, func(k string) bool { return now[k] < unavailable[k]+pgWorkers && !r.reached(k, phase) })
			})
			waited := time.Now()
			pg.Start()
			up := time.Now()
			// The handlers are not rebuilt: their pools must reconnect.
			r.waitReached(t, phase, 30*time.Second)
			t.Logf("crash %d: pg_ctl stop %v, down %v, pg_ctl start (WAL recovery) %v; all retries of the phase applied %v after restart",
				phase-1, stopped.Sub(down).Round(time.Millisecond), waited.Sub(down).Round(time.Millisecond),
				up.Sub(waited).Round(time.Millisecond), time.Since(up).Round(time.Millisecond))
		}
		r.phase.Store(4)
		r.waitReached(t, 4, 30*time.Second)
	})

	for _, k := range pgKinds {
		st := r.stats[k]
		t.Logf("%-6s %4d deliveries, %4d attempts, %3d answered 503, %2d committed before a 503 (retry answered duplicate)",
			k, st.delivered.Load(), st.attempts.Load(), st.unavailable.Load(), st.duplicates.Load())
		if len(st.bad) > 0 {
			t.Errorf("%s: %d answers that are neither 2xx nor a proper 503, e.g. %q", k, len(st.bad), st.bad[:min(len(st.bad), 5)])
		}
		if st.unavailable.Load() == 0 {
			t.Errorf("%s never saw the outage: the crashes did not land mid-stream", k)
		}
	}
	pgCheckApplied(t, db)
	pgCompare(t, pgDigest(t, control), pgDigest(t, db))
	pgCheckProvider(t, provider)
	t.Logf("done in %v", time.Since(start).Round(time.Millisecond))
}

// pgCheckApplied counts rows: every distinct delivery exactly once, and no
// change without its dedupe row or the other way round.
func pgCheckApplied(t *testing.T, db *store.DB) {
	t.Helper()
	checks := []struct {
		what string
		want int
		sql  string
	}{
		{"readings", pgWorkers * pgUplinks, `SELECT count(*) FROM sensor_readings`},
		// a reading is its uplink's dedupe (its key is the uplink's network time, issue 18)
		{"uplink dedupe rows", 0, `SELECT count(*) FROM uplink_dedupe`},
		{"Stripe event rows", pgWorkers * pgStripeEvents, `SELECT count(*) FROM stripe_events`},
		{"Telnyx event rows", pgWorkers * pgTelnyxEvents, `SELECT count(*) FROM telnyx_events`},
		{"delivered receipts", pgWorkers * pgTelnyxEvents / 2, `SELECT count(*) FROM notifications WHERE kind = 'test' AND status = 'delivered'`},
		{"opt-outs", pgWorkers * pgTelnyxEvents / 2, `SELECT count(*) FROM sms_opt_outs`},
		// one excursion per unit: one alert, opened and auto-resolved
		{"alerts", pgWorkers, `SELECT count(*) FROM alerts`},
		{"resolved alerts", pgWorkers, `SELECT count(*) FROM alerts WHERE status = 'resolved'`},
		{"units behind their newest reading", 0, `SELECT count(*) FROM units u WHERE last_reading_at IS DISTINCT FROM
			(SELECT max(recorded_at) FROM sensor_readings r WHERE r.unit_id = u.id)`},
		{"alerts without their opening event or first notifications", 0, `SELECT count(*) FROM alerts a
			WHERE NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.alert_id = a.id AND e.kind = 'opened')
			OR (SELECT count(*) FROM notifications n WHERE n.alert_id = a.id AND n.kind = 'alert') <> 2`},
		{"recorded receipts minus moved messages", 0, `SELECT (SELECT count(*) FROM telnyx_events WHERE event_type = 'message.finalized')
			- (SELECT count(*) FROM notifications WHERE kind = 'test' AND status = 'delivered')`},
		{"recorded STOPs minus opt-outs", 0, `SELECT (SELECT count(*) FROM telnyx_events WHERE event_type = 'message.received')
			- (SELECT count(*) FROM sms_opt_outs)`},
	}
	for _, c := range checks {
		if got := pgCount(t, db, c.sql); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	// Each subscription carries its last event's state, the order of the
	// events being kept by each sender's retries.
	last := pgStripeEvents - 1
	wantStatus := map[string]string{"trialing": "trial", "active": "active", "past_due": "past_due"}[pgStripeStatuses[last%len(pgStripeStatuses)]]
	wantPlan := pgPlans[last%len(pgPlans)]
	for w := 0; w < pgWorkers; w++ {
		var status, plan, lastID string
		if err := testenv.Pool(db).QueryRow(context.Background(), `SELECT s.status, o.plan, coalesce(s.last_event_id, '') FROM subscriptions s
			JOIN organizations o ON o.id = s.organization_id WHERE o.id = $1`, pgID(5, w)).Scan(&status, &plan, &lastID); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("evt_faults_%d_%03d", w, last); status != wantStatus || plan != wantPlan || lastID != want {
			t.Errorf("subscription %d: %s on %s after %s, want %s on %s after %s", w, status, plan, lastID, wantStatus, wantPlan, want)
		}
	}
}

// pgDigestQueries read everything the stream changes, by natural keys and
// without the columns that legitimately differ between two runs (random
// ack codes, now() times, the dispatcher's progress on the outbox).
var pgDigestQueries = []struct{ name, sql string }{
	{"readings", `SELECT s.dev_eui, r.recorded_at, r.unit_id, r.temperature_c, r.humidity, r.battery_voltage, r.rssi, r.snr,
		r.gateway_count, r.spreading_factor, r.f_cnt, r.source FROM sensor_readings r JOIN sensors s ON s.id = r.sensor_id`},
	{"uplink_dedupe", `SELECT dedupe_key, organization_id, dev_eui, received_at FROM uplink_dedupe`},
	{"sensors", `SELECT dev_eui, last_seen_at, last_f_cnt, battery_voltage, rssi, snr FROM sensors`},
	{"units", `SELECT id, status, status_since, in_band_count, last_reading_at, last_temp_c, door_open, door_changed_at FROM units`},
	{"door_events", `SELECT unit_id, state, changed_at FROM door_events`},
	{"alerts", `SELECT unit_id, sensor_id, type, severity, status, title, message, triggered_at, temperature_c, limit_c,
		resolved_at, resolution, resolved_note, escalation_step, next_escalation_at FROM alerts`},
	{"alert_events", `SELECT a.unit_id, a.type, a.triggered_at, e.kind, e.note, e.data, e.at FROM alert_events e JOIN alerts a ON a.id = e.alert_id`},
	{"outbox", `SELECT a.unit_id, a.type, a.triggered_at, n.kind, n.escalation_step, n.contact_id, n.channel, n.recipient, n.subject
		FROM notifications n JOIN alerts a ON a.id = n.alert_id`},
	{"receipts", `SELECT provider_message_id, status, sent_at, delivered_at, failed_at, last_error FROM notifications WHERE kind = 'test'`},
	// A subscription's id is random per run: its audit rows are compared by organisation.
	{"audit_log", `SELECT organization_id, actor_type, action, entity_type, CASE WHEN entity_type <> 'subscription' THEN entity_id END, before, after, at FROM audit_log`},
	{"stripe_events", `SELECT event_id, type, created FROM stripe_events`},
	{"subscriptions", `SELECT organization_id, stripe_subscription_id, stripe_customer_id, stripe_price_id, plan, status,
		current_period_start, current_period_end, cancel_at_period_end, canceled_at, trial_ends_at, last_event_created, last_event_id
		FROM subscriptions`},
	{"organizations", `SELECT id, plan, sensor_limit, stripe_customer_id, trial_ends_at FROM organizations`},
	{"telnyx_events", `SELECT event_id, event_type, occurred_at FROM telnyx_events`},
	{"sms_opt_outs", `SELECT phone, source FROM sms_opt_outs`},
}

func pgDigest(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, q := range pgDigestQueries {
		rows, err := testenv.Pool(db).Query(context.Background(), `SELECT t::text FROM (`+q.sql+`) t ORDER BY 1`)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			out[q.name] = append(out[q.name], line)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
	}
	return out
}

func pgCompare(t *testing.T, want, got map[string][]string) {
	t.Helper()
	var sizes []string
	for _, q := range pgDigestQueries {
		w, g := want[q.name], got[q.name]
		sizes = append(sizes, fmt.Sprintf("%s %d", q.name, len(g)))
		if slices.Equal(w, g) {
			continue
		}
		var diff []string
		for _, l := range g {
			if !slices.Contains(w, l) {
				diff = append(diff, "+ "+l)
			}
		}
		for _, l := range w {
			if !slices.Contains(g, l) {
				diff = append(diff, "- "+l)
			}
		}
		t.Errorf("%s: %d rows after the crashes, %d without faults; differences (+ crashes, - reference):\n%s",
			q.name, len(g), len(w), strings.Join(diff[:min(len(diff), 10)], "\n"))
	}
	t.Logf("rows compared with the reference: %s", strings.Join(sizes, ", "))
}

// pgCheckProvider: a crash between the provider call and recording it must
// not make anyone get the same SMS twice (Telnyx has no idempotency key), and
// a re-sent e-mail must carry the key of the first attempt.
func pgCheckProvider(t *testing.T, p *pgProvider) {
	t.Helper()
	sms, emails := p.sent()
	seen := map[pgMessage]bool{}
	for _, m := range sms {
		k := pgMessage{To: m.To, Text: m.Text}
		if seen[k] {
			t.Errorf("SMS sent twice to %s: %q", m.To, m.Text)
		}
		seen[k] = true
	}
	keys := map[pgMessage]string{}
	for _, m := range emails {
		k := pgMessage{To: m.To, Text: m.Text}
		if prev, ok := keys[k]; ok && prev != m.Key {
			t.Errorf("e-mail to %s sent twice under different idempotency keys", m.To)
		}
		keys[k] = m.Key
	}
	t.Logf("provider: %d SMS, %d e-mail requests (%d distinct e-mails)", len(sms), len(emails), len(keys))
}
