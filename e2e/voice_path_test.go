package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// The voice path in one test, through the functions as they are wired: the
// on-call manager's policy is set to a phone call through the api; uplinks
// confirm an alarm and the ttn-webhook dials right after its commit (Call
// Control, client_state carrying our ids); Telnyx's signed call events
// reach the telnyx-webhook: answered, a person, the menu with the alarm
// twice, key 1; the alert is acknowledged by that contact, the call says so
// and hangs up, and the notification log shows the call acknowledged.
func TestAlarmToVoiceCallToKey1(t *testing.T) {
	st := newAlarmStack(t)
	const contactA, phone = "c0a7a000-0000-4000-8000-00000000000a", "+12125550100"

	// 1. The policy calls the contact (through the api, as the SPA would).
	code, res := st.api(http.MethodGet, "/notification-policies", "")
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(res), &list) != nil || len(list.Items) != 1 {
		t.Fatalf("policies: %d %s", code, res)
	}
	patch := fmt.Sprintf(`{"steps":[{"after_minutes":0,"channels":["voice"],"contact_ids":[%q],"voice_retries":1,"voice_retry_minutes":2}]}`, contactA)
	if code, res := st.api(http.MethodPatch, "/notification-policies/"+list.Items[0].ID, patch); code != http.StatusOK ||
		!strings.Contains(res, `"voice_retries":1`) {
		t.Fatalf("policy patch: %d %s", code, res)
	}

	// 2. An alarm: the call is placed right after the uplink's commit.
	now := time.Now().UTC()
	for i, s := range []struct {
		ago time.Duration
		c   float64
	}{{20 * time.Minute, 3.1}, {15 * time.Minute, 8.2}, {3 * time.Minute, 8.9}} {
		st.uplink(st.seed.SensorDevEUI, i+1, now.Add(-s.ago), fmt.Sprintf(`{"TempC_SHT":%v}`, s.c))
	}
	cmds := st.calls.Commands()
	if len(cmds) != 1 || cmds[0].Action != "dial" || cmds[0].Body["to"] != phone || cmds[0].Body["from"] != "+15555550199" ||
		cmds[0].Body["connection_id"] != "1684641123236054244" {
		t.Fatalf("dial: %+v (refused %v)", cmds, st.calls.Refused())
	}
	callID, clientState := cmds[0].CallControlID, cmds[0].Body["client_state"].(string)
	if !strings.Contains(cmds[0].ClientState, st.seed.OrgID) {
		t.Fatalf("client_state %q does not carry the organisation", cmds[0].ClientState)
	}
	if texts := st.smsTo(phone); len(texts) != 0 {
		t.Fatalf("the voice-only policy texted: %v", texts)
	}

	// 3. Telnyx's events, signed.
	seq := 0
	event := func(typ string, payload map[string]any) map[string]any {
		t.Helper()
		seq++
		payload["call_control_id"], payload["call_leg_id"], payload["client_state"] = callID, "leg-1", clientState
		payload["from"], payload["to"] = "+15555550199", phone
		body, _ := json.Marshal(map[string]any{"data": map[string]any{"record_type": "event",
			"id": fmt.Sprintf("9d0c8a51-0000-4000-8000-%012d", seq), "event_type": typ,
			"occurred_at": time.Now().UTC().Format(time.RFC3339Nano), "payload": payload}})
		code, res := st.do(http.MethodPost, "/webhooks/telnyx", string(body), st.telnyxSigned(string(body)))
		var out map[string]any
		if code != http.StatusOK || json.Unmarshal([]byte(res), &out) != nil || out["status"] != "updated" {
			t.Fatalf("%s: %d %s", typ, code, res)
		}
		return out
	}
	last := func() testenv.TelnyxCommand {
		c := st.calls.Commands()
		return c[len(c)-1]
	}
	event("call.initiated", map[string]any{"direction": "outgoing", "state": "bridging"})
	event("call.answered", map[string]any{"state": "answered"})
	event("call.machine.detection.ended", map[string]any{"result": "human"})
	menu := last()
	if menu.Action != "gather_using_speak" || !strings.Contains(menu.Body["payload"].(string), "Press 1 to acknowledge") {
		t.Fatalf("menu: %+v", menu)
	}
	clientState = menu.Body["client_state"].(string) // events after a command carry its state
	// The owner's screen is open on the live channel.
	live := st.mustDialLive(url.Values{"token": {st.seed.Token}, "organization_id": {st.seed.OrgID}})
	out := event("call.gather.ended", map[string]any{"digits": "1", "status": "valid"})
	if out["outcome"] != "acknowledged" {
		t.Fatalf("key 1: %v", out)
	}
	// ... and hears of key 1 at once, as of an ACK texted back.
	if m := next(t, live); m.Type != "alert:acknowledged" || !strings.Contains(string(m.Data), `"acknowledged_at"`) {
		t.Fatalf("live after key 1: %+v %s", m, m.Data)
	}
	bye := last()
	if bye.Action != "speak" || !strings.Contains(bye.Body["payload"].(string), "acknowledged") {
		t.Fatalf("after key 1: %+v", bye)
	}
	clientState = bye.Body["client_state"].(string)
	event("call.speak.ended", map[string]any{"status": "completed"})
	if last().Action != "hangup" {
		t.Fatalf("not hung up: %+v", last())
	}
	event("call.hangup", map[string]any{"hangup_cause": "normal_clearing", "hangup_source": "caller", "sip_hangup_cause": "200"})

	// 4. The alert is acknowledged by the contact, and the log says how.
	var alertStatus, note string
	st.row([]any{&alertStatus, &note}, `SELECT status, acknowledged_note FROM alerts WHERE organization_id = $1 AND type = 'temp_excursion'`, st.seed.OrgID)
	if alertStatus != "acknowledged" || !strings.Contains(note, "phone call") {
		t.Fatalf("alert: %s %q", alertStatus, note)
	}
	code, res = st.api(http.MethodGet, "/notifications?channel=voice", "")
	var log struct {
		Items []struct {
			Status    string  `json:"status"`
			CallState *string `json:"call_state"`
			ContactID *string `json:"contact_id"`
		} `json:"items"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(res), &log) != nil || len(log.Items) != 1 || log.Items[0].Status != "delivered" ||
		log.Items[0].CallState == nil || *log.Items[0].CallState != "acknowledged" || log.Items[0].ContactID == nil || *log.Items[0].ContactID != contactA {
		t.Fatalf("log: %d %s", code, res)
	}
	if r := st.calls.Refused(); len(r) > 0 {
		t.Fatalf("Telnyx would have refused: %v", r)
	}
}
