package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// HierarchyFilter selects one page of a sites, areas or units list, ordered
// by (created_at, id): creation order never changes, so a cursor stays valid
// while rows are renamed or updated between pages.
type HierarchyFilter struct {
	IncludeDeleted bool
	UpdatedSince   time.Time // zero: no filter
	AfterCreated   time.Time // the cursor (zero AfterID: first page)
	AfterID        string
	Limit          int    // rows to fetch
	SiteID         string // areas and units
	AreaID         string // units
	Status         string // units
}

// hierQuery accumulates the WHERE clause of a list query.
type hierQuery struct {
	conds []string
	args  []any
}

// where adds a condition whose "?"s are args, in order.
func (q *hierQuery) where(cond string, args ...any) {
	for _, a := range args {
		q.args = append(q.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(q.args)), 1)
	}
	q.conds = append(q.conds, cond)
}

// list builds "<base> WHERE ... ORDER BY ... LIMIT" for the table alias t.
// The caller adds its own conditions first.
func (q *hierQuery) list(base, t string, orgID string, f HierarchyFilter) string {
	q.where(t+".organization_id = ?", orgID)
	if !f.IncludeDeleted {
		q.where(t + ".deleted_at IS NULL")
	}
	if !f.UpdatedSince.IsZero() {
		q.where(t+".updated_at > ?", f.UpdatedSince)
	}
	if f.AfterID != "" {
		q.where("("+t+".created_at, "+t+".id) > (?::timestamptz, ?::uuid)", f.AfterCreated, f.AfterID)
	}
	q.args = append(q.args, f.Limit)
	return base + " WHERE " + strings.Join(q.conds, " AND ") +
		" ORDER BY " + t + ".created_at, " + t + ".id LIMIT $" + strconv.Itoa(len(q.args))
}

func hierUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ---------------------------------------------------------------------------------------------
// Sites
// ---------------------------------------------------------------------------------------------

// siteCols are a site's columns (alias s) and what the sites screen counts
// under it: live areas, live units and their open alerts (one index probe
// each, per site).
const siteCols = `s.id, s.organization_id, s.name, s.address_line1, s.address_line2, s.city, s.region,
	s.postal_code, s.country, s.timezone, s.latitude, s.longitude, s.created_at, s.updated_at, s.deleted_at,
	(SELECT count(*) FROM areas x WHERE x.site_id = s.id AND x.organization_id = s.organization_id AND x.deleted_at IS NULL),
	(SELECT count(*) FROM units x WHERE x.site_id = s.id AND x.organization_id = s.organization_id AND x.deleted_at IS NULL),
	(SELECT count(*) FROM alerts x JOIN units xu ON xu.id = x.unit_id AND xu.organization_id = x.organization_id
		WHERE xu.site_id = s.id AND x.organization_id = s.organization_id AND x.status <> 'resolved' AND xu.deleted_at IS NULL)`

func scanSite(row pgx.Row) (domain.Site, error) {
	var s domain.Site
	err := row.Scan(&s.ID, &s.OrganizationID, &s.Name, &s.AddressLine1, &s.AddressLine2, &s.City, &s.Region,
		&s.PostalCode, &s.Country, &s.Timezone, &s.Latitude, &s.Longitude, &s.CreatedAt, &s.UpdatedAt, &s.DeletedAt,
		&s.AreaCount, &s.UnitCount, &s.OpenAlertCount)
	s.CreatedAt, s.UpdatedAt, s.DeletedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC(), hierUTC(s.DeletedAt)
	return s, err
}

func hierNotFound(err error, thing string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.New(apperr.NotFound, "%s not found", thing)
	}
	return Classify(err)
}

// ListSites lists the organisation's sites.
func (db *DB) ListSites(ctx context.Context, orgID string, f HierarchyFilter) (_ []domain.Site, err error) {
	defer wrap(&err, "store.ListSites")
	var q hierQuery
	sql := q.list(`SELECT `+siteCols+` FROM sites s`, "s", orgID, f)
	rows, err := db.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Site, error) { return scanSite(r) })
	return out, Classify(err)
}

