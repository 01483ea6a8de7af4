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

// AssetFilter selects one page of ready assets, newest first, ordered by
// (created_at, id) descending.
type AssetFilter struct {
	Kind          domain.AssetKind
	EntityID      string
	UpdatedSince  time.Time
	BeforeCreated time.Time
	BeforeID      string
	Limit         int
}

const assetCols = `a.id, a.kind, a.entity_id, a.content_type, coalesce(a.size_bytes, 0), a.status, a.created_by, a.created_at, a.updated_at, a.s3_key`

func scanAsset(row pgx.Row) (domain.Asset, error) {
	var a domain.Asset
	err := row.Scan(&a.ID, &a.Kind, &a.EntityID, &a.ContentType, &a.SizeBytes, &a.Status, &a.CreatedBy, &a.CreatedAt, &a.UpdatedAt, &a.Key)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, err
}

// assetEntityQuery checks that the row an asset kind points at exists in
// the organisation (soft-deleted units and sites do not count).
var assetEntityQuery = map[domain.AssetKind]string{
	domain.AssetUnitPhoto:             `SELECT EXISTS (SELECT 1 FROM units WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL)`,
	domain.AssetSiteFloorPlan:         `SELECT EXISTS (SELECT 1 FROM sites WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL)`,
	domain.AssetCorrectiveActionPhoto: `SELECT EXISTS (SELECT 1 FROM alerts WHERE id = $1 AND organization_id = $2)`,
}

var assetEntityName = map[domain.AssetKind]string{
	domain.AssetUnitPhoto:             "unit",
	domain.AssetSiteFloorPlan:         "site",
	domain.AssetCorrectiveActionPhoto: "alert",
}

// CheckAssetEntity checks that the row an asset of kind names exists in
// the organisation: otherwise a field error on entity_id. Kinds without an
// entity (the logo) need none.
func (db *DB) CheckAssetEntity(ctx context.Context, orgID string, kind domain.AssetKind, entityID *string) (err error) {
	defer wrap(&err, "store.CheckAssetEntity")
	q, ok := assetEntityQuery[kind]
	if !ok {
		return nil
	}
	if entityID == nil {
		return apperr.Validation(apperr.FieldError{Field: "entity_id", Message: "is required for " + string(kind)})
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, q, *entityID, orgID).Scan(&exists); err != nil {
		return Classify(err)
	}
	if !exists {
		return apperr.Validation(apperr.FieldError{Field: "entity_id", Message: "is not a " + assetEntityName[kind] + " of this organisation"})
	}
	return nil
}

// CreateAsset inserts a pending asset (its entity checked by
// CheckAssetEntity).
func (db *DB) CreateAsset(ctx context.Context, orgID, userID string, in domain.Asset) (_ domain.Asset, err error) {
	defer wrap(&err, "store.CreateAsset")
	out, err := txValue(ctx, db, func(tx pgx.Tx) (domain.Asset, error) {
		return scanAsset(tx.QueryRow(ctx, `INSERT INTO assets AS a (organization_id, kind, entity_id, s3_key, content_type, size_bytes, status, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) RETURNING `+assetCols,
			orgID, in.Kind, in.EntityID, in.Key, in.ContentType, in.SizeBytes, userID))
	})
	return out, Classify(err)
}

// GetAsset returns one asset of the organisation, pending or ready.
func (db *DB) GetAsset(ctx context.Context, orgID, id string) (_ domain.Asset, err error) {
	defer wrap(&err, "store.GetAsset")
	a, err := scanAsset(db.pool.QueryRow(ctx, `SELECT `+assetCols+` FROM assets a WHERE a.id = $1 AND a.organization_id = $2`, id, orgID))
	return a, hierNotFound(err, "asset")
}

// ListAssets lists the organisation's ready assets.
func (db *DB) ListAssets(ctx context.Context, orgID string, f AssetFilter) (_ []domain.Asset, err error) {
	defer wrap(&err, "store.ListAssets")
	var q hierQuery
	q.where("a.organization_id = ?", orgID)
	q.where("a.status = 'ready'")
	if f.Kind != "" {
		q.where("a.kind = ?", f.Kind)
	}
	if f.EntityID != "" {
		q.where("a.entity_id = ?", f.EntityID)
	}
	if !f.UpdatedSince.IsZero() {
		q.where("a.updated_at > ?", f.UpdatedSince)
	}
	if f.BeforeID != "" {
		q.where("(a.created_at, a.id) < (?::timestamptz, ?::uuid)", f.BeforeCreated, f.BeforeID)
	}
	q.args = append(q.args, f.Limit)
	sql := `SELECT ` + assetCols + ` FROM assets a WHERE ` + strings.Join(q.conds, " AND ") +
		` ORDER BY a.created_at DESC, a.id DESC LIMIT $` + strconv.Itoa(len(q.args))
	rows, err := db.pool.Query(ctx, sql, q.args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Asset, error) { return scanAsset(r) })
	return out, Classify(err)
}

// MarkAssetReady records that the object was uploaded (with its actual
// size). Confirming a ready asset again changes nothing.
func (db *DB) MarkAssetReady(ctx context.Context, orgID, id string, size int64) (_ domain.Asset, err error) {
	defer wrap(&err, "store.MarkAssetReady")
	a, err := txValue(ctx, db, func(tx pgx.Tx) (domain.Asset, error) {
		return scanAsset(tx.QueryRow(ctx, `UPDATE assets AS a SET status = 'ready', size_bytes = $3, updated_at = now()
		WHERE a.id = $1 AND a.organization_id = $2 AND a.status = 'pending' RETURNING `+assetCols, id, orgID, size))
	})
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return a, Classify(err)
	}
	// Already ready (a retried confirm) or deleted meanwhile.
	return db.GetAsset(ctx, orgID, id)
}

// DeleteAsset removes an asset row (the caller has removed its object).
func (db *DB) DeleteAsset(ctx context.Context, orgID, id string) (err error) {
	defer wrap(&err, "store.DeleteAsset")
	return execChanged(ctx, db, apperr.New(apperr.NotFound, "asset not found"), `DELETE FROM assets WHERE id = $1 AND organization_id = $2`, id, orgID)
}
