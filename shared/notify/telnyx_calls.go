package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/tracing"
)

// VoiceSender places a voice page's call. The call's progress comes back as
// Telnyx call events (TelnyxWebhook), which the call flow answers with
// commands (CallControl).
type VoiceSender interface {
	Dial(ctx context.Context, d Dial) (callControlID string, err error)
}

// CallControl is what the call flow commands on a live call.
type CallControl interface {
	VoiceSender
	// Gather speaks text and collects one key (1 or 2).
	Gather(ctx context.Context, callControlID string, s Speech) error
	// Speak speaks text.
	Speak(ctx context.Context, callControlID string, s Speech) error
	Hangup(ctx context.Context, callControlID string, clientState, commandID string) error
}

// Dial is one call to place.
type Dial struct {
	To string
	// Script is what the call would say now (the call flow renders it
	// afresh when answered); the log sender prints it.
	Script string
	// ClientState comes back on every event of the call (base64, our ids).
	ClientState string
	// CommandID makes Telnyx ignore a repeated dial (the notification id).
	CommandID string
}

// Speech is a text to speak on a call, with the client state the next
// events carry and the command's idempotency id.
type Speech struct {
	Text        string
	ClientState string
	CommandID   string
}

// TelnyxCalls places and controls calls through Telnyx Call Control (API
// v2): POST {base}/v2/calls to dial from a Call Control application
// (connection_id) and number, then POST
// {base}/v2/calls/{call_control_id}/actions/{gather_using_speak|speak|hangup}.
// Authorization: Bearer <key>; errors are {"errors": [{"code", "title",
// "detail"}]} like the Messages API.
type TelnyxCalls struct {
	apiKey, baseURL, from, connectionID, webhookURL, voice string
	client                                                 *http.Client
}

// TelnyxCallsConfig configures TelnyxCalls.
type TelnyxCallsConfig struct {
	APIKey, BaseURL string
	From            string // caller id, E.164
	ConnectionID    string // the Call Control application
	// WebhookURL, when set, is where Telnyx sends this call's events
	// (overriding the application's URL).
	WebhookURL string
	// Voice is the text-to-speech voice ("female", "male", or a provider
	// voice such as "AWS.Polly.Joanna-Neural").
	Voice string
}

// NewTelnyxCalls builds the client. A nil client gets a 10 s timeout.
func NewTelnyxCalls(c TelnyxCallsConfig, client *http.Client) *TelnyxCalls {
	if client == nil {
		client = tracing.Client(10 * time.Second)
	}
	if c.Voice == "" {
		c.Voice = "female"
	}
	return &TelnyxCalls{apiKey: c.APIKey, baseURL: strings.TrimRight(c.BaseURL, "/"), from: c.From,
		connectionID: c.ConnectionID, webhookURL: c.WebhookURL, voice: c.Voice, client: client}
}

// Provider is notifications.provider for calls placed here.
func (t *TelnyxCalls) Provider() string { return "telnyx" }

// Idempotent is false: the dial carries command_id, but a dial whose answer
// was lost is treated like an SMS whose answer was lost (failed, never
// placed twice); the escalation goes on.
func (t *TelnyxCalls) Idempotent() bool { return false }

// Call limits: how long it rings before "no answer", and the longest call
// (a menu nobody answers must not keep a line open).
const (
	callRingSeconds  = 30
	callLimitSeconds = 300
)

type outTelnyxDial struct {
	ConnectionID              string `json:"connection_id"`
	To                        string `json:"to"`
	From                      string `json:"from"`
	ClientState               string `json:"client_state,omitempty"`
	CommandID                 string `json:"command_id,omitempty"`
	AnsweringMachineDetection string `json:"answering_machine_detection"`
	TimeoutSecs               int    `json:"timeout_secs"`
	TimeLimitSecs             int    `json:"time_limit_secs"`
	WebhookURL                string `json:"webhook_url,omitempty"`
}

