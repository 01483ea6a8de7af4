package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

// rawReadings and bucketedReadings are the two shapes of GET .../readings.
type rawReadings struct {
	Unit       store.ReadingUnit `json:"unit"`
	From, To   time.Time
	Bucket     *string          `json:"bucket"`
	Items      []domain.Reading `json:"items"`
	NextCursor string           `json:"next_cursor"`
}

type bucketedReadings struct {
	Unit       store.ReadingUnit      `json:"unit"`
	From, To   time.Time              `json:"-"`
	Bucket     *string                `json:"bucket"`
	Items      []domain.ReadingBucket `json:"items"`
	NextCursor string                 `json:"next_cursor"`
}

func readingsPath(org, unit string, q url.Values) string {
	p := "/api/v1/orgs/" + org + "/units/" + unit + "/readings"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// reading inserts a TTN reading (temperature nil: a door-only payload).
func (h *harness) readingRow(orgID, unitID string, at time.Time, temp *float64) {
	h.t.Helper()
	h.exec(`INSERT INTO sensor_readings (organization_id, unit_id, recorded_at, temperature_c, source) VALUES ($1, $2, $3, $4, 'ttn')`,
		orgID, unitID, at, temp)
}

func readingTemp(v float64) *float64 { return &v }

func TestReadingsRawAndBucketed(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	org, orgB := h.org("A", owner), h.org("B", other)
	viewer := h.user("viewer")
	h.member(org, viewer, access.Viewer)
	u, u2, ub := h.unit(org), h.unit(org), h.unit(orgB)
	h.exec(`UPDATE organizations SET temp_unit = 'F' WHERE id = $1`, org)

	// a recent hour boundary, so the rows land in a real monthly partition
	base := time.Now().UTC().Truncate(time.Hour).Add(-5 * time.Hour)
	put := func(unit unitFixture, o string, d time.Duration, temp *float64) {
		h.readingRow(o, unit.UnitID, base.Add(d), temp)
	}
	put(u, org, 0, readingTemp(2))
	put(u, org, 10*time.Minute, readingTemp(4))
	put(u, org, 50*time.Minute, readingTemp(6))
	put(u, org, 65*time.Minute, readingTemp(1.25))
	put(u, org, 66*time.Minute, nil) // door only: in raw, not in buckets
	put(u, org, 120*time.Minute, readingTemp(3.33))
	put(u, org, 121*time.Minute, readingTemp(3.34))
	put(u, org, 180*time.Minute, readingTemp(-0.5)) // at `to`: excluded
	// same times, other units: never in u's answers
	put(u2, org, 0, readingTemp(40))
	put(ub, orgB, 10*time.Minute, readingTemp(-40))

	q := url.Values{"from": {base.Format(time.RFC3339)}, "to": {base.Add(3 * time.Hour).Format(time.RFC3339)}}
	var raw rawReadings
	h.do(viewer, "GET", readingsPath(org, u.UnitID, q), nil).must(t, http.StatusOK).JSON(t, &raw)
	if raw.Unit.ID != u.UnitID || raw.Unit.TempUnit != "F" || raw.Unit.TempMinC != 0 || raw.Unit.TempMaxC != 5 || raw.Bucket != nil ||
		!raw.From.Equal(base) || !raw.To.Equal(base.Add(3*time.Hour)) || raw.NextCursor != "" {
		t.Fatalf("raw envelope: %+v", raw)
	}
	want := []*float64{readingTemp(2), readingTemp(4), readingTemp(6), readingTemp(1.25), nil, readingTemp(3.33), readingTemp(3.34)}
	if len(raw.Items) != len(want) {
		t.Fatalf("raw: %d items, want %d: %+v", len(raw.Items), len(want), raw.Items)
	}
	for i, it := range raw.Items {
		ok := (it.TemperatureC == nil) == (want[i] == nil) && (want[i] == nil || *it.TemperatureC == *want[i])
		if !ok || it.Source != "ttn" || it.RecordedAt.Location() != time.UTC || (i > 0 && !it.RecordedAt.After(raw.Items[i-1].RecordedAt)) {
			t.Fatalf("raw item %d: %+v", i, it)
		}
	}

	// the same items, two at a time
	var walked []domain.Reading
	pq := url.Values{"from": q["from"], "to": q["to"], "limit": {"2"}}
	for pages := 0; ; pages++ {
		var page rawReadings
		h.do(viewer, "GET", readingsPath(org, u.UnitID, pq), nil).must(t, http.StatusOK).JSON(t, &page)
		walked = append(walked, page.Items...)
		if page.NextCursor == "" || pages > 10 {
			break
		}
		pq.Set("cursor", page.NextCursor)
	}
	if len(walked) != len(want) {
		t.Fatalf("paged walk: %d items, want %d", len(walked), len(want))
	}
	for i := range walked {
		if !walked[i].RecordedAt.Equal(raw.Items[i].RecordedAt) {
			t.Fatalf("paged item %d at %v, want %v", i, walked[i].RecordedAt, raw.Items[i].RecordedAt)
		}
	}

	q.Set("bucket", "1h")
	var b bucketedReadings
	h.do(viewer, "GET", readingsPath(org, u.UnitID, q), nil).must(t, http.StatusOK).JSON(t, &b)
	wantB := []domain.ReadingBucket{
		{BucketStart: base, MinC: 2, AvgC: 4, MaxC: 6, Count: 3},
		{BucketStart: base.Add(time.Hour), MinC: 1.25, AvgC: 1.25, MaxC: 1.25, Count: 1},
		{BucketStart: base.Add(2 * time.Hour), MinC: 3.33, AvgC: 3.34, MaxC: 3.34, Count: 2}, // avg 3.335 rounds half up
	}
	if b.Bucket == nil || *b.Bucket != "1h" || b.Unit.TempUnit != "F" || len(b.Items) != len(wantB) || b.NextCursor != "" {
		t.Fatalf("bucketed: %+v", b)
	}
	for i, it := range b.Items {
		if !it.BucketStart.Equal(wantB[i].BucketStart) || it.MinC != wantB[i].MinC || it.AvgC != wantB[i].AvgC ||
			it.MaxC != wantB[i].MaxC || it.Count != wantB[i].Count {
			t.Fatalf("bucket %d = %+v, want %+v", i, it, wantB[i])
		}
	}

	// a range that starts mid-bucket: the first bucket is partial, aligned on the hour
	q.Set("from", base.Add(30*time.Minute).Format(time.RFC3339))
	h.do(viewer, "GET", readingsPath(org, u.UnitID, q), nil).must(t, http.StatusOK).JSON(t, &b)
	if len(b.Items) != 3 || !b.Items[0].BucketStart.Equal(base) || b.Items[0].Count != 1 || b.Items[0].MinC != 6 {
		t.Fatalf("partial first bucket: %+v", b.Items)
	}
	q.Set("bucket", "1d")
	h.do(viewer, "GET", readingsPath(org, u.UnitID, q), nil).must(t, http.StatusOK).JSON(t, &b)
	total := 0
	for _, it := range b.Items {
		total += it.Count
	}
	if total != 4 {
		t.Fatalf("1d buckets count %d readings, want 4: %+v", total, b.Items)
	}
	q.Set("bucket", "5m")
	h.do(viewer, "GET", readingsPath(org, u.UnitID, q), nil).must(t, http.StatusOK).JSON(t, &b)
	if len(b.Items) != 3 || b.Items[0].Count != 1 || b.Items[2].Count != 2 || !b.Items[1].BucketStart.Equal(base.Add(65*time.Minute)) {
		t.Fatalf("5m buckets: %+v", b.Items)
	}

	// an empty range answers an empty list, not null
	q.Set("from", base.Add(-48*time.Hour).Format(time.RFC3339))
	q.Set("to", base.Add(-47*time.Hour).Format(time.RFC3339))
	res := h.do(viewer, "GET", readingsPath(org, u.UnitID, q), nil).must(t, http.StatusOK)
	if !strings.Contains(string(res.Body), `"items":[]`) {
		t.Fatalf("empty bucketed: %s", res.Body)
	}
	q.Del("bucket")
	res = h.do(viewer, "GET", readingsPath(org, u.UnitID, q), nil).must(t, http.StatusOK)
	if !strings.Contains(string(res.Body), `"items":[]`) {
		t.Fatalf("empty raw: %s", res.Body)
	}
}

func TestReadingsDefaultRange(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("A", owner)
	u := h.unit(org)
	now := time.Now().UTC().Truncate(time.Second)
	h.srv.Now = func() time.Time { return now }
	h.readingRow(org, u.UnitID, now.Add(-25*time.Hour), readingTemp(1)) // before the default day
	h.readingRow(org, u.UnitID, now.Add(-23*time.Hour), readingTemp(2))
	h.readingRow(org, u.UnitID, now.Add(-time.Minute), readingTemp(3))
	h.readingRow(org, u.UnitID, now.Add(time.Minute), readingTemp(4)) // after now

	var raw rawReadings
	h.do(owner, "GET", readingsPath(org, u.UnitID, nil), nil).must(t, http.StatusOK).JSON(t, &raw)
	if !raw.To.Equal(now) || !raw.From.Equal(now.Add(-24*time.Hour)) || len(raw.Items) != 2 ||
		*raw.Items[0].TemperatureC != 2 || *raw.Items[1].TemperatureC != 3 {
		t.Fatalf("default range: %+v", raw)
	}
	// only `to`: the day before it
	h.do(owner, "GET", readingsPath(org, u.UnitID, url.Values{"to": {now.Add(-22 * time.Hour).Format(time.RFC3339)}}), nil).
		must(t, http.StatusOK).JSON(t, &raw)
	if len(raw.Items) != 2 || *raw.Items[0].TemperatureC != 1 {
		t.Fatalf("only to: %+v", raw.Items)
	}
	// only `from`: up to now
	h.do(owner, "GET", readingsPath(org, u.UnitID, url.Values{"from": {now.Add(-30 * time.Hour).Format(time.RFC3339)}}), nil).
		must(t, http.StatusOK).JSON(t, &raw)
	if len(raw.Items) != 3 {
		t.Fatalf("only from: %+v", raw.Items)
	}
}

func TestReadingsValidation(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("A", owner)
	u := h.unit(org)
	to := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	ts := func(d time.Duration) string { return to.Add(d).Format(time.RFC3339) }
	tests := []struct {
		name  string
		q     url.Values
		field string
	}{
		{"from not a time", url.Values{"from": {"yesterday"}}, "from"},
		{"to not a time", url.Values{"to": {"2026-03-31"}}, "to"},
		{"from after to", url.Values{"from": {ts(time.Hour)}, "to": {ts(0)}}, "from"},
		{"from equals to", url.Values{"from": {ts(0)}, "to": {ts(0)}}, "from"},
		{"over 400 days", url.Values{"from": {ts(-401 * 24 * time.Hour)}, "to": {ts(0)}}, "from"},
		{"unknown bucket", url.Values{"bucket": {"2h"}}, "bucket"},
		{"5m over 30 days", url.Values{"from": {ts(-30 * 24 * time.Hour)}, "to": {ts(0)}, "bucket": {"5m"}}, "bucket"},
		{"1h over 300 days", url.Values{"from": {ts(-300 * 24 * time.Hour)}, "to": {ts(0)}, "bucket": {"1h"}}, "bucket"},
		{"bucket with cursor", url.Values{"bucket": {"1h"}, "cursor": {"abc"}}, "bucket"},
		{"limit 0", url.Values{"limit": {"0"}}, "limit"},
		{"limit 1001", url.Values{"limit": {"1001"}}, "limit"},
		{"garbage cursor", url.Values{"cursor": {"not-a-cursor"}}, "cursor"},
		{"uuid cursor", url.Values{"cursor": {Cursor{Time: to, ID: "00000000-0000-0000-0000-000000000000"}.Encode()}}, "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(owner, "GET", readingsPath(org, u.UnitID, tt.q), nil).must(t, http.StatusBadRequest)
			if !strings.Contains(string(res.Body), `"field":"`+tt.field+`"`) {
				t.Fatalf("want a field error on %s: %s", tt.field, res.Body)
			}
		})
	}
	// the limits themselves are fine
	h.do(owner, "GET", readingsPath(org, u.UnitID, url.Values{"from": {ts(-400 * 24 * time.Hour)}, "to": {ts(0)}, "bucket": {"1d"}}), nil).
		must(t, http.StatusOK)
	h.do(owner, "GET", readingsPath(org, u.UnitID, url.Values{"limit": {"1000"}}), nil).must(t, http.StatusOK)
}

