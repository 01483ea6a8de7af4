package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestValidE164(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"+15555550100", true},
		{"+447700900123", true},
		{"+12", true},
		{"+123456789012345", true},   // 15 digits
		{"+1234567890123456", false}, // 16
		{"+1", false},
		{"15555550100", false},
		{"+05555550100", false},
		{"+1 555 555 0100", false},
		{"+1555555010a", false},
		{"", false},
		{"+١٢٣٤", false}, // non-ASCII digits
	} {
		if got := ValidE164(tc.in); got != tc.want {
			t.Errorf("ValidE164(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		base    time.Duration
	}{
		{1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {4, 4 * time.Minute},
		{6, 16 * time.Minute}, {7, 30 * time.Minute}, {20, 30 * time.Minute}, {0, 30 * time.Second},
	} {
		lo, hi := Backoff(tc.attempt, 0), Backoff(tc.attempt, 0.999999)
		if lo != time.Duration(float64(tc.base)*0.8) {
			t.Errorf("attempt %d: low end %v, want 0.8 × %v", tc.attempt, lo, tc.base)
		}
		if hi >= time.Duration(float64(tc.base)*1.2) || hi < time.Duration(float64(tc.base)*1.19) {
			t.Errorf("attempt %d: high end %v, want just under 1.2 × %v", tc.attempt, hi, tc.base)
		}
	}
}

func TestQuietUntil(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	ny, _ := time.LoadLocation("America/New_York")
	h := func(hh, mm int) time.Duration { return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute }
	night := QuietHours{Set: true, Start: h(22, 0), End: h(7, 0)}
	lunch := QuietHours{Set: true, Start: h(12, 0), End: h(14, 0)}
	at := func(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, loc)
	}
	for _, tc := range []struct {
		name  string
		now   time.Time
		loc   *time.Location
		q     QuietHours
		quiet bool
		until time.Time
	}{
		{"not set", at(paris, 2026, 1, 15, 23, 0), paris, QuietHours{}, false, time.Time{}},
		{"empty window", at(paris, 2026, 1, 15, 23, 0), paris, QuietHours{Set: true, Start: h(8, 0), End: h(8, 0)}, false, time.Time{}},
		{"before midnight", at(paris, 2026, 1, 15, 23, 30), paris, night, true, at(paris, 2026, 1, 16, 7, 0)},
		{"after midnight", at(paris, 2026, 1, 16, 3, 0), paris, night, true, at(paris, 2026, 1, 16, 7, 0)},
		{"at start", at(paris, 2026, 1, 15, 22, 0), paris, night, true, at(paris, 2026, 1, 16, 7, 0)},
		{"at end", at(paris, 2026, 1, 16, 7, 0), paris, night, false, time.Time{}},
		{"daytime", at(paris, 2026, 1, 16, 12, 0), paris, night, false, time.Time{}},
		{"same-day inside", at(paris, 2026, 1, 16, 13, 0), paris, lunch, true, at(paris, 2026, 1, 16, 14, 0)},
		{"same-day outside", at(paris, 2026, 1, 16, 15, 0), paris, lunch, false, time.Time{}},
		// the site's zone decides, not UTC: 23:30 in Paris is 22:30 UTC
		{"zone applied", time.Date(2026, 1, 15, 22, 30, 0, 0, time.UTC), paris, night, true, at(paris, 2026, 1, 16, 7, 0)},
		{"other zone", time.Date(2026, 1, 15, 22, 30, 0, 0, time.UTC), ny, night, false, time.Time{}},
		{"nil location is UTC", time.Date(2026, 1, 15, 23, 0, 0, 0, time.UTC), nil, night, true, time.Date(2026, 1, 16, 7, 0, 0, 0, time.UTC)},
		// end of month rolls over
		{"month end", at(paris, 2026, 1, 31, 23, 0), paris, night, true, at(paris, 2026, 2, 1, 7, 0)},
		// DST night (29 March 2026 in Paris): the window still ends at 07:00 local
		{"dst spring forward", at(paris, 2026, 3, 28, 23, 0), paris, night, true, at(paris, 2026, 3, 29, 7, 0)},
	} {
		until, quiet := QuietUntil(tc.now, tc.loc, tc.q)
		if quiet != tc.quiet || !until.Equal(tc.until) {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", tc.name, until, quiet, tc.until, tc.quiet)
		}
	}
}

func TestWindowFree(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	ago := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
	for _, tc := range []struct {
		name  string
		times []time.Time
		limit int
		ok    bool
		until time.Time
	}{
		{"empty", nil, 2, true, time.Time{}},
		{"under", []time.Time{ago(10)}, 2, true, time.Time{}},
		{"at limit: oldest frees a slot", []time.Time{ago(50), ago(10)}, 2, false, ago(50).Add(time.Hour)},
		{"over limit: enough must leave", []time.Time{ago(55), ago(50), ago(10)}, 2, false, ago(50).Add(time.Hour)},
		{"outside the window ignored", []time.Time{ago(90), ago(61), ago(10)}, 2, true, time.Time{}},
		{"no limit", []time.Time{ago(1), ago(2)}, -1, true, time.Time{}},
		{"zero limit", nil, 0, false, now.Add(time.Hour)},
	} {
		until, ok := WindowFree(tc.times, tc.limit, time.Hour, now)
		if ok != tc.ok || !until.Equal(tc.until) {
			t.Errorf("%s: got (%v, %v), want (%v, %v)", tc.name, until, ok, tc.until, tc.ok)
		}
	}
}

func TestDecide(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	night := QuietHours{Set: true, Start: 22 * time.Hour, End: 7 * time.Hour}
	quietNow := time.Date(2026, 1, 15, 23, 30, 0, 0, paris)
	dayNow := time.Date(2026, 1, 15, 12, 0, 0, 0, paris)
	tenSends := make([]time.Time, 10)
	for i := range tenSends {
		tenSends[i] = dayNow.Add(-time.Duration(50-i) * time.Minute)
	}
	limits := Limits{}.withDefaults()
	base := func(mod func(*RuleInput)) RuleInput {
		in := RuleInput{Now: dayNow, Kind: "alert", Channel: "sms", Recipient: "+15555550100",
			Severity: "warning", AlertStatus: "active", Location: paris, Quiet: night, Limits: limits}
		mod(&in)
		return in
	}
	for _, tc := range []struct {
		name string
		in   RuleInput
		want Decision
	}{
		{"plain send", base(func(*RuleInput) {}), Decision{Action: ActionSend}},
		// Issue 14: a silenced unit's alarm messages wait for the silence's
		// end, critical ones too; "back to normal" is not held.
		{"silenced unit holds a critical page", base(func(in *RuleInput) {
			until := dayNow.Add(30 * time.Minute)
			in.SilencedUntil, in.Severity = &until, "critical"
		}), Decision{Action: ActionDefer, Reason: ReasonSilenced, Until: dayNow.Add(30 * time.Minute)}},
		{"a silence that ended holds nothing", base(func(in *RuleInput) {
			until := dayNow.Add(-time.Minute)
			in.SilencedUntil = &until
		}), Decision{Action: ActionSend}},
		{"silence does not hold back to normal", base(func(in *RuleInput) {
			until := dayNow.Add(30 * time.Minute)
			in.SilencedUntil, in.Kind, in.AlarmReached = &until, "resolved", true
		}), Decision{Action: ActionSend}},
		{"invalid number", base(func(in *RuleInput) { in.Recipient = "0612345678" }), Decision{Action: ActionSkip, Reason: ReasonInvalidNumber}},
		{"email not checked as E.164", base(func(in *RuleInput) { in.Channel, in.Recipient = "email", "a@b.example" }), Decision{Action: ActionSend}},
		{"opted out", base(func(in *RuleInput) { in.OptedOut = true }), Decision{Action: ActionSkip, Reason: ReasonOptedOut}},
		{"opted out critical still skipped", base(func(in *RuleInput) { in.OptedOut, in.Severity = true, "critical" }), Decision{Action: ActionSkip, Reason: ReasonOptedOut}},
		{"alert acknowledged", base(func(in *RuleInput) { in.AlertStatus = "acknowledged" }), Decision{Action: ActionSkip, Reason: ReasonAlertAcknowledged}},
		{"alert resolved", base(func(in *RuleInput) { in.AlertStatus = "resolved" }), Decision{Action: ActionSkip, Reason: ReasonAlertResolved}},
		{"resolved msg, alarm reached", base(func(in *RuleInput) { in.Kind, in.AlertStatus, in.AlarmReached = "resolved", "resolved", true }), Decision{Action: ActionSend}},
		{"resolved msg, alarm never sent", base(func(in *RuleInput) { in.Kind, in.AlertStatus = "resolved", "resolved" }), Decision{Action: ActionSkip, Reason: ReasonAlarmNotSent}},
		{"quiet hours hold warning", base(func(in *RuleInput) { in.Now = quietNow }),
			Decision{Action: ActionDefer, Reason: ReasonQuietHours, Until: time.Date(2026, 1, 16, 7, 0, 0, 0, paris)}},
		{"quiet hours pass critical", base(func(in *RuleInput) { in.Now, in.Severity = quietNow, "critical" }), Decision{Action: ActionSend}},
		{"quiet hours hold resolved of warning", base(func(in *RuleInput) { in.Now, in.Kind, in.AlarmReached = quietNow, "resolved", true }),
			Decision{Action: ActionDefer, Reason: ReasonQuietHours, Until: time.Date(2026, 1, 16, 7, 0, 0, 0, paris)}},
		{"quiet hours pass resolved of critical", base(func(in *RuleInput) {
			in.Now, in.Kind, in.AlarmReached, in.Severity = quietNow, "resolved", true, "critical"
		}),
			Decision{Action: ActionSend}},
		{"quiet hours pass test", base(func(in *RuleInput) { in.Now, in.Kind, in.Severity, in.AlertStatus = quietNow, "test", "", "" }), Decision{Action: ActionSend}},
		{"recipient limit", base(func(in *RuleInput) { in.RecipientSends = tenSends }),
			Decision{Action: ActionDefer, Reason: ReasonRateRecipient, Until: tenSends[0].Add(time.Hour)}},
		// Issue 14: the per-recipient limit held critical pages.
		{"recipient limit never holds a critical page", base(func(in *RuleInput) { in.RecipientSends, in.Severity = tenSends, "critical" }),
			Decision{Action: ActionSend}},
		{"the safety cap holds a runaway of critical pages", base(func(in *RuleInput) {
			in.RecipientSends, in.Severity, in.Limits.CriticalPerRecipientPerHour = tenSends, "critical", 10
		}), Decision{Action: ActionDefer, Reason: ReasonCriticalCap, Until: tenSends[0].Add(time.Hour)}},
		{"recipient limit holds resolved of critical", base(func(in *RuleInput) {
			in.RecipientSends, in.Severity, in.Kind, in.AlarmReached = tenSends, "critical", "resolved", true
		}), Decision{Action: ActionDefer, Reason: ReasonRateRecipient, Until: tenSends[0].Add(time.Hour)}},
		{"org limit", base(func(in *RuleInput) { in.OrgSends, in.Limits.PerOrgPerHour = tenSends, 10 }),
			Decision{Action: ActionDefer, Reason: ReasonRateOrg, Until: tenSends[0].Add(time.Hour)}},
		{"org limit bypassed by critical alert", base(func(in *RuleInput) { in.OrgSends, in.Limits.PerOrgPerHour, in.Severity = tenSends, 10, "critical" }),
			Decision{Action: ActionSend}},
		{"org limit holds resolved of critical", base(func(in *RuleInput) {
			in.OrgSends, in.Limits.PerOrgPerHour, in.Severity, in.Kind, in.AlarmReached = tenSends, 10, "critical", "resolved", true
		}), Decision{Action: ActionDefer, Reason: ReasonRateOrg, Until: tenSends[0].Add(time.Hour)}},
		{"no limit", base(func(in *RuleInput) { in.RecipientSends, in.Limits.PerRecipientPerHour = tenSends, -1 }), Decision{Action: ActionSend}},
	} {
		if got := Decide(tc.in); got.Action != tc.want.Action || got.Reason != tc.want.Reason || !got.Until.Equal(tc.want.Until) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestLimitsDefaults(t *testing.T) {
	if l := (Limits{}).withDefaults(); l.PerRecipientPerHour != 10 || l.PerOrgPerHour != 200 {
		t.Errorf("defaults %+v", l)
	}
	if l := (Limits{PerRecipientPerHour: 3, PerOrgPerHour: -1}).withDefaults(); l.PerRecipientPerHour != 3 || l.PerOrgPerHour != -1 {
		t.Errorf("explicit %+v", l)
	}
}

// The rules against the real database: what the claim query reads
// (opt-outs, the alert, the site's zone, the most specific policy, recent
// sends) must reach Decide.

func TestDispatchOptedOutSkipped(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	e.exec(`INSERT INTO sms_opt_outs (phone) VALUES ('+15555550100')`)
	a := e.alert("critical", "active")
	out := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550100"})
	other := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550101"})
	e.dispatch(Report{Claimed: 2, Sent: 1, Skipped: 1})
	if s := e.state(out); s.Status != "skipped" || s.LastError != ReasonOptedOut || s.Attempts != 0 {
		t.Errorf("opted out: %+v", s)
	}
	if hits, _ := e.tx.counts("+15555550100"); hits != 0 {
		t.Errorf("opted-out number got %d requests", hits)
	}
	if s := e.state(other); s.Status != "sent" {
		t.Errorf("other: %+v", s)
	}
}

func TestDispatchRateLimits(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	a := e.alert("warning", "active")
	now := e.now()
	const r = "+15555550100"
	// 10 sends in the last hour, 4 of them delivered (receipts must not reset
	// the count), plus failed and skipped rows that do not count, and one
	// delivered 2 hours ago that left the window
	var oldest time.Time
	for i := range 10 {
		at := now.Add(-time.Duration(55-i) * time.Minute)
		if i == 0 {
			oldest = at
		}
		id := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: r, Status: "sent", Attempts: 1, SentAt: &at})
		if i < 4 {
			e.exec(`UPDATE notifications SET status = 'delivered', delivered_at = $2, updated_at = $2 WHERE id = $1`, id, now)
		}
	}
	for _, st := range []string{"failed", "skipped"} {
		at := now.Add(-5 * time.Minute)
		e.row(dspRow{AlertID: a, Channel: "sms", Recipient: r, Status: st, SentAt: &at})
	}
	old := now.Add(-2 * time.Hour)
	e.row(dspRow{AlertID: a, Channel: "sms", Recipient: r, Status: "delivered", SentAt: &old})

	held := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: r})
	e.dispatch(Report{Claimed: 1, Deferred: 1})
	s := e.state(held)
	if s.Status != "pending" || s.LastError != ReasonRateRecipient || !s.NextAttempt.Equal(oldest.Add(time.Hour)) || s.Attempts != 0 {
		t.Errorf("held: %+v, want due at %v", s, oldest.Add(time.Hour))
	}
	if hits, _ := e.tx.counts(r); hits != 0 {
		t.Errorf("%d requests", hits)
	}
	// Issue 14: a critical page is never held by the rate limit; it goes at
	// once, the warning still waits.
	crit := e.row(dspRow{AlertID: e.alert("critical", "active"), Channel: "sms", Recipient: r})
	e.dispatch(Report{Claimed: 1, Sent: 1})
	if e.state(crit).Status != "sent" || e.state(held).Status != "pending" {
		t.Errorf("critical page: %+v, warning %+v", e.state(crit), e.state(held))
	}
	// Only the much higher safety cap holds critical pages (a runaway loop).
	e.d.Limits = Limits{CriticalPerRecipientPerHour: 11}
	capped := e.row(dspRow{AlertID: e.alert("critical", "active"), Channel: "sms", Recipient: r})
	e.dispatch(Report{Claimed: 1, Deferred: 1})
	if s := e.state(capped); s.Status != "pending" || s.LastError != ReasonCriticalCap {
		t.Errorf("over the safety cap: %+v", s)
	}
	e.d.Limits = Limits{}

	// per organisation: 3 per hour; a critical alert passes, a warning waits
	e2 := dspSetup(t, "UTC", nil)
	e2.d.Limits = Limits{PerOrgPerHour: 3}
	w := e2.alert("warning", "active")
	for i := range 3 {
		at := e2.now().Add(-time.Duration(10+i) * time.Minute)
		e2.row(dspRow{AlertID: w, Channel: "email", Recipient: fmt.Sprintf("p%d@example.com", i), Status: "delivered", SentAt: &at})
	}
	warn := e2.row(dspRow{AlertID: w, Channel: "email", Recipient: "x@example.com"})
	critical := e2.row(dspRow{AlertID: e2.alert("critical", "active"), Channel: "email", Recipient: "y@example.com"})
	e2.dispatch(Report{Claimed: 2, Sent: 1, Deferred: 1})
	if s := e2.state(warn); s.Status != "pending" || s.LastError != ReasonRateOrg {
		t.Errorf("warning over org limit: %+v", s)
	}
	if s := e2.state(critical); s.Status != "sent" {
		t.Errorf("critical over org limit: %+v", s)
	}
}

