package notify

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/http"
	"time"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/realtime"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// TelnyxWebhook serves POST /webhooks/telnyx (and the Function URL root):
// delivery receipts of the SMS the dispatcher sent, inbound SMS
// (STOP/START/HELP/ACK), and the events of voice pages' calls (the call
// flow, call_flow.go).
//
// Status policy: 401 for a missing, invalid or stale signature (nothing is
// stored), 400 for a body that is not a Telnyx event, 503 when the database
// is unreachable (Telnyx retries, and nothing was recorded, so the retry is
// processed), 200 for everything else — duplicates, receipts for messages we
// do not know, event types we do not handle — so Telnyx keeps the webhook
// healthy.
//
// Unknown message ids: the dispatcher stores provider_message_id right after
// POST /v2/messages returns, so a receipt can overtake it. Such a receipt is
// answered 200 unknown_message and held (store.ApplyTelnyxReceipt); the
// dispatcher applies it in the transaction that stores the id. Answering 503
// instead would make Telnyx retry, forever, the receipts of the HELP/ACK
// replies sent below, which have no outbox row by design (their held
// receipts are pruned with the dedupe keys).
type TelnyxWebhook struct {
	DB        *store.DB
	PublicKey ed25519.PublicKey
	// SMS answers HELP and ACK. Nil: no replies (logged).
	SMS SMSSender
	// Calls commands the calls of voice pages (speak, gather, hang up).
	// Nil: events are recorded, no command is sent (logged).
	Calls CallControl
	// Dispatcher sends, before the answer, the page that replaces one a
	// receipt or a call just ended for good (the contact's next channel).
	// Nil: the sweeper's next dispatch sends it (within a minute).
	Dispatcher *Dispatcher
	// Live publishes an acknowledgement texted back or keyed on a call
	// (shared/realtime); nil: nothing is published.
	Live realtime.Publisher
	// Now is the clock (tests move it).
	Now func() time.Time
	// HelpText answers HELP; empty = DefaultHelpText.
	HelpText string
}

// TelnyxResult is the JSON answer: what happened to the event.
type TelnyxResult struct {
	// Status: updated, unchanged, unknown_message, duplicate, ignored,
	// opted_out, opted_in, help, ack.
	Status string `json:"status"`
	// NotificationStatus is the outbox row's status after a receipt.
	NotificationStatus string `json:"notification_status,omitempty"`
	// Outcome of an ACK (see store.SMSAck) or of key 1 on a call.
	Outcome string `json:"outcome,omitempty"`
	// CallState is a voice page's call_state after a call event.
	CallState string `json:"call_state,omitempty"`
}

// replyTimeout bounds a HELP/ACK reply. The reply is sent before answering
// (a Lambda is frozen after its response); if it makes the answer late and
// Telnyx retries, the retry is a duplicate and sends nothing.
const replyTimeout = 5 * time.Second

func (h *TelnyxWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	web.HandlerFunc(h.serve).ServeHTTP(w, r)
}

