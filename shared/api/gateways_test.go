package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/cache"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// gatewayJSON is a gateway as the api answers it.
type gatewayJSON struct {
	ID                 string     `json:"id"`
	SiteID             *string    `json:"site_id"`
	GatewayID          string     `json:"gateway_id"`
	GatewayEUI         string     `json:"gateway_eui"`
	Name               *string    `json:"name"`
	FrequencyPlanID    string     `json:"frequency_plan_id"`
	Cluster            string     `json:"cluster"`
	ProvisioningStatus string     `json:"provisioning_status"`
	ProvisioningError  *string    `json:"provisioning_error"`
	Status             string     `json:"status"`
	LastSeenAt         *time.Time `json:"last_seen_at"`
	ConnectedAt        *time.Time `json:"connected_at"`
	DisconnectedAt     *time.Time `json:"disconnected_at"`
	Protocol           *string    `json:"protocol"`
	StatusCheckedAt    *time.Time `json:"status_checked_at"`
}

// newGatewayEnv is a ttnEnv whose organisation has connected its
// application key and the fake's gateway owner and key.
func newGatewayEnv(t *testing.T) *ttnEnv {
	t.Helper()
	e := newTTNEnv(t)
	e.connect(t)
	e.do(e.admin, "PUT", e.path("/ttn-connection/gateway-credentials"), map[string]any{
		"owner_type": "organization", "owner_id": "acme-ttn", "api_key": e.ttn.gwKey()}).must(t, http.StatusOK)
	return e
}

func gwBody(id, eui string) map[string]any {
	return map[string]any{"gateway_id": id, "gateway_eui": eui, "frequency_plan_id": "EU_863_870_TTN", "name": "Kitchen"}
}

func (e *ttnEnv) register(t *testing.T, id, eui string) gatewayJSON {
	t.Helper()
	var g gatewayJSON
	e.do(e.admin, "POST", e.path("/gateways"), gwBody(id, eui)).must(t, http.StatusCreated).JSON(t, &g)
	return g
}

func (e *ttnEnv) listGateways(t *testing.T, u *testUser) []gatewayJSON {
	t.Helper()
	var l List[gatewayJSON]
	e.do(u, "GET", e.path("/gateways"), nil).must(t, http.StatusOK).JSON(t, &l)
	return l.Items
}

// gatewayRows counts the organisation's rows of a TTN gateway id (deleted
// ones included) and returns the live one's status ("" if none).
func (e *ttnEnv) gatewayRows(t *testing.T, id string) (n int, status string) {
	t.Helper()
	e.queryRow([]any{&n, &status}, `SELECT count(*), coalesce(max(provisioning_status) FILTER (WHERE deleted_at IS NULL), '')
		FROM gateways WHERE organization_id = $1 AND gateway_id = $2`, e.orgID, id)
	return n, status
}

func wantFieldError(t *testing.T, res response, field string) {
	t.Helper()
	var b web.ErrorBody
	res.JSON(t, &b)
	for _, d := range b.Error.Details {
		if d.Field == field {
			return
		}
	}
	t.Errorf("no error on %s: %s", field, res.Body)
}

