package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/store"
)

func callFacts(state string) store.CallFacts {
	temp, limit, now := 9.4, 5.0, 10.2
	return store.CallFacts{ID: "n", OrgID: "o", Kind: store.KindAlert, Status: "sent", CallState: state,
		Recipient: "+15555550123", AlertID: "a", AlertStatus: "active", ContactName: "Dana", RedialsLeft: 2,
		SiteName: "Main St", UnitName: "Walk-in cooler", TimeZone: "America/New_York", TempUnit: "F",
		AlertType: alerting.TypeTempExcursion, Severity: "critical", TemperatureC: &temp, LimitC: &limit, CurrentC: &now,
		TriggeredAt: time.Date(2026, 1, 1, 9, 38, 0, 0, time.UTC)}
}

var callNow = time.Date(2026, 1, 1, 10, 3, 0, 0, time.UTC)

// TestNextCallFlow walks the call flow's states and commands, event by
// event: the path to an acknowledgement, the menu's limits, the machine,
// every hangup before an answer, and events that would move a row back.
func TestNextCallFlow(t *testing.T) {
	menu := CallState{Stage: stageMenu}
	cases := []struct {
		name    string
		facts   store.CallFacts
		event   string
		ev      CallEvent
		state   string // "" = unchanged
		status  string
		ack     bool
		redial  bool
		command string // action, "" = none
		text    string // contained in the command's text
	}{
		{"initiated", callFacts(CallQueued), CallInitiated, CallEvent{}, CallCalling, "", false, false, "", ""},
		{"initiated after answer moves nothing", callFacts(CallAnsweredSt), CallInitiated, CallEvent{}, "", "", false, false, "", ""},
		{"answered waits for machine detection", callFacts(CallCalling), CallAnswered, CallEvent{}, CallAnsweredSt, "", false, false, "", ""},
		{"a person: the menu, the alarm twice", callFacts(CallAnsweredSt), CallMachineDetectionEnded, CallEvent{Result: "human"}, "", "", false, false,
			CommandGather, "Walk-in cooler: temperature 48.9 degrees Fahrenheit, above the maximum of 41 degrees Fahrenheit, for 25 minutes. It now reads 50.4 degrees Fahrenheit. I repeat."},
		{"not sure is a person", callFacts(CallAnsweredSt), CallMachineDetectionEnded, CallEvent{Result: "not_sure"}, "", "", false, false, CommandGather, "Press 1 to acknowledge"},
		{"detection before the answer event", callFacts(CallCalling), CallMachineDetectionEnded, CallEvent{Result: "human"}, CallAnsweredSt, "", false, false, CommandGather, "I repeat"},
		{"a machine: a short voicemail", callFacts(CallAnsweredSt), CallMachineDetectionEnded, CallEvent{Result: "machine"}, CallVoicemail, "", false, false, CommandSpeak, "Please check your text messages"},
		{"acknowledged meanwhile: says so", func() store.CallFacts { f := callFacts(CallAnsweredSt); f.AlertStatus = "acknowledged"; return f }(),
			CallMachineDetectionEnded, CallEvent{Result: "human"}, "", "", false, false, CommandSpeak, alerting.VoiceAlreadyAcknowledged},
		{"resolved meanwhile: says so", func() store.CallFacts { f := callFacts(CallAnsweredSt); f.AlertStatus = "resolved"; return f }(),
			CallMachineDetectionEnded, CallEvent{Result: "human"}, "", "", false, false, CommandSpeak, alerting.VoiceAlreadyResolved},
		{"key 1 acknowledges", callFacts(CallAnsweredSt), CallGatherEnded, CallEvent{State: menu, Digits: "1", Status: "valid"},
			CallAcknowledged, "delivered", true, false, CommandSpeak, ""},
		{"key 2 says it again", callFacts(CallAnsweredSt), CallGatherEnded, CallEvent{State: menu, Digits: "2", Status: "valid"},
			"", "", false, false, CommandGather, "for 25 minutes"},
		{"key 2 at most three times", callFacts(CallAnsweredSt), CallGatherEnded, CallEvent{State: CallState{Stage: stageMenu, Tries: 3}, Digits: "2", Status: "valid"},
			"", "", false, false, CommandSpeak, alerting.VoiceNoInput},
		{"silence: the keys again", callFacts(CallAnsweredSt), CallGatherEnded, CallEvent{State: menu, Status: "timeout"},
			"", "", false, false, CommandGather, alerting.VoicePromptOnly},
		{"silence twice: goodbye", callFacts(CallAnsweredSt), CallGatherEnded, CallEvent{State: CallState{Stage: stageMenu, Tries: 2}, Status: "timeout"},
			"", "", false, false, CommandSpeak, alerting.VoiceNoInput},
		{"gather ended by the hangup", callFacts(CallAnsweredSt), CallGatherEnded, CallEvent{State: menu, Status: "call_hangup"}, "", "", false, false, "", ""},
		{"a key on a voicemail is nothing", callFacts(CallVoicemail), CallGatherEnded, CallEvent{State: menu, Digits: "1", Status: "valid"}, "", "", false, false, "", ""},
		{"key 1 twice acknowledges once", callFacts(CallAcknowledged), CallGatherEnded, CallEvent{State: menu, Digits: "1", Status: "valid"}, "", "", false, false, "", ""},
		{"last words: hang up", callFacts(CallAcknowledged), CallSpeakEnded, CallEvent{State: CallState{Stage: stageBye}, Status: "completed"}, "", "", false, false, CommandHangup, ""},
		{"speech of the menu ending is nothing", callFacts(CallAnsweredSt), CallSpeakEnded, CallEvent{State: menu, Status: "completed"}, "", "", false, false, "", ""},
		{"hangup after key 1", func() store.CallFacts { f := callFacts(CallAcknowledged); f.Status = "delivered"; return f }(), CallHangup, CallEvent{HangupCause: "normal_clearing"}, "", "", false, false, "", ""},
		{"hangup after listening", callFacts(CallAnsweredSt), CallHangup, CallEvent{HangupCause: "normal_clearing"}, "", "delivered", false, false, "", ""},
		{"hangup after a voicemail: called again", callFacts(CallVoicemail), CallHangup, CallEvent{HangupCause: "normal_clearing"}, "", "delivered", false, true, "", ""},
		{"no answer: called again", callFacts(CallCalling), CallHangup, CallEvent{HangupCause: "timeout"}, CallNoAnswer, "failed", false, true, "", ""},
		{"busy: called again", callFacts(CallCalling), CallHangup, CallEvent{HangupCause: "user_busy"}, CallBusy, "failed", false, true, "", ""},
		{"declined: called again", callFacts(CallCalling), CallHangup, CallEvent{HangupCause: "call_rejected"}, CallBusy, "failed", false, true, "", ""},
		{"no such number: not called again", callFacts(CallCalling), CallHangup, CallEvent{HangupCause: "not_found"}, CallFailed, "failed", false, false, "", ""},
		{"no redials left", func() store.CallFacts { f := callFacts(CallCalling); f.RedialsLeft = 0; return f }(), CallHangup, CallEvent{HangupCause: "timeout"}, CallNoAnswer, "failed", false, false, "", ""},
		{"acknowledged elsewhere: not called again", func() store.CallFacts { f := callFacts(CallCalling); f.AlertStatus = "acknowledged"; return f }(), CallHangup, CallEvent{HangupCause: "timeout"}, CallNoAnswer, "failed", false, false, "", ""},
		{"a second hangup changes nothing", callFacts(CallNoAnswer), CallHangup, CallEvent{HangupCause: "timeout"}, "", "", false, false, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := NextCall(c.facts, c.ev, c.event, callNow)
			u := st.Update
			if u.State != c.state || u.Status != c.status || u.Acknowledge != c.ack || u.Redial != c.redial {
				t.Fatalf("update %+v, want state %q status %q ack %v redial %v", u, c.state, c.status, c.ack, c.redial)
			}
			switch {
			case c.command == "" && st.Command != nil:
				t.Fatalf("command %+v, want none", *st.Command)
			case c.command != "" && (st.Command == nil || st.Command.Action != c.command):
				t.Fatalf("command %+v, want %s", st.Command, c.command)
			case c.command != "" && !strings.Contains(st.Command.Text, c.text):
				t.Fatalf("says %q, want it to contain %q", st.Command.Text, c.text)
			}
			if c.ack && (!st.Command.SayAck || u.AckNote != "Acknowledged on a phone call to +*******0123 (Dana)") {
				t.Fatalf("acknowledgement %+v / %+v", u, *st.Command)
			}
			if c.state != "" && !callAdvances(c.facts.CallState, c.state) {
				t.Fatalf("%s -> %s moves back", c.facts.CallState, c.state)
			}
			if c.redial && u.Event != "call_unanswered" {
				t.Fatalf("an unanswered call is not in the alert's history: %+v", u)
			}
		})
	}
}

