package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// What a unit's detail screen shows beside its readings: the door's real
// transitions and the notes people put on the chart.

// HistoryPage selects a page of a unit's history in [From, To) (zero:
// unbounded), newest first, before the cursor position (BeforeID "": from
// the top).
type HistoryPage struct {
	From, To   time.Time
	BeforeTime time.Time
	BeforeID   string
	Limit      int
}

// DoorEvents lists a live unit's door transitions, newest first, each with
// how long the door then stayed in that state (until the same sensor's next
// transition; nil while it lasts). The duration looks past To: a door
// opened inside the range and closed after it still has its duration.
func (db *DB) DoorEvents(ctx context.Context, orgID, unitID string, p HistoryPage) (_ []domain.DoorEvent, err error) {
	defer wrap(&err, "store.DoorEvents")
	if err := requireUnit(ctx, db, orgID, unitID); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT id, unit_id, sensor_id, state, changed_at, next_at FROM (
			SELECT d.id, d.unit_id, d.sensor_id, d.state, d.changed_at,
				lead(d.changed_at) OVER (PARTITION BY d.sensor_id ORDER BY d.changed_at, d.id) AS next_at
			FROM door_events d
			WHERE d.organization_id = $1 AND d.unit_id = $2 AND ($3::timestamptz IS NULL OR d.changed_at >= $3)) e
		WHERE ($4::timestamptz IS NULL OR changed_at < $4)
			AND ($5::uuid IS NULL OR (changed_at, id) < ($6, $5))
		ORDER BY changed_at DESC, id DESC LIMIT $7`,
		orgID, unitID, timeOrNil(p.From), timeOrNil(p.To), nullable(p.BeforeID), p.BeforeTime, p.Limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.DoorEvent, error) {
		var e domain.DoorEvent
		err := r.Scan(&e.ID, &e.UnitID, &e.SensorID, &e.State, &e.At, &e.EndedAt)
		e.At = e.At.UTC()
		if e.EndedAt != nil {
			end := e.EndedAt.UTC()
			d := int64(end.Sub(e.At) / time.Second)
			e.EndedAt, e.DurationSeconds = &end, &d
		}
		return e, err
	})
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// requireUnit answers NotFound unless unitID is a live unit of the
// organisation.
func requireUnit(ctx context.Context, db *DB, orgID, unitID string) error {
	var live bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM units WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL)`,
		unitID, orgID).Scan(&live); err != nil {
		return Classify(err)
	}
	if !live {
		return apperr.New(apperr.NotFound, "unit not found")
	}
	return nil
}

const annotationSelect = `SELECT n.id, n.unit_id, n.at, n.body, n.author_user_id, u.display_name, n.created_at, n.updated_at
	FROM unit_annotations n LEFT JOIN users u ON u.id = n.author_user_id`

func scanAnnotation(r pgx.Row) (domain.Annotation, error) {
	var a domain.Annotation
	err := r.Scan(&a.ID, &a.UnitID, &a.At, &a.Body, &a.AuthorID, &a.AuthorName, &a.CreatedAt, &a.UpdatedAt)
	a.At, a.CreatedAt, a.UpdatedAt = a.At.UTC(), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, err
}

// Annotations lists a live unit's chart notes whose moment is in the page's
// range, newest moment first.
func (db *DB) Annotations(ctx context.Context, orgID, unitID string, p HistoryPage) (_ []domain.Annotation, err error) {
	defer wrap(&err, "store.Annotations")
	if err := requireUnit(ctx, db, orgID, unitID); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, annotationSelect+`
		WHERE n.organization_id = $1 AND n.unit_id = $2
			AND ($3::timestamptz IS NULL OR n.at >= $3) AND ($4::timestamptz IS NULL OR n.at < $4)
			AND ($5::uuid IS NULL OR (n.at, n.id) < ($6, $5))
		ORDER BY n.at DESC, n.id DESC LIMIT $7`,
		orgID, unitID, timeOrNil(p.From), timeOrNil(p.To), nullable(p.BeforeID), p.BeforeTime, p.Limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Annotation, error) { return scanAnnotation(r) })
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// CreateAnnotation puts a note by userID on a live unit's chart.
func (db *DB) CreateAnnotation(ctx context.Context, orgID, unitID, userID string, at time.Time, body string) (_ domain.Annotation, err error) {
	defer wrap(&err, "store.CreateAnnotation")
	a, err := txValue(ctx, db, func(tx pgx.Tx) (domain.Annotation, error) {
		var id string
		err := tx.QueryRow(ctx, `INSERT INTO unit_annotations (organization_id, unit_id, author_user_id, at, body)
			SELECT organization_id, id, $3, $4, $5 FROM units WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL
			RETURNING id`, orgID, unitID, userID, at, body).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.Annotation{}, apperr.New(apperr.NotFound, "unit not found")
		}
		if err != nil {
			return domain.Annotation{}, err
		}
		return scanAnnotation(tx.QueryRow(ctx, annotationSelect+` WHERE n.id = $1`, id))
	})
	if err != nil {
		return a, Classify(err)
	}
	return a, nil
}

// AnnotationChange is a PATCH of a note: nil fields stay.
type AnnotationChange struct {
	At   *time.Time
	Body *string
}

// EditAnnotation changes (or, with remove, deletes) a note of a live unit.
// Only its author may, unless anyone is true (a member who manages units):
// another member's note answers Forbidden.
func (db *DB) EditAnnotation(ctx context.Context, orgID, unitID, id, userID string, anyone, remove bool, c AnnotationChange) (_ domain.Annotation, err error) {
	defer wrap(&err, "store.EditAnnotation")
	a, err := txValue(ctx, db, func(tx pgx.Tx) (domain.Annotation, error) {
		var author *string
		err := tx.QueryRow(ctx, `SELECT n.author_user_id FROM unit_annotations n
			JOIN units u ON u.id = n.unit_id AND u.organization_id = n.organization_id AND u.deleted_at IS NULL
			WHERE n.organization_id = $1 AND n.unit_id = $2 AND n.id = $3 FOR UPDATE OF n`, orgID, unitID, id).Scan(&author)
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.Annotation{}, apperr.New(apperr.NotFound, "annotation not found")
		}
		if err != nil {
			return domain.Annotation{}, err
		}
		if !anyone && (author == nil || *author != userID) {
			return domain.Annotation{}, apperr.New(apperr.Forbidden, "only the note's author or a member who manages units may change it")
		}
		if remove {
			_, err := tx.Exec(ctx, `DELETE FROM unit_annotations WHERE organization_id = $1 AND id = $2`, orgID, id)
			return domain.Annotation{}, err
		}
		return scanAnnotation(tx.QueryRow(ctx, `WITH n AS (
				UPDATE unit_annotations SET at = coalesce($3, at), body = coalesce($4, body), updated_at = now()
				WHERE organization_id = $1 AND id = $2 RETURNING *)
			SELECT n.id, n.unit_id, n.at, n.body, n.author_user_id, u.display_name, n.created_at, n.updated_at
			FROM n LEFT JOIN users u ON u.id = n.author_user_id`, orgID, id, c.At, c.Body))
	})
	if err != nil {
		return a, Classify(err)
	}
	return a, nil
}