func TestDispatchQuietHours(t *testing.T) {
	paris := "Europe/Paris"
	// org in New York, site in Paris: the site's zone applies
	e := dspSetup(t, "America/New_York", &paris)
	loc, _ := time.LoadLocation(paris)
	e.clock = time.Date(2026, 1, 15, 23, 30, 0, 0, loc).UTC()
	e.exec(`INSERT INTO notification_policies (organization_id, quiet_hours_start, quiet_hours_end) VALUES ($1, '22:00', '07:00')`, e.org)
	warn := e.alert("warning", "active")
	crit := e.alert("critical", "active")
	held := e.row(dspRow{AlertID: warn, Channel: "sms", Recipient: "+15555550100"})
	now := e.row(dspRow{AlertID: crit, Channel: "sms", Recipient: "+15555550101"})
	test := e.row(dspRow{Channel: "email", Recipient: "ops@example.com"})
	e.dispatch(Report{Claimed: 3, Sent: 2, Deferred: 1})
	morning := time.Date(2026, 1, 16, 7, 0, 0, 0, loc)
	if s := e.state(held); s.Status != "pending" || s.LastError != ReasonQuietHours || !s.NextAttempt.Equal(morning) {
		t.Errorf("warning: %+v, want due %v", s, morning)
	}
	if e.state(now).Status != "sent" || e.state(test).Status != "sent" {
		t.Errorf("critical %+v, test %+v", e.state(now), e.state(test))
	}
	e.advance(morning.Sub(e.now()))
	e.dispatch(Report{Claimed: 1, Sent: 1})

	// A more specific policy without quiet hours (the unit's) wins over the
	// organisation's; a disabled one is ignored.
	e.clock = time.Date(2026, 1, 16, 23, 30, 0, 0, loc).UTC()
	e.exec(`INSERT INTO notification_policies (organization_id, unit_id, quiet_hours_start, quiet_hours_end, enabled)
		VALUES ($1, $2, '08:00', '09:00', false)`, e.org, e.unit)
	e.exec(`INSERT INTO notification_policies (organization_id, site_id, alert_type) VALUES ($1, $2, 'monitoring_interrupted')`, e.org, e.site)
	other := e.row(dspRow{AlertID: e.alert("warning", "active"), Channel: "sms", Recipient: "+15555550102"})
	e.dispatch(Report{Claimed: 1, Deferred: 1}) // temp_excursion: the org policy still applies
	e.exec(`INSERT INTO notification_policies (organization_id, site_id) VALUES ($1, $2)`, e.org, e.site)
	e.exec(`UPDATE notifications SET next_attempt_at = $2 WHERE id = $1`, other, e.now())
	e.dispatch(Report{Claimed: 1, Sent: 1}) // the site's policy has no quiet hours
}