func TestGatewayCredentials(t *testing.T) {
	e := newTTNEnv(t)
	var o struct {
		OwnerType   *string  `json:"owner_type"`
		OwnerID     *string  `json:"owner_id"`
		APIKeyLast4 *string  `json:"api_key_last4"`
		Rights      []string `json:"rights"`
	}
	e.do(e.owner, "GET", e.path("/ttn-connection/gateway-credentials"), nil).must(t, http.StatusOK).JSON(t, &o)
	if o.OwnerType != nil || o.APIKeyLast4 != nil || o.Rights == nil {
		t.Errorf("before: %+v", o)
	}
	// Registering needs them.
	e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-1", "B827EBFFFE000001")).must(t, http.StatusConflict)
	path := e.path("/ttn-connection/gateway-credentials")
	key := e.ttn.gwKey()
	for field, body := range map[string]map[string]any{
		"owner_type": {"owner_type": "application", "owner_id": "acme-ttn", "api_key": key},
		"owner_id":   {"owner_type": "organization", "owner_id": "Acme_TTN", "api_key": key},
		"api_key":    {"owner_type": "user", "owner_id": "al", "api_key": "short"},
	} {
		wantFieldError(t, e.do(e.admin, "PUT", path, body).must(t, http.StatusBadRequest), field)
	}
	wantFieldError(t, e.do(e.admin, "PUT", path, map[string]any{"owner_type": "organization", "owner_id": "someone-else",
		"api_key": key}).must(t, http.StatusBadRequest), "owner_id")
	// The application key is not a key of the owner: TTN refuses it.
	res := e.do(e.admin, "PUT", path, map[string]any{"owner_type": "organization", "owner_id": "acme-ttn", "api_key": e.ttn.apiKey}).
		must(t, http.StatusBadGateway)
	if !bytes.Contains(res.Body, []byte("refused the API key")) {
		t.Errorf("body %s", res.Body)
	}
	e.ttn.mu.Lock()
	e.ttn.gateways().rights = []string{"RIGHT_ORGANIZATION_GATEWAYS_CREATE", "RIGHT_GATEWAY_INFO"}
	e.ttn.mu.Unlock()
	res = e.do(e.admin, "PUT", path, map[string]any{"owner_type": "organization", "owner_id": "acme-ttn", "api_key": key}).
		must(t, http.StatusBadRequest)
	if !bytes.Contains(res.Body, []byte("RIGHT_GATEWAY_DELETE, RIGHT_GATEWAY_STATUS_READ")) {
		t.Errorf("the missing rights are not named: %s", res.Body)
	}
	e.ttn.mu.Lock()
	e.ttn.gateways().rights = []string{"RIGHT_ORGANIZATION_ALL"}
	e.ttn.mu.Unlock()
	e.do(e.manager, "PUT", path, map[string]any{"owner_type": "organization", "owner_id": "acme-ttn", "api_key": key}).
		must(t, http.StatusForbidden)
	e.do(e.admin, "PUT", path, map[string]any{"owner_type": "organization", "owner_id": "acme-ttn", "api_key": key}).
		must(t, http.StatusOK).JSON(t, &o)
	if *o.OwnerType != "organization" || *o.OwnerID != "acme-ttn" || *o.APIKeyLast4 != "0002" || len(o.Rights) != 1 {
		t.Errorf("after: %+v", o)
	}
	var sealed []byte
	e.queryRow([]any{&sealed}, `SELECT gateway_api_key_ciphertext FROM network_connections WHERE organization_id = $1`, e.orgID)
	if len(sealed) == 0 || bytes.Contains(sealed, []byte(key)) {
		t.Errorf("the gateway key is not stored sealed")
	}
	if res := e.do(e.owner, "GET", path, nil).must(t, http.StatusOK); bytes.Contains(res.Body, []byte(key)) {
		t.Errorf("GET shows the key: %s", res.Body)
	}
}

