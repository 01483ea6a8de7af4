// Package notify sends the outbox (notifications) through Telnyx (SMS and
// Call Control for voice pages) and Resend (e-mail), and handles Telnyx's
// webhooks (receipts, inbound SMS, the call flow of voice pages).
package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/paging"
	"github.com/frostguard/functions/shared/store"
)

// SMSSender sends one SMS; the returned id is the provider's message id
// (stored in notifications.provider_message_id).
type SMSSender interface {
	SendSMS(ctx context.Context, to, body, idempotencyKey string) (providerID string, err error)
}

// EmailSender sends one e-mail.
type EmailSender interface {
	SendEmail(ctx context.Context, to, subject, body, idempotencyKey string) (providerID string, err error)
}

// A sender may say who it is (notifications.provider) and whether a repeated
// request with the same idempotency key is safe (see Dispatcher).
type providerNamer interface{ Provider() string }
type idempotentSender interface{ Idempotent() bool }

// SendError classifies a provider failure. Retryable: timeouts, 429, 5xx,
// network errors (and, for a provider honouring idempotency keys, any
// failure). Otherwise permanent: the request cannot succeed as it is.
// Ambiguous: the request was fully written but no answer came, so the
// provider may have sent the message.
type SendError struct {
	Retryable  bool
	Ambiguous  bool
	Status     int    // HTTP status, 0 without a response
	Code       string // the provider's error code or name
	Message    string
	RetryAfter time.Duration // from a 429's Retry-After, 0 if none
}

func (e *SendError) Error() string {
	var b strings.Builder
	if e.Ambiguous {
		b.WriteString("ambiguous: ")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "%d ", e.Status)
	}
	if e.Code != "" {
		b.WriteString(e.Code + ": ")
	}
	b.WriteString(e.Message)
	return strings.TrimSpace(b.String())
}

// Dispatcher sends due outbox rows. It is safe to run many at once (the
// ttn-webhook right after its commit, the sweeper each minute): rows are
// claimed with FOR UPDATE SKIP LOCKED and each outcome is recorded before
// anything else happens to the row.
//
// Exactly once, and the Telnyx ambiguity: Resend honours Idempotency-Key
// (the row id), so an e-mail is retried after any failure, timeouts and
// crashed dispatchers included; a repeat is answered with the first send's
// id. Telnyx has no idempotency key: once a request was fully written and no
// answer came (timeout, reset), the SMS may have gone out, and sending it
// again could page twice. Such a row is marked failed with last_error
// "ambiguous: ..." and never re-sent; likewise an SMS row found 'sending'
// with an expired lease (a dispatcher died mid-send). The alert is not lost:
// escalation continues to the next step until someone acknowledges, and the
// notification log shows the ambiguous row. Failures before the request was
// written (DNS, connection refused) and answers (429, 5xx) are retried.
type Dispatcher struct {
	DB    *store.DB
	SMS   SMSSender
	Email EmailSender
	// Voice places voice pages' calls; nil: voice rows fail
	// "channel_not_configured" (the call flow is the telnyx-webhook's).
	Voice  VoiceSender
	Limits Limits
	// FrontendURL: the app's origin, linked from fallback pages like from
	// every alarm message.
	FrontendURL string
	MaxAttempts int // default 6
	Now         func() time.Time
	// Lease: a crashed dispatcher's 'sending' rows become due again after it
	// (default 2 min). Each provider call is bounded by half of it, so a
	// live dispatcher always records its outcome before the lease ends.
	Lease time.Duration
}

// Report counts what one DispatchDue did.
type Report struct {
	Claimed, Sent, Retried, Failed, Skipped, Deferred int
	// Fallbacks: rows queued to page a contact on their next channel.
	Fallbacks int
}

// usageLookback bounds the rate-limit scan (see store.OutboxClaimParams):
// rows are sent within minutes of creation, or at the latest at the end of
// a quiet window (< 24 h).
const usageLookback = 48 * time.Hour

// recordTimeout bounds writing an outcome; it runs even when the caller's
// context is cancelled, since an unrecorded send could be repeated.
const recordTimeout = 10 * time.Second

