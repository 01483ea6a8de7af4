package domain

import "time"

// OrganizationDeletionGrace is how long a requested deletion of an
// organisation waits, and can be cancelled, before every row and object of
// it is removed.
const OrganizationDeletionGrace = 30 * 24 * time.Hour

// MinReadingsRetentionMonths is the floor of every plan's retention of raw
// readings: HACCP records are kept at least two years.
const MinReadingsRetentionMonths = 24

// readingsRetentionMonths is each plan's retention of raw readings; older
// months are archived to the bucket (kept) and their raw rows dropped, with
// hourly rollups left for the charts.
var readingsRetentionMonths = map[string]int{"starter": 24, "pro": 36, "haccp": 60, "enterprise": 84}

// ReadingsRetentionMonths is a plan's retention of raw readings in months.
// An unknown plan keeps the longest: nothing is dropped by a typo.
func ReadingsRetentionMonths(plan string) int {
	if m, ok := readingsRetentionMonths[plan]; ok {
		return m
	}
	longest := MinReadingsRetentionMonths
	for _, m := range readingsRetentionMonths {
		longest = max(longest, m)
	}
	return longest
}
