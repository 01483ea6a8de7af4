package ttnapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/apperr"
)

var testGateway = Gateway{GatewayID: "acme-gw-1", EUI: "B827EBFFFE000001", Name: "Kitchen",
	FrequencyPlanID: "EU_863_870_TTN", ServerAddress: "eu1.cloud.thethings.network"}

// asJSON is a request body as TTN receives it.
func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGatewayRegisterRequestShape(t *testing.T) {
	for _, tc := range []struct {
		owner      Owner
		path       string
		collabPath string
	}{
		{Owner{OwnerUser, "alice"}, "/users/alice/gateways", "user_ids"},
		{Owner{OwnerOrganization, "acme-org"}, "/organizations/acme-org/gateways", "organization_ids"},
	} {
		r := RegisterGatewayRequest(tc.owner, testGateway)
		if r.Method != http.MethodPost || !r.Identity || r.Path != tc.path {
			t.Errorf("%s: %s %s (identity %v)", tc.owner.Kind, r.Method, r.Path, r.Identity)
		}
		b := asJSON(t, r.Body)
		gw, _ := b["gateway"].(map[string]any)
		ids, _ := gw["ids"].(map[string]any)
		if ids["gateway_id"] != "acme-gw-1" || ids["eui"] != "B827EBFFFE000001" || gw["name"] != "Kitchen" ||
			gw["frequency_plan_id"] != "EU_863_870_TTN" || gw["gateway_server_address"] != "eu1.cloud.thethings.network" ||
			gw["enforce_duty_cycle"] != true {
			t.Errorf("%s: gateway %v", tc.owner.Kind, gw)
		}
		if plans, _ := gw["frequency_plan_ids"].([]any); len(plans) != 1 || plans[0] != "EU_863_870_TTN" {
			t.Errorf("frequency_plan_ids %v", gw["frequency_plan_ids"])
		}
		if _, public := gw["status_public"]; public {
			t.Error("status_public must stay false")
		}
		collab, _ := b["collaborator"].(map[string]any)
		if inner, _ := collab[tc.collabPath].(map[string]any); len(collab) != 1 || inner == nil ||
			(inner["user_id"] != tc.owner.ID && inner["organization_id"] != tc.owner.ID) {
			t.Errorf("%s: collaborator %v", tc.owner.Kind, collab)
		}
	}
	noName := testGateway
	noName.Name = ""
	if gw := asJSON(t, RegisterGatewayRequest(Owner{OwnerUser, "alice"}, noName).Body)["gateway"].(map[string]any); gw["name"] != nil {
		t.Errorf("an empty name is sent: %v", gw)
	}
}

func TestGatewayGetDeleteRightsRequestShape(t *testing.T) {
	g := GetGatewayRequest("acme-gw-1")
	u, err := url.Parse(g.Path)
	if err != nil || g.Method != http.MethodGet || !g.Identity || u.Path != "/gateways/acme-gw-1" || g.Body != nil {
		t.Fatalf("get: %+v %v", g, err)
	}
	if fm := u.Query().Get("field_mask"); fm != "frequency_plan_ids,gateway_server_address,name" {
		t.Errorf("field_mask %q", fm)
	}
	if d := DeleteGatewayRequest("acme-gw-1"); d.Method != http.MethodDelete || !d.Identity || d.Path != "/gateways/acme-gw-1" || d.Body != nil {
		t.Errorf("delete: %+v", d)
	}
	if r := OwnerRightsRequest(Owner{OwnerOrganization, "acme-org"}); r.Method != http.MethodGet || r.Path != "/organizations/acme-org/rights" {
		t.Errorf("rights: %+v", r)
	}
	if r := OwnerRightsRequest(Owner{OwnerUser, "alice"}); r.Path != "/users/alice/rights" {
		t.Errorf("rights: %+v", r)
	}
	// Path segments are escaped even though valid ids never need it.
	if d := DeleteGatewayRequest("a/b"); d.Path != "/gateways/a%2Fb" {
		t.Errorf("unescaped id: %s", d.Path)
	}
}