func (h *TelnyxWebhook) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *TelnyxWebhook) serve(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return apperr.New(apperr.MethodNotAllowed, "the Telnyx webhook accepts POST only")
	}
	if len(h.PublicKey) != ed25519.PublicKeySize {
		return apperr.New(apperr.Unavailable, "the Telnyx webhook is not configured")
	}
	body, err := web.ReadBody(r)
	if err != nil {
		return err
	}
	if err := VerifyTelnyx(h.PublicKey, r.Header.Get(TelnyxSignatureHeader), r.Header.Get(TelnyxTimestampHeader),
		body, h.now(), TelnyxTolerance); err != nil {
		metrics.Add(r.Context(), metrics.WebhookVerificationFailures, 1, "Provider", "telnyx")
		return apperr.Wrap(apperr.Unauthenticated, err,
			"a valid Telnyx signature is required (%s, %s)", TelnyxSignatureHeader, TelnyxTimestampHeader)
	}
	ev, err := ParseTelnyxEvent(body)
	if err != nil {
		return apperr.Wrap(apperr.Invalid, err, "not a Telnyx webhook event: %v", err)
	}
	var res TelnyxResult
	switch ev.Type {
	case TelnyxMessageSent, TelnyxMessageFinalized:
		res, err = h.receipt(r.Context(), ev)
	case TelnyxMessageReceived:
		res, err = h.inbound(r.Context(), ev)
	case CallInitiated, CallAnswered, CallMachineDetectionEnded, CallGatherEnded, CallSpeakEnded, CallHangup:
		res, err = h.call(r.Context(), ev) // callEventHandled
	default:
		// Nothing to record: an ignored event is ignored again if repeated.
		res = TelnyxResult{Status: "ignored"}
	}
	if err != nil {
		return err
	}
	log := []any{"event_id", ev.ID, "event_type", ev.Type, "status", res.Status, "outcome", res.Outcome}
	if ev.Call != nil {
		log = append(log, "call_control_id", ev.Call.CallControlID, "call_state", res.CallState)
	} else {
		log = append(log, "message_id", ev.MessageID)
	}
	slog.InfoContext(r.Context(), "telnyx event", log...)
	web.JSON(w, http.StatusOK, res)
	return nil
}

func eventKey(ev TelnyxEvent) store.TelnyxEventKey {
	return store.TelnyxEventKey{ID: ev.ID, Type: ev.Type, OccurredAt: ev.OccurredAt}
}

func (h *TelnyxWebhook) receipt(ctx context.Context, ev TelnyxEvent) (TelnyxResult, error) {
	outcome, lastError := ev.DeliveryOutcome()
	// Telnyx's own times: sent_at for message.sent, completed_at for the
	// final state; occurred_at, then our clock, when absent.
	at := ev.SentAt
	if ev.Type == TelnyxMessageFinalized {
		at = ev.CompletedAt
	}
	for _, t := range []time.Time{ev.OccurredAt, h.now()} {
		if at.IsZero() {
			at = t
		}
	}
	res, err := h.DB.ApplyTelnyxReceipt(ctx, eventKey(ev), store.DeliveryReceipt{
		MessageID: ev.MessageID, Outcome: outcome, At: at, Error: lastError,
	})
	switch {
	case err != nil:
		return TelnyxResult{}, err
	case res.Duplicate:
		return TelnyxResult{Status: "duplicate"}, nil
	case !res.Found:
		return TelnyxResult{Status: "unknown_message"}, nil
	case res.Changed:
		if res.Status == "failed" {
			h.dispatchFallback(ctx, ev)
		}
		return TelnyxResult{Status: "updated", NotificationStatus: res.Status}, nil
	default:
		return TelnyxResult{Status: "unchanged", NotificationStatus: res.Status}, nil
	}
}