// GetSite returns a live site of the organisation.
func (db *DB) GetSite(ctx context.Context, orgID, id string) (_ domain.Site, err error) {
	defer wrap(&err, "store.GetSite")
	s, err := scanSite(db.pool.QueryRow(ctx, `SELECT `+siteCols+` FROM sites s
		WHERE s.id = $1 AND s.organization_id = $2 AND s.deleted_at IS NULL`, id, orgID))
	return s, hierNotFound(err, "site")
}

// CreateSite inserts a site from in's editable fields.
func (db *DB) CreateSite(ctx context.Context, orgID string, in domain.Site) (_ domain.Site, err error) {
	defer wrap(&err, "store.CreateSite")
	s, err := txValue(ctx, db, func(tx pgx.Tx) (domain.Site, error) {
		return scanSite(tx.QueryRow(ctx, `INSERT INTO sites AS s (organization_id, name, address_line1, address_line2,
			city, region, postal_code, country, timezone, latitude, longitude)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+siteCols,
			orgID, in.Name, in.AddressLine1, in.AddressLine2, in.City, in.Region, in.PostalCode, in.Country,
			in.Timezone, in.Latitude, in.Longitude))
	})
	return s, Classify(err)
}

// UpdateSite applies apply to a live site under a row lock (so concurrent
// patches of different fields do not undo each other) and saves the result.
// apply validates; its error aborts before anything is written.
func (db *DB) UpdateSite(ctx context.Context, orgID, id string, apply func(*domain.Site) error) (_ domain.Site, err error) {
	defer wrap(&err, "store.UpdateSite")
	var out domain.Site
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		s, err := scanSite(tx.QueryRow(ctx, `SELECT `+siteCols+` FROM sites s
			WHERE s.id = $1 AND s.organization_id = $2 AND s.deleted_at IS NULL FOR UPDATE`, id, orgID))
		if err != nil {
			return hierNotFound(err, "site")
		}
		if err := apply(&s); err != nil {
			return err
		}
		out, err = scanSite(tx.QueryRow(ctx, `UPDATE sites AS s SET name = $3, address_line1 = $4, address_line2 = $5,
				city = $6, region = $7, postal_code = $8, country = $9, timezone = $10, latitude = $11,
				longitude = $12, updated_at = now()
			WHERE s.id = $1 AND s.organization_id = $2 RETURNING `+siteCols,
			id, orgID, s.Name, s.AddressLine1, s.AddressLine2, s.City, s.Region, s.PostalCode, s.Country,
			s.Timezone, s.Latitude, s.Longitude))
		return err
	})
	return out, Classify(err)
}

// DeleteSite soft-deletes a live site with its live areas and units, all
// with the same deleted_at: restoring the site brings back exactly these.
func (db *DB) DeleteSite(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DeleteSite")
	return db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sites SET deleted_at = now(), updated_at = now()
			WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL`, id, orgID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return apperr.New(apperr.NotFound, "site not found")
		}
		// now() is the transaction's start time: the children get the same stamp.
		if _, err := tx.Exec(ctx, `UPDATE areas SET deleted_at = now(), updated_at = now()
			WHERE site_id = $1 AND organization_id = $2 AND deleted_at IS NULL`, id, orgID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE units SET deleted_at = now(), updated_at = now()
			WHERE site_id = $1 AND organization_id = $2 AND deleted_at IS NULL`, id, orgID)
		return err
	})
}

// RestoreSite undeletes a site and the areas and units deleted with it.
// Restoring a live site changes nothing.
func (db *DB) RestoreSite(ctx context.Context, orgID, id string) (_ domain.Site, err error) {
	defer wrap(&err, "store.RestoreSite")
	var out domain.Site
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var deletedAt *time.Time
		err := tx.QueryRow(ctx, `SELECT deleted_at FROM sites WHERE id = $1 AND organization_id = $2 FOR UPDATE`,
			id, orgID).Scan(&deletedAt)
		if err != nil {
			return hierNotFound(err, "site")
		}
		if deletedAt != nil {
			if _, err := tx.Exec(ctx, `UPDATE sites SET deleted_at = NULL, updated_at = now()
				WHERE id = $1 AND organization_id = $2`, id, orgID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE areas SET deleted_at = NULL, updated_at = now()
				WHERE site_id = $1 AND organization_id = $2 AND deleted_at = $3`, id, orgID, *deletedAt); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE units SET deleted_at = NULL, updated_at = now()
				WHERE site_id = $1 AND organization_id = $2 AND deleted_at = $3`, id, orgID, *deletedAt); err != nil {
				return err
			}
		}
		out, err = scanSite(tx.QueryRow(ctx, `SELECT `+siteCols+` FROM sites s WHERE s.id = $1 AND s.organization_id = $2`, id, orgID))
		return err
	})
	return out, Classify(err)
}

// ---------------------------------------------------------------------------------------------
// Areas
// ---------------------------------------------------------------------------------------------

// areaCols are an area's columns (alias a) and the count of its live units.
const areaCols = `a.id, a.organization_id, a.site_id, a.name, a.description, a.sort_order, a.created_at, a.updated_at, a.deleted_at,
	(SELECT count(*) FROM units x WHERE x.organization_id = a.organization_id AND x.site_id = a.site_id AND x.area_id = a.id AND x.deleted_at IS NULL)`

func scanArea(row pgx.Row) (domain.Area, error) {
	var a domain.Area
	err := row.Scan(&a.ID, &a.OrganizationID, &a.SiteID, &a.Name, &a.Description, &a.SortOrder, &a.CreatedAt, &a.UpdatedAt, &a.DeletedAt,
		&a.UnitCount)
	a.CreatedAt, a.UpdatedAt, a.DeletedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC(), hierUTC(a.DeletedAt)
	return a, err
}

// hierNoSuch is the error for a body field naming a parent that is not a live
// row of the organisation: the request is wrong, not the path.
func hierNoSuch(field, thing string) error {
	return apperr.Validation(apperr.FieldError{Field: field, Message: "no such " + thing})
}

// hierLockSite takes a share lock on a live site of the organisation, so
// that a concurrent delete cannot orphan the child being written.
func hierLockSite(ctx context.Context, tx pgx.Tx, orgID, siteID string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM sites WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL FOR SHARE`,
		siteID, orgID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return hierNoSuch("site_id", "site")
	}
	return err
}

// ListAreas lists the organisation's areas (of one site if f.SiteID is set).
func (db *DB) ListAreas(ctx context.Context, orgID string, f HierarchyFilter) (_ []domain.Area, err error) {
	defer wrap(&err, "store.ListAreas")
	var q hierQuery
	if f.SiteID != "" {
		q.where("a.site_id = ?", f.SiteID)
	}
	sql := q.list(`SELECT `+areaCols+` FROM areas a`, "a", orgID, f)
	rows, err := db.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Area, error) { return scanArea(r) })
	return out, Classify(err)
}

