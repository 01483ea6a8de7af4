package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

// sensorWorld is two organisations (A with every role, B with an owner),
// each with a unit.
type sensorWorld struct {
	h                                        *harness
	owner, manager, staff, viewer, inspector *testUser
	ownerB                                   *testUser
	orgA, orgB                               string
	unitA, unitB                             unitFixture
}

func newSensorWorld(t *testing.T) *sensorWorld {
	h := newHarness(t)
	w := &sensorWorld{h: h, owner: h.user("owner"), manager: h.user("manager"), staff: h.user("staff"),
		viewer: h.user("viewer"), inspector: h.user("inspector"), ownerB: h.user("ownerB")}
	w.orgA = h.org("Org A", w.owner)
	w.orgB = h.org("Org B", w.ownerB)
	h.member(w.orgA, w.manager, access.Manager)
	h.member(w.orgA, w.staff, access.Staff)
	h.member(w.orgA, w.viewer, access.Viewer)
	h.member(w.orgA, w.inspector, access.Inspector)
	w.unitA = h.unit(w.orgA)
	w.unitB = h.unit(w.orgB)
	return w
}

func sensorsPath(org string, rest ...string) string {
	return "/api/v1/orgs/" + org + "/sensors" + strings.Join(rest, "")
}

// register registers a sensor as u in org and returns it (status must be 201).
func (w *sensorWorld) register(t *testing.T, u *testUser, org string, body map[string]any) domain.Sensor {
	t.Helper()
	var s domain.Sensor
	w.h.do(u, "POST", sensorsPath(org), body).must(t, http.StatusCreated).JSON(t, &s)
	return s
}

func TestSensorsCRUD(t *testing.T) {
	w := newSensorWorld(t)
	h := w.h
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	h.srv.Now = func() time.Time { return now }

	s := w.register(t, w.manager, w.orgA, map[string]any{
		"dev_eui": "70:b3:d5:7e:d0:05:a1:b2", "name": " Walk-in probe ", "model": "LHT65", "decoder": "dragino_lht65", "unit_id": w.unitA.UnitID,
	})
	if s.DevEUI != "70B3D57ED005A1B2" || *s.Name != "Walk-in probe" || *s.Model != "LHT65" || *s.Decoder != "dragino_lht65" ||
		s.UnitID == nil || *s.UnitID != w.unitA.UnitID || s.UnitName == nil || *s.UnitName != "Cooler" || s.Online || s.LastSeenAt != nil {
		t.Fatalf("registered sensor: %+v", s)
	}
	bare := w.register(t, w.owner, w.orgA, map[string]any{"dev_eui": "0011223344556677"})
	if bare.UnitID != nil || bare.Name != nil {
		t.Fatalf("bare sensor: %+v", bare)
	}

	// health: seen 10 minutes ago with the unit's 5-minute interval is online
	h.exec(`UPDATE sensors SET last_seen_at = $2, battery_percent = 87, battery_voltage = 3.012, rssi = -97, snr = 7.25 WHERE id = $1`,
		s.ID, now.Add(-10*time.Minute))
	h.exec(`UPDATE sensors SET last_seen_at = $2 WHERE id = $1`, bare.ID, now.Add(-20*time.Minute))
	var got domain.Sensor
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "/", s.ID), nil).must(t, http.StatusOK).JSON(t, &got)
	if !got.Online || *got.BatteryPercent != 87 || *got.BatteryVoltage != 3.012 || *got.RSSI != -97 || *got.SNR != 7.25 ||
		!got.LastSeenAt.Equal(now.Add(-10*time.Minute)) || got.LastSeenAt.Location() != time.UTC {
		t.Fatalf("health: %+v", got)
	}

	var list List[domain.Sensor]
	h.do(w.viewer, "GET", sensorsPath(w.orgA), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 2 || list.Items[0].ID != s.ID || list.Items[1].ID != bare.ID || list.Items[1].Online || list.NextCursor != "" {
		t.Fatalf("list: %+v", list)
	}
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "?unit_id=", w.unitA.UnitID), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != s.ID {
		t.Fatalf("unit filter: %+v", list)
	}
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "?limit=1"), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.NextCursor == "" {
		t.Fatalf("page 1: %+v", list)
	}
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "?limit=1&cursor=", list.NextCursor), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != bare.ID || list.NextCursor != "" {
		t.Fatalf("page 2: %+v", list)
	}

	// PATCH: rename, clear the model, unassign, then assign again
	h.exec(`UPDATE sensors SET updated_at = now() - interval '1 hour'`)
	mark := time.Now().UTC().Add(-time.Minute)
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", s.ID), map[string]any{"name": "Door probe", "model": nil, "unit_id": nil}).
		must(t, http.StatusOK).JSON(t, &got)
	if *got.Name != "Door probe" || got.Model != nil || *got.Decoder != "dragino_lht65" || got.UnitID != nil || !got.UpdatedAt.After(mark) {
		t.Fatalf("patched: %+v", got)
	}
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "?updated_since=", mark.Format(time.RFC3339Nano)), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != s.ID {
		t.Fatalf("updated_since: %+v", list)
	}
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", s.ID), map[string]any{"unit_id": strings.ToUpper(w.unitA.UnitID)}).
		must(t, http.StatusOK).JSON(t, &got)
	if got.UnitID == nil || *got.UnitID != w.unitA.UnitID || *got.Name != "Door probe" {
		t.Fatalf("reassigned: %+v", got)
	}

	// DELETE: soft, keeps the unit for history, frees the DevEUI
	h.do(w.manager, "DELETE", sensorsPath(w.orgA, "/", s.ID), nil).must(t, http.StatusNoContent)
	h.do(w.manager, "DELETE", sensorsPath(w.orgA, "/", s.ID), nil).must(t, http.StatusNotFound)
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "/", s.ID), nil).must(t, http.StatusNotFound)
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", s.ID), map[string]any{"name": "x"}).must(t, http.StatusNotFound)
	var unitKept bool
	h.queryRow([]any{&unitKept}, `SELECT deleted_at IS NOT NULL AND unit_id = $2 FROM sensors WHERE id = $1`, s.ID, w.unitA.UnitID)
	if !unitKept {
		t.Fatal("the deleted sensor lost its unit or was not soft-deleted")
	}
	h.do(w.viewer, "GET", sensorsPath(w.orgA), nil).must(t, http.StatusOK).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != bare.ID {
		t.Fatalf("list after delete: %+v", list)
	}
	again := w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "70B3D57ED005A1B2"})
	if again.ID == s.ID {
		t.Fatal("re-registration reused the deleted row")
	}
}

