package notify

import (
	"regexp"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// The dispatcher's rules, pure: the dispatcher feeds them what the claim
// query read (DispatchDue) and applies the decision in the same transaction.
//
// Choices (docs/ALERTING.md leaves them open):
//   - Rate limits count every notification that was or is being sent
//     (sent, delivered, sending, pending with attempts) in the last hour, by
//     its send time. A delivery receipt (delivered) keeps counting: the
//     origin bug was that receipts "reset" the limit.
//   - A critical page (an 'alert' message of a critical alert) is never held
//     by the rate limits (issue 14: the per-recipient limit held critical
//     alarms behind ten earlier messages). It obeys only a much higher
//     safety cap per recipient (CriticalPerRecipientPerHour, default 60 an
//     hour: one a minute), a guard against a runaway loop, and hitting it
//     is logged at error level. A flapping sensor cannot flood anyone: an
//     alert opens once per condition and pages once per escalation step.
//     'resolved', 'test' and non-critical messages obey both limits.
//   - Quiet hours hold back non-critical notifications. A 'resolved' message
//     follows the severity of its alert: "back to normal" for a critical
//     alarm goes at once (whoever was woken wants to know, maybe before
//     driving to the site); for a non-critical one it waits like its alarm
//     did, so nobody is woken for good news about a warning they never got.
//     'test' messages (sent from settings, someone is waiting) are never held.
//   - An 'alert' message of a unit whose alarms a manager silenced (a
//     snooze or maintenance window, bounded) waits until the silence ends,
//     critical or not; 'resolved' and 'test' messages are not held.
//   - An 'alert' message whose alert was acknowledged or resolved meanwhile
//     (e.g. held by quiet hours) is skipped: acknowledging stops escalation.
//     A 'resolved' message goes only to a recipient the alarm reached.
//   - Abuse limits of an organisation that does not pay (a self-service
//     trial, or a lapsed subscription): it pages only contacts that verified
//     the phone or address by a one-time code, texts only numbers of its
//     allowed countries (configured, else its sites' countries), and sends
//     at most a daily cap per channel, critical alerts included: a trial
//     must not make FrostGuard text any number or mail any address. A
//     paying organisation pages every contact and every country (an alarm
//     is never dropped because someone forgot a code); the api shows the
//     unverified and out-of-country contacts on each contact and policy.
//   - A call (voice) is a message like the others: same limits (counted
//     with texts to the same phone), same quiet hours (never for a critical
//     alarm), the trial's phone rules and a daily cap of its own; the
//     contact's voice_opt_out is its opt-out (STOP by SMS is about texts).

// Decision actions.
const (
	ActionSend  = "send"
	ActionSkip  = "skip"  // final: skipped, Reason in last_error
	ActionDefer = "defer" // stays pending until Until, attempts unchanged
	ActionFail  = "fail"  // final: failed
)

// Skip and defer reasons (stored in notifications.last_error).
const (
	ReasonInvalidNumber     = "invalid_number"
	ReasonOptedOut          = "opted_out"
	ReasonAlertAcknowledged = "alert_acknowledged"
	ReasonAlertResolved     = "alert_resolved"
	ReasonAlarmNotSent      = "alarm_not_sent"
	ReasonQuietHours        = "quiet_hours"
	ReasonRateRecipient     = "rate_limited_recipient"
	ReasonRateOrg           = "rate_limited_org"
	ReasonUnverifiedContact = "unverified_contact"  // trial: the contact did not verify this phone or address
	ReasonCountryNotAllowed = "country_not_allowed" // trial: the number's country is not allowed
	ReasonTrialDailyCap     = "trial_daily_cap"     // trial: the day's sends on this channel are used up
	ReasonCriticalCap       = "critical_safety_cap"
	ReasonSilenced          = "silenced"               // the unit's alarms are silenced (snooze, maintenance window)
	ReasonNoSender          = "channel_not_configured" // e.g. voice without a Call Control application
)

// TrialWindow is the trial daily caps' sliding window.
const TrialWindow = 24 * time.Hour

// RateWindow is the rate limits' sliding window.
const RateWindow = time.Hour

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// ValidE164 reports whether s is an E.164 number (+, then 2 to 15 digits,
// the first not 0), the only form the SMS and voice provider and
// sms_opt_outs accept.
func ValidE164(s string) bool { return e164.MatchString(s) }

// QuietHours is a policy's daily quiet window as offsets from local
// midnight. Start > End wraps midnight (22:00-07:00). Start == End is an
// empty window (not 24 hours: silencing a whole day must be explicit).
type QuietHours struct {
	Set        bool
	Start, End time.Duration
}

// QuietUntil reports whether now falls inside the quiet window in loc, and
// if so when the window ends (the next End, local time; DST gaps are
// normalised by time.Date).
func QuietUntil(now time.Time, loc *time.Location, q QuietHours) (time.Time, bool) {
	if !q.Set || q.Start == q.End {
		return time.Time{}, false
	}
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	y, m, d := local.Date()
	// Wall-clock arithmetic, not elapsed time: on a DST day midnight+7h is
	// not 07:00.
	at := func(day int, off time.Duration) time.Time {
		return time.Date(y, m, day, 0, 0, 0, int(off), loc)
	}
	tod := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	if q.Start < q.End { // same-day window, e.g. 12:00-14:00
		if tod >= q.Start && tod < q.End {
			return at(d, q.End), true
		}
		return time.Time{}, false
	}
	switch { // wraps midnight, e.g. 22:00-07:00
	case tod >= q.Start:
		return at(d+1, q.End), true
	case tod < q.End:
		return at(d, q.End), true
	}
	return time.Time{}, false
}

// WindowFree says whether one more send fits under limit given the send
// times already in the window (ascending). When it does not, until is when
// enough of them leave the window to free a slot. limit < 0 = no limit.
func WindowFree(times []time.Time, limit int, window time.Duration, now time.Time) (until time.Time, ok bool) {
	if limit < 0 {
		return time.Time{}, true
	}
	start := now.Add(-window)
	in := times[:0:0]
	for _, t := range times {
		if t.After(start) {
			in = append(in, t)
		}
	}
	if len(in) < limit {
		return time.Time{}, true
	}
	if limit == 0 {
		return now.Add(window), false
	}
	return in[len(in)-limit].Add(window), false
}

// Backoff is the wait before retry number attempt (1 = after the first
// failure): 30 s doubling up to 30 min, times a jitter factor in
// [0.8, 1.2) from rnd in [0, 1), so a provider outage does not end in a
// thundering herd.
func Backoff(attempt int, rnd float64) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempt && d < 30*time.Minute; i++ {
		d *= 2
	}
	d = min(d, 30*time.Minute)
	return time.Duration(float64(d) * (0.8 + 0.4*rnd))
}

