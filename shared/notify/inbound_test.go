package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

func TestKeyword(t *testing.T) {
	cases := []struct {
		text, kind, code string
	}{
		{"STOP", KeywordOptOut, ""},
		{"stop", KeywordOptOut, ""},
		{"  Stop. ", KeywordOptOut, ""},
		{"STOPALL", KeywordOptOut, ""},
		{"Unsubscribe", KeywordOptOut, ""},
		{"cancel", KeywordOptOut, ""},
		{"END", KeywordOptOut, ""},
		{"quit!", KeywordOptOut, ""},
		{"START", KeywordOptIn, ""},
		{"unstop", KeywordOptIn, ""},
		{"HELP", KeywordHelp, ""},
		{"help?", KeywordHelp, ""},
		{"Info", KeywordHelp, ""},
		{"ACK 7F3A2C", KeywordAck, "7F3A2C"},
		{"ack 7f3a2c", KeywordAck, "7F3A2C"},
		{"Ack: abcd", KeywordAck, "ABCD"},
		{"ACK-ABCDEFGHIJ", KeywordAck, "ABCDEFGHIJ"},
		{"ACK #1234.", KeywordAck, "1234"},
		{"\tACK   7F3A2C\n", KeywordAck, "7F3A2C"},
		{"ACK ABC", KeywordNone, ""},         // code too short
		{"ACK ABCDEFGHIJK", KeywordNone, ""}, // code too long
		{"ACK 7F3A-2C", KeywordNone, ""},     // not alphanumeric
		{"ACK 7F3A 2C", KeywordNone, ""},     // two words
		{"ACK ÄBCD", KeywordNone, ""},        // not ASCII
		{"ACK7F3A2C", KeywordNone, ""},       // no separator
		{"ACK", KeywordNone, ""},             // no code
		{"ACKNOWLEDGED", KeywordNone, ""},    // a word, not ACK <code>
		{"please stop", KeywordNone, ""},     // keywords only alone
		{"stop the alarm", KeywordNone, ""},
		{"STOP STOP", KeywordNone, ""},
		{"", KeywordNone, ""},
		{"   ", KeywordNone, ""},
		{"Hello, World!", KeywordNone, ""},
		{"STARTED", KeywordNone, ""},
		{"ﬅop", KeywordNone, ""}, // ligature does not fold to STOP
	}
	for _, c := range cases {
		kind, code := Keyword(c.text)
		if kind != c.kind || code != c.code {
			t.Errorf("Keyword(%q) = %q %q, want %q %q", c.text, kind, code, c.kind, c.code)
		}
	}
}

