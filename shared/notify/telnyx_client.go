package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/frostguard/functions/shared/tracing"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Telnyx sends SMS through the Telnyx Messages API v2:
// POST {base}/v2/messages, Authorization: Bearer <key>, JSON
// {"from" | "messaging_profile_id", "to", "text"}; the message id is data.id;
// errors are {"errors": [{"code", "title", "detail"}]}.
type Telnyx struct {
	apiKey, baseURL, from, profileID string
	client                           *http.Client
}

// NewTelnyx builds the client. from (an E.164 number) and/or
// messagingProfileID choose the sender: with only a profile, Telnyx picks a
// number of the profile. A nil client gets a 10 s timeout.
func NewTelnyx(apiKey, baseURL, from, messagingProfileID string, client *http.Client) *Telnyx {
	if client == nil {
		client = tracing.Client(10 * time.Second)
	}
	return &Telnyx{apiKey: apiKey, baseURL: strings.TrimRight(baseURL, "/"), from: from,
		profileID: messagingProfileID, client: client}
}

// Provider is notifications.provider for rows sent here.
func (t *Telnyx) Provider() string { return "telnyx" }

// Idempotent is false: Telnyx's Messages API takes no idempotency key, so a
// repeated request is a second SMS.
func (t *Telnyx) Idempotent() bool { return false }

type outTelnyxMessage struct {
	From               string `json:"from,omitempty"`
	MessagingProfileID string `json:"messaging_profile_id,omitempty"`
	To                 string `json:"to"`
	Text               string `json:"text"`
}

type outTelnyxErrors struct {
	Errors []struct {
		Code   json.RawMessage `json:"code"` // documented as a string; tolerate a number
		Title  string          `json:"title"`
		Detail string          `json:"detail"`
	} `json:"errors"`
}

// SendSMS sends body to the E.164 number to. idempotencyKey is only logged
// (Telnyx has none). A failure after the request was written is Ambiguous
// and not Retryable (see Dispatcher).
func (t *Telnyx) SendSMS(ctx context.Context, to, body, idempotencyKey string) (string, error) {
	req := outTelnyxMessage{From: t.from, MessagingProfileID: t.profileID, To: to, Text: body}
	res, err := postJSON(ctx, t.client, t.baseURL+"/v2/messages", map[string]string{
		"Authorization": "Bearer " + t.apiKey,
	}, req)
	if err != nil {
		if res.written {
			return "", &SendError{Ambiguous: true, Message: "telnyx: " + err.Error()}
		}
		return "", &SendError{Retryable: true, Message: "telnyx: " + err.Error()}
	}
	if res.status >= 200 && res.status < 300 {
		var ok struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(res.body, &ok); err != nil || ok.Data.ID == "" {
			// Accepted: sending again would duplicate. Without the id the
			// delivery receipt cannot be matched, which is the lesser harm.
			slog.WarnContext(ctx, "telnyx accepted a message without a readable id", "notification_id", idempotencyKey)
			return "", nil
		}
		return ok.Data.ID, nil
	}
	return "", telnyxError(res)
}

// retryableStatus: rate limited, request timeout, or the provider's own
// trouble. Any other 4xx means the request itself is wrong.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}

type postResult struct {
	status     int
	body       []byte
	retryAfter time.Duration
	written    bool // the whole request reached the wire
}

// postJSON POSTs v as JSON. On a transport error, written tells whether the
// request had been fully sent (then the provider may have acted on it).
func postJSON(ctx context.Context, client *http.Client, endpoint string, headers map[string]string, v any) (postResult, error) {
	var res postResult
	payload, err := json.Marshal(v)
	if err != nil {
		return res, err
	}
	var written atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				written.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return res, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "FrostGuard-Notify/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		res.written = written.Load()
		return res, redactURL(err)
	}
	defer resp.Body.Close()
	res.status = resp.StatusCode
	res.body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		// The status line says accepted; a truncated body does not undo it.
		err = nil
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, perr := strconv.Atoi(strings.TrimSpace(s)); perr == nil && secs > 0 {
			res.retryAfter = time.Duration(secs) * time.Second
		}
	}
	if err != nil {
		res.written = true
		return res, err
	}
	return res, nil
}

// redactURL keeps the error's meaning (timeout, refused) without repeating
// the URL on every line of last_error.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		if isTimeout(err) {
			return fmt.Errorf("timeout: %w", ue.Err)
		}
		return ue.Err
	}
	return err
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout() || errors.Is(err, context.DeadlineExceeded)
}
