package notify

import (
	"context"
	"encoding/json"
	"github.com/frostguard/functions/shared/tracing"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Resend sends e-mail through the Resend API: POST {base}/emails,
// Authorization: Bearer <key>, Idempotency-Key: <notification id>, JSON
// {"from", "to": [...], "subject", "text"}; the e-mail id is "id"; errors are
// {"statusCode", "name", "message"}. Resend answers a repeated key (within
// 24 h) with the first send's id without sending again, which is what makes
// e-mail retries safe after timeouts.
type Resend struct {
	apiKey, baseURL, from string
	client                *http.Client
}

// NewResend builds the client. A nil client gets a 10 s timeout.
func NewResend(apiKey, baseURL, from string, client *http.Client) *Resend {
	if client == nil {
		client = tracing.Client(10 * time.Second)
	}
	return &Resend{apiKey: apiKey, baseURL: strings.TrimRight(baseURL, "/"), from: from, client: client}
}

// Provider is notifications.provider for rows sent here.
func (r *Resend) Provider() string { return "resend" }

// Idempotent: the Idempotency-Key header makes a repeat harmless.
func (r *Resend) Idempotent() bool { return true }

type outResendEmail struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
}

type outResendError struct {
	StatusCode int    `json:"statusCode"`
	Name       string `json:"name"`
	Message    string `json:"message"`
}

// SendEmail sends a plain-text e-mail. Every transport failure is
// Retryable (the key makes the retry safe), flagged Ambiguous when the
// request had been written.
func (r *Resend) SendEmail(ctx context.Context, to, subject, body, idempotencyKey string) (string, error) {
	headers := map[string]string{"Authorization": "Bearer " + r.apiKey}
	if idempotencyKey != "" {
		headers["Idempotency-Key"] = idempotencyKey
	}
	res, err := postJSON(ctx, r.client, r.baseURL+"/emails", headers,
		outResendEmail{From: r.from, To: []string{to}, Subject: subject, Text: body})
	if err != nil {
		return "", &SendError{Retryable: true, Ambiguous: res.written, Message: "resend: " + err.Error()}
	}
	if res.status >= 200 && res.status < 300 {
		var ok struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(res.body, &ok); err != nil || ok.ID == "" {
			slog.WarnContext(ctx, "resend accepted an e-mail without a readable id", "notification_id", idempotencyKey)
			return "", nil
		}
		return ok.ID, nil
	}
	se := &SendError{Status: res.status, Retryable: retryableStatus(res.status), RetryAfter: res.retryAfter}
	var e outResendError
	if json.Unmarshal(res.body, &e) == nil && (e.Name != "" || e.Message != "") {
		se.Code, se.Message = e.Name, e.Message
	} else {
		se.Message = http.StatusText(res.status)
	}
	// 409 concurrent_idempotent_requests: the first request with this key is
	// still in progress at Resend; asking again later returns its result.
	if res.status == http.StatusConflict && se.Code == "concurrent_idempotent_requests" {
		se.Retryable = true
	}
	return "", se
}
