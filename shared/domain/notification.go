package domain

import (
	"strings"
	"time"
)

// Notification vocabularies, as the schema's CHECK constraints spell them.
var (
	NotificationStatuses = []string{"pending", "sending", "sent", "delivered", "failed", "skipped"}
	NotificationChannels = []string{"sms", "email", "voice"}
	NotificationKinds    = []string{"alert", "resolved", "test", "invitation", "verification"}
)

// Notification is one row of the notification log (the outbox).
type Notification struct {
	ID             string  `json:"id"`
	AlertID        *string `json:"alert_id"`
	Kind           string  `json:"kind"`
	EscalationStep int     `json:"escalation_step"`
	ContactID      *string `json:"contact_id"`
	Channel        string  `json:"channel"`
	Recipient      string  `json:"recipient"`
	Status         string  `json:"status"`
	// CallState is a voice page's call: queued, calling, answered,
	// acknowledged, no_answer, busy, failed, voicemail (null for other
	// channels); Redial counts the calls placed again after it (0: the
	// first call).
	CallState *string `json:"call_state"`
	Redial    int     `json:"redial"`
	Attempts  int     `json:"attempts"`
	LastError *string `json:"last_error"`
	Provider  *string `json:"provider"`
	// FallbackOf: this page replaces that one, which failed for good (the
	// contact's next channel).
	FallbackOf  *string    `json:"fallback_of"`
	SentAt      *time.Time `json:"sent_at"`
	DeliveredAt *time.Time `json:"delivered_at"`
	FailedAt    *time.Time `json:"failed_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// PhoneChannel reports whether a channel's recipient is a phone number
// (masked like every phone number for members who do not manage contacts).
func PhoneChannel(channel string) bool { return channel == "sms" || channel == "voice" }

// UTC puts every time of the notification in UTC.
func (n *Notification) UTC() {
	n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
	for _, t := range []*time.Time{n.SentAt, n.DeliveredAt, n.FailedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
}

// MaskPhone hides every digit of an E.164 number but the last four
// ("+15555550100" -> "+*******0100"), so people who do not manage the
// organisation can follow deliveries without collecting colleagues' numbers.
func MaskPhone(phone string) string {
	digits := 0
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	keep := 4
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			if digits > keep {
				b.WriteByte('*')
				digits--
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}