// TestNextCallTestPage: a test call says its own text, key 1 confirms it,
// and it is never called again.
func TestNextCallTestPage(t *testing.T) {
	f := store.CallFacts{ID: "n", OrgID: "o", Kind: store.KindTest, CallState: CallAnsweredSt, Status: "sent", RedialsLeft: 3,
		Body: alerting.VoiceTest("Acme")}
	st := NextCall(f, CallEvent{Result: "human"}, CallMachineDetectionEnded, callNow)
	if st.Command == nil || st.Command.Action != CommandGather || !strings.Contains(st.Command.Text, "test call from FrostGuard for Acme") {
		t.Fatalf("%+v", st.Command)
	}
	st = NextCall(f, CallEvent{State: CallState{Stage: stageMenu}, Digits: "1", Status: "valid"}, CallGatherEnded, callNow)
	if st.Update.Acknowledge || st.Update.State != CallAcknowledged || st.Command.Text != alerting.VoiceTestConfirmed {
		t.Fatalf("%+v %+v", st.Update, st.Command)
	}
	f.CallState = CallCalling
	if st := NextCall(f, CallEvent{HangupCause: "timeout"}, CallHangup, callNow); st.Update.Redial || st.Update.Status != "failed" {
		t.Fatalf("%+v", st.Update)
	}
}

