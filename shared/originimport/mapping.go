package originimport

// The mapping of the origin's tables to ours. This file says which of our
// tables are written and how (destinations: columns, conflict targets, what
// a later run refreshes) and which origin tables stay behind (notImported);
// the mapping_*.go files convert each origin table's rows, column by column:
//
//	origin                                  ours                              converted by
//	organizations, subscriptions            organizations, subscriptions      mapping_tenancy.go organization, subscription
//	profiles, user_roles                    users, memberships                mapping_tenancy.go people
//	sites, areas, units, alert_rules        sites, areas, units               mapping_devices.go hierarchy, unit, ruleFor
//	devices, lora_sensors                   sensors                           mapping_devices.go sensors
//	ttn_connections                         network_connections (kind ttn)    mapping_devices.go connections
//	escalation_contacts                     escalation_contacts               mapping_alerting.go contacts
//	notification_policies (legacy)          notification_policies             mapping_alerting.go policies, policySteps
//	alerts, corrective_actions              alerts, alert_events              mapping_alerting.go alerts, alertEvents
//	manual_temperature_logs, door_events    the same                          mapping_alerting.go logs, doors
//	sensor_readings                         sensor_readings                   mapping_readings.go unitStream.convert
//
// A change of our schema (a renamed table, a new column) is an edit of the
// destination here and of its converter; the writer (write.go) and the
// readings copy (readings.go) only follow these definitions.

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/alerting"
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
	// Set overrides the new value of an Update column: an SQL expression
	// over the existing row t and EXCLUDED (default: EXCLUDED.column).
	Set map[string]string
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
	toConnections = destination{Table: "network_connections",
		Columns:  []string{"id", "organization_id", "kind", "name", "application_id", "secret_hash", "secret_last4", "secret_rotated_at", "is_active", "cluster", "created_at"},
		Conflict: "(id)",
		Update:   []string{"application_id", "secret_hash", "secret_last4", "is_active"}}
	// A verification made in FrostGuard stays while the phone (e-mail) is the
	// same, and goes with a changed one, as when the api changes it.
	toContacts = destination{Table: "escalation_contacts",
		Columns:  []string{"id", "organization_id", "user_id", "name", "phone", "email", "priority", "is_active", "phone_verified_at", "created_at"},
		Conflict: "(id)",
		Update:   []string{"user_id", "name", "phone", "email", "priority", "is_active", "phone_verified_at", "email_verified_at"},
		Set: map[string]string{
			"phone_verified_at": "CASE WHEN t.phone IS NOT DISTINCT FROM EXCLUDED.phone THEN coalesce(t.phone_verified_at, EXCLUDED.phone_verified_at) ELSE EXCLUDED.phone_verified_at END",
			"email_verified_at": "CASE WHEN lower(t.email) IS NOT DISTINCT FROM lower(EXCLUDED.email) THEN t.email_verified_at END"}}
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
			"acknowledged_by", "acknowledged_at", "acknowledged_note", "resolved_by", "resolved_at", "resolved_note", "resolution", "escalation_step",
			"paging_started_at", "created_at"}}
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

func nonNil(s []alerting.Step) []alerting.Step {
	if s == nil {
		return []alerting.Step{}
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
