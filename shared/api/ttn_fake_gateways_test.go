package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// fakeGateways is the gateway side of fakeTTN: the Identity Server's
// gateway registry (owned by one TTN organisation, whose API key it
// expects) and the Gateway Server's connection statistics. Like The Things
// Stack it never releases a deleted gateway's id, but does release its EUI.
type fakeGateways struct {
	key        string // the owner's API key
	ownerKind  string // "organization" or "user"
	ownerID    string
	rights     []string
	gateways   map[string]map[string]any // live gateways by id, as created
	owners     map[string]string         // gateway id -> "kind/id" of its owner
	deletedIDs map[string]bool
	stats      map[string]string // gateway id -> connection stats JSON (none: not connected)
}

const fakeGatewayPlanMask = "frequency_plan_ids,gateway_server_address,name"

var (
	reOwnerRights   = regexp.MustCompile(`^/api/v3/(users|organizations)/([^/]+)/rights$`)
	reOwnerGateways = regexp.MustCompile(`^/api/v3/(users|organizations)/([^/]+)/gateways$`)
	reGateway       = regexp.MustCompile(`^/api/v3/gateways/([^/]+)$`)
	fakeKnownPlans  = map[string]bool{"EU_863_870_TTN": true, "EU_863_870": true, "US_902_928_FSB_2": true, "AU_915_928_FSB_2": true}
)

// gateways returns the gateway state, creating it at first use. f.mu must
// be held.
func (f *fakeTTN) gateways() *fakeGateways {
	if f.gw == nil {
		f.gw = &fakeGateways{key: "NNSXS.GATEWAYKEY.SECRETPART0002", ownerKind: "organization", ownerID: "acme-ttn",
			rights:   []string{"RIGHT_ORGANIZATION_INFO", "RIGHT_ORGANIZATION_GATEWAYS_CREATE", "RIGHT_GATEWAY_ALL"},
			gateways: map[string]map[string]any{}, owners: map[string]string{}, deletedIDs: map[string]bool{},
			stats: map[string]string{}}
	}
	return f.gw
}

func (f *fakeTTN) gwKey() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gateways().key
}

// gwOwner is the fake owner as "kind/id".
func (g *fakeGateways) owner() string { return g.ownerKind + "/" + g.ownerID }

// authorized checks the API key: the gateway owner's on gateway and owner
// routes (an application key has no rights there), the application's
// elsewhere.
func (f *fakeTTN) authorized(r *http.Request) bool {
	want := f.apiKey
	p := r.URL.Path
	if strings.HasPrefix(p, "/api/v3/gateways/") || strings.HasPrefix(p, "/api/v3/gs/") ||
		strings.HasPrefix(p, "/api/v3/users/") || strings.HasPrefix(p, "/api/v3/organizations/") {
		want = f.gwKey()
	}
	return r.Header.Get("Authorization") == "Bearer "+want
}

// gatewayRoute names a gateway operation; id is the gateway id, or the
// owner ("kind/id") for owner routes.
func (f *fakeTTN) gatewayRoute(r *http.Request) (op, id string) {
	p := r.URL.Path
	kind := map[string]string{"users": "user", "organizations": "organization"}
	if m := reOwnerRights.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		return "gw-rights", kind[m[1]] + "/" + m[2]
	}
	if m := reOwnerGateways.FindStringSubmatch(p); m != nil && r.Method == http.MethodPost {
		return "gw-create", kind[m[1]] + "/" + m[2]
	}
	if m := reGateway.FindStringSubmatch(p); m != nil {
		switch r.Method {
		case http.MethodGet:
			return "gw-get", m[1]
		case http.MethodDelete:
			return "gw-delete", m[1]
		}
	}
	return "", ""
}

func ttnJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// handleGateway serves a gateway operation; f.mu is held.
func (f *fakeTTN) handleGateway(w http.ResponseWriter, r *http.Request, op, id string, body map[string]any) {
	g := f.gateways()
	switch op {
	case "gw-rights":
		if id != g.owner() {
			ttnFail(w, http.StatusNotFound, "error:pkg/identityserver/store:not_found (entity not found)")
			return
		}
		ttnJSON(w, map[string]any{"rights": g.rights})
	case "gw-create":
		if id != g.owner() {
			ttnFail(w, http.StatusForbidden, "error:pkg/auth/rights:no_organization_rights (no rights for organization)")
			return
		}
		f.createGateway(w, r, g, body)
	case "gw-get":
		if fm := r.URL.Query().Get("field_mask"); fm != fakeGatewayPlanMask {
			f.t.Errorf("gateway get field_mask %q, want %q", fm, fakeGatewayPlanMask)
		}
		if !f.gatewayAccess(w, g, id) {
			return
		}
		gw := g.gateways[id]
		ttnJSON(w, map[string]any{"ids": gw["ids"], "name": gw["name"], "frequency_plan_ids": gw["frequency_plan_ids"],
			"gateway_server_address": gw["gateway_server_address"]})
	case "gw-delete":
		if !f.gatewayAccess(w, g, id) {
			return
		}
		delete(g.gateways, id)
		delete(g.stats, id)
		g.deletedIDs[id] = true
		ttnJSON(w, map[string]any{})
	case "gs":
		if !f.gatewayAccess(w, g, id) {
			return
		}
		st, ok := g.stats[id]
		if !ok {
			ttnFail(w, http.StatusNotFound, "error:pkg/gatewayserver:not_connected (gateway `"+id+"@ttn` not connected)")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(st))
	default:
		f.t.Errorf("fake TTN: no handler for %s", op)
		ttnFail(w, http.StatusNotFound, "no route")
	}
}

