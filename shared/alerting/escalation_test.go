package alerting

import (
	"slices"
	"testing"
	"time"
)

func TestEscalation(t *testing.T) {
	steps := []Step{
		{AfterMinutes: 0, Channels: []string{ChannelSMS}, ContactIDs: []string{"c1"}},
		{AfterMinutes: 15, Channels: []string{ChannelSMS, ChannelEmail}, ContactIDs: []string{"c2"}},
		{AfterMinutes: 30, Channels: []string{ChannelSMS}, ContactIDs: []string{"c3"}},
	}
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	cases := []struct {
		name  string
		steps []Step
		ack   bool
		now   time.Time
		sent  int
		due   []int
		next  time.Time
	}{
		{"first step at trigger time", steps, false, m(0), 0, []int{0}, m(15)},
		{"nothing new before the second step", steps, false, m(14), 1, nil, m(15)},
		{"second step due", steps, false, m(15), 1, []int{1}, m(30)},
		{"sweeper late: steps due in order", steps, false, m(45), 1, []int{1, 2}, time.Time{}},
		{"sweeper very late, nothing sent", steps, false, m(45), 0, []int{0, 1, 2}, time.Time{}},
		{"acknowledged stops escalation", steps, true, m(45), 1, nil, time.Time{}},
		// running out of steps pages nobody else; it never resolves (nothing here can)
		{"exhausted steps", steps, false, m(600), 3, nil, time.Time{}},
		{"sent beyond the list", steps, false, m(600), 7, nil, time.Time{}},
		{"negative sent counts as 0", steps, false, m(0), -2, []int{0}, m(15)},
		{"no steps", nil, false, m(0), 0, nil, time.Time{}},
		{"delayed first step", []Step{{AfterMinutes: 5}}, false, m(1), 0, nil, m(5)},
		{"misordered delays still fire in order", []Step{{AfterMinutes: 0}, {AfterMinutes: 30}, {AfterMinutes: 10}}, false, m(20), 1, nil, m(30)},
		{"negative delay is 0", []Step{{AfterMinutes: -5}}, false, m(0), 0, []int{0}, time.Time{}},
	}
	for _, c := range cases {
		due, next := Escalation(c.steps, t0, c.ack, c.now, c.sent)
		if !slices.Equal(due, c.due) || !next.Equal(c.next) {
			t.Errorf("%s: got %v %v, want %v %v", c.name, due, next, c.due, c.next)
		}
	}
}

// TestEscalationWalk simulates the sweeper: every minute, send what is due.
// Each step is sent exactly once and in order; acknowledging stops it.
func TestEscalationWalk(t *testing.T) {
	steps := []Step{{AfterMinutes: 0}, {AfterMinutes: 10}, {AfterMinutes: 20}, {AfterMinutes: 40}}
	for _, ackAt := range []int{-1, 15} {
		sent := 0
		var times []int
		for min := 0; min <= 120; min++ {
			due, _ := Escalation(steps, t0, ackAt >= 0 && min >= ackAt, t0.Add(time.Duration(min)*time.Minute), sent)
			for _, i := range due {
				if i != sent {
					t.Fatalf("step %d sent out of order (sent=%d)", i, sent)
				}
				sent++
				times = append(times, min)
			}
		}
		want := []int{0, 10, 20, 40}
		if ackAt >= 0 {
			want = []int{0, 10}
		}
		if !slices.Equal(times, want) {
			t.Errorf("ack at %d: steps sent at %v, want %v", ackAt, times, want)
		}
	}
}

func policyStep(after int) Step {
	return Step{AfterMinutes: after, Channels: []string{"sms"}, ContactIDs: []string{"c1"}}
}

func TestExpandSteps(t *testing.T) {
	rep := func(s Step) Step { s.Repeat = true; return s }
	cases := []struct {
		name  string
		steps []Step
		want  []int // after_minutes
	}{
		{"no repeat", []Step{policyStep(0), policyStep(10)}, []int{0, 10}},
		{"repeat the difference", []Step{policyStep(0), rep(policyStep(15))}, []int{0, 15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165}},
		{"single step repeats its delay", []Step{rep(policyStep(5))}, []int{5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55}},
		{"zero interval does not repeat", []Step{policyStep(5), rep(policyStep(5))}, []int{5, 5}},
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