func TestDispatchQuietHoursOrgZone(t *testing.T) {
	e := dspSetup(t, "Asia/Tokyo", nil) // site without a zone: the org's
	loc, _ := time.LoadLocation("Asia/Tokyo")
	e.clock = time.Date(2026, 1, 15, 3, 0, 0, 0, loc).UTC()
	e.exec(`INSERT INTO notification_policies (organization_id, quiet_hours_start, quiet_hours_end) VALUES ($1, '22:00', '07:00')`, e.org)
	id := e.row(dspRow{AlertID: e.alert("warning", "active"), Channel: "sms", Recipient: "+15555550100"})
	e.dispatch(Report{Claimed: 1, Deferred: 1})
	if s := e.state(id); !s.NextAttempt.Equal(time.Date(2026, 1, 15, 7, 0, 0, 0, loc)) {
		t.Errorf("%+v", s)
	}
}

func TestDispatchAlertStateAndResolved(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	acked := e.row(dspRow{AlertID: e.alert("warning", "acknowledged"), Channel: "sms", Recipient: "+15555550100"})
	res := e.alert("critical", "resolved")
	// the alarm reached +...101 (delivered), never +...102
	e.row(dspRow{AlertID: res, Channel: "sms", Recipient: "+15555550101", Status: "delivered", Attempts: 1})
	backOK := e.row(dspRow{AlertID: res, Kind: "resolved", Channel: "sms", Recipient: "+15555550101"})
	stale := e.row(dspRow{AlertID: res, Channel: "sms", Recipient: "+15555550102"})
	backNo := e.row(dspRow{AlertID: res, Kind: "resolved", Channel: "sms", Recipient: "+15555550102"})
	e.dispatch(Report{Claimed: 4, Sent: 1, Skipped: 3})
	for id, want := range map[string]string{acked: ReasonAlertAcknowledged, stale: ReasonAlertResolved, backNo: ReasonAlarmNotSent} {
		if s := e.state(id); s.Status != "skipped" || s.LastError != want {
			t.Errorf("%s: %+v, want skipped %s", id, s, want)
		}
	}
	if s := e.state(backOK); s.Status != "sent" {
		t.Errorf("back to normal: %+v", s)
	}
}

