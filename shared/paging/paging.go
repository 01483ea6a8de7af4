// Package paging decides who is paged when: the rows an alert opens with
// (its first escalation step), the steps of a policy with their repeats,
// and what a due escalation sends. Every flow that opens or escalates an
// alert (shared/judge for readings and manual logs, shared/sweep) calls it,
// so a rule about paging is written once.
package paging

import (
	"fmt"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

// Texts is what one alarm says on each channel.
type Texts struct {
	SMS, Subject, Email string
	Voice               string // what the call would say at queue time (the call renders it afresh when answered)
}

// AlarmTexts renders an alarm for every channel, the voice text as of now.
func AlarmTexts(in alerting.MessageInput, now time.Time) Texts {
	var t Texts
	t.SMS, t.Subject, t.Email = alerting.AlarmText(in)
	t.Voice = alerting.VoiceAlarm(alerting.VoiceInput{MessageInput: in, Since: in.At, Now: now})
	return t
}

// StepRows renders one step into outbox rows: one per contact and channel
// the contact can be reached on (a voice page calls the contact's phone).
// Contacts deactivated since the policy was written (absent from contacts)
// are skipped. Whether a row may go (opt-outs, verification, quiet hours,
// limits) is the dispatcher's decision (notify.Decide), shown in the log.
func StepRows(step alerting.Step, contacts map[string]store.Contact, t Texts) []store.OutboxRow {
	var rows []store.OutboxRow
	redial := step.Redial()
	for _, id := range step.ContactIDs {
		c, ok := contacts[id]
		if !ok {
			continue
		}
		for _, ch := range step.Channels {
			switch {
			case ch == alerting.ChannelSMS && c.Phone != "":
				rows = append(rows, store.OutboxRow{ContactID: c.ID, Recipient: c.Phone, Channel: ch, Body: t.SMS})
			case ch == alerting.ChannelEmail && c.Email != "":
				rows = append(rows, store.OutboxRow{ContactID: c.ID, Recipient: strings.ToLower(c.Email), Channel: ch, Subject: t.Subject, Body: t.Email})
			case ch == alerting.ChannelVoice && c.Phone != "":
				rows = append(rows, store.OutboxRow{ContactID: c.ID, Recipient: c.Phone, Channel: ch, Body: t.Voice,
					Redials: redial.Times, RedialAfter: redial.Interval})
			}
		}
	}
	return rows
}

// PlanEscalation decides what one due alert gets now: the rows of every
// step due at now that was not sent yet, the new step count, and when to
// look again. Running out of steps only clears the next time: it never
// resolves the alert.
func PlanEscalation(a store.EscalationAlert, plan store.NotificationPlan, now time.Time, frontendURL string) store.EscalationWrite {
	w := store.EscalationWrite{StepsSent: a.StepsSent}
	if !plan.Found {
		return w // no policy (any more): nobody to page
	}
	if a.Silence != nil && a.Silence.Until.After(now) {
		// The unit is silenced: nothing goes out before the silence ends;
		// then every step due by then is sent, saying why it waited.
		until := a.Silence.Until
		w.Next, w.Held = &until, a.Silence
		return w
	}
	steps := alerting.ExpandSteps(plan.Steps)
	due, next := alerting.Escalation(steps, a.PagingFrom, false, now, a.StepsSent)
	if !next.IsZero() {
		w.Next = &next
	}
	if len(due) == 0 {
		return w
	}
	// Repeats that piled up while the sweeper was away collapse into the
	// newest one: the same people, paged once, not ten times in a row.
	if k := len(due); k > 1 && due[k-2] >= len(plan.Steps) {
		first := k - 1
		for first > 0 && due[first-1] >= len(plan.Steps) {
			first--
		}
		due = append(due[:first], due[k-1])
	}
	in := alerting.NewMessageInput(a.SiteName, a.UnitName, a.TimeZone, domain.TempUnit(a.TempUnit), frontendURL)
	in.AlertType, in.Severity, in.TemperatureC, in.LimitC, in.At, in.AckCode = a.Type, a.Severity, a.TemperatureC, a.LimitC, a.TriggeredAt, a.AckCode
	if p := a.EndedSilence; p != nil {
		in.Held = &alerting.Held{Reason: p.Reason, From: p.From, Until: p.Until}
	}
	texts := AlarmTexts(in, now)
	w.Steps = map[int][]store.OutboxRow{}
	for _, i := range due {
		w.Steps[i] = StepRows(steps[i], plan.Contacts, texts)
	}
	w.StepsSent = due[len(due)-1] + 1
	return w
}

// OpenRow renders an alert about to open and its first escalation step into
// outbox rows: every flow that opens an alert (a sensor reading, a manual
// log, the sweeper) pages through it. Paging starts at the later of the
// alert's time and start (the caller's now): an alert opened for a
// condition that began earlier (a check-in missed 25 minutes ago, a late
// reading) pages its first step now and each later step after its own
// delay, never all of them at once. While the unit is silenced (silence),
// paging starts when the silence ends: nothing is queued now, the
// escalation task sends the first step then. Step 0 goes out with the opening when
// it has no delay; later steps (and a delayed first one) are the sweeper's
// escalation task's.
func OpenRow(o alerting.OpenAlert, plan store.NotificationPlan, in alerting.MessageInput, start time.Time, silence *store.Silence) store.AlertOpenRow {
	from := o.At
	if start.After(from) {
		from = start
	}
	held := silence != nil && silence.Until.After(from)
	if held {
		from = silence.Until
	}
	row := store.AlertOpenRow{Type: o.Type, Severity: o.Severity, Title: o.Title, Message: o.Message, SensorID: o.SensorID,
		TemperatureC: o.TemperatureC, LimitC: o.LimitC, At: o.At, AckCode: store.NewAckCode(), PagingFrom: from}
	if !plan.Found || len(plan.Steps) == 0 {
		row.EventNote = "no notification policy applies: nobody is paged"
		return row
	}
	in.AlertType, in.Severity, in.TemperatureC, in.LimitC, in.At, in.AckCode = o.Type, o.Severity, o.TemperatureC, o.LimitC, o.At, row.AckCode
	texts := AlarmTexts(in, from)
	steps := alerting.ExpandSteps(plan.Steps)
	first := steps[0]
	if held || first.AfterMinutes > 0 {
		// A silenced unit's alert pages when the silence ends (the
		// escalation task sends its first step then); a delayed first step
		// at its delay.
		next := from.Add(time.Duration(max(first.AfterMinutes, 0)) * time.Minute)
		row.NextEscalationAt = &next
		if held {
			row.EventNote = fmt.Sprintf("paging held: the unit is silenced (%s) until %s", silence.Reason, silence.Until.UTC().Format(time.RFC3339))
		}
		return row
	}
	if len(steps) > 1 {
		next := from.Add(time.Duration(max(steps[1].AfterMinutes, 0)) * time.Minute)
		row.NextEscalationAt = &next
	}
	row.StepsSent = 1
	row.Notifications = StepRows(first, plan.Contacts, texts)
	return row
}

// ResolveRow renders the "back to normal" texts of an auto-resolution.
func ResolveRow(typ string, at time.Time, reason string, in alerting.MessageInput) store.AlertResolveRow {
	in.AlertType, in.At = typ, at
	sms, subject, email := alerting.ResolvedText(in)
	return store.AlertResolveRow{Type: typ, At: at, Reason: reason, SMSBody: sms, EmailSubject: subject, EmailBody: email}
}
