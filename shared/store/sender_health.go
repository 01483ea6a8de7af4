package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// SenderHealthEvery is how often the sweeper asks the providers; a report
// older than three times this is stale (the check is not running).
const SenderHealthEvery = 15 * time.Minute

// SenderHealth is the newest report on the deployment's senders
// (notify.EvaluateSenders): per channel, whether it can send and why not.
type SenderHealth struct {
	CheckedAt time.Time       `json:"checked_at"`
	Status    string          `json:"status"` // ok, warning, down
	Channels  []SenderChannel `json:"channels"`
	// Stale (answers only): the report is older than three checks.
	Stale bool `json:"stale"`
}

// SenderChannel is one channel's health.
type SenderChannel struct {
	Channel  string   `json:"channel"` // sms, voice, email
	Status   string   `json:"status"`  // ok, warning, down, unknown, not_configured
	Sender   string   `json:"sender"`  // the number or the e-mail domain
	Problems []string `json:"problems"`
}

// SaveSenderHealth replaces the stored report.
func (db *DB) SaveSenderHealth(ctx context.Context, h SenderHealth) (err error) {
	defer wrap(&err, "store.SaveSenderHealth")
	_, err = db.pool.Exec(ctx, `INSERT INTO sender_health (id, checked_at, report) VALUES (true, $1, $2)
		ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at, report = excluded.report`, h.CheckedAt, h)
	if err != nil {
		return Classify(err)
	}
	return nil
}

// SenderHealth is the stored report, nil before the first check.
func (db *DB) SenderHealth(ctx context.Context) (_ *SenderHealth, err error) {
	defer wrap(&err, "store.SenderHealth")
	var h SenderHealth
	err = db.pool.QueryRow(ctx, `SELECT report FROM sender_health WHERE id`).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, Classify(err)
	}
	return &h, nil
}