func TestInboundPhone(t *testing.T) {
	cases := map[string]string{
		"+15555550123":       "+15555550123",
		" +1 (555) 555-0123": "+15555550123",
		"+44.20.7946.0018":   "+442079460018",
		"0015555550123":      "+15555550123",
		"+491711234567890":   "+491711234567890", // 15 digits
		"+4917112345678901":  "",                 // 16 digits
		"5555550123":         "",                 // no country code
		"12345":              "",                 // short code
		"+0123456":           "",
		"+1":                 "",
		"+1555555012a":       "",
		"1+5555550123":       "",
		"":                   "",
		"++15555550123":      "",
	}
	for in, want := range cases {
		if got := InboundPhone(in); got != want {
			t.Errorf("InboundPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAckNote(t *testing.T) {
	if got := AckNote("+15555550123", "Dana Cook"); got != "Acknowledged by SMS from +*******0123 (Dana Cook)" {
		t.Fatal(got)
	}
}

func TestTelnyxWebhookStopStart(t *testing.T) {
	e := newTelnyxEnv(t)
	optedOut := func() int { return e.count(`SELECT count(*) FROM sms_opt_outs WHERE phone = '+15555550123'`) }

	e.post(e.inbound("ev-stop", "+15555550123", "Stop"), "opted_out")
	if optedOut() != 1 || e.scalar(`SELECT source FROM sms_opt_outs`) != "inbound_sms" {
		t.Fatal("STOP did not opt out")
	}
	e.post(e.inbound("ev-stop-2", "+15555550123", "UNSUBSCRIBE"), "opted_out") // idempotent
	e.post(e.inbound("ev-start", "+15555550123", "start"), "opted_in")
	if optedOut() != 0 {
		t.Fatal("START did not opt back in")
	}
	// A redelivered STOP after START is a duplicate: the opt-in stands.
	e.post(e.inbound("ev-stop", "+15555550123", "Stop"), "duplicate")
	if optedOut() != 0 {
		t.Fatal("a duplicate STOP opted out again")
	}
	// A short code sender cannot be stored: recorded, ignored.
	e.post(e.inbound("ev-short", "12345", "STOP"), "ignored")
	if n := e.count(`SELECT count(*) FROM sms_opt_outs`); n != 0 {
		t.Fatalf("%d opt-outs", n)
	}
	if len(e.sms.messages()) != 0 {
		t.Fatal("STOP/START must not be answered by us")
	}
}

func TestTelnyxWebhookHelp(t *testing.T) {
	e := newTelnyxEnv(t)
	e.post(e.inbound("ev-help", "+15555550123", "HELP"), "help")
	e.post(e.inbound("ev-help", "+15555550123", "HELP"), "duplicate")
	msgs := e.sms.messages()
	if len(msgs) != 1 || msgs[0].to != "+15555550123" || msgs[0].body != DefaultHelpText || msgs[0].key != "telnyx-reply-ev-help" {
		t.Fatalf("help replies: %+v", msgs)
	}
	e.h.HelpText = "Acme cold-chain alerts. Call 555-0100."
	e.post(e.inbound("ev-info", "+15555550199", "info"), "help")
	if msgs = e.sms.messages(); len(msgs) != 2 || msgs[1].body != e.h.HelpText {
		t.Fatalf("custom help: %+v", msgs)
	}
	// A failing provider does not fail the webhook (the event is recorded).
	e.sms.err = errors.New("telnyx down")
	e.post(e.inbound("ev-help-3", "+15555550123", "help"), "help")
	// Other texts are recorded and ignored.
	e.post(e.inbound("ev-hello", "+15555550123", "Hello, World!"), "ignored")
	if n := e.count(`SELECT count(*) FROM telnyx_events WHERE event_type = 'message.received'`); n != 4 {
		t.Fatalf("%d inbound events recorded", n)
	}
}

func TestTelnyxWebhookAck(t *testing.T) {
	e := newTelnyxEnv(t)
	ctx := context.Background()
	user := e.scalar(`INSERT INTO users (subject, display_name) VALUES ('sub-dana', 'Dana') RETURNING id`)
	contactID := e.contact(e.orgID, "Dana Cook", "+15555550123", true, &user)
	e.paged(e.alertID, contactID, "+15555550123")
	e.contact(e.orgID, "Old entry", "+15555550177", false, nil)
	// Another organisation with an open alert; Sam is only its contact.
	org2 := e.org("Other Co", "other")
	alert2 := e.alert(org2, e.unit(org2), "BEEF01")
	e.contact(org2, "Sam", "+15555550188", true, nil)

	alertStatus := func(id string) string { return e.scalar(`SELECT status FROM alerts WHERE id = $1`, id) }

	// A stranger, an inactive contact, and a contact of another
	// organisation change nothing.
	out := e.post(e.inbound("ev-a1", "+15555550100", "ACK "+telnyxEnvAckCode), "ack")
	if out["outcome"] != "not_contact" {
		t.Fatalf("%v", out)
	}
	if out = e.post(e.inbound("ev-a2", "+15555550177", "ACK "+telnyxEnvAckCode), "ack"); out["outcome"] != "not_contact" {
		t.Fatalf("%v", out)
	}
	if out = e.post(e.inbound("ev-a3", "+15555550188", "ack "+telnyxEnvAckCode), "ack"); out["outcome"] != "unknown_code" {
		t.Fatalf("%v", out)
	}
	if out = e.post(e.inbound("ev-a4", "+15555550123", "ACK BEEF01"), "ack"); out["outcome"] != "unknown_code" {
		t.Fatalf("cross-organisation ack: %v", out)
	}
	if alertStatus(e.alertID) != "active" || alertStatus(alert2) != "active" {
		t.Fatal("an alert was acknowledged by someone who may not")
	}
	msgs := e.sms.messages()
	if len(msgs) != 2 || msgs[0].to != "+15555550188" || msgs[1].to != "+15555550123" || !strings.Contains(msgs[1].body, "no open alert") {
		t.Fatalf("strangers must get no reply, contacts a short one: %+v", msgs)
	}

	// The contact acknowledges: exactly like the api, recorded with who and how.
	if out = e.post(e.inbound("ev-ack", "+15555550123", " ack 7f3a2c "), "ack"); out["outcome"] != "acknowledged" {
		t.Fatalf("%v", out)
	}
	var status, note string
	var ackAt time.Time
	var ackBy *string
	var next *time.Time
	if err := testenv.Pool(e.db).QueryRow(ctx, `SELECT status, acknowledged_at, acknowledged_by, acknowledged_note, next_escalation_at
		FROM alerts WHERE id = $1`, e.alertID).Scan(&status, &ackAt, &ackBy, &note, &next); err != nil {
		t.Fatal(err)
	}
	if status != "acknowledged" || !ackAt.Equal(e.now) || ackBy == nil || *ackBy != user || next != nil ||
		note != "Acknowledged by SMS from +*******0123 (Dana Cook)" {
		t.Fatalf("alert after ACK: %s %v %v %q %v", status, ackAt, ackBy, note, next)
	}
	var data map[string]string
	var actor *string
	if err := testenv.Pool(e.db).QueryRow(ctx, `SELECT data, actor_user_id FROM alert_events WHERE alert_id = $1 AND kind = 'acknowledged'`,
		e.alertID).Scan(&data, &actor); err != nil {
		t.Fatal(err)
	}
	if data["channel"] != "sms" || data["contact_id"] != contactID || actor == nil || *actor != user {
		t.Fatalf("alert event %v actor %v", data, actor)
	}
	msgs = e.sms.messages()
	if last := msgs[len(msgs)-1]; last.to != "+15555550123" || last.body != "FrostGuard: alert 7F3A2C acknowledged. Escalation stopped." {
		t.Fatalf("confirmation %+v", last)
	}

	// Again (a new text): already acknowledged, nothing written twice.
	if out = e.post(e.inbound("ev-ack-2", "+15555550123", "ACK 7F3A2C"), "ack"); out["outcome"] != "already_acknowledged" {
		t.Fatalf("%v", out)
	}
	if n := e.count(`SELECT count(*) FROM alert_events WHERE alert_id = $1`, e.alertID); n != 1 {
		t.Fatalf("%d alert events", n)
	}
	// Resolved alerts' codes are free again and never match.
	if _, err := testenv.Pool(e.db).Exec(ctx, `UPDATE alerts SET status = 'resolved', resolved_at = now(), resolution = 'auto' WHERE id = $1`, e.alertID); err != nil {
		t.Fatal(err)
	}
	if out = e.post(e.inbound("ev-ack-3", "+15555550123", "ACK 7F3A2C"), "ack"); out["outcome"] != "unknown_code" {
		t.Fatalf("%v", out)
	}
}

// Ten concurrent deliveries of one ACK, and two different ACK texts at
// once: the alert is acknowledged once and one confirmation goes out.
func TestTelnyxWebhookAckConcurrent(t *testing.T) {
	e := newTelnyxEnv(t)
	e.paged(e.alertID, e.contact(e.orgID, "Dana Cook", "+15555550123", true, nil), "+15555550123")
	e.paged(e.alertID, e.contact(e.orgID, "Lee", "+15555550124", true, nil), "+15555550124")
	bodies := [][]byte{e.inbound("ev-lee", "+15555550124", "ACK 7F3A2C")}
	for range 10 {
		bodies = append(bodies, e.inbound("ev-dana", "+15555550123", "ACK 7F3A2C"))
	}
	outcomes := make(chan string, len(bodies))
	var wg sync.WaitGroup
	for _, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out := e.send(b, nil)
			if code != http.StatusOK {
				t.Errorf("%d %v", code, out)
			}
			o, _ := out["outcome"].(string)
			outcomes <- out["status"].(string) + "/" + o
		}()
	}
	wg.Wait()
	close(outcomes)
	got := map[string]int{}
	for o := range outcomes {
		got[o]++
	}
	if got["ack/acknowledged"] != 1 || got["ack/already_acknowledged"] != 1 || got["duplicate/"] != 9 {
		t.Fatalf("outcomes %v", got)
	}
	if n := e.count(`SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'acknowledged'`, e.alertID); n != 1 {
		t.Fatalf("%d acknowledged events", n)
	}
	if n := len(e.sms.messages()); n != 2 {
		t.Fatalf("%d replies (one confirmation, one already-acknowledged)", n)
	}
}

// The same number is a contact of two organisations whose open alerts share
// a code: no alert is silenced on a guess.
func TestTelnyxWebhookAckAmbiguous(t *testing.T) {
	e := newTelnyxEnv(t)
	org2 := e.org("Other Co", "other")
	alert2 := e.alert(org2, e.unit(org2), telnyxEnvAckCode)
	e.paged(e.alertID, e.contact(e.orgID, "Dana", "+15555550123", true, nil), "+15555550123")
	e.paged(alert2, e.contact(org2, "Dana", "+15555550123", true, nil), "+15555550123")
	if out := e.post(e.inbound("ev-amb", "+15555550123", "ACK 7F3A2C"), "ack"); out["outcome"] != "ambiguous" {
		t.Fatalf("%v", out)
	}
	if n := e.count(`SELECT count(*) FROM alerts WHERE id IN ($1, $2) AND status = 'active'`, e.alertID, alert2); n != 2 {
		t.Fatal("an ambiguous ACK acknowledged an alert")
	}
	// Opted-out contacts get no reply (the carrier would refuse it).
	if _, err := testenv.Pool(e.db).Exec(context.Background(), `INSERT INTO sms_opt_outs (phone) VALUES ('+15555550123')`); err != nil {
		t.Fatal(err)
	}
	before := len(e.sms.messages())
	e.post(e.inbound("ev-amb-2", "+15555550123", "ACK 7F3A2C"), "ack")
	if len(e.sms.messages()) != before {
		t.Fatal("replied to an opted-out number")
	}
}

// An alert of an organisation an origin import is still writing is nobody's
// to acknowledge yet: the code matches nothing until the import completes.
func TestTelnyxWebhookAckIgnoresAnImportingOrganisation(t *testing.T) {
	e := newTelnyxEnv(t)
	e.paged(e.alertID, e.contact(e.orgID, "Dana Cook", "+15555550123", true, nil), "+15555550123")
	if _, err := testenv.Pool(e.db).Exec(context.Background(), `UPDATE organizations SET import_state = 'importing' WHERE id = $1`, e.orgID); err != nil {
		t.Fatal(err)
	}
	if out := e.post(e.inbound("ev-imp-1", "+15555550123", "ACK "+telnyxEnvAckCode), "ack"); out["outcome"] != "unknown_code" {
		t.Fatalf("%v", out)
	}
	if s := e.scalar(`SELECT status FROM alerts WHERE id = $1`, e.alertID); s != "active" {
		t.Fatalf("alert %s", s)
	}
	if _, err := testenv.Pool(e.db).Exec(context.Background(), `UPDATE organizations SET import_state = NULL WHERE id = $1`, e.orgID); err != nil {
		t.Fatal(err)
	}
	if out := e.post(e.inbound("ev-imp-2", "+15555550123", "ACK "+telnyxEnvAckCode), "ack"); out["outcome"] != "acknowledged" {
		t.Fatalf("once live: %v", out)
	}
}

// paged records that the alert's escalation reached phone (an SMS sent).
func (e *telnyxEnv) paged(alertID, contactID, phone string) {
	e.t.Helper()
	e.step++
	if _, err := testenv.Pool(e.db).Exec(context.Background(), `INSERT INTO notifications (organization_id, alert_id, escalation_step, contact_id,
			recipient, channel, status, body, provider, attempts, sent_at)
		SELECT organization_id, id, $2, $3, $4, 'sms', 'sent', 'FrostGuard ALARM', 'telnyx', 1, now() FROM alerts WHERE id = $1`,
		alertID, e.step, contactID, phone); err != nil {
		e.t.Fatal(err)
	}
}

// An ACK code is accepted only from a contact the alert paged: another
// contact of the organisation, who was never paged for it, acknowledges
// nothing (the code is no key to someone else's alarm).
func TestAckOnlyFromAContactPagedForTheAlert(t *testing.T) {
	e := newTelnyxEnv(t)
	paged := e.contact(e.orgID, "Dana", "+15555550123", true, nil)
	e.contact(e.orgID, "Lee", "+15555550124", true, nil)
	e.paged(e.alertID, paged, "+15555550123")
	if out := e.post(e.inbound("ev-lee", "+15555550124", "ACK "+telnyxEnvAckCode), "ack"); out["outcome"] != "unknown_code" {
		t.Fatalf("a contact who was not paged: %v", out)
	}
	if s := e.scalar(`SELECT status FROM alerts WHERE id = $1`, e.alertID); s != "active" {
		t.Fatalf("the alert is %s", s)
	}
	if out := e.post(e.inbound("ev-dana", "+15555550123", "ACK "+telnyxEnvAckCode), "ack"); out["outcome"] != "acknowledged" {
		t.Fatalf("the paged contact: %v", out)
	}
}

// Wrong ACK codes are limited per phone: five failures in an hour get a
// reply each, then nothing is answered nor acknowledged from that phone
// for the rest of the hour, the right code included.
func TestAckFailedAttemptsAreLimitedPerPhone(t *testing.T) {
	e := newTelnyxEnv(t)
	dana := e.contact(e.orgID, "Dana", "+15555550123", true, nil)
	e.paged(e.alertID, dana, "+15555550123")
	for i := range 5 {
		if out := e.post(e.inbound(fmt.Sprintf("ev-guess-%d", i), "+15555550123", fmt.Sprintf("ACK 00000%d", i)), "ack"); out["outcome"] != "unknown_code" {
			t.Fatalf("guess %d: %v", i, out)
		}
	}
	replies := len(e.sms.messages())
	if replies != 5 {
		t.Fatalf("%d replies to 5 wrong codes", replies)
	}
	out := e.post(e.inbound("ev-guess-right", "+15555550123", "ACK "+telnyxEnvAckCode), "ack")
	if out["outcome"] != "throttled" || len(e.sms.messages()) != replies {
		t.Fatalf("the sixth attempt within the hour: %v, %d replies", out, len(e.sms.messages()))
	}
	if s := e.scalar(`SELECT status FROM alerts WHERE id = $1`, e.alertID); s != "active" {
		t.Fatalf("a throttled phone acknowledged the alert (%s)", s)
	}
	// An hour later the phone is heard again.
	e.now = e.now.Add(61 * time.Minute)
	if out := e.post(e.inbound("ev-later", "+15555550123", "ACK "+telnyxEnvAckCode), "ack"); out["outcome"] != "acknowledged" {
		t.Fatalf("an hour later: %v", out)
	}
}

// STOP, START and ACK by SMS are audited in the organisations they touch,
// in the event's transaction: a redelivery adds nothing.
func TestSMSStopStartAndAckAreAudited(t *testing.T) {
	e := newTelnyxEnv(t)
	dana := e.contact(e.orgID, "Dana", "+15555550123", true, nil)
	e.paged(e.alertID, dana, "+15555550123")
	e.post(e.inbound("ev-aud-stop", "+15555550123", "STOP"), "opted_out")
	e.post(e.inbound("ev-aud-stop", "+15555550123", "STOP"), "duplicate")
	e.post(e.inbound("ev-aud-start", "+15555550123", "START"), "opted_in")
	e.post(e.inbound("ev-aud-ack", "+15555550123", "ACK "+telnyxEnvAckCode), "ack")
	for action, want := range map[string]int{"sms.opted_out": 1, "sms.opted_in": 1, "alert.acknowledged_by_sms": 1} {
		if n := e.count(`SELECT count(*) FROM audit_log WHERE organization_id = $1 AND action = $2`, e.orgID, action); n != want {
			t.Errorf("%s: %d audit rows, want %d", action, n, want)
		}
	}
}
