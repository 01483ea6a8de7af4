package alerting

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/domain"
)

// MessageInput is what a notification about one alert says. Temperatures
// are °C; they are rendered in TempUnit (the organisation's unit).
type MessageInput struct {
	SiteName, UnitName, AlertType, Severity string
	TemperatureC, LimitC                    *float64
	TempUnit                                domain.TempUnit
	At                                      time.Time      // reading time of the event
	TimeZone                                *time.Location // the site's; nil = UTC
	AckCode, AckURL                         string
	// Held says paging of this alert waited for a silence of the unit (a
	// snooze or maintenance window); the message says so.
	Held *Held
}

// Held is a silence that held an alarm's pages.
type Held struct {
	Reason      string // cleaning, defrost, stocking, maintenance, other
	From, Until time.Time
}

// NewMessageInput is the part of a message's input that comes from where
// the alert is: the site and unit names, the site's zone and the
// organisation's display unit, and the link to acknowledge from.
func NewMessageInput(siteName, unitName, timeZone string, tempUnit domain.TempUnit, frontendURL string) MessageInput {
	return MessageInput{SiteName: siteName, UnitName: unitName, TempUnit: tempUnit,
		TimeZone: domain.Location(timeZone), AckURL: strings.TrimRight(frontendURL, "/") + "/alerts"}
}

// SMSMaxChars bounds an SMS body (characters, i.e. runes): two concatenated
// segments at most.
const SMSMaxChars = 320

// AlarmText renders the notifications of an alert that opened (or of an
// escalation step): an SMS (<= SMSMaxChars, ASCII except the degree sign),
// an e-mail subject (one line) and a plain-text e-mail body. Each names the
// site, the unit, the condition with the temperature and the limit in the
// organisation's unit, the time in the site's timezone, and how to
// acknowledge ("Reply ACK 3F9A2C or open <url>").
func AlarmText(in MessageInput) (sms string, subject string, email string) {
	sev := strings.ToUpper(strings.TrimSpace(in.Severity))
	if sev == "" {
		sev = "ALERT"
	}
	cond := alarmCondition(in, writtenTemp(in.TempUnit))
	when := clock(in)
	ack := ""
	switch {
	case in.AckCode != "" && in.AckURL != "":
		ack = fmt.Sprintf(" Reply ACK %s or open %s", in.AckCode, in.AckURL)
	case in.AckCode != "":
		ack = fmt.Sprintf(" Reply ACK %s to acknowledge.", in.AckCode)
	case in.AckURL != "":
		ack = " Open " + in.AckURL
	}
	held := ""
	if h := in.Held; h != nil {
		// What happened meanwhile: the alarm began during the silence (or
		// before it) and is still on now that the silence is over.
		held = fmt.Sprintf(" Silenced for %s until %s; still alarming.", oneLine(h.Reason, 20),
			h.Until.In(location(in)).Format("15:04"))
	}
	sms = fitSMS(func(site, unit string, withAck bool) string {
		s := fmt.Sprintf("FrostGuard %s: %s / %s: %s%s.%s", asciiSafe(sev), site, unit, asciiSafe(cond), when, asciiSafe(held))
		if withAck {
			s += asciiSafe(ack)
		}
		return s
	}, in)

	subject = oneLine(fmt.Sprintf("[%s] %s / %s: %s", sev, oneLine(in.SiteName, 60), oneLine(in.UnitName, 60), cond), 250)

	var b strings.Builder
	fmt.Fprintf(&b, "%s alert at %s, unit %s.\n\n", sev, oneLine(in.SiteName, 200), oneLine(in.UnitName, 200))
	fmt.Fprintf(&b, "%s.\n", capitalize(cond))
	if t := longTime(in); t != "" {
		fmt.Fprintf(&b, "Time: %s\n", t)
	}
	if h := in.Held; h != nil {
		loc := location(in)
		fmt.Fprintf(&b, "\nThe unit was silenced for %s from %s to %s: this alarm was held, and it is still on now that the silence is over.\n",
			oneLine(h.Reason, 40), h.From.In(loc).Format("Mon 2 Jan 15:04"), h.Until.In(loc).Format("Mon 2 Jan 15:04 MST"))
	}
	b.WriteString("\n")
	switch {
	case in.AckCode != "" && in.AckURL != "":
		fmt.Fprintf(&b, "To acknowledge, reply ACK %s to the SMS or open:\n%s\n", in.AckCode, in.AckURL)
	case in.AckCode != "":
		fmt.Fprintf(&b, "To acknowledge, reply ACK %s to the SMS.\n", in.AckCode)
	case in.AckURL != "":
		fmt.Fprintf(&b, "To acknowledge, open:\n%s\n", in.AckURL)
	}
	b.WriteString("Acknowledging stops the escalation; the alert stays open until the condition clears.\n\n-- FrostGuard\n")
	return sms, subject, b.String()
}

