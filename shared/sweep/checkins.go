package sweep

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/paging"
	"github.com/frostguard/functions/shared/realtime"
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
// offlineAfter is the unit's offline multiplier (check-ins it may miss
// before it is offline; below 1 counts as 1); monitoring is interrupted at
// CriticalMissedCheckins, or at offlineAfter when higher.
func CheckinLevel(missed, offlineAfter int) (severity, status string) {
	offlineAfter = max(offlineAfter, 1)
	switch {
	case missed >= max(CriticalMissedCheckins, offlineAfter):
		return alerting.SeverityCritical, string(domain.UnitMonitoringInterrupted)
	case missed >= offlineAfter:
		return alerting.SeverityWarning, string(domain.UnitOffline)
	}
	return "", ""
}

// maxUnitErrors bounds the per-unit errors one task run reports.
const maxUnitErrors = 5

// A unitRule is one of the sweeper's conditions on units: which units may
// need it (a keyset page of candidates) and what it does to one unit, read
// under its lock (it reports whether it changed anything).
type unitRule struct {
	candidates func(db *store.DB, ctx context.Context, now time.Time, after string, limit int) ([]string, error)
	judge      func(ctx context.Context, tx *store.SweepTx, u store.SweepUnit, now time.Time, frontendURL string) (bool, error)
}

// The sweeper's unit rules: check-ins raise, upgrade and resolve
// monitoring_interrupted; doors door_open; manual logs missed_manual_entry.
var (
	checkins   = unitRule{(*store.DB).CheckinCandidates, checkinUnit}
	doors      = unitRule{(*store.DB).DoorCandidates, doorUnit}
	manualLogs = unitRule{(*store.DB).ManualLogCandidates, manualLogUnit}
)

// run pages through the rule's candidates (keyset on the unit id) until
// none is left or ctx ends, and judges each unit in its own locked
// transaction (units another sweep or an uplink holds are skipped). One
// unit's error is reported and the others still run: a broken row never
// starves the units after it. It returns how many units it changed, and
// ctx's error when the deadline stopped it with candidates left.
func (r unitRule) run(ctx context.Context, db *store.DB, now time.Time, frontendURL string, live realtime.Publisher) (int, error) {
	changed, failed := 0, 0
	var errs []error
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return changed, errors.Join(append(errs, err)...)
		}
		ids, err := r.candidates(db, ctx, now, after, batchSize)
		if err != nil {
			return changed, errors.Join(append(errs, err)...)
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return changed, errors.Join(append(errs, err)...)
			}
			var orgID string
			var changes store.Judgement
			_, err := db.WithSweepUnit(ctx, id, now, func(tx *store.SweepTx, u store.SweepUnit) error {
				c, err := r.judge(ctx, tx, u, now, frontendURL)
				if c && err == nil {
					changed++
				}
				orgID, changes = u.OrgID, tx.Changes()
				return err
			})
			if err == nil && orgID != "" {
				// Committed: the unit's watchers see it go offline, its
				// alert open or resolve.
				live.Publish(ctx, realtime.JudgementEvents(orgID, id, changes)...)
			}
			if err != nil {
				if failed++; failed <= maxUnitErrors {
					errs = append(errs, fmt.Errorf("unit %s: %w", id, err))
				}
			}
		}
		if len(ids) < batchSize {
			break
		}
		after = ids[len(ids)-1]
	}
	if failed > maxUnitErrors {
		errs = append(errs, fmt.Errorf("%d more units failed", failed-maxUnitErrors))
	}
	return changed, errors.Join(errs...)
}

// CheckinAt is a unit's last check-in: its newest temperature when it
// expects temperatures (a door or battery uplink is no check-in of a unit
// whose temperature is not being measured), else its newest reading.
func CheckinAt(u store.SweepUnit) *time.Time {
	if u.ExpectsTemperature {
		return u.LastTemperatureAt
	}
	return u.LastReadingAt
}

func checkinUnit(ctx context.Context, tx *store.SweepTx, u store.SweepUnit, now time.Time, frontendURL string) (bool, error) {
	const typ = alerting.TypeMonitoringInterrupted
	open, isOpen := u.Open[typ]
	if !u.HasSensor {
		return false, nil // nothing is expected to report (unassigned since)
	}
	last := CheckinAt(u)
	missed, due := MissedCheckins(last, u.WatchedSince, u.CheckinInterval, now)
	severity, status := CheckinLevel(missed, u.OfflineAfter)
	if missed > 0 && status == "" {
		// Fewer missed than the unit's offline multiplier allows: nothing
		// yet (and an alert already open stays until readings resume).
		return false, nil
	}
	// The unit went offline when its last allowed check-in was missed.
	due = due.Add(time.Duration(max(u.OfflineAfter, 1)-1) * u.CheckinInterval)
	if missed == 0 {
		if !isOpen || last == nil {
			return false, nil
		}
		// Normally the reading's own transaction resolves it; this covers a
		// reading the alert engine judged late or a race with the opening.
		r := paging.ResolveRow(typ, *last, "readings resumed", unitMessageInput(u, frontendURL))
		return true, tx.ResolveAlert(ctx, u, r)
	}
	// A unit already interrupted (five missed check-ins, or a probe reading
	// what cannot be true) is not moved back to offline.
	moved := u.Status != status && !(status == string(domain.UnitOffline) && u.Status == string(domain.UnitMonitoringInterrupted))
	if moved {
		tx.SetUnitStatus(ctx, u, status, due)
	}
	if isOpen {
		if severity == alerting.SeverityCritical {
			note := fmt.Sprintf("%d check-ins missed", missed)
			return tx.RaiseSeverity(ctx, u.OrgID, open, severity, now, note) || moved, nil
		}
		return moved, nil
	}
	title := "No readings received"
	msg := fmt.Sprintf("%d check-in(s) missed (expected every %s)", missed, u.CheckinInterval)
	switch {
	case last == nil && u.LastReadingAt == nil:
		title, msg = "Sensor has never reported", "no reading since the sensor was installed"
	case u.ExpectsTemperature && u.LastReadingAt != nil && (last == nil || u.LastReadingAt.After(*last)):
		title = "No temperature received"
		msg = fmt.Sprintf("%d check-in(s) missed (expected every %s): no temperature measured", missed, u.CheckinInterval)
		if last != nil {
			msg += " since " + last.UTC().Format(time.RFC3339)
		}
		msg += ", although the unit's sensors still send other uplinks (door, battery)"
	}
	o := alerting.OpenAlert{Type: typ, Severity: severity, Title: title, Message: msg, At: due}
	plan, err := tx.Plan(ctx, u.OrgID, u.ID, typ)
	if err != nil {
		return false, err
	}
	row := paging.OpenRow(o, plan, unitMessageInput(u, frontendURL), now, u.Silence)
	row.EventData = map[string]any{"missed_checkins": missed, "severity": severity, "last_checkin_at": last,
		"last_reading_at": u.LastReadingAt, "checks": checkedQuantity(u)}
	return true, tx.OpenAlert(ctx, u, row)
}

func checkedQuantity(u store.SweepUnit) string {
	if u.ExpectsTemperature {
		return "temperature"
	}
	return "any reading"
}