func TestSensorsValidation(t *testing.T) {
	w := newSensorWorld(t)
	h := w.h
	s := w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "0011223344556677"})
	post := []struct {
		name  string
		body  any
		field string
	}{
		{"missing dev_eui", map[string]any{"name": "x"}, "dev_eui"},
		{"short dev_eui", map[string]any{"dev_eui": "0011223344"}, "dev_eui"},
		{"long dev_eui", map[string]any{"dev_eui": "001122334455667788"}, "dev_eui"},
		{"non-hex dev_eui", map[string]any{"dev_eui": "00112233445566ZZ"}, "dev_eui"},
		{"underscores", map[string]any{"dev_eui": "00_11_22_33_44_55_66_77"}, "dev_eui"},
		{"long name", map[string]any{"dev_eui": "0011223344556688", "name": strings.Repeat("n", 101)}, "name"},
		{"bad decoder", map[string]any{"dev_eui": "0011223344556688", "decoder": "Not A Decoder"}, "decoder"},
		{"unit not a uuid", map[string]any{"dev_eui": "0011223344556688", "unit_id": "cooler-1"}, "unit_id"},
		{"unknown unit", map[string]any{"dev_eui": "0011223344556688", "unit_id": "00000000-0000-0000-0000-000000000000"}, "unit_id"},
		{"other org's unit", map[string]any{"dev_eui": "0011223344556688", "unit_id": w.unitB.UnitID}, "unit_id"},
	}
	for _, tt := range post {
		t.Run("POST "+tt.name, func(t *testing.T) {
			res := h.do(w.manager, "POST", sensorsPath(w.orgA), tt.body).must(t, http.StatusBadRequest)
			if !strings.Contains(string(res.Body), `"field":"`+tt.field+`"`) {
				t.Fatalf("want a field error on %s: %s", tt.field, res.Body)
			}
		})
	}
	h.do(w.manager, "POST", sensorsPath(w.orgA), `{"dev_eui":"0011223344556688","colour":"red"}`).must(t, http.StatusBadRequest)
	h.do(w.manager, "POST", sensorsPath(w.orgA), `not json`).must(t, http.StatusBadRequest)

	patch := []struct {
		name  string
		body  any
		field string
	}{
		{"unit not a uuid", map[string]any{"unit_id": 7}, "unit_id"},
		{"unknown unit", map[string]any{"unit_id": "00000000-0000-0000-0000-000000000000"}, "unit_id"},
		{"other org's unit", map[string]any{"unit_id": w.unitB.UnitID}, "unit_id"},
		{"name not a string", map[string]any{"name": 12}, "name"},
		{"bad decoder", map[string]any{"decoder": "../etc"}, "decoder"},
	}
	for _, tt := range patch {
		t.Run("PATCH "+tt.name, func(t *testing.T) {
			res := h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", s.ID), tt.body).must(t, http.StatusBadRequest)
			if !strings.Contains(string(res.Body), `"field":"`+tt.field+`"`) {
				t.Fatalf("want a field error on %s: %s", tt.field, res.Body)
			}
		})
	}
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", s.ID), `{"dev_eui":"0011223344556699"}`).must(t, http.StatusBadRequest)
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "?unit_id=nope"), nil).must(t, http.StatusBadRequest)
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "?updated_since=yesterday"), nil).must(t, http.StatusBadRequest)
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "?limit=201"), nil).must(t, http.StatusBadRequest)
}

