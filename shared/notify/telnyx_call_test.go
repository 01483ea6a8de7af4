package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/testenv"
)

// callEnv is telnyxEnv with a voice page to the on-call contact, the
// Call Control fake behind both the dispatcher (dial) and the webhook
// (commands).
type callEnv struct {
	*telnyxEnv
	fake      *testenv.TelnyxCalls
	d         *Dispatcher
	contactID string
	seq       int
}

const callTestKey = "KEY_calls"

func newCallEnv(t *testing.T) *callEnv {
	e := &callEnv{telnyxEnv: newTelnyxEnv(t), fake: testenv.NewTelnyxCalls(t, callTestKey)}
	calls := NewTelnyxCalls(TelnyxCallsConfig{APIKey: callTestKey, BaseURL: e.fake.URL, From: "+18445550001",
		ConnectionID: "1684641123236054244", WebhookURL: "https://api.frostguard.example/webhooks/telnyx"},
		&http.Client{Timeout: 2 * time.Second})
	e.h.Calls = calls
	e.d = &Dispatcher{DB: e.db, Voice: calls, Now: func() time.Time { return e.now }}
	e.contactID = e.contact(e.orgID, "Dana", "+15555550123", true, nil)
	return e
}

// voicePage queues a voice row of the alert's step for the contact, as
// paging writes it (queued, two redials three minutes apart).
func (e *callEnv) voicePage(step int) string {
	return e.scalar(`INSERT INTO notifications (organization_id, alert_id, escalation_step, contact_id, recipient, channel,
			call_state, redials_left, redial_after_seconds, body, next_attempt_at)
		VALUES ($1, $2, $3, $4, '+15555550123', 'voice', 'queued', 2, 180, 'FrostGuard critical alarm.', $5) RETURNING id`,
		e.orgID, e.alertID, step, e.contactID, e.now)
}

// dial dispatches the due rows and returns the dial the fake received for
// notification id.
func (e *callEnv) dial(id string) (callID, clientState string) {
	e.t.Helper()
	if _, err := e.d.DispatchDue(context.Background(), 10); err != nil {
		e.t.Fatal(err)
	}
	for _, c := range e.fake.Commands() {
		if c.Action == "dial" && c.Body["command_id"] == id {
			return c.CallControlID, c.Body["client_state"].(string)
		}
	}
	e.t.Fatalf("no dial for %s: %+v (refused %v)", id, e.fake.Commands(), e.fake.Refused())
	return "", ""
}

// event posts a call event of the fixture with the call, the client state
// and the fields given, and expects a 200 with want.
func (e *callEnv) event(file, callID, clientState string, fields map[string]any, want string) map[string]any {
	e.t.Helper()
	e.seq++
	body := e.body(file, "call-ev-"+e.testName()+"-"+itoa(e.seq), func(p map[string]any) {
		p["call_control_id"], p["client_state"] = callID, clientState
		for k, v := range fields {
			p[k] = v
		}
	})
	return e.post(body, want)
}

func (e *callEnv) testName() string { return strings.ReplaceAll(e.t.Name(), "/", "-") }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// lastCommand is the fake's newest command on the call, and its client
// state re-encoded as Telnyx sends it back on the next events.
func (e *callEnv) lastCommand(callID string) (action, text, clientState string) {
	e.t.Helper()
	cmds := e.fake.Commands()
	for i := len(cmds) - 1; i >= 0; i-- {
		if cmds[i].CallControlID == callID {
			text, _ = cmds[i].Body["payload"].(string)
			clientState, _ = cmds[i].Body["client_state"].(string)
			return cmds[i].Action, text, clientState
		}
	}
	e.t.Fatalf("no command on %s", callID)
	return
}

func (e *callEnv) callRow(id string) (status, state, lastError string) {
	e.t.Helper()
	var le *string
	if err := testenv.Pool(e.db).QueryRow(context.Background(), `SELECT status, call_state, last_error FROM notifications WHERE id = $1`, id).
		Scan(&status, &state, &le); err != nil {
		e.t.Fatal(err)
	}
	if le != nil {
		lastError = *le
	}
	return
}

