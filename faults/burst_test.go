package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

const (
	burstDeliveries = 1000
	burstClients    = 32
	burstAckCode    = "7F3A2C"
)

// burstSend posts one delivery burstDeliveries times from burstClients
// goroutines at once and returns how many answers had each status and
// outcome ("200 stored", "200 duplicate"...).
func burstSend(t *testing.T, f pgFunctions, d pgDelivery, outcome func(body []byte) string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	jobs := make(chan struct{}, burstDeliveries)
	for i := 0; i < burstDeliveries; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for c := 0; c < burstClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				a, err := f.send(ctx, d)
				key := ""
				switch {
				case err != nil:
					key = "error " + err.Error()
				case a.Status/100 == 2:
					key = fmt.Sprintf("%d %s", a.Status, outcome(a.Body))
				default:
					key = fmt.Sprintf("%d %.200s", a.Status, a.Body)
				}
				mu.Lock()
				counts[key]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return counts
}

// burstExpect checks the answers: one first processing, every other copy a
// 2xx duplicate answer.
func burstExpect(t *testing.T, counts map[string]int, first, duplicate string) {
	t.Helper()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var summary []string
	for _, k := range keys {
		summary = append(summary, fmt.Sprintf("%d × %s", counts[k], k))
	}
	t.Logf("answers: %s", strings.Join(summary, ", "))
	if counts[first] != 1 || counts[duplicate] != burstDeliveries-1 || len(counts) != 2 {
		t.Errorf("want 1 × %s and %d × %s", first, burstDeliveries-1, duplicate)
	}
}

func burstField(name string) func([]byte) string {
	return func(body []byte) string {
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return "not JSON: " + string(body)
		}
		if m["duplicate"] == true || m["status"] == "duplicate" {
			return "duplicate"
		}
		return fmt.Sprint(m[name])
	}
}

