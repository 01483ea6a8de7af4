package notify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Telnyx messaging event types (API v2). message.finalized is the terminal
// delivery receipt: the result is in payload.to[].status.
const (
	TelnyxMessageSent      = "message.sent"
	TelnyxMessageFinalized = "message.finalized"
	TelnyxMessageReceived  = "message.received"
)

// Recipient statuses Telnyx reports in payload.to[].status. The last four are
// the terminal ones of message.finalized.
const (
	TelnyxStatusQueued              = "queued"
	TelnyxStatusSending             = "sending"
	TelnyxStatusSent                = "sent"
	TelnyxStatusDelivered           = "delivered"
	TelnyxStatusSendingFailed       = "sending_failed"
	TelnyxStatusDeliveryFailed      = "delivery_failed"
	TelnyxStatusDeliveryUnconfirmed = "delivery_unconfirmed"
)

// TelnyxEvent is the part of a messaging webhook FrostGuard acts on.
type TelnyxEvent struct {
	ID         string    // data.id: the event id, unique per event (dedupe key)
	Type       string    // data.event_type
	OccurredAt time.Time // data.occurred_at (zero if absent)
	MessageID  string    // data.payload.id: the message id POST /v2/messages returned
	Direction  string    // data.payload.direction: outbound or inbound
	To         []TelnyxRecipient
	From, Text string // payload.from.phone_number, payload.text
	SentAt     time.Time
	// CompletedAt is payload.completed_at: when the message reached its
	// final state (finalized only).
	CompletedAt time.Time
	Errors      []TelnyxError
	// Call is the payload of a call.* event (nil otherwise).
	Call *CallEvent
}

// TelnyxRecipient is one entry of payload.to.
type TelnyxRecipient struct {
	PhoneNumber string `json:"phone_number"`
	Status      string `json:"status"`
	Carrier     string `json:"carrier"`
}

