package sweep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

const (
	// CheckinGrace absorbs radio and delivery jitter before a check-in
	// counts as missed.
	CheckinGrace = 30 * time.Second
	// CriticalMissedCheckins missed intervals make the alert critical.
	CriticalMissedCheckins = 5
)

// MissedCheckins counts the check-ins a unit missed at now:
// floor((now - last - grace) / interval), never negative. A unit that never
// reported is given one extra interval from watchedSince (its grace period
// is 2 x interval + grace) before its first one counts. due is when the
// first check-in was missed (the alert's triggered_at).
func MissedCheckins(last *time.Time, watchedSince time.Time, interval time.Duration, now time.Time) (missed int, due time.Time) {
	if interval <= 0 {
		return 0, time.Time{}
	}
	from, extra := watchedSince, 1
	if last != nil {
		from, extra = *last, 0
	}
	late := now.Sub(from) - CheckinGrace
	if late < 0 {
		return 0, time.Time{}
	}
	missed = int(late/interval) - extra
	if missed < 1 {
		return 0, time.Time{}
	}
	return missed, from.Add(time.Duration(1+extra)*interval + CheckinGrace)
}

// CheckinLevel maps missed check-ins to the alert severity and unit status
// ("" when nothing is missed).
func CheckinLevel(missed int) (severity, status string) {
	switch {
	case missed >= CriticalMissedCheckins:
		return alerting.SeverityCritical, string(domain.UnitMonitoringInterrupted)
	case missed >= 1:
		return alerting.SeverityWarning, string(domain.UnitOffline)
	}
	return "", ""
}

// checkins raises, upgrades and resolves monitoring_interrupted alerts.
func checkins(ctx context.Context, db *store.DB, now time.Time, frontendURL string) (int, error) {
	ids, err := db.CheckinCandidates(ctx, now, batchSize)
	if err != nil {
		return 0, err
	}
	return eachUnit(ctx, db, ids, func(tx *store.SweepTx, u store.SweepUnit) (bool, error) {
		return checkinUnit(ctx, tx, u, now, frontendURL)
	})
}

// eachUnit runs fn on each unit in its own locked transaction (units another
// sweep holds are skipped) and counts the units it changed.
func eachUnit(ctx context.Context, db *store.DB, ids []string, fn func(*store.SweepTx, store.SweepUnit) (bool, error)) (int, error) {
	changed := 0
	for _, id := range ids {
		_, err := db.WithSweepUnit(ctx, id, func(tx *store.SweepTx, u store.SweepUnit) error {
			c, err := fn(tx, u)
			if c {
				changed++
			}
			return err
		})
		if err != nil {
			return changed, fmt.Errorf("unit %s: %w", id, err)
		}
	}
	return changed, nil
}

func checkinUnit(ctx context.Context, tx *store.SweepTx, u store.SweepUnit, now time.Time, frontendURL string) (bool, error) {
	const typ = alerting.TypeMonitoringInterrupted
	open, isOpen := u.Open[typ]
	if !u.HasSensor {
		return false, nil // nothing is expected to report (unassigned since)
	}
	missed, due := MissedCheckins(u.LastReadingAt, u.WatchedSince, u.CheckinInterval, now)
	severity, status := CheckinLevel(missed)
	if missed == 0 {
		if !isOpen || u.LastReadingAt == nil {
			return false, nil
		}
		// Normally the reading's own transaction resolves it; this covers a
		// reading the alert engine judged late or a race with the opening.
		r := resolveRow(typ, *u.LastReadingAt, "readings resumed", unitMessageInput(u, frontendURL))
		return true, tx.ResolveAlert(ctx, u, r)
	}
	if err := tx.SetUnitStatus(ctx, u, status, due); err != nil {
		return false, err
	}
	if isOpen {
		if severity == alerting.SeverityCritical {
			note := fmt.Sprintf("%d check-ins missed", missed)
			return tx.RaiseSeverity(ctx, u.OrgID, open.ID, severity, now, note)
		}
		return u.Status != status, nil
	}
	title := "No readings received"
	msg := fmt.Sprintf("%d check-in(s) missed (expected every %s)", missed, u.CheckinInterval)
	if u.LastReadingAt == nil {
		title, msg = "Sensor has never reported", "no reading since the sensor was installed"
	}
	o := alerting.OpenAlert{Type: typ, Severity: severity, Title: title, Message: msg, At: due}
	plan, err := tx.Plan(ctx, u.OrgID, u.SiteID, u.ID, typ)
	if err != nil {
		return false, err
	}
	row := openRow(o, plan, unitMessageInput(u, frontendURL))
	row.EventData = map[string]any{"missed_checkins": missed, "severity": severity, "last_reading_at": u.LastReadingAt}
	return true, tx.OpenAlert(ctx, u, row)
}

// newAckCode is the short code people text back ("ACK 3F9A2C"); see the
// ingest's. A collision with another open alert of the org fails this
// unit's transaction; the next run draws a new one.
func newAckCode() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}
