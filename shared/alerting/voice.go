package alerting

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

// What a voice page says. The texts are spoken by the provider's
// text-to-speech (plain text, never SSML: customer names cannot inject
// markup), so they are written to be heard: temperatures in words of the
// organisation's unit, durations in minutes and hours, no codes or links.

// VoiceInput is an alarm as a call speaks it: the message's facts, how
// long the condition has lasted at Now (from Since, the alert's trigger),
// and the unit's newest temperature when it differs from the trigger's.
type VoiceInput struct {
	MessageInput
	Since, Now time.Time
	CurrentC   *float64
}

// VoiceAlarm is the alarm in one paragraph: severity, site, unit, what is
// wrong and for how long ("FrostGuard critical alarm. Main Street, unit
// Walk-in cooler: temperature 9.4 degrees Celsius, above the maximum of 5
// degrees Celsius, for 25 minutes.").
func VoiceAlarm(in VoiceInput) string {
	var b strings.Builder
	b.WriteString(voiceIntro(in.MessageInput))
	cond := alarmCondition(in.MessageInput, spokenTemp(in.TempUnit))
	fmt.Fprintf(&b, " %s", cond)
	if !in.Since.IsZero() && !in.Now.IsZero() {
		fmt.Fprintf(&b, ", for %s", SpokenDuration(in.Now.Sub(in.Since)))
	}
	b.WriteString(".")
	if in.CurrentC != nil && (in.TemperatureC == nil || domain.Format(*in.CurrentC, in.TempUnit) != domain.Format(*in.TemperatureC, in.TempUnit)) {
		fmt.Fprintf(&b, " It now reads %s.", spokenTemp(in.TempUnit)(in.CurrentC))
	}
	return b.String()
}

func voiceIntro(in MessageInput) string {
	sev := strings.ToLower(strings.TrimSpace(in.Severity))
	if sev == "" {
		sev = "temperature"
	}
	return fmt.Sprintf("FrostGuard %s alarm. %s, unit %s:", sev, spokenName(in.SiteName), spokenName(in.UnitName))
}

// The call's menu: the alarm said twice, then the keys. VoiceReplay says it
// once more (key 2), VoicePromptOnly repeats only the keys (no key pressed).
const voiceKeys = " Press 1 to acknowledge this alarm. Press 2 to hear it again."

// VoiceMenu is what an answered call says first.
func VoiceMenu(alarm string) string { return alarm + " I repeat. " + alarm + voiceKeys }

// VoiceReplay is the alarm again, after key 2.
func VoiceReplay(alarm string) string { return alarm + voiceKeys }

// VoicePromptOnly asks again for a key, after silence or a wrong key.
const VoicePromptOnly = "Press 1 to acknowledge this alarm, or 2 to hear it again."

// VoiceVoicemail is the short message left on an answering machine: it
// does not acknowledge anything and says where to act.
func VoiceVoicemail(in VoiceInput) string {
	return fmt.Sprintf("%s %s. Please check your text messages or the FrostGuard app to acknowledge it. Goodbye.",
		voiceIntro(in.MessageInput), alarmCondition(in.MessageInput, spokenTemp(in.TempUnit)))
}

// Endings of a call.
const (
	VoiceAcknowledged        = "Thank you. The alarm is acknowledged and the escalation has stopped. Goodbye."
	VoiceAlreadyAcknowledged = "This alarm was already acknowledged. Goodbye."
	VoiceAlreadyResolved     = "This alarm has cleared in the meantime. Goodbye."
	VoiceNoInput             = "No key was pressed, so the alarm is not acknowledged. Goodbye."
	VoiceTestConfirmed       = "Thank you, the test call is confirmed. Goodbye."
	VoiceTestKeys            = " Press 1 to confirm that you heard this message."
	VoiceTestVoicemail       = "This was a test call from FrostGuard. No action is needed. Goodbye."
)

// VoiceTest is a test call's message (said twice, then the key).
func VoiceTest(orgName string) string {
	msg := fmt.Sprintf("This is a test call from FrostGuard for %s. No action is needed.", spokenName(orgName))
	return msg + " I repeat. " + msg + VoiceTestKeys
}

// spokenTemp renders a temperature to be heard: "9.4 degrees Celsius",
// "minus 18 degrees Fahrenheit".
func spokenTemp(u domain.TempUnit) func(*float64) string {
	name := "degrees Celsius"
	if u == domain.Fahrenheit {
		name = "degrees Fahrenheit"
	}
	return func(c *float64) string {
		v := domain.FromCelsius(*c, u)
		s := strconv.FormatFloat(v, 'f', 1, 64)
		s = strings.TrimSuffix(s, ".0")
		if strings.HasPrefix(s, "-") {
			s = "minus " + s[1:]
		}
		if s == "minus 0" {
			s = "0"
		}
		return s + " " + name
	}
}

// SpokenDuration says a duration in words: "less than a minute", "1
// minute", "25 minutes", "1 hour and 5 minutes", "3 hours", "2 days and 4
// hours".
func SpokenDuration(d time.Duration) string {
	if d < time.Minute {
		return "less than a minute"
	}
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	mins := int(d / time.Minute)
	switch {
	case mins < 60:
		return plural(mins, "minute")
	case mins < 48*60:
		h, m := mins/60, mins%60
		if m == 0 {
			return plural(h, "hour")
		}
		return plural(h, "hour") + " and " + plural(m, "minute")
	}
	days, h := mins/(24*60), (mins%(24*60))/60
	if h == 0 {
		return plural(days, "day")
	}
	return plural(days, "day") + " and " + plural(h, "hour")
}

// spokenName keeps a customer's name speakable and short: one line, 80
// characters.
func spokenName(s string) string {
	s = oneLine(s, 80)
	if s == "" {
		return "unnamed"
	}
	return s
}
