package notify

import (
	"net/http"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/testenv"
)

// TestDecideVoice: a call is decided by the same rules as a text, with the
// contact's voice opt-out for an opt-out, the phone's verification and
// country for a trial, its own daily cap, and never held by quiet hours
// when critical.
func TestDecideVoice(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	night := time.Date(2026, 1, 15, 23, 30, 0, 0, paris)
	limits := Limits{TrialCallsPerDay: 2}.withDefaults()
	base := func(mod func(*RuleInput)) RuleInput {
		in := RuleInput{Now: night, Kind: "alert", Channel: "voice", Recipient: "+12125550100", Severity: "critical",
			AlertStatus: "active", Location: paris, Quiet: QuietHours{Set: true, Start: 22 * time.Hour, End: 7 * time.Hour}, Limits: limits}
		mod(&in)
		return in
	}
	for _, tc := range []struct {
		name string
		in   RuleInput
		want Decision
	}{
		{"a critical call at night", base(func(*RuleInput) {}), Decision{Action: ActionSend}},
		{"a warning call waits for the morning", base(func(in *RuleInput) { in.Severity = "warning" }),
			Decision{Action: ActionDefer, Reason: ReasonQuietHours, Until: time.Date(2026, 1, 16, 7, 0, 0, 0, paris)}},
		{"the contact takes no calls", base(func(in *RuleInput) { in.OptedOut = true }), Decision{Action: ActionSkip, Reason: ReasonOptedOut}},
		{"not a number", base(func(in *RuleInput) { in.Recipient = "0612345678" }), Decision{Action: ActionSkip, Reason: ReasonInvalidNumber}},
		{"no voice sender", base(func(in *RuleInput) { in.NoSender = true }), Decision{Action: ActionFail, Reason: ReasonNoSender}},
		{"no voice sender, acknowledged anyway", base(func(in *RuleInput) { in.NoSender, in.AlertStatus = true, "acknowledged" }),
			Decision{Action: ActionSkip, Reason: ReasonAlertAcknowledged}},
		{"trial: unverified phone", base(func(in *RuleInput) { in.Trial, in.AllowedCountries = true, []string{"US"} }),
			Decision{Action: ActionSkip, Reason: ReasonUnverifiedContact}},
		{"trial: another country", base(func(in *RuleInput) {
			in.Trial, in.RecipientVerified, in.AllowedCountries, in.Recipient = true, true, []string{"US"}, "+447911123456"
		}), Decision{Action: ActionSkip, Reason: ReasonCountryNotAllowed}},
		{"trial: the day's calls are used up", base(func(in *RuleInput) {
			in.Trial, in.RecipientVerified, in.AllowedCountries, in.OrgDaySends = true, true, []string{"US"}, 2
		}), Decision{Action: ActionSkip, Reason: ReasonTrialDailyCap}},
		{"trial: verified, in country, under the cap", base(func(in *RuleInput) {
			in.Trial, in.RecipientVerified, in.AllowedCountries, in.OrgDaySends = true, true, []string{"US"}, 1
		}), Decision{Action: ActionSend}},
	} {
		if got := Decide(tc.in); got.Action != tc.want.Action || got.Reason != tc.want.Reason || !got.Until.Equal(tc.want.Until) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestDispatchVoice: against the database, a call goes to the contact's
// phone with our ids; a contact's voice opt-out (not the SMS list) skips
// it; a deployment without a voice sender fails it at once, saying why.
func TestDispatchVoice(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	fake := testenv.NewTelnyxCalls(t, "KEY_v")
	e.d.Voice = NewTelnyxCalls(TelnyxCallsConfig{APIKey: "KEY_v", BaseURL: fake.URL, From: dspFromNumber, ConnectionID: "cc-1"},
		&http.Client{Timeout: 2 * time.Second})
	a := e.alert("critical", "active")
	contact := e.scalar(`INSERT INTO escalation_contacts (organization_id, name, phone) VALUES ($1, 'Dana', '+15555550100') RETURNING id`, e.org)
	voiceRow := func(step int) string {
		return e.scalar(`INSERT INTO notifications (organization_id, alert_id, escalation_step, contact_id, recipient, channel, call_state, body,
				next_attempt_at)
			VALUES ($1, $2, $3, $4, '+15555550100', 'voice', 'queued', 'the alarm', $5) RETURNING id`, e.org, a, step, contact, e.now())
	}
	// The number texted STOP: calls still go (STOP is about texts).
	e.exec(`INSERT INTO sms_opt_outs (phone) VALUES ('+15555550100')`)
	first := voiceRow(100)
	e.dispatch(Report{Claimed: 1, Sent: 1})
	if s := e.state(first); s.Status != "sent" || s.Provider != "telnyx" || s.ProviderID == "" {
		t.Fatalf("call %+v", s)
	}
	if st := e.scalar(`SELECT call_state FROM notifications WHERE id = $1`, first); st != CallCalling {
		t.Fatalf("call_state %s", st)
	}
	e.exec(`UPDATE escalation_contacts SET voice_opt_out = true WHERE id = $1`, contact)
	second := voiceRow(101)
	// The skipped call falls back to an SMS, which STOP skips in turn.
	e.dispatch(Report{Claimed: 2, Skipped: 2, Fallbacks: 1})
	if s := e.state(second); s.Status != "skipped" || s.LastError != ReasonOptedOut {
		t.Fatalf("opted-out call %+v", s)
	}
	e.exec(`UPDATE escalation_contacts SET voice_opt_out = false WHERE id = $1`, contact)
	e.d.Voice = nil
	third := voiceRow(102)
	e.dispatch(Report{Claimed: 2, Failed: 1, Skipped: 1, Fallbacks: 1})
	if s := e.state(third); s.Status != "failed" || s.LastError != ReasonNoSender {
		t.Fatalf("call without a sender %+v", s)
	}
	if st := e.scalar(`SELECT call_state FROM notifications WHERE id = $1`, third); st != CallFailed {
		t.Fatalf("call_state %s", st)
	}
	if n := len(fake.Commands()); n != 1 || len(fake.Refused()) > 0 {
		t.Fatalf("dials %d, refused %v", n, fake.Refused())
	}
}