// RuleInput is what the rules need to know about one claimed row.
type RuleInput struct {
	Now                   time.Time
	Kind, Channel         string // kind: alert, resolved, test
	Recipient             string
	Severity, AlertStatus string // "" for test notifications
	// OptedOut: the number texted STOP (sms), or the contact does not want
	// calls (voice).
	OptedOut bool
	// NoSender: the deployment has no sender for the channel (voice without
	// TELNYX_CONNECTION_ID).
	NoSender bool
	// SilencedUntil: the unit of an alarm message is silenced until then
	// (nil: not silenced).
	SilencedUntil *time.Time
	AlarmReached  bool // resolved: an alert message of the alert reached this recipient
	Location      *time.Location
	Quiet         QuietHours
	// send times in the rate window (ascending), without this row
	RecipientSends, OrgSends []time.Time
	Limits                   Limits
	// Trial: the organisation does not pay (a self-service trial, or a
	// subscription that is neither active nor past_due): the abuse limits
	// apply.
	Trial bool
	// RecipientVerified: the row's contact verified this very phone or
	// address (false for a row without a contact).
	RecipientVerified bool
	// AllowedCountries: where SMS may go (ISO 3166-1 alpha-2).
	AllowedCountries []string
	// OrgDaySends: the organisation's sends on this channel in the last
	// TrialWindow, without this row.
	OrgDaySends int
}

// Decision is what to do with one claimed row.
type Decision struct {
	Action string
	Reason string
	Until  time.Time // ActionDefer
}

