// Package originimport imports organisations from the origin: the Node
// backend's PostgreSQL database (getdatasurge/fresh-staged, schema from its
// backend/drizzle migrations plus the legacy tables it still uses) into
// FrostGuard's (frostguard import-origin, docs/MIGRATION.md).
//
// Per organisation, the rows of every origin table are read in one
// read-only snapshot, converted (mapping.go: the one place that says which
// origin column becomes which of ours) and checked (problems: a blocking
// one stops the organisation before anything is written; the dry run stops
// every organisation there). Then the import writes our tables in
// dependency order, each in one transaction with its checkpoint, copies the
// readings in bulk (readings.go), catches up what the origin received
// meanwhile, balances the counts of both sides, and only then makes the
// organisation live: until that last transaction every function ignores it
// (organizations.import_state).
package originimport

import (
	"context"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5/pgxpool"
	"log/slog"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/retention"
	"github.com/frostguard/functions/shared/store"
)

// Options of a run.
type Options struct {
	// Orgs are the origin organisations to import; empty: every one that is
	// not soft-deleted.
	Orgs   []string
	DryRun bool
	// Now is the clock (tests); nil: time.Now.
	Now func() time.Time
	// BatchRows is the number of readings per COPY transaction (and
	// checkpoint); 0: DefaultBatchRows.
	BatchRows int
	// Workers copy that many units' readings at once; 0: DefaultWorkers.
	Workers int
}

// database is where an import writes: the pool for its bulk statements and
// the store over the same pool for its transactions (InTx, partitions).
type database struct {
	pool *pgxpool.Pool
	*store.DB
}

// Run imports (or, DryRun, plans and checks) the organisations. The report
// holds every organisation's outcome; an error is returned only when the
// run could not start (the origin unreadable). A failed organisation is
// resumed by running again. pool is the import's own (store.OpenPool): its
// bulk statements need raw connections (COPY, the advisory lock's session).
func Run(ctx context.Context, pool *pgxpool.Pool, origin *Origin, opts Options) (*Report, error) {
	db := database{pool: pool, DB: store.New(pool)}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	rep := &Report{Origin: origin.Name, DryRun: opts.DryRun, StartedAt: now().UTC()}
	orgs, skipped, err := originOrgs(ctx, origin, opts.Orgs)
	if err != nil {
		return nil, err
	}
	dup, orphans, err := originDevices(ctx, origin)
	if err != nil {
		return nil, err
	}
	rep.Global = orphans
	rep.Organizations = append(rep.Organizations, skipped...)
	for _, id := range orgs {
		r := importOrganization(ctx, db, origin, id, dup, opts, now)
		rep.Organizations = append(rep.Organizations, *r)
	}
	rep.FinishedAt = now().UTC()
	return rep, nil
}

// originOrgs lists the organisations to import and reports those skipped.
func originOrgs(ctx context.Context, o *Origin, want []string) (ids []string, skipped []OrgReport, err error) {
	rows, err := o.conn.Query(ctx, `SELECT id::text, name, `+deletedExpr(o, "organizations")+` FROM organizations ORDER BY name, id`)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the origin's organisations: %w", err)
	}
	type org struct {
		name    string
		deleted bool
	}
	all := map[string]org{}
	var order []string
	var id, name string
	var deleted bool
	if _, err := pgx.ForEachRow(rows, []any{&id, &name, &deleted}, func() error {
		all[id] = org{name, deleted}
		order = append(order, id)
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("listing the origin's organisations: %w", err)
	}
	if len(want) == 0 {
		want = order
	}
	for _, id := range want {
		o, ok := all[id]
		switch {
		case !ok:
			skipped = append(skipped, OrgReport{ID: id, Status: "failed", Error: "no such organisation in the origin"})
		case o.deleted:
			skipped = append(skipped, OrgReport{ID: id, Name: o.name, Status: "skipped",
				Problems: []Problem{{Severity: Noted, Code: "organization_deleted", Table: "organizations", ID: id, Message: "soft-deleted in the origin: not imported"}}})
		default:
			ids = append(ids, id)
		}
	}
	return ids, skipped, nil
}

