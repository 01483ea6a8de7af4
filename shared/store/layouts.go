package store

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// A user's saved dashboard layouts (dashboard_layouts): every statement is
// scoped to the organisation AND the user, so nobody reads or changes
// another member's layouts (another user's layout id answers 404).

const layoutCols = `id, entity_type, entity_id, slot, name, is_default, layout, widget_preferences, timeline_state,
	layout_version, created_at, updated_at`

func scanLayout(r pgx.Row) (domain.DashboardLayout, error) {
	var l domain.DashboardLayout
	err := r.Scan(&l.ID, &l.EntityType, &l.EntityID, &l.Slot, &l.Name, &l.IsDefault, &l.Layout, &l.WidgetPreferences,
		&l.TimelineState, &l.LayoutVersion, &l.CreatedAt, &l.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, apperr.New(apperr.NotFound, "layout not found")
	}
	l.CreatedAt, l.UpdatedAt = l.CreatedAt.UTC(), l.UpdatedAt.UTC()
	if l.TimelineState == nil {
		l.TimelineState = json.RawMessage("null")
	}
	return l, err
}

// LayoutScreen is the screen a layout belongs to.
type LayoutScreen struct {
	EntityType, EntityID string
}

// Layouts lists the user's layouts of one screen, by slot.
func (db *DB) Layouts(ctx context.Context, orgID, userID string, s LayoutScreen) (_ []domain.DashboardLayout, err error) {
	defer wrap(&err, "store.Layouts")
	rows, err := db.pool.Query(ctx, `SELECT `+layoutCols+` FROM dashboard_layouts
		WHERE organization_id = $1 AND user_id = $2 AND entity_type = $3 AND entity_id = $4 ORDER BY slot`,
		orgID, userID, s.EntityType, s.EntityID)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.DashboardLayout, error) { return scanLayout(r) })
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// screenExists reports whether the screen's organisation, site or unit is
// live in the organisation.
func screenExists(ctx context.Context, tx pgx.Tx, orgID string, s LayoutScreen) (bool, error) {
	var sql string
	switch s.EntityType {
	case domain.LayoutOrganization:
		return s.EntityID == orgID, nil
	case domain.LayoutSite:
		sql = `SELECT EXISTS (SELECT 1 FROM sites WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)`
	case domain.LayoutUnit:
		sql = `SELECT EXISTS (SELECT 1 FROM units WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL)`
	default:
		return false, nil
	}
	var ok bool
	err := tx.QueryRow(ctx, sql, orgID, s.EntityID).Scan(&ok)
	return ok, err
}

// NewLayout is a layout to save in a free slot of a screen.
type NewLayout struct {
	LayoutScreen
	Slot              int
	Name              string
	Layout            json.RawMessage
	WidgetPreferences json.RawMessage // nil: {}
	TimelineState     json.RawMessage // nil: none
}

