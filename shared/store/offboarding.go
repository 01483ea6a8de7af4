package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// OrgTables lists every table that holds organisation rows: the tables of
// the public schema with an organization_id column (partitioned tables by
// their parent, partitions left out). Exports and deletion both walk this
// list, so a table added later is exported and deleted without anyone
// remembering to.
func (db *DB) OrgTables(ctx context.Context) (_ []string, err error) {
	defer wrap(&err, "store.OrgTables")
	rows, err := db.pool.Query(ctx, `SELECT c.relname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id' AND NOT a.attisdropped
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		ORDER BY c.relname`)
	if err != nil {
		return nil, Classify(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, Classify(err)
	}
	return append(tables, "organizations"), nil
}

// CopyOrgTable writes the organisation's rows of table as CSV with a header
// (PostgreSQL's COPY: every column, exact values). "organizations" is the
// organisation's own row.
func (db *DB) CopyOrgTable(ctx context.Context, orgID, table string, w io.Writer) (_ int64, err error) {
	defer wrap(&err, "store.CopyOrgTable")
	if !domain.IsUUID(orgID) {
		return 0, fmt.Errorf("%q is not a UUID", orgID)
	}
	column := "organization_id"
	if table == "organizations" {
		column = "id"
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return 0, Classify(err)
	}
	defer conn.Release()
	// COPY takes no parameters: the id is a parsed UUID and the table a
	// quoted identifier from OrgTables.
	sql := fmt.Sprintf(`COPY (SELECT * FROM %s WHERE %s = '%s') TO STDOUT WITH (FORMAT csv, HEADER)`,
		pgx.Identifier{table}.Sanitize(), column, strings.ToLower(orgID))
	tag, err := conn.Conn().PgConn().CopyTo(ctx, w, sql)
	if err != nil {
		return 0, fmt.Errorf("CopyOrgTable %s: %w", table, Classify(err))
	}
	return tag.RowsAffected(), nil
}

// OrganizationExport is one requested export.
type OrganizationExport struct {
	ID          string          `json:"id"`
	OrgID       string          `json:"-"`
	Email       string          `json:"-"`
	Status      string          `json:"status"` // pending, ready, failed
	S3Key       string          `json:"-"`
	SizeBytes   *int64          `json:"size_bytes,omitempty"`
	Tables      json.RawMessage `json:"tables,omitempty"`
	Error       string          `json:"error,omitempty"`
	Attempts    int             `json:"-"`
	CreatedAt   time.Time       `json:"created_at"`
	CompletedAt *time.Time      `json:"completed_at,omitempty"`
}

const exportColumns = `id, organization_id, email, status, coalesce(s3_key, ''), size_bytes, tables, coalesce(error, ''), attempts, created_at, completed_at`

func scanExport(r pgx.Row) (OrganizationExport, error) {
	var e OrganizationExport
	err := r.Scan(&e.ID, &e.OrgID, &e.Email, &e.Status, &e.S3Key, &e.SizeBytes, &e.Tables, &e.Error, &e.Attempts, &e.CreatedAt, &e.CompletedAt)
	return e, err
}

// RequestExport records an export to build; a pending one of the same
// organisation is returned instead of a second.
func (db *DB) RequestExport(ctx context.Context, orgID, userID, email string) (_ OrganizationExport, err error) {
	defer wrap(&err, "store.RequestExport")
	var e OrganizationExport
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE`, orgID); err != nil {
			return err
		}
		var err error
		e, err = scanExport(tx.QueryRow(ctx, `SELECT `+exportColumns+` FROM organization_exports
			WHERE organization_id = $1 AND status = 'pending'`, orgID))
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		e, err = scanExport(tx.QueryRow(ctx, `INSERT INTO organization_exports (organization_id, requested_by, email)
			VALUES ($1, $2, $3) RETURNING `+exportColumns, orgID, nullable(userID), email))
		return err
	})
	if err != nil {
		return e, err
	}
	return e, nil
}

// Export returns one export of the organisation (404 for another's).
func (db *DB) Export(ctx context.Context, orgID, exportID string) (_ OrganizationExport, err error) {
	defer wrap(&err, "store.Export")
	e, err := scanExport(db.pool.QueryRow(ctx, `SELECT `+exportColumns+` FROM organization_exports
		WHERE organization_id = $1 AND id = $2`, orgID, exportID))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, apperr.New(apperr.NotFound, "no such export")
	}
	if err != nil {
		return e, Classify(err)
	}
	return e, nil
}

// PendingExports lists exports to build, oldest first.
func (db *DB) PendingExports(ctx context.Context, limit int) (_ []OrganizationExport, err error) {
	defer wrap(&err, "store.PendingExports")
	rows, err := db.pool.Query(ctx, `SELECT `+exportColumns+` FROM organization_exports
		WHERE status = 'pending' ORDER BY created_at LIMIT $1`, limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OrganizationExport, error) { return scanExport(r) })
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// maxExportAttempts: an export failing this often is marked failed.
const maxExportAttempts = 5

// FinishExport records an export's outcome: ready with its object, or a
// failed attempt (failed for good after maxExportAttempts).
func (db *DB) FinishExport(ctx context.Context, id, key string, size int64, tables map[string]int64, cause error) (err error) {
	defer wrap(&err, "store.FinishExport")
	if cause == nil {
		t, _ := json.Marshal(tables)
		_, err = db.pool.Exec(ctx, `UPDATE organization_exports SET status = 'ready', s3_key = $2, size_bytes = $3,
			tables = $4, error = NULL, attempts = attempts + 1, completed_at = now() WHERE id = $1`, id, key, size, t)
	} else {
		msg := cause.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		_, err = db.pool.Exec(ctx, `UPDATE organization_exports SET attempts = attempts + 1, error = $2,
			status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE status END,
			completed_at = CASE WHEN attempts + 1 >= $3 THEN now() END WHERE id = $1`, id, msg, maxExportAttempts)
	}
	if err != nil {
		return Classify(err)
	}
	return nil
}

// OrganizationDeletion is an organisation's pending deletion.
type OrganizationDeletion struct {
	OrgID       string    `json:"organization_id"`
	Name        string    `json:"-"`
	RequestedAt time.Time `json:"requested_at"`
	RequestedBy *string   `json:"-"`
	DueAt       time.Time `json:"deletion_due_at"`
}

// RequestDeletion schedules the organisation's deletion grace from now. A
// subscription Stripe still bills must be cancelled first (409): deleting
// the organisation would leave the customer paying for nothing.
func (db *DB) RequestDeletion(ctx context.Context, orgID, userID string, now time.Time, grace time.Duration) (_ OrganizationDeletion, err error) {
	defer wrap(&err, "store.RequestDeletion")
	var d OrganizationDeletion
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var billed bool
		err := tx.QueryRow(ctx, `SELECT o.name, coalesce(s.stripe_subscription_id IS NOT NULL AND s.status IN ('active', 'past_due', 'paused', 'incomplete')
				AND NOT s.cancel_at_period_end, false)
			FROM organizations o LEFT JOIN subscriptions s ON s.organization_id = o.id WHERE o.id = $1 FOR UPDATE OF o`, orgID).Scan(&d.Name, &billed)
		if err != nil {
			return err
		}
		if billed {
			return apperr.New(apperr.Conflict, "the subscription is still active: cancel it in the billing portal first")
		}
		return tx.QueryRow(ctx, `UPDATE organizations SET
				deletion_requested_at = coalesce(deletion_requested_at, $2),
				deletion_requested_by = coalesce(deletion_requested_by, $3),
				deletion_due_at = coalesce(deletion_due_at, $4), updated_at = now()
			WHERE id = $1 RETURNING id, deletion_requested_at, deletion_due_at`,
			orgID, now, nullable(userID), now.Add(grace)).Scan(&d.OrgID, &d.RequestedAt, &d.DueAt)
	})
	if err != nil {
		return d, err
	}
	return d, nil
}

// CancelDeletion withdraws a pending deletion; it reports whether one was pending.
func (db *DB) CancelDeletion(ctx context.Context, orgID string) (_ bool, err error) {
	defer wrap(&err, "store.CancelDeletion")
	tag, err := db.pool.Exec(ctx, `UPDATE organizations SET deletion_requested_at = NULL, deletion_requested_by = NULL,
		deletion_due_at = NULL, updated_at = now() WHERE id = $1 AND deletion_due_at IS NOT NULL`, orgID)
	if err != nil {
		return false, Classify(err)
	}
	return tag.RowsAffected() > 0, nil
}

// DueDeletions lists organisations whose grace period is over.
func (db *DB) DueDeletions(ctx context.Context, now time.Time, limit int) (_ []OrganizationDeletion, err error) {
	defer wrap(&err, "store.DueDeletions")
	rows, err := db.pool.Query(ctx, `SELECT id, name, deletion_requested_at, deletion_requested_by, deletion_due_at
		FROM organizations WHERE deletion_due_at <= $1 ORDER BY deletion_due_at LIMIT $2`, now, limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (OrganizationDeletion, error) {
		var d OrganizationDeletion
		return d, r.Scan(&d.OrgID, &d.Name, &d.RequestedAt, &d.RequestedBy, &d.DueAt)
	})
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// readingsDeleteBatch bounds each statement that empties the readings
// before the organisation row goes (one huge cascade would hold locks and
// WAL for minutes).
const readingsDeleteBatch = 20000

// DeleteOrganization removes every row of a due organisation: its readings
// in batches, then, in one transaction, every other table's rows (by the
// organisation row's cascades) and the audit record in
// organization_deletions, which no cascade reaches. A deletion that was
// cancelled meanwhile does nothing (false).
func (db *DB) DeleteOrganization(ctx context.Context, d OrganizationDeletion, objectsDeleted int, now time.Time) (_ bool, err error) {
	defer wrap(&err, "store.DeleteOrganization")
	var readings int64
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM sensor_readings WHERE organization_id = $1`, d.OrgID).Scan(&readings); err != nil {
		return false, Classify(err)
	}
	for {
		tag, err := db.pool.Exec(ctx, `DELETE FROM sensor_readings WHERE organization_id = $1 AND id IN (
			SELECT id FROM sensor_readings WHERE organization_id = $1 LIMIT $2)
			AND EXISTS (SELECT 1 FROM organizations WHERE id = $1 AND deletion_due_at <= $3)`, d.OrgID, readingsDeleteBatch, now)
		if err != nil {
			return false, fmt.Errorf("readings: %w", Classify(err))
		}
		if tag.RowsAffected() < readingsDeleteBatch {
			break
		}
	}
	tables, err := db.OrgTables(ctx)
	if err != nil {
		return false, err
	}
	deleted := false
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var due bool
		if err := tx.QueryRow(ctx, `SELECT deletion_due_at <= $2 FROM organizations WHERE id = $1 FOR UPDATE`, d.OrgID, now).Scan(&due); err != nil || !due {
			if errors.Is(err, pgx.ErrNoRows) {
				err = nil // already gone
			}
			return err
		}
		counts := map[string]int64{}
		if readings > 0 {
			counts["sensor_readings"] = readings // emptied in batches above
		}
		for _, t := range tables {
			column := "organization_id"
			if t == "organizations" {
				column = "id"
			}
			var n int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t}.Sanitize()+` WHERE `+column+` = $1`, d.OrgID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				counts[t] += n
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM organizations WHERE id = $1`, d.OrgID); err != nil {
			return err
		}
		rows, _ := json.Marshal(counts)
		if _, err := tx.Exec(ctx, `INSERT INTO organization_deletions
			(deleted_organization_id, organization_name, requested_by, requested_at, deleted_at, rows_deleted, objects_deleted)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, d.OrgID, d.Name, d.RequestedBy, d.RequestedAt, now, rows, objectsDeleted); err != nil {
			return err
		}
		deleted = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return deleted, nil
}
