package notify

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// fbEnv is dspEnv (the Telnyx messaging and Resend fakes) with a Call
// Control fake, and a contact reachable on every channel.
type fbEnv struct {
	*dspEnv
	calls   *testenv.TelnyxCalls
	contact string
}

const (
	fbPhone = "+15555550177"
	fbEmail = "jane@example.com"
)

func fbSetup(t *testing.T) *fbEnv {
	e := &fbEnv{dspEnv: dspSetup(t, "UTC", nil), calls: testenv.NewTelnyxCalls(t, callTestKey)}
	e.d.Voice = NewTelnyxCalls(TelnyxCallsConfig{APIKey: callTestKey, BaseURL: e.calls.URL, From: "+18445550001",
		ConnectionID: "1684641123236054244", WebhookURL: "https://api.frostguard.example/webhooks/telnyx"},
		&http.Client{Timeout: 2 * time.Second})
	e.d.FrontendURL = "https://app.frostguard.example"
	e.contact = e.scalar(`INSERT INTO escalation_contacts (organization_id, name, phone, email)
		VALUES ($1, 'Jane', $2, 'Jane@Example.com') RETURNING id`, e.org, fbPhone)
	t.Cleanup(func() {
		if r := e.calls.Refused(); len(r) > 0 {
			t.Errorf("the Call Control fake refused %v", r)
		}
	})
	return e
}

// page queues an alarm message of step to the contact, as paging writes it.
func (e *fbEnv) page(alertID string, step int, channel string) string {
	recipient := fbPhone
	if channel == "email" {
		recipient = fbEmail
	}
	return e.scalar(`INSERT INTO notifications (organization_id, alert_id, escalation_step, contact_id, recipient, channel, subject, body,
			call_state, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 = 'email' THEN 'Alarm: Fridge 1' END, 'Fridge 1 at Main St is 9.0°C. Reply ACK ABC123',
			CASE WHEN $6 = 'voice' THEN 'queued' END, $7) RETURNING id`,
		e.org, alertID, step, e.contact, recipient, channel, e.now())
}

type fbRow struct{ ID, Channel, Status, FallbackOf string }

