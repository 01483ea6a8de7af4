package originimport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// A plan is one organisation read from the origin and converted (mapping.go)
// into our rows, with every problem found, before anything is written: the
// dry run prints it, the import writes it. Only the readings are too many to
// hold: readings.go streams them.

// unitPlan is what the readings and the unit's final state need of a unit.
type unitPlan struct {
	id, typ    string
	live       bool
	minC, maxC float64
	lastManual *time.Time
	doorAt     *time.Time
	doorOpen   bool
}

// ourView is what the plan needs to know of our database (read only).
type ourView struct {
	orgExists         bool // a row with the organisation's id
	orgImported       bool // ... that import-origin created (origin_imports)
	orgLive           bool // ... and is live (import_state NULL)
	slugTaken         bool
	users             map[string]string    // subject -> users.id
	euiTaken          map[string]string    // DevEUI -> a sensor of the organisation FrostGuard registered (not the import)
	appElsewhere      map[string]string    // TTN application id -> another organisation
	policyAt          map[[3]string]string // (site, unit, type) -> the policy id of that scope in ours
	customerElsewhere map[string]string    // Stripe customer or subscription id -> another organisation
	lastRunAt         *time.Time           // the previous run's start (origin_imports.last_run_at)
	// billing is the organisation's entitlement once Stripe has sent
	// FrostGuard an event for it (nil before)
	billing *billingState
}

// billingState is the entitlement columns of an organisation.
type billingState struct {
	plan      string
	limit     int
	customer  *string
	trialEnds *time.Time
}

type planner struct {
	now     time.Time
	orgID   string
	rep     *OrgReport
	ours    ourView
	dupEUIs map[string][]string // DevEUI -> origin organisations where it is active (all of the origin)

	org                                                                  record
	subs, profiles, roles, conns, sites, areas, units, rules             []record
	devices, loras, contactRecs, policyRecs, alertRecs, actions, logRecs []record
	doorRecs                                                             []record
	subRow                                                               row

	out     map[string][]row    // our table -> rows, in plan order
	lineIDs map[string][]string // report line (origin table) -> ids of our rows it planned
	lineTo  map[string]string   // report line -> our table

	profileUser   map[string]string // origin profile id -> Stack Auth user id
	userID        map[string]string // Stack Auth user id -> users.id
	areaSite      map[string]string
	siteLive      map[string]bool
	unitInfo      map[string]*unitPlan
	sensorOf      map[string]string // origin device id -> sensor id (the same), when a sensor of this organisation
	contactOfUser map[string]string // users.id -> contact id
	contactList   []contactPlan
	keptAppless   bool // a connection without an application is planned
	// verifiedPhone are the users whose phone the origin verified (users.id)
	verifiedPhone map[string]verifiedPhone
}

// verifiedPhone is a phone the origin verified, and when.
type verifiedPhone struct {
	phone string
	at    any
}

func newPlanner(orgID string, now time.Time, rep *OrgReport) *planner {
	return &planner{now: now, orgID: orgID, rep: rep, out: map[string][]row{}, lineIDs: map[string][]string{}, lineTo: map[string]string{},
		profileUser: map[string]string{}, userID: map[string]string{}, areaSite: map[string]string{}, siteLive: map[string]bool{},
		unitInfo: map[string]*unitPlan{}, sensorOf: map[string]string{}, contactOfUser: map[string]string{},
		verifiedPhone: map[string]verifiedPhone{}}
}

// add plans one of our rows for a report line.
func (p *planner) add(line string, d destination, r row) {
	p.out[d.Table] = append(p.out[d.Table], r)
	p.lineIDs[line] = append(p.lineIDs[line], fmt.Sprint(r["id"]))
	p.lineTo[line] = d.Table
	p.rep.table(line, d.Table)
}

func (p *planner) problem(s Severity, code, table, id, msg string) {
	p.rep.add(Problem{Severity: s, Code: code, Table: table, ID: id, Message: msg})
}

// activeSensors counts the planned sensors that will be registered.
func (p *planner) activeSensors() int {
	n := 0
	for _, s := range p.out["sensors"] {
		if absent(s["deleted_at"]) {
			n++
		}
	}
	return n
}

// units returns the organisation's units in id order (the readings' order).
func (p *planner) unitIDs() []string { return sortedKeys(p.unitInfo) }