// TelnyxError is one entry of payload.errors (JSON:API error objects).
type TelnyxError struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// UnmarshalJSON takes the code as a string (documented) or a number (seen
// in older payloads), so an unexpected type cannot lose a receipt.
func (e *TelnyxError) UnmarshalJSON(b []byte) error {
	var raw struct {
		Code   json.RawMessage `json:"code"`
		Title  string          `json:"title"`
		Detail string          `json:"detail"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	e.Title, e.Detail, e.Code = raw.Title, raw.Detail, ""
	c := bytes.TrimSpace(raw.Code)
	switch {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '"':
		if err := json.Unmarshal(c, &e.Code); err != nil {
			return err
		}
	default:
		var n json.Number
		if err := json.Unmarshal(c, &n); err != nil {
			return fmt.Errorf("errors[].code must be a string or a number")
		}
		e.Code = n.String()
	}
	return nil
}

// String is the error as stored in notifications.last_error: "code title: detail".
func (e TelnyxError) String() string {
	s := strings.TrimSpace(e.Code + " " + e.Title)
	if e.Detail != "" && e.Detail != e.Title {
		s += ": " + e.Detail
	}
	return s
}

type telnyxEnvelope struct {
	Data *struct {
		ID         string          `json:"id"`
		EventType  string          `json:"event_type"`
		OccurredAt string          `json:"occurred_at"`
		Payload    json.RawMessage `json:"payload"`
	} `json:"data"`
}

type telnyxMessagePayload struct {
	ID        string `json:"id"`
	Direction string `json:"direction"`
	From      *struct {
		PhoneNumber string `json:"phone_number"`
	} `json:"from"`
	To          []TelnyxRecipient `json:"to"`
	Text        string            `json:"text"`
	SentAt      *string           `json:"sent_at"`
	CompletedAt *string           `json:"completed_at"`
	Errors      []TelnyxError     `json:"errors"`
}

// maxTelnyxIDLen bounds ids we store and log; Telnyx ids are UUIDs.
const maxTelnyxIDLen = 128

// ParseTelnyxEvent parses the webhook JSON {data: {event_type, id,
// occurred_at, payload: {...}}}. Unknown fields are allowed (Telnyx adds
// fields without notice); missing ids and malformed times are errors. The
// payload is only interpreted for message.* events and the call events the
// call flow acts on.
func ParseTelnyxEvent(body []byte) (TelnyxEvent, error) {
	var env telnyxEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return TelnyxEvent{}, fmt.Errorf("not JSON of a Telnyx event: %w", err)
	}
	if env.Data == nil {
		return TelnyxEvent{}, errors.New("data is missing")
	}
	d := env.Data
	ev := TelnyxEvent{ID: strings.TrimSpace(d.ID), Type: strings.TrimSpace(d.EventType)}
	if !telnyxValidID(ev.ID) {
		return TelnyxEvent{}, errors.New("data.id is missing or not a valid id")
	}
	if !telnyxValidID(ev.Type) {
		return TelnyxEvent{}, errors.New("data.event_type is missing or not a valid type")
	}
	var err error
	if ev.OccurredAt, err = telnyxTime(&d.OccurredAt, "data.occurred_at"); err != nil {
		return TelnyxEvent{}, err
	}
	if callEventHandled(ev.Type) {
		if ev.Call, err = parseCallPayload(d.Payload); err != nil {
			return TelnyxEvent{}, err
		}
		return ev, nil
	}
	if !strings.HasPrefix(ev.Type, "message.") {
		return ev, nil
	}
	var p telnyxMessagePayload
	if len(d.Payload) == 0 || string(d.Payload) == "null" {
		return TelnyxEvent{}, errors.New("data.payload is missing")
	}
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return TelnyxEvent{}, fmt.Errorf("data.payload: %w", err)
	}
	ev.MessageID = strings.TrimSpace(p.ID)
	if !telnyxValidID(ev.MessageID) {
		return TelnyxEvent{}, errors.New("data.payload.id is missing or not a valid id")
	}
	ev.Direction, ev.To, ev.Errors = p.Direction, p.To, p.Errors
	ev.Text = telnyxClean(p.Text, 2000)
	if p.From != nil {
		ev.From = strings.TrimSpace(p.From.PhoneNumber)
	}
	if ev.SentAt, err = telnyxTime(p.SentAt, "data.payload.sent_at"); err != nil {
		return TelnyxEvent{}, err
	}
	if ev.CompletedAt, err = telnyxTime(p.CompletedAt, "data.payload.completed_at"); err != nil {
		return TelnyxEvent{}, err
	}
	return ev, nil
}

// telnyxTime parses an optional RFC 3339 time ("2019-12-09T21:32:14.148+00:00").
func telnyxTime(s *string, field string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s is not an RFC 3339 time", field)
	}
	// PostgreSQL timestamptz covers 4713 BC..294276 AD; keep to sane years so
	// a hostile (but signed) value cannot fail the insert as a 500.
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%s is out of range", field)
	}
	return t.UTC(), nil
}

// DeliveryOutcome is what a receipt means for the outbox row: one of
// "sent", "delivered", "failed", "unconfirmed", or "" (nothing to apply).
// Kept pure so the mapping is table-tested.
func (ev TelnyxEvent) DeliveryOutcome() (outcome, lastError string) {
	switch ev.Type {
	case TelnyxMessageSent:
		return "sent", ""
	case TelnyxMessageFinalized:
	default:
		return "", ""
	}
	status := ""
	if len(ev.To) > 0 {
		// We send one recipient per message, so to[0] is the result.
		status = ev.To[0].Status
	}
	switch status {
	case TelnyxStatusDelivered:
		return "delivered", ""
	case TelnyxStatusSendingFailed, TelnyxStatusDeliveryFailed:
		return "failed", ev.errorText(status)
	case TelnyxStatusDeliveryUnconfirmed:
		// Telnyx: "no indication whether or not the message has reached the
		// receiver". Not a failure (it may well have arrived, and a failed
		// row would stop counting toward rate limits); the row stays sent
		// with the reason recorded.
		return "unconfirmed", ev.errorText(status)
	default:
		// A finalized receipt always carries a terminal status; anything else
		// (absent, queued, a future value) moves nothing.
		return "", ""
	}
}

// errorText joins the errors ("40300 Blocked as spam: ...; ...") or falls
// back to the status.
func (ev TelnyxEvent) errorText(status string) string {
	parts := make([]string, 0, len(ev.Errors))
	for _, e := range ev.Errors {
		if s := e.String(); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return status
	}
	return telnyxClean(strings.Join(parts, "; "), 500)
}

// telnyxClean makes provider text storable: PostgreSQL text cannot hold NUL,
// and the length is bounded (cut on a rune boundary, never mid-character).
func telnyxClean(s string, max int) string {
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= max {
		return s
	}
	cut := 0
	for i := range s {
		if i > max {
			break
		}
		cut = i
	}
	return s[:cut]
}

// telnyxValidID reports whether an id is safe to store and log: bounded,
// printable, no spaces.
func telnyxValidID(s string) bool {
	if s == "" || len(s) > maxTelnyxIDLen {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