// gatewayAccess answers 404 for a gateway TTN does not have and 403 for
// one of another owner; it reports whether the call may proceed.
func (f *fakeTTN) gatewayAccess(w http.ResponseWriter, g *fakeGateways, id string) bool {
	if _, ok := g.gateways[id]; !ok {
		ttnFail(w, http.StatusNotFound, "error:pkg/identityserver/store:gateway_not_found (gateway `"+id+"` not found)")
		return false
	}
	if g.owners[id] != g.owner() {
		ttnFail(w, http.StatusForbidden, "error:pkg/auth/rights:no_gateway_rights (no rights for gateway `"+id+"`)")
		return false
	}
	return true
}

var upperEUI = regexp.MustCompile(`^[0-9A-F]{16}$`)

// createGateway checks a CreateGatewayRequest the way the Identity Server
// would, then stores the gateway.
func (f *fakeTTN) createGateway(w http.ResponseWriter, r *http.Request, g *fakeGateways, body map[string]any) {
	gw, _ := body["gateway"].(map[string]any)
	id, _ := dig(gw, "ids.gateway_id").(string)
	eui, _ := dig(gw, "ids.eui").(string)
	plan, _ := gw["frequency_plan_id"].(string)
	plans, _ := gw["frequency_plan_ids"].([]any)
	collab := dig(body, "collaborator.organization_ids.organization_id")
	if g.ownerKind == "user" {
		collab = dig(body, "collaborator.user_ids.user_id")
	}
	u, _ := url.Parse(f.srv.URL)
	if id == "" || !upperEUI.MatchString(eui) || plan == "" || len(plans) != 1 || plans[0] != plan ||
		gw["gateway_server_address"] != u.Host || gw["enforce_duty_cycle"] != true || collab != g.ownerID {
		f.t.Errorf("gateway create body %v", body)
		ttnFail(w, http.StatusBadRequest, "error:pkg/ttnpb:validation (invalid request)")
		return
	}
	if !fakeKnownPlans[plan] {
		ttnFail(w, http.StatusBadRequest, "error:pkg/frequencyplans:unknown_frequency_plan (frequency plan `"+plan+"` not found)")
		return
	}
	if _, live := g.gateways[id]; live || g.deletedIDs[id] {
		ttnFail(w, http.StatusConflict, "error:pkg/identityserver/store:id_taken (ID `"+id+"` already taken)")
		return
	}
	for other, x := range g.gateways {
		if dig(x, "ids.eui") == eui {
			ttnFail(w, http.StatusConflict, "error:pkg/identityserver/store:gateway_eui_taken (gateway with EUI `"+eui+
				"` is already registered as `"+other+"`)")
			return
		}
	}
	g.gateways[id], g.owners[id] = gw, g.owner()
	ttnJSON(w, gw)
}

// addGateway puts a gateway in the registry as if registered elsewhere
// (owner "kind/id"; "" for the fake's own owner).
func (f *fakeTTN) addGateway(id, eui, owner string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.gateways()
	if owner == "" {
		owner = g.owner()
	}
	g.gateways[id] = map[string]any{"ids": map[string]any{"gateway_id": id, "eui": eui}, "name": "elsewhere",
		"frequency_plan_ids": []any{"EU_863_870_TTN"}}
	g.owners[id] = owner
}

// ttnGateway returns the registry's gateway (nil: TTN does not have it).
func (f *fakeTTN) ttnGateway(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gateways().gateways[id]
}

// setStats sets the Gateway Server's connection stats of a gateway ("":
// not connected).
func (f *fakeTTN) setStats(id, stats string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if stats == "" {
		delete(f.gateways().stats, id)
		return
	}
	f.gateways().stats[id] = stats
}

// count is how many calls of op the fake received.
func (f *fakeTTN) count(op string) int {
	n := 0
	for _, c := range f.callLog() {
		if c == op {
			n++
		}
	}
	return n
}