// TestCallStateRoundTrip: what a call carries comes back as it was sent;
// anything else is not ours.
func TestCallStateRoundTrip(t *testing.T) {
	s := CallState{Org: "0b5c9f6e-5a7c-4c1e-9d55-1f3f6a0b7a11", Notification: "5d1f0c2e-8a7b-4b1c-9e3d-2a4b6c8d0e1f", Stage: stageMenu, Tries: 2}
	got, err := ParseCallState(s.Encode())
	if err != nil || got != s {
		t.Fatalf("%+v %v", got, err)
	}
	for name, bad := range map[string]string{
		"not base64":      "%%%",
		"not json":        "bm90IGpzb24=",
		"no ids":          CallState{Org: "x", Notification: "y"}.Encode(),
		"unknown stage":   CallState{Org: s.Org, Notification: s.Notification, Stage: "dance"}.Encode(),
		"negative tries":  CallState{Org: s.Org, Notification: s.Notification, Tries: -1}.Encode(),
		"over the length": strings.Repeat("A", maxClientStateBytes+4),
	} {
		if _, err := ParseCallState(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseCallState: never panics; what it accepts names two UUIDs and a
// known stage, and encodes back to what decodes the same.
func FuzzParseCallState(f *testing.F) {
	f.Add(CallState{Org: "0b5c9f6e-5a7c-4c1e-9d55-1f3f6a0b7a11", Notification: "5d1f0c2e-8a7b-4b1c-9e3d-2a4b6c8d0e1f"}.Encode())
	f.Add(CallState{Org: "0b5c9f6e-5a7c-4c1e-9d55-1f3f6a0b7a11", Notification: "5d1f0c2e-8a7b-4b1c-9e3d-2a4b6c8d0e1f", Stage: stageBye, Tries: 1}.Encode())
	f.Add("e30=")
	f.Add("")
	f.Fuzz(func(t *testing.T, b64 string) {
		s, err := ParseCallState(b64)
		if err != nil {
			return
		}
		again, err := ParseCallState(s.Encode())
		if err != nil || again != s {
			t.Fatalf("%+v does not round-trip: %+v %v", s, again, err)
		}
	})
}