// Dial places the call. A failure after the request was written is
// Ambiguous and not Retryable (see Dispatcher).
func (t *TelnyxCalls) Dial(ctx context.Context, d Dial) (string, error) {
	req := outTelnyxDial{ConnectionID: t.connectionID, To: d.To, From: t.from, ClientState: d.ClientState,
		CommandID: d.CommandID, AnsweringMachineDetection: "detect", TimeoutSecs: callRingSeconds,
		TimeLimitSecs: callLimitSeconds, WebhookURL: t.webhookURL}
	res, err := postJSON(ctx, t.client, t.baseURL+"/v2/calls", t.auth(), req)
	if err != nil {
		if res.written {
			return "", &SendError{Ambiguous: true, Message: "telnyx call: " + err.Error()}
		}
		return "", &SendError{Retryable: true, Message: "telnyx call: " + err.Error()}
	}
	if res.status >= 200 && res.status < 300 {
		var ok struct {
			Data struct {
				CallControlID string `json:"call_control_id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(res.body, &ok); err != nil || ok.Data.CallControlID == "" {
			// Dialling: calling again would ring twice. Its events still
			// find the row through client_state.
			slog.WarnContext(ctx, "telnyx accepted a call without a readable call_control_id", "notification_id", d.CommandID)
			return "", nil
		}
		return ok.Data.CallControlID, nil
	}
	return "", telnyxError(res)
}

type outTelnyxSpeak struct {
	Payload     string `json:"payload"`
	PayloadType string `json:"payload_type"`
	Voice       string `json:"voice"`
	Language    string `json:"language"`
	ClientState string `json:"client_state,omitempty"`
	CommandID   string `json:"command_id,omitempty"`
}

type outTelnyxGather struct {
	outTelnyxSpeak
	ValidDigits   string `json:"valid_digits"`
	MinimumDigits int    `json:"minimum_digits"`
	MaximumDigits int    `json:"maximum_digits"`
	MaximumTries  int    `json:"maximum_tries"`
	TimeoutMillis int    `json:"timeout_millis"`
}

func (t *TelnyxCalls) speech(s Speech) outTelnyxSpeak {
	return outTelnyxSpeak{Payload: s.Text, PayloadType: "text", Voice: t.voice, Language: "en-US",
		ClientState: s.ClientState, CommandID: s.CommandID}
}

// Gather speaks s and waits 10 s for one key, 1 or 2 (call.gather.ended).
func (t *TelnyxCalls) Gather(ctx context.Context, callControlID string, s Speech) error {
	return t.command(ctx, callControlID, "gather_using_speak", outTelnyxGather{outTelnyxSpeak: t.speech(s),
		ValidDigits: "12", MinimumDigits: 1, MaximumDigits: 1, MaximumTries: 1, TimeoutMillis: 10000})
}

// Speak speaks s (call.speak.ended when done).
func (t *TelnyxCalls) Speak(ctx context.Context, callControlID string, s Speech) error {
	return t.command(ctx, callControlID, "speak", t.speech(s))
}

// Hangup ends the call (call.hangup).
func (t *TelnyxCalls) Hangup(ctx context.Context, callControlID, clientState, commandID string) error {
	return t.command(ctx, callControlID, "hangup", struct {
		ClientState string `json:"client_state,omitempty"`
		CommandID   string `json:"command_id,omitempty"`
	}{clientState, commandID})
}

func (t *TelnyxCalls) command(ctx context.Context, callControlID, action string, body any) error {
	res, err := postJSON(ctx, t.client, t.baseURL+"/v2/calls/"+url.PathEscape(callControlID)+"/actions/"+action, t.auth(), body)
	if err != nil {
		return &SendError{Retryable: true, Ambiguous: res.written, Message: "telnyx " + action + ": " + err.Error()}
	}
	if res.status >= 200 && res.status < 300 {
		return nil
	}
	return telnyxError(res)
}

func (t *TelnyxCalls) auth() map[string]string {
	return map[string]string{"Authorization": "Bearer " + t.apiKey}
}

// telnyxError reads a Telnyx error answer ({"errors": [{"code", "title",
// "detail"}]}) into a SendError.
func telnyxError(res postResult) *SendError {
	se := &SendError{Status: res.status, Retryable: retryableStatus(res.status), RetryAfter: res.retryAfter}
	var e outTelnyxErrors
	if json.Unmarshal(res.body, &e) == nil && len(e.Errors) > 0 {
		se.Code = strings.Trim(string(e.Errors[0].Code), `"`)
		se.Message = e.Errors[0].Title
		if d := e.Errors[0].Detail; d != "" && d != se.Message {
			se.Message += " (" + d + ")"
		}
	} else {
		se.Message = http.StatusText(res.status)
	}
	return se
}
