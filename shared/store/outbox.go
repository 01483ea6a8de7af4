package store

import (
	"context"
	"hash/fnv"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The outbox dispatch protocol (schema comments on notifications; the
// notify package decides, this file only reads and writes).
//
// ClaimOutbox runs one short transaction: lock due rows FOR UPDATE SKIP
// LOCKED, take the rate-limit locks, read the recent sends, let the caller
// decide each row, and write the decisions (rows to send become 'sending'
// with a lease). The HTTP calls happen after the commit; each outcome is then
// written by MarkOutbox*, guarded by (status 'sending', attempts) so a
// dispatcher whose lease was taken over cannot overwrite the new owner.

// OutboxClaim is one due notification with what the rules need.
type OutboxClaim struct {
	ID, OrgID, Kind, Channel, Recipient string
	Subject, Body                       string
	Status                              string // pending, or sending (expired lease)
	Attempts                            int    // before this claim
	Provider, LastError                 string
	Severity, AlertStatus               string // "" without an alert
	TimeZone                            string // the site's, else the organisation's
	QuietStart, QuietEnd                *time.Duration
	OptedOut                            bool
	AlarmReached                        bool
	// DueAt is when the row became due (next_attempt_at before this claim):
	// the dispatch lag is measured from it.
	DueAt time.Time
	// The abuse limits' facts: the organisation does not pay (its
	// subscription, which self-service onboarding creates as 'trial', is
	// neither active nor past_due), the row's contact verified this phone
	// or address, and where SMS may go.
	Trial             bool
	RecipientVerified bool
	AllowedCountries  []string
	// SilencedUntil is set for an alarm message of a unit with an active
	// silence: it waits until then.
	SilencedUntil *time.Time
}

// OutboxUsage is the send times in the rate window (ascending), per
// recipient and per organisation id, of rows outside the claimed batch.
type OutboxUsage struct {
	Recipient map[string][]time.Time
	Org       map[string][]time.Time
	// OrgDay counts each organisation's sends per channel in the last
	// TrialWindow (the non-paying organisations' daily caps).
	OrgDay map[string]map[string]int
}

// OutboxDecision is the caller's verdict on one claimed row.
type OutboxDecision struct {
	Action   string // send, defer, skip, fail (notify.Action*)
	Provider string // send: the provider about to be called
	Reason   string // defer, skip, fail: last_error
	Until    time.Time
	// Fallback (skip, fail): an alarm message's contact is paged on their
	// next channel (fallback_due).
	Fallback bool
}

// OutboxClaimParams bounds a claim.
type OutboxClaimParams struct {
	Now    time.Time
	Limit  int
	Lease  time.Duration
	Window time.Duration // rate window
	// Lookback bounds the usage scan by created_at (index-friendly): a row
	// created longer ago than Window+Lookback does not count.
	Lookback time.Duration
	// TrialWindow is the daily caps' window (0: not read).
	TrialWindow time.Duration
}

const claimOutboxSQL = `
SELECT n.id, n.organization_id, n.kind, n.channel, n.recipient, coalesce(n.subject, ''), n.body, n.status, n.attempts,
	coalesce(n.provider, ''), coalesce(n.last_error, ''), coalesce(a.severity, ''), coalesce(a.status, ''),
	coalesce(si.timezone, o.timezone), p.quiet_hours_start, p.quiet_hours_end,
	CASE n.channel WHEN 'sms' THEN EXISTS (SELECT 1 FROM sms_opt_outs x WHERE x.phone = n.recipient)
		WHEN 'voice' THEN coalesce(ct.voice_opt_out, false) ELSE false END,
	-- "back to normal" by SMS also reaches whoever a call of the alarm reached
	n.kind = 'resolved' AND EXISTS (SELECT 1 FROM notifications m
		WHERE m.alert_id = n.alert_id AND m.kind = 'alert' AND m.recipient = n.recipient
			AND (m.channel = n.channel OR (n.channel = 'sms' AND m.channel = 'voice'))
			AND m.status IN ('sent', 'delivered', 'sending')),
	n.next_attempt_at,
	` + orgDoesNotPay + `,
	coalesce(CASE WHEN n.channel IN ('sms', 'voice') THEN ct.phone_verified_at IS NOT NULL AND ct.phone = n.recipient
		ELSE ct.email_verified_at IS NOT NULL AND lower(ct.email) = n.recipient END, false),
	` + effectiveSMSCountries + `,
	CASE WHEN n.kind = 'alert' THEN (SELECT coalesce(ended_early_at, ends_at) FROM active_unit_silence(a.unit_id, $1)) END
FROM notifications n
JOIN organizations o ON o.id = n.organization_id
LEFT JOIN escalation_contacts ct ON ct.id = n.contact_id
LEFT JOIN alerts a ON a.id = n.alert_id
LEFT JOIN units u ON u.id = a.unit_id
LEFT JOIN sites si ON si.id = u.site_id
-- the most specific enabled policy, as NotificationPlan picks it
LEFT JOIN LATERAL (
	SELECT quiet_hours_start, quiet_hours_end FROM notification_policies p
	WHERE p.organization_id = n.organization_id AND p.enabled
		AND (p.unit_id = a.unit_id OR p.site_id = u.site_id OR (p.unit_id IS NULL AND p.site_id IS NULL))
		AND (p.alert_type = a.type OR p.alert_type IS NULL)
	ORDER BY (p.unit_id IS NOT NULL) DESC, (p.site_id IS NOT NULL) DESC, (p.alert_type IS NOT NULL) DESC
	LIMIT 1) p ON a.id IS NOT NULL
WHERE n.status IN ('pending', 'sending') AND n.next_attempt_at <= $1
ORDER BY n.next_attempt_at, n.created_at, n.id
LIMIT $2
FOR UPDATE OF n SKIP LOCKED`

// What counts against the rate limits: everything sent or on its way
// (delivered included: receipts must not reset the limit), by send time.
const outboxUsageSQL = `
SELECT 'r', recipient, coalesce(sent_at, updated_at) FROM notifications
WHERE recipient = ANY($1) AND created_at > $4 AND NOT (id = ANY($3::uuid[]))
	AND (status IN ('sent', 'delivered', 'sending') OR (status = 'pending' AND attempts > 0))
	AND coalesce(sent_at, updated_at) > $5
UNION ALL
SELECT 'o', organization_id::text, coalesce(sent_at, updated_at) FROM notifications
WHERE organization_id = ANY($2::uuid[]) AND created_at > $4 AND NOT (id = ANY($3::uuid[]))
	AND (status IN ('sent', 'delivered', 'sending') OR (status = 'pending' AND attempts > 0))
	AND coalesce(sent_at, updated_at) > $5
ORDER BY 3`

// ClaimOutbox claims up to p.Limit due rows and applies decide's verdicts
// (one per row, same order) in the same transaction. It returns the claimed
// rows and the decisions; rows decided "send" are now 'sending', attempts+1,
// leased until Now+Lease.
func (db *DB) ClaimOutbox(ctx context.Context, p OutboxClaimParams,
	decide func([]OutboxClaim, OutboxUsage) []OutboxDecision) (_ []OutboxClaim, _ []OutboxDecision, err error) {
	defer wrap(&err, "store.ClaimOutbox")
	var claims []OutboxClaim
	var decisions []OutboxDecision
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, claimOutboxSQL, p.Now, p.Limit)
		if err != nil {
			return err
		}
		claims, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxClaim, error) {
			var c OutboxClaim
			var qs, qe pgtype.Time
			err := r.Scan(&c.ID, &c.OrgID, &c.Kind, &c.Channel, &c.Recipient, &c.Subject, &c.Body, &c.Status,
				&c.Attempts, &c.Provider, &c.LastError, &c.Severity, &c.AlertStatus, &c.TimeZone, &qs, &qe,
				&c.OptedOut, &c.AlarmReached, &c.DueAt, &c.Trial, &c.RecipientVerified, &c.AllowedCountries, &c.SilencedUntil)
			if qs.Valid && qe.Valid {
				s, e := time.Duration(qs.Microseconds)*time.Microsecond, time.Duration(qe.Microseconds)*time.Microsecond
				c.QuietStart, c.QuietEnd = &s, &e
			}
			return c, err
		})
		if err != nil || len(claims) == 0 {
			return err
		}
		usage, err := outboxUsage(ctx, tx, claims, p)
		if err != nil {
			return err
		}
		decisions = decide(claims, usage)
		b := &pgx.Batch{}
		for i, d := range decisions {
			queueOutboxDecision(b, claims[i], d, p)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, nil, err
	}
	return claims, decisions, nil
}

