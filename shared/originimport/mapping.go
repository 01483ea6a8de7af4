package originimport

// The mapping of the origin's tables to ours, in one place: which origin
// table feeds which of ours, how a row is converted column by column, and
// which origin tables are left behind and why. A change of our schema (a
// renamed table, a new column) is an edit here; the writer (write.go) and
// the readings copy (readings.go) only follow these definitions.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
)

// row is one row of one of our tables, by column name. The writer sends
// rows as JSON to jsonb_populate_recordset, which casts each value to its
// column's type.
type row map[string]any

// destination is one of our tables as the importer writes it.
type destination struct {
	Table   string
	Columns []string // what the importer sets; the others keep their defaults
	// Conflict is the ON CONFLICT target; "" means that a row conflicting
	// with any unique index is left alone (history rows).
	Conflict string
	// Update are the columns a later run refreshes from the origin when they
	// differ (configuration the origin's users still edit until the SPA
	// switches). nil: insert only. Columns our functions own (a unit's alert
	// state, a sensor's health) are never among them.
	Update []string
	// Guard is an extra condition on those updates, over the existing row t.
	Guard string
}

// Our tables, in the order they are written (parents first).
var (
	toOrganizations = destination{Table: "organizations",
		Columns:  []string{"id", "name", "slug", "timezone", "temp_unit", "compliance_mode", "plan", "sensor_limit", "stripe_customer_id", "trial_ends_at", "import_state", "created_at"},
		Conflict: "(id)",
		Update:   []string{"name", "timezone", "compliance_mode", "plan", "sensor_limit", "stripe_customer_id", "trial_ends_at"}}
	// A user who already signed in to FrostGuard keeps its row as it is.
	toUsers = destination{Table: "users",
		Columns:  []string{"id", "subject", "email", "display_name", "phone", "phone_verified_at", "created_at"},
		Conflict: "(subject)"}
	toMemberships = destination{Table: "memberships",
		Columns:  []string{"id", "organization_id", "user_id", "role", "status", "accepted_at", "created_at"},
		Conflict: "(organization_id, user_id)",
		Update:   []string{"role"}}
	toSites = destination{Table: "sites",
		Columns:  []string{"id", "organization_id", "name", "address_line1", "city", "region", "postal_code", "country", "timezone", "latitude", "longitude", "deleted_at", "created_at"},
		Conflict: "(id)",
		Update:   []string{"name", "address_line1", "city", "region", "postal_code", "country", "timezone", "latitude", "longitude", "deleted_at"}}
	toAreas = destination{Table: "areas",
		Columns:  []string{"id", "organization_id", "site_id", "name", "description", "sort_order", "deleted_at", "created_at"},
		Conflict: "(id)",
		Update:   []string{"site_id", "name", "description", "sort_order", "deleted_at"}}
	toUnits = destination{Table: "units",
		Columns: []string{"id", "organization_id", "site_id", "area_id", "name", "type", "sort_order", "temp_min_c", "temp_max_c", "hysteresis_c",
			"confirm_seconds", "door_confirm_seconds", "checkin_interval_seconds", "manual_log_interval_seconds", "deleted_at", "created_at", "status_since"},
		Conflict: "(id)",
		Update: []string{"site_id", "area_id", "name", "type", "sort_order", "temp_min_c", "temp_max_c", "hysteresis_c",
			"confirm_seconds", "door_confirm_seconds", "checkin_interval_seconds", "manual_log_interval_seconds", "deleted_at"}}
	toSensors = destination{Table: "sensors",
		Columns:  []string{"id", "organization_id", "unit_id", "dev_eui", "ttn_device_id", "name", "model", "battery_percent", "rssi", "last_seen_at", "deleted_at", "created_at"},
		Conflict: "(id)",
		Update:   []string{"unit_id", "name", "deleted_at"}}
	toConnections = destination{Table: "ttn_connections",
		Columns:  []string{"id", "organization_id", "name", "application_id", "secret_hash", "secret_last4", "secret_rotated_at", "is_active", "cluster", "created_at"},
		Conflict: "(id)",
		Update:   []string{"application_id", "secret_hash", "secret_last4", "is_active"}}
	toContacts = destination{Table: "escalation_contacts",
		Columns:  []string{"id", "organization_id", "user_id", "name", "phone", "email", "priority", "is_active", "created_at"},
		Conflict: "(id)",
		Update:   []string{"user_id", "name", "phone", "email", "priority", "is_active"}}
	toPolicies = destination{Table: "notification_policies",
		Columns:  []string{"id", "organization_id", "site_id", "unit_id", "alert_type", "name", "steps", "notify_on_resolve", "quiet_hours_start", "quiet_hours_end", "enabled", "created_at"},
		Conflict: "(id)",
		Update:   []string{"name", "steps", "notify_on_resolve", "quiet_hours_start", "quiet_hours_end", "enabled"}}
	// Once Stripe has sent FrostGuard an event for the subscription, ours is
	// the better mirror of Stripe: the origin's row is no longer copied.
	toSubscriptions = destination{Table: "subscriptions",
		Columns:  []string{"id", "organization_id", "stripe_subscription_id", "stripe_customer_id", "plan", "status", "current_period_start", "current_period_end", "canceled_at", "trial_ends_at", "created_at"},
		Conflict: "(organization_id)",
		Update:   []string{"stripe_subscription_id", "stripe_customer_id", "plan", "status", "current_period_start", "current_period_end", "canceled_at", "trial_ends_at"},
		Guard:    "t.last_event_created IS NULL"}
	toManualLogs = destination{Table: "manual_temperature_logs",
		Columns: []string{"id", "organization_id", "unit_id", "user_id", "temperature_c", "recorded_at", "notes", "created_at"}}
	toDoorEvents = destination{Table: "door_events",
		Columns: []string{"id", "organization_id", "unit_id", "sensor_id", "state", "changed_at", "received_at"}}
	toAlerts = destination{Table: "alerts",
		Columns: []string{"id", "organization_id", "unit_id", "sensor_id", "type", "severity", "status", "title", "message", "triggered_at", "temperature_c", "limit_c", "details",
			"acknowledged_by", "acknowledged_at", "acknowledged_note", "resolved_by", "resolved_at", "resolved_note", "resolution", "escalation_step", "created_at"}}
	toAlertEvents = destination{Table: "alert_events",
		Columns: []string{"id", "organization_id", "alert_id", "kind", "actor_user_id", "note", "data", "at"}}
)

// destinations in write order.
var destinations = []destination{toOrganizations, toUsers, toMemberships, toSites, toAreas, toUnits, toSensors,
	toConnections, toContacts, toPolicies, toSubscriptions, toManualLogs, toDoorEvents, toAlerts, toAlertEvents}

// notImported are the origin tables left behind, with the reason the report
// and docs/MIGRATION.md give; column = ANY(list) scopes them to the
// organisation (list: org, connections, units, rules, alerts, devices, sites).
var notImported = []struct{ table, column, list, why string }{
	{"gateways", "ttn_connection_id", "connections", "gateways stay registered in The Things Stack; add them in FrostGuard with the gateway owner's API key (PUT .../ttn-connection/gateway-credentials, POST .../gateways)"},
	{"sms_configs", "organization_id", "org", "per-organisation Telnyx keys (stored in plaintext by the origin) are not carried: FrostGuard sends from its own Telnyx account"},
	{"notification_settings", "organization_id", "org", "the origin's e-mail switches have no equivalent: notification policies decide who is paged"},
	{"event_logs", "organization_id", "org", "the origin's audit trail stays in the origin (its schema drifted from its migrations); FrostGuard's audit_log starts at the import"},
	{"reading_metrics", "unit_id", "units", "derived from the readings, which are imported"},
	{"alert_rules_history", "alert_rule_id", "rules", "the history of rule edits stays in the origin"},
	{"notification_deliveries", "alert_id", "alerts", "past deliveries stay in the origin; importing them into the outbox could send them again"},
	{"calibration_records", "device_id", "devices", "no calibration records in FrostGuard yet"},
	{"pairing_sessions", "device_id", "devices", "temporary pairing state"},
	{"hubs", "site_id", "sites", "BLE hubs: FrostGuard monitors LoRaWAN sensors only"},
}

