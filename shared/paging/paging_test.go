package paging

import (
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
)

func TestPlanEscalationWithoutPolicy(t *testing.T) {
	a := store.EscalationAlert{TriggeredAt: time.Unix(0, 0), StepsSent: 0}
	w := PlanEscalation(a, store.NotificationPlan{}, time.Unix(3600, 0), "")
	if len(w.Steps) != 0 || w.Next != nil || w.StepsSent != 0 {
		t.Fatalf("%+v", w)
	}
}