// outboxUsage serialises the rate-limit decisions of concurrent dispatchers
// per recipient and organisation (transaction advisory locks, taken in one
// global order so two claims cannot deadlock), then reads the window.
func outboxUsage(ctx context.Context, tx pgx.Tx, claims []OutboxClaim, p OutboxClaimParams) (OutboxUsage, error) {
	var recipients, orgs, ids []string
	var keys []int64
	lockKey := func(s string) int64 {
		h := fnv.New64a()
		h.Write([]byte("notify-rate:" + s))
		return int64(h.Sum64())
	}
	for _, c := range claims {
		ids = append(ids, c.ID)
		if !slices.Contains(recipients, c.Recipient) {
			recipients = append(recipients, c.Recipient)
			keys = append(keys, lockKey("r:"+c.Recipient))
		}
		if !slices.Contains(orgs, c.OrgID) {
			orgs = append(orgs, c.OrgID)
			keys = append(keys, lockKey("o:"+c.OrgID))
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	// unnest yields the keys in array (sorted) order
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`, keys); err != nil {
		return OutboxUsage{}, err
	}
	since := p.Now.Add(-p.Window)
	rows, err := tx.Query(ctx, outboxUsageSQL, recipients, orgs, ids, since.Add(-p.Lookback), since)
	if err != nil {
		return OutboxUsage{}, err
	}
	u := OutboxUsage{Recipient: map[string][]time.Time{}, Org: map[string][]time.Time{}, OrgDay: map[string]map[string]int{}}
	var scope, key string
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&scope, &key, &at}, func() error {
		if scope == "r" {
			u.Recipient[key] = append(u.Recipient[key], at)
		} else {
			u.Org[key] = append(u.Org[key], at)
		}
		return nil
	})
	if err != nil || p.TrialWindow <= 0 {
		return u, err
	}
	day := p.Now.Add(-p.TrialWindow)
	rows, err = tx.Query(ctx, `SELECT organization_id::text, channel, count(*) FROM notifications
		WHERE organization_id = ANY($1::uuid[]) AND NOT (id = ANY($2::uuid[])) AND created_at > $3
			AND (status IN ('sent', 'delivered', 'sending') OR (status = 'pending' AND attempts > 0))
			AND coalesce(sent_at, updated_at) > $4
		GROUP BY 1, 2`, orgs, ids, day.Add(-p.Lookback), day)
	if err != nil {
		return u, err
	}
	var channel string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&key, &channel, &n}, func() error {
		if u.OrgDay[key] == nil {
			u.OrgDay[key] = map[string]int{}
		}
		u.OrgDay[key][channel] = n
		return nil
	})
	return u, err
}

// orgDoesNotPay is the SQL saying that organisation o does not pay: its
// subscription (self-service onboarding creates one as 'trial') is neither
// active nor past_due. The abuse limits apply to such an organisation.
const orgDoesNotPay = `EXISTS (SELECT 1 FROM subscriptions sb WHERE sb.organization_id = o.id AND sb.status NOT IN ('active', 'past_due'))`

// effectiveSMSCountries is the SQL of the countries an organisation o may
// text: as configured, else the countries of its live sites. The dispatcher
// enforces it for non-paying organisations; the api shows it.
const effectiveSMSCountries = `coalesce(o.sms_allowed_countries, (SELECT coalesce(array_agg(DISTINCT es.country ORDER BY es.country), '{}')
	FROM sites es WHERE es.organization_id = o.id AND es.deleted_at IS NULL AND es.country IS NOT NULL))`

func queueOutboxDecision(b *pgx.Batch, c OutboxClaim, d OutboxDecision, p OutboxClaimParams) {
	switch d.Action {
	case "send":
		b.Queue(`UPDATE notifications SET status = 'sending', attempts = attempts + 1, next_attempt_at = $2,
				provider = $3, updated_at = $4 WHERE id = $1`, c.ID, p.Now.Add(p.Lease), d.Provider, p.Now)
	case "defer":
		// attempts unchanged: holding a message back is not a failed try
		b.Queue(`UPDATE notifications SET status = 'pending', next_attempt_at = $2, last_error = $3, updated_at = $4
			WHERE id = $1`, c.ID, d.Until, d.Reason, p.Now)
	case "skip":
		b.Queue(`UPDATE notifications SET status = 'skipped', last_error = $2, updated_at = $3,
				fallback_due = $4 AND `+fallbackDueSQL+` WHERE id = $1`,
			c.ID, d.Reason, p.Now, d.Fallback)
	case "fail":
		b.Queue(`UPDATE notifications SET status = 'failed', failed_at = $3, last_error = $2, updated_at = $3,
				call_state = CASE WHEN channel = 'voice' THEN 'failed' END, fallback_due = $4 AND `+fallbackDueSQL+` WHERE id = $1`,
			c.ID, d.Reason, p.Now, d.Fallback)
	}
}

// MarkOutboxSent records a provider's acceptance, and applies a delivery
// receipt that overtook it (held by ApplyTelnyxReceipt). False when the row
// is no longer this claim's (status or attempts moved on).
func (db *DB) MarkOutboxSent(ctx context.Context, id string, attempt int, provider, providerID string, now time.Time) (_ bool, err error) {
	defer wrap(&err, "store.MarkOutboxSent")
	var ok bool
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		// A call's webhook may have come first (it finds the row by the id
		// in client_state): the row then already carries the call id and
		// may be past 'sent'; nothing moves back.
		tag, err := tx.Exec(ctx, `UPDATE notifications SET status = CASE WHEN status = 'sending' THEN 'sent' ELSE status END,
				provider = $3, provider_message_id = nullif($4, ''), sent_at = coalesce(sent_at, $5),
				last_error = CASE WHEN status = 'sending' THEN NULL ELSE last_error END, next_attempt_at = $5, updated_at = $5,
				call_state = CASE WHEN call_state = 'queued' THEN 'calling' ELSE call_state END
			WHERE id = $1 AND attempts = $2 AND (status = 'sending' OR (channel = 'voice' AND provider_message_id = $4))`,
			id, attempt, provider, providerID, now)
		if err != nil {
			return err
		}
		ok = tag.RowsAffected() == 1
		if !ok || providerID == "" {
			return nil
		}
		return applyEarlyReceipt(ctx, tx, id, providerID)
	})
	return ok, err
}

// MarkOutboxRetry puts a failed attempt back to pending until at.
func (db *DB) MarkOutboxRetry(ctx context.Context, id string, attempt int, at time.Time, lastErr string, now time.Time) (_ bool, err error) {
	defer wrap(&err, "store.MarkOutboxRetry")
	tag, err := db.pool.Exec(ctx, `UPDATE notifications SET status = 'pending', next_attempt_at = $3, last_error = $4, updated_at = $5
		WHERE id = $1 AND status = 'sending' AND attempts = $2`, id, attempt, at, lastErr, now)
	return tag.RowsAffected() == 1, Classify(err)
}

// MarkOutboxFailed gives up on a row; an alarm message's contact is then
// paged on their next channel (fallback_due).
func (db *DB) MarkOutboxFailed(ctx context.Context, id string, attempt int, lastErr string, now time.Time) (_ bool, err error) {
	defer wrap(&err, "store.MarkOutboxFailed")
	tag, err := db.pool.Exec(ctx, `UPDATE notifications SET status = 'failed', failed_at = $4, last_error = $3, updated_at = $4,
			call_state = CASE WHEN channel = 'voice' THEN 'failed' END, fallback_due = `+fallbackDueSQL+`
		WHERE id = $1 AND status = 'sending' AND attempts = $2`, id, attempt, lastErr, now)
	return tag.RowsAffected() == 1, Classify(err)
}

// ReleaseOutbox hands back a claimed row that was never sent (the caller ran
// out of time before calling the provider): due now, attempt not counted.
func (db *DB) ReleaseOutbox(ctx context.Context, id string, attempt int, now time.Time) (_ bool, err error) {
	defer wrap(&err, "store.ReleaseOutbox")
	tag, err := db.pool.Exec(ctx, `UPDATE notifications SET status = 'pending', attempts = attempts - 1, next_attempt_at = $3,
			updated_at = $3
		WHERE id = $1 AND status = 'sending' AND attempts = $2`, id, attempt, now)
	return tag.RowsAffected() == 1, Classify(err)
}