// rows are the step's notifications to the contact, oldest first.
func (e *fbEnv) rows(alertID string, step int) []fbRow {
	e.t.Helper()
	rows, err := testenv.Pool(e.db).Query(context.Background(), `SELECT id, channel, status, coalesce(fallback_of::text, '')
		FROM notifications WHERE alert_id = $1 AND escalation_step = $2 ORDER BY created_at, channel`, alertID, step)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []fbRow
	for rows.Next() {
		var r fbRow
		if err := rows.Scan(&r.ID, &r.Channel, &r.Status, &r.FallbackOf); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// history is the alert's 'fallback' lines about notification id (every
// one when id is "").
func (e *fbEnv) history(alertID, id string) []string {
	e.t.Helper()
	rows, err := testenv.Pool(e.db).Query(context.Background(), `SELECT note FROM alert_events WHERE alert_id = $1 AND kind = 'fallback'
		AND ($2 = '' OR data->>'notification_id' = $2) ORDER BY at, id`, alertID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func (e *fbEnv) dispatchAll() Report {
	e.t.Helper()
	rep, err := e.d.DispatchDue(context.Background(), 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

// TestFallbackAfterSMSFailsForGood: an SMS alarm message that fails for good
// (the provider refuses it, retries run out, a dispatcher died mid-send,
// an undeliverable receipt) or that its contact opted out of pages the same
// contact by e-mail in the same dispatch pass; the alert's history says so
// and the new row names the one it replaces. An e-mail that fails too goes
// on to a call; once every channel is used, the history says nobody else
// can be reached. Nothing falls back for an alert already handled.
func TestFallbackAfterSMSFailsForGood(t *testing.T) {
	e := fbSetup(t)
	a := e.alert("critical", "active")
	step := 0
	expectEmail := func(t *testing.T, smsID, smsStatus string) {
		t.Helper()
		rows := e.rows(a, step)
		if len(rows) != 2 || rows[0].ID != smsID || rows[0].Status != smsStatus ||
			rows[1].Channel != "email" || rows[1].Status != "sent" || rows[1].FallbackOf != smsID {
			t.Fatalf("rows %+v", rows)
		}
		if hits, sent := e.rs.counts(rows[1].ID); hits != 1 || sent != 1 {
			t.Fatalf("resend hits %d sent %d", hits, sent)
		}
		h := e.history(a, smsID)
		if len(h) != 1 || !strings.Contains(h[len(h)-1], "SMS to Jane") || !strings.HasSuffix(h[len(h)-1], "paging them by e-mail instead") {
			t.Fatalf("history %q", h)
		}
	}

	t.Run("provider refusal", func(t *testing.T) {
		step++
		e.tx.setRespond(func(string, int) (int, time.Duration) { return 422, 0 })
		defer e.tx.setRespond(nil)
		id := e.page(a, step, "sms")
		rep := e.dispatchAll()
		if rep.Fallbacks != 1 || rep.Failed != 1 || rep.Sent != 1 {
			t.Fatalf("report %+v", rep)
		}
		expectEmail(t, id, "failed")
	})
	t.Run("retries exhausted", func(t *testing.T) {
		step++
		e.tx.setRespond(func(string, int) (int, time.Duration) { return 503, 0 })
		defer e.tx.setRespond(nil)
		id := e.page(a, step, "sms")
		e.exec(`UPDATE notifications SET attempts = 5 WHERE id = $1`, id)
		e.dispatchAll()
		expectEmail(t, id, "failed")
		if s := e.state(id); !strings.Contains(s.LastError, "max attempts") {
			t.Fatalf("sms %+v", s)
		}
	})
	t.Run("ambiguous: a dispatcher died mid-send", func(t *testing.T) {
		step++
		id := e.page(a, step, "sms")
		e.exec(`UPDATE notifications SET status = 'sending', attempts = 1, provider = 'telnyx', next_attempt_at = $2 WHERE id = $1`,
			id, e.now().Add(-time.Second))
		e.dispatchAll()
		expectEmail(t, id, "failed")
		if hits, _ := e.tx.counts(fbPhone); hits != 2 { // the refusal and the exhausted one's: never this one
			t.Fatalf("telnyx hits %d", hits)
		}
	})
	t.Run("opted out of SMS", func(t *testing.T) {
		step++
		e.exec(`INSERT INTO sms_opt_outs (phone) VALUES ($1)`, fbPhone)
		defer e.exec(`DELETE FROM sms_opt_outs WHERE phone = $1`, fbPhone)
		id := e.page(a, step, "sms")
		e.dispatchAll()
		expectEmail(t, id, "skipped")
	})
	t.Run("undeliverable receipt", func(t *testing.T) {
		step++
		id := e.page(a, step, "sms")
		e.dispatchAll()
		s := e.state(id)
		res, err := e.db.ApplyTelnyxReceipt(context.Background(), store.TelnyxEventKey{ID: "ev-fb-" + id, Type: TelnyxMessageFinalized},
			store.DeliveryReceipt{MessageID: s.ProviderID, Outcome: "failed", At: e.now(), Error: "40300: delivery_failed"})
		if err != nil || res.Status != "failed" {
			t.Fatalf("receipt %+v %v", res, err)
		}
		e.dispatchAll()
		expectEmail(t, id, "failed")
	})
	t.Run("e-mail fails too: a call, then nobody else", func(t *testing.T) {
		step++
		e.tx.setRespond(func(string, int) (int, time.Duration) { return 422, 0 })
		defer e.tx.setRespond(nil)
		e.rs.setRespond(func(string, int) (int, time.Duration) { return 422, 0 })
		defer e.rs.setRespond(nil)
		sms := e.page(a, step, "sms")
		e.dispatchAll() // sms fails; its e-mail fails in the same pass
		e.dispatchAll() // the e-mail's fallback: a call
		rows := e.rows(a, step)
		if len(rows) != 3 || rows[1].Channel != "email" || rows[1].Status != "failed" || rows[1].FallbackOf != sms ||
			rows[2].Channel != "voice" || rows[2].Status != "sent" || rows[2].FallbackOf != rows[1].ID {
			t.Fatalf("rows %+v", rows)
		}
		dialled := false
		for _, c := range e.calls.Commands() {
			dialled = dialled || (c.Action == "dial" && c.Body["command_id"] == rows[2].ID && c.Body["to"] == fbPhone)
		}
		if !dialled {
			t.Fatalf("no dial for the fallback call: %+v", e.calls.Commands())
		}
		// The call fails for good too (the dial is refused on a retry):
		// every channel was tried, and the history says so.
		e.exec(`UPDATE notifications SET status = 'failed', call_state = 'failed', fallback_due = true WHERE id = $1`, rows[2].ID)
		if rep := e.dispatchAll(); rep.Fallbacks != 0 {
			t.Fatalf("report %+v", rep)
		}
		h := e.history(a, rows[2].ID)
		if len(h) != 1 {
			t.Fatalf("history %q", h)
		}
		if last := h[0]; !strings.HasPrefix(last, "phone call to Jane failed") || !strings.HasSuffix(last, "no other channel reaches them") {
			t.Fatalf("history %q", h)
		}
		if n := len(e.rows(a, step)); n != 3 {
			t.Fatalf("%d rows", n)
		}
	})
	t.Run("an acknowledged alert needs no fallback", func(t *testing.T) {
		acked := e.alert("critical", "acknowledged")
		e.tx.setRespond(func(string, int) (int, time.Duration) { return 422, 0 })
		defer e.tx.setRespond(nil)
		id := e.page(acked, 0, "sms")
		e.exec(`UPDATE notifications SET status = 'sending', attempts = 1, next_attempt_at = $2 WHERE id = $1`, id, e.now().Add(-time.Second))
		if rep := e.dispatchAll(); rep.Fallbacks != 0 {
			t.Fatalf("report %+v", rep)
		}
		if rows, h := e.rows(acked, 0), e.history(acked, ""); len(rows) != 1 || len(h) != 0 {
			t.Fatalf("rows %+v history %q", rows, h)
		}
		if n := e.scalar(`SELECT count(*) FROM notifications WHERE fallback_due`); n != "0" {
			t.Fatalf("%s rows still marked", n)
		}
	})
}

// TestFallbackAfterTheLastUnansweredCallAtOnce: a call nobody answered
// whose redials are used up pages the contact by SMS before the webhook
// answers (the contact's next channel; a redial pending means no
// fallback yet). A receipt saying an SMS was undeliverable does the same
// by e-mail through the webhook.
func TestFallbackAfterTheLastUnansweredCallAtOnce(t *testing.T) {
	e := newCallEnv(t)
	texts := dspNewTelnyx(t)
	mail := dspNewResend(t)
	client := &http.Client{Timeout: 2 * time.Second}
	e.h.Dispatcher = &Dispatcher{DB: e.db, Voice: e.d.Voice, Now: func() time.Time { return e.now },
		SMS:   NewTelnyx(dspTelnyxKey, texts.URL, dspFromNumber, "", client),
		Email: NewResend(dspResendKey, mail.URL, "FrostGuard <alerts@frostguard.example>", client)}

	// A call with a redial left: no fallback, the call is placed again.
	first := e.voicePage(1)
	callID, cs := e.dial(first)
	e.event("call_hangup.json", callID, cs, map[string]any{"hangup_cause": "timeout"}, "updated")
	if hits, _ := texts.counts("+15555550123"); hits != 0 {
		t.Fatalf("an SMS went out while a redial is pending")
	}
	// The last call (no redial left) goes unanswered: the SMS goes out
	// before the webhook answers.
	last := e.voicePage(2)
	e.exec(`UPDATE notifications SET redials_left = 0 WHERE id = $1`, last)
	callID, cs = e.dial(last)
	e.event("call_initiated.json", callID, cs, nil, "updated")
	e.event("call_hangup.json", callID, cs, map[string]any{"hangup_cause": "user_busy"}, "updated")
	if hits, sent := texts.counts("+15555550123"); hits != 1 || sent != 1 {
		t.Fatalf("telnyx hits %d sent %d", hits, sent)
	}
	sms := e.scalar(`SELECT id FROM notifications WHERE fallback_of = $1 AND channel = 'sms' AND status = 'sent' AND escalation_step = 2`, last)
	if n := e.count(`SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'fallback'
		AND note = 'phone call to Dana failed (busy): paging them by SMS instead' AND data->>'fallback_id' = $2`, e.alertID, sms); n != 1 {
		t.Fatalf("%d history lines", n)
	}

	// That SMS is undeliverable; Dana has an address now: e-mail at once.
	e.exec(`UPDATE escalation_contacts SET email = 'dana@example.com' WHERE id = $1`, e.contactID)
	providerID := e.scalar(`SELECT provider_message_id FROM notifications WHERE id = $1`, sms)
	e.post(e.receipt("message_finalized_failed.json", "ev-fb-fin", providerID), "updated")
	if n := e.count(`SELECT count(*) FROM notifications WHERE fallback_of = $1 AND channel = 'email' AND status = 'sent'
		AND recipient = 'dana@example.com'`, sms); n != 1 {
		t.Fatalf("%d e-mails", n)
	}
	// A duplicate of the receipt changes nothing.
	e.post(e.receipt("message_finalized_failed.json", "ev-fb-fin", providerID), "duplicate")
	if n := e.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND escalation_step = 2`, e.alertID); n != 3 {
		t.Fatalf("%d rows in the step", n)
	}
}