// deletedExpr is "the row is soft-deleted" for a table, with the columns
// the origin has.
func deletedExpr(o *Origin, table string) string {
	e := "false"
	if o.HasColumn(table, "deleted_at") {
		e += " OR deleted_at IS NOT NULL"
	}
	if o.HasColumn(table, "is_active") {
		e += " OR NOT is_active"
	}
	return "(" + e + ")"
}

// originDevices finds, across the whole origin, the DevEUIs that are active
// in more than one organisation once normalised (the origin's unique index
// is case-sensitive) and the devices that belong to no organisation.
func originDevices(ctx context.Context, o *Origin) (map[string][]string, []Problem, error) {
	if !o.Has("devices") {
		return nil, nil, nil
	}
	rows, err := o.conn.Query(ctx, `SELECT d.id::text, d.device_eui, l.dev_eui, d.is_active,
			coalesce(s.organization_id::text, (SELECT c.organization_id::text FROM ttn_connections c WHERE c.application_id = l.network_server_id LIMIT 1), '')
		FROM devices d LEFT JOIN lora_sensors l ON l.device_id = d.id
			LEFT JOIN units u ON u.id = d.unit_id LEFT JOIN areas a ON a.id = u.area_id LEFT JOIN sites s ON s.id = a.site_id
		ORDER BY d.id`)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the origin's devices: %w", err)
	}
	by := map[string]map[string]bool{}
	var orphans []Problem
	var id, eui, org string
	var lora *string
	var active bool
	if _, err := pgx.ForEachRow(rows, []any{&id, &eui, &lora, &active, &org}, func() error {
		d, l := record{"device_eui": eui}, record(nil)
		if lora != nil {
			l = record{"dev_eui": *lora}
		}
		if org == "" {
			orphans = append(orphans, Problem{Severity: Noted, Code: "orphan", Table: "devices", ID: id,
				Message: fmt.Sprintf("device %s is in no unit and no organisation's TTN application: belongs to no organisation, not imported", eui)})
			return nil
		}
		n, err := deviceEUI(d, l)
		if err != nil || !active {
			return nil
		}
		if by[n] == nil {
			by[n] = map[string]bool{}
		}
		by[n][org] = true
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("reading the origin's devices: %w", err)
	}
	dup := map[string][]string{}
	for eui, orgs := range by {
		if len(orgs) > 1 {
			dup[eui] = sortedKeys(orgs)
		}
	}
	return dup, orphans, nil
}

// importOrganization runs one organisation: plan, check, and (unless dry)
// write, copy, balance and make live.
func importOrganization(ctx context.Context, db database, o *Origin, orgID string, dup map[string][]string, opts Options, now func() time.Time) *OrgReport {
	dry := opts.DryRun
	rep := &OrgReport{ID: orgID}
	started := now().UTC()
	p := newPlanner(orgID, started, rep)
	p.dupEUIs = dup
	fail := func(err error) *OrgReport {
		rep.Status, rep.Error = "failed", err.Error()
		slog.ErrorContext(ctx, "origin import failed", "organization", orgID, "err", err)
		return rep
	}
	if err := o.snapshot(ctx, func(tx pgx.Tx) error { return p.load(ctx, o, tx) }); err != nil {
		return fail(err)
	}
	if err := readOurs(ctx, db, p); err != nil {
		return fail(err)
	}
	if p.ours.orgExists && !p.ours.orgImported {
		return fail(errors.New("an organisation with this id exists in FrostGuard and was not created by import-origin"))
	}
	p.build()
	sortProblems(rep)
	if rep.blocked() {
		rep.Status = "blocked"
		return rep
	}
	c, err := newCopier(db, o, p, dry, started)
	if err != nil {
		return fail(err)
	}
	c.batchRows, c.workers = opts.BatchRows, opts.Workers
	plan, _ := p.out[toOrganizations.Table][0]["plan"].(string)
	c.retention = retention.Cutoff(plan, started)
	if dry {
		if p.ours.orgExists {
			if err := c.loadPositions(ctx); err != nil { // what earlier runs copied is not counted again
				return fail(err)
			}
		}
		stats, err := c.run(ctx)
		if err != nil {
			return fail(err)
		}
		readingsReport(rep, stats, 0)
		for line, ids := range p.lineIDs {
			rep.table(line, p.lineTo[line]).OursRows = int64(len(ids))
		}
		balanceAll(rep)
		rep.Status = "would-import"
		return rep
	}
	w := &orgWriter{db: db, origin: o, p: p, rep: rep, started: started, now: now}
	if err := w.run(ctx, c); err != nil {
		return fail(err)
	}
	return rep
}