// uuidNamespace makes the ids of rows the origin has no id for (a contact
// for a user paged by role, an alert's events) derived, so a second run
// finds them again.
var uuidNamespace = "frostguard-origin-import"

// derivedID is a name-based (SHA-256, truncated) UUID of parts.
func derivedID(parts ...string) string {
	sum := sha256.Sum256([]byte(uuidNamespace + "\x00" + strings.Join(parts, "\x00")))
	sum[6] = sum[6]&0x0f | 0x80 // version 8: custom
	sum[8] = sum[8]&0x3f | 0x80
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ---------------------------------------------------------------------------
// organizations, subscriptions
// ---------------------------------------------------------------------------

var slugInvalid = regexp.MustCompile(`[^a-z0-9-]+`)

// slugFor is the origin's slug made valid for us (lower case, [a-z0-9-],
// 63 characters).
func slugFor(origin, id string) string {
	s := strings.Trim(slugInvalid.ReplaceAllString(strings.ToLower(strings.TrimSpace(origin)), "-"), "-")
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		s = "org-" + id[:8]
	}
	return s
}

func (p *planner) organization() {
	r := p.org
	name := strings.TrimSpace(r.str("name"))
	if name == "" {
		name = "Organisation " + p.orgID[:8]
		p.problem(Changed, "name_missing", "organizations", p.orgID, "the organisation has no name: imported as "+strconv.Quote(name))
	}
	slug := slugFor(r.str("slug"), p.orgID)
	if slug != r.str("slug") {
		p.problem(Changed, "slug_changed", "organizations", p.orgID, fmt.Sprintf("slug %q is not valid in FrostGuard: imported as %q", r.str("slug"), slug))
	}
	if p.ours.slugTaken {
		taken := slug
		slug = strings.TrimRight(slug[:min(len(slug), 58)], "-") + "-" + p.orgID[:4]
		p.problem(Changed, "slug_taken", "organizations", p.orgID, fmt.Sprintf("slug %q belongs to another FrostGuard organisation: imported as %q", taken, slug))
	}
	tz := r.str("timezone")
	if !domain.IsIANAZone(tz) {
		p.problem(Changed, "timezone_invalid", "organizations", p.orgID, fmt.Sprintf("time zone %q is not an IANA zone: imported as UTC", tz))
		tz = "UTC"
	}
	mode := r.str("compliance_mode")
	if mode != "haccp" {
		mode = "standard"
	}
	sub := p.subscription()
	plan, limit := "starter", 5
	if sub != nil {
		plan = sub["plan"].(string)
	}
	if l, ok := domain.PlanSensorLimit(plan); ok && sub != nil {
		limit = l
	} else if v, ok := r.integer("sensor_limit"); ok && v >= 0 {
		// no subscription, or a hand-set enterprise plan: the origin's limit
		limit = v
	}
	if n := p.activeSensors(); n > limit {
		p.problem(Noted, "over_sensor_limit", "organizations", p.orgID,
			fmt.Sprintf("%d active sensors for a limit of %d (%s): they keep working; adding more is refused until the plan allows it", n, limit, plan))
	}
	customer := any(nil)
	if sub != nil {
		customer = sub["stripe_customer_id"]
		for _, k := range []string{"stripe_customer_id", "stripe_subscription_id"} {
			if c, ok := sub[k].(*string); ok && c != nil && p.ours.customerElsewhere[*c] != "" {
				p.problem(Changed, "stripe_taken", "subscriptions", "", fmt.Sprintf("Stripe id %s belongs to FrostGuard organisation %s: the Stripe ids are not carried", *c, p.ours.customerElsewhere[*c]))
				customer = nil
				sub["stripe_customer_id"], sub["stripe_subscription_id"] = nil, nil
				break
			}
		}
	}
	o := row{"id": p.orgID, "name": name, "slug": slug, "timezone": tz, "temp_unit": p.displayUnit(), "compliance_mode": mode,
		"plan": plan, "sensor_limit": limit, "created_at": r.time("created_at"), "import_state": "importing"}
	if sub != nil {
		o["stripe_customer_id"] = customer
		o["trial_ends_at"] = sub["trial_ends_at"]
	}
	p.add("organizations", toOrganizations, o)
}

// displayUnit is the organisation's display unit: the one most of its live
// units were configured in (the origin had none per organisation; F was its
// default).
func (p *planner) displayUnit() string {
	c, f := 0, 0
	for _, u := range p.units {
		if u.deleted(p.now) != nil {
			continue
		}
		if strings.EqualFold(u.str("temp_unit"), "C") {
			c++
		} else {
			f++
		}
	}
	if c > f {
		return "C"
	}
	return "F"
}

// subscription converts the origin's subscription of the organisation: the
// most recently updated row when there are several (one per organisation is
// only a convention there), a trial without end when there is none (how the
// origin treated such an organisation).
func (p *planner) subscription() row {
	t := p.rep.table("subscriptions", "subscriptions")
	if p.subRow != nil {
		return p.subRow
	}
	subs := append([]record(nil), p.subs...)
	var live []record
	for _, s := range subs {
		if s.time("deleted_at") == nil {
			live = append(live, s)
		}
	}
	t.diff(-int64(len(subs)-len(live)), "soft-deleted in the origin")
	sort.SliceStable(live, func(i, j int) bool {
		a, b := live[i].time("updated_at"), live[j].time("updated_at")
		return a != nil && (b == nil || a.After(*b))
	})
	if len(live) == 0 {
		p.subRow = row{"id": derivedID(p.orgID, "subscription"), "organization_id": p.orgID, "plan": "starter", "status": "trial"}
		t.diff(1, "created: the origin has none (a trial without an end date, as the origin treated it)")
		p.problem(Noted, "no_subscription", "subscriptions", "", "no subscription in the origin: imported as a trial without an end date on the starter plan")
		p.add("subscriptions", toSubscriptions, p.subRow)
		return nil
	}
	if len(live) > 1 {
		t.diff(-int64(len(live)-1), "older rows of the organisation (one per organisation is a convention only in the origin): the most recently updated is kept")
		p.problem(Changed, "subscription_duplicates", "subscriptions", live[0].id("id"),
			fmt.Sprintf("%d subscription rows: the most recently updated is imported", len(live)))
	}
	s := live[0]
	status := s.str("status")
	switch status {
	case "trial", "active", "past_due", "canceled", "paused":
	default:
		p.problem(Changed, "subscription_status", "subscriptions", s.id("id"), fmt.Sprintf("status %q is unknown: imported as incomplete (no access until Stripe says otherwise)", status))
		status = "incomplete"
	}
	plan := s.str("plan")
	switch plan {
	case "starter", "pro", "haccp", "enterprise":
	default:
		p.problem(Changed, "subscription_plan", "subscriptions", s.id("id"), fmt.Sprintf("plan %q is unknown: imported as starter", plan))
		plan = "starter"
	}
	p.subRow = row{"id": s.id("id"), "organization_id": p.orgID, "stripe_subscription_id": s.strp("stripe_subscription_id"),
		"stripe_customer_id": s.strp("stripe_customer_id"), "plan": plan, "status": status,
		"current_period_start": s.time("current_period_start"), "current_period_end": s.time("current_period_end"),
		"canceled_at": s.time("canceled_at"), "trial_ends_at": s.time("trial_ends_at"), "created_at": s.time("created_at")}
	p.add("subscriptions", toSubscriptions, p.subRow)
	return p.subRow
}

// ---------------------------------------------------------------------------
// profiles, user_roles -> users, memberships
// ---------------------------------------------------------------------------