func TestReadingsTenancy(t *testing.T) {
	h := newHarness(t)
	owner, ownerB := h.user("owner"), h.user("ownerB")
	org, orgB := h.org("A", owner), h.org("B", ownerB)
	u, ub := h.unit(org), h.unit(orgB)
	inspector := h.user("inspector")
	h.member(org, inspector, access.Inspector)
	h.readingRow(orgB, ub.UnitID, time.Now().Add(-time.Hour), readingTemp(9))

	gone := h.unit(org)
	h.exec(`UPDATE units SET deleted_at = now() WHERE id = $1`, gone.UnitID)
	for _, tc := range []struct {
		u    *testUser
		path string
	}{
		{owner, readingsPath(org, ub.UnitID, nil)},                              // B's unit under A
		{owner, readingsPath(org, ub.UnitID, url.Values{"bucket": {"1h"}})},     // bucketed too
		{owner, readingsPath(orgB, ub.UnitID, nil)},                             // not a member of B
		{ownerB, readingsPath(org, u.UnitID, nil)},                              // B's owner into A
		{ownerB, "/api/v1/orgs/" + org + "/readings/latest"},                    // B's owner into A
		{owner, readingsPath(org, gone.UnitID, nil)},                            // deleted unit
		{owner, readingsPath(org, "not-a-unit", nil)},                           // malformed id
		{owner, readingsPath(org, "00000000-0000-0000-0000-000000000000", nil)}, // unknown unit
	} {
		h.do(tc.u, "GET", tc.path, nil).must(t, http.StatusNotFound)
	}
	// every member reads, inspectors included
	h.do(inspector, "GET", readingsPath(org, u.UnitID, url.Values{"bucket": {"1h"}}), nil).must(t, http.StatusOK)
	h.do(inspector, "GET", "/api/v1/orgs/"+org+"/readings/latest", nil).must(t, http.StatusOK)
	h.do(nil, "GET", readingsPath(org, u.UnitID, nil), nil).must(t, http.StatusUnauthorized)
}