// GetArea returns a live area of the organisation.
func (db *DB) GetArea(ctx context.Context, orgID, id string) (_ domain.Area, err error) {
	defer wrap(&err, "store.GetArea")
	a, err := scanArea(db.pool.QueryRow(ctx, `SELECT `+areaCols+` FROM areas a
		WHERE a.id = $1 AND a.organization_id = $2 AND a.deleted_at IS NULL`, id, orgID))
	return a, hierNotFound(err, "area")
}

// CreateArea inserts an area into a live site of the organisation (else a
// field error on site_id).
func (db *DB) CreateArea(ctx context.Context, orgID string, in domain.Area) (_ domain.Area, err error) {
	defer wrap(&err, "store.CreateArea")
	var out domain.Area
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := hierLockSite(ctx, tx, orgID, in.SiteID); err != nil {
			return err
		}
		var err error
		out, err = scanArea(tx.QueryRow(ctx, `INSERT INTO areas AS a (organization_id, site_id, name, description, sort_order)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+areaCols, orgID, in.SiteID, in.Name, in.Description, in.SortOrder))
		return err
	})
	return out, err
}

// UpdateArea applies apply to a live area under a row lock and saves it. A
// changed SiteID moves the area (and, through the foreign key's ON UPDATE
// CASCADE, its units) to that site, which must be live.
func (db *DB) UpdateArea(ctx context.Context, orgID, id string, apply func(*domain.Area) error) (_ domain.Area, err error) {
	defer wrap(&err, "store.UpdateArea")
	var out domain.Area
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		a, err := scanArea(tx.QueryRow(ctx, `SELECT `+areaCols+` FROM areas a
			WHERE a.id = $1 AND a.organization_id = $2 AND a.deleted_at IS NULL FOR UPDATE`, id, orgID))
		if err != nil {
			return hierNotFound(err, "area")
		}
		oldSite := a.SiteID
		if err := apply(&a); err != nil {
			return err
		}
		moved := a.SiteID != oldSite
		if moved {
			if err := hierLockSite(ctx, tx, orgID, a.SiteID); err != nil {
				return err
			}
		}
		out, err = scanArea(tx.QueryRow(ctx, `UPDATE areas AS a SET site_id = $3, name = $4, description = $5,
				sort_order = $6, updated_at = now()
			WHERE a.id = $1 AND a.organization_id = $2 RETURNING `+areaCols,
			id, orgID, a.SiteID, a.Name, a.Description, a.SortOrder))
		if err != nil || !moved {
			return err
		}
		// The cascade rewrote the units' site_id: pollers must see them change.
		_, err = tx.Exec(ctx, `UPDATE units SET updated_at = now() WHERE area_id = $1 AND organization_id = $2`, id, orgID)
		return err
	})
	return out, Classify(err)
}

// DeleteArea soft-deletes a live area with its live units (same deleted_at).
func (db *DB) DeleteArea(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DeleteArea")
	return db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE areas SET deleted_at = now(), updated_at = now()
			WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL`, id, orgID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return apperr.New(apperr.NotFound, "area not found")
		}
		_, err = tx.Exec(ctx, `UPDATE units SET deleted_at = now(), updated_at = now()
			WHERE area_id = $1 AND organization_id = $2 AND deleted_at IS NULL`, id, orgID)
		return err
	})
}

