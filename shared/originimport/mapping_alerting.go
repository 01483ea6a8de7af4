package originimport

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/domain"
)

// Who is paged, the alert history and the hand-kept records (mapping.go lists every table).

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
		var verified any
		if u, ok := user.(string); ok {
			if p.contactOfUser[u] == "" && cp.active {
				p.contactOfUser[u] = id
			}
			// the origin verified this number as its user's
			if v, ok := p.verifiedPhone[u]; ok && v.phone == phone {
				verified = v.at
			}
		}
		p.add("escalation_contacts", toContacts, row{"id": id, "organization_id": p.orgID, "user_id": user, "name": nonBlank(c.str("name"), "Contact"),
			"phone": phone, "email": email, "priority": clamp(prio, 0, 1000), "is_active": cp.active, "phone_verified_at": verified,
			"created_at": c.time("created_at")})
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
func (p *planner) policySteps(r record) []alerting.Step {
	roles := r.strings("notify_roles")
	if _, present := r["notify_roles"]; !present || r["notify_roles"] == nil {
		roles = []string{"owner", "admin"}
	}
	roleContacts := p.roleContacts(roles)
	var steps []alerting.Step
	if ch := channels(r.strings("initial_channels")); len(ch) > 0 && len(roleContacts) > 0 {
		steps = append(steps, alerting.Step{AfterMinutes: 0, Channels: ch, ContactIDs: roleContacts})
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
		step := alerting.Step{AfterMinutes: after, Channels: ch, ContactIDs: contacts}
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
		"phone": u["phone"], "email": email, "priority": 0, "is_active": true, "phone_verified_at": u["phone_verified_at"]})
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
			"resolution": resolution, "escalation_step": max(step, 0), "paging_started_at": triggered, "created_at": a.time("created_at")})
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