// load reads the organisation's rows from the origin, in the snapshot q.
func (p *planner) load(ctx context.Context, o *Origin, q pgx.Tx) error {
	var err error
	read := func(line, ours, table, where string, args ...any) []record {
		if err != nil {
			return nil
		}
		var recs []record
		recs, err = o.records(ctx, q, table, where, args...)
		if line != "" {
			p.rep.table(line, ours).OriginRow = int64(len(recs))
		}
		return recs
	}
	org := read("organizations", "organizations", "organizations", "t.id = $1", p.orgID)
	if err != nil {
		return err
	}
	if len(org) != 1 {
		return fmt.Errorf("organisation %s is not in the origin", p.orgID)
	}
	p.org = org[0]
	p.rep.Name = p.org.str("name")
	p.subs = read("subscriptions", "subscriptions", "subscriptions", "t.organization_id = $1", p.orgID)
	p.roles = read("user_roles", "memberships", "user_roles", "t.organization_id = $1", p.orgID)
	p.profiles = read("profiles", "users", "profiles",
		"t.organization_id = $1 OR t.user_id IN (SELECT r.user_id FROM user_roles r WHERE r.organization_id = $1)", p.orgID)
	p.conns = read("ttn_connections", "network_connections", "ttn_connections", "t.organization_id = $1", p.orgID)
	p.sites = read("sites", "sites", "sites", "t.organization_id = $1", p.orgID)
	p.areas = read("areas", "areas", "areas", "t.site_id = ANY($1::uuid[])", ids(p.sites))
	p.units = read("units", "units", "units", "t.area_id = ANY($1::uuid[])", ids(p.areas))
	units := ids(p.units)
	p.rules = read("alert_rules", "units", "alert_rules", "t.organization_id = $1", p.orgID)
	var apps []string
	for _, c := range p.conns {
		for _, col := range []string{"application_id", "ttn_application_id"} {
			if a := c.str(col); a != "" {
				apps = append(apps, a)
			}
		}
	}
	p.devices = read("devices", "sensors", "devices",
		"t.unit_id = ANY($1::uuid[]) OR (t.unit_id IS NULL AND t.id IN (SELECT l.device_id FROM lora_sensors l WHERE l.network_server_id = ANY($2::text[])))", units, apps)
	p.loras = read("lora_sensors", "sensors", "lora_sensors", "t.device_id = ANY($1::uuid[])", ids(p.devices))
	p.contactRecs = read("escalation_contacts", "escalation_contacts", "escalation_contacts", "t.organization_id = $1", p.orgID)
	p.policyRecs = read("notification_policies", "notification_policies", "notification_policies",
		"t.organization_id = $1 OR t.site_id = ANY($2::uuid[]) OR t.unit_id = ANY($3::uuid[])", p.orgID, ids(p.sites), units)
	p.alertRecs = read("alerts", "alerts", "alerts", "t.unit_id = ANY($1::uuid[])", units)
	p.actions = read("corrective_actions", "alert_events", "corrective_actions", "t.alert_id = ANY($1::uuid[])", ids(p.alertRecs))
	p.logRecs = read("manual_temperature_logs", "manual_temperature_logs", "manual_temperature_logs", "t.unit_id = ANY($1::uuid[])", units)
	p.doorRecs = read("door_events", "door_events", "door_events", "t.unit_id = ANY($1::uuid[])", units)
	if err != nil {
		return err
	}
	// readings the origin itself kept outside its monthly partitions
	if o.Has("sensor_readings_default") {
		n, err := o.count(ctx, q, "sensor_readings_default", "t.unit_id = ANY($1::uuid[])", units)
		if err != nil {
			return err
		}
		if n > 0 {
			p.rep.add(Problem{Severity: Noted, Code: "readings_origin_default_partition", Table: "sensor_readings", Rows: n,
				Message: "in the origin's default partition (outside its monthly partitions): imported into their months like the others"})
		}
	}
	// what stays behind, counted
	lists := map[string][]string{"org": {p.orgID}, "connections": ids(p.conns), "units": units, "rules": ids(p.rules),
		"alerts": ids(p.alertRecs), "devices": ids(p.devices), "sites": ids(p.sites)}
	for _, n := range notImported {
		if !o.HasColumn(n.table, n.column) {
			continue
		}
		c, err := o.count(ctx, q, n.table, "t."+n.column+" = ANY($1::uuid[])", lists[n.list])
		if err != nil {
			return err
		}
		if c > 0 {
			t := p.rep.table(n.table, "-")
			t.OriginRow = c
			t.diff(-c, "not imported: "+n.why)
		}
	}
	return nil
}

// build converts the loaded rows (mapping.go), parents first.
func (p *planner) build() {
	p.people()
	p.hierarchy()
	p.sensors()
	p.organization()
	p.connections()
	p.contacts()
	p.policies()
	p.alerts()
	p.logs()
	p.doors()
	p.pagingRestrictions()
}

// pagingRestrictions reports what FrostGuard's rules for an organisation
// that does not pay (a trial, a canceled subscription) will do to its pages:
// only verified contacts are paged, SMS only to its sites' countries
// (docs/SECURITY.md, paging abuse).
func (p *planner) pagingRestrictions() {
	status, _ := p.subRow["status"].(string)
	if status == "active" || status == "past_due" {
		return
	}
	unverified := 0
	for _, c := range p.out[toContacts.Table] {
		if c["is_active"] == true && absent(c["phone_verified_at"]) {
			unverified++
		}
	}
	noCountry := 0
	for _, s := range p.out[toSites.Table] {
		if absent(s["country"]) && absent(s["deleted_at"]) {
			noCountry++
		}
	}
	if unverified > 0 || noCountry > 0 {
		p.problem(Changed, "trial_paging_restricted", "subscriptions", "", fmt.Sprintf(
			"the organisation does not pay (%s): FrostGuard pages only verified contacts and texts only its sites' countries; %d active contact(s) are not verified (the origin verified no phone of theirs: verify them in FrostGuard before the cut-over) and %d live site(s) have no country",
			status, unverified, noCountry))
	}
}

