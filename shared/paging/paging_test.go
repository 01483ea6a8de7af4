package paging

import (
	"testing"
	"time"

	"github.com/frostguard/functions/shared/store"
)

func step(after int) store.PolicyStep {
	return store.PolicyStep{AfterMinutes: after, Channels: []string{"sms"}, ContactIDs: []string{"c1"}}
}

func TestPlanEscalationWithoutPolicy(t *testing.T) {
	a := store.EscalationAlert{TriggeredAt: time.Unix(0, 0), StepsSent: 0}
	w := PlanEscalation(a, store.NotificationPlan{}, time.Unix(3600, 0), "")
	if len(w.Steps) != 0 || w.Next != nil || w.StepsSent != 0 {
		t.Fatalf("%+v", w)
	}
}

func TestExpandSteps(t *testing.T) {
	rep := func(s store.PolicyStep) store.PolicyStep { s.Repeat = true; return s }
	cases := []struct {
		name  string
		steps []store.PolicyStep
		want  []int // after_minutes
	}{
		{"no repeat", []store.PolicyStep{step(0), step(10)}, []int{0, 10}},
		{"repeat the difference", []store.PolicyStep{step(0), rep(step(15))}, []int{0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165}},
		{"single step repeats its delay", []store.PolicyStep{rep(step(5))}, []int{5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55}},
		{"zero interval does not repeat", []store.PolicyStep{step(5), rep(step(5))}, []int{5, 5}},
		{"empty", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ExpandSteps(c.steps)
			if len(got) != len(c.want) {
				t.Fatalf("%d steps, want %d", len(got), len(c.want))
			}
			for i := range got {
				if got[i].AfterMinutes != c.want[i] {
					t.Fatalf("step %d after %d, want %d", i, got[i].AfterMinutes, c.want[i])
				}
			}
		})
	}
}
