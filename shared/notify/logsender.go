package notify

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/frostguard/functions/shared/config"
)

// LogSender stands in for the providers in development: it logs the
// message, or the call it would place and what the call would say
// (recipient masked), and returns a fake id "log-<uuid>". A logged call
// stays "calling": no provider sends its events.
type LogSender struct{}

// NewLogSender returns the development sender.
func NewLogSender() *LogSender { return &LogSender{} }

// Provider is notifications.provider for rows "sent" here.
func (*LogSender) Provider() string { return "log" }

// Idempotent: logging twice harms nobody.
func (*LogSender) Idempotent() bool { return true }

// SendSMS logs the SMS.
func (*LogSender) SendSMS(ctx context.Context, to, body, idempotencyKey string) (string, error) {
	slog.InfoContext(ctx, "sms (log sender, not sent)", "to", maskRecipient("sms", to),
		"notification_id", idempotencyKey, "body", body)
	return "log-" + newUUID(), nil
}

// SendEmail logs the e-mail.
func (*LogSender) SendEmail(ctx context.Context, to, subject, body, idempotencyKey string) (string, error) {
	slog.InfoContext(ctx, "email (log sender, not sent)", "to", maskRecipient("email", to),
		"notification_id", idempotencyKey, "subject", subject, "body", body)
	return "log-" + newUUID(), nil
}

// Dial logs the call it would place.
func (*LogSender) Dial(ctx context.Context, d Dial) (string, error) {
	slog.InfoContext(ctx, "voice call (log sender, not placed)", "to", maskRecipient("voice", d.To),
		"notification_id", d.CommandID, "would_say", d.Script)
	return "log-" + newUUID(), nil
}

// Gather logs what a call would say before waiting for a key.
func (*LogSender) Gather(ctx context.Context, callControlID string, s Speech) error {
	slog.InfoContext(ctx, "call gather (log sender)", "call_control_id", callControlID, "would_say", s.Text)
	return nil
}

// Speak logs what a call would say.
func (*LogSender) Speak(ctx context.Context, callControlID string, s Speech) error {
	slog.InfoContext(ctx, "call speak (log sender)", "call_control_id", callControlID, "would_say", s.Text)
	return nil
}

// Hangup logs the end of a call.
func (*LogSender) Hangup(ctx context.Context, callControlID, _, _ string) error {
	slog.InfoContext(ctx, "call hangup (log sender)", "call_control_id", callControlID)
	return nil
}

// CallSender builds the configured voice sender: Telnyx Call Control with
// TELNYX_API_KEY and TELNYX_CONNECTION_ID (the Call Control application),
// the log sender without an API key (dev), and none (nil: voice pages fail
// "channel_not_configured", logged) with a key but no application.
func CallSender(cfg config.Notify, client *http.Client) CallControl {
	switch {
	case cfg.TelnyxAPIKey == "":
		return NewLogSender()
	case cfg.TelnyxConnectionID == "":
		return nil
	}
	return NewTelnyxCalls(TelnyxCallsConfig{APIKey: cfg.TelnyxAPIKey, BaseURL: cfg.TelnyxAPIBase, From: cfg.TelnyxFromNumber,
		ConnectionID: cfg.TelnyxConnectionID, WebhookURL: cfg.TelnyxWebhookURL, Voice: cfg.TelnyxTTSVoice}, client)
}

// Senders builds the configured senders: Telnyx and Resend when their API
// key is set, the log sender otherwise (dev). A nil client gets a 10 s
// timeout, well under the dispatcher's lease.
func Senders(cfg config.Notify, client *http.Client) (SMSSender, EmailSender) {
	var sms SMSSender = NewLogSender()
	var email EmailSender = NewLogSender()
	if cfg.TelnyxAPIKey != "" {
		sms = NewTelnyx(cfg.TelnyxAPIKey, cfg.TelnyxAPIBase, cfg.TelnyxFromNumber, cfg.TelnyxMessagingProfileID, client)
	}
	if cfg.ResendAPIKey != "" {
		email = NewResend(cfg.ResendAPIKey, cfg.ResendAPIBase, cfg.EmailFrom, client)
	}
	return sms, email
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
