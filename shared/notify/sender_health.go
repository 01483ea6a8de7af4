package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/store"
)

// Sender health: whether the deployment's senders can page at all. The
// sweeper (which holds the provider keys) asks Telnyx and Resend every
// store.SenderHealthEvery, stores the report (store.SaveSenderHealth), counts the
// channels in trouble (metrics.SendersUnhealthy, alarmed), and the api shows
// the stored report to admins. The origin product checked only a toll-free
// verification, on every send; a number without SMS, a disabled messaging
// profile, receipts or calls' events going to another URL, or an e-mail
// domain that lost its verification went unnoticed until an alarm was lost.
//
// What is asked (Telnyx API v2, Resend):
//   - GET /v2/phone_numbers/messaging?filter[phone_number]=<from>: the
//     number's SMS feature, its type (toll-free) and messaging profile;
//   - GET /v2/messaging_profiles/{id}: enabled, the webhook_url receipts go to;
//   - for a toll-free number, GET /v2/messaging_tollfree/verification/requests
//     ?phone_number=<from>&page=1&page_size=1: verificationStatus;
//   - with a Call Control application, GET /v2/call_control_applications/{id}:
//     active, webhook_event_url; and GET /v2/phone_numbers?filter[phone_number]=
//     <from>: the caller id's status (active);
//   - GET /domains (Resend): the EMAIL_FROM domain's status.

// Channel health statuses.
const (
	SenderOK            = "ok"             // it can send, and its receipts reach us
	SenderWarning       = "warning"        // it sends, but something is off (receipts or events go elsewhere)
	SenderDown          = "down"           // it cannot send
	SenderUnknown       = "unknown"        // the provider could not be asked
	SenderNotConfigured = "not_configured" // no key: the logging sender (dev)
)

// TelnyxNumberFacts is what Telnyx says about the sending number and its
// messaging profile.
type TelnyxNumberFacts struct {
	Found              bool
	Type               string // tollfree, longcode, shortcode...
	SMS                bool   // features.sms present
	MessagingProfileID string
	ProfileEnabled     bool
	ProfileWebhookURL  string
	// TollFreeStatus is the newest verification request's
	// verificationStatus ("" when none was found).
	TollFreeStatus, TollFreeReason string
}

// CallAppFacts is what Telnyx says about the Call Control application
// and the caller id's number (GET /v2/phone_numbers: its status, e.g.
// active, port-pending, deleted).
type CallAppFacts struct {
	Active          bool
	WebhookEventURL string
	NumberFound     bool
	NumberStatus    string
}

// ResendDomainFacts is what Resend says about the sender's domain.
type ResendDomainFacts struct {
	Domain string
	Found  bool
	Status string // verified, pending, failed, temporary_failure, not_started
}

// SenderFacts is everything one check learnt; a *Err is the failure to ask.
type SenderFacts struct {
	SMSConfigured, VoiceConfigured, EmailConfigured bool
	FromNumber, OurWebhookURL                       string
	Number                                          TelnyxNumberFacts
	NumberErr                                       error
	CallApp                                         CallAppFacts
	CallAppErr                                      error
	Resend                                          ResendDomainFacts
	ResendErr                                       error
}

// EvaluateSenders turns the facts into the report, pure: each channel's
// status and the sentences that explain it ("cannot send SMS: toll-free
// verification pending (Waiting For Customer)").
func EvaluateSenders(f SenderFacts, now time.Time) store.SenderHealth {
	h := store.SenderHealth{CheckedAt: now, Channels: []store.SenderChannel{smsHealth(f), voiceHealth(f), emailHealth(f)}}
	h.Status = SenderOK
	for _, c := range h.Channels {
		switch {
		case c.Status == SenderDown:
			h.Status = SenderDown
		case (c.Status == SenderWarning || c.Status == SenderUnknown) && h.Status == SenderOK:
			h.Status = SenderWarning
		}
	}
	return h
}

