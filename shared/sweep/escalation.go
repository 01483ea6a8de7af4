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

// batchSize bounds the rows one task run handles; the next minute continues.
const batchSize = 500

// escalate queues every due escalation step, oldest due first, in keyset
// pages until none is left or ctx ends. Each alert is handled in its own
// transaction under its row lock (SKIP LOCKED): a concurrent sweep skips it,
// or re-reads it after the commit and finds nothing due. One alert's error is
// reported and the others still run.
func escalate(ctx context.Context, db *store.DB, now time.Time, frontendURL string, live realtime.Publisher) (int, error) {
	n, failed := 0, 0
	var errs []error
	var afterAt time.Time
	afterID := ""
	for {
		if err := ctx.Err(); err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		due, err := db.DueEscalations(ctx, now, afterAt, afterID, batchSize)
		if err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		for _, a := range due {
			if err := ctx.Err(); err != nil {
				return n, errors.Join(append(errs, err)...)
			}
			var paged *realtime.Event
			ok, err := db.WithDueEscalation(ctx, a.ID, now, func(tx *store.SweepTx, a store.EscalationAlert) (store.EscalationWrite, error) {
				plan, err := tx.Plan(ctx, a.OrgID, a.UnitID, a.Type)
				if err != nil {
					return store.EscalationWrite{}, err
				}
				w := paging.PlanEscalation(a, plan, now, frontendURL)
				if w.StepsSent > a.StepsSent {
					paged = &realtime.Event{Type: realtime.AlertEscalated, OrgID: a.OrgID, UnitID: a.UnitID, At: now,
						Data: realtime.AlertEscalatedData{AlertID: a.ID, UnitID: a.UnitID, EscalationLevel: w.StepsSent}}
				}
				return w, nil
			})
			if ok && err == nil && paged != nil {
				live.Publish(ctx, *paged)
			}
			switch {
			case err != nil:
				if failed++; failed <= maxUnitErrors {
					errs = append(errs, fmt.Errorf("alert %s: %w", a.ID, err))
				}
			case ok:
				n++
			}
		}
		if len(due) < batchSize {
			break
		}
		afterAt, afterID = due[len(due)-1].DueAt, due[len(due)-1].ID
	}
	if failed > maxUnitErrors {
		errs = append(errs, fmt.Errorf("%d more alerts failed", failed-maxUnitErrors))
	}
	return n, errors.Join(errs...)
}

func unitMessageInput(u store.SweepUnit, frontendURL string) alerting.MessageInput {
	return alerting.NewMessageInput(u.SiteName, u.Name, u.TimeZone, domain.TempUnit(u.TempUnit), frontendURL)
}
