package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTTN plays The Things Stack's HTTP API (/api/v3) for one application:
// it checks the Authorization header, paths, methods, field masks and
// bodies the way the real API documents them, keeps the registries' state,
// and can be told to fail one operation.
type fakeTTN struct {
	t      *testing.T
	srv    *httptest.Server
	apiKey string
	appID  string
	rights []string

	mu sync.Mutex
	// fail maps an operation ("rights", "webhook", "is", "js", "ns", "as",
	// "is-delete", ...) to the HTTP status to answer, or failTimeout.
	fail     map[string]int
	calls    []string
	webhooks map[string]map[string]any // webhook id -> webhook
	devices  map[string]map[string]map[string]any
	gw       *fakeGateways // gateway registry and Gateway Server (ttn_fake_gateways_test.go)
}

// failTimeout makes an operation hang past the client's timeout.
const failTimeout = -1

func newFakeTTN(t *testing.T) *fakeTTN {
	f := &fakeTTN{t: t, apiKey: "NNSXS.TESTKEY.SECRETPART0001", appID: "fg-app",
		rights: []string{"RIGHT_APPLICATION_INFO", "RIGHT_APPLICATION_TRAFFIC_READ", "RIGHT_APPLICATION_SETTINGS_BASIC",
			"RIGHT_APPLICATION_DEVICES_READ", "RIGHT_APPLICATION_DEVICES_WRITE", "RIGHT_APPLICATION_DEVICES_WRITE_KEYS"},
		fail: map[string]int{}, webhooks: map[string]map[string]any{},
		devices: map[string]map[string]map[string]any{"is": {}, "js": {}, "ns": {}, "as": {}}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTTN) setFail(op string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status == 0 {
		delete(f.fail, op)
		return
	}
	f.fail[op] = status
}

func (f *fakeTTN) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeTTN) device(registry, id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.devices[registry][id]
}

func (f *fakeTTN) webhook(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.webhooks[id]
}

var (
	reRights    = regexp.MustCompile(`^/api/v3/applications/([^/]+)/rights$`)
	reWebhook   = regexp.MustCompile(`^/api/v3/as/webhooks/([^/]+)/([^/]+)$`)
	reISCreate  = regexp.MustCompile(`^/api/v3/applications/([^/]+)/devices$`)
	reISDevice  = regexp.MustCompile(`^/api/v3/applications/([^/]+)/devices/([^/]+)$`)
	reSrvDevice = regexp.MustCompile(`^/api/v3/(js|ns|as)/applications/([^/]+)/devices/([^/]+)$`)
	reGSStats   = regexp.MustCompile(`^/api/v3/gs/gateways/([^/]+)/connection/stats$`)
)

func ttnFail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": 5, "message": msg})
}

func (f *fakeTTN) serve(w http.ResponseWriter, r *http.Request) {
	if !f.authorized(r) {
		ttnFail(w, http.StatusUnauthorized, "error:pkg/auth:token_invalid (invalid token)")
		return
	}
	var body map[string]any
	if r.Body != nil && r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			ttnFail(w, http.StatusBadRequest, "invalid JSON")
			return
		}
	}
	op, app, id := f.route(r)
	if op == "" {
		f.t.Errorf("fake TTN: unexpected %s %s", r.Method, r.URL.Path)
		ttnFail(w, http.StatusNotFound, "no route")
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, op)
	status := f.fail[op]
	f.mu.Unlock()
	switch {
	case status == failTimeout:
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	case status != 0:
		ttnFail(w, status, "error:pkg/fake:"+op+" (told to fail)")
		return
	case app != f.appID:
		ttnFail(w, http.StatusNotFound, "error:pkg/identityserver:application_not_found")
		return
	}
	f.handle(w, r, op, id, body)
}

// route names the operation of a request: its registry and, for device
// deletes, a "-delete" suffix.
func (f *fakeTTN) route(r *http.Request) (op, app, id string) {
	p := r.URL.Path
	if m := reRights.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		return "rights", m[1], ""
	}
	if m := reWebhook.FindStringSubmatch(p); m != nil {
		switch r.Method {
		case http.MethodPut:
			return "webhook", m[1], m[2]
		case http.MethodDelete:
			return "webhook-delete", m[1], m[2]
		}
	}
	if m := reISCreate.FindStringSubmatch(p); m != nil && r.Method == http.MethodPost {
		return "is", m[1], ""
	}
	if m := reISDevice.FindStringSubmatch(p); m != nil && r.Method == http.MethodDelete {
		return "is-delete", m[1], m[2]
	}
	if m := reSrvDevice.FindStringSubmatch(p); m != nil {
		switch r.Method {
		case http.MethodPut:
			return m[1], m[2], m[3]
		case http.MethodDelete:
			return m[1] + "-delete", m[2], m[3]
		}
	}
	if m := reGSStats.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		return "gs", f.appID, m[1]
	}
	if op, id := f.gatewayRoute(r); op != "" {
		return op, f.appID, id
	}
	return "", "", ""
}