// CreateLayout saves a layout in a free slot of one of the organisation's
// screens (a field error when the screen is not a live one of the
// organisation, Conflict when the slot is taken).
func (db *DB) CreateLayout(ctx context.Context, orgID, userID string, n NewLayout) (_ domain.DashboardLayout, err error) {
	defer wrap(&err, "store.CreateLayout")
	l, err := txValue(ctx, db, func(tx pgx.Tx) (domain.DashboardLayout, error) {
		ok, err := screenExists(ctx, tx, orgID, n.LayoutScreen)
		if err != nil {
			return domain.DashboardLayout{}, err
		}
		if !ok {
			return domain.DashboardLayout{}, apperr.Validation(apperr.FieldError{Field: "entity_id", Message: "is not a " + n.EntityType + " of this organization"})
		}
		prefs := n.WidgetPreferences
		if prefs == nil {
			prefs = json.RawMessage("{}")
		}
		l, err := scanLayout(tx.QueryRow(ctx, `INSERT INTO dashboard_layouts (organization_id, user_id, entity_type, entity_id,
				slot, name, layout, widget_preferences, timeline_state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+layoutCols,
			orgID, userID, n.EntityType, n.EntityID, n.Slot, n.Name, n.Layout, prefs, nullJSON(n.TimelineState)))
		if isUniqueViolation(err, "dashboard_layouts_slot_key") {
			return l, apperr.New(apperr.Conflict, "slot %d of this screen already holds a layout: update it or choose another slot", n.Slot)
		}
		return l, err
	})
	if err != nil {
		return l, Classify(err)
	}
	return l, nil
}

func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

// LayoutChange is a PATCH of a layout: nil fields stay; ClearTimeline
// removes the timeline state. Changing the layout document bumps its
// version.
type LayoutChange struct {
	Name              *string
	Layout            json.RawMessage
	WidgetPreferences json.RawMessage
	TimelineState     json.RawMessage
	ClearTimeline     bool
}

// UpdateLayout changes one of the user's layouts.
func (db *DB) UpdateLayout(ctx context.Context, orgID, userID, id string, c LayoutChange) (_ domain.DashboardLayout, err error) {
	defer wrap(&err, "store.UpdateLayout")
	l, err := txValue(ctx, db, func(tx pgx.Tx) (domain.DashboardLayout, error) {
		return scanLayout(tx.QueryRow(ctx, `UPDATE dashboard_layouts SET
				name = coalesce($4, name),
				layout = coalesce($5, layout),
				layout_version = layout_version + CASE WHEN $5::jsonb IS NOT NULL AND $5::jsonb <> layout THEN 1 ELSE 0 END,
				widget_preferences = coalesce($6, widget_preferences),
				timeline_state = CASE WHEN $8 THEN NULL ELSE coalesce($7, timeline_state) END,
				updated_at = now()
			WHERE organization_id = $1 AND user_id = $2 AND id = $3 RETURNING `+layoutCols,
			orgID, userID, id, c.Name, nullJSON(c.Layout), nullJSON(c.WidgetPreferences), nullJSON(c.TimelineState), c.ClearTimeline))
	})
	if err != nil {
		return l, Classify(err)
	}
	return l, nil
}

// DeleteLayout deletes one of the user's layouts.
func (db *DB) DeleteLayout(ctx context.Context, orgID, userID, id string) (err error) {
	defer wrap(&err, "store.DeleteLayout")
	err = execChanged(ctx, db, apperr.New(apperr.NotFound, "layout not found"),
		`DELETE FROM dashboard_layouts WHERE organization_id = $1 AND user_id = $2 AND id = $3`, orgID, userID, id)
	if err != nil {
		return Classify(err)
	}
	return nil
}

// SetDefaultLayout makes one of the user's layouts the default of its
// screen (and no other).
func (db *DB) SetDefaultLayout(ctx context.Context, orgID, userID, id string) (_ domain.DashboardLayout, err error) {
	defer wrap(&err, "store.SetDefaultLayout")
	l, err := txValue(ctx, db, func(tx pgx.Tx) (domain.DashboardLayout, error) {
		l, err := scanLayout(tx.QueryRow(ctx, `SELECT `+layoutCols+` FROM dashboard_layouts
			WHERE organization_id = $1 AND user_id = $2 AND id = $3 FOR UPDATE`, orgID, userID, id))
		if err != nil {
			return l, err
		}
		if _, err := tx.Exec(ctx, `UPDATE dashboard_layouts SET is_default = false, updated_at = now()
			WHERE organization_id = $1 AND user_id = $2 AND entity_type = $3 AND entity_id = $4 AND is_default AND id <> $5`,
			orgID, userID, l.EntityType, l.EntityID, id); err != nil {
			return l, err
		}
		return scanLayout(tx.QueryRow(ctx, `UPDATE dashboard_layouts SET is_default = true, updated_at = now()
			WHERE organization_id = $1 AND id = $2 RETURNING `+layoutCols, orgID, id))
	})
	if err != nil {
		return l, Classify(err)
	}
	return l, nil
}