func smsHealth(f SenderFacts) store.SenderChannel {
	c := store.SenderChannel{Channel: "sms", Status: SenderOK, Sender: f.FromNumber}
	switch {
	case !f.SMSConfigured:
		return notConfigured(c, "no TELNYX_API_KEY: SMS are logged, not sent")
	case f.NumberErr != nil:
		return unknown(c, "could not ask Telnyx about "+f.FromNumber+": "+f.NumberErr.Error())
	case !f.Number.Found:
		return down(c, "cannot send SMS: "+f.FromNumber+" is not a number of this Telnyx account")
	}
	n := f.Number
	if !n.SMS {
		c = down(c, "cannot send SMS: "+f.FromNumber+" has no SMS capability")
	}
	if n.MessagingProfileID == "" {
		c = down(c, "cannot send SMS: "+f.FromNumber+" is in no messaging profile")
	} else if !n.ProfileEnabled {
		c = down(c, "cannot send SMS: the messaging profile "+n.MessagingProfileID+" is disabled")
	}
	if n.Type == "tollfree" || n.Type == "toll_free" {
		switch n.TollFreeStatus {
		case "Verified":
		case "":
			c = down(c, "cannot send SMS: toll-free verification not submitted for "+f.FromNumber)
		case "Rejected":
			c = down(c, "cannot send SMS: toll-free verification rejected"+reason(n.TollFreeReason))
		default:
			c = down(c, "cannot send SMS: toll-free verification pending ("+n.TollFreeStatus+")"+reason(n.TollFreeReason))
		}
	}
	if n.MessagingProfileID != "" && f.OurWebhookURL != "" && n.ProfileWebhookURL != f.OurWebhookURL {
		c = warn(c, fmt.Sprintf("delivery receipts and replies (STOP, ACK) go to %q, not to our webhook %q", n.ProfileWebhookURL, f.OurWebhookURL))
	}
	return c
}

func voiceHealth(f SenderFacts) store.SenderChannel {
	c := store.SenderChannel{Channel: "voice", Status: SenderOK, Sender: f.FromNumber}
	switch {
	case !f.VoiceConfigured:
		return notConfigured(c, "no TELNYX_CONNECTION_ID: voice pages fail (channel_not_configured), or are logged without keys")
	case f.CallAppErr != nil:
		return unknown(c, "could not ask Telnyx about the Call Control application: "+f.CallAppErr.Error())
	}
	if !f.CallApp.Active {
		c = down(c, "cannot place calls: the Call Control application is not active")
	}
	switch {
	case !f.CallApp.NumberFound:
		c = down(c, "cannot place calls: the caller id "+f.FromNumber+" is not a number of this Telnyx account")
	case f.CallApp.NumberStatus != "active":
		c = down(c, "cannot place calls: the caller id "+f.FromNumber+" is "+strings.ReplaceAll(f.CallApp.NumberStatus, "-", " ")+", not active")
	}
	if f.OurWebhookURL != "" && f.CallApp.WebhookEventURL != f.OurWebhookURL {
		// Dials name our URL themselves; the application's URL still
		// receives the events of calls placed before, or without it.
		c = warn(c, fmt.Sprintf("the Call Control application sends events to %q, not to our webhook %q", f.CallApp.WebhookEventURL, f.OurWebhookURL))
	}
	return c
}

func emailHealth(f SenderFacts) store.SenderChannel {
	c := store.SenderChannel{Channel: "email", Status: SenderOK, Sender: f.Resend.Domain}
	switch {
	case !f.EmailConfigured:
		return notConfigured(c, "no RESEND_API_KEY: e-mails are logged, not sent")
	case f.ResendErr != nil:
		return unknown(c, "could not ask Resend: "+f.ResendErr.Error())
	case !f.Resend.Found:
		return down(c, "cannot send e-mail: the domain "+f.Resend.Domain+" is not in this Resend account")
	case f.Resend.Status != "verified":
		return down(c, "cannot send e-mail: the domain "+f.Resend.Domain+" is "+strings.ReplaceAll(f.Resend.Status, "_", " ")+", not verified")
	}
	return c
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return ": " + r
}

func notConfigured(c store.SenderChannel, why string) store.SenderChannel {
	c.Status, c.Problems = SenderNotConfigured, append(c.Problems, why)
	return c
}