func TestGatewayRegister(t *testing.T) {
	e := newGatewayEnv(t)
	site := e.unit(e.orgID).SiteID
	body := gwBody("acme-gw-1", "b8-27-eb-ff-fe-00-00-01")
	body["site_id"] = site
	var g gatewayJSON
	e.do(e.admin, "POST", e.path("/gateways"), body).must(t, http.StatusCreated).JSON(t, &g)
	if g.GatewayID != "acme-gw-1" || g.GatewayEUI != "B827EBFFFE000001" || g.ProvisioningStatus != "registered" ||
		g.ProvisioningError != nil || g.Cluster != "eu1" || g.SiteID == nil || *g.SiteID != site || *g.Name != "Kitchen" ||
		g.Status != GatewayNotConnected {
		t.Fatalf("registered %+v", g)
	}
	// The fake checked method, path, owner, key and body fields; here is what it stored.
	gw := e.ttn.ttnGateway("acme-gw-1")
	if gw == nil || dig(gw, "ids.eui") != "B827EBFFFE000001" || gw["name"] != "Kitchen" || gw["frequency_plan_id"] != "EU_863_870_TTN" {
		t.Fatalf("TTN has %v", gw)
	}
	if _, st := e.gatewayRows(t, "acme-gw-1"); st != "registered" {
		t.Errorf("row %s", st)
	}
	var one gatewayJSON
	e.do(e.manager, "GET", e.path("/gateways/"+g.ID), nil).must(t, http.StatusOK).JSON(t, &one)
	if one.ID != g.ID || one.GatewayEUI != g.GatewayEUI {
		t.Errorf("get %+v", one)
	}
	// Registered again: ours already.
	e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-1", "B827EBFFFE000001")).must(t, http.StatusConflict)

	t.Run("validation", func(t *testing.T) {
		before := len(e.ttn.callLog())
		other := e.h2org(t)
		otherSite := e.unit(other).SiteID
		for field, b := range map[string]map[string]any{
			"gateway_id":        {"gateway_id": "Acme_GW", "gateway_eui": "B827EBFFFE000002", "frequency_plan_id": "EU_863_870_TTN"},
			"gateway_eui":       {"gateway_id": "acme-gw-2", "gateway_eui": "B827EBFFFE0000", "frequency_plan_id": "EU_863_870_TTN"},
			"frequency_plan_id": {"gateway_id": "acme-gw-2", "gateway_eui": "B827EBFFFE000002", "frequency_plan_id": "  "},
			"name":              {"gateway_id": "acme-gw-2", "gateway_eui": "B827EBFFFE000002", "frequency_plan_id": "EU_863_870_TTN", "name": strings.Repeat("n", 51)},
			"site_id":           {"gateway_id": "acme-gw-2", "gateway_eui": "B827EBFFFE000002", "frequency_plan_id": "EU_863_870_TTN", "site_id": otherSite},
		} {
			wantFieldError(t, e.do(e.admin, "POST", e.path("/gateways"), b).must(t, http.StatusBadRequest), field)
		}
		for _, id := range []string{"gw", "-gw1", "gw1-", "gw--1", strings.Repeat("g", 37)} {
			e.do(e.admin, "POST", e.path("/gateways"), gwBody(id, "B827EBFFFE000002")).must(t, http.StatusBadRequest)
		}
		e.do(e.admin, "POST", e.path("/gateways"), map[string]any{"gateway_id": "acme-gw-2"}).must(t, http.StatusBadRequest)
		if n := len(e.ttn.callLog()); n != before {
			t.Errorf("invalid requests reached TTN (%d calls)", n-before)
		}
		e.register(t, strings.Repeat("g", 36), "B827EBFFFE000003") // the longest id TTN takes
	})
	t.Run("TTN refuses a first attempt: nothing is recorded", func(t *testing.T) {
		b := gwBody("acme-gw-4", "B827EBFFFE000004")
		b["frequency_plan_id"] = "XX_000_000"
		e.do(e.admin, "POST", e.path("/gateways"), b).must(t, http.StatusBadRequest)
		if n, _ := e.gatewayRows(t, "acme-gw-4"); n != 0 {
			t.Errorf("%d rows left", n)
		}
	})
}

