package originimport

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/frostguard/functions/shared/domain"
)

// The physical hierarchy, the alert rules folded into it, the devices and the TTN applications (mapping.go lists every table).

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
	t := p.rep.table("ttn_connections", "network_connections")
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
		p.add("ttn_connections", toConnections, row{"id": id, "organization_id": p.orgID, "kind": "ttn", "application_id": app, "secret_hash": `\x` + hex.EncodeToString(sum[:]),
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