// people converts the organisation's members (user_roles) and every profile
// they or the organisation's rows refer to. The Stack Auth user id is the
// same on both sides: users.subject, so people keep signing in.
func (p *planner) people() {
	tu := p.rep.table("profiles", "users")
	bySubject := map[string]record{}
	for _, pr := range p.profiles {
		subject := pr.id("user_id")
		p.profileUser[pr.id("id")] = subject
		if _, dup := bySubject[subject]; dup {
			tu.diff(-1, "a second profile of the same user")
			continue
		}
		bySubject[subject] = pr
	}
	add := func(subject string, pr record) {
		if _, done := p.userID[subject]; done {
			return
		}
		id := p.ours.users[subject]
		if id == "" {
			id = derivedID("user", subject)
		}
		p.userID[subject] = id
		u := row{"id": id, "subject": subject}
		if pr != nil {
			u["email"] = pr.strp("email")
			u["display_name"] = pr.strp("full_name")
			u["created_at"] = pr.time("created_at")
			if raw := pr.strp("phone"); raw != nil {
				if phone, ok := domain.NormalizePhone(*raw); ok {
					u["phone"] = phone
					if pr.boolean("phone_verified", false) {
						u["phone_verified_at"] = pr.time("updated_at")
					}
				} else {
					p.problem(Changed, "phone_invalid", "profiles", pr.id("id"), fmt.Sprintf("phone %q is not an international number: not imported", *raw))
				}
			}
		} else {
			tu.diff(1, "created for a member the origin has no profile for (e-mail and name come at first sign-in)")
		}
		p.add("profiles", toUsers, u)
	}
	tm := p.rep.table("user_roles", "memberships")
	for _, r := range p.roles {
		subject := r.id("user_id")
		role := r.str("role")
		switch role {
		case "owner", "admin", "manager", "staff", "viewer", "inspector":
		default:
			tm.diff(-1, "role unknown to FrostGuard")
			p.problem(Changed, "role_unknown", "user_roles", r.id("id"), fmt.Sprintf("role %q is unknown: membership not imported", role))
			continue
		}
		add(subject, bySubject[subject])
		p.add("user_roles", toMemberships, row{"id": r.id("id"), "organization_id": p.orgID, "user_id": p.userID[subject], "role": role,
			"status": "active", "accepted_at": r.time("created_at"), "created_at": r.time("created_at")})
	}
	for _, subject := range sortedKeys(bySubject) {
		pr := bySubject[subject]
		if _, member := p.userID[subject]; !member && pr.id("organization_id") == p.orgID {
			p.problem(Noted, "profile_without_role", "profiles", pr.id("id"),
				"a profile without a role in the organisation: imported as a user (its manual logs and acknowledgements keep their author), with no membership")
		}
		if pr.id("organization_id") == p.orgID || p.userID[subject] != "" {
			add(subject, pr)
		} else {
			tu.diff(-1, "profile of another organisation's user, referred to by nobody here")
		}
	}
}

// actor is our user id for an origin profile id (nil when unknown).
func (p *planner) actor(profileID string) any {
	if subject := p.profileUser[profileID]; subject != "" && p.userID[subject] != "" {
		return p.userID[subject]
	}
	return nil
}

// ---------------------------------------------------------------------------
// sites, areas, units (+ alert_rules)
// ---------------------------------------------------------------------------

func (p *planner) hierarchy() {
	for _, s := range p.sites {
		id := s.id("id")
		country := s.strp("country")
		if country != nil {
			c := strings.ToUpper(*country)
			if len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' {
				country = &c
			} else {
				p.problem(Changed, "country_invalid", "sites", id, fmt.Sprintf("country %q is not an ISO 3166 code: not imported", *country))
				country = nil
			}
		}
		lat, lon := coordinate(s.str("latitude"), 90), coordinate(s.str("longitude"), 180)
		if (lat == nil) != (lon == nil) || (s.str("latitude") != "" && lat == nil) {
			p.problem(Changed, "coordinates_invalid", "sites", id, fmt.Sprintf("coordinates %q, %q are not a position: not imported", s.str("latitude"), s.str("longitude")))
			lat, lon = nil, nil
		}
		var tz any
		if z := s.str("timezone"); z != "" && z != p.org.str("timezone") {
			if domain.IsIANAZone(z) {
				tz = z
			} else {
				p.problem(Changed, "timezone_invalid", "sites", id, fmt.Sprintf("time zone %q is not an IANA zone: the organisation's applies", z))
			}
		}
		p.siteLive[id] = s.deleted(p.now) == nil
		p.add("sites", toSites, row{"id": id, "organization_id": p.orgID, "name": nonBlank(s.str("name"), "Site"),
			"address_line1": s.strp("address"), "city": s.strp("city"), "region": s.strp("state"), "postal_code": s.strp("postal_code"),
			"country": country, "timezone": tz, "latitude": lat, "longitude": lon, "deleted_at": s.deleted(p.now), "created_at": s.time("created_at")})
	}
	for _, a := range p.areas {
		id := a.id("id")
		p.areaSite[id] = a.id("site_id")
		p.add("areas", toAreas, row{"id": id, "organization_id": p.orgID, "site_id": a.id("site_id"), "name": nonBlank(a.str("name"), "Area"),
			"description": a.strp("description"), "sort_order": intOr(a, "sort_order", 0), "deleted_at": a.deleted(p.now), "created_at": a.time("created_at")})
	}
	tr := p.rep.table("alert_rules", "units")
	tr.diff(-int64(len(p.rules)), "folded into the units they govern (thresholds, confirm delay, check-in and manual-log intervals)")
	for _, u := range p.units {
		p.unit(u)
	}
}

// unitTypes are the origin's unit types we know (all of them; ours adds other).
var unitTypes = map[string]bool{"fridge": true, "freezer": true, "display_case": true, "walk_in_cooler": true, "walk_in_freezer": true, "blast_chiller": true}

// unit converts one unit with the thresholds and timers the origin really
// enforced: the unit's own thresholds, overridden (when not null) by the
// most specific enabled alert rule (unit, else site, else organisation),
// whose delay_minutes was the confirm time (600 s without a rule).
func (p *planner) unit(u record) {
	id := u.id("id")
	site := p.areaSite[u.id("area_id")]
	typ := u.str("unit_type")
	if !unitTypes[typ] {
		p.problem(Changed, "unit_type_unknown", "units", id, fmt.Sprintf("type %q is unknown: imported as other", typ))
		typ = "other"
	}
	tempUnit := u.str("temp_unit")
	rule := p.ruleFor(id, site)
	min, minOK := u.num("temp_min")
	max, maxOK := u.num("temp_max")
	var detail []string
	if rule != nil {
		if v, ok := rule.num("temp_min"); ok {
			min, minOK = v, true
			detail = append(detail, "minimum from rule "+strconv.Quote(rule.str("name")))
		}
		if v, ok := rule.num("temp_max"); ok {
			max, maxOK = v, true
			detail = append(detail, "maximum from rule "+strconv.Quote(rule.str("name")))
		}
	}
	// no lower (upper) limit at all: the widest our schema holds
	minC, maxC := -200.0, 200.0
	if minOK {
		minC = ThresholdC(min, tempUnit)
	}
	if maxOK {
		maxC = ThresholdC(max, tempUnit)
	}
	if !minOK || !maxOK {
		p.problem(Noted, "threshold_missing", "units", id, "a threshold is null in the unit and its rules: imported as no limit on that side (-200 / 200 °C)")
	}
	info := &unitPlan{id: id, typ: typ, live: u.deleted(p.now) == nil && p.siteLive[site], minC: minC, maxC: maxC}
	p.unitInfo[id] = info
	if minC >= maxC || minC < -200 || maxC > 200 {
		p.problem(Blocking, "thresholds_impossible", "units", id,
			fmt.Sprintf("unit %q: thresholds %v..%v °%s (%.2f..%.2f °C) cannot be enforced (%s): correct them in the origin",
				u.str("name"), min, max, strings.ToUpper(nonBlank(tempUnit, "F")), minC, maxC, strings.Join(append(detail, "the unit's own otherwise"), ", ")))
		return
	}
	band := PlausibleBand(typ)
	if maxC < band.Min || minC > band.Max {
		p.problem(Changed, "thresholds_implausible", "units", id, fmt.Sprintf("unit %q (%s): %.2f..%.2f °C is outside where such a unit can be (%v..%v °C); imported as configured: check the unit's temp_unit in the origin",
			u.str("name"), typ, minC, maxC, band.Min, band.Max))
	}
	// the origin's hysteresis was a fixed 0.5 °C
	hyst := 0.5
	if maxC-minC <= 2*hyst {
		hyst = 0
		p.problem(Changed, "hysteresis_dropped", "units", id, fmt.Sprintf("unit %q: the range %.2f..%.2f °C is too narrow for 0.5 °C of hysteresis: imported without", u.str("name"), minC, maxC))
	}
	confirm, doorConfirm, checkin := 600, 1200, 300
	var manual any
	if v, ok := u.integer("manual_monitoring_interval"); ok && u.boolean("manual_monitoring_required", false) && v > 0 {
		manual = clamp(v*60, domain.MinManualLogSeconds, domain.MaxManualLogSeconds)
	}
	if rule != nil {
		if v, ok := rule.integer("delay_minutes"); ok && v >= 0 {
			confirm = clamp(v*60, 0, domain.MaxConfirmSeconds)
		}
		if v, ok := rule.integer("excursion_confirm_minutes_door_closed"); ok && v >= 0 {
			confirm = clamp(v*60, 0, domain.MaxConfirmSeconds)
		}
		if v, ok := rule.integer("excursion_confirm_minutes_door_open"); ok && v >= 0 {
			doorConfirm = clamp(v*60, 0, domain.MaxConfirmSeconds)
		}
		if v, ok := rule.integer("expected_reading_interval_seconds"); ok && v > 0 {
			checkin = clamp(v, domain.MinCheckinSeconds, domain.MaxCheckinSeconds)
		}
		if v, ok := rule.integer("manual_interval_minutes"); ok && v > 0 && manual != nil {
			manual = clamp(v*60, domain.MinManualLogSeconds, domain.MaxManualLogSeconds)
		}
	}
	created := u.time("created_at")
	p.add("units", toUnits, row{"id": id, "organization_id": p.orgID, "site_id": site, "area_id": u.id("area_id"),
		"name": nonBlank(u.str("name"), "Unit"), "type": typ, "sort_order": intOr(u, "sort_order", 0),
		"temp_min_c": minC, "temp_max_c": maxC, "hysteresis_c": hyst, "confirm_seconds": confirm, "door_confirm_seconds": doorConfirm,
		"checkin_interval_seconds": checkin, "manual_log_interval_seconds": manual, "deleted_at": u.deleted(p.now),
		"created_at": created, "status_since": created})
}