func TestGatewayRegisterConflict(t *testing.T) {
	e := newGatewayEnv(t)
	e.ttn.addGateway("taken-gw", "AA00000000000001", "user/somebody")
	res := e.do(e.admin, "POST", e.path("/gateways"), gwBody("taken-gw", "B827EBFFFE000001")).must(t, http.StatusConflict)
	wantFieldError(t, res, "gateway_id")
	if res.ErrorCode() != "CONFLICT" || !bytes.Contains(res.Body, []byte("already has a gateway with this id")) {
		t.Errorf("body %s", res.Body)
	}
	res = e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-1", "AA00000000000001")).must(t, http.StatusConflict)
	wantFieldError(t, res, "gateway_eui")
	for _, id := range []string{"taken-gw", "acme-gw-1"} {
		if n, _ := e.gatewayRows(t, id); n != 0 {
			t.Errorf("%s: %d rows left after TTN's 409", id, n)
		}
	}
	// Another organisation of ours holds the id: refused before TTN is asked.
	e.register(t, "acme-gw-2", "B827EBFFFE000002")
	other := e.h2org(t)
	e.exec(`UPDATE gateways SET organization_id = $1 WHERE gateway_id = 'acme-gw-2'`, other)
	creates := e.ttn.count("gw-create")
	wantFieldError(t, e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-2", "B827EBFFFE000009")).
		must(t, http.StatusConflict), "gateway_id")
	if e.ttn.count("gw-create") != creates {
		t.Error("TTN was asked")
	}
}

func TestGatewayRegisterUpstreamFailure(t *testing.T) {
	for _, mode := range []int{http.StatusInternalServerError, failTimeout} {
		e := newGatewayEnv(t)
		e.ttn.setFail("gw-create", mode)
		res := e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-1", "B827EBFFFE000001")).must(t, http.StatusBadGateway)
		if !bytes.Contains(res.Body, []byte("kept as failed")) {
			t.Errorf("mode %d: body %s", mode, res.Body)
		}
		// The row shows what may be in TTN.
		items := e.listGateways(t, e.owner)
		if len(items) != 1 || items[0].ProvisioningStatus != "failed" || items[0].ProvisioningError == nil || items[0].Status != GatewayStatusUnknown {
			t.Fatalf("mode %d: list %+v", mode, items)
		}
		e.ttn.setFail("gw-create", 0)
		if mode == failTimeout {
			// The lost attempt had created it: the retry meets TTN's 409,
			// finds the gateway ours with the same EUI, and adopts it.
			e.ttn.addGateway("acme-gw-1", "B827EBFFFE000001", "")
		}
		g := e.register(t, "acme-gw-1", "B827EBFFFE000001")
		if n, st := e.gatewayRows(t, "acme-gw-1"); n != 1 || st != "registered" || g.ID != items[0].ID || g.ProvisioningError != nil {
			t.Errorf("mode %d: %d rows, %s, %+v", mode, n, st, g)
		}
		if mode == failTimeout && e.ttn.count("gw-get") != 1 {
			t.Errorf("the adoption did not read the gateway: %v", e.ttn.callLog())
		}
	}

	t.Run("a retry that finds another EUI keeps the row for a delete", func(t *testing.T) {
		e := newGatewayEnv(t)
		e.ttn.setFail("gw-create", failTimeout)
		e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-1", "B827EBFFFE000001")).must(t, http.StatusBadGateway)
		e.ttn.setFail("gw-create", 0)
		e.ttn.addGateway("acme-gw-1", "B827EBFFFE0000FF", "")
		wantFieldError(t, e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-1", "B827EBFFFE000001")).
			must(t, http.StatusConflict), "gateway_eui")
		items := e.listGateways(t, e.owner)
		if len(items) != 1 || items[0].ProvisioningStatus != "failed" {
			t.Fatalf("list %+v", items)
		}
		e.do(e.admin, "DELETE", e.path("/gateways/"+items[0].ID), nil).must(t, http.StatusNoContent)
		if e.ttn.ttnGateway("acme-gw-1") != nil {
			t.Error("the delete left the gateway in TTN")
		}
	})
	t.Run("a retry that finds someone else's gateway discards the row", func(t *testing.T) {
		e := newGatewayEnv(t)
		e.ttn.setFail("gw-create", http.StatusServiceUnavailable)
		e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-1", "B827EBFFFE000001")).must(t, http.StatusBadGateway)
		e.ttn.setFail("gw-create", 0)
		e.ttn.addGateway("acme-gw-1", "B827EBFFFE000001", "user/somebody")
		wantFieldError(t, e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-1", "B827EBFFFE000001")).
			must(t, http.StatusConflict), "gateway_id")
		if n, _ := e.gatewayRows(t, "acme-gw-1"); n != 0 {
			t.Errorf("%d rows left", n)
		}
	})
}