func TestSensorsUnclaimed(t *testing.T) {
	w := newSensorWorld(t)
	h := w.h
	conn := func(org, app string) string {
		var id string
		h.queryRow([]any{&id}, `INSERT INTO network_connections (organization_id, application_id, secret_hash, secret_last4)
			VALUES ($1, $2::text, sha256(convert_to($2::text, 'UTF8')), 'abcd') RETURNING id`, org, app)
		return id
	}
	ca, cb := conn(w.orgA, "app-a"), conn(w.orgB, "app-b")
	base := time.Now().UTC().Truncate(time.Second)
	for i, d := range []struct {
		conn, org, eui string
		ago            time.Duration
	}{
		{ca, w.orgA, "A000000000000001", 3 * time.Hour},
		{ca, w.orgA, "A000000000000002", time.Hour},
		{ca, w.orgA, "A000000000000003", 2 * time.Hour},
		{cb, w.orgB, "B000000000000001", time.Minute},
	} {
		h.exec(`INSERT INTO unclaimed_devices (organization_id, connection_id, dev_eui, device_name, first_seen_at, last_seen_at, uplink_count)
			VALUES ($1, $2, $3, $4, $5, $5, $6)`, d.org, d.conn, d.eui, fmt.Sprintf("dev-%d", i), base.Add(-d.ago), i+1)
	}
	var list List[domain.UnclaimedDevice]
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "/unclaimed"), nil).must(t, http.StatusOK).JSON(t, &list)
	euis := func() string {
		var out []string
		for _, d := range list.Items {
			out = append(out, d.DevEUI)
		}
		return strings.Join(out, ",")
	}
	if euis() != "A000000000000002,A000000000000003,A000000000000001" || list.Items[0].TTNConnectionID != ca ||
		*list.Items[0].TTNDeviceID != "dev-1" || list.Items[0].UplinkCount != 2 || !list.Items[0].LastSeenAt.Equal(base.Add(-time.Hour)) {
		t.Fatalf("unclaimed: %+v", list)
	}
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "/unclaimed?limit=2"), nil).must(t, http.StatusOK).JSON(t, &list)
	if euis() != "A000000000000002,A000000000000003" || list.NextCursor == "" {
		t.Fatalf("page 1: %+v", list)
	}
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "/unclaimed?limit=2&cursor="+list.NextCursor), nil).must(t, http.StatusOK).JSON(t, &list)
	if euis() != "A000000000000001" || list.NextCursor != "" {
		t.Fatalf("page 2: %+v", list)
	}

	// claiming removes the device from this organisation's list only
	w.register(t, w.manager, w.orgA, map[string]any{"dev_eui": "a0-00-00-00-00-00-00-02"})
	h.do(w.viewer, "GET", sensorsPath(w.orgA, "/unclaimed"), nil).must(t, http.StatusOK).JSON(t, &list)
	if euis() != "A000000000000003,A000000000000001" {
		t.Fatalf("after claiming: %s", euis())
	}
	h.do(w.ownerB, "GET", sensorsPath(w.orgB, "/unclaimed"), nil).must(t, http.StatusOK).JSON(t, &list)
	if euis() != "B000000000000001" {
		t.Fatalf("org B: %s", euis())
	}
}

