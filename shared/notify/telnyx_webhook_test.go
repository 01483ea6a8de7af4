package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// telnyxFakeSMS records the replies the webhook sends.
type telnyxFakeSMS struct {
	mu   sync.Mutex
	sent []telnyxFakeMessage
	err  error
}

type telnyxFakeMessage struct{ to, body, key string }

func (f *telnyxFakeSMS) SendSMS(_ context.Context, to, body, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.sent = append(f.sent, telnyxFakeMessage{to, body, key})
	return "reply-" + strconv.Itoa(len(f.sent)), nil
}

func (f *telnyxFakeSMS) messages() []telnyxFakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]telnyxFakeMessage(nil), f.sent...)
}

// telnyxEnv is one organisation with a unit and an open alert, in a fresh
// database, behind a webhook whose key the test holds.
type telnyxEnv struct {
	t       *testing.T
	db      *store.DB
	signer  telnyxSigner
	sms     *telnyxFakeSMS
	h       *TelnyxWebhook
	now     time.Time
	orgID   string
	unitID  string
	alertID string
	step    int // notifications are unique per (alert, step, recipient)
}

const telnyxEnvAckCode = "7F3A2C"

func newTelnyxEnv(t *testing.T) *telnyxEnv {
	t.Helper()
	db, _ := testenv.OpenDB(t)
	e := &telnyxEnv{t: t, db: db, signer: newTelnyxSigner(t), sms: &telnyxFakeSMS{},
		now: time.Date(2026, 1, 1, 10, 3, 15, 0, time.UTC)}
	e.h = &TelnyxWebhook{DB: db, PublicKey: e.signer.pub, SMS: e.sms, Now: func() time.Time { return e.now }}
	e.orgID = e.org("Acme Foods", "acme")
	e.unitID = e.unit(e.orgID)
	e.alertID = e.alert(e.orgID, e.unitID, telnyxEnvAckCode)
	return e
}