func TestGatewayListStatus(t *testing.T) {
	e := newGatewayEnv(t)
	on := e.register(t, "gw-on", "B827EBFFFE000001")
	off := e.register(t, "gw-off", "B827EBFFFE000002")
	never := e.register(t, "gw-never", "B827EBFFFE000003")
	e.ttn.setStats("gw-on", `{"connected_at":"2026-03-01T08:00:00Z","protocol":"udp",
		"last_status_received_at":"2026-03-01T09:59:30Z","last_uplink_received_at":"2026-03-01T09:58:00Z"}`)
	e.ttn.setStats("gw-off", `{"connected_at":"2026-03-01T08:00:00Z","disconnected_at":"2026-03-01T09:00:00Z",
		"last_uplink_received_at":"2026-03-01T08:59:00Z","last_status_received_at":"2026-03-01T08:30:00Z"}`)
	// A failed registration is listed but its status is not asked.
	e.ttn.setFail("gw-create", http.StatusBadGateway)
	e.do(e.admin, "POST", e.path("/gateways"), gwBody("gw-failed", "B827EBFFFE000004")).must(t, http.StatusBadGateway)
	e.ttn.setFail("gw-create", 0)

	stats := e.ttn.count("gs")
	byID := map[string]gatewayJSON{}
	for _, g := range e.listGateways(t, e.manager) {
		byID[g.GatewayID] = g
	}
	if n := e.ttn.count("gs") - stats; n != 3 {
		t.Errorf("%d stats calls, want 3 (not for the failed one)", n)
	}
	ts := func(s string) time.Time { x, _ := time.Parse(time.RFC3339, s); return x }
	if g := byID["gw-on"]; g.ID != on.ID || g.Status != GatewayConnected || g.LastSeenAt == nil ||
		!g.LastSeenAt.Equal(ts("2026-03-01T09:59:30Z")) || g.Protocol == nil || *g.Protocol != "udp" || g.StatusCheckedAt == nil {
		t.Errorf("connected: %+v", g)
	}
	if g := byID["gw-off"]; g.ID != off.ID || g.Status != GatewayDisconnected || !g.LastSeenAt.Equal(ts("2026-03-01T08:59:00Z")) ||
		g.DisconnectedAt == nil {
		t.Errorf("disconnected: %+v", g)
	}
	if g := byID["gw-never"]; g.ID != never.ID || g.Status != GatewayNotConnected || g.LastSeenAt != nil {
		t.Errorf("never connected: %+v", g)
	}
	if g := byID["gw-failed"]; g.Status != GatewayStatusUnknown || g.ProvisioningStatus != "failed" || g.StatusCheckedAt != nil {
		t.Errorf("failed: %+v", g)
	}

	t.Run("pages", func(t *testing.T) {
		var l List[gatewayJSON]
		e.do(e.owner, "GET", e.path("/gateways?limit=3"), nil).must(t, http.StatusOK).JSON(t, &l)
		if len(l.Items) != 3 || l.NextCursor == "" {
			t.Fatalf("page 1: %d items, cursor %q", len(l.Items), l.NextCursor)
		}
		var l2 List[gatewayJSON]
		e.do(e.owner, "GET", e.path("/gateways?limit=3&cursor="+l.NextCursor), nil).must(t, http.StatusOK).JSON(t, &l2)
		if len(l2.Items) != 1 || l2.NextCursor != "" || l2.Items[0].GatewayID != "gw-failed" {
			t.Errorf("page 2: %+v", l2)
		}
	})
	// TTN failing or hanging on the status calls: listed, status unknown.
	for _, mode := range []int{http.StatusInternalServerError, failTimeout} {
		e.ttn.setFail("gs", mode)
		start := time.Now()
		items := e.listGateways(t, e.owner)
		if len(items) != 4 {
			t.Fatalf("mode %d: %d gateways", mode, len(items))
		}
		for _, g := range items {
			if g.Status != GatewayStatusUnknown {
				t.Errorf("mode %d: %s is %s", mode, g.GatewayID, g.Status)
			}
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("mode %d: the list took %v", mode, d)
		}
	}
	e.ttn.setFail("gs", 0)
}

