package api

import (
	"bytes"
	"net/http"
	"reflect"
	"regexp"
	"testing"

	"github.com/frostguard/functions/shared/domain"
)

func (e *ttnEnv) sensor(t *testing.T, devEUI string) string { return e.sensorIn(t, e.orgID, devEUI) }

func (e *ttnEnv) sensorIn(t *testing.T, orgID, devEUI string) string {
	t.Helper()
	var id string
	e.queryRow([]any{&id}, `INSERT INTO sensors (organization_id, dev_eui, name) VALUES ($1, $2, 'Probe')
		ON CONFLICT (organization_id, dev_eui) WHERE deleted_at IS NULL DO UPDATE SET name = 'Probe' RETURNING id`, orgID, devEUI)
	return id
}

type provisionAnswer struct {
	domain.SensorProvisioning
	JoinEUI         string `json:"join_eui"`
	FrequencyPlanID string `json:"frequency_plan_id"`
	AppKey          string `json:"app_key"`
}

var allSteps = []string{"identity_server", "join_server", "network_server", "application_server"}

func TestProvisionSensorHappyPath(t *testing.T) {
	e := newTTNEnv(t)
	e.connect(t)
	id := e.sensor(t, "70B3D57ED0000010")
	var p provisionAnswer
	e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK).JSON(t, &p)
	if p.Status != "provisioned" || !reflect.DeepEqual(p.Steps, allSteps) || p.TTNDeviceID == nil ||
		*p.TTNDeviceID != "eui-70b3d57ed0000010" || p.JoinEUI != "0000000000000000" || p.FrequencyPlanID != "EU_863_870_TTN" {
		t.Fatalf("answer %+v", p)
	}
	if !regexp.MustCompile(`^[0-9A-F]{32}$`).MatchString(p.AppKey) {
		t.Fatalf("generated app key %q", p.AppKey)
	}
	if got := dig(e.ttn.device("js", "eui-70b3d57ed0000010"), "root_keys.app_key.key"); got != p.AppKey {
		t.Errorf("JS holds %v, answer shows %s", got, p.AppKey)
	}
	for _, reg := range []string{"is", "js", "ns", "as"} {
		if e.ttn.device(reg, "eui-70b3d57ed0000010") == nil {
			t.Errorf("not registered in %s", reg)
		}
	}
	if calls := e.ttn.callLog(); !reflect.DeepEqual(calls, []string{"rights", "is", "js", "ns", "as"}) {
		t.Errorf("calls %v", calls)
	}
	// The key is shown once: the state does not carry it.
	res := e.do(e.admin, "GET", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK)
	if bytes.Contains(res.Body, []byte(p.AppKey)) {
		t.Errorf("the app key is readable again: %s", res.Body)
	}
	// Provisioning again is a conflict, not a silent re-registration.
	e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusConflict)

	t.Run("given keys", func(t *testing.T) {
		id := e.sensor(t, "70B3D57ED0000011")
		var p provisionAnswer
		e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), map[string]any{
			"join_eui": "70-B3-D5-7E-D0-00-00-00", "app_key": "00112233445566778899aabbccddeeff"}).must(t, http.StatusOK).JSON(t, &p)
		if p.AppKey != "" || p.JoinEUI != "70B3D57ED0000000" {
			t.Errorf("answer %+v", p)
		}
		js := e.ttn.device("js", "eui-70b3d57ed0000011")
		if dig(js, "root_keys.app_key.key") != "00112233445566778899AABBCCDDEEFF" || dig(js, "ids.join_eui") != "70B3D57ED0000000" {
			t.Errorf("js %v", js)
		}
	})
	t.Run("validation", func(t *testing.T) {
		id := e.sensor(t, "70B3D57ED0000012")
		for _, body := range []any{map[string]any{"app_key": "xyz"}, map[string]any{"join_eui": "12"}, `{"nope":1}`, `[`} {
			e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), body).must(t, http.StatusBadRequest)
		}
		e.do(e.admin, "POST", e.path("/sensors/00000000-0000-0000-0000-000000000000/provision"), nil).must(t, http.StatusNotFound)
	})
}