func unknown(c store.SenderChannel, why string) store.SenderChannel {
	c.Status, c.Problems = SenderUnknown, append(c.Problems, why)
	return c
}

func down(c store.SenderChannel, why string) store.SenderChannel {
	c.Status, c.Problems = SenderDown, append(c.Problems, why)
	return c
}

func warn(c store.SenderChannel, why string) store.SenderChannel {
	if c.Status == SenderOK {
		c.Status = SenderWarning
	}
	c.Problems = append(c.Problems, why)
	return c
}

// senderHealthAskTimeout bounds asking the providers (the sweeper gives the
// task 10 s).
const senderHealthAskTimeout = 6 * time.Second

// SenderHealthCheck is the sweeper's task: at most every store.SenderHealthEvery
// it asks the providers, stores the report and counts the channels in
// trouble (metrics.SendersUnhealthy: down, warning or unknown).
type SenderHealthCheck struct {
	DB     *store.DB
	Config config.Notify
	Client *http.Client
	Now    func() time.Time
}

// Run checks when the stored report is older than store.SenderHealthEvery; it
// returns the number of channels in trouble.
func (s SenderHealthCheck) Run(ctx context.Context) (int, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	last, err := s.DB.SenderHealth(ctx)
	if err != nil {
		return 0, err
	}
	if last != nil && now.Sub(last.CheckedAt) < store.SenderHealthEvery {
		return 0, nil
	}
	// The providers get a bounded share of the task's time: a hanging one
	// makes its channels "unknown", and the report is still stored.
	gctx, cancel := context.WithTimeout(ctx, senderHealthAskTimeout)
	facts := GatherSenderFacts(gctx, s.Config, s.Client)
	cancel()
	h := EvaluateSenders(facts, now)
	if err := s.DB.SaveSenderHealth(ctx, h); err != nil {
		return 0, err
	}
	bad := 0
	for _, c := range h.Channels {
		if c.Status == SenderDown || c.Status == SenderWarning || c.Status == SenderUnknown {
			bad++
			slog.ErrorContext(ctx, "sender unhealthy", "channel", c.Channel, "status", c.Status, "problems", c.Problems)
		}
	}
	metrics.Add(ctx, metrics.SendersUnhealthy, bad)
	return bad, nil
}

// GatherSenderFacts asks the providers what EvaluateSenders needs.
func GatherSenderFacts(ctx context.Context, cfg config.Notify, client *http.Client) SenderFacts {
	f := SenderFacts{SMSConfigured: cfg.TelnyxAPIKey != "", FromNumber: cfg.TelnyxFromNumber, OurWebhookURL: cfg.TelnyxWebhookURL,
		VoiceConfigured: cfg.TelnyxAPIKey != "" && cfg.TelnyxConnectionID != "", EmailConfigured: cfg.ResendAPIKey != ""}
	if addr, err := mail.ParseAddress(cfg.EmailFrom); err == nil {
		f.Resend.Domain = strings.ToLower(addr.Address[strings.LastIndexByte(addr.Address, '@')+1:])
	}
	tx := providerAPI{base: apiBase(cfg.TelnyxAPIBase, "https://api.telnyx.com"), key: cfg.TelnyxAPIKey, client: client}
	if f.SMSConfigured {
		f.Number, f.NumberErr = telnyxNumber(ctx, tx, cfg)
	}
	if f.VoiceConfigured {
		var app struct {
			Data struct {
				Active          bool   `json:"active"`
				WebhookEventURL string `json:"webhook_event_url"`
			} `json:"data"`
		}
		f.CallAppErr = tx.get(ctx, "/v2/call_control_applications/"+url.PathEscape(cfg.TelnyxConnectionID), &app)
		f.CallApp = CallAppFacts{Active: app.Data.Active, WebhookEventURL: app.Data.WebhookEventURL}
		if f.CallAppErr == nil {
			var numbers struct {
				Data []struct {
					PhoneNumber string `json:"phone_number"`
					Status      string `json:"status"`
				} `json:"data"`
			}
			q := url.Values{"filter[phone_number]": {cfg.TelnyxFromNumber}}
			f.CallAppErr = tx.get(ctx, "/v2/phone_numbers?"+q.Encode(), &numbers)
			for _, d := range numbers.Data {
				if d.PhoneNumber == cfg.TelnyxFromNumber {
					f.CallApp.NumberFound, f.CallApp.NumberStatus = true, d.Status
				}
			}
		}
	}
	if f.EmailConfigured {
		rs := providerAPI{base: apiBase(cfg.ResendAPIBase, "https://api.resend.com"), key: cfg.ResendAPIKey, client: client}
		var domains struct {
			Data []struct {
				Name   string `json:"name"`
				Status string `json:"status"`
			} `json:"data"`
		}
		if f.ResendErr = rs.get(ctx, "/domains", &domains); f.ResendErr == nil {
			for _, d := range domains.Data {
				if strings.EqualFold(d.Name, f.Resend.Domain) {
					f.Resend.Found, f.Resend.Status = true, d.Status
				}
			}
		}
	}
	return f
}

