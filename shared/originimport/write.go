package originimport

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Writing our tables. Every row goes through SQL that the schema checks like
// any other write: the composite tenant foreign keys, the partial unique
// indexes (one active registration of a DevEUI, one open alert per unit and
// type), the CHECKs. Each table of an organisation is written in one
// transaction with its checkpoint, so a killed import never leaves a table
// half-written and a second run changes nothing (an upsert touches a row only
// when one of its columns differs).

// writeTable upserts the planned rows of d in tx and records the table's
// checkpoint. It returns how many rows were inserted and updated.
func writeTable(ctx context.Context, tx pgx.Tx, orgID string, d destination, rows []row) (ins, upd int64, err error) {
	if ins, upd, err = upsertRows(ctx, tx, d, rows); err != nil {
		return 0, 0, err
	}
	return ins, upd, markDone(ctx, tx, orgID, d.Table, int64(len(rows)))
}

// upsertRows writes rows into d (see destination).
func upsertRows(ctx context.Context, tx pgx.Tx, d destination, rows []row) (ins, upd int64, err error) {
	if len(rows) == 0 {
		return 0, 0, nil
	}
	payload, err := json.Marshal(rows)
	if err != nil {
		return 0, 0, fmt.Errorf("writing %s: %w", d.Table, err)
	}
	sql, err := upsertSQL(ctx, tx, d)
	if err != nil {
		return 0, 0, err
	}
	if err := tx.QueryRow(ctx, sql, payload).Scan(&ins, &upd); err != nil {
		return 0, 0, fmt.Errorf("writing %s: %w", d.Table, err)
	}
	return ins, upd, nil
}

// markDone records that a table of the organisation is written.
func markDone(ctx context.Context, tx pgx.Tx, orgID, table string, rows int64) error {
	_, err := tx.Exec(ctx, `INSERT INTO origin_import_checkpoints (organization_id, table_name, done, rows, updated_at)
		VALUES ($1, $2, true, $3, now())
		ON CONFLICT (organization_id, table_name) DO UPDATE SET done = true, rows = EXCLUDED.rows, updated_at = now()`, orgID, table, rows)
	if err != nil {
		return fmt.Errorf("checkpoint of %s: %w", table, err)
	}
	return nil
}

// defaults caches each table's column defaults (an origin row may lack a
// value our column requires, such as created_at: the default applies).
var defaults sync.Map // table -> map[column]default expression

func columnDefaults(ctx context.Context, tx pgx.Tx, table string) (map[string]string, error) {
	if v, ok := defaults.Load(table); ok {
		return v.(map[string]string), nil
	}
	rows, err := tx.Query(ctx, `SELECT column_name, column_default FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_default IS NOT NULL`, table)
	if err != nil {
		return nil, fmt.Errorf("defaults of %s: %w", table, err)
	}
	out := map[string]string{}
	var col, def string
	if _, err := pgx.ForEachRow(rows, []any{&col, &def}, func() error { out[col] = def; return nil }); err != nil {
		return nil, fmt.Errorf("defaults of %s: %w", table, err)
	}
	defaults.Store(table, out)
	return out, nil
}

// upsertSQL is the statement that writes a JSON array of rows into d:
// jsonb_populate_recordset casts every value to its column's type.
func upsertSQL(ctx context.Context, tx pgx.Tx, d destination) (string, error) {
	defs, err := columnDefaults(ctx, tx, d.Table)
	if err != nil {
		return "", err
	}
	table := pgx.Identifier{d.Table}.Sanitize()
	var cols, vals []string
	for _, c := range d.Columns {
		id := pgx.Identifier{c}.Sanitize()
		cols = append(cols, id)
		if def, ok := defs[c]; ok {
			vals = append(vals, "coalesce(i."+id+", "+def+")")
		} else {
			vals = append(vals, "i."+id)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `WITH w AS (INSERT INTO %s AS t (%s) SELECT %s FROM jsonb_populate_recordset(NULL::%s, $1::jsonb) i ON CONFLICT `,
		table, strings.Join(cols, ", "), strings.Join(vals, ", "), table)
	switch {
	case d.Conflict == "":
		b.WriteString("DO NOTHING")
	case len(d.Update) == 0:
		b.WriteString(d.Conflict + " DO NOTHING")
	default:
		var set, old, new []string
		for _, c := range d.Update {
			id := pgx.Identifier{c}.Sanitize()
			v := "EXCLUDED." + id
			if e, ok := d.Set[c]; ok {
				v = "(" + e + ")"
			}
			set = append(set, id+" = "+v)
			old = append(old, "t."+id)
			new = append(new, v)
		}
		where := "(" + strings.Join(old, ", ") + ") IS DISTINCT FROM (" + strings.Join(new, ", ") + ")"
		if d.Guard != "" {
			where += " AND " + d.Guard
		}
		set = append(set, "updated_at = now()") // every table the importer updates has one
		fmt.Fprintf(&b, "%s DO UPDATE SET %s WHERE %s", d.Conflict, strings.Join(set, ", "), where)
	}
	b.WriteString(` RETURNING (xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w`)
	return b.String(), nil
}

// advanceAlerts moves imported alerts forward to the state the origin has
// reached since an earlier run (acknowledged, resolved), never backwards,
// and only alerts FrostGuard has not touched itself (every change of ours
// writes an alert event; the import's events say "origin").
func advanceAlerts(ctx context.Context, tx pgx.Tx, orgID string, rows []row) (int64, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	payload, err := json.Marshal(rows)
	if err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, `UPDATE alerts a SET status = i.status, acknowledged_at = i.acknowledged_at, acknowledged_by = i.acknowledged_by,
			acknowledged_note = i.acknowledged_note, resolved_at = i.resolved_at, resolved_by = i.resolved_by,
			resolved_note = i.resolved_note, resolution = i.resolution, next_escalation_at = NULL, updated_at = now()
		FROM jsonb_populate_recordset(NULL::alerts, $2::jsonb) i
		WHERE a.organization_id = $1 AND a.id = i.id
			AND NOT EXISTS (SELECT 1 FROM alert_events e WHERE e.organization_id = a.organization_id AND e.alert_id = a.id AND NOT e.data ? 'origin')
			AND ((a.status = 'active' AND i.status IN ('acknowledged', 'resolved')) OR (a.status = 'acknowledged' AND i.status = 'resolved'))`,
		orgID, payload)
	if err != nil {
		return 0, fmt.Errorf("advancing alerts: %w", err)
	}
	return tag.RowsAffected(), nil
}

// presentIDs counts how many of ids are rows of the organisation in table
// (users and organizations: by id only).
func presentIDs(ctx context.Context, db database, table, orgID string, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	sql := `SELECT count(*) FROM ` + pgx.Identifier{table}.Sanitize() + ` WHERE id = ANY($1::uuid[])`
	args := []any{ids}
	if table != "users" && table != "organizations" {
		sql += ` AND organization_id = $2`
		args = append(args, orgID)
	}
	if err := db.pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting %s: %w", table, err)
	}
	return n, nil
}
