package api

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
)

// openapiDoc is the part of the OpenAPI document the contract tests read.
type openapiDoc struct {
	OpenAPI    string                          `yaml:"openapi"`
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components struct {
		Parameters map[string]parameter `yaml:"parameters"`
	} `yaml:"components"`
}

// parameter is an operation's parameter, or a $ref to a shared one.
type parameter struct {
	Ref      string `yaml:"$ref"`
	Name     string `yaml:"name"`
	In       string `yaml:"in"`
	Required bool   `yaml:"required"`
	Example  any    `yaml:"example"`
	Schema   struct {
		Format string `yaml:"format"`
	} `yaml:"schema"`
}

type operation struct {
	OperationID string `yaml:"operationId"`
	// Permission is the x-permission extension: the access.Permission the
	// route requires, "authenticated" for any signed-in user, "public".
	Permission string `yaml:"x-permission"`
	// SPA is the x-spa extension: the procedures of the React SPA's tRPC
	// client that the route serves (router.procedure, as
	// reference/spa-calls.md names them), where it serves one.
	SPA         []string `yaml:"x-spa"`
	RequestBody *struct {
		Content map[string]struct {
			Example any `yaml:"example"`
		} `yaml:"content"`
	} `yaml:"requestBody"`
	Responses  map[string]yaml.Node `yaml:"responses"`
	Parameters []parameter          `yaml:"parameters"`
}

var spaProcedure = regexp.MustCompile(`^[a-z][A-Za-z]*\.[a-z][A-Za-z]*$`)

var httpMethods = map[string]bool{"get": true, "post": true, "put": true, "patch": true, "delete": true}

