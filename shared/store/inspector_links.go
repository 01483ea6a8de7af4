package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// InspectorLinkInput is a new share link (the token's hash and last 4
// characters; the token itself is never stored).
type InspectorLinkInput struct {
	Name       string
	SiteIDs    []string
	PeriodFrom time.Time // a date (UTC midnight)
	PeriodTo   time.Time
	ExpiresAt  time.Time
	TokenHash  []byte
	TokenLast4 string
	CreatedBy  string
}

const inspectorLinkSelect = `SELECT l.id, l.name, l.site_ids::text[], l.period_from, l.period_to, l.token_last4,
	COALESCE(NULLIF(u.display_name, ''), u.email), l.created_at, l.expires_at, l.revoked_at, l.last_used_at, l.use_count
FROM inspector_links l LEFT JOIN users u ON u.id = l.created_by`

func scanInspectorLink(row pgx.Row, now time.Time) (domain.InspectorLink, error) {
	var l domain.InspectorLink
	var from, to time.Time
	err := row.Scan(&l.ID, &l.Name, &l.SiteIDs, &from, &to, &l.TokenLast4, &l.CreatedBy, &l.CreatedAt, &l.ExpiresAt,
		&l.RevokedAt, &l.LastUsedAt, &l.UseCount)
	l.PeriodFrom, l.PeriodTo = from.Format(time.DateOnly), to.Format(time.DateOnly)
	l.CreatedAt, l.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	l.RevokedAt, l.LastUsedAt = sensorUTC(l.RevokedAt), sensorUTC(l.LastUsedAt)
	l.Status = domain.InspectorLinkStatus(l.ExpiresAt, l.RevokedAt, now)
	return l, err
}

// CreateInspectorLink stores a link whose sites must all be live sites of
// the organisation (else NotFound, naming none).
func (db *DB) CreateInspectorLink(ctx context.Context, orgID string, in InspectorLinkInput, now time.Time) (_ domain.InspectorLink, err error) {
	defer wrap(&err, "store.CreateInspectorLink")
	out, err := txValue(ctx, db, func(tx pgx.Tx) (domain.InspectorLink, error) {
		var live int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM sites WHERE organization_id = $1 AND id = ANY($2::uuid[]) AND deleted_at IS NULL`,
			orgID, in.SiteIDs).Scan(&live); err != nil {
			return domain.InspectorLink{}, err
		}
		if live != len(in.SiteIDs) {
			return domain.InspectorLink{}, apperr.New(apperr.NotFound, "site not found")
		}
		var id string
		if err := tx.QueryRow(ctx, `INSERT INTO inspector_links (organization_id, name, site_ids, period_from, period_to, token_hash,
				token_last4, created_by, created_at, expires_at)
			VALUES ($1, $2, $3::uuid[], $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			orgID, in.Name, in.SiteIDs, in.PeriodFrom, in.PeriodTo, in.TokenHash, in.TokenLast4, in.CreatedBy, now, in.ExpiresAt).Scan(&id); err != nil {
			return domain.InspectorLink{}, err
		}
		return scanInspectorLink(tx.QueryRow(ctx, inspectorLinkSelect+` WHERE l.organization_id = $1 AND l.id = $2`, orgID, id), now)
	})
	if err != nil {
		return out, err
	}
	return out, nil
}

// InspectorLinks lists the organisation's links, newest first (keyset
// after (afterTime, afterID)).
func (db *DB) InspectorLinks(ctx context.Context, orgID string, afterTime time.Time, afterID string, limit int, now time.Time) (_ []domain.InspectorLink, err error) {
	defer wrap(&err, "store.InspectorLinks")
	rows, err := db.pool.Query(ctx, inspectorLinkSelect+` WHERE l.organization_id = $1
		AND ($2::uuid IS NULL OR (l.created_at, l.id) < ($3, $2))
		ORDER BY l.created_at DESC, l.id DESC LIMIT $4`, orgID, sensorNullString(afterID), afterTime, limit)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.InspectorLink, error) { return scanInspectorLink(r, now) })
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}

// InspectorLink returns one link of the organisation.
func (db *DB) InspectorLink(ctx context.Context, orgID, id string, now time.Time) (_ domain.InspectorLink, err error) {
	defer wrap(&err, "store.InspectorLink")
	l, err := scanInspectorLink(db.pool.QueryRow(ctx, inspectorLinkSelect+` WHERE l.organization_id = $1 AND l.id = $2`, orgID, id), now)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, apperr.New(apperr.NotFound, "inspector link not found")
	}
	if err != nil {
		return l, Classify(err)
	}
	return l, nil
}

// RevokeInspectorLink ends a link now (revoking a revoked link changes
// nothing and answers it as it is).
func (db *DB) RevokeInspectorLink(ctx context.Context, orgID, id, userID string, now time.Time) (_ domain.InspectorLink, err error) {
	defer wrap(&err, "store.RevokeInspectorLink")
	out, err := txValue(ctx, db, func(tx pgx.Tx) (domain.InspectorLink, error) {
		tag, err := tx.Exec(ctx, `UPDATE inspector_links SET revoked_at = $3, revoked_by = $4
			WHERE organization_id = $1 AND id = $2 AND revoked_at IS NULL`, orgID, id, now, userID)
		if err != nil {
			return domain.InspectorLink{}, err
		}
		l, err := scanInspectorLink(tx.QueryRow(ctx, inspectorLinkSelect+` WHERE l.organization_id = $1 AND l.id = $2`, orgID, id), now)
		if errors.Is(err, pgx.ErrNoRows) {
			return l, apperr.New(apperr.NotFound, "inspector link not found")
		}
		if err == nil && tag.RowsAffected() == 0 {
			// nothing changed: roll back, so no audit line says it did
			return l, errUnchanged{l}
		}
		return l, err
	})
	var u errUnchanged
	if errors.As(err, &u) {
		return u.link, nil
	}
	if err != nil {
		return out, err
	}
	return out, nil
}