func TestGatewayMissingRights(t *testing.T) {
	org := GatewayRightsFor(OwnerOrganization)
	if org[0] != "RIGHT_ORGANIZATION_GATEWAYS_CREATE" || GatewayRightsFor(OwnerUser)[0] != "RIGHT_USER_GATEWAYS_CREATE" {
		t.Fatalf("create rights %v", org)
	}
	for _, tc := range []struct {
		have []string
		kind string
		want []string
	}{
		{org, OwnerOrganization, nil},
		{[]string{"RIGHT_ALL"}, OwnerUser, nil},
		{[]string{"RIGHT_ORGANIZATION_ALL"}, OwnerOrganization, nil},
		{[]string{"RIGHT_USER_ALL"}, OwnerOrganization, org},
		{[]string{"RIGHT_ORGANIZATION_GATEWAYS_CREATE", "RIGHT_GATEWAY_ALL"}, OwnerOrganization, nil},
		{[]string{"RIGHT_GATEWAY_ALL"}, OwnerUser, []string{"RIGHT_USER_GATEWAYS_CREATE"}},
		{[]string{"RIGHT_USER_GATEWAYS_CREATE", "RIGHT_GATEWAY_INFO"}, OwnerUser,
			[]string{"RIGHT_GATEWAY_DELETE", "RIGHT_GATEWAY_STATUS_READ"}},
	} {
		if got := MissingGatewayRights(tc.have, tc.kind); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v (%s): missing %v, want %v", tc.have, tc.kind, got, tc.want)
		}
	}
}

// gatewayServer is a minimal Identity Server: it records each request and
// answers status (0: the recorded answer), or hangs when hang is set.
type gatewayServer struct {
	mu     sync.Mutex
	seen   []string
	hosts  []string
	bodies []map[string]any
	status int
	answer string
	hang   bool
}

func (g *gatewayServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.seen = append(g.seen, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization"))
	g.hosts = append(g.hosts, r.Host)
	var body map[string]any
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		_ = json.Unmarshal(b, &body)
	}
	g.bodies = append(g.bodies, body)
	status, answer, hang := g.status, g.answer, g.hang
	g.mu.Unlock()
	if hang {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
		return
	}
	if status != 0 {
		w.WriteHeader(status)
	}
	_, _ = w.Write([]byte(answer))
}