// ruleFor is the origin's governing alert rule of a unit: the enabled rule
// of the unit, else of its site, else of the organisation.
func (p *planner) ruleFor(unit, site string) record {
	var siteRule, orgRule record
	for _, r := range p.rules {
		if !r.boolean("is_enabled", true) {
			continue
		}
		switch {
		case r.id("unit_id") == unit:
			return r
		case r.id("unit_id") == "" && r.id("site_id") == site && site != "":
			siteRule = r
		case r.id("unit_id") == "" && r.id("site_id") == "":
			orgRule = r
		}
	}
	if siteRule != nil {
		return siteRule
	}
	return orgRule
}

// ---------------------------------------------------------------------------
// devices + lora_sensors -> sensors
// ---------------------------------------------------------------------------

// sensors converts the organisation's LoRaWAN devices. The DevEUI is the
// LoRa registration's (else the device's), normalised. DevEUIs are unique
// per organisation in FrostGuard (an uplink reaches a sensor through the
// application that delivered it): a DevEUI active in several origin
// organisations (the origin's unique index is case-sensitive) is imported
// in each and reported; a second active device of the same DevEUI in one
// organisation, or one FrostGuard already registered there, is imported
// unregistered.
func (p *planner) sensors() {
	t := p.rep.table("devices", "sensors")
	active := map[string]string{} // DevEUI -> the device imported active
	lora := map[string]record{}
	for _, l := range p.loras {
		lora[l.id("device_id")] = l
	}
	for _, d := range p.devices {
		id := d.id("id")
		l := lora[id]
		raw := d.str("device_eui")
		eui, err := deviceEUI(d, l)
		if err != nil {
			t.diff(-1, "not a LoRaWAN device (no 16-digit DevEUI): its readings are kept without a sensor")
			p.problem(Changed, "not_lorawan", "devices", id, fmt.Sprintf("device %q (%s, EUI %q) is not a LoRaWAN sensor: not imported as a sensor", d.str("name"), d.str("device_type"), raw))
			continue
		}
		unit := d.id("unit_id")
		if unit != "" && p.unitInfo[unit] == nil {
			unit = ""
		}
		deleted := d.deleted(p.now)
		if deleted == nil && unit != "" && !p.unitInfo[unit].live {
			deleted = &p.now
			p.problem(Noted, "sensor_of_deleted_unit", "devices", id, "an active device in a deleted unit or site: imported unregistered")
		}
		if deleted == nil {
			switch {
			case active[eui] != "":
				deleted = &p.now
				p.problem(Changed, "duplicate_dev_eui", "devices", id, fmt.Sprintf("DevEUI %s is also active on device %s of this organisation: imported unregistered", eui, active[eui]))
			case p.ours.euiTaken[eui] != "":
				deleted = &p.now
				p.problem(Changed, "duplicate_dev_eui", "devices", id, fmt.Sprintf("DevEUI %s is already registered in this organisation in FrostGuard (sensor %s): imported unregistered", eui, p.ours.euiTaken[eui]))
			default:
				active[eui] = id
				if others := p.dupEUIs[eui]; len(others) > 1 {
					p.problem(Noted, "duplicate_dev_eui", "devices", id, fmt.Sprintf("DevEUI %s is active in %d origin organisations (%s): imported in each (FrostGuard's DevEUIs are unique per organisation); the device's uplinks reach the one whose TTN application it uses", eui, len(others), strings.Join(others, ", ")))
				}
			}
		}
		var unitID any
		if unit != "" {
			unitID = unit
		}
		var battery, rssi any
		if v, ok := d.integer("battery"); ok && v >= 0 && v <= 100 {
			battery = v
		}
		if v, ok := d.integer("signal_strength"); ok && v >= math.MinInt16 && v <= math.MaxInt16 {
			rssi = v
		}
		model := d.strp("model")
		if l != nil && l.strp("model") != nil {
			model = l.strp("model")
		}
		var ttnID any
		if l != nil {
			ttnID = l.strp("ttn_device_id")
		}
		p.sensorOf[id] = id
		p.add("devices", toSensors, row{"id": id, "organization_id": p.orgID, "unit_id": unitID, "dev_eui": eui, "ttn_device_id": ttnID,
			"name": d.strp("name"), "model": model, "battery_percent": battery, "rssi": rssi, "last_seen_at": d.time("last_seen_at"),
			"deleted_at": deleted, "created_at": d.time("created_at")})
	}
	if n := int64(len(p.loras)); n > 0 {
		tl := p.rep.table("lora_sensors", "sensors")
		tl.diff(-n, "merged into their device's sensor (DevEUI, TTN device id); app keys are not carried: they live in the Join Server")
	}
}

// deviceEUI is a device's DevEUI: its LoRa registration's, else its own,
// normalised.
func deviceEUI(d, lora record) (string, error) {
	raw := d.str("device_eui")
	if lora != nil && lora.str("dev_eui") != "" {
		raw = lora.str("dev_eui")
	}
	return domain.NormalizeDevEUI(raw)
}

// normalizedEUIs is the device's DevEUI as a list (empty when it has none).
func normalizedEUIs(d record, loras []record) []string {
	var l record
	for _, x := range loras {
		if x.id("device_id") == d.id("id") {
			l = x
		}
	}
	if eui, err := deviceEUI(d, l); err == nil {
		return []string{eui}
	}
	return nil
}

// ---------------------------------------------------------------------------
// ttn_connections
// ---------------------------------------------------------------------------

