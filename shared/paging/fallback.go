package paging

import (
	"fmt"
	"slices"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

// FallbackOrder is the order a contact's channels are tried in: after the
// one that failed, the next ones, wrapping around (a failed SMS: e-mail,
// then a call; a failed call: SMS, then e-mail).
var FallbackOrder = []string{alerting.ChannelSMS, alerting.ChannelEmail, alerting.ChannelVoice}

// Fallback decides what follows an alarm message that failed for good (or
// was skipped because its contact opted out of the channel): the same
// contact paged at once on their next channel that the deployment can send
// on (available), that reaches them (a phone, an address, no voice opt-out)
// and that the same step has not used for them yet. The alert's history
// says so either way; an alert no longer active needs nothing. Used chains:
// a fallback that fails falls back again, and each channel is used at most
// once per contact and step, so it ends.
func Fallback(f store.FallbackFacts, available []string, frontendURL string, now time.Time) store.FallbackWrite {
	if f.AlertStatus != "active" {
		return store.FallbackWrite{}
	}
	what := fmt.Sprintf("%s to %s %s", ChannelName(f.Channel), contactName(f.Contact), failure(f))
	if !f.ContactActive {
		return store.FallbackWrite{Note: what + "; the contact is deactivated: no other channel tried"}
	}
	next := nextChannel(f, available)
	if next == "" {
		return store.FallbackWrite{Note: what + ": no other channel reaches them", Data: map[string]any{"to_channel": nil}}
	}
	in := alerting.NewMessageInput(f.SiteName, f.UnitName, f.TimeZone, domain.TempUnit(f.TempUnit), frontendURL)
	in.AlertType, in.Severity, in.TemperatureC, in.LimitC, in.At, in.AckCode = f.Type, f.Severity, f.TemperatureC, f.LimitC, f.TriggeredAt, f.AckCode
	step := alerting.Step{ContactIDs: []string{f.Contact.ID}, Channels: []string{next}}
	rows := StepRows(step, map[string]store.Contact{f.Contact.ID: f.Contact}, AlarmTexts(in, now))
	if len(rows) != 1 {
		return store.FallbackWrite{Note: what + ": no other channel reaches them", Data: map[string]any{"to_channel": nil}}
	}
	return store.FallbackWrite{Row: &rows[0], Note: what + ": paging them by " + ChannelName(next) + " instead",
		Data: map[string]any{"to_channel": next}}
}

// nextChannel is the first channel after the failed one, in FallbackOrder
// (wrapping), that may carry the page; "" when none.
func nextChannel(f store.FallbackFacts, available []string) string {
	i := slices.Index(FallbackOrder, f.Channel)
	for k := 1; k < len(FallbackOrder); k++ {
		ch := FallbackOrder[(i+k+len(FallbackOrder))%len(FallbackOrder)]
		if ch == f.Channel || slices.Contains(f.Used, ch) || !slices.Contains(available, ch) {
			continue
		}
		switch ch {
		case alerting.ChannelSMS:
			if f.Contact.Phone != "" {
				return ch
			}
		case alerting.ChannelEmail:
			if f.Contact.Email != "" {
				return ch
			}
		case alerting.ChannelVoice:
			if f.Contact.Phone != "" && !f.VoiceOptOut {
				return ch
			}
		}
	}
	return ""
}

// ChannelName is a channel as the alert's history names it.
func ChannelName(ch string) string {
	switch ch {
	case alerting.ChannelSMS:
		return "SMS"
	case alerting.ChannelEmail:
		return "e-mail"
	case alerting.ChannelVoice:
		return "phone call"
	}
	return ch
}

func contactName(c store.Contact) string {
	if c.Name == "" {
		return "a paged contact"
	}
	return c.Name
}

func failure(f store.FallbackFacts) string {
	verb := "failed"
	if f.Status == "skipped" {
		verb = "skipped"
	}
	if f.Reason == "" {
		return verb
	}
	return verb + " (" + f.Reason + ")"
}
