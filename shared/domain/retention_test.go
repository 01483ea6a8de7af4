package domain

import "testing"

func TestReadingsRetentionIsAtLeastTwoYears(t *testing.T) {
	for _, plan := range []string{"starter", "pro", "haccp", "enterprise", "trial", "unknown", ""} {
		if m := ReadingsRetentionMonths(plan); m < MinReadingsRetentionMonths {
			t.Errorf("%q keeps %d months, under the %d-month floor", plan, m, MinReadingsRetentionMonths)
		}
	}
	if ReadingsRetentionMonths("no-such-plan") != 84 {
		t.Errorf("an unknown plan must keep the longest retention")
	}
	if ReadingsRetentionMonths("haccp") < ReadingsRetentionMonths("starter") {
		t.Errorf("HACCP keeps less than starter")
	}
}
