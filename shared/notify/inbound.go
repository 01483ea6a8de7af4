package notify

import (
	"strings"
	"unicode"

	"github.com/frostguard/functions/shared/domain"
)

// Kinds of inbound text, as Keyword returns them.
const (
	KeywordNone   = "none"
	KeywordOptOut = "opt_out" // STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT
	KeywordOptIn  = "opt_in"  // START, UNSTOP
	KeywordHelp   = "help"    // HELP, INFO
	KeywordAck    = "ack"     // ACK <code>
)

// The carriers' (CTIA) standard keywords. They count only as the whole
// message: "please stop the compressor" is not an opt-out.
var inboundKeywords = map[string]string{
	"STOP": KeywordOptOut, "STOPALL": KeywordOptOut, "UNSUBSCRIBE": KeywordOptOut,
	"CANCEL": KeywordOptOut, "END": KeywordOptOut, "QUIT": KeywordOptOut,
	"START": KeywordOptIn, "UNSTOP": KeywordOptIn,
	"HELP": KeywordHelp, "INFO": KeywordHelp,
}

// DefaultHelpText answers HELP when TelnyxWebhook.HelpText is empty. It names
// the service and the keywords, as carriers require of a HELP response.
const DefaultHelpText = "FrostGuard temperature alerts. Reply ACK <code> to acknowledge an alert, " +
	"STOP to opt out, START to opt back in. Msg&data rates may apply."

// Keyword classifies an inbound text: OptOut, OptIn, Help, Ack (with the
// upper-cased code, 4..10 letters or digits) or None. Case, surrounding
// spaces and trailing punctuation ("Stop.", "ack abc123!") are ignored;
// anything else makes the text a None.
func Keyword(text string) (kind string, ackCode string) {
	t := strings.ToUpper(strings.TrimFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	}))
	if k, ok := inboundKeywords[t]; ok {
		return k, ""
	}
	rest, ok := strings.CutPrefix(t, "ACK")
	if !ok || rest == "" {
		return KeywordNone, ""
	}
	// "ACK ABC123", "ACK: ABC123", "ACK-ABC123", "ACK#ABC123"; "ACKABC123" is
	// not accepted (it may be a word).
	sep := strings.IndexFunc(rest, func(r rune) bool {
		return !(unicode.IsSpace(r) || r == ':' || r == '-' || r == '#')
	})
	if sep <= 0 {
		return KeywordNone, ""
	}
	code := rest[sep:]
	if len(code) < 4 || len(code) > 10 {
		return KeywordNone, ""
	}
	for _, r := range code {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return KeywordNone, ""
		}
	}
	return KeywordAck, code
}

// InboundPhone normalises a sender to E.164 ("+15555550123"): spaces, dots,
// dashes and parentheses are dropped and a leading 00 becomes +. A number
// without a country prefix, or a short code, gives "" (it cannot be an
// escalation contact nor an opt-out entry, both stored in E.164).
func InboundPhone(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return ""
		}
	}
	n := b.String()
	if strings.HasPrefix(n, "00") {
		n = "+" + n[2:]
	}
	if len(n) < 3 || len(n) > 16 || n[0] != '+' || n[1] == '0' {
		return ""
	}
	for _, r := range n[1:] {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return n
}

// AckNote is the acknowledged_note of an alert acknowledged by SMS. The
// number is masked: the note is shown to every member of the organisation.
func AckNote(phone, contactName string) string {
	return "Acknowledged by SMS from " + domain.MaskPhone(phone) + " (" + contactName + ")"
}

// Replies to ACK. Short (one SMS segment) and free of personal data.
func ackReply(outcome, code string) string {
	switch outcome {
	case "acknowledged":
		return "FrostGuard: alert " + code + " acknowledged. Escalation stopped."
	case "already_acknowledged":
		return "FrostGuard: alert " + code + " was already acknowledged."
	case "ambiguous":
		return "FrostGuard: code " + code + " matches several alerts. Please acknowledge in the app."
	default:
		return "FrostGuard: no open alert with code " + code + "."
	}
}
