package api

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestReadingsDailyBucketsFollowTheSiteClock: a day is the site's calendar
// day, not UTC's (a New York kitchen's evening readings were counted in the
// next day), and the day DST ends is 25 hours long.
func TestReadingsDailyBucketsFollowTheSiteClock(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("A", owner)
	u := h.unit(org)
	h.exec(`UPDATE sites SET timezone = 'America/New_York' WHERE id = $1`, u.SiteID)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, r := range []string{
		"2026-11-01T04:30:00Z", // 00:30 EDT, Nov 1
		"2026-11-02T04:30:00Z", // 23:30 EST, still Nov 1 (the 25-hour day)
		"2026-11-02T05:30:00Z", // 00:30 EST, Nov 2
		"2026-11-20T04:30:00Z", // 23:30 EST, Nov 19
		"2026-11-20T05:30:00Z", // 00:30 EST, Nov 20
	} {
		h.readingRow(org, u.UnitID, at(r), readingTemp(3))
	}
	q := url.Values{"from": {"2026-11-01T00:00:00Z"}, "to": {"2026-11-21T00:00:00Z"}, "bucket": {"1d"}}
	var b bucketedReadings
	h.do(owner, "GET", readingsPath(org, u.UnitID, q), nil).must(t, http.StatusOK).JSON(t, &b)
	want := []struct {
		start string
		count int
	}{
		{"2026-11-01T04:00:00Z", 2}, // local midnight, EDT
		{"2026-11-02T05:00:00Z", 1}, // local midnight, EST
		{"2026-11-19T05:00:00Z", 1},
		{"2026-11-20T05:00:00Z", 1},
	}
	if b.Unit.TimeZone != "America/New_York" || len(b.Items) != len(want) {
		t.Fatalf("zone %q, buckets %+v", b.Unit.TimeZone, b.Items)
	}
	for i, w := range want {
		if !b.Items[i].BucketStart.Equal(at(w.start)) || b.Items[i].Count != w.count {
			t.Errorf("bucket %d = %s with %d, want %s with %d", i, b.Items[i].BucketStart.Format(time.RFC3339), b.Items[i].Count, w.start, w.count)
		}
	}
}