// connections converts the organisation's TTN applications. The origin
// kept the webhook secret in plaintext; only its SHA-256 and last 4
// characters are stored, so TTN keeps sending the same secret and nothing
// changes there.
func (p *planner) connections() {
	t := p.rep.table("ttn_connections", "ttn_connections")
	for _, c := range p.conns {
		id := c.id("id")
		app := c.strp("application_id")
		if app == nil {
			app = c.strp("ttn_application_id")
		}
		switch {
		case c.time("deleted_at") != nil:
			t.diff(-1, "soft-deleted in the origin")
			continue
		case app == nil && (p.hasApplication() || p.keptAppless):
			t.diff(-1, "no TTN application was ever set up (the origin creates one with the organisation; one connection is kept, as FrostGuard creates one)")
			continue
		case app != nil && p.ours.appElsewhere[*app] != "":
			t.diff(-1, "the application is connected to another FrostGuard organisation")
			p.problem(Changed, "application_taken", "ttn_connections", id, fmt.Sprintf("TTN application %q is connected to FrostGuard organisation %s: not imported", *app, p.ours.appElsewhere[*app]))
			continue
		}
		secret := c.str("webhook_secret")
		if len(secret) < 4 {
			t.diff(-1, "no usable webhook secret")
			p.problem(Changed, "secret_missing", "ttn_connections", id, "the connection has no webhook secret: not imported (connect the application again)")
			continue
		}
		if prov := c.str("ttn_webhook_secret_encrypted"); prov != "" {
			if plain, ok := b64Secret(prov); ok && plain != secret {
				p.problem(Changed, "second_secret", "ttn_connections", id, fmt.Sprintf("the origin's provisioning configured TTN with another secret (…%s) than the one its receiver checked (…%s): only the latter is accepted", last4(plain), last4(secret)))
			} else if !ok {
				p.problem(Noted, "second_secret", "ttn_connections", id, "a provisioning secret encrypted with the origin's key is not readable: only webhook_secret is accepted")
			}
		}
		sum := sha256.Sum256([]byte(secret))
		var cluster any
		if r := strings.ToLower(c.str("ttn_region")); r == "eu1" || r == "nam1" || r == "au1" {
			cluster = r
		}
		if app == nil {
			p.keptAppless = true
		}
		p.add("ttn_connections", toConnections, row{"id": id, "organization_id": p.orgID, "application_id": app, "secret_hash": `\x` + hex.EncodeToString(sum[:]),
			"secret_last4": last4(secret), "secret_rotated_at": c.time("created_at"), "is_active": c.boolean("is_active", true),
			"cluster": cluster, "created_at": c.time("created_at")})
	}
}

// hasApplication reports whether one of the organisation's live origin
// connections names a TTN application.
func (p *planner) hasApplication() bool {
	for _, c := range p.conns {
		if c.time("deleted_at") == nil && (c.strp("application_id") != nil || c.strp("ttn_application_id") != nil) {
			return true
		}
	}
	return false
}

// b64Secret reads the FTP system's "b64:" form of a secret (plaintext in
// base64, not encryption).
func b64Secret(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "b64:")
	if !ok {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	return string(b), err == nil
}

func last4(s string) string {
	if len(s) < 4 {
		return s
	}
	return s[len(s)-4:]
}

// ---------------------------------------------------------------------------
// escalation_contacts, notification_policies
// ---------------------------------------------------------------------------

type contactPlan struct {
	id       string
	priority int
	active   bool
}

func (p *planner) contacts() {
	t := p.rep.table("escalation_contacts", "escalation_contacts")
	for _, c := range p.contactRecs {
		id := c.id("id")
		var phone, email any
		if raw := c.strp("phone"); raw != nil {
			if v, ok := domain.NormalizePhone(*raw); ok {
				phone = v
			} else {
				p.problem(Changed, "phone_invalid", "escalation_contacts", id, fmt.Sprintf("contact %q: phone %q is not an international number: not imported", c.str("name"), *raw))
			}
		}
		if e := c.strp("email"); e != nil && domain.ValidEmail(*e) {
			email = *e
		}
		if phone == nil && email == nil {
			t.diff(-1, "neither a usable phone nor an e-mail")
			p.problem(Changed, "contact_unreachable", "escalation_contacts", id, fmt.Sprintf("contact %q has no usable phone or e-mail: not imported", c.str("name")))
			continue
		}
		user := p.actor(c.id("profile_id"))
		if user == nil && c.id("user_id") != "" {
			if u := p.userID[c.id("user_id")]; u != "" {
				user = u
			}
		}
		prio := intOr(c, "priority", 0)
		cp := contactPlan{id: id, priority: prio, active: c.boolean("is_active", true)}
		p.contactList = append(p.contactList, cp)
		if u, ok := user.(string); ok && p.contactOfUser[u] == "" && cp.active {
			p.contactOfUser[u] = id
		}
		p.add("escalation_contacts", toContacts, row{"id": id, "organization_id": p.orgID, "user_id": user, "name": nonBlank(c.str("name"), "Contact"),
			"phone": phone, "email": email, "priority": clamp(prio, 0, 1000), "is_active": cp.active, "created_at": c.time("created_at")})
	}
}

// policyTypes maps the origin's alert types to ours: alarm_active was the
// newer system's name for a temperature alarm.
var policyTypes = map[string]string{
	"temp_excursion": "temp_excursion", "alarm_active": "temp_excursion", "monitoring_interrupted": "monitoring_interrupted",
	"missed_manual_entry": "missed_manual_entry", "low_battery": "low_battery", "sensor_fault": "sensor_fault",
	"door_open": "door_open", "suspected_cooling_failure": "suspected_cooling_failure",
}

// policies converts the legacy notification_policies to our steps:
//
//   - step 0 (after 0 min): the policy's initial channels (EMAIL, SMS; the
//     in-app ones have no equivalent) to the users whose role is in
//     notify_roles (owner and admin by default), as contacts (a user with no
//     contact gets one, derived, with the user's phone and e-mail);
//   - then, only when requires_ack (the origin escalated nothing otherwise),
//     each escalation step at its cumulative delay, on its channels, to the
//     active contacts whose priority is at most its contact_priority (all
//     without one) and the role users again; repeat carries to the last step.
//
// A policy left with no step pages nobody, as in the origin. Two origin
// policies of one scope that become one of ours (alarm_active and
// temp_excursion): the temp_excursion one is kept, the alert type the
// origin's paging used.
func (p *planner) policies() {
	t := p.rep.table("notification_policies", "notification_policies")
	type key struct{ site, unit, typ string }
	chosen := map[key]record{}
	for _, r := range p.policyRecs {
		id := r.id("id")
		typ, ok := policyTypes[r.str("alert_type")]
		if !ok {
			t.diff(-1, "alert type unknown to FrostGuard ("+r.str("alert_type")+")")
			p.problem(Changed, "policy_type_unknown", "notification_policies", id, fmt.Sprintf("a policy for %q alerts: FrostGuard has no such alerts, not imported", r.str("alert_type")))
			continue
		}
		k := key{r.id("site_id"), r.id("unit_id"), typ}
		if k.unit != "" && p.unitInfo[k.unit] == nil || k.site != "" && !p.hasSite(k.site) {
			t.diff(-1, "its site or unit is not the organisation's")
			continue
		}
		if prev, dup := chosen[k]; dup {
			keep, drop := prev, r
			if r.str("alert_type") == "temp_excursion" {
				keep, drop = r, prev
			}
			chosen[k] = keep
			t.diff(-1, "alarm_active and temp_excursion policies of one scope become one: the temp_excursion one is kept")
			p.problem(Changed, "policy_merged", "notification_policies", drop.id("id"), "an alarm_active and a temp_excursion policy of the same scope: the temp_excursion one is imported")
			continue
		}
		chosen[k] = r
	}
	keys := make([]key, 0, len(chosen))
	for k := range chosen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return chosen[keys[i]].id("id") < chosen[keys[j]].id("id") })
	for _, k := range keys {
		r := chosen[k]
		id := r.id("id")
		if other := p.ours.policyAt[[3]string{k.site, k.unit, k.typ}]; other != "" && other != id {
			t.diff(-1, "FrostGuard already has a policy for that scope and alert type")
			p.problem(Changed, "policy_exists", "notification_policies", id, "a policy for the same scope and alert type was created in FrostGuard: kept, the origin's not imported")
			continue
		}
		steps := p.policySteps(r)
		var site, unit, qs, qe any
		if k.site != "" {
			site = k.site
		}
		if k.unit != "" {
			unit = k.unit
		}
		if r.boolean("quiet_hours_enabled", false) {
			if s, e := clock(r.str("quiet_hours_start_local")), clock(r.str("quiet_hours_end_local")); s != "" && e != "" && s != e {
				qs, qe = s, e
			}
		}
		if extra := policyLosses(r); extra != "" {
			p.problem(Noted, "policy_settings_dropped", "notification_policies", id, extra)
		}
		p.add("notification_policies", toPolicies, row{"id": id, "organization_id": p.orgID, "site_id": site, "unit_id": unit, "alert_type": k.typ,
			"name": "Imported " + r.str("alert_type") + " policy", "steps": steps, "notify_on_resolve": r.boolean("send_resolved_notifications", false),
			"quiet_hours_start": qs, "quiet_hours_end": qe, "enabled": true, "created_at": r.time("created_at")})
	}
}

