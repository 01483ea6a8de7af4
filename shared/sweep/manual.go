package sweep

import (
	"context"
	"fmt"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/paging"
	"github.com/frostguard/functions/shared/store"
)

// ManualLogOverdue is the missed-manual-entry rule: a unit that requires
// manual logs (store.SweepUnit.ManualLogInterval: the unit's own interval,
// or every 4 hours for a unit without sensors in an organisation in HACCP
// mode) is overdue once its interval has passed since its last log (since
// its creation when it never had one). due is when the log was due (the
// alert's triggered_at).
func ManualLogOverdue(u store.SweepUnit, now time.Time) (due time.Time, overdue bool) {
	if u.ManualLogInterval <= 0 {
		return time.Time{}, false
	}
	from := u.CreatedAt
	if u.LastManualLogAt != nil {
		from = *u.LastManualLogAt
	}
	due = from.Add(u.ManualLogInterval)
	return due, !now.Before(due)
}

func manualLogUnit(ctx context.Context, tx *store.SweepTx, u store.SweepUnit, now time.Time, frontendURL string) (bool, error) {
	const typ = alerting.TypeMissedManualEntry
	_, isOpen := u.Open[typ]
	due, overdue := ManualLogOverdue(u, now)
	switch {
	case isOpen && !overdue:
		reason, at := "manual temperature log recorded", now
		if u.ManualLogInterval <= 0 {
			reason = "manual temperature logs are no longer required for this unit"
		} else if u.LastManualLogAt != nil {
			at = *u.LastManualLogAt
		}
		return true, tx.ResolveAlert(ctx, u, paging.ResolveRow(typ, at, reason, unitMessageInput(u, frontendURL)))
	case isOpen || !overdue:
		return false, nil
	}
	msg := fmt.Sprintf("no manual temperature log for this unit since %s; one is required every %s",
		u.CreatedAt.UTC().Format(time.RFC3339), u.ManualLogInterval)
	if u.LastManualLogAt != nil {
		msg = fmt.Sprintf("the last manual temperature log was at %s; one is required every %s",
			u.LastManualLogAt.UTC().Format(time.RFC3339), u.ManualLogInterval)
	}
	o := alerting.OpenAlert{Type: typ, Severity: alerting.SeverityWarning, Title: "Manual temperature log overdue", Message: msg, At: due}
	plan, err := tx.Plan(ctx, u.OrgID, u.ID, typ)
	if err != nil {
		return false, err
	}
	row := paging.OpenRow(o, plan, unitMessageInput(u, frontendURL), now, u.Silence)
	row.EventData = map[string]any{"last_manual_log_at": u.LastManualLogAt, "interval_seconds": int(u.ManualLogInterval / time.Second),
		"severity": alerting.SeverityWarning}
	return true, tx.OpenAlert(ctx, u, row)
}