func TestReadingsLatest(t *testing.T) {
	h := newHarness(t)
	owner, ownerB := h.user("owner"), h.user("ownerB")
	org, orgB := h.org("A", owner), h.org("B", ownerB)
	viewer := h.user("viewer")
	h.member(org, viewer, access.Viewer)
	u1, u2, ub := h.unit(org), h.unit(org), h.unit(orgB)
	gone := h.unit(org)
	h.exec(`UPDATE units SET deleted_at = now() WHERE id = $1`, gone.UnitID)
	at := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	h.exec(`UPDATE units SET name = 'Freezer', status = 'alarm_active', last_reading_at = $2, last_temp_c = 7.5, door_open = true WHERE id = $1`,
		u1.UnitID, at)
	h.exec(`UPDATE units SET last_reading_at = $2, last_temp_c = 1 WHERE id = $1`, ub.UnitID, at)

	var list List[domain.LatestReading]
	h.do(viewer, "GET", "/api/v1/orgs/"+org+"/readings/latest", nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("latest: %+v", list)
	}
	a, b := list.Items[0], list.Items[1]
	if a.UnitID != u1.UnitID || a.UnitName != "Freezer" || a.SiteID != u1.SiteID || a.AreaID != u1.AreaID || a.Status != "alarm_active" ||
		a.LastReadingAt == nil || !a.LastReadingAt.Equal(at) || *a.LastTempC != 7.5 || !a.DoorOpen {
		t.Fatalf("unit 1: %+v", a)
	}
	if b.UnitID != u2.UnitID || b.LastReadingAt != nil || b.LastTempC != nil || b.Status != "ok" {
		t.Fatalf("unit 2 (never reported): %+v", b)
	}
	res := h.do(viewer, "GET", "/api/v1/orgs/"+org+"/readings/latest", nil)
	if !strings.Contains(string(res.Body), `"last_reading_at":null`) {
		t.Fatalf("a unit without readings has null fields: %s", res.Body)
	}

	h.do(viewer, "GET", "/api/v1/orgs/"+org+"/readings/latest?site_id="+u2.SiteID, nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].UnitID != u2.UnitID {
		t.Fatalf("site filter: %+v", list)
	}
	h.do(viewer, "GET", "/api/v1/orgs/"+org+"/readings/latest?site_id="+ub.SiteID, nil).must(t, http.StatusNotFound)
	h.do(viewer, "GET", "/api/v1/orgs/"+org+"/readings/latest?limit=1", nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.NextCursor == "" {
		t.Fatalf("page 1: %+v", list)
	}
	h.do(viewer, "GET", "/api/v1/orgs/"+org+"/readings/latest?limit=1&cursor="+list.NextCursor, nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].UnitID != u2.UnitID || list.NextCursor != "" {
		t.Fatalf("page 2: %+v", list)
	}

	// polling: only units whose reading or settings changed
	h.exec(`UPDATE units SET updated_at = now() - interval '1 hour'`)
	h.exec(`UPDATE units SET last_reading_at = now() - interval '2 hours' WHERE id = $1`, u1.UnitID)
	h.exec(`UPDATE units SET last_reading_at = now(), last_temp_c = 2 WHERE id = $1`, u2.UnitID)
	since := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	h.do(viewer, "GET", "/api/v1/orgs/"+org+"/readings/latest?updated_since="+since, nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].UnitID != u2.UnitID {
		t.Fatalf("updated_since: %+v", list)
	}

	for _, q := range []string{"?site_id=x", "?updated_since=x", "?limit=500"} {
		h.do(viewer, "GET", "/api/v1/orgs/"+org+"/readings/latest"+q, nil).must(t, http.StatusBadRequest)
	}
}