func TestSensorsCrossTenantAndRoles(t *testing.T) {
	w := newSensorWorld(t)
	h := w.h
	sa := w.register(t, w.owner, w.orgA, map[string]any{"dev_eui": "A000000000000001", "unit_id": w.unitA.UnitID})
	sb := w.register(t, w.ownerB, w.orgB, map[string]any{"dev_eui": "B000000000000001", "unit_id": w.unitB.UnitID})

	// org B's owner on org A's routes, and org A's owner on org B's sensor
	for _, tc := range []struct {
		u            *testUser
		method, path string
		body         any
	}{
		{w.ownerB, "GET", sensorsPath(w.orgA), nil},
		{w.ownerB, "POST", sensorsPath(w.orgA), map[string]any{"dev_eui": "C000000000000001"}},
		{w.ownerB, "GET", sensorsPath(w.orgA, "/unclaimed"), nil},
		{w.ownerB, "GET", sensorsPath(w.orgA, "/", sa.ID), nil},
		{w.ownerB, "PATCH", sensorsPath(w.orgA, "/", sa.ID), map[string]any{"name": "x"}},
		{w.ownerB, "DELETE", sensorsPath(w.orgA, "/", sa.ID), nil},
		{w.owner, "GET", sensorsPath(w.orgA, "/", sb.ID), nil},
		{w.owner, "PATCH", sensorsPath(w.orgA, "/", sb.ID), map[string]any{"name": "x"}},
		{w.owner, "PATCH", sensorsPath(w.orgA, "/", sb.ID), map[string]any{"unit_id": w.unitA.UnitID}},
		{w.owner, "DELETE", sensorsPath(w.orgA, "/", sb.ID), nil},
		{w.owner, "GET", sensorsPath(w.orgA, "/not-a-uuid"), nil},
	} {
		h.do(tc.u, tc.method, tc.path, tc.body).must(t, http.StatusNotFound)
	}
	h.do(w.owner, "GET", sensorsPath(w.orgA, "?unit_id=", w.unitB.UnitID), nil).must(t, http.StatusNotFound)
	var name *string
	h.queryRow([]any{&name}, `SELECT name FROM sensors WHERE id = $1 AND deleted_at IS NULL`, sb.ID)
	if name != nil {
		t.Fatal("org B's sensor was changed")
	}

	// reads are for every member; writes for managers and above
	for _, u := range []*testUser{w.viewer, w.staff, w.inspector} {
		h.do(u, "GET", sensorsPath(w.orgA), nil).must(t, http.StatusOK)
		h.do(u, "GET", sensorsPath(w.orgA, "/", sa.ID), nil).must(t, http.StatusOK)
		h.do(u, "GET", sensorsPath(w.orgA, "/unclaimed"), nil).must(t, http.StatusOK)
		for _, res := range []response{
			h.do(u, "POST", sensorsPath(w.orgA), map[string]any{"dev_eui": "C000000000000001"}),
			h.do(u, "PATCH", sensorsPath(w.orgA, "/", sa.ID), map[string]any{"name": "x"}),
			h.do(u, "DELETE", sensorsPath(w.orgA, "/", sa.ID), nil),
		} {
			if res.Status != http.StatusForbidden || res.ErrorCode() != "FORBIDDEN" {
				t.Fatalf("write as a read-only role: %d %s", res.Status, res.Body)
			}
		}
	}
	h.do(w.manager, "PATCH", sensorsPath(w.orgA, "/", sa.ID), map[string]any{"name": "ok"}).must(t, http.StatusOK)
	h.do(nil, "GET", sensorsPath(w.orgA), nil).must(t, http.StatusUnauthorized)
}