// maskOf is the sorted field_mask.paths of a body.
func maskOf(body map[string]any) []string {
	fm, _ := body["field_mask"].(map[string]any)
	raw, _ := fm["paths"].([]any)
	out := make([]string, 0, len(raw))
	for _, p := range raw {
		s, _ := p.(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// dig reads a dotted path of a JSON object.
func dig(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

var deviceMasks = map[string][]string{
	"js": {"application_server_address", "ids.dev_eui", "ids.device_id", "ids.join_eui", "network_server_address", "root_keys.app_key.key"},
	"ns": {"frequency_plan_id", "ids.dev_eui", "ids.device_id", "ids.join_eui", "lorawan_phy_version", "lorawan_version", "supports_join"},
	"as": {"ids.dev_eui", "ids.device_id", "ids.join_eui"},
}

func (f *fakeTTN) handle(w http.ResponseWriter, r *http.Request, op, id string, body map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := func() { w.Header().Set("Content-Type", "application/json"); _, _ = w.Write([]byte(`{}`)) }
	switch op {
	case "rights":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"rights": f.rights})
	case "webhook":
		want := []string{"base_url", "format", "headers", "join_accept", "uplink_message"}
		if got := maskOf(body); !reflect.DeepEqual(got, want) {
			f.t.Errorf("webhook field_mask %v, want %v", got, want)
		}
		wh, _ := body["webhook"].(map[string]any)
		if dig(wh, "ids.webhook_id") != id || dig(wh, "ids.application_ids.application_id") != f.appID ||
			wh["format"] != "json" || wh["uplink_message"] == nil || wh["join_accept"] == nil {
			f.t.Errorf("webhook body %v", body)
		}
		f.webhooks[id] = wh
		ok()
	case "webhook-delete":
		delete(f.webhooks, id)
		ok()
	case "is":
		ed, _ := body["end_device"].(map[string]any)
		devID, _ := dig(ed, "ids.device_id").(string)
		if devID == "" || dig(ed, "ids.dev_eui") == nil || dig(ed, "ids.join_eui") == nil || ed["join_server_address"] == nil {
			f.t.Errorf("IS create body %v", body)
		}
		if _, exists := f.devices["is"][devID]; exists {
			ttnFail(w, http.StatusConflict, "error:pkg/identityserver/store:id_taken (ID `"+devID+"` already taken)")
			return
		}
		f.devices["is"][devID] = ed
		ok()
	case "js", "ns", "as":
		if got := maskOf(body); !reflect.DeepEqual(got, deviceMasks[op]) {
			f.t.Errorf("%s field_mask %v, want %v", op, got, deviceMasks[op])
		}
		ed, _ := body["end_device"].(map[string]any)
		if dig(ed, "ids.device_id") != id {
			f.t.Errorf("%s body device id %v, path %s", op, dig(ed, "ids.device_id"), id)
		}
		if _, inIS := f.devices["is"][id]; !inIS {
			f.t.Errorf("%s set before the Identity Server create", op)
		}
		switch op {
		case "js":
			if k, _ := dig(ed, "root_keys.app_key.key").(string); !regexp.MustCompile(`^[0-9A-F]{32}$`).MatchString(k) {
				f.t.Errorf("js app key %q", k)
			}
		case "ns":
			if ed["supports_join"] != true || ed["frequency_plan_id"] == nil || ed["lorawan_version"] == nil {
				f.t.Errorf("ns body %v", body)
			}
		}
		f.devices[op][id] = ed
		ok()
	case "is-delete", "js-delete", "ns-delete", "as-delete":
		reg := strings.TrimSuffix(op, "-delete")
		if _, exists := f.devices[reg][id]; !exists {
			ttnFail(w, http.StatusNotFound, "error:pkg/fake:device_not_found")
			return
		}
		delete(f.devices[reg], id)
		ok()
	default:
		f.handleGateway(w, r, op, id, body)
	}
}
