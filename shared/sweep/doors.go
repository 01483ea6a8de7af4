package sweep

import (
	"context"
	"fmt"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/paging"
	"github.com/frostguard/functions/shared/store"
)

// Door-open thresholds are the unit's (door_warn_minutes and
// door_critical_minutes, 5 and 15 by default), measured from the real open
// transition (units.door_changed_at, written only when the door state
// changes: an uplink repeating "open" does not restart the clock).

func doorUnit(ctx context.Context, tx *store.SweepTx, u store.SweepUnit, now time.Time, frontendURL string) (bool, error) {
	const typ = alerting.TypeDoorOpen
	open, isOpen := u.Open[typ]
	st := alerting.State{DoorOpen: u.DoorOpen}
	if u.DoorChangedAt != nil {
		st.DoorChangedAt = *u.DoorChangedAt
	}
	severity, tooLong := alerting.DoorOpenTooLong(st, now, u.DoorWarnAfter, u.DoorCriticalAfter)
	if isOpen {
		// The door closed, or closed and opened again since this alert
		// (it triggered before the current opening crossed the threshold):
		// this episode is over either way.
		reopened := u.DoorOpen && !st.DoorChangedAt.IsZero() && open.TriggeredAt.Before(st.DoorChangedAt.Add(u.DoorWarnAfter))
		if !u.DoorOpen || reopened {
			at := now
			if !u.DoorOpen && !st.DoorChangedAt.IsZero() {
				at = st.DoorChangedAt
			}
			if err := tx.ResolveAlert(ctx, u, paging.ResolveRow(typ, at, "door closed", unitMessageInput(u, frontendURL))); err != nil {
				return false, err
			}
			isOpen = false
			if !tooLong {
				return true, nil
			}
		}
	}
	if !tooLong {
		return false, nil
	}
	openFor := now.Sub(st.DoorChangedAt).Truncate(time.Minute)
	if isOpen {
		if severity != alerting.SeverityCritical {
			return false, nil
		}
		return tx.RaiseSeverity(ctx, u.OrgID, open, severity, now, fmt.Sprintf("door open for %s", openFor)), nil
	}
	o := alerting.OpenAlert{Type: typ, Severity: severity, Title: "Door open too long",
		Message: fmt.Sprintf("door open since %s", st.DoorChangedAt.UTC().Format(time.RFC3339)),
		At:      st.DoorChangedAt.Add(u.DoorWarnAfter)}
	plan, err := tx.Plan(ctx, u.OrgID, u.ID, typ)
	if err != nil {
		return false, err
	}
	row := paging.OpenRow(o, plan, unitMessageInput(u, frontendURL), now, u.Silence)
	row.EventData = map[string]any{"door_opened_at": st.DoorChangedAt, "severity": severity}
	return true, tx.OpenAlert(ctx, u, row)
}
