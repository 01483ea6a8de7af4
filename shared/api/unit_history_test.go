package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

func TestDoorEventsCarryTheirDurations(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	org, orgB := h.org("Alpha", owner), h.org("Beta", other)
	u := h.unit(org)
	door := h.sensorIn(org, u.UnitID, "A840410000000D01")
	t0 := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	for _, e := range []struct {
		state string
		at    time.Duration
	}{{"open", 0}, {"closed", 90 * time.Second}, {"open", 10 * time.Minute}, {"closed", 25 * time.Minute}, {"open", 40 * time.Minute}} {
		h.exec(`INSERT INTO door_events (organization_id, unit_id, sensor_id, state, changed_at) VALUES ($1, $2, $3, $4, $5)`,
			org, u.UnitID, door, e.state, t0.Add(e.at))
	}
	path := "/api/v1/orgs/" + org + "/units/" + u.UnitID + "/door-events"
	var page List[domain.DoorEvent]
	h.do(owner, http.MethodGet, path+"?limit=2", nil).must(t, 200).JSON(t, &page)
	if len(page.Items) != 2 || page.NextCursor == "" {
		t.Fatalf("first page = %+v", page)
	}
	latest, prev := page.Items[0], page.Items[1]
	if latest.State != "open" || latest.EndedAt != nil || latest.DurationSeconds != nil || !latest.At.Equal(t0.Add(40*time.Minute)) {
		t.Errorf("the door still open: %+v", latest)
	}
	if prev.State != "closed" || prev.DurationSeconds == nil || *prev.DurationSeconds != 15*60 {
		t.Errorf("closed for 15 minutes: %+v", prev)
	}
	var rest List[domain.DoorEvent]
	h.do(owner, http.MethodGet, path+"?limit=2&cursor="+page.NextCursor, nil).must(t, 200).JSON(t, &rest)
	if len(rest.Items) != 2 || rest.Items[0].State != "open" || *rest.Items[0].DurationSeconds != 15*60 {
		t.Errorf("second page = %+v", rest.Items)
	}
	// A range ending between an opening and its closing still tells how
	// long the door stayed open.
	var ranged List[domain.DoorEvent]
	h.do(owner, http.MethodGet, path+"?from="+t0.Format(time.RFC3339)+"&to="+t0.Add(time.Minute).Format(time.RFC3339), nil).
		must(t, 200).JSON(t, &ranged)
	if len(ranged.Items) != 1 || *ranged.Items[0].DurationSeconds != 90 {
		t.Errorf("ranged = %+v", ranged.Items)
	}
	h.do(owner, http.MethodGet, path+"?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", nil).must(t, 400)
	h.do(other, http.MethodGet, "/api/v1/orgs/"+orgB+"/units/"+u.UnitID+"/door-events", nil).must(t, 404)
}

func TestUnitAnnotations(t *testing.T) {
	h := newHarness(t)
	owner := h.user("owner")
	org := h.org("Alpha", owner)
	staff, colleague, manager, viewer := h.user("staff"), h.user("colleague"), h.user("manager"), h.user("viewer")
	h.member(org, staff, access.Staff)
	h.member(org, colleague, access.Staff)
	h.member(org, manager, access.Manager)
	h.member(org, viewer, access.Viewer)
	u := h.unit(org)
	path := "/api/v1/orgs/" + org + "/units/" + u.UnitID + "/annotations"
	at := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)

	var note domain.Annotation
	h.do(staff, http.MethodPost, path, map[string]any{"at": at, "body": "  Defrosted by hand  "}).must(t, 201).JSON(t, &note)
	if note.Body != "Defrosted by hand" || !note.At.Equal(at) || note.AuthorID == nil || *note.AuthorID != staff.ID ||
		note.AuthorName == nil || *note.AuthorName != "staff" {
		t.Errorf("note = %+v", note)
	}
	var now domain.Annotation
	h.do(staff, http.MethodPost, path, map[string]any{"body": "Delivery"}).must(t, 201).JSON(t, &now)
	if time.Since(now.At) > time.Minute {
		t.Errorf("at defaults to now: %v", now.At)
	}
	for _, body := range []any{map[string]any{"body": "   "}, map[string]any{"at": at}, map[string]any{"body": strings.Repeat("x", 2001)},
		map[string]any{"body": "x", "at": time.Now().Add(48 * time.Hour)}, map[string]any{"body": "x", "extra": 1}} {
		h.do(staff, http.MethodPost, path, body).must(t, 400)
	}
	h.do(viewer, http.MethodPost, path, map[string]any{"body": "x"}).must(t, 403)

	one := path + "/" + note.ID
	// the author edits; a colleague may not; a manager may
	h.do(staff, http.MethodPatch, one, map[string]any{"body": "Defrosted by hand after delivery"}).must(t, 200)
	h.do(colleague, http.MethodPatch, one, map[string]any{"body": "mine now"}).must(t, 403)
	h.do(colleague, http.MethodDelete, one, nil).must(t, 403)
	var edited domain.Annotation
	h.do(manager, http.MethodPatch, one, map[string]any{"at": at.Add(time.Minute)}).must(t, 200).JSON(t, &edited)
	if edited.Body != "Defrosted by hand after delivery" || !edited.At.Equal(at.Add(time.Minute)) || *edited.AuthorID != staff.ID {
		t.Errorf("edited = %+v", edited)
	}
	var list List[domain.Annotation]
	h.do(viewer, http.MethodGet, path, nil).must(t, 200).JSON(t, &list)
	if len(list.Items) != 2 || list.Items[0].ID != now.ID {
		t.Errorf("list, newest moment first = %+v", list.Items)
	}
	h.do(manager, http.MethodDelete, one, nil).must(t, 204)
	h.do(staff, http.MethodDelete, one, nil).must(t, 404)
	// another unit's path does not reach the note
	u2 := h.unit(org)
	h.do(staff, http.MethodDelete, "/api/v1/orgs/"+org+"/units/"+u2.UnitID+"/annotations/"+now.ID, nil).must(t, 404)
	h.do(staff, http.MethodDelete, path+"/"+now.ID, nil).must(t, 204)
}