// ResolvedText renders the "back to normal" notifications of an alert that
// resolved automatically. LimitC and Severity may be empty.
func ResolvedText(in MessageInput) (sms string, subject string, email string) {
	cond := resolvedCondition(in)
	when := clock(in)
	more := ""
	if in.AckURL != "" {
		more = " Details: " + in.AckURL
	}
	sms = fitSMS(func(site, unit string, withURL bool) string {
		s := fmt.Sprintf("FrostGuard RESOLVED: %s / %s: %s%s.", site, unit, asciiSafe(cond), when)
		if withURL {
			s += asciiSafe(more)
		}
		return s
	}, in)
	subject = oneLine(fmt.Sprintf("[RESOLVED] %s / %s: %s", oneLine(in.SiteName, 60), oneLine(in.UnitName, 60), cond), 250)

	var b strings.Builder
	fmt.Fprintf(&b, "Resolved at %s, unit %s.\n\n", oneLine(in.SiteName, 200), oneLine(in.UnitName, 200))
	fmt.Fprintf(&b, "%s.\n", capitalize(cond))
	if t := longTime(in); t != "" {
		fmt.Fprintf(&b, "Time: %s\n", t)
	}
	if in.AckURL != "" {
		fmt.Fprintf(&b, "\nDetails and corrective actions:\n%s\n", in.AckURL)
	}
	b.WriteString("\n-- FrostGuard\n")
	return sms, subject, b.String()
}

// writtenTemp renders a temperature for text ("9.4 °C").
func writtenTemp(u domain.TempUnit) func(*float64) string {
	return func(c *float64) string { return domain.Format(*c, u) }
}

// alarmCondition says what is wrong, temperatures rendered by temp.
func alarmCondition(in MessageInput, temp func(*float64) string) string {
	switch in.AlertType {
	case TypeTempExcursion, "":
		switch {
		case in.TemperatureC != nil && in.LimitC != nil && *in.TemperatureC < *in.LimitC:
			return fmt.Sprintf("temperature %s, below the minimum of %s", temp(in.TemperatureC), temp(in.LimitC))
		case in.TemperatureC != nil && in.LimitC != nil:
			return fmt.Sprintf("temperature %s, above the maximum of %s", temp(in.TemperatureC), temp(in.LimitC))
		case in.TemperatureC != nil:
			return fmt.Sprintf("temperature %s, out of range", temp(in.TemperatureC))
		}
		return "temperature out of range"
	case TypeDoorOpen:
		return "door open too long"
	case TypeLowBattery:
		return "sensor battery low"
	case TypeSensorFault:
		return "sensor fault (no trustworthy reading)"
	case TypeMonitoringInterrupted:
		return "no readings received (monitoring interrupted)"
	case TypeMissedManualEntry:
		return "manual temperature log overdue"
	case TypeSuspectedCooling:
		if in.TemperatureC != nil {
			return fmt.Sprintf("suspected cooling failure, temperature %s", temp(in.TemperatureC))
		}
		return "suspected cooling failure"
	}
	return strings.ReplaceAll(in.AlertType, "_", " ")
}