// DispatchDue claims up to limit due rows, decides each by the rules, sends
// those it may and records every outcome. The error is the claim's; a
// failure to record one outcome is logged and the lease makes the row due
// again (only idempotent providers re-send it, see Dispatcher).
//
// Fallbacks first: rows that failed for good since the last pass page their
// contact on the next channel, and those pages go out in this very pass. A
// failure of this pass falls back at once too (a second, bounded round).
func (d *Dispatcher) DispatchDue(ctx context.Context, limit int) (Report, error) {
	var rep Report
	if limit <= 0 {
		return rep, nil
	}
	if err := d.fallbacks(ctx, &rep, limit); err != nil {
		return rep, err
	}
	if err := d.dispatchOnce(ctx, &rep, limit); err != nil {
		return rep, err
	}
	if rep.Failed+rep.Skipped == 0 || ctx.Err() != nil {
		return rep, nil
	}
	before := rep.Fallbacks
	if err := d.fallbacks(ctx, &rep, limit); err != nil || rep.Fallbacks == before {
		return rep, err
	}
	return rep, d.dispatchOnce(ctx, &rep, rep.Fallbacks-before)
}

// fallbacks queues the next channel of every alarm message marked for a
// fallback (at most limit).
func (d *Dispatcher) fallbacks(ctx context.Context, rep *Report, limit int) error {
	now := d.now()
	available := d.channels()
	n, err := d.DB.ClaimFallbacks(ctx, now, limit, func(f store.FallbackFacts) store.FallbackWrite {
		w := paging.Fallback(f, available, d.FrontendURL, now)
		if w.Note != "" {
			slog.InfoContext(ctx, "notification fallback", "notification_id", f.ID, "alert_id", f.AlertID,
				"from", f.Channel, "next", fallbackChannel(w))
		}
		return w
	})
	rep.Fallbacks += n
	if n > 0 {
		metrics.Add(ctx, metrics.NotificationFallbacks, n)
	}
	return err
}

func fallbackChannel(w store.FallbackWrite) string {
	if w.Row == nil {
		return "none"
	}
	return w.Row.Channel
}

// channels are the channels this dispatcher can send on.
func (d *Dispatcher) channels() []string {
	var out []string
	for _, ch := range paging.FallbackOrder {
		if d.hasSender(ch) {
			out = append(out, ch)
		}
	}
	return out
}

// dispatchOnce claims and sends one batch of due rows.
func (d *Dispatcher) dispatchOnce(ctx context.Context, rep *Report, limit int) error {
	now := d.now()
	lease := d.lease()
	claims, decisions, err := d.DB.ClaimOutbox(ctx, store.OutboxClaimParams{
		Now: now, Limit: limit, Lease: lease, Window: RateWindow, Lookback: usageLookback, TrialWindow: TrialWindow,
	}, func(rows []store.OutboxClaim, u store.OutboxUsage) []store.OutboxDecision {
		return d.decideAll(now, rows, u)
	})
	if err != nil {
		return err
	}
	rep.Claimed += len(claims)
	for i, c := range claims {
		dec := decisions[i]
		switch dec.Action {
		case ActionSkip:
			rep.Skipped++
			metrics.Add(ctx, metrics.NotificationsSkipped, 1, "Channel", c.Channel, "Reason", dec.Reason)
			slog.InfoContext(ctx, "notification skipped", "notification_id", c.ID, "channel", c.Channel,
				"recipient", maskRecipient(c.Channel, c.Recipient), "reason", dec.Reason)
		case ActionDefer:
			rep.Deferred++
			if dec.Reason == ReasonCriticalCap {
				slog.ErrorContext(ctx, "critical page held by the safety cap: the recipient's critical pages in the last hour reached it",
					"cap", d.Limits.withDefaults().CriticalPerRecipientPerHour, "notification_id", c.ID, "channel", c.Channel, "recipient", maskRecipient(c.Channel, c.Recipient), "until", dec.Until)
			}
		case ActionFail:
			rep.Failed++
			metrics.Add(ctx, metrics.NotificationsFailed, 1, "Channel", c.Channel, "Reason", dec.Reason)
			slog.WarnContext(ctx, "notification failed", "notification_id", c.ID, "reason", dec.Reason)
		case ActionSend:
			if ctx.Err() != nil {
				// Out of time before calling the provider: hand the row back
				// rather than let it wait for its lease.
				d.record(ctx, c, func(rctx context.Context) (bool, error) {
					return d.DB.ReleaseOutbox(rctx, c.ID, c.Attempts+1, d.now())
				})
				continue
			}
			switch d.send(ctx, c, dec.Provider) {
			case ActionSend:
				rep.Sent++
			case ActionFail:
				rep.Failed++
			default:
				rep.Retried++
			}
		}
	}
	return nil
}