func ids(recs []record) []string {
	out := make([]string, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.id("id"))
	}
	return out
}

// readOurs fills the plan's view of our database.
func readOurs(ctx context.Context, db database, p *planner) error {
	v := ourView{users: map[string]string{}, euiTaken: map[string]string{}, appElsewhere: map[string]string{},
		policyAt: map[[3]string]string{}, customerElsewhere: map[string]string{}}
	q := db.pool
	var state *string
	err := q.QueryRow(ctx, `SELECT import_state, EXISTS (SELECT 1 FROM origin_imports WHERE organization_id = o.id),
			(SELECT last_run_at FROM origin_imports WHERE organization_id = o.id)
		FROM organizations o WHERE o.id = $1`, p.orgID).Scan(&state, &v.orgImported, &v.lastRunAt)
	switch {
	case err == nil:
		v.orgExists, v.orgLive = true, state == nil
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("readOurs: %w", err)
	}
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM organizations WHERE slug = $1 AND id <> $2)`,
		slugFor(p.org.str("slug"), p.orgID), p.orgID).Scan(&v.slugTaken); err != nil {
		return fmt.Errorf("readOurs: %w", err)
	}
	var subjects []string
	for _, r := range p.roles {
		subjects = append(subjects, r.id("user_id"))
	}
	for _, r := range p.profiles {
		subjects = append(subjects, r.id("user_id"))
	}
	pairs := func(sql string, into map[string]string, args ...any) error {
		rows, err := q.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		var k, val string
		_, err = pgx.ForEachRow(rows, []any{&k, &val}, func() error { into[k] = val; return nil })
		return err
	}
	if err := pairs(`SELECT subject, id FROM users WHERE subject = ANY($1)`, v.users, subjects); err != nil {
		return fmt.Errorf("readOurs: %w", err)
	}
	var euis, apps []string
	for _, d := range p.devices {
		euis = append(euis, normalizedEUIs(d, p.loras)...)
	}
	for _, c := range p.conns {
		apps = append(apps, c.str("application_id"), c.str("ttn_application_id"))
	}
	// held by another row than the one the import writes (one created in
	// FrostGuard since an earlier run; an application: also another
	// organisation's)
	if err := pairs(`SELECT dev_eui, id::text FROM sensors WHERE organization_id = $3 AND dev_eui = ANY($1) AND deleted_at IS NULL AND id <> ALL($2::uuid[])`,
		v.euiTaken, euis, ids(p.devices), p.orgID); err != nil {
		return fmt.Errorf("readOurs: %w", err)
	}
	if err := pairs(`SELECT application_id, organization_id::text FROM network_connections WHERE kind = 'ttn' AND application_id = ANY($1) AND id <> ALL($2::uuid[])`,
		v.appElsewhere, apps, ids(p.conns)); err != nil {
		return fmt.Errorf("readOurs: %w", err)
	}
	var stripeIDs []string
	for _, s := range p.subs {
		stripeIDs = append(stripeIDs, s.str("stripe_customer_id"), s.str("stripe_subscription_id"))
	}
	if err := pairs(`SELECT stripe_customer_id, id::text FROM organizations WHERE stripe_customer_id = ANY($1) AND id <> $2
		UNION ALL SELECT stripe_subscription_id, organization_id::text FROM subscriptions WHERE stripe_subscription_id = ANY($1) AND organization_id <> $2`,
		v.customerElsewhere, stripeIDs, p.orgID); err != nil {
		return fmt.Errorf("readOurs: %w", err)
	}
	var b billingState
	err = q.QueryRow(ctx, `SELECT o.plan, o.sensor_limit, o.stripe_customer_id, o.trial_ends_at
		FROM organizations o JOIN subscriptions s ON s.organization_id = o.id
		WHERE o.id = $1 AND s.last_event_created IS NOT NULL`, p.orgID).Scan(&b.plan, &b.limit, &b.customer, &b.trialEnds)
	switch {
	case err == nil:
		v.billing = &b
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("readOurs: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT coalesce(site_id::text, ''), coalesce(unit_id::text, ''), coalesce(alert_type, ''), id::text
		FROM notification_policies WHERE organization_id = $1`, p.orgID)
	if err != nil {
		return fmt.Errorf("readOurs: %w", err)
	}
	var site, unit, typ, id string
	if _, err := pgx.ForEachRow(rows, []any{&site, &unit, &typ, &id}, func() error {
		v.policyAt[[3]string{site, unit, typ}] = id
		return nil
	}); err != nil {
		return fmt.Errorf("readOurs: %w", err)
	}
	p.ours = v
	return nil
}