// TestBurstOfDuplicateDeliveries sends 1,000 copies of one delivery from 32
// clients to each webhook, as a provider retrying on timeouts might: every
// copy is answered 2xx, and the event has exactly one effect, in the
// database and at the SMS/e-mail provider. The copies race on the dedupe
// rows (uplink_dedupe, stripe_events, telnyx_events), which must serialise
// them inside the transaction that applies the effect.
func TestBurstOfDuplicateDeliveries(t *testing.T) {
	pgQuiet(t)
	dsn := testenv.NewDatabase(t)
	db := pgOpen(t, dsn)
	pgSeed(t, db, pgFixture{Units: 2, StripeOrgs: 1, Receipts: 1})
	// An open alert that the contact acknowledges by SMS (on unit 1: unit 0
	// takes the uplinks).
	var alertID string
	if err := testenv.Pool(db).QueryRow(context.Background(), `INSERT INTO alerts (organization_id, unit_id, type, severity, title, triggered_at, ack_code)
		VALUES ($1, $2, 'door_open', 'warning', 'Cooler 0 door open', $3, $4) RETURNING id`,
		pgOrg, pgID(2, 1), pgBase, burstAckCode).Scan(&alertID); err != nil {
		t.Fatal(err)
	}
	// ...whose escalation paged the contact (an ACK is accepted only then).
	if _, err := testenv.Pool(db).Exec(context.Background(), `INSERT INTO notifications (organization_id, alert_id, escalation_step, contact_id,
			recipient, channel, status, body, provider, attempts, sent_at)
		VALUES ($1, $2, 0, $3, $4, 'sms', 'sent', 'Cooler 0 door open', 'telnyx', 1, $5)`,
		pgOrg, alertID, pgID(4, 0), pgContactPhone, pgBase); err != nil {
		t.Fatal(err)
	}
	key := pgNewTelnyxKey(t)
	// Each subtest has its own functions and provider, so provider calls
	// are counted per burst; the database is shared (effects are disjoint).
	serve := func(t *testing.T) (pgFunctions, *pgProvider) {
		p := pgNewProvider(t)
		return pgServe(t, dsn, p, key), p
	}
	count := func(sql string, args ...any) int { return pgCount(t, db, sql, args...) }
	provider := func(t *testing.T, p *pgProvider, wantSMS, wantEmails int) {
		t.Helper()
		sms, emails := p.sent()
		if len(sms) != wantSMS || len(emails) != wantEmails {
			t.Errorf("provider got %d SMS and %d e-mails, want %d and %d: %+v %+v", len(sms), len(emails), wantSMS, wantEmails, sms, emails)
		}
	}

	t.Run("stripe subscription event", func(t *testing.T) {
		f, p := serve(t)
		ev := pgSubscriptionEvent("evt_burst_1", "customer.subscription.updated", pgBase, pgID(5, 0), "sub_burst", "active", pgPrices[1], false)
		burstExpect(t, burstSend(t, f, pgDelivery{"stripe", ev}, burstField("outcome")), "200 applied", "200 duplicate")
		var status, plan, last string
		var limit int
		if err := testenv.Pool(db).QueryRow(context.Background(), `SELECT s.status, o.plan, o.sensor_limit, s.last_event_id FROM subscriptions s
			JOIN organizations o ON o.id = s.organization_id WHERE o.id = $1`, pgID(5, 0)).Scan(&status, &plan, &limit, &last); err != nil {
			t.Fatal(err)
		}
		if n := count(`SELECT count(*) FROM stripe_events`); n != 1 || status != "active" || plan != "pro" || last != "evt_burst_1" {
			t.Errorf("%d event rows, subscription %s on %s (limit %d) after %s", n, status, plan, limit, last)
		}
		provider(t, p, 0, 0)
	})

	t.Run("telnyx delivery receipt", func(t *testing.T) {
		f, p := serve(t)
		ev := pgFinalized("9d2a1f0c-0000-4000-8000-000000000001", pgMessageID(0), "+15555570000", pgBase)
		burstExpect(t, burstSend(t, f, pgDelivery{"telnyx", ev}, burstField("status")), "200 updated", "200 duplicate")
		if n := count(`SELECT count(*) FROM telnyx_events WHERE event_type = 'message.finalized'`); n != 1 {
			t.Errorf("%d event rows", n)
		}
		if n := count(`SELECT count(*) FROM notifications WHERE provider_message_id = $1 AND status = 'delivered' AND delivered_at = $2`,
			pgMessageID(0), pgBase); n != 1 {
			t.Error("the receipt did not mark its message delivered")
		}
		provider(t, p, 0, 0)
	})

	t.Run("telnyx inbound STOP", func(t *testing.T) {
		f, p := serve(t)
		ev := pgInbound("bf6307bd-0000-4000-8000-000000000002", "+15555569999", "STOP", pgBase)
		burstExpect(t, burstSend(t, f, pgDelivery{"telnyx", ev}, burstField("status")), "200 opted_out", "200 duplicate")
		if n := count(`SELECT count(*) FROM telnyx_events WHERE event_type = 'message.received'`); n != 1 {
			t.Errorf("%d event rows", n)
		}
		if n := count(`SELECT count(*) FROM sms_opt_outs WHERE phone = '+15555569999' AND source = 'inbound_sms'`); n != 1 {
			t.Errorf("%d opt-outs", n)
		}
		provider(t, p, 0, 0) // the carrier confirms a STOP, not us
	})

	t.Run("telnyx inbound ACK", func(t *testing.T) {
		f, p := serve(t)
		ev := pgInbound("bf6307bd-0000-4000-8000-000000000003", pgContactPhone, "ACK "+burstAckCode, pgBase)
		burstExpect(t, burstSend(t, f, pgDelivery{"telnyx", ev}, burstField("outcome")), "200 acknowledged", "200 duplicate")
		if n := count(`SELECT count(*) FROM alerts WHERE id = $1 AND status = 'acknowledged'`, alertID); n != 1 {
			t.Error("the alert is not acknowledged")
		}
		if n := count(`SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'acknowledged'`, alertID); n != 1 {
			t.Errorf("%d acknowledged events", n)
		}
		// The reply ("acknowledged") is one SMS, whatever the number of copies.
		provider(t, p, 1, 0)
	})

	t.Run("ttn uplink", func(t *testing.T) {
		f, p := serve(t)
		// 9.5 °C in a 0..5 °C unit with no confirmation delay: the one
		// delivery stores a reading, opens an alert and pages the contact.
		up := pgUplink(pgDevEUI(0), pgBase.Add(time.Minute), 1, 9.5)
		burstExpect(t, burstSend(t, f, pgDelivery{"ttn", up}, burstField("status")), "200 stored", "200 duplicate")
		for what, want := range map[string]int{
			`SELECT count(*) FROM sensor_readings`: 1,
			// the reading is its own dedupe (issue 18): no dedupe row
			`SELECT count(*) FROM uplink_dedupe`:                                                        0,
			`SELECT count(*) FROM alerts WHERE type = 'temp_excursion'`:                                 1,
			`SELECT count(*) FROM notifications WHERE kind = 'alert' AND alert_id <> '` + alertID + `'`: 2,
			`SELECT count(*) FROM audit_log WHERE action = 'unit.status_changed'`:                       1,
			`SELECT count(*) FROM units WHERE last_reading_at IS NOT NULL AND status <> 'ok'`:           1,
		} {
			if n := count(what); n != want {
				t.Errorf("%d, want %d: %s", n, want, what)
			}
		}
		// The alert's SMS and e-mail, each once (sent in the winning request).
		provider(t, p, 1, 1)
	})
}
