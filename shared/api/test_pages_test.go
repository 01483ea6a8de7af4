package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/notify"
	"github.com/frostguard/functions/shared/testenv"
)

// TestContactTestPages: a manager proves a contact is reachable with a
// clearly marked test page on a chosen channel (POST .../contacts/{id}/test):
// queued in the outbox (202, its log entry), at most one a minute and five
// an hour per contact (429), a channel the contact lacks is a field error,
// a deactivated contact or one of another organisation 404, audited; once
// the dispatcher has sent it, the notification log shows the result, a
// provider's refusal with its reason.
func TestContactTestPages(t *testing.T) {
	e := newHierEnv(t)
	e.h.wireAsInProduction() // audited
	c := e.createContact(t, map[string]any{"name": "Alice", "phone": "+12125550101", "email": "Alice@Example.test"})
	smsOnly := e.createContact(t, map[string]any{"name": "Bob", "phone": "+12125550102"})
	base := e.path("/contacts/%s/test", c.ID)
	// Older test pages leave the one-a-minute window (and, with hours,
	// the hour).
	age := func(d time.Duration) {
		e.h.exec(`UPDATE notifications SET created_at = created_at - $1::interval WHERE kind = 'test'`, d.String())
	}

	var n domain.Notification
	e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "sms"}).must(t, http.StatusAccepted).JSON(t, &n)
	if n.Kind != "test" || n.Channel != "sms" || n.Status != "pending" || n.Recipient != "+12125550101" ||
		n.ContactID == nil || *n.ContactID != c.ID || n.AlertID != nil || n.CallState != nil {
		t.Fatalf("queued %+v", n)
	}
	var body string
	e.h.queryRow([]any{&body}, `SELECT body FROM notifications WHERE id = $1`, n.ID)
	if !strings.Contains(body, "TEST") || !strings.Contains(body, "not an alarm") || !strings.Contains(body, "Alpha") {
		t.Errorf("sms body %q", body)
	}
	r := e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "email"})
	if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "RATE_LIMITED" {
		t.Fatalf("a second test page within the minute: %d %s", r.Status, r.Body)
	}
	age(2 * time.Minute)
	e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "email"}).must(t, http.StatusAccepted).JSON(t, &n)
	var subject string
	e.h.queryRow([]any{&subject, &body}, `SELECT subject, body FROM notifications WHERE id = $1`, n.ID)
	if n.Recipient != "alice@example.test" || !strings.HasPrefix(subject, "[TEST]") || !strings.Contains(body, "not an alarm") {
		t.Errorf("e-mail %+v %q %q", n, subject, body)
	}
	age(2 * time.Minute)
	var call domain.Notification
	e.h.do(e.admin, http.MethodPost, base, map[string]any{"channel": "voice"}).must(t, http.StatusAccepted).JSON(t, &call)
	if call.Channel != "voice" || call.CallState == nil || *call.CallState != "queued" {
		t.Fatalf("call %+v", call)
	}
	for i := 0; i < 2; i++ {
		age(2 * time.Minute)
		e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "sms"}).must(t, http.StatusAccepted)
	}
	age(2 * time.Minute)
	if r := e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "sms"}); r.Status != http.StatusTooManyRequests {
		t.Fatalf("a sixth test page within the hour: %d %s", r.Status, r.Body)
	}
	age(time.Hour)
	e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "sms"}).must(t, http.StatusAccepted)

	// Bad input, other tenants, roles.
	mustFieldError(t, e.h.do(e.manager, http.MethodPost, e.path("/contacts/%s/test", smsOnly.ID), map[string]any{"channel": "email"}), "channel")
	mustFieldError(t, e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "pager"}), "channel")
	e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "sms", "extra": 1}).must(t, http.StatusBadRequest)
	e.h.do(e.other, http.MethodPost, e.otherPath("/contacts/%s/test", c.ID), map[string]any{"channel": "sms"}).must(t, http.StatusNotFound)
	e.h.do(e.staff, http.MethodPost, base, map[string]any{"channel": "sms"}).must(t, http.StatusForbidden)
	e.h.do(e.manager, http.MethodPatch, e.path("/contacts/%s", smsOnly.ID), map[string]any{"is_active": false}).must(t, http.StatusOK)
	e.h.do(e.manager, http.MethodPost, e.path("/contacts/%s/test", smsOnly.ID), map[string]any{"channel": "sms"}).must(t, http.StatusNotFound)
	var audited int
	e.h.queryRow([]any{&audited}, `SELECT count(*) FROM audit_log WHERE organization_id = $1
		AND action = 'POST /api/v1/orgs/{orgId}/contacts/{contactId}/test' AND entity_id = $2`, e.org, c.ID)
	if audited != 6 {
		t.Errorf("%d audit lines, want 6", audited)
	}

	// The dispatcher decides a test page like any message: this trial
	// organisation's contact has not verified the phone, so the log says
	// the call was skipped and why. Verified, the call is placed; a refused
	// dial shows with the provider's reason.
	calls := testenv.NewTelnyxCalls(t, "KEY_test_pages")
	d := &notify.Dispatcher{DB: e.h.db, Voice: notify.NewTelnyxCalls(notify.TelnyxCallsConfig{APIKey: "KEY_test_pages", BaseURL: calls.URL,
		From: "+18445550001", ConnectionID: "cc-test"}, &http.Client{Timeout: 2 * time.Second})}
	e.h.exec(`UPDATE notifications SET next_attempt_at = now() - interval '1 second', status = 'skipped' WHERE kind = 'test' AND channel <> 'voice'`)
	if _, err := d.DispatchDue(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Data []domain.Notification `json:"items"`
	}
	e.h.do(e.viewer, http.MethodGet, e.path("/notifications?contact_id=%s&kind=test&channel=voice", c.ID), nil).must(t, http.StatusOK).JSON(t, &log)
	if len(log.Data) != 1 || log.Data[0].Status != "skipped" || log.Data[0].LastError == nil || *log.Data[0].LastError != notify.ReasonUnverifiedContact ||
		log.Data[0].Recipient != "+*******0101" {
		t.Fatalf("the unverified test call in the log: %+v", log.Data)
	}
	e.h.exec(`UPDATE escalation_contacts SET phone_verified_at = now() WHERE id = $1`, c.ID)
	e.h.exec(`UPDATE organizations SET sms_allowed_countries = '{US}' WHERE id = $1`, e.org)
	age(time.Hour)
	e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "voice"}).must(t, http.StatusAccepted).JSON(t, &call)
	if _, err := d.DispatchDue(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	e.h.do(e.viewer, http.MethodGet, e.path("/notifications?contact_id=%s&kind=test&channel=voice", c.ID), nil).must(t, http.StatusOK).JSON(t, &log)
	if len(log.Data) != 2 || log.Data[0].ID != call.ID || log.Data[0].Status != "sent" || log.Data[0].CallState == nil ||
		*log.Data[0].CallState != "calling" {
		t.Fatalf("the test call in the log: %+v", log.Data[0])
	}
	if cmds := calls.Commands(); len(cmds) != 1 || cmds[0].Action != "dial" || cmds[0].Body["to"] != "+12125550101" {
		t.Fatalf("dials %+v", cmds)
	}
	age(2 * time.Minute)
	e.h.do(e.manager, http.MethodPost, base, map[string]any{"channel": "voice"}).must(t, http.StatusAccepted).JSON(t, &call)
	calls.FailNextDial(http.StatusUnprocessableEntity)
	if _, err := d.DispatchDue(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	e.h.do(e.manager, http.MethodGet, e.path("/notifications?contact_id=%s&kind=test&channel=voice", c.ID), nil).must(t, http.StatusOK).JSON(t, &log)
	if len(log.Data) != 3 || log.Data[0].ID != call.ID || log.Data[0].Status != "failed" || log.Data[0].LastError == nil ||
		!strings.Contains(*log.Data[0].LastError, "Dial refused") || log.Data[0].Recipient != "+12125550101" {
		t.Fatalf("the refused test call in the log: %+v", log.Data[0])
	}
}
