package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// Tenant filters of the sweeper's unit transaction: it hands out the unit's
// own organisation, and a status change made in it moves that unit only —
// not another organisation's unit of the same name in the same state.
func TestSweepUnitTransactionTouchesOnlyItsUnit(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	orgA, unitA := newOrgWithUnit(t, db, "A")
	orgB, unitB := newOrgWithUnit(t, db, "B")
	now := time.Now().UTC()
	ok, err := db.WithSweepUnit(ctx, unitB, now, func(s *store.SweepTx, u store.SweepUnit) error {
		if u.ID != unitB || u.OrgID != orgB {
			t.Errorf("sweep unit: %s of %s, want %s of %s", u.ID, u.OrgID, unitB, orgB)
		}
		s.SetUnitStatus(ctx, u, "offline", now)
		return nil
	})
	if err != nil || !ok {
		t.Fatalf("WithSweepUnit: %v %v", ok, err)
	}
	status := func(org, unit string) string {
		var st string
		if err := testenv.Pool(db).QueryRow(ctx, `SELECT status FROM units WHERE organization_id = $1 AND id = $2`, org, unit).Scan(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	if got := status(orgB, unitB); got != "offline" {
		t.Errorf("B's unit: %s, want offline", got)
	}
	if got := status(orgA, unitA); got == "offline" {
		t.Errorf("A's unit moved by B's sweep: %s", got)
	}
}