func (h *TelnyxWebhook) inbound(ctx context.Context, ev TelnyxEvent) (TelnyxResult, error) {
	key := eventKey(ev)
	phone := InboundPhone(ev.From)
	kind, code := Keyword(ev.Text)
	if phone == "" {
		// A short code or a malformed sender: it can be neither a contact
		// nor an opt-out entry (both E.164).
		kind = KeywordNone
	}
	log := slog.With("event_id", ev.ID, "from", domain.MaskPhone(phone), "keyword", kind)
	switch kind {
	case KeywordOptOut, KeywordOptIn:
		fresh, err := h.DB.SetSMSOptOut(ctx, key, phone, kind == KeywordOptOut, h.now())
		if err != nil || !fresh {
			return TelnyxResult{Status: "duplicate"}, err
		}
		// No reply: the carrier and Telnyx confirm STOP/START themselves.
		log.InfoContext(ctx, "sms opt-out list changed")
		if kind == KeywordOptOut {
			return TelnyxResult{Status: "opted_out"}, nil
		}
		return TelnyxResult{Status: "opted_in"}, nil
	case KeywordHelp:
		fresh, err := h.DB.RecordTelnyxEvent(ctx, key)
		if err != nil || !fresh {
			return TelnyxResult{Status: "duplicate"}, err
		}
		text := h.HelpText
		if text == "" {
			text = DefaultHelpText
		}
		h.reply(ctx, ev, phone, text)
		return TelnyxResult{Status: "help"}, nil
	case KeywordAck:
		ack, err := h.DB.AcknowledgeAlertBySMS(ctx, key, phone, code, h.now(), func(name string) string {
			return AckNote(phone, name)
		})
		if err != nil || ack.Duplicate {
			return TelnyxResult{Status: "duplicate"}, err
		}
		log.InfoContext(ctx, "sms acknowledgement", "outcome", ack.Outcome, "alert_id", ack.AlertID,
			"organization_id", ack.OrganizationID, "contact_id", ack.ContactID)
		h.publishAcknowledged(ctx, ack.Outcome, ack.OrganizationID, ack.AlertID)
		// Strangers get no answer: replying would let anyone make us text
		// arbitrary numbers (and probe codes); nor does a phone past its
		// failed attempts (store.AckFailureLimit).
		if ack.Outcome != "not_contact" && ack.Outcome != "throttled" && !ack.OptedOut {
			h.reply(ctx, ev, phone, ackReply(ack.Outcome, code))
		}
		return TelnyxResult{Status: "ack", Outcome: ack.Outcome}, nil
	default:
		// Recorded anyway so that the event log shows it was seen once.
		fresh, err := h.DB.RecordTelnyxEvent(ctx, key)
		if err != nil || !fresh {
			return TelnyxResult{Status: "duplicate"}, err
		}
		log.InfoContext(ctx, "inbound sms without a keyword")
		return TelnyxResult{Status: "ignored"}, nil
	}
}

// publishAcknowledged tells the organisation's screens, after the commit,
// that a person acknowledged an alert by SMS or by key 1 on a call: the
// same event as an acknowledgement in the app (realtime.PublishAlertChange).
// Other outcomes (already acknowledged, resolved, not a contact) change
// nothing on screen.
func (h *TelnyxWebhook) publishAcknowledged(ctx context.Context, outcome, orgID, alertID string) {
	if outcome != "acknowledged" || h.Live == nil {
		return
	}
	if a, err := h.DB.Alert(ctx, orgID, alertID); err == nil {
		realtime.PublishAlertChange(ctx, h.Live, orgID, a)
	} else {
		slog.WarnContext(ctx, "acknowledged alert not published", "alert_id", alertID, "err", err)
	}
}

// reply sends an SMS after the event's transaction committed. A failure is
// logged, not returned: the event is recorded, and a retry of the webhook
// would be a duplicate anyway.
func (h *TelnyxWebhook) reply(ctx context.Context, ev TelnyxEvent, phone, text string) {
	if h.SMS == nil {
		slog.WarnContext(ctx, "no SMS sender configured: reply not sent", "event_id", ev.ID)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyTimeout)
	defer cancel()
	// The event id makes the reply's idempotency key: one reply per event.
	id, err := h.SMS.SendSMS(ctx, phone, text, "telnyx-reply-"+ev.ID)
	if err != nil {
		slog.WarnContext(ctx, "sms reply failed", "event_id", ev.ID, "to", domain.MaskPhone(phone), "err", err)
		return
	}
	slog.InfoContext(ctx, "sms reply sent", "event_id", ev.ID, "provider_message_id", id)
}