func (p *planner) hasSite(id string) bool { _, ok := p.siteLive[id]; return ok }

// policySteps builds our steps for an origin policy (see policies).
func (p *planner) policySteps(r record) []store.SweepStep {
	roles := r.strings("notify_roles")
	if _, present := r["notify_roles"]; !present || r["notify_roles"] == nil {
		roles = []string{"owner", "admin"}
	}
	roleContacts := p.roleContacts(roles)
	var steps []store.SweepStep
	if ch := channels(r.strings("initial_channels")); len(ch) > 0 && len(roleContacts) > 0 {
		steps = append(steps, store.SweepStep{AfterMinutes: 0, Channels: ch, ContactIDs: roleContacts})
	}
	if !r.boolean("requires_ack", false) {
		return nonNil(steps)
	}
	list, _ := r.jsonText("escalation_steps").([]any)
	after := 0
	for i, raw := range list {
		s, _ := raw.(map[string]any)
		delay, _ := toInt(s["delay_minutes"])
		after = min(after+max(delay, 0), 1440)
		chs, _ := s["channels"].([]any)
		var names []string
		for _, c := range chs {
			if n, ok := c.(string); ok {
				names = append(names, n)
			}
		}
		ch := channels(names)
		prio, hasPrio := toInt(s["contact_priority"])
		contacts := append([]string(nil), roleContacts...)
		for _, c := range p.contactList {
			if c.active && (!hasPrio || c.priority <= prio) && !contains(contacts, c.id) {
				contacts = append(contacts, c.id)
			}
		}
		if len(contacts) > 20 {
			contacts = contacts[:20]
			p.problem(Changed, "policy_contacts_capped", "notification_policies", r.id("id"), "an escalation step pages more than 20 contacts: the first 20 (roles, then by priority) are kept")
		}
		if len(ch) == 0 || len(contacts) == 0 {
			continue
		}
		step := store.SweepStep{AfterMinutes: after, Channels: ch, ContactIDs: contacts}
		if rep, _ := s["repeat"].(bool); rep && i == len(list)-1 && (len(steps) == 0 || after > steps[len(steps)-1].AfterMinutes) {
			step.Repeat = true
		}
		if len(steps) < 10 {
			steps = append(steps, step)
		}
	}
	return nonNil(steps)
}