// A dispatcher died mid-send (row 'sending', lease expired): the e-mail is
// sent again under the same Idempotency-Key; the SMS is not (ambiguous).
func TestDispatchExpiredLease(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	a := e.alert("warning", "active")
	past := e.now().Add(-time.Second)
	sms := e.row(dspRow{AlertID: a, Channel: "sms", Recipient: "+15555550100", Status: "sending", Attempts: 1, Provider: "telnyx", NextAttempt: past})
	mail := e.row(dspRow{AlertID: a, Channel: "email", Recipient: "ops@example.com", Status: "sending", Attempts: 1, Provider: "resend", NextAttempt: past})
	live := e.row(dspRow{AlertID: a, Channel: "email", Recipient: "live@example.com", Status: "sending", Attempts: 1, NextAttempt: e.now().Add(time.Minute)})
	e.dispatch(Report{Claimed: 2, Sent: 1, Failed: 1})
	if s := e.state(sms); s.Status != "failed" || !strings.HasPrefix(s.LastError, "ambiguous: ") {
		t.Errorf("sms: %+v", s)
	}
	if s := e.state(mail); s.Status != "sent" || s.Attempts != 2 {
		t.Errorf("email: %+v", s)
	}
	if s := e.state(live); s.Status != "sending" {
		t.Errorf("a live lease was taken over: %+v", s)
	}
	if hits, _ := e.tx.counts("+15555550100"); hits != 0 {
		t.Errorf("sms re-sent")
	}
}