func TestProvisionSensorFailureAndRetry(t *testing.T) {
	e := newTTNEnv(t)
	e.connect(t)
	id := e.sensor(t, "70B3D57ED0000020")
	const dev = "eui-70b3d57ed0000020"
	for _, mode := range []int{http.StatusInternalServerError, failTimeout} {
		e.ttn.setFail("ns", mode)
		e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusBadGateway)
		var p domain.SensorProvisioning
		e.do(e.admin, "GET", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK).JSON(t, &p)
		if p.Status != "failed" || !reflect.DeepEqual(p.Steps, []string{"identity_server", "join_server"}) ||
			p.Error == nil || !regexp.MustCompile(`^network_server: `).MatchString(*p.Error) {
			t.Fatalf("mode %d: state %+v", mode, p)
		}
	}
	// The generated key of the failed runs was never shown: the retry
	// replaces it on the Join Server and shows the new one.
	e.ttn.setFail("ns", 0)
	before := len(e.ttn.callLog())
	var p provisionAnswer
	e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK).JSON(t, &p)
	if p.Status != "provisioned" || !reflect.DeepEqual(p.Steps, allSteps) || p.AppKey == "" {
		t.Fatalf("retry %+v", p)
	}
	if calls := e.ttn.callLog()[before:]; !reflect.DeepEqual(calls, []string{"js", "ns", "as"}) {
		t.Errorf("retry calls %v, want the Identity Server skipped", calls)
	}
	if dig(e.ttn.device("js", dev), "root_keys.app_key.key") != p.AppKey {
		t.Errorf("the Join Server does not hold the key shown")
	}

	t.Run("identity server conflict counts as done", func(t *testing.T) {
		id := e.sensor(t, "70B3D57ED0000021")
		e.ttn.setFail("js", http.StatusBadRequest)
		e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusBadRequest)
		e.ttn.setFail("js", 0)
		// Forget the record: TTN has the device, we do not know it.
		e.exec(`UPDATE sensors SET provisioning_steps = '[]' WHERE id = $1`, id)
		var p provisionAnswer
		e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK).JSON(t, &p)
		if !reflect.DeepEqual(p.Steps, allSteps) {
			t.Errorf("steps %v", p.Steps)
		}
	})
	t.Run("a user key survives a retry without one", func(t *testing.T) {
		id := e.sensor(t, "70B3D57ED0000022")
		e.ttn.setFail("as", http.StatusBadGateway)
		e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"),
			map[string]any{"app_key": "00112233445566778899AABBCCDDEEFF"}).must(t, http.StatusBadGateway)
		e.ttn.setFail("as", 0)
		before := len(e.ttn.callLog())
		var p provisionAnswer
		e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK).JSON(t, &p)
		if calls := e.ttn.callLog()[before:]; !reflect.DeepEqual(calls, []string{"as"}) || p.AppKey != "" {
			t.Errorf("calls %v, app key %q", calls, p.AppKey)
		}
		if dig(e.ttn.device("js", "eui-70b3d57ed0000022"), "root_keys.app_key.key") != "00112233445566778899AABBCCDDEEFF" {
			t.Errorf("the user's key was replaced")
		}
	})
}

func TestProvisionSensorDeprovision(t *testing.T) {
	e := newTTNEnv(t)
	e.connect(t)
	id := e.sensor(t, "70B3D57ED0000030")
	const dev = "eui-70b3d57ed0000030"
	e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK)

	// A failure half-way leaves the registries not yet removed on record.
	e.ttn.setFail("js-delete", http.StatusInternalServerError)
	e.do(e.admin, "DELETE", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusBadGateway)
	var p domain.SensorProvisioning
	e.do(e.admin, "GET", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK).JSON(t, &p)
	if p.Status != "failed" || !reflect.DeepEqual(p.Steps, []string{"identity_server", "join_server"}) {
		t.Fatalf("state %+v", p)
	}
	e.ttn.setFail("js-delete", 0)
	before := len(e.ttn.callLog())
	e.do(e.admin, "DELETE", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK).JSON(t, &p)
	if p.Status != "none" || len(p.Steps) != 0 {
		t.Fatalf("state %+v", p)
	}
	if calls := e.ttn.callLog()[before:]; !reflect.DeepEqual(calls, []string{"as-delete", "ns-delete", "js-delete", "is-delete"}) {
		t.Errorf("calls %v", calls)
	}
	for _, reg := range []string{"is", "js", "ns", "as"} {
		if e.ttn.device(reg, dev) != nil {
			t.Errorf("still in %s", reg)
		}
	}
	// Idempotent: removing again succeeds (TTN's 404s count as removed).
	e.do(e.admin, "DELETE", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK)
	// And the sensor can be provisioned again.
	e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK)
}

func TestProvisionSensorBusy(t *testing.T) {
	e := newTTNEnv(t)
	e.connect(t)
	id := e.sensor(t, "70B3D57ED0000040")
	e.exec(`UPDATE sensors SET provisioning_status = 'pending', provisioning_updated_at = now() WHERE id = $1`, id)
	e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusConflict)
	e.do(e.admin, "DELETE", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusConflict)
	// A run that died long ago does not block.
	e.exec(`UPDATE sensors SET provisioning_updated_at = now() - interval '10 minutes' WHERE id = $1`, id)
	e.do(e.admin, "POST", e.path("/sensors/"+id+"/provision"), nil).must(t, http.StatusOK)
}