func TestGatewayCallsAgainstAServer(t *testing.T) {
	gs := &gatewayServer{}
	srv := httptest.NewServer(gs)
	defer srv.Close()
	// The Identity Server and the cluster are distinct: registry calls must
	// go to the former, connection stats to the latter.
	is := httptest.NewServer(gs)
	defer is.Close()
	c := &Client{Base: srv.URL, IdentityBase: is.URL + "/", APIKey: "NNSXS.GW", HTTP: &http.Client{Timeout: 100 * time.Millisecond}}
	ctx := context.Background()
	owner := Owner{OwnerOrganization, "acme-org"}

	gs.answer = `{"ids":{"gateway_id":"acme-gw-1","eui":"b827ebfffe000001"}}`
	if err := c.RegisterGateway(ctx, owner, testGateway); err != nil {
		t.Fatal(err)
	}
	gs.answer = `{"ids":{"gateway_id":"acme-gw-1","eui":"b827ebfffe000001"},"name":"Kitchen","frequency_plan_ids":["US_902_928_FSB_2"],"frequency_plan_id":"US_902_928_FSB_2","gateway_server_address":"nam1.cloud.thethings.network"}`
	got, err := c.GetGateway(ctx, "acme-gw-1")
	if err != nil || got.EUI != "B827EBFFFE000001" || got.FrequencyPlanID != "US_902_928_FSB_2" || got.Name != "Kitchen" ||
		got.ServerAddress != "nam1.cloud.thethings.network" {
		t.Fatalf("GetGateway = %+v, %v", got, err)
	}
	gs.answer = `{"rights":["RIGHT_ORGANIZATION_ALL"]}`
	if rights, err := c.OwnerRights(ctx, owner); err != nil || len(rights) != 1 {
		t.Fatalf("OwnerRights = %v, %v", rights, err)
	}
	gs.answer = `{}`
	if err := c.DeleteGateway(ctx, "acme-gw-1"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /api/v3/organizations/acme-org/gateways Bearer NNSXS.GW",
		"GET /api/v3/gateways/acme-gw-1?field_mask=frequency_plan_ids%2Cgateway_server_address%2Cname Bearer NNSXS.GW",
		"GET /api/v3/organizations/acme-org/rights Bearer NNSXS.GW",
		"DELETE /api/v3/gateways/acme-gw-1 Bearer NNSXS.GW",
	}
	if !reflect.DeepEqual(gs.seen, want) {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(gs.seen, "\n"), strings.Join(want, "\n"))
	}
	for i, h := range gs.hosts {
		if h != strings.TrimPrefix(is.URL, "http://") {
			t.Errorf("%s went to %s, not the Identity Server", gs.seen[i], h)
		}
	}
	if gw, _ := gs.bodies[0]["gateway"].(map[string]any); gw == nil || gw["name"] != "Kitchen" {
		t.Errorf("create body %v", gs.bodies[0])
	}

	// Failures: a 409 is a conflict and a refusal; 5xx and timeouts are
	// upstream failures whose outcome is unknown.
	for _, tc := range []struct {
		status  int
		hang    bool
		code    apperr.Code
		applied bool
	}{
		{status: 409, code: apperr.Conflict},
		{status: 400, code: apperr.Invalid},
		{status: 403, code: apperr.BadGateway},
		{status: 500, code: apperr.BadGateway, applied: true},
		{status: 503, code: apperr.BadGateway, applied: true},
		{hang: true, code: apperr.BadGateway, applied: true},
	} {
		gs.mu.Lock()
		gs.status, gs.hang, gs.answer = tc.status, tc.hang, `{"code":6,"message":"error:pkg/identityserver/store:id_taken (ID `+"`acme-gw-1`"+` already taken)"}`
		gs.mu.Unlock()
		start := time.Now()
		err := c.RegisterGateway(ctx, owner, testGateway)
		if got := apperr.CodeOf(err); got != tc.code || MayHaveApplied(err) != tc.applied {
			t.Errorf("status %d hang %v: %s (may have applied %v), want %s %v: %v", tc.status, tc.hang, got,
				MayHaveApplied(err), tc.code, tc.applied, err)
		}
		if tc.hang && time.Since(start) > time.Second {
			t.Errorf("the timeout did not cut the call: %v", time.Since(start))
		}
		if tc.status == 409 && !strings.Contains(apperr.From(err).Message, "already taken") {
			t.Errorf("TTN's message is lost: %v", err)
		}
	}
	gs.mu.Lock()
	gs.status, gs.hang = http.StatusNotFound, false
	gs.mu.Unlock()
	if err := c.DeleteGateway(ctx, "acme-gw-1"); err != nil {
		t.Errorf("deleting a gateway TTN does not know: %v", err)
	}
	if _, err := c.GetGateway(ctx, "acme-gw-1"); !HasStatus(err, http.StatusNotFound) {
		t.Errorf("GetGateway of an unknown gateway: %v", err)
	}
	if MayHaveApplied(nil) {
		t.Error("success is not a failure")
	}
}

func TestGatewayStatsConnectedState(t *testing.T) {
	var answer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/gs/gateways/acme-gw-1/connection/stats" || r.Method != http.MethodGet {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		_, _ = w.Write([]byte(answer))
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL, IdentityBase: "http://127.0.0.1:1", APIKey: "k"}
	for _, tc := range []struct {
		answer    string
		connected bool
	}{
		{`{"connected_at":"2026-01-01T10:00:00Z","protocol":"udp","last_uplink_received_at":"2026-01-01T10:05:00Z"}`, true},
		{`{"connected_at":"2026-01-01T10:00:00Z","disconnected_at":"2026-01-01T11:00:00Z"}`, false},
		{`{"connected_at":"2026-01-01T12:00:00Z","disconnected_at":"2026-01-01T11:00:00Z"}`, true}, // reconnected
	} {
		answer = tc.answer
		st, err := c.GatewayStats(context.Background(), "acme-gw-1")
		if err != nil || st.Connected != tc.connected {
			t.Errorf("%s: connected %v, %v", tc.answer, st.Connected, err)
		}
	}
}