// RestoreArea undeletes an area and the units deleted with it. Its site must
// be live (Conflict otherwise: restore the site first).
func (db *DB) RestoreArea(ctx context.Context, orgID, id string) (_ domain.Area, err error) {
	defer wrap(&err, "store.RestoreArea")
	var out domain.Area
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		var deletedAt, siteDeletedAt *time.Time
		err := tx.QueryRow(ctx, `SELECT a.deleted_at, s.deleted_at FROM areas a
			JOIN sites s ON s.id = a.site_id AND s.organization_id = a.organization_id
			WHERE a.id = $1 AND a.organization_id = $2 FOR UPDATE OF a FOR SHARE OF s`, id, orgID).Scan(&deletedAt, &siteDeletedAt)
		if err != nil {
			return hierNotFound(err, "area")
		}
		if deletedAt != nil {
			if siteDeletedAt != nil {
				return apperr.New(apperr.Conflict, "the area's site is deleted: restore the site first")
			}
			if _, err := tx.Exec(ctx, `UPDATE areas SET deleted_at = NULL, updated_at = now()
				WHERE id = $1 AND organization_id = $2`, id, orgID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE units SET deleted_at = NULL, updated_at = now()
				WHERE area_id = $1 AND organization_id = $2 AND deleted_at = $3`, id, orgID, *deletedAt); err != nil {
				return err
			}
		}
		out, err = scanArea(tx.QueryRow(ctx, `SELECT `+areaCols+` FROM areas a WHERE a.id = $1 AND a.organization_id = $2`, id, orgID))
		return err
	})
	return out, Classify(err)
}