// call moves a voice page by one call event (NextCall, under the row's
// lock, in the event's transaction), then sends the command the flow chose
// (before answering: a Lambda is frozen after its response; a retry of the
// webhook is a duplicate and sends nothing).
func (h *TelnyxWebhook) call(ctx context.Context, ev TelnyxEvent) (TelnyxResult, error) {
	ce := ev.Call
	ref := store.CallRef{CallControlID: ce.CallControlID}
	if ce.Known {
		ref.OrgID, ref.NotificationID = ce.State.Org, ce.State.Notification
	}
	now := h.now()
	var step CallStep
	res, err := h.DB.ApplyCallEvent(ctx, eventKey(ev), ref, func(f store.CallFacts) store.CallUpdate {
		step = NextCall(f, *ce, ev.Type, now)
		return step.Update
	})
	switch {
	case err != nil:
		return TelnyxResult{}, err
	case res.Duplicate:
		return TelnyxResult{Status: "duplicate"}, nil
	case !res.Found:
		// A call we did not place (an inbound call to our number) or one
		// whose row is gone: recorded, nothing to do.
		return TelnyxResult{Status: "unknown_call"}, nil
	}
	state := step.Update.State
	if state == "" {
		state = res.Facts.CallState
	}
	if c := step.Command; c != nil {
		if c.SayAck {
			c.Text = AckSpeech(res.AckOutcome)
		}
		h.command(ctx, ev, res.Facts, *c)
	}
	h.publishAcknowledged(ctx, res.AckOutcome, res.Facts.OrgID, res.Facts.AlertID)
	if !res.RedialAt.IsZero() {
		slog.InfoContext(ctx, "voice page unanswered: calling again", "notification_id", res.Facts.ID, "at", res.RedialAt)
	}
	if res.Fallback {
		h.dispatchFallback(ctx, ev)
	}
	return TelnyxResult{Status: "updated", CallState: state, Outcome: res.AckOutcome}, nil
}

// command sends one call command. A failure is logged, not returned: the
// event is recorded, and the call's time limit ends a call left without
// its next words.
func (h *TelnyxWebhook) command(ctx context.Context, ev TelnyxEvent, f store.CallFacts, c CallCommand) {
	if h.Calls == nil {
		slog.WarnContext(ctx, "no call control configured: call command not sent", "event_id", ev.ID, "action", c.Action)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), replyTimeout)
	defer cancel()
	state := CallState{Org: f.OrgID, Notification: f.ID, Stage: c.Stage, Tries: c.Tries}.Encode()
	id := ev.Call.CallControlID
	// One command per event: Telnyx ignores a repeated command_id on a call.
	commandID := ev.ID + ":" + c.Action
	var err error
	switch c.Action {
	case CommandGather:
		err = h.Calls.Gather(ctx, id, Speech{Text: c.Text, ClientState: state, CommandID: commandID})
	case CommandSpeak:
		err = h.Calls.Speak(ctx, id, Speech{Text: c.Text, ClientState: state, CommandID: commandID})
	case CommandHangup:
		err = h.Calls.Hangup(ctx, id, state, commandID)
	}
	if err != nil {
		slog.WarnContext(ctx, "call command failed", "event_id", ev.ID, "action", c.Action, "call_control_id", id, "err", err)
	}
}

// fallbackTimeout bounds the dispatch of a fallback page before answering.
const fallbackTimeout = 10 * time.Second

// dispatchFallback sends the page that replaces a message or call the event
// just ended for good. A failure is logged: the row stays marked (or due),
// and the sweeper's dispatch sends it.
func (h *TelnyxWebhook) dispatchFallback(ctx context.Context, ev TelnyxEvent) {
	if h.Dispatcher == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fallbackTimeout)
	defer cancel()
	rep, err := h.Dispatcher.DispatchDue(ctx, 10)
	if err != nil {
		slog.WarnContext(ctx, "fallback dispatch failed; the sweeper will send it", "event_id", ev.ID, "err", err)
		return
	}
	slog.InfoContext(ctx, "fallback dispatched", "event_id", ev.ID, "fallbacks", rep.Fallbacks, "sent", rep.Sent)
}