func resolvedCondition(in MessageInput) string {
	temp := func(c *float64) string { return domain.Format(*c, in.TempUnit) }
	switch in.AlertType {
	case TypeTempExcursion, "":
		switch {
		case in.TemperatureC != nil && in.LimitC != nil:
			return fmt.Sprintf("temperature back in range at %s (limit %s)", temp(in.TemperatureC), temp(in.LimitC))
		case in.TemperatureC != nil:
			return fmt.Sprintf("temperature back in range at %s", temp(in.TemperatureC))
		}
		return "temperature back in range"
	case TypeDoorOpen:
		return "door closed"
	case TypeLowBattery:
		return "sensor battery recovered"
	case TypeSensorFault:
		return "sensor readings valid again"
	case TypeMonitoringInterrupted:
		return "readings received again"
	case TypeMissedManualEntry:
		return "manual temperature log recorded"
	case TypeSuspectedCooling:
		return "cooling recovered"
	}
	return strings.ReplaceAll(in.AlertType, "_", " ") + " cleared"
}

// clock is " at 14:05 EST" in the site's timezone, or "" without a time.
func clock(in MessageInput) string {
	if in.At.IsZero() {
		return ""
	}
	return " at " + in.At.In(location(in)).Format("15:04 MST")
}

func longTime(in MessageInput) string {
	if in.At.IsZero() {
		return ""
	}
	return in.At.In(location(in)).Format("Mon 2 Jan 2006 15:04 MST")
}

func location(in MessageInput) *time.Location {
	if in.TimeZone == nil {
		return time.UTC
	}
	return in.TimeZone
}

// fitSMS renders the SMS with names shortened as needed to fit
// SMSMaxChars; the trailing part (acknowledge instructions, URL) is dropped
// only when even short names do not fit (a very long URL).
func fitSMS(render func(site, unit string, tail bool) string, in MessageInput) string {
	for _, tail := range []bool{true, false} {
		for _, n := range []int{60, 40, 24, 12} {
			s := render(smsName(in.SiteName, n), smsName(in.UnitName, n), tail)
			if utf8.RuneCountInString(s) <= SMSMaxChars {
				return s
			}
		}
	}
	s := []rune(render(smsName(in.SiteName, 12), smsName(in.UnitName, 12), false))
	return string(s[:SMSMaxChars])
}

func smsName(s string, n int) string {
	s = asciiSafe(oneLine(s, 1000))
	if s == "" {
		return "?"
	}
	if len(s) > n {
		return strings.TrimSpace(s[:n-1]) + "~"
	}
	return s
}

// oneLine collapses control characters (CR/LF: header injection in a
// subject) and trims to n runes.
func oneLine(s string, n int) string {
	return cleanText(strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " "), n)
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// asciiSafe keeps an SMS in plain ASCII (plus the degree sign): accented
// Latin letters lose their accent, anything else becomes '?'.
func asciiSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '°':
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		default:
			if f, ok := fold[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteByte('?')
			}
		}
	}
	return b.String()
}

var fold = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'Æ': "AE", 'æ': "ae", 'Œ': "OE", 'œ': "oe", 'Ø': "O", 'ø': "o",
		'Ł': "L", 'ł': "l", 'Đ': "D", 'đ': "d", 'Þ': "Th", 'þ': "th", '’': "'", '‘': "'", '“': "\"", '”': "\"",
		'–': "-", '—': "-", '…': "...", '\u00a0': " "}
	groups := map[string]string{
		"A": "ÀÁÂÃÄÅĀĂĄ", "a": "àáâãäåāăą", "C": "ÇĆĈĊČ", "c": "çćĉċč", "D": "Ď", "d": "ď",
		"E": "ÈÉÊËĒĔĖĘĚ", "e": "èéêëēĕėęě", "G": "ĜĞĠĢ", "g": "ĝğġģ", "I": "ÌÍÎÏĨĪĬĮİ", "i": "ìíîïĩīĭįı",
		"N": "ÑŃŅŇ", "n": "ñńņň", "O": "ÒÓÔÕÖŌŎŐ", "o": "òóôõöōŏő", "R": "ŔŖŘ", "r": "ŕŗř",
		"S": "ŚŜŞŠ", "s": "śŝşš", "T": "ŢŤ", "t": "ţť", "U": "ÙÚÛÜŨŪŬŮŰŲ", "u": "ùúûüũūŭůűų",
		"Y": "ÝŸ", "y": "ýÿ", "Z": "ŹŻŽ", "z": "źżž",
	}
	for to, from := range groups {
		for _, r := range from {
			m[r] = to
		}
	}
	return m
}()