// A non-paying organisation pages only contacts that verified the phone or
// address, critical alarms included; a paying one pages everyone.
func TestDecideTrialPagesOnlyVerifiedContacts(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	base := RuleInput{Now: now, Kind: "alert", Channel: "sms", Recipient: "+12125550100", Severity: "critical",
		AlertStatus: "active", AllowedCountries: []string{"US"}, Limits: Limits{}.withDefaults()}
	for _, kind := range []string{"alert", "resolved", "test"} {
		in := base
		in.Kind, in.Trial, in.AlarmReached = kind, true, true
		if d := Decide(in); d.Action != ActionSkip || d.Reason != ReasonUnverifiedContact {
			t.Errorf("trial, unverified, %s: %+v", kind, d)
		}
		in.RecipientVerified = true
		if d := Decide(in); d.Action != ActionSend {
			t.Errorf("trial, verified, %s: %+v", kind, d)
		}
		in.Trial, in.RecipientVerified = false, false
		if d := Decide(in); d.Action != ActionSend {
			t.Errorf("paying, unverified, %s: %+v", kind, d)
		}
	}
	// The code that verifies a contact goes to the unverified destination.
	in := base
	in.Kind, in.Trial = "verification", true
	if d := Decide(in); d.Action != ActionSend {
		t.Errorf("a verification code: %+v", d)
	}
}