func TestGatewayStatusCache(t *testing.T) {
	e := newGatewayEnv(t)
	e.srv.Cache = testCache(t, testenv.Require(t, "REDIS_URL"))
	g := e.register(t, "gw-on", "B827EBFFFE000001")
	e.register(t, "gw-off", "B827EBFFFE000002")
	e.ttn.setStats("gw-on", `{"connected_at":"2026-03-01T08:00:00Z","last_uplink_received_at":"2026-03-01T09:58:00Z"}`)
	// The registration's own answer may have cached "not connected": start clean.
	e.srv.Cache.Delete(context.Background(), gatewayStatusKey(e.orgID, "gw-on"), gatewayStatusKey(e.orgID, "gw-off"))

	stats := e.ttn.count("gs")
	first := e.listGateways(t, e.owner)
	if n := e.ttn.count("gs") - stats; n != 2 {
		t.Fatalf("%d stats calls, want 2", n)
	}
	e.ttn.setStats("gw-on", "") // TTN changes; the cache still answers
	second := e.listGateways(t, e.viewerOf(t))
	var one gatewayJSON
	e.do(e.owner, "GET", e.path("/gateways/"+g.ID), nil).must(t, http.StatusOK).JSON(t, &one)
	if n := e.ttn.count("gs") - stats; n != 2 {
		t.Errorf("the cached statuses were asked again (%d calls)", n)
	}
	if second[0].Status != GatewayConnected || !second[0].StatusCheckedAt.Equal(*first[0].StatusCheckedAt) || one.Status != GatewayConnected {
		t.Errorf("cached: %+v / %+v", second[0], one)
	}
	// Deleting forgets the cached status with the gateway.
	e.do(e.admin, "DELETE", e.path("/gateways/"+g.ID), nil).must(t, http.StatusNoContent)
	if _, ok := e.srv.Cache.Get(context.Background(), gatewayStatusKey(e.orgID, "gw-on")); ok {
		t.Error("the deleted gateway's status is still cached")
	}

	t.Run("Redis down", func(t *testing.T) {
		down, err := cache.Open("redis://127.0.0.1:1/0")
		if err != nil {
			t.Fatal(err)
		}
		defer down.Close()
		e.srv.Cache = down
		e.ttn.setStats("gw-off", `{"connected_at":"2026-03-01T08:00:00Z"}`)
		items := e.listGateways(t, e.owner)
		if len(items) != 1 || items[0].Status != GatewayConnected {
			t.Errorf("without Redis: %+v", items)
		}
	})
}

// viewerOf adds a viewer to the organisation.
func (e *ttnEnv) viewerOf(t *testing.T) *testUser {
	t.Helper()
	v := e.user("viewer")
	e.member(e.orgID, v, access.Viewer)
	return v
}