// documented returns the document's operations keyed "METHOD /path".
func documented(t *testing.T) map[string]operation {
	t.Helper()
	var doc openapiDoc
	if err := yaml.Unmarshal(openapiSource(t), &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q, want 3.1.x", doc.OpenAPI)
	}
	ops := map[string]operation{}
	for path, item := range doc.Paths {
		for method, node := range item {
			if !httpMethods[method] {
				continue
			}
			var op operation
			if err := node.Decode(&op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			for i, p := range op.Parameters {
				if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
					op.Parameters[i] = doc.Components.Parameters[name]
				}
			}
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

func docPermission(p access.Permission) string {
	switch p {
	case "":
		return "authenticated"
	default:
		return string(p)
	}
}

// TestOpenAPIMatchesTheRouter: every route documented with the permission
// the code enforces, every documented route served.
func TestOpenAPIMatchesTheRouter(t *testing.T) {
	srv := New(nil, nil)
	srv.Register(http.NewServeMux())
	srv.RegisterReports(http.NewServeMux())
	ops := documented(t)
	for _, route := range srv.Routes() {
		op, ok := ops[route]
		if !ok {
			t.Errorf("%s is served but not documented", route)
			continue
		}
		perm, _ := srv.RoutePermission(route)
		if op.Permission != docPermission(perm) {
			t.Errorf("%s: documented x-permission %q, the code requires %q", route, op.Permission, docPermission(perm))
		}
		if op.OperationID == "" {
			t.Errorf("%s has no operationId", route)
		}
		for _, proc := range op.SPA {
			if !spaProcedure.MatchString(proc) {
				t.Errorf("%s: x-spa %q is not a router.procedure name", route, proc)
			}
		}
		if perm != PublicRoute {
			if _, ok := op.Responses["401"]; !ok {
				t.Errorf("%s does not document 401", route)
			}
		}
		if strings.Contains(route, "{orgId}") {
			if _, ok := op.Responses["404"]; !ok {
				t.Errorf("%s does not document 404", route)
			}
		}
	}
	for route := range ops {
		if _, ok := srv.RoutePermission(route); !ok {
			t.Errorf("%s is documented but not served", route)
		}
	}
}

// sweepFixture is one fully populated organisation (A) and a second tenant
// (B), with the ids every documented path may need.
type sweepFixture struct {
	owner, viewer, other *testUser
	orgA, orgB           string
	ids                  map[string]string // path parameter -> an id in org A
	filters              map[string]string // id query parameter -> an id in org A
	// inspectorToken is the token of an inspector link of org A showing
	// the unit's site (ids["inspectorLinkId"]) over the last 30 days.
	inspectorToken string
}

func newSweepFixture(h *harness) sweepFixture {
	f := sweepFixture{owner: h.user("owner"), viewer: h.user("viewer"), other: h.user("other")}
	f.orgA = h.org("Alpha", f.owner)
	f.orgB = h.org("Beta", f.other)
	h.member(f.orgA, f.viewer, access.Viewer)
	h.unit(f.orgB)
	f.fill(h, h.unit(f.orgA), nil)
	return f
}

// fill gives organisation A one row of every kind a documented path or
// filter names, around the unit u, creating those have does not name
// already (an imported organisation brings its own).
func (f *sweepFixture) fill(h *harness, u unitFixture, have map[string]string) {
	f.ids = map[string]string{"siteId": u.SiteID, "areaId": u.AreaID, "unitId": u.UnitID, "organizationId": f.orgA}
	for k, v := range have {
		f.ids[k] = v
	}
	create := func(key, sql string, args ...any) {
		if f.ids[key] == "" {
			var id string
			h.queryRow([]any{&id}, sql, args...)
			f.ids[key] = id
		}
	}
	create("sensorId", `INSERT INTO sensors (organization_id, unit_id, dev_eui) VALUES ($1, $2, 'A84041000181C0DE') RETURNING id`, f.orgA, u.UnitID)
	create("alertId", `INSERT INTO alerts (organization_id, unit_id, type, severity, status, title, triggered_at)
		VALUES ($1, $2, 'temp_excursion', 'critical', 'active', 'Too warm', now()) RETURNING id`, f.orgA, u.UnitID)
	create("memberId", `SELECT id FROM memberships WHERE organization_id = $1 AND user_id = $2`, f.orgA, f.owner.ID)
	create("contactId", `INSERT INTO escalation_contacts (organization_id, name, phone) VALUES ($1, 'Alice', '+15555550101') RETURNING id`, f.orgA)
	create("policyId", `INSERT INTO notification_policies (organization_id, steps)
		VALUES ($1, jsonb_build_array(jsonb_build_object('after_minutes', 0, 'channels', jsonb_build_array('sms'), 'contact_ids', jsonb_build_array($2::text)))) RETURNING id`, f.orgA, f.ids["contactId"])
	create("assetId", `INSERT INTO assets (organization_id, kind, entity_id, s3_key, content_type, size_bytes, status)
		VALUES ($1, 'unit_photo', $2, 'sweep/unit_photo/0123456789abcdef.png', 'image/png', 1024, 'ready') RETURNING id`, f.orgA, u.UnitID)
	create("gatewayId", `INSERT INTO gateways (organization_id, site_id, gateway_id, gateway_eui, frequency_plan_id, cluster, provisioning_status)
		VALUES ($1, $2, 'sweep-gw', 'B827EBFFFE000001', 'EU_863_870_TTN', 'eu1', 'registered') RETURNING id`, f.orgA, u.SiteID)
	create("invitationId", `INSERT INTO memberships (organization_id, invited_email, role, status, invited_at, invite_sent_at, invite_expires_at)
		VALUES ($1, 'sweep-invitee@example.test', 'staff', 'pending', now(), now(), now() + interval '7 days') RETURNING id`, f.orgA)
	create("exportId", `INSERT INTO organization_exports (organization_id, email) VALUES ($1, 'owner@example.test') RETURNING id`, f.orgA)
	create("annotationId", `INSERT INTO unit_annotations (organization_id, unit_id, author_user_id, at, body)
		VALUES ($1, $2, $3, now(), 'Sweep note') RETURNING id`, f.orgA, u.UnitID, f.owner.ID)
	create("layoutId", `INSERT INTO dashboard_layouts (organization_id, user_id, entity_type, entity_id, slot, name, layout)
		VALUES ($1, $2, 'organization', $1, 1, 'Sweep layout', '{}') RETURNING id`, f.orgA, f.owner.ID)
	if f.ids["inspectorLinkId"] == "" {
		token, hash := domain.NewInspectorToken()
		create("inspectorLinkId", `INSERT INTO inspector_links (organization_id, name, site_ids, period_from, period_to, token_hash,
				token_last4, expires_at)
			VALUES ($1, 'Sweep inspection', ARRAY[$2::uuid], current_date - 30, current_date, $3, right($4, 4), now() + interval '7 days')
			RETURNING id`, f.orgA, u.SiteID, hash, token)
		f.inspectorToken = token
	}
	create("sensorModelId", `INSERT INTO sensor_model_settings (organization_id, model, low_battery_volts, low_battery_percent)
		VALUES ($1, 'Sweep model', 2.9, 20) RETURNING id`, f.orgA)
	// Query filters naming rows of organisation A.
	f.filters = map[string]string{"site_id": u.SiteID, "area_id": u.AreaID, "unit_id": u.UnitID, "alert_id": f.ids["alertId"],
		"contact_id": f.ids["contactId"], "entity_id": u.UnitID, "actor_user_id": f.owner.ID}
}

// idFilters are the operation's query parameters that name a row by id.
func idFilters(op operation) []string {
	var out []string
	for _, p := range op.Parameters {
		if p.In == "query" && p.Schema.Format == "uuid" {
			out = append(out, p.Name)
		}
	}
	return out
}

// requiredQuery is the operation's required query parameters, from their
// examples.
func requiredQuery(t *testing.T, op operation) url.Values {
	q := url.Values{}
	for _, p := range op.Parameters {
		if p.In == "query" && p.Required {
			if p.Example == nil {
				t.Fatalf("required query parameter %s has no example", p.Name)
			}
			q.Set(p.Name, fmt.Sprint(p.Example))
		}
	}
	return q
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// concrete fills a documented path with ids; orgId is given separately.
func (f sweepFixture) concrete(t *testing.T, path, orgID string) string {
	return pathParam.ReplaceAllStringFunc(path, func(m string) string {
		name := m[1 : len(m)-1]
		if name == "orgId" {
			return orgID
		}
		id, ok := f.ids[name]
		if !ok {
			t.Fatalf("%s: no fixture id for {%s}", path, name)
		}
		return id
	})
}

func exampleBody(op operation) any {
	if op.RequestBody == nil {
		return nil
	}
	if c, ok := op.RequestBody.Content["application/json"]; ok && c.Example != nil {
		return c.Example
	}
	return map[string]any{}
}

func sortedKeys(ops map[string]operation) []string {
	keys := make([]string, 0, len(ops))
	for k := range ops {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestAccessSweep calls every documented operation as four kinds of caller:
// nobody (401), a stranger to the organisation (404), the owner of another
// organisation using this organisation's resource ids on their own
// organisation's path (404: every query filters by organisation), and a
// viewer attempting a write (403).
func TestAccessSweep(t *testing.T) {
	h := newHarness(t)
	accessSweep(t, h, newSweepFixture(h))
}

// accessSweep is TestAccessSweep's check of one organisation (A) of f,
// shared with the sweep of an organisation imported from the origin.
func accessSweep(t *testing.T, h *harness, f sweepFixture) {
	ops := documented(t)
	for _, key := range sortedKeys(ops) {
		op := ops[key]
		method, path, _ := strings.Cut(key, " ")
		if op.Permission == PublicRoute {
			continue
		}
		t.Run(key, func(t *testing.T) {
			body := exampleBody(op)
			if r := h.do(nil, method, f.concrete(t, path, f.orgA), body); r.Status != http.StatusUnauthorized {
				t.Errorf("without a token: %d %s", r.Status, r.Body)
			}
			if op.Permission == string(PlatformAdmin) {
				// Signed in, an owner even, but no operator: 403.
				if r := h.do(f.owner, method, f.concrete(t, path, f.orgA), body); r.Status != http.StatusForbidden {
					t.Errorf("a member who is no operator: %d %s", r.Status, r.Body)
				}
			}
			if !strings.Contains(path, "{orgId}") {
				return
			}
			if r := h.do(f.other, method, f.concrete(t, path, f.orgA), body); r.Status != http.StatusNotFound {
				t.Errorf("a stranger to the organisation: %d %s", r.Status, r.Body)
			}
			if pathParam.FindAllString(path, -1) != nil && len(pathParam.FindAllString(path, -1)) > 1 {
				if r := h.do(f.other, method, f.concrete(t, path, f.orgB), body); r.Status != http.StatusNotFound {
					t.Errorf("another tenant's resource ids on their own organisation's path: %d %s", r.Status, r.Body)
				}
			}
			// A write the matrix keeps from viewers is 403 (a write every
			// member may do, such as leaving or their own dashboard
			// layouts, is the route's own business).
			if method != http.MethodGet && op.Permission != string(access.ReadOrganization) {
				if r := h.do(f.viewer, method, f.concrete(t, path, f.orgA), body); r.Status != http.StatusForbidden {
					t.Errorf("a viewer writing: %d %s", r.Status, r.Body)
				}
			}
			// Every id filter is checked against the caller's organisation:
			// organisation A's id as a filter on B's own list is 404, never
			// an empty page (which would still say "exists elsewhere" to
			// nobody, but breaks the contract and hides client bugs).
			for _, name := range idFilters(op) {
				id, ok := f.filters[name]
				if !ok {
					t.Fatalf("no fixture id for the query filter %s", name)
				}
				q := requiredQuery(t, op)
				q.Set(name, id)
				if r := h.do(f.other, method, f.concrete(t, path, f.orgB)+"?"+q.Encode(), body); r.Status != http.StatusNotFound {
					t.Errorf("another organisation's id as the %s filter: %d %s", name, r.Status, r.Body)
				}
				// The caller's own id is accepted.
				if r := h.do(f.owner, method, f.concrete(t, path, f.orgA)+"?"+q.Encode(), body); r.Status >= 400 {
					t.Errorf("the organisation's own id as the %s filter: %d %s", name, r.Status, r.Body)
				}
			}
		})
	}
}