// errUnchanged rolls back a transaction that changed nothing.
type errUnchanged struct{ link domain.InspectorLink }

func (errUnchanged) Error() string { return "unchanged" }

// InspectorUse is one use of a link, for the audit trail.
type InspectorUse struct {
	Action    string          // "GET /api/v1/inspect/..." (the route's pattern)
	Detail    json.RawMessage // the request's path and query
	RequestID string
}

// Inspector link refusals (the api answers 401 with the reason: the
// holder of a token may know what became of it).
var (
	ErrInspectorLinkUnknown = errors.New("the inspector link is not valid")
	ErrInspectorLinkExpired = errors.New("the inspector link has expired")
	ErrInspectorLinkRevoked = errors.New("the inspector link has been revoked")
)

// UseInspectorLink finds the live link whose token hashes to hash, counts
// the use and writes its audit line (actor: the link), in one transaction:
// a use that could not be audited is refused. It returns the link's scope
// with the sites that are still live (a link whose sites are all gone is
// Unknown). An organisation being imported has no links.
func (db *DB) UseInspectorLink(ctx context.Context, hash []byte, use InspectorUse, now time.Time) (_ domain.InspectorScope, err error) {
	defer wrap(&err, "store.UseInspectorLink")
	sc, err := txValue(ctx, db, func(tx pgx.Tx) (domain.InspectorScope, error) {
		var sc domain.InspectorScope
		var revoked *time.Time
		err := tx.QueryRow(ctx, `SELECT l.id, l.name, l.organization_id, l.period_from, l.period_to, l.expires_at, l.revoked_at,
				ARRAY(SELECT s.id::text FROM sites s WHERE s.organization_id = l.organization_id AND s.id = ANY(l.site_ids)
					AND s.deleted_at IS NULL ORDER BY s.name, s.id)
			FROM inspector_links l JOIN organizations o ON o.id = l.organization_id
			WHERE l.token_hash = $1 AND o.import_state IS NULL
			FOR UPDATE OF l`, hash).
			Scan(&sc.LinkID, &sc.LinkName, &sc.OrgID, &sc.From, &sc.To, &sc.ExpiresAt, &revoked, &sc.SiteIDs)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return sc, ErrInspectorLinkUnknown
		case err != nil:
			return sc, err
		}
		switch domain.InspectorLinkStatus(sc.ExpiresAt, revoked, now) {
		case domain.InspectorLinkRevoked:
			return sc, ErrInspectorLinkRevoked
		case domain.InspectorLinkExpired:
			return sc, ErrInspectorLinkExpired
		}
		if len(sc.SiteIDs) == 0 {
			return sc, ErrInspectorLinkUnknown
		}
		if _, err := tx.Exec(ctx, `UPDATE inspector_links SET last_used_at = $2, use_count = use_count + 1 WHERE id = $1`,
			sc.LinkID, now); err != nil {
			return sc, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_log (organization_id, actor_type, action, entity_type, entity_id, after, request_id, at)
			VALUES ($1, 'inspector_link', $2, 'inspector_link', $3, $4, nullif($5, ''), $6)`,
			sc.OrgID, use.Action, sc.LinkID, nullJSON(use.Detail), use.RequestID, now); err != nil {
			return sc, err
		}
		sc.ExpiresAt = sc.ExpiresAt.UTC()
		return sc, nil
	})
	if err != nil && !errors.Is(err, ErrInspectorLinkUnknown) && !errors.Is(err, ErrInspectorLinkExpired) &&
		!errors.Is(err, ErrInspectorLinkRevoked) {
		return sc, err
	}
	return sc, err
}

// InspectorSite is a site of a link's scope.
type InspectorSite struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TimeZone string `json:"timezone"`
}

// InspectorOrg is what a link holder sees of the organisation.
type InspectorOrg struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	TimeZone string          `json:"timezone"`
	TempUnit string          `json:"temp_unit"`
	Sites    []InspectorSite `json:"sites"`
}

// InspectorOrg returns the organisation of a link's scope with the scope's
// live sites (the site's timezone, else the organisation's).
func (db *DB) InspectorOrg(ctx context.Context, sc domain.InspectorScope) (_ InspectorOrg, err error) {
	defer wrap(&err, "store.InspectorOrg")
	var o InspectorOrg
	err = db.pool.QueryRow(ctx, `SELECT id, name, timezone, temp_unit FROM organizations WHERE id = $1`, sc.OrgID).
		Scan(&o.ID, &o.Name, &o.TimeZone, &o.TempUnit)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, apperr.New(apperr.NotFound, "organization not found")
	}
	if err != nil {
		return o, Classify(err)
	}
	rows, err := db.pool.Query(ctx, `SELECT s.id, s.name, COALESCE(NULLIF(s.timezone, ''), $3) FROM sites s
		WHERE s.organization_id = $1 AND s.id = ANY($2::uuid[]) AND s.deleted_at IS NULL ORDER BY s.name, s.id`,
		sc.OrgID, sc.SiteIDs, o.TimeZone)
	if err != nil {
		return o, Classify(err)
	}
	o.Sites, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (InspectorSite, error) {
		var s InspectorSite
		return s, r.Scan(&s.ID, &s.Name, &s.TimeZone)
	})
	if err != nil {
		return o, Classify(err)
	}
	return o, nil
}