// roleContacts are the contacts of the organisation's members whose role is
// one of roles, a derived one made for a member who has none.
func (p *planner) roleContacts(roles []string) []string {
	var out []string
	members := append([]record(nil), p.roles...)
	sort.SliceStable(members, func(i, j int) bool { return seniority[members[i].str("role")] < seniority[members[j].str("role")] })
	for _, r := range members {
		if !contains(roles, r.str("role")) {
			continue
		}
		user := p.userID[r.id("user_id")]
		if user == "" {
			continue
		}
		c := p.contactOfUser[user]
		if c == "" {
			c = p.userContact(user, r.id("user_id"))
		}
		if c != "" && !contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// seniority orders members paged by role: owners first.
var seniority = map[string]int{"owner": 0, "admin": 1, "manager": 2, "staff": 3, "viewer": 4, "inspector": 5}

// userContact makes (once) the contact of a member paged by role.
func (p *planner) userContact(user, subject string) string {
	var u row
	for _, x := range p.out["users"] {
		if x["subject"] == subject {
			u = x
		}
	}
	if u == nil || (absent(u["phone"]) && absent(u["email"])) {
		return ""
	}
	id := derivedID(p.orgID, "role-contact", subject)
	p.contactOfUser[user] = id
	p.contactList = append(p.contactList, contactPlan{id: id, priority: 0, active: true})
	var email any
	if e, ok := u["email"].(*string); ok && e != nil && domain.ValidEmail(*e) {
		email = *e
	}
	if absent(u["phone"]) && email == nil {
		return ""
	}
	p.rep.table("escalation_contacts", "escalation_contacts").diff(1, "created for members the origin paged by role (notify_roles)")
	p.add("escalation_contacts", toContacts, row{"id": id, "organization_id": p.orgID, "user_id": user, "name": nonBlank(strOf(u["display_name"]), "Member"),
		"phone": u["phone"], "email": email, "priority": 0, "is_active": true})
	return id
}

// channels maps the origin's channel names to ours (EMAIL, SMS; in-app and
// toast have no equivalent).
func channels(in []string) []string {
	var out []string
	for _, c := range in {
		switch strings.ToUpper(c) {
		case "SMS":
			if !contains(out, "sms") {
				out = append(out, "sms")
			}
		case "EMAIL":
			if !contains(out, "email") {
				out = append(out, "email")
			}
		}
	}
	return out
}

// policyLosses names the origin settings our policies cannot say.
func policyLosses(r record) string {
	var lost []string
	if r.boolean("reminders_enabled", false) {
		lost = append(lost, "reminders")
	}
	if s := r.str("severity_threshold"); s != "" && s != "WARNING" {
		lost = append(lost, "severity threshold "+s)
	}
	if r.boolean("allow_warning_notifications", false) {
		lost = append(lost, "allow_warning_notifications")
	}
	if v, ok := r.integer("ack_deadline_minutes"); ok && v > 0 {
		lost = append(lost, "an acknowledgement deadline")
	}
	if len(lost) == 0 {
		return ""
	}
	return "not carried (no equivalent in FrostGuard): " + strings.Join(lost, ", ")
}

// ---------------------------------------------------------------------------
// alerts, corrective_actions -> alerts, alert_events
// ---------------------------------------------------------------------------

// alertTypes maps the origin's alert types to ours (calibration_due has no
// equivalent).
var alertTypes = policyTypes

// alerts converts the alert history. The origin's escalated status is an
// open alert (active); an alert still open while a newer open one of the
// same unit and type exists (the origin's escalated alerts escaped its
// dedupe) is imported resolved, saying why. The trigger temperature (°C ×
// 10 in the newer system) goes through the temperature rule.
func (p *planner) alerts() {
	t := p.rep.table("alerts", "alerts")
	type openKey struct{ unit, typ string }
	newestOpen := map[openKey]record{}
	for _, a := range p.alertRecs {
		typ, ok := alertTypes[a.str("alert_type")]
		if !ok || !open(a.str("status")) {
			continue
		}
		k := openKey{a.id("unit_id"), typ}
		if prev := newestOpen[k]; prev == nil || later(a, prev) {
			newestOpen[k] = a
		}
	}
	for _, a := range p.alertRecs {
		id := a.id("id")
		unit := p.unitInfo[a.id("unit_id")]
		typ, ok := alertTypes[a.str("alert_type")]
		if !ok {
			t.diff(-1, "alert type unknown to FrostGuard ("+a.str("alert_type")+")")
			p.problem(Changed, "alert_type_unknown", "alerts", id, fmt.Sprintf("a %q alert: FrostGuard has no such alerts, not imported", a.str("alert_type")))
			continue
		}
		triggered := a.time("triggered_at")
		if triggered == nil {
			triggered = a.time("created_at")
		}
		status := a.str("status")
		var resolution, resolvedNote, ackNote any
		meta, _ := a.jsonText("metadata").(map[string]any)
		if n, _ := meta["acknowledgementNotes"].(string); n != "" {
			ackNote = n
		}
		if n, _ := meta["resolution"].(string); n != "" {
			resolvedNote = n
		}
		resolvedAt := a.time("resolved_at")
		switch status {
		case "escalated":
			status = "active"
		case "resolved":
			if resolvedAt == nil {
				resolvedAt = a.time("updated_at")
			}
			resolution = "auto"
			if a.id("resolved_by") != "" {
				resolution = "manual"
			}
		}
		if open(a.str("status")) && newestOpen[openKeyOf(a, typ)] != nil && newestOpen[openKeyOf(a, typ)].id("id") != id {
			status, resolution, resolvedAt = "resolved", "auto", &p.now
			resolvedNote = "Closed by the import: a newer open " + typ + " alert of this unit exists (the origin let two be open)."
			p.problem(Changed, "alert_duplicate_open", "alerts", id, "a second open alert of the same unit and type: imported resolved")
		}
		var ackAt any
		if status == "acknowledged" || a.time("acknowledged_at") != nil {
			if at := a.time("acknowledged_at"); at != nil {
				ackAt = *at
			} else {
				ackAt = *triggered
			}
		}
		temp, limit := p.alertTemperatures(a, unit)
		var sensor any
		if typ == "low_battery" || typ == "sensor_fault" {
			sensor = p.onlySensor(a.id("unit_id"))
		}
		title := nonBlank(a.str("message"), strings.ReplaceAll(typ, "_", " "))
		if len([]rune(title)) > 200 {
			title = string([]rune(title)[:200])
		}
		step := intOr(a, "escalation_level", 0)
		p.add("alerts", toAlerts, row{"id": id, "organization_id": p.orgID, "unit_id": a.id("unit_id"), "sensor_id": sensor, "type": typ,
			"severity": severity(a.str("severity")), "status": status, "title": title, "message": a.strp("message"), "triggered_at": triggered,
			"temperature_c": temp, "limit_c": limit, "details": map[string]any{"origin": map[string]any{"id": id, "type": a.str("alert_type"), "status": a.str("status"),
				"trigger_temperature": a["trigger_temperature"], "threshold_violated": a["threshold_violated"]}},
			"acknowledged_by": p.actor(a.id("acknowledged_by")), "acknowledged_at": ackAt, "acknowledged_note": ackNote,
			"resolved_by": p.actor(a.id("resolved_by")), "resolved_at": resolvedAtOr(status, resolvedAt), "resolved_note": resolvedNote,
			"resolution": resolution, "escalation_step": max(step, 0), "created_at": a.time("created_at")})
		p.alertEvents(a, id, *triggered, ackAt, ackNote, resolvedAt, resolvedNote, status)
	}
	for _, c := range p.actions {
		alert := c.id("alert_id")
		at := c.time("action_at")
		if at == nil {
			at = c.time("created_at")
		}
		note := strings.TrimSpace(c.str("description"))
		if a := strings.TrimSpace(c.str("action_taken")); a != "" {
			note += " — " + a
		}
		data := map[string]any{"origin": "corrective_actions", "id": c.id("id"), "resolved_alert": c.boolean("resolved_alert", false)}
		if u := c.strp("photo_url"); u != nil {
			data["photo_url"] = *u
		}
		p.add("corrective_actions", toAlertEvents, row{"id": c.id("id"), "organization_id": p.orgID, "alert_id": alert, "kind": "corrective_action",
			"actor_user_id": p.actor(c.id("profile_id")), "note": note, "data": data, "at": at})
	}
}

func openKeyOf(a record, typ string) struct{ unit, typ string } {
	return struct{ unit, typ string }{a.id("unit_id"), typ}
}

func open(status string) bool {
	return status == "active" || status == "acknowledged" || status == "escalated"
}

func later(a, b record) bool {
	ta, tb := a.time("triggered_at"), b.time("triggered_at")
	return ta != nil && (tb == nil || ta.After(*tb))
}

func resolvedAtOr(status string, at *time.Time) any {
	if status != "resolved" {
		return nil
	}
	return at
}

func severity(s string) string {
	switch s {
	case "info", "warning", "critical":
		return s
	}
	return "warning"
}

// timelineLine is the report's line of the events derived from alerts.
const timelineLine = "alerts (timeline)"

// alertEvents writes an imported alert's timeline (derived ids: a second
// run finds them again).
func (p *planner) alertEvents(a record, id string, triggered time.Time, ackAt, ackNote any, resolvedAt *time.Time, resolvedNote any, status string) {
	p.rep.table(timelineLine, toAlertEvents.Table)
	ev := func(kind string, actor, note any, at time.Time) {
		p.rep.table(timelineLine, toAlertEvents.Table).diff(1, "events of each imported alert: triggered, acknowledged, resolved")
		p.add(timelineLine, toAlertEvents, row{"id": derivedID(id, kind), "organization_id": p.orgID, "alert_id": id, "kind": kind,
			"actor_user_id": actor, "note": note, "data": map[string]any{"origin": "alerts"}, "at": at})
	}
	ev("triggered", nil, "Imported from the origin", triggered)
	if t, ok := ackAt.(time.Time); ok {
		ev("acknowledged", p.actor(a.id("acknowledged_by")), ackNote, t)
	}
	if status == "resolved" && resolvedAt != nil {
		ev("resolved", p.actor(a.id("resolved_by")), resolvedNote, *resolvedAt)
	}
}

// alertTemperatures are an alert's temperature (trigger_temperature is °C ×
// 10 in the newer system, judged by the temperature rule) and the limit it
// crossed (the unit's).
func (p *planner) alertTemperatures(a record, unit *unitPlan) (temp, limit any) {
	if unit == nil {
		return nil, nil
	}
	if v, ok := a.num("trigger_temperature"); ok {
		n := NewNormaliser(unit.typ).Normalise("", time.Time{}, v/10, "")
		if n.C != nil && n.Scale != OutOfRange {
			temp = *n.C
		}
		if n.Scale != Celsius {
			p.problem(Noted, "alert_temperature_"+string(n.Scale), "alerts", a.id("id"), fmt.Sprintf("trigger temperature %v (÷10 = %v) is %s: %s", v, v/10, n.Scale, keptOrConverted(n)))
		}
	}
	switch a.str("threshold_violated") {
	case "max":
		limit = unit.maxC
	case "min":
		limit = unit.minC
	}
	return temp, limit
}

func keptOrConverted(n Normalised) string {
	switch n.Scale {
	case Fahrenheit:
		return "converted to °C"
	case OutOfRange:
		return "not imported"
	}
	return "kept as stored"
}

// onlySensor is the unit's one live sensor (sensor-keyed alerts of the
// origin name none), nil when it has none or several.
func (p *planner) onlySensor(unit string) any {
	var found any
	for _, s := range p.out["sensors"] {
		if s["unit_id"] == unit && absent(s["deleted_at"]) {
			if found != nil {
				return nil
			}
			found = s["id"]
		}
	}
	return found
}

// ---------------------------------------------------------------------------
// manual_temperature_logs, door_events
// ---------------------------------------------------------------------------

func (p *planner) logs() {
	t := p.rep.table("manual_temperature_logs", "manual_temperature_logs")
	for _, l := range p.logRecs {
		id := l.id("id")
		unit := p.unitInfo[l.id("unit_id")]
		v, ok := l.num("temperature")
		if unit == nil || !ok {
			t.diff(-1, "no temperature")
			continue
		}
		n := NewNormaliser(unit.typ).Normalise("", time.Time{}, v, "")
		if n.C == nil {
			t.diff(-1, "temperature too large to store")
			p.problem(Changed, "log_out_of_range", "manual_temperature_logs", id, fmt.Sprintf("temperature %v cannot be stored: not imported", v))
			continue
		}
		if n.Scale != Celsius {
			p.problem(Noted, "log_temperature_"+string(n.Scale), "manual_temperature_logs", id, fmt.Sprintf("%v on a %s is %s: %s", v, unit.typ, n.Scale, keptOrConverted(n)))
		}
		notes := l.str("notes")
		if u := l.str("photo_url"); u != "" {
			notes = strings.TrimSpace(notes + "\nPhoto (origin): " + u)
		}
		var notesV any
		if notes != "" {
			notesV = notes
		}
		recorded := l.time("recorded_at")
		p.add("manual_temperature_logs", toManualLogs, row{"id": id, "organization_id": p.orgID, "unit_id": unit.id, "user_id": p.actor(l.id("profile_id")),
			"temperature_c": *n.C, "recorded_at": recorded, "notes": notesV, "created_at": firstTime(l.time("created_at"), recorded)})
		if unit.lastManual == nil || recorded.After(*unit.lastManual) {
			unit.lastManual = recorded
		}
	}
}

// doors converts door transitions (repeats of the same state are not
// transitions and are dropped; our door_events holds transitions only).
func (p *planner) doors() {
	t := p.rep.table("door_events", "door_events")
	type k struct{ unit, sensor string }
	last := map[k]string{}
	seen := map[[2]string]bool{}
	recs := append([]record(nil), p.doorRecs...)
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i].time("timestamp"), recs[j].time("timestamp")
		return a != nil && b != nil && a.Before(*b)
	})
	for _, d := range recs {
		unit := p.unitInfo[d.id("unit_id")]
		state := d.str("state")
		at := d.time("timestamp")
		if unit == nil || at == nil || (state != "open" && state != "closed") {
			t.diff(-1, "not an open/closed transition with a time")
			continue
		}
		sensor := p.sensorOf[d.id("device_id")]
		key := k{unit.id, sensor}
		if last[key] == state {
			t.diff(-1, "a repeat of the state before it (not a transition)")
			continue
		}
		if sensor != "" && seen[[2]string{sensor, at.String()}] {
			t.diff(-1, "a second transition of the same sensor at the same instant")
			continue
		}
		seen[[2]string{sensor, at.String()}] = true
		last[key] = state
		var sensorV any
		if sensor != "" {
			sensorV = sensor
		}
		p.add("door_events", toDoorEvents, row{"id": d.id("id"), "organization_id": p.orgID, "unit_id": unit.id, "sensor_id": sensorV,
			"state": state, "changed_at": *at, "received_at": firstTime(d.time("created_at"), at)})
		if unit.doorAt == nil || at.After(*unit.doorAt) {
			unit.doorAt, unit.doorOpen = at, state == "open"
		}
	}
}

