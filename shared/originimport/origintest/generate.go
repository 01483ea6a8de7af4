package origintest

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options size the generated data.
type Options struct {
	// Now anchors every generated time (readings end an hour before it).
	Now time.Time
	// Readings is the number of readings of each main unit (5 minutes
	// apart); the quirk rows come on top.
	Readings int
	// Only fills just the organisation "bulk" with Readings readings for
	// each of BulkUnits units (the benchmark); zero fills the quirk fixture.
	BulkUnits int
}

// The generated organisations (ID(name) is each one's id):
//
//   - "bistro": every quirk the origin is known for. Thresholds in °F (the
//     origin's default unit) and in °C; readings stored in °F in a column
//     meant for °C (the origin's first system, without a device), in °C, an
//     implausible -127 (a disconnected probe), an exact duplicate, one from
//     another organisation's device, one from 2014 (outside any partition);
//     a freezer whose readings are ambiguous; alert rules with null
//     thresholds; soft-deleted sites, units and devices; a plaintext TTN
//     webhook secret and LoRa app key; a DevEUI with colons in lower case;
//     a BLE device; two subscription rows; phones that are not E.164; legacy
//     notification policies (site and unit ones without organization_id);
//     escalated and duplicate open alerts; a corrective action; manual logs
//     in °F.
//   - "harbor": a plain second organisation whose user olivia also belongs
//     to; its slug is not valid for us; one of its DevEUIs is bistro's in
//     lower case (a duplicate across organisations); no subscription.
//   - "blocked": a unit whose thresholds are impossible (min above max).
//   - "gone": soft-deleted in the origin.
//
// and one device that belongs to nobody (no unit, no application).
func Fill(ctx context.Context, dsn string, o Options) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	g := &gen{ctx: ctx, conn: conn, now: o.Now.UTC().Truncate(time.Minute), n: o.Readings}
	if g.n <= 0 {
		g.n = 2000
	}
	if o.BulkUnits > 0 {
		g.bulk(o.BulkUnits)
		return g.err
	}
	g.bistro()
	g.harbor()
	// a bistro reading from harbor's cold-room probe
	g.reading(ID("bistro/reading/foreign"), ID("bistro/unit/reachin"), ID("harbor/device/coldroom-probe"),
		g.ago(time.Hour+time.Duration(g.n-300)*5*time.Minute-time.Minute), 2.2, "ttn", nil)
	g.blocked()
	g.gone()
	g.exec(`INSERT INTO devices (id, device_eui, name, device_type) VALUES ($1, '70B3D5E75E000001', 'Lost probe', 'lora')`, ID("orphan/device"))
	return g.err
}

type gen struct {
	ctx  context.Context
	conn *pgx.Conn
	now  time.Time
	n    int
	err  error
}

func (g *gen) exec(sql string, args ...any) {
	if g.err != nil {
		return
	}
	if _, err := g.conn.Exec(g.ctx, sql, args...); err != nil {
		g.err = fmt.Errorf("%w\n%s", err, sql)
	}
}

func (g *gen) ago(d time.Duration) time.Time { return g.now.Add(-d) }

const day = 24 * time.Hour

// readings inserts count readings of unit every 5 minutes from start,
// temperature = base + a deterministic wiggle of ±spread.
func (g *gen) readings(unit, device string, start time.Time, count int, base, spread float64, source string) {
	var dev any
	if device != "" {
		dev = device
	}
	g.exec(`INSERT INTO sensor_readings (unit_id, device_id, temperature, humidity, battery, signal_strength, recorded_at, received_at, source)
		SELECT $1, $2, round(($4::float8 + $5::float8 * (((i * 7) % 21) - 10) / 10.0)::numeric, 2), 55.5, 90, -97,
			$3::timestamptz + i * interval '5 minutes', $3::timestamptz + i * interval '5 minutes' + interval '2 seconds', $7
		FROM generate_series(0, $6 - 1) i`, unit, dev, start, base, spread, count, source)
}