// A non-paying organisation texts only numbers of its allowed countries: a
// US trial cannot text a UK number, nor a premium-rate Caribbean one that
// shares the +1 prefix, nor a number of unknown country.
func TestDecideTrialCountryAllowList(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for number, allowed := range map[string]bool{
		"+12125550100": true, "+14165550100": false, "+18765550100": false, "+447911123456": false, "+15555550100": false,
	} {
		in := RuleInput{Now: now, Kind: "verification", Channel: "sms", Recipient: number, Trial: true,
			AllowedCountries: []string{"US"}, Limits: Limits{}.withDefaults()}
		d := Decide(in)
		if allowed != (d.Action == ActionSend) || (!allowed && d.Reason != ReasonCountryNotAllowed) {
			t.Errorf("trial texting %s: %+v", number, d)
		}
		in.Trial = false
		if d := Decide(in); d.Action != ActionSend {
			t.Errorf("paying texting %s: %+v", number, d)
		}
	}
	in := RuleInput{Now: now, Kind: "verification", Channel: "email", Recipient: "a@example.com", Trial: true, Limits: Limits{}.withDefaults()}
	if d := Decide(in); d.Action != ActionSend {
		t.Errorf("e-mail has no country: %+v", d)
	}
}

// The daily caps of a non-paying organisation hold for critical alarms too.
func TestDecideTrialDailyCapHoldsForCriticalAlerts(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	limits := Limits{TrialSMSPerDay: 3, TrialEmailsPerDay: 5}.withDefaults()
	sms := RuleInput{Now: now, Kind: "alert", Channel: "sms", Recipient: "+12125550100", Severity: "critical", AlertStatus: "active",
		Trial: true, RecipientVerified: true, AllowedCountries: []string{"US"}, Limits: limits, OrgDaySends: 2}
	if d := Decide(sms); d.Action != ActionSend {
		t.Fatalf("under the cap: %+v", d)
	}
	sms.OrgDaySends = 3
	if d := Decide(sms); d.Action != ActionSkip || d.Reason != ReasonTrialDailyCap {
		t.Errorf("a critical alarm over the cap: %+v", d)
	}
	mail := sms
	mail.Channel, mail.Recipient, mail.OrgDaySends = "email", "chef@example.com", 4
	if d := Decide(mail); d.Action != ActionSend {
		t.Errorf("e-mail has its own cap: %+v", d)
	}
	sms.Trial = false
	if d := Decide(sms); d.Action != ActionSend {
		t.Errorf("a paying organisation has no daily cap: %+v", d)
	}
}

// Issue 14: through the claim query, a pending alarm message of a silenced
// unit waits for the silence's end; another unit's goes.
func TestDispatchSilencedUnit(t *testing.T) {
	e := dspSetup(t, "UTC", nil)
	crit := e.alert("critical", "active")
	held := e.row(dspRow{AlertID: crit, Channel: "sms", Recipient: "+15555550100"})
	until := e.now().Add(30 * time.Minute)
	e.exec(`INSERT INTO unit_silences (organization_id, unit_id, reason, starts_at, ends_at) VALUES ($1, $2, 'cleaning', $3, $4)`,
		e.org, e.unit, e.now().Add(-time.Minute), until)
	e.dispatch(Report{Claimed: 1, Deferred: 1})
	if s := e.state(held); s.Status != "pending" || s.LastError != ReasonSilenced || !s.NextAttempt.Equal(until) {
		t.Fatalf("held: %+v", s)
	}
	e.advance(31 * time.Minute)
	e.dispatch(Report{Claimed: 1, Sent: 1})
	if s := e.state(held); s.Status != "sent" {
		t.Fatalf("after the silence: %+v", s)
	}
}