// ---------------------------------------------------------------------------
// sensor_readings (the per-row conversion; readings.go streams them)
// ---------------------------------------------------------------------------

// readingColumns are the columns a reading is copied into (the rest keep
// their defaults: id from the sequence).
var readingColumns = []string{"organization_id", "unit_id", "sensor_id", "recorded_at", "received_at",
	"temperature_c", "humidity", "battery_percent", "rssi", "source", "raw"}

// originReading is one origin sensor_readings row, as readings.go reads it.
type originReading struct {
	id, device pgtype.UUID
	temp       pgtype.Float8
	humidity   pgtype.Float8
	battery    pgtype.Int4
	signal     pgtype.Int4
	raw        pgtype.Text
	recorded   time.Time
	received   pgtype.Timestamptz
	source     pgtype.Text
}

// fields are the scan targets of originReadingColumns.
func (o *originReading) fields() []any {
	return []any{&o.id, &o.device, &o.temp, &o.humidity, &o.battery, &o.signal, &o.raw, &o.recorded, &o.received, &o.source}
}

// originReadingColumns is what is read of each origin reading, in
// originReading's order (a column the origin lacks reads as NULL).
var originReadingColumns = []string{"id", "device_id", "temperature::float8", "humidity::float8", "battery", "signal_strength",
	"raw_payload", "recorded_at", "received_at", "source"}

// readingRow is one of our readings, in readingColumns' order.
type readingRow struct {
	unit, sensor       pgtype.UUID
	recorded, received time.Time
	temp, humidity     pgtype.Float8
	battery, rssi      pgtype.Int2
	source             string
	raw                []byte
}

// unitStream converts one unit's readings in time order: the temperature
// rule's memory (series) and the dedupe of a sensor's repeated reading.
type unitStream struct {
	unit   pgtype.UUID
	norm   *Normaliser
	lastAt time.Time
	seen   map[[16]byte]bool
	series map[seriesKey]string
	stats  *copyStats
	// window is [first, last) of the months we keep partitions for: a
	// reading outside lands in sensor_readings_default
	window [2]time.Time
}

type seriesKey struct {
	device [16]byte
	source string
}

// convert maps one origin reading to ours. keep is false for an exact
// duplicate (the same sensor at the same instant: the origin stored TTN's
// redeliveries again; our unique index keeps one).
func (s *unitStream) convert(o *originReading, sensors map[[16]byte]bool) (r readingRow, keep bool) {
	r = readingRow{unit: s.unit, recorded: o.recorded, received: o.recorded, source: readingSource(o.source.String, o.device.Valid)}
	if o.received.Valid {
		r.received = o.received.Time
	}
	if o.device.Valid && sensors[o.device.Bytes] {
		r.sensor = o.device
		if s.repeated(o) {
			s.stats.Duplicates++
			return r, false
		}
	} else if o.device.Valid {
		s.stats.Foreign++
	}
	if o.recorded.Before(s.window[0]) || !o.recorded.Before(s.window[1]) {
		s.stats.Outside++
	}
	if o.humidity.Valid && o.humidity.Float64 >= 0 && o.humidity.Float64 <= 100 {
		r.humidity = pgtype.Float8{Float64: round2(o.humidity.Float64), Valid: true}
	}
	if o.battery.Valid && o.battery.Int32 >= 0 && o.battery.Int32 <= 100 {
		r.battery = pgtype.Int2{Int16: int16(o.battery.Int32), Valid: true}
	}
	if o.signal.Valid && o.signal.Int32 >= math.MinInt16 && o.signal.Int32 <= math.MaxInt16 {
		r.rssi = pgtype.Int2{Int16: int16(o.signal.Int32), Valid: true}
	}
	if !o.temp.Valid {
		return r, true
	}
	n := s.norm.Normalise(s.seriesOf(o, r.source), o.recorded, o.temp.Float64, o.raw.String)
	s.stats.Scales[verdict{n.Scale, n.Evidence}]++
	if n.C != nil {
		r.temp = pgtype.Float8{Float64: *n.C, Valid: true}
	}
	if !n.Trivial() {
		// what the origin held and what the rule made of it, for audit
		r.raw = fmt.Appendf(nil, `{"origin":{"id":%q,"temperature":%s,"scale":%q,"evidence":%q}}`,
			uuidString(o.id), strconv.FormatFloat(o.temp.Float64, 'f', -1, 64), n.Scale, n.Evidence)
	}
	return r, true
}

// repeated reports whether the sensor's reading at this instant was seen
// already (and remembers it).
func (s *unitStream) repeated(o *originReading) bool {
	if o.recorded.Equal(s.lastAt) {
		if s.seen[o.device.Bytes] {
			return true
		}
	} else {
		s.lastAt = o.recorded
		clear(s.seen)
	}
	s.seen[o.device.Bytes] = true
	return false
}

// seriesOf names the series of a reading for the temperature rule: its
// device and source.
func (s *unitStream) seriesOf(o *originReading, source string) string {
	k := seriesKey{o.device.Bytes, source}
	key, ok := s.series[k]
	if !ok {
		key = hex.EncodeToString(k.device[:]) + "|" + k.source
		s.series[k] = key
	}
	return key
}

// warm feeds a reading copied by an earlier run to the stream's memory (the
// temperature rule's anchors, the dedupe of its instant) without counting
// or copying it.
func (s *unitStream) warm(o *originReading, sensors map[[16]byte]bool) {
	if o.device.Valid && sensors[o.device.Bytes] {
		s.repeated(o)
	}
	if o.temp.Valid {
		s.norm.Normalise(s.seriesOf(o, readingSource(o.source.String, o.device.Valid)), o.recorded, o.temp.Float64, o.raw.String)
	}
}

// readingSource maps the origin's source column to ours (import had no
// equivalent; an unknown or absent one is ttn with a device, api without).
func readingSource(origin string, hasDevice bool) string {
	switch origin {
	case "ttn", "manual", "api":
		return origin
	case "import":
		return "api"
	}
	if hasDevice {
		return "ttn"
	}
	return "api"
}

// ---------------------------------------------------------------------------
// small helpers
// ---------------------------------------------------------------------------

// absent reports whether a row's value is null (nil, or a nil pointer: the
// record helpers return *string and *time.Time).
func absent(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case *string:
		return x == nil
	case *time.Time:
		return x == nil
	}
	return false
}

func coordinate(s string, limit float64) any {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.Abs(v) > limit {
		return nil
	}
	return v
}

func nonBlank(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return strings.TrimSpace(s)
}

func intOr(r record, col string, def int) int {
	if v, ok := r.integer(col); ok {
		return v
	}
	return def
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), n == math.Trunc(n)
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// clock is a TIME column ("22:00:00") as our HH:MM.
func clock(s string) string {
	if len(s) >= 5 && s[2] == ':' {
		return s[:5]
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func nonNil(s []store.SweepStep) []store.SweepStep {
	if s == nil {
		return []store.SweepStep{}
	}
	return s
}

func strOf(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case *string:
		if s != nil {
			return *s
		}
	}
	return ""
}

func firstTime(ts ...*time.Time) any {
	for _, t := range ts {
		if t != nil {
			return *t
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