func TestGatewayTenantIsolationAndRoles(t *testing.T) {
	e := newGatewayEnv(t)
	g := e.register(t, "acme-gw-1", "B827EBFFFE000001")
	otherOwner := e.user("other-owner")
	other := e.org("Other", otherOwner)
	for _, method := range []string{"GET", "DELETE"} {
		// Another organisation's owner, on their own organisation's path and on ours.
		e.do(otherOwner, method, "/api/v1/orgs/"+other+"/gateways/"+g.ID, nil).must(t, http.StatusNotFound)
		e.do(otherOwner, method, e.path("/gateways/"+g.ID), nil).must(t, http.StatusNotFound)
	}
	var l List[gatewayJSON]
	e.do(otherOwner, "GET", "/api/v1/orgs/"+other+"/gateways", nil).must(t, http.StatusOK).JSON(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("another tenant lists %+v", l.Items)
	}
	viewer := e.viewerOf(t)
	if items := e.listGateways(t, viewer); len(items) != 1 {
		t.Errorf("viewer lists %d", len(items))
	}
	e.do(viewer, "GET", e.path("/gateways/"+g.ID), nil).must(t, http.StatusOK)
	e.do(viewer, "POST", e.path("/gateways"), gwBody("acme-gw-2", "B827EBFFFE000002")).must(t, http.StatusForbidden)
	e.do(e.manager, "POST", e.path("/gateways"), gwBody("acme-gw-2", "B827EBFFFE000002")).must(t, http.StatusForbidden)
	e.do(viewer, "DELETE", e.path("/gateways/"+g.ID), nil).must(t, http.StatusForbidden)
	e.do(viewer, "GET", e.path("/ttn-connection/gateway-credentials"), nil).must(t, http.StatusForbidden)
	e.do(e.owner, "GET", e.path("/gateways/00000000-0000-0000-0000-000000000000"), nil).must(t, http.StatusNotFound)
	e.do(e.owner, "GET", e.path("/gateways/acme-gw-1"), nil).must(t, http.StatusNotFound) // ids are ours, not TTN's
	if e.ttn.ttnGateway("acme-gw-1") == nil {
		t.Error("a refused delete reached TTN")
	}
}

func TestGatewayDelete(t *testing.T) {
	e := newGatewayEnv(t)
	g := e.register(t, "acme-gw-1", "B827EBFFFE000001")

	// TTN failing or hanging: 502, the gateway stays registered with the error.
	for _, mode := range []int{http.StatusInternalServerError, failTimeout} {
		e.ttn.setFail("gw-delete", mode)
		e.do(e.admin, "DELETE", e.path("/gateways/"+g.ID), nil).must(t, http.StatusBadGateway)
		var cur gatewayJSON
		e.do(e.owner, "GET", e.path("/gateways/"+g.ID), nil).must(t, http.StatusOK).JSON(t, &cur)
		if cur.ProvisioningStatus != "registered" || cur.ProvisioningError == nil || e.ttn.ttnGateway("acme-gw-1") == nil {
			t.Errorf("mode %d: %+v", mode, cur)
		}
	}
	e.ttn.setFail("gw-delete", 0)
	e.do(e.owner, "DELETE", e.path("/gateways/"+g.ID), nil).must(t, http.StatusNoContent)
	if e.ttn.ttnGateway("acme-gw-1") != nil {
		t.Error("TTN still has the gateway")
	}
	e.do(e.owner, "GET", e.path("/gateways/"+g.ID), nil).must(t, http.StatusNotFound)
	e.do(e.owner, "DELETE", e.path("/gateways/"+g.ID), nil).must(t, http.StatusNotFound)
	if items := e.listGateways(t, e.owner); len(items) != 0 {
		t.Errorf("listed after delete: %+v", items)
	}
	// TTN keeps a deleted gateway's id but releases its EUI.
	wantFieldError(t, e.do(e.admin, "POST", e.path("/gateways"), gwBody("acme-gw-1", "B827EBFFFE000001")).
		must(t, http.StatusConflict), "gateway_id")
	e.register(t, "acme-gw-2", "B827EBFFFE000001")

	// A gateway already gone from TTN (deleted in the console) is deleted here too.
	g3 := e.register(t, "acme-gw-3", "B827EBFFFE000003")
	e.ttn.mu.Lock()
	delete(e.ttn.gateways().gateways, "acme-gw-3")
	e.ttn.mu.Unlock()
	e.do(e.admin, "DELETE", e.path("/gateways/"+g3.ID), nil).must(t, http.StatusNoContent)
	if n, st := e.gatewayRows(t, "acme-gw-3"); n != 1 || st != "" {
		t.Errorf("acme-gw-3: %d rows, live status %q (want soft-deleted)", n, st)
	}
}