// sortProblems orders problems by severity, then code, for reading.
func sortProblems(r *OrgReport) {
	rank := map[Severity]int{Blocking: 0, Changed: 1, Noted: 2}
	sort.SliceStable(r.Problems, func(i, j int) bool {
		a, b := r.Problems[i], r.Problems[j]
		if rank[a.Severity] != rank[b.Severity] {
			return rank[a.Severity] < rank[b.Severity]
		}
		return a.Code < b.Code
	})
}

func balanceAll(r *OrgReport) {
	for i := range r.Tables {
		r.Tables[i].balance()
	}
	sort.SliceStable(r.Tables, func(i, j int) bool { return r.Tables[i].Origin < r.Tables[j].Origin })
}

// readingsReport fills the readings' part of the report from the copy's counts.
func readingsReport(rep *OrgReport, s *copyStats, seconds float64) {
	if s == nil {
		s = newStats()
	}
	rep.Readings.Copied = s.Copied
	rep.Readings.Scales = s.names()
	rep.Readings.OutsidePartitions = s.Outside
	rep.Readings.Seconds = seconds
	if seconds > 0 {
		rep.Readings.RowsPerSec = float64(s.Copied) / seconds
	}
	add := func(sev Severity, code, msg string, n int64) {
		if n > 0 {
			rep.add(Problem{Severity: sev, Code: code, Table: "sensor_readings", Message: msg, Rows: n})
		}
	}
	add(Noted, "readings_fahrenheit", "stored in °F in the origin's °C column: converted (docs/MIGRATION.md, Temperatures)",
		rep.Readings.Scales["fahrenheit by range"]+rep.Readings.Scales["fahrenheit by payload"]+rep.Readings.Scales["fahrenheit by series"])
	add(Changed, "readings_ambiguous", "°C and °F both plausible and nothing tells them apart: kept as stored (°C), the origin's value and the verdict in raw", rep.Readings.Scales["ambiguous"])
	add(Changed, "readings_implausible", "neither °C nor °F is plausible for the unit (a probe's error code?): kept as stored", rep.Readings.Scales["implausible"])
	add(Changed, "readings_out_of_range", "too large for numeric(6,2): temperature not stored, the origin's value kept in raw", rep.Readings.Scales["out_of_range"])
	add(Changed, "readings_outside_partitions", "more than ten years from now: in sensor_readings_default", s.Outside)
	add(Noted, "readings_past_retention", "older than the plan keeps raw readings: once the organisation is live, retention archives them to the bucket (archive/<organisation>/readings/<month>.csv.gz, kept) with hourly rollups, and deletes them from the database", s.Retired)
	add(Noted, "readings_foreign_device", "from a device that is not a sensor of the organisation (another organisation's, or not LoRaWAN): kept without a sensor", s.Foreign)
	add(Noted, "readings_duplicate", "the same sensor's reading at the same instant, stored again by the origin: one kept", s.Duplicates)
	sortProblems(rep)
}

// Discard deletes an organisation that import-origin created, with
// everything it holds (readings included): a failed or abandoned import
// (hidden), or, with live, a rollback of the cut-over before the SPA
// switched (docs/MIGRATION.md). An organisation created in FrostGuard is
// never touched. Users stay (they belong to no organisation and may be
// members elsewhere).
func Discard(ctx context.Context, pool *pgxpool.Pool, orgID string, live bool) error {
	tag, err := pool.Exec(ctx, `DELETE FROM organizations o WHERE o.id = $1
		AND EXISTS (SELECT 1 FROM origin_imports i WHERE i.organization_id = o.id)
		AND (o.import_state IS NOT NULL OR $2)`, orgID, live)
	if err != nil {
		return fmt.Errorf("Discard: %w", store.Classify(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("Discard: %s is not an organisation import-origin created%s", orgID, map[bool]string{false: " and still hidden (add -live to discard a live one)", true: ""}[live])
	}
	return nil
}