func (g *gen) reading(id, unit, device string, at time.Time, temp float64, source string, raw any) {
	var dev any
	if device != "" {
		dev = device
	}
	g.exec(`INSERT INTO sensor_readings (id, unit_id, device_id, temperature, recorded_at, received_at, source, raw_payload)
		VALUES ($1, $2, $3, $4, $5, $5, $6, $7)`, id, unit, dev, temp, at, source, raw)
}

func (g *gen) org(name, display, slug, tz string, deleted *time.Time) {
	g.exec(`INSERT INTO organizations (id, name, slug, timezone, compliance_mode, sensor_limit, created_at, deleted_at)
		VALUES ($1, $2, $3, $4, 'haccp', 10, $5, $6)`, ID(name), display, slug, tz, g.ago(400*day), deleted)
}

func (g *gen) profile(org, user, email, name string, phone any, verified bool) {
	g.exec(`INSERT INTO profiles (id, user_id, organization_id, email, full_name, phone, phone_verified, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, ID("profile/"+user), ID("user/"+user), ID(org), email, name, phone, verified, g.ago(300*day))
}

func (g *gen) role(org, user, role string) {
	g.exec(`INSERT INTO user_roles (id, user_id, organization_id, role, created_at) VALUES ($1, $2, $3, $4, $5)`,
		ID(org+"/role/"+user), ID("user/"+user), ID(org), role, g.ago(300*day))
}

func (g *gen) site(org, name, display string, active bool, country any, deleted *time.Time) {
	g.exec(`INSERT INTO sites (id, organization_id, name, address, city, state, postal_code, country, timezone, latitude, longitude, is_active, deleted_at)
		VALUES ($1, $2, $3, '12 Main St', 'Springfield', 'IL', '62701', $4, 'America/Chicago', '39.7817', '-89.6501', $5, $6)`,
		ID(org+"/site/"+name), ID(org), display, country, active, deleted)
}

func (g *gen) area(org, site, name, display string) {
	g.exec(`INSERT INTO areas (id, site_id, name, sort_order) VALUES ($1, $2, $3, 1)`, ID(org+"/area/"+name), ID(org+"/site/"+site), display)
}

func (g *gen) unit(org, area, name, display, typ, tempUnit string, min, max int, active bool, deleted *time.Time) {
	g.exec(`INSERT INTO units (id, area_id, name, unit_type, temp_min, temp_max, temp_unit, is_active, deleted_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		ID(org+"/unit/"+name), ID(org+"/area/"+area), display, typ, min, max, tempUnit, active, deleted, g.ago(300*day))
}

func (g *gen) device(org, name, unit, eui, devType string, active bool, lora map[string]any) {
	var u any
	if unit != "" {
		u = ID(org + "/unit/" + unit)
	}
	g.exec(`INSERT INTO devices (id, unit_id, device_eui, name, device_type, status, battery, signal_strength, last_seen_at, is_active)
		VALUES ($1, $2, $3, $4, $5, 'active', 88, -97, $6, $7)`, ID(org+"/device/"+name), u, eui, name, devType, g.ago(time.Hour), active)
	if lora != nil {
		g.exec(`INSERT INTO lora_sensors (id, device_id, app_eui, dev_eui, app_key, join_eui, network_server_id)
			VALUES ($1, $2, '70B3D57ED0000000', $3, $4, '70B3D57ED0000000', $5)`,
			ID(org+"/lora/"+name), ID(org+"/device/"+name), lora["dev_eui"], lora["app_key"], lora["app"])
	}
}

func (g *gen) bistro() {
	const o = "bistro"
	deleted := g.ago(30 * day)
	g.org(o, "Bistro Verde", "bistro-verde", "America/New_York", nil)
	// two subscription rows: the origin keeps "one per org" by convention only
	g.exec(`INSERT INTO subscriptions (id, organization_id, plan, status, stripe_customer_id, created_at, updated_at, canceled_at)
		VALUES ($1, $2, 'starter', 'canceled', 'cus_BISTRO', $3, $4, $4)`, ID(o+"/sub/old"), ID(o), g.ago(400*day), g.ago(300*day))
	g.exec(`INSERT INTO subscriptions (id, organization_id, plan, status, stripe_customer_id, stripe_subscription_id,
			current_period_start, current_period_end, created_at, updated_at)
		VALUES ($1, $2, 'pro', 'active', 'cus_BISTRO', 'sub_BISTRO', $3, $4, $5, $3)`, ID(o+"/sub"), ID(o), g.ago(10*day), g.ago(-20*day), g.ago(300*day))

	g.profile(o, "olivia", "olivia@bistro.test", "Olivia Owner", "+1 (555) 010-0001", true)
	g.profile(o, "adam", "adam@bistro.test", "Adam Admin", "555-0102", false)
	g.profile(o, "vera", "vera@bistro.test", "Vera Viewer", nil, false)
	g.profile(o, "pat", "pat@bistro.test", "Pat Former", nil, false) // a profile without a role
	g.role(o, "olivia", "owner")
	g.role(o, "adam", "admin")
	g.role(o, "sam", "staff") // a role without a profile
	g.role(o, "vera", "viewer")

	g.exec(`INSERT INTO ttn_connections (id, organization_id, application_id, ttn_application_id, webhook_secret, is_active, is_enabled,
			ttn_region, ttn_webhook_secret_encrypted, ttn_webhook_secret_last4)
		VALUES ($1, $2, 'bistro-app', 'bistro-app', 'ws_bistro_0123456789abcdef', true, true, 'eu1', $3, 'oned')`,
		ID(o+"/ttn"), ID(o), "b64:"+base64.StdEncoding.EncodeToString([]byte("ws_bistro_provisioned")))
	// created with the organisation, before any TTN application was set up
	g.exec(`INSERT INTO ttn_connections (id, organization_id, webhook_secret) VALUES ($1, $2, 'ws_bistro_unset_000')`, ID(o+"/ttn-unset"), ID(o))

	g.site(o, "main", "Main St", true, "US", nil)
	g.site(o, "depot", "Old Depot", false, "United States", nil)
	g.area(o, "main", "kitchen", "Kitchen")
	g.area(o, "main", "bar", "Bar")
	g.area(o, "depot", "storage", "Storage")
	g.unit(o, "kitchen", "walkin", "Walk-in", "walk_in_cooler", "F", 35, 41, true, nil)
	g.unit(o, "kitchen", "reachin", "Reach-in", "fridge", "C", 0, 5, true, nil)
	g.unit(o, "kitchen", "freezer", "Freezer", "freezer", "F", -10, 0, true, nil)
	g.unit(o, "bar", "barfridge", "Bar fridge", "display_case", "F", 33, 40, false, &deleted)
	g.unit(o, "storage", "depotcooler", "Depot cooler", "walk_in_cooler", "C", 1, 4, true, nil)
	g.exec(`UPDATE units SET manual_monitoring_required = true, manual_monitoring_interval = 240 WHERE id = $1`, ID(o+"/unit/reachin"))

	// null thresholds: the organisation's rule only sets the confirm delay
	g.exec(`INSERT INTO alert_rules (id, organization_id, name, temp_min, temp_max, delay_minutes, alert_type)
		VALUES ($1, $2, 'Org default', NULL, NULL, 10, 'alarm_active')`, ID(o+"/rule/org"), ID(o))
	g.exec(`INSERT INTO alert_rules (id, organization_id, unit_id, name, temp_min, temp_max, delay_minutes,
			excursion_confirm_minutes_door_open, expected_reading_interval_seconds)
		VALUES ($1, $2, $3, 'Reach-in tighter', NULL, 4, 5, 20, 600)`, ID(o+"/rule/reachin"), ID(o), ID(o+"/unit/reachin"))
	g.exec(`INSERT INTO alert_rules (id, organization_id, site_id, name, temp_max, is_enabled)
		VALUES ($1, $2, $3, 'Disabled', 99, false)`, ID(o+"/rule/site"), ID(o), ID(o+"/site/main"))

	lora := func(eui, app string) map[string]any {
		return map[string]any{"dev_eui": eui, "app": app, "app_key": "00112233445566778899AABBCCDDEEFF"}
	}
	g.device(o, "walkin-probe", "walkin", "A84041000181C0DE", "lora", true, lora("a8:40:41:00:01:81:c0:de", "bistro-app"))
	g.device(o, "reachin-probe", "reachin", "A84041000181C0DF", "lora", true, lora("A84041000181C0DF", "bistro-app"))
	g.device(o, "freezer-probe", "freezer", "A84041000181C0E0", "lora", true, lora("A84041000181C0E0", "bistro-app"))
	g.device(o, "bar-probe", "barfridge", "A84041000181C0E1", "lora", false, lora("A84041000181C0E1", "bistro-app"))
	g.device(o, "spare", "", "A84041000181C0E2", "lora", true, lora("A84041000181C0E2", "bistro-app"))
	g.device(o, "ble-tag", "reachin", "AA:BB:CC:DD:EE:FF", "ble", true, nil)
	g.device(o, "depot-probe", "depotcooler", "A84041000181C0E3", "lora", true, lora("A84041000181C0E3", "bistro-app"))

	g.exec(`INSERT INTO escalation_contacts (id, organization_id, profile_id, name, phone, email, priority)
		VALUES ($1, $2, $3, 'Olivia Owner', '+15550100001', 'olivia@bistro.test', 0)`, ID(o+"/contact/olivia"), ID(o), ID("profile/olivia"))
	g.exec(`INSERT INTO escalation_contacts (id, organization_id, name, phone, priority)
		VALUES ($1, $2, 'Night manager', '+1 555 010 0009', 1)`, ID(o+"/contact/night"), ID(o))
	g.exec(`INSERT INTO escalation_contacts (id, organization_id, name, phone, priority)
		VALUES ($1, $2, 'Old pager', '0101', 2)`, ID(o+"/contact/pager"), ID(o))

	g.exec(`INSERT INTO notification_policies (id, organization_id, alert_type, initial_channels, requires_ack, escalation_steps,
			send_resolved_notifications, quiet_hours_enabled, quiet_hours_start_local, quiet_hours_end_local)
		VALUES ($1, $2, 'temp_excursion', ARRAY['IN_APP_CENTER','SMS'], true,
			'[{"delay_minutes":10,"channels":["SMS"],"contact_priority":1,"repeat":false},{"delay_minutes":20,"channels":["EMAIL","SMS"],"repeat":true}]',
			true, true, '22:00', '06:00')`, ID(o+"/policy/org"), ID(o))
	g.exec(`INSERT INTO notification_policies (id, site_id, alert_type, initial_channels, requires_ack, escalation_steps)
		VALUES ($1, $2, 'door_open', ARRAY['EMAIL'], false, '[{"delay_minutes":5,"channels":["SMS"],"repeat":false}]')`,
		ID(o+"/policy/site"), ID(o+"/site/main"))
	g.exec(`INSERT INTO notification_policies (id, unit_id, alert_type, initial_channels, requires_ack)
		VALUES ($1, $2, 'alarm_active', ARRAY['IN_APP_CENTER'], false)`, ID(o+"/policy/unit"), ID(o+"/unit/walkin"))
	g.exec(`INSERT INTO notification_policies (id, organization_id, alert_type, initial_channels)
		VALUES ($1, $2, 'calibration_due', ARRAY['EMAIL'])`, ID(o+"/policy/calibration"), ID(o))

	g.bistroReadings()
	g.bistroAlerts()

	g.exec(`INSERT INTO manual_temperature_logs (id, unit_id, profile_id, temperature, notes, photo_url, recorded_at)
		VALUES ($1, $2, $3, 38.5, 'Morning check', 'http://minio.local/assets/bistro/log.jpg', $4)`,
		ID(o+"/log/walkin"), ID(o+"/unit/walkin"), ID("profile/olivia"), g.ago(2*day))
	g.exec(`INSERT INTO manual_temperature_logs (id, unit_id, profile_id, temperature, recorded_at)
		VALUES ($1, $2, $3, 3.5, $4)`, ID(o+"/log/reachin"), ID(o+"/unit/reachin"), ID("profile/adam"), g.ago(2*day+time.Hour))
	g.exec(`INSERT INTO manual_temperature_logs (id, unit_id, profile_id, temperature, recorded_at)
		VALUES ($1, $2, $3, -4, $4)`, ID(o+"/log/freezer"), ID(o+"/unit/freezer"), ID("profile/olivia"), g.ago(2*day+2*time.Hour))

	g.exec(`INSERT INTO door_events (id, unit_id, device_id, state, timestamp, duration_seconds) VALUES
		($1, $3, $4, 'open', $5, NULL), ($2, $3, $4, 'closed', $6, 180)`,
		ID(o+"/door/open"), ID(o+"/door/closed"), ID(o+"/unit/walkin"), ID(o+"/device/walkin-probe"), g.ago(3*day), g.ago(3*day-3*time.Minute))
}

// The readings of bistro (g.n per main unit, and the quirks).
func (g *gen) bistroReadings() {
	const o = "bistro"
	start := g.ago(time.Hour + time.Duration(g.n)*5*time.Minute)
	walkin, reachin, freezer := ID(o+"/unit/walkin"), ID(o+"/unit/reachin"), ID(o+"/unit/freezer")
	// walk-in: the first fifth from the origin's first system, stored in °F
	// without a device; then the device's readings in °C
	ftp := g.n / 5
	g.readings(walkin, "", start, ftp, 37, 1, "ttn")
	g.readings(walkin, ID(o+"/device/walkin-probe"), start.Add(time.Duration(ftp)*5*time.Minute), g.n-ftp, 3, 0.5, "ttn")
	dup := start.Add(time.Duration(ftp+10)*5*time.Minute + time.Minute)
	g.reading(ID(o+"/reading/dup1"), walkin, ID(o+"/device/walkin-probe"), dup, 3.1, "ttn", nil)
	g.reading(ID(o+"/reading/dup2"), walkin, ID(o+"/device/walkin-probe"), dup, 3.1, "ttn", nil)
	g.reading(ID(o+"/reading/2014"), walkin, ID(o+"/device/walkin-probe"), time.Date(2014, 3, 10, 8, 0, 0, 0, time.UTC), 3.4, "ttn", nil)
	g.reading(ID(o+"/reading/payload-f"), walkin, "", start.Add(time.Minute), 20.0, "api", `{"temperature_f":20.0}`)

	// reach-in: °C, a disconnected probe, an API reading, one too large for
	// us (and, in Fill, one from harbor's cold-room probe)
	g.readings(reachin, ID(o+"/device/reachin-probe"), start, g.n, 2.5, 0.5, "ttn")
	g.reading(ID(o+"/reading/-127"), reachin, ID(o+"/device/reachin-probe"), start.Add(100*5*time.Minute+time.Minute), -127, "ttn", nil)
	g.reading(ID(o+"/reading/api"), reachin, "", start.Add(200*5*time.Minute+time.Minute), 3.3, "api", nil)
	g.reading(ID(o+"/reading/huge"), reachin, "", start.Add(400*5*time.Minute+time.Minute), 12345.67, "api", nil)

	// freezer: an anchor (30.2 cannot be °C in a freezer: it is °F), then
	// °F readings that could be either for 16 hours; then, more than a day
	// later, readings that could be either with nothing to tell them apart
	blockA := 200
	g.reading(ID(o+"/reading/anchor"), freezer, ID(o+"/device/freezer-probe"), start.Add(-time.Minute), 30.2, "ttn", nil)
	g.readings(freezer, ID(o+"/device/freezer-probe"), start, blockA, 0, 2, "ttn")
	g.readings(freezer, ID(o+"/device/freezer-probe"), start.Add(time.Duration(blockA)*5*time.Minute+30*time.Hour), g.n-blockA, -20.5, 1, "ttn")

	g.readings(ID(o+"/unit/barfridge"), ID(o+"/device/bar-probe"), start, 10, 3, 0.5, "ttn")
	g.readings(ID(o+"/unit/depotcooler"), ID(o+"/device/depot-probe"), start, 10, 2, 0.5, "ttn")
}

func (g *gen) bistroAlerts() {
	const o = "bistro"
	walkin, freezer, reachin := ID(o+"/unit/walkin"), ID(o+"/unit/freezer"), ID(o+"/unit/reachin")
	t1 := g.ago(20 * day)
	g.exec(`INSERT INTO alerts (id, unit_id, alert_rule_id, alert_type, severity, status, message, trigger_temperature, threshold_violated,
			triggered_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, escalation_level, metadata)
		VALUES ($1, $2, $3, 'alarm_active', 'critical', 'resolved', 'Temperature 6.2 above threshold', 62, 'max',
			$4, $5, $6, $7, $8, 1, '{"resolution":"Door was left open; closed it"}')`,
		ID(o+"/alert/resolved"), walkin, ID(o+"/rule/org"), t1, t1.Add(10*time.Minute), ID("profile/olivia"), t1.Add(time.Hour), ID("profile/adam"))
	g.exec(`INSERT INTO corrective_actions (id, alert_id, unit_id, profile_id, description, action_taken, resolved_alert, action_at)
		VALUES ($1, $2, $3, $4, 'Closed the door', 'Moved stock to the reach-in', true, $5)`,
		ID(o+"/corrective"), ID(o+"/alert/resolved"), walkin, ID("profile/adam"), t1.Add(50*time.Minute))
	// the origin's escalation bug: an escalated alert escapes the dedupe, so
	// two are open for one unit and type
	g.exec(`INSERT INTO alerts (id, unit_id, alert_type, severity, status, message, trigger_temperature, threshold_violated, triggered_at, escalated_at, escalation_level)
		VALUES ($1, $2, 'alarm_active', 'critical', 'escalated', 'Temperature -14 above threshold', -140, 'max', $3, $3, 2)`,
		ID(o+"/alert/escalated"), freezer, g.ago(2*day))
	g.exec(`INSERT INTO alerts (id, unit_id, alert_type, severity, status, message, trigger_temperature, threshold_violated, triggered_at)
		VALUES ($1, $2, 'alarm_active', 'warning', 'active', 'Temperature -15 above threshold', -150, 'max', $3)`,
		ID(o+"/alert/duplicate"), freezer, g.ago(3*day))
	g.exec(`INSERT INTO alerts (id, unit_id, alert_type, severity, status, message, triggered_at)
		VALUES ($1, $2, 'low_battery', 'warning', 'active', 'Battery low', $3)`, ID(o+"/alert/battery"), walkin, g.ago(day))
	g.exec(`INSERT INTO alerts (id, unit_id, alert_type, severity, status, message, triggered_at, acknowledged_at, acknowledged_by, metadata)
		VALUES ($1, $2, 'monitoring_interrupted', 'warning', 'acknowledged', NULL, $3, $4, $5, '{"acknowledgementNotes":"Probe being replaced"}')`,
		ID(o+"/alert/offline"), reachin, g.ago(12*time.Hour), g.ago(11*time.Hour), ID("profile/olivia"))
	g.exec(`INSERT INTO alerts (id, unit_id, alert_type, severity, status, message, triggered_at)
		VALUES ($1, $2, 'calibration_due', 'info', 'active', 'Calibration due', $3)`, ID(o+"/alert/calibration"), walkin, g.ago(day))
}

func (g *gen) harbor() {
	const o = "harbor"
	g.org(o, "Harbor Fish Co", "harbor_fish", "Europe/Lisbon", nil)
	g.profile(o, "henry", "henry@harbor.test", "Henry Harbor", "+351 912 345 678", true)
	g.role(o, "henry", "owner")
	g.role(o, "olivia", "admin") // her profile belongs to bistro: one person, two organisations
	g.exec(`INSERT INTO ttn_connections (id, organization_id, application_id, webhook_secret, is_active, ttn_region)
		VALUES ($1, $2, 'harbor-app', 'ws_harbor_fedcba9876543210', true, 'eu1')`, ID(o+"/ttn"), ID(o))
	g.site(o, "pier", "Pier 4", true, "PT", nil)
	g.area(o, "pier", "coldroom", "Cold room")
	g.unit(o, "coldroom", "coldroom", "Cold room", "walk_in_cooler", "C", 0, 4, true, nil)
	g.unit(o, "coldroom", "icebox", "Ice box", "freezer", "C", -25, -18, true, nil)
	g.device(o, "coldroom-probe", "coldroom", "A84041000181D000", "lora", true, map[string]any{"dev_eui": "A84041000181D000", "app": "harbor-app"})
	// bistro's reach-in probe, in lower case: the origin's unique index is
	// case-sensitive, ours is not
	g.device(o, "dup-probe", "icebox", "a84041000181c0df", "lora", true, map[string]any{"dev_eui": "a84041000181c0df", "app": "harbor-app"})
	start := g.ago(time.Hour + time.Duration(g.n)*5*time.Minute)
	g.readings(ID(o+"/unit/coldroom"), ID(o+"/device/coldroom-probe"), start, g.n, 2, 0.5, "ttn")
	g.readings(ID(o+"/unit/icebox"), ID(o+"/device/dup-probe"), start, 50, -21, 1, "ttn")
	g.exec(`INSERT INTO escalation_contacts (id, organization_id, name, phone, priority) VALUES ($1, $2, 'Henry', '+351912345678', 0)`,
		ID(o+"/contact/henry"), ID(o))
}

func (g *gen) blocked() {
	const o = "blocked"
	g.org(o, "Blocked Bakery", "blocked-bakery", "UTC", nil)
	g.profile(o, "bella", "bella@blocked.test", "Bella Baker", nil, false)
	g.role(o, "bella", "owner")
	g.site(o, "shop", "Shop", true, "GB", nil)
	g.area(o, "shop", "back", "Back")
	g.unit(o, "back", "proofer", "Proofer", "fridge", "F", 50, 40, true, nil)
	g.readings(ID(o+"/unit/proofer"), "", g.ago(2*day), 10, 45, 1, "api")
}

func (g *gen) gone() {
	const o = "gone"
	deleted := g.ago(60 * day)
	g.org(o, "Gone Grocers", "gone-grocers", "UTC", &deleted)
	g.site(o, "store", "Store", true, "US", nil)
}

// bulk is one organisation with units units of g.n readings each (°C,
// with a device): the volume of the readings benchmark.
func (g *gen) bulk(units int) {
	const o = "bulk"
	g.org(o, "Bulk Foods", "bulk-foods", "UTC", nil)
	g.profile(o, "boris", "boris@bulk.test", "Boris Bulk", nil, false)
	g.role(o, "boris", "owner")
	g.site(o, "dc", "Distribution centre", true, "US", nil)
	g.area(o, "dc", "floor", "Floor")
	start := g.ago(time.Hour + time.Duration(g.n)*5*time.Minute)
	for i := 0; i < units; i++ {
		name := fmt.Sprintf("u%03d", i)
		g.unit(o, "floor", name, "Unit "+name, "walk_in_cooler", "C", 0, 5, true, nil)
		eui := fmt.Sprintf("A840410002%06X", i)
		g.device(o, name, name, eui, "lora", true, map[string]any{"dev_eui": eui, "app": "bulk-app"})
		g.readings(ID(o+"/unit/"+name), ID(o+"/device/"+name), start, g.n, 3, 0.5, "ttn")
	}
	g.exec(`ANALYZE`)
}