// decideAll runs the rules over a claimed batch in order, counting the rows
// it lets through against the limits of the ones after them.
func (d *Dispatcher) decideAll(now time.Time, rows []store.OutboxClaim, u store.OutboxUsage) []store.OutboxDecision {
	limits := d.Limits.withDefaults()
	out := make([]store.OutboxDecision, len(rows))
	// When slots are scarce, critical alert messages take them first.
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(rank(rows[a]), rank(rows[b]))
	})
	for _, i := range order {
		c := rows[i]
		provider, idempotent := d.senderInfo(c.Channel)
		switch {
		case c.Status == "sending" && !idempotent:
			out[i] = store.OutboxDecision{Action: ActionFail, Fallback: true,
				Reason: "ambiguous: a dispatcher's lease expired during the send; not re-sent (the provider has no idempotency key)"}
			continue
		case c.Attempts >= d.maxAttempts():
			out[i] = store.OutboxDecision{Action: ActionFail, Fallback: true, Reason: "max attempts reached: " + c.LastError}
			continue
		}
		in := RuleInput{
			Now: now, Kind: c.Kind, Channel: c.Channel, Recipient: c.Recipient,
			Severity: c.Severity, AlertStatus: c.AlertStatus, OptedOut: c.OptedOut, AlarmReached: c.AlarmReached,
			Location: domain.Location(c.TimeZone), Limits: limits,
			RecipientSends: u.Recipient[c.Recipient], OrgSends: u.Org[c.OrgID],
			Trial: c.Trial, RecipientVerified: c.RecipientVerified, AllowedCountries: c.AllowedCountries,
			OrgDaySends: u.OrgDay[c.OrgID][c.Channel], SilencedUntil: c.SilencedUntil, NoSender: !d.hasSender(c.Channel),
		}
		if c.QuietStart != nil && c.QuietEnd != nil {
			in.Quiet = QuietHours{Set: true, Start: *c.QuietStart, End: *c.QuietEnd}
		}
		dec := Decide(in)
		out[i] = store.OutboxDecision{Action: dec.Action, Reason: dec.Reason, Until: dec.Until, Provider: provider,
			Fallback: FallsBack(dec.Action, dec.Reason)}
		if dec.Action == ActionSend {
			u.Recipient[c.Recipient] = append(u.Recipient[c.Recipient], now)
			u.Org[c.OrgID] = append(u.Org[c.OrgID], now)
			if u.OrgDay[c.OrgID] == nil {
				u.OrgDay[c.OrgID] = map[string]int{}
			}
			u.OrgDay[c.OrgID][c.Channel]++
		}
	}
	return out
}