func telnyxNumber(ctx context.Context, tx providerAPI, cfg config.Notify) (TelnyxNumberFacts, error) {
	var n TelnyxNumberFacts
	var numbers struct {
		Data []struct {
			PhoneNumber        string `json:"phone_number"`
			Type               string `json:"type"`
			MessagingProfileID string `json:"messaging_profile_id"`
			Features           struct {
				SMS json.RawMessage `json:"sms"`
			} `json:"features"`
		} `json:"data"`
	}
	q := url.Values{"filter[phone_number]": {cfg.TelnyxFromNumber}}
	if err := tx.get(ctx, "/v2/phone_numbers/messaging?"+q.Encode(), &numbers); err != nil {
		return n, err
	}
	for _, d := range numbers.Data {
		if d.PhoneNumber != cfg.TelnyxFromNumber {
			continue
		}
		sms := strings.TrimSpace(string(d.Features.SMS))
		n = TelnyxNumberFacts{Found: true, Type: d.Type, MessagingProfileID: d.MessagingProfileID, SMS: sms != "" && sms != "null"}
	}
	if !n.Found {
		return n, nil
	}
	if cfg.TelnyxMessagingProfileID != "" {
		// Messages name this profile: it is the one that must work.
		n.MessagingProfileID = cfg.TelnyxMessagingProfileID
	}
	if n.MessagingProfileID != "" {
		var profile struct {
			Data struct {
				Enabled    bool   `json:"enabled"`
				WebhookURL string `json:"webhook_url"`
			} `json:"data"`
		}
		if err := tx.get(ctx, "/v2/messaging_profiles/"+url.PathEscape(n.MessagingProfileID), &profile); err != nil {
			return n, err
		}
		n.ProfileEnabled, n.ProfileWebhookURL = profile.Data.Enabled, profile.Data.WebhookURL
	}
	if n.Type == "tollfree" || n.Type == "toll_free" {
		var reqs struct {
			Records []struct {
				VerificationStatus string `json:"verificationStatus"`
				Reason             string `json:"reason"`
			} `json:"records"`
		}
		q := url.Values{"phone_number": {cfg.TelnyxFromNumber}, "page": {"1"}, "page_size": {"1"}}
		if err := tx.get(ctx, "/v2/messaging_tollfree/verification/requests?"+q.Encode(), &reqs); err != nil {
			return n, err
		}
		if len(reqs.Records) > 0 {
			n.TollFreeStatus, n.TollFreeReason = reqs.Records[0].VerificationStatus, reqs.Records[0].Reason
		}
	}
	return n, nil
}

// apiBase is a provider's base URL, its public one when none is set.
func apiBase(configured, public string) string {
	if configured == "" {
		return public
	}
	return strings.TrimRight(configured, "/")
}

// providerAPI is a bearer-authenticated JSON GET against Telnyx or Resend.
type providerAPI struct {
	base, key string
	client    *http.Client
}

func (p providerAPI) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+p.key)
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", strings.SplitN(path, "?", 2)[0], err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", strings.SplitN(path, "?", 2)[0], resp.StatusCode, truncate(strings.TrimSpace(string(body)), 200))
	}
	return json.Unmarshal(body, out)
}