func (e *telnyxEnv) scalar(sql string, args ...any) string {
	e.t.Helper()
	var s string
	if err := testenv.Pool(e.db).QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func (e *telnyxEnv) org(name, slug string) string {
	return e.scalar(`INSERT INTO organizations (name, slug) VALUES ($1, $2) RETURNING id`, name, slug)
}

func (e *telnyxEnv) unit(orgID string) string {
	site := e.scalar(`INSERT INTO sites (organization_id, name) VALUES ($1, 'Main St') RETURNING id`, orgID)
	area := e.scalar(`INSERT INTO areas (organization_id, site_id, name) VALUES ($1, $2, 'Kitchen') RETURNING id`, orgID, site)
	return e.scalar(`INSERT INTO units (organization_id, site_id, area_id, name, temp_min_c, temp_max_c, status)
		VALUES ($1, $2, $3, 'Walk-in cooler', 0, 5, 'alarm_active') RETURNING id`, orgID, site, area)
}

func (e *telnyxEnv) alert(orgID, unitID, code string) string {
	return e.scalar(`INSERT INTO alerts (organization_id, unit_id, type, severity, title, triggered_at, temperature_c, limit_c,
			ack_code, escalation_step, next_escalation_at)
		VALUES ($1, $2, 'temp_excursion', 'critical', 'Walk-in cooler too warm', $3, 9.4, 5, $4, 1, $5) RETURNING id`,
		orgID, unitID, e.now.Add(-15*time.Minute), code, e.now.Add(10*time.Minute))
}

func (e *telnyxEnv) contact(orgID, name, phone string, active bool, userID *string) string {
	return e.scalar(`INSERT INTO escalation_contacts (organization_id, name, phone, is_active, user_id)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, orgID, name, phone, active, userID)
}

// notification queues an outbox row already handed to Telnyx as providerID.
func (e *telnyxEnv) notification(providerID, status string) string {
	e.step++
	return e.scalar(`INSERT INTO notifications (organization_id, alert_id, escalation_step, recipient, channel, status, body,
			provider, provider_message_id, attempts)
		VALUES ($1, $2, $3, '+15555550123', 'sms', $4, 'FrostGuard ALARM', 'telnyx', $5, 1) RETURNING id`,
		e.orgID, e.alertID, e.step, status, providerID)
}

type telnyxRow struct {
	Status, LastError             string
	SentAt, DeliveredAt, FailedAt *time.Time
}

func (e *telnyxEnv) row(id string) telnyxRow {
	e.t.Helper()
	var r telnyxRow
	var lastError *string
	err := testenv.Pool(e.db).QueryRow(context.Background(), `SELECT status, last_error, sent_at, delivered_at, failed_at
		FROM notifications WHERE id = $1`, id).Scan(&r.Status, &lastError, &r.SentAt, &r.DeliveredAt, &r.FailedAt)
	if err != nil {
		e.t.Fatal(err)
	}
	if lastError != nil {
		r.LastError = *lastError
	}
	return r
}

func (e *telnyxEnv) count(sql string, args ...any) int {
	e.t.Helper()
	n, err := strconv.Atoi(e.scalar(sql, args...))
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// body is a testdata fixture with the event id (and whatever mutate sets)
// replaced, re-encoded: the signature covers the bytes actually sent.
func (e *telnyxEnv) body(file, eventID string, mutate func(payload map[string]any)) []byte {
	e.t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(telnyxFixture(e.t, file), &doc); err != nil {
		e.t.Fatal(err)
	}
	data := doc["data"].(map[string]any)
	data["id"] = eventID
	if mutate != nil {
		mutate(data["payload"].(map[string]any))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *telnyxEnv) receipt(file, eventID, messageID string) []byte {
	return e.body(file, eventID, func(p map[string]any) { p["id"] = messageID })
}

func (e *telnyxEnv) inbound(eventID, from, text string) []byte {
	return e.body("message_received.json", eventID, func(p map[string]any) {
		p["id"] = "in-" + eventID
		p["from"].(map[string]any)["phone_number"] = from
		p["text"] = text
	})
}

// send posts a body signed now; headers override or (empty value) remove
// the signature headers.
func (e *telnyxEnv) send(body []byte, headers map[string]string) (int, map[string]any) {
	e.t.Helper()
	ts := strconv.FormatInt(e.now.Unix(), 10)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/telnyx", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(TelnyxTimestampHeader, ts)
	req.Header.Set(TelnyxSignatureHeader, e.signer.sign(ts, body))
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatalf("response %d is not JSON: %q", rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

// post expects a 200 with the given status.
func (e *telnyxEnv) post(body []byte, wantStatus string) map[string]any {
	e.t.Helper()
	code, out := e.send(body, nil)
	if code != http.StatusOK || out["status"] != wantStatus {
		e.t.Fatalf("got %d %v, want 200 status %q", code, out, wantStatus)
	}
	return out
}

func TestTelnyxWebhookReceipts(t *testing.T) {
	e := newTelnyxEnv(t)
	id := e.notification("msg-1", "sending")

	out := e.post(e.receipt("message_sent.json", "ev-sent", "msg-1"), "updated")
	if out["notification_status"] != "sent" {
		t.Fatalf("%v", out)
	}
	r := e.row(id)
	if r.Status != "sent" || r.SentAt == nil || !r.SentAt.Equal(time.Date(2026, 1, 1, 10, 0, 1, 500e6, time.UTC)) {
		t.Fatalf("after message.sent: %+v", r)
	}

	e.post(e.receipt("message_finalized_delivered.json", "ev-fin", "msg-1"), "updated")
	r = e.row(id)
	if r.Status != "delivered" || r.DeliveredAt == nil || !r.DeliveredAt.Equal(time.Date(2026, 1, 1, 10, 0, 5, 100e6, time.UTC)) ||
		!r.SentAt.Equal(time.Date(2026, 1, 1, 10, 0, 1, 500e6, time.UTC)) {
		t.Fatalf("after finalized: %+v", r)
	}

	// Statuses only move forward: a late message.sent, or a contradicting
	// second finalized, changes nothing.
	out = e.post(e.receipt("message_sent.json", "ev-sent-late", "msg-1"), "unchanged")
	if out["notification_status"] != "delivered" {
		t.Fatalf("%v", out)
	}
	e.post(e.receipt("message_finalized_failed.json", "ev-fin-2", "msg-1"), "unchanged")
	if r2 := e.row(id); r2.Status != "delivered" || r2.FailedAt != nil || r2.LastError != "" {
		t.Fatalf("terminal row moved: %+v", r2)
	}

	// A finalized receipt overtaking message.sent takes a sending row
	// straight to delivered, and the late sent leaves it there.
	id2 := e.notification("msg-2", "sending")
	e.post(e.receipt("message_finalized_delivered.json", "ev-fin-b", "msg-2"), "updated")
	e.post(e.receipt("message_sent.json", "ev-sent-b", "msg-2"), "unchanged")
	if r := e.row(id2); r.Status != "delivered" || r.SentAt == nil || r.DeliveredAt == nil {
		t.Fatalf("overtaken: %+v", r)
	}

	// Skipped is final too.
	id3 := e.notification("msg-3", "skipped")
	e.post(e.receipt("message_finalized_delivered.json", "ev-fin-c", "msg-3"), "unchanged")
	if r := e.row(id3); r.Status != "skipped" {
		t.Fatalf("skipped row moved: %+v", r)
	}
}

func TestTelnyxWebhookFailedAndUnconfirmed(t *testing.T) {
	e := newTelnyxEnv(t)
	failed := e.notification("msg-f", "sent")
	e.post(e.receipt("message_finalized_failed.json", "ev-f", "msg-f"), "updated")
	r := e.row(failed)
	if r.Status != "failed" || r.FailedAt == nil || r.LastError != "40008 Undeliverable: The message was not delivered to the handset." {
		t.Fatalf("failed: %+v", r)
	}
	e.post(e.receipt("message_finalized_delivered.json", "ev-f2", "msg-f"), "unchanged")
	if r := e.row(failed); r.Status != "failed" {
		t.Fatalf("failed row moved: %+v", r)
	}

	// sending_failed without errors[] records the status as the reason.
	sf := e.notification("msg-sf", "sending")
	e.post(e.body("message_finalized_failed.json", "ev-sf", func(p map[string]any) {
		p["id"] = "msg-sf"
		p["errors"] = []any{}
		p["to"].([]any)[0].(map[string]any)["status"] = "sending_failed"
	}), "updated")
	if r := e.row(sf); r.Status != "failed" || r.LastError != "sending_failed" {
		t.Fatalf("sending_failed: %+v", r)
	}

	// delivery_unconfirmed is not a failure: the row stays sent, with why.
	un := e.notification("msg-u", "sent")
	e.post(e.receipt("message_finalized_unconfirmed.json", "ev-u", "msg-u"), "updated")
	r = e.row(un)
	if r.Status != "sent" || r.FailedAt != nil || r.LastError != "40006 Recipient server unavailable: No delivery receipt was returned by the carrier." {
		t.Fatalf("unconfirmed: %+v", r)
	}
}

func TestTelnyxWebhookUnknownMessageAndIgnored(t *testing.T) {
	e := newTelnyxEnv(t)
	e.post(e.receipt("message_finalized_delivered.json", "ev-x", "not-ours"), "unknown_message")
	if n := e.count(`SELECT count(*) FROM telnyx_events WHERE event_id = 'ev-x'`); n != 1 {
		t.Fatalf("unknown-message event recorded %d times", n)
	}
	e.post(e.receipt("message_finalized_delivered.json", "ev-x", "not-ours"), "duplicate")

	e.post([]byte(`{"data":{"record_type":"event","id":"ev-call","event_type":"call.bridged","occurred_at":"2026-01-01T10:00:00Z","payload":{}}}`), "ignored")
	if n := e.count(`SELECT count(*) FROM telnyx_events WHERE event_id = 'ev-call'`); n != 0 {
		t.Fatal("ignored event recorded")
	}
}

func TestTelnyxWebhookDuplicates(t *testing.T) {
	e := newTelnyxEnv(t)
	id := e.notification("msg-d", "sent")
	body := e.receipt("message_finalized_failed.json", "ev-dup", "msg-d")
	e.post(body, "updated")
	first := e.row(id)
	e.post(body, "duplicate")
	if r := e.row(id); r.Status != "failed" || !r.FailedAt.Equal(*first.FailedAt) {
		t.Fatalf("duplicate changed the row: %+v", r)
	}

	// Ten concurrent copies of one event: exactly one applies it.
	id2 := e.notification("msg-c", "sending")
	body = e.receipt("message_finalized_delivered.json", "ev-conc", "msg-c")
	statuses := make(chan string, 10)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out := e.send(body, nil)
			if code != http.StatusOK {
				t.Errorf("copy answered %d %v", code, out)
			}
			statuses <- out["status"].(string)
		}()
	}
	wg.Wait()
	close(statuses)
	got := map[string]int{}
	for s := range statuses {
		got[s]++
	}
	if got["updated"] != 1 || got["duplicate"] != 9 {
		t.Fatalf("concurrent copies: %v", got)
	}
	if r := e.row(id2); r.Status != "delivered" {
		t.Fatalf("%+v", r)
	}
	if n := e.count(`SELECT count(*) FROM telnyx_events WHERE event_id = 'ev-conc'`); n != 1 {
		t.Fatalf("%d event rows", n)
	}
}

func TestTelnyxWebhookRejects(t *testing.T) {
	e := newTelnyxEnv(t)
	id := e.notification("msg-a", "sending")
	body := e.receipt("message_finalized_delivered.json", "ev-auth", "msg-a")
	ts := strconv.FormatInt(e.now.Unix(), 10)
	old := strconv.FormatInt(e.now.Unix()-301, 10)
	future := strconv.FormatInt(e.now.Unix()+301, 10)
	other := newTelnyxSigner(t)
	tampered := append(bytes.Clone(body[:len(body)-1]), ' ', '}')

	cases := []struct {
		name    string
		body    []byte
		headers map[string]string
	}{
		{"missing signature", body, map[string]string{TelnyxSignatureHeader: ""}},
		{"missing timestamp", body, map[string]string{TelnyxTimestampHeader: ""}},
		{"garbage signature", body, map[string]string{TelnyxSignatureHeader: "%%%"}},
		{"other key", body, map[string]string{TelnyxSignatureHeader: other.sign(ts, body)}},
		{"body re-serialised after signing", tampered, map[string]string{TelnyxSignatureHeader: e.signer.sign(ts, body)}},
		{"stale", body, map[string]string{TelnyxTimestampHeader: old, TelnyxSignatureHeader: e.signer.sign(old, body)}},
		{"future", body, map[string]string{TelnyxTimestampHeader: future, TelnyxSignatureHeader: e.signer.sign(future, body)}},
	}
	for _, c := range cases {
		code, out := e.send(c.body, c.headers)
		errBody, _ := out["error"].(map[string]any)
		if code != http.StatusUnauthorized || errBody["code"] != "UNAUTHENTICATED" {
			t.Errorf("%s: %d %v", c.name, code, out)
		}
	}
	// Inbound STOP with a bad signature stores nothing either.
	if code, _ := e.send(e.inbound("ev-stop-forged", "+15555550123", "STOP"), map[string]string{TelnyxSignatureHeader: other.sign(ts, body)}); code != http.StatusUnauthorized {
		t.Fatalf("forged STOP answered %d", code)
	}
	if n := e.count(`SELECT count(*) FROM telnyx_events`) + e.count(`SELECT count(*) FROM sms_opt_outs`); n != 0 {
		t.Fatalf("rejected requests stored %d rows", n)
	}
	if r := e.row(id); r.Status != "sending" {
		t.Fatalf("rejected receipt applied: %+v", r)
	}

	// Signed but malformed: 400.
	if code, out := e.send([]byte(`{"data":{"event_type":"message.sent"}}`), nil); code != http.StatusBadRequest {
		t.Fatalf("malformed: %d %v", code, out)
	}
	// Only POST.
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/telnyx", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET answered %d", rec.Code)
	}
	// No key configured: 503, never a panic and never an unverified event.
	e.h.PublicKey = nil
	if code, _ := e.send(body, nil); code != http.StatusServiceUnavailable {
		t.Fatalf("unconfigured: %d", code)
	}
}

func TestTelnyxWebhookDatabaseDown(t *testing.T) {
	e := newTelnyxEnv(t)
	down, err := store.Open("postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	e.h.DB = down
	code, out := e.send(e.receipt("message_finalized_delivered.json", "ev-down", "msg-1"), nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("database down: %d %v", code, out)
	}
	code, _ = e.send(e.inbound("ev-down-2", "+15555550123", "STOP"), nil)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("database down (inbound): %d", code)
	}
}