// send calls the provider for one claimed row and records the outcome:
// ActionSend (sent), ActionFail, or "retry".
func (d *Dispatcher) send(ctx context.Context, c store.OutboxClaim, provider string) string {
	attempt := c.Attempts + 1
	sctx, cancel := context.WithTimeout(ctx, d.lease()/2)
	var id string
	var err error
	switch {
	case c.Channel == "sms" && d.SMS != nil:
		id, err = d.SMS.SendSMS(sctx, c.Recipient, c.Body, c.ID)
	case c.Channel == "email" && d.Email != nil:
		id, err = d.Email.SendEmail(sctx, c.Recipient, c.Subject, c.Body, c.ID)
	case c.Channel == "voice" && d.Voice != nil:
		id, err = d.Voice.Dial(sctx, Dial{To: c.Recipient, Script: c.Body, CommandID: c.ID,
			ClientState: CallState{Org: c.OrgID, Notification: c.ID}.Encode()})
	default:
		err = &SendError{Retryable: true, Message: "no sender configured for channel " + c.Channel}
	}
	cancel()
	log := slog.With("notification_id", c.ID, "channel", c.Channel, "provider", provider, "attempt", attempt)
	metrics.Duration(ctx, metrics.DispatchLag, d.now().Sub(c.DueAt), "Channel", c.Channel)
	if err == nil {
		metrics.Add(ctx, metrics.NotificationsSent, 1, "Channel", c.Channel)
		d.record(ctx, c, func(rctx context.Context) (bool, error) {
			return d.DB.MarkOutboxSent(rctx, c.ID, attempt, provider, id, d.now())
		})
		log.InfoContext(ctx, "notification sent", "provider_message_id", id)
		return ActionSend
	}
	msg := truncate(err.Error(), 500)
	var se *SendError
	retryable := !errors.As(err, &se) || se.Retryable
	if !retryable || attempt >= d.maxAttempts() {
		if retryable {
			msg = fmt.Sprintf("max attempts (%d) reached: %s", attempt, msg)
		}
		d.record(ctx, c, func(rctx context.Context) (bool, error) {
			return d.DB.MarkOutboxFailed(rctx, c.ID, attempt, msg, d.now())
		})
		metrics.Add(ctx, metrics.NotificationsFailed, 1, "Channel", c.Channel, "Reason", sendFailure(retryable))
		log.WarnContext(ctx, "notification failed", "err", msg)
		return ActionFail
	}
	wait := Backoff(attempt, rand.Float64())
	if se != nil && se.RetryAfter > wait {
		wait = min(se.RetryAfter, 30*time.Minute)
	}
	now := d.now()
	d.record(ctx, c, func(rctx context.Context) (bool, error) {
		return d.DB.MarkOutboxRetry(rctx, c.ID, attempt, now.Add(wait), msg, now)
	})
	log.WarnContext(ctx, "notification send failed, will retry", "err", msg, "retry_in", wait.String())
	return "retry"
}

// record writes an outcome whatever happened to the caller's context.
func (d *Dispatcher) record(ctx context.Context, c store.OutboxClaim, write func(context.Context) (bool, error)) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	ok, err := write(rctx)
	switch {
	case err != nil:
		slog.ErrorContext(ctx, "recording a notification outcome failed", "notification_id", c.ID, "err", err)
	case !ok:
		// Our lease ran out and another dispatcher took the row over.
		slog.ErrorContext(ctx, "notification row no longer ours when recording its outcome", "notification_id", c.ID)
	}
}

func rank(c store.OutboxClaim) int {
	if c.Kind == "alert" && c.Severity == "critical" {
		return 0
	}
	return 1
}

// sender is the channel's sender (nil when none is configured).
func (d *Dispatcher) sender(channel string) any {
	switch {
	case channel == "sms" && d.SMS != nil:
		return d.SMS
	case channel == "email" && d.Email != nil:
		return d.Email
	case channel == "voice" && d.Voice != nil:
		return d.Voice
	}
	return nil
}

func (d *Dispatcher) hasSender(channel string) bool { return d.sender(channel) != nil }

func (d *Dispatcher) senderInfo(channel string) (provider string, idempotent bool) {
	s := d.sender(channel)
	provider = "unknown"
	if n, ok := s.(providerNamer); ok {
		provider = n.Provider()
	}
	if i, ok := s.(idempotentSender); ok {
		idempotent = i.Idempotent()
	}
	return provider, idempotent
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) lease() time.Duration {
	if d.Lease > 0 {
		return d.Lease
	}
	return 2 * time.Minute
}

func (d *Dispatcher) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return 6
}

// maskRecipient keeps logs free of full phone numbers and addresses.
func maskRecipient(channel, r string) string {
	if channel == "sms" || channel == "voice" {
		return domain.MaskPhone(r)
	}
	at := strings.LastIndexByte(r, '@')
	if at < 1 {
		return "***"
	}
	return r[:1] + "***" + r[at:]
}

// truncate cuts s to at most n bytes of valid UTF-8 (PostgreSQL rejects a
// cut rune).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// sendFailure is the metric reason of a provider failure that ends a row.
func sendFailure(retryable bool) string {
	if retryable {
		return "max_attempts"
	}
	return "provider_refused"
}