func TestLatestUnitReadingAndSensorReadings(t *testing.T) {
	h := newHarness(t)
	owner, other := h.user("owner"), h.user("other")
	org, orgB := h.org("Alpha", owner), h.org("Beta", other)
	u, u2 := h.unit(org), h.unit(org)
	s := h.sensorIn(org, u.UnitID, "A840410000000E01")
	base := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	var latest map[string]any
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/units/"+u.UnitID+"/readings/latest", nil).must(t, 200).JSON(t, &latest)
	if latest["reading"] != nil || latest["unit_id"] != u.UnitID {
		t.Errorf("no reading yet: %v", latest)
	}
	h.exec(`INSERT INTO sensor_readings (organization_id, unit_id, sensor_id, recorded_at, temperature_c, humidity, battery_percent,
			battery_voltage, rssi, snr, source)
		VALUES ($1, $2, $3, $4, 3.5, 41, 87, 3.05, -97, 7.5, 'ttn'), ($1, $2, $3, $5, 3.7, 42, 86, 3.04, -99, 6.5, 'ttn'),
			($1, $6, $3, $7, 2.0, NULL, NULL, NULL, NULL, NULL, 'ttn')`,
		org, u.UnitID, s, base, base.Add(10*time.Minute), u2.UnitID, base.Add(20*time.Minute))
	var got latestUnitReading
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/units/"+u.UnitID+"/readings/latest", nil).must(t, 200).JSON(t, &got)
	r := got.Reading
	if r == nil || !r.RecordedAt.Equal(base.Add(10*time.Minute)) || *r.TemperatureC != 3.7 || *r.Humidity != 42 ||
		*r.BatteryPercent != 86 || *r.BatteryVolts != 3.04 || *r.RSSI != -99 || *r.SNR != 6.5 || r.SensorID == nil || *r.SensorID != s {
		t.Errorf("latest = %+v", r)
	}

	// The sensor's own readings span the units it was in.
	var sr sensorReadingsResponse
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/sensors/"+s+"/readings?from="+base.Add(-time.Minute).Format(time.RFC3339), nil).
		must(t, 200).JSON(t, &sr)
	if len(sr.Items) != 3 || *sr.Items[2].TemperatureC != 2.0 {
		t.Errorf("sensor readings = %+v", sr.Items)
	}
	var paged sensorReadingsResponse
	h.do(owner, http.MethodGet, "/api/v1/orgs/"+org+"/sensors/"+s+"/readings?limit=2&from="+base.Add(-time.Minute).Format(time.RFC3339), nil).
		must(t, 200).JSON(t, &paged)
	if len(paged.Items) != 2 || paged.NextCursor == "" {
		t.Errorf("paged = %+v", paged)
	}
	h.do(other, http.MethodGet, "/api/v1/orgs/"+orgB+"/sensors/"+s+"/readings", nil).must(t, 404)
	h.do(other, http.MethodGet, "/api/v1/orgs/"+orgB+"/units/"+u.UnitID+"/readings/latest", nil).must(t, 404)
}