// TestVoicePageAnsweredAndAcknowledgedByKey1: the dial carries our ids in
// client_state (base64 JSON, as Telnyx requires) and the command id; the
// events move the row forward (calling, answered, acknowledged); a person
// hears the alarm twice with the keys; key 1 acknowledges the alert for
// that contact through the same write as "ACK <code>" (history, audit);
// the call says so, hangs up, and the page reads delivered. Duplicates and
// late events change nothing, and every command passed the fake's checks.
func TestVoicePageAnsweredAndAcknowledgedByKey1(t *testing.T) {
	e := newCallEnv(t)
	id := e.voicePage(1)
	callID, cs := e.dial(id)

	dial := e.fake.Commands()[0]
	var state CallState
	if err := json.Unmarshal([]byte(dial.ClientState), &state); err != nil || state.Org != e.orgID || state.Notification != id {
		t.Fatalf("client_state %q does not carry our ids", dial.ClientState)
	}
	for k, want := range map[string]any{"connection_id": "1684641123236054244", "to": "+15555550123", "from": "+18445550001",
		"answering_machine_detection": "detect", "webhook_url": "https://api.frostguard.example/webhooks/telnyx", "command_id": id} {
		if dial.Body[k] != want {
			t.Errorf("dial %s = %v, want %v", k, dial.Body[k], want)
		}
	}
	if status, st, _ := e.callRow(id); status != "sent" || st != CallCalling {
		t.Fatalf("after the dial: %s %s", status, st)
	}

	e.event("call_initiated.json", callID, cs, nil, "updated")
	e.event("call_answered.json", callID, cs, nil, "updated")
	if _, st, _ := e.callRow(id); st != CallAnsweredSt {
		t.Fatalf("answered: %s", st)
	}
	// A late call.initiated does not move the row back.
	e.event("call_initiated.json", callID, cs, nil, "updated")
	if _, st, _ := e.callRow(id); st != CallAnsweredSt {
		t.Fatalf("moved back to %s", st)
	}
	e.event("call_machine_detection_ended.json", callID, cs, map[string]any{"result": "human"}, "updated")
	action, text, menuState := e.lastCommand(callID)
	if action != "gather_using_speak" || strings.Count(text, "Walk-in cooler") != 2 || !strings.Contains(text, "for 15 minutes") ||
		!strings.Contains(text, "Press 1 to acknowledge") {
		t.Fatalf("menu: %s %q", action, text)
	}

	res := e.event("call_gather_ended.json", callID, menuState, map[string]any{"digits": "1", "status": "valid"}, "updated")
	if res["outcome"] != "acknowledged" || res["call_state"] != CallAcknowledged {
		t.Fatalf("key 1: %v", res)
	}
	var alertStatus, note string
	if err := testenv.Pool(e.db).QueryRow(context.Background(), `SELECT status, acknowledged_note FROM alerts WHERE id = $1`, e.alertID).
		Scan(&alertStatus, &note); err != nil || alertStatus != "acknowledged" || note != "Acknowledged on a phone call to +*******0123 (Dana)" {
		t.Fatalf("alert %s %q %v", alertStatus, note, err)
	}
	if n := e.count(`SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'acknowledged'
		AND data->>'channel' = 'voice' AND data->>'contact_id' = $2`, e.alertID, e.contactID); n != 1 {
		t.Fatalf("%d acknowledgement events", n)
	}
	if n := e.count(`SELECT count(*) FROM audit_log WHERE action = 'alert.acknowledged_by_voice' AND entity_id = $1`, e.alertID); n != 1 {
		t.Fatalf("%d audit lines", n)
	}
	action, text, byeState := e.lastCommand(callID)
	if action != "speak" || text != alerting.VoiceAcknowledged {
		t.Fatalf("after key 1: %s %q", action, text)
	}
	// Telnyx retries the gather event: a duplicate, nothing said twice.
	before := len(e.fake.Commands())
	e.post(e.body("call_gather_ended.json", "call-ev-"+e.testName()+"-"+itoa(e.seq), func(p map[string]any) {
		p["call_control_id"], p["client_state"], p["digits"], p["status"] = callID, menuState, "1", "valid"
	}), "duplicate")
	if len(e.fake.Commands()) != before {
		t.Fatal("a duplicate event sent a command")
	}

	e.event("call_speak_ended.json", callID, byeState, nil, "updated")
	if action, _, _ := e.lastCommand(callID); action != "hangup" {
		t.Fatalf("after the last words: %s", action)
	}
	e.event("call_hangup.json", callID, byeState, map[string]any{"hangup_cause": "normal_clearing", "sip_hangup_cause": "200"}, "updated")
	if status, st, _ := e.callRow(id); status != "delivered" || st != CallAcknowledged {
		t.Fatalf("after the hangup: %s %s", status, st)
	}
	if n := e.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND channel = 'voice'`, e.alertID); n != 1 {
		t.Fatalf("an acknowledged call was placed again (%d rows)", n)
	}
	if r := e.fake.Refused(); len(r) > 0 {
		t.Fatalf("Telnyx would have refused: %v", r)
	}
}

// TestVoicePageUnansweredIsCalledAgain: no answer, then a voicemail: each
// ends its row (failed no_answer; delivered voicemail, not acknowledged)
// and queues the next call of the step after its delay, with the alert's
// history saying so, until the redials run out; the escalation is not held.
func TestVoicePageUnansweredIsCalledAgain(t *testing.T) {
	e := newCallEnv(t)
	first := e.voicePage(1)
	callID, cs := e.dial(first)
	e.event("call_initiated.json", callID, cs, nil, "updated")
	e.event("call_hangup.json", callID, cs, map[string]any{"hangup_cause": "timeout", "sip_hangup_cause": "487"}, "updated")
	if status, st, le := e.callRow(first); status != "failed" || st != CallNoAnswer || le != "no answer (timeout)" {
		t.Fatalf("first call: %s %s %q", status, st, le)
	}
	var second string
	var due time.Time
	if err := testenv.Pool(e.db).QueryRow(context.Background(), `SELECT id, next_attempt_at FROM notifications
		WHERE alert_id = $1 AND channel = 'voice' AND redial = 1 AND redials_left = 1 AND call_state = 'queued' AND status = 'pending'`,
		e.alertID).Scan(&second, &due); err != nil {
		t.Fatalf("no second call queued: %v", err)
	}
	if !due.Equal(e.now.Add(3 * time.Minute)) {
		t.Fatalf("second call due %v, want 3 minutes after %v", due, e.now)
	}
	if n := e.count(`SELECT count(*) FROM alert_events WHERE alert_id = $1 AND kind = 'call_unanswered' AND note LIKE '%no_answer; calling again in 3 minutes'`, e.alertID); n != 1 {
		t.Fatalf("%d history lines", n)
	}
	if n := e.count(`SELECT count(*) FROM alerts WHERE id = $1 AND next_escalation_at IS NOT NULL`, e.alertID); n != 1 {
		t.Fatal("the escalation was held")
	}

	// Not due yet: nothing dialled. Three minutes later the second call
	// goes, to a machine: a short voicemail, then the third call is queued.
	if _, err := e.d.DispatchDue(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.Commands()); n != 1 {
		t.Fatalf("%d dials before the delay", n)
	}
	e.now = e.now.Add(3 * time.Minute)
	callID2, cs2 := e.dial(second)
	e.event("call_answered.json", callID2, cs2, nil, "updated")
	e.event("call_machine_detection_ended.json", callID2, cs2, map[string]any{"result": "machine"}, "updated")
	action, text, bye := e.lastCommand(callID2)
	if action != "speak" || !strings.Contains(text, "check your text messages") {
		t.Fatalf("voicemail: %s %q", action, text)
	}
	e.event("call_speak_ended.json", callID2, bye, nil, "updated")
	e.event("call_hangup.json", callID2, bye, map[string]any{"hangup_cause": "normal_clearing"}, "updated")
	if status, st, le := e.callRow(second); status != "delivered" || st != CallVoicemail || le != "voicemail left: not acknowledged" {
		t.Fatalf("second call: %s %s %q", status, st, le)
	}
	if n := e.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND channel = 'voice' AND redial = 2 AND redials_left = 0`, e.alertID); n != 1 {
		t.Fatalf("third call queued %d times", n)
	}
	if st := e.scalar(`SELECT status FROM alerts WHERE id = $1`, e.alertID); st != "active" {
		t.Fatalf("a voicemail acknowledged the alert: %s", st)
	}

	// The alert is acknowledged by SMS meanwhile: the third call is not
	// placed (the dispatcher's rule), and nothing more is queued.
	e.exec(`UPDATE alerts SET status = 'acknowledged', acknowledged_at = $2 WHERE id = $1`, e.alertID, e.now)
	e.now = e.now.Add(3 * time.Minute)
	if _, err := e.d.DispatchDue(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM notifications WHERE alert_id = $1 AND redial = 2 AND status = 'skipped' AND last_error = 'alert_acknowledged'`, e.alertID); n != 1 {
		t.Fatal("the third call was not skipped")
	}
	if r := e.fake.Refused(); len(r) > 0 {
		t.Fatalf("Telnyx would have refused: %v", r)
	}
}

// TestCallEventsNotOurs: an event whose client_state is missing, not ours,
// names another organisation's row, or whose call is not the row's, is
// recorded and answered 200 unknown_call, and moves nothing.
func TestCallEventsNotOurs(t *testing.T) {
	e := newCallEnv(t)
	id := e.voicePage(1)
	callID, cs := e.dial(id)
	other := e.org("Other Co", "other")
	foreign := CallState{Org: other, Notification: id}.Encode()
	for name, c := range map[string][2]string{
		"no client state":    {callID, ""},
		"not ours":           {callID, "aGVsbG8="},
		"another org's id":   {callID, foreign},
		"another call's ids": {"v3:someone-else", cs},
	} {
		t.Run(name, func(t *testing.T) {
			e.event("call_hangup.json", c[0], c[1], map[string]any{"hangup_cause": "timeout"}, "unknown_call")
		})
	}
	if status, st, _ := e.callRow(id); status != "sent" || st != CallCalling {
		t.Fatalf("moved by foreign events: %s %s", status, st)
	}
}

func (e *callEnv) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := testenv.Pool(e.db).Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatal(err)
	}
}

// TestCallEventsSignatureAndFreshness: a call event is verified like every
// Telnyx event: key 1 forged with another key, replayed after five
// minutes or from the future is 401, recorded nowhere, sends no command
// and acknowledges nothing; the genuine event then acknowledges.
func TestCallEventsSignatureAndFreshness(t *testing.T) {
	e := newCallEnv(t)
	id := e.voicePage(1)
	callID, cs := e.dial(id)
	e.event("call_answered.json", callID, cs, nil, "updated")
	e.event("call_machine_detection_ended.json", callID, cs, map[string]any{"result": "human"}, "updated")
	_, _, menuState := e.lastCommand(callID)
	commands := len(e.fake.Commands())
	events := e.count(`SELECT count(*) FROM telnyx_events`)

	body := e.body("call_gather_ended.json", "call-ev-forged-key1", func(p map[string]any) {
		p["call_control_id"], p["client_state"], p["digits"], p["status"] = callID, menuState, "1", "valid"
	})
	ts := strconv.FormatInt(e.now.Unix(), 10)
	old := strconv.FormatInt(e.now.Unix()-301, 10)
	future := strconv.FormatInt(e.now.Unix()+301, 10)
	for name, headers := range map[string]map[string]string{
		"another key":       {TelnyxSignatureHeader: newTelnyxSigner(t).sign(ts, body)},
		"no signature":      {TelnyxSignatureHeader: ""},
		"stale":             {TelnyxTimestampHeader: old, TelnyxSignatureHeader: e.signer.sign(old, body)},
		"from the future":   {TelnyxTimestampHeader: future, TelnyxSignatureHeader: e.signer.sign(future, body)},
		"no timestamp":      {TelnyxTimestampHeader: ""},
		"garbage signature": {TelnyxSignatureHeader: "%%%"},
	} {
		if code, out := e.send(body, headers); code != http.StatusUnauthorized {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	if n := e.count(`SELECT count(*) FROM telnyx_events`); n != events {
		t.Fatalf("refused events recorded: %d -> %d", events, n)
	}
	if n := len(e.fake.Commands()); n != commands {
		t.Fatalf("a refused event sent a command")
	}
	if st := e.scalar(`SELECT status FROM alerts WHERE id = $1`, e.alertID); st != "active" {
		t.Fatalf("a forged key 1 acknowledged the alert: %s", st)
	}
	if _, st, _ := e.callRow(id); st != CallAnsweredSt {
		t.Fatalf("call_state %s", st)
	}
	e.post(body, "updated")
	if st := e.scalar(`SELECT status FROM alerts WHERE id = $1`, e.alertID); st != "acknowledged" {
		t.Fatalf("the genuine key 1: %s", st)
	}
}