// Decide applies the rules in order: address, opt-out, the trial's abuse
// limits, alert state, the unit's silence, a sender for the channel, quiet
// hours, rate limits. It is the one place a message's fate is decided. A
// call (voice) is decided like a text: its recipient is the phone, its
// opt-out the contact's voice_opt_out. Limits must already carry the
// defaults.
func Decide(in RuleInput) Decision {
	phone := in.Channel == "sms" || in.Channel == "voice"
	if phone && !ValidE164(in.Recipient) {
		return Decision{Action: ActionSkip, Reason: ReasonInvalidNumber}
	}
	if phone && in.OptedOut {
		return Decision{Action: ActionSkip, Reason: ReasonOptedOut}
	}
	if in.Trial {
		if reason := trialRefusal(in); reason != "" {
			return Decision{Action: ActionSkip, Reason: reason}
		}
	}
	critical := in.Severity == "critical"
	switch in.Kind {
	case "alert":
		switch in.AlertStatus {
		case "acknowledged":
			return Decision{Action: ActionSkip, Reason: ReasonAlertAcknowledged}
		case "resolved":
			return Decision{Action: ActionSkip, Reason: ReasonAlertResolved}
		}
	case "resolved":
		if !in.AlarmReached {
			return Decision{Action: ActionSkip, Reason: ReasonAlarmNotSent}
		}
	}
	if in.Kind == "alert" && in.SilencedUntil != nil && in.SilencedUntil.After(in.Now) {
		// A manager silenced the unit (cleaning, defrost...): its alarm
		// messages, critical ones included, wait for the silence's end.
		return Decision{Action: ActionDefer, Reason: ReasonSilenced, Until: *in.SilencedUntil}
	}
	if in.NoSender {
		return Decision{Action: ActionFail, Reason: ReasonNoSender}
	}
	if in.Kind != "test" && !critical {
		if until, quiet := QuietUntil(in.Now, in.Location, in.Quiet); quiet {
			return Decision{Action: ActionDefer, Reason: ReasonQuietHours, Until: until}
		}
	}
	if in.Kind == "alert" && critical {
		if until, ok := WindowFree(in.RecipientSends, in.Limits.CriticalPerRecipientPerHour, RateWindow, in.Now); !ok {
			return Decision{Action: ActionDefer, Reason: ReasonCriticalCap, Until: until}
		}
		return Decision{Action: ActionSend}
	}
	if until, ok := WindowFree(in.RecipientSends, in.Limits.PerRecipientPerHour, RateWindow, in.Now); !ok {
		return Decision{Action: ActionDefer, Reason: ReasonRateRecipient, Until: until}
	}
	if until, ok := WindowFree(in.OrgSends, in.Limits.PerOrgPerHour, RateWindow, in.Now); !ok {
		return Decision{Action: ActionDefer, Reason: ReasonRateOrg, Until: until}
	}
	return Decision{Action: ActionSend}
}

// FallsBack reports whether a decision that ends an alarm message makes its
// contact be paged on their next channel (paging.Fallback): a failure, or a
// skip because the channel cannot reach them (opted out, a number that is
// not one). Skips because the alert is handled, or the trial's abuse rules,
// do not: another channel would be refused or pointless alike.
func FallsBack(action, reason string) bool {
	switch action {
	case ActionFail:
		return true
	case ActionSkip:
		return reason == ReasonOptedOut || reason == ReasonInvalidNumber
	}
	return false
}

// trialRefusal is why a non-paying organisation may not send this row, ""
// when it may. The caps hold for every kind and severity.
func trialRefusal(in RuleInput) string {
	switch in.Kind {
	case "alert", "resolved", "test":
		if !in.RecipientVerified {
			return ReasonUnverifiedContact
		}
	}
	// Calls go to the same countries as texts (premium-rate numbers cost
	// more by voice).
	if (in.Channel == "sms" || in.Channel == "voice") && !domain.SMSCountryAllowed(in.Recipient, in.AllowedCountries) {
		return ReasonCountryNotAllowed
	}
	limit := in.Limits.TrialSMSPerDay
	switch in.Channel {
	case "email":
		limit = in.Limits.TrialEmailsPerDay
	case "voice":
		limit = in.Limits.TrialCallsPerDay
	}
	if limit >= 0 && in.OrgDaySends >= limit {
		return ReasonTrialDailyCap
	}
	return ""
}

// Limits are the rate limits per rolling hour and the non-paying
// organisations' daily caps. Zero means the default (10 per recipient, 200
// per organisation an hour, a safety cap of 60 critical pages per recipient
// an hour; 50 SMS, 200 e-mails and 20 calls a day); negative means no limit.
type Limits struct {
	PerRecipientPerHour         int
	PerOrgPerHour               int
	CriticalPerRecipientPerHour int
	TrialSMSPerDay              int
	TrialEmailsPerDay           int
	TrialCallsPerDay            int
}

func (l Limits) withDefaults() Limits {
	if l.PerRecipientPerHour == 0 {
		l.PerRecipientPerHour = 10
	}
	if l.PerOrgPerHour == 0 {
		l.PerOrgPerHour = 200
	}
	if l.TrialSMSPerDay == 0 {
		l.TrialSMSPerDay = 50
	}
	if l.TrialEmailsPerDay == 0 {
		l.TrialEmailsPerDay = 200
	}
	if l.TrialCallsPerDay == 0 {
		l.TrialCallsPerDay = 20
	}
	if l.CriticalPerRecipientPerHour == 0 {
		l.CriticalPerRecipientPerHour = 60
	}
	return l
}
