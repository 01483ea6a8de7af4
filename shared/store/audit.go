package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/frostguard/functions/shared/logging"
)

// AuditRecord is one audit_log row written for an api write.
type AuditRecord struct {
	OrgID        string
	ActorSubject string // the caller's users.subject, resolved in the insert
	Action       string
	EntityType   string // "" when none
	EntityID     string // "" when none
	Before       json.RawMessage
	After        json.RawMessage
	RequestID    string
	At           time.Time
}

// PendingAudit is the audit line of one api write, carried by the
// request's context: the first transaction the request commits (InTx)
// writes it, with the change.
type PendingAudit struct {
	rec        AuditRecord
	redact     func(json.RawMessage) json.RawMessage
	wantBefore bool
	beforeRead bool
	written    bool
}

type pendingAuditKey struct{}

// WithAudit attaches rec to ctx. wantBefore: the write changes the entity
// rec names, so its row is read (inside the transaction, before the
// change) as the line's "before".
// redact cleans that row of secrets before it is stored.
func WithAudit(ctx context.Context, rec AuditRecord, wantBefore bool, redact func(json.RawMessage) json.RawMessage) (context.Context, *PendingAudit) {
	p := &PendingAudit{rec: rec, redact: redact, wantBefore: wantBefore && rec.EntityID != ""}
	return context.WithValue(ctx, pendingAuditKey{}, p), p
}

// Written reports whether a committed transaction wrote the line.
func (p *PendingAudit) Written() bool { return p.written }

// Record is the line as it stands (the middleware writes it itself for a
// write that committed no transaction through InTx).
func (p *PendingAudit) Record() AuditRecord { return p.rec }

// auditOrganization names, from inside a transaction, the organisation (and
// entity) of the pending line of ctx: an organisation being created is only
// known once its row is written.
func auditOrganization(ctx context.Context, orgID string) {
	if p, ok := ctx.Value(pendingAuditKey{}).(*PendingAudit); ok && !p.written && p.rec.OrgID == "" {
		p.rec.OrgID, p.rec.EntityType, p.rec.EntityID = orgID, "organization", orgID
	}
}

// readBefore reads the entity's row once, in the first transaction.
func (p *PendingAudit) readBefore(ctx context.Context, tx pgx.Tx) error {
	if !p.wantBefore || p.beforeRead {
		return nil
	}
	p.beforeRead = true
	row, found, err := auditSnapshot(ctx, tx, p.rec.OrgID, p.rec.EntityType, p.rec.EntityID)
	if err != nil || !found {
		return err
	}
	p.rec.Before = row
	if p.redact != nil {
		p.rec.Before = p.redact(row)
	}
	return nil
}

// InsertAudit writes rec outside any change's transaction (a write that
// committed none through InTx). An unknown organisation (a race with its
// deletion) writes nothing.
func (db *DB) InsertAudit(ctx context.Context, rec AuditRecord) (err error) {
	defer wrap(&err, "store.InsertAudit")
	return Classify(insertAuditRecord(ctx, db.pool, rec))
}

// querier is a transaction or the pool.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func insertAuditRecord(ctx context.Context, q querier, rec AuditRecord) error {
	_, err := q.Exec(ctx, `INSERT INTO audit_log (organization_id, actor_user_id, actor_type, action, entity_type, entity_id,
			before, after, request_id, at)
		SELECT o.id, (SELECT id FROM users WHERE subject = $2), 'user', $3, nullif($4, ''), nullif($5, '')::uuid,
			$6, $7, nullif($8, ''), $9
		FROM organizations o WHERE o.id = $1`,
		rec.OrgID, rec.ActorSubject, rec.Action, rec.EntityType, rec.EntityID, nullJSON(rec.Before), nullJSON(rec.After),
		rec.RequestID, rec.At)
	return err
}

// AuditEvent is one audit_log row written in the transaction of the change
// it records: the change and its audit line commit together or not at all.
type AuditEvent struct {
	OrgID       string
	ActorUserID string // "" for none
	ActorType   string // user, system, provider ("" = user when ActorUserID is set, else system)
	Action      string
	EntityType  string // "" when none
	EntityID    string // "" when none
	Before      any    // marshalled to jsonb; nil is NULL
	After       any
	At          time.Time // zero: the transaction's now()
}

// insertAuditEvent writes e with q (a transaction or a batch's connection);
// the request id comes from ctx.
func insertAuditEvent(ctx context.Context, tx pgx.Tx, e AuditEvent) error {
	before, err := auditJSON(e.Before)
	if err != nil {
		return err
	}
	after, err := auditJSON(e.After)
	if err != nil {
		return err
	}
	actorType := e.ActorType
	if actorType == "" {
		actorType = "system"
		if e.ActorUserID != "" {
			actorType = "user"
		}
	}
	var at *time.Time
	if !e.At.IsZero() {
		at = &e.At
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (organization_id, actor_user_id, actor_type, action, entity_type, entity_id,
			before, after, request_id, at)
		VALUES ($1, nullif($2, '')::uuid, $3, $4, nullif($5, ''), nullif($6, '')::uuid, $7, $8, nullif($9, ''), coalesce($10, now()))`,
		e.OrgID, e.ActorUserID, actorType, e.Action, e.EntityType, e.EntityID, before, after,
		logging.RequestID(ctx), at)
	return err
}

func auditJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return nullJSON(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return json.RawMessage(b), nil
}

func nullJSON(j json.RawMessage) any {
	if len(j) == 0 {
		return nil
	}
	return j
}

// auditTables maps an audited entity type to its table: a fixed set, so the
// table name in AuditSnapshot is never caller-controlled.
var auditTables = map[string]string{
	"area":                "areas",
	"asset":               "assets",
	"alert":               "alerts",
	"annotation":          "unit_annotations",
	"contact":             "escalation_contacts",
	"gateway":             "gateways",
	"invitation":          "memberships",
	"layout":              "dashboard_layouts",
	"member":              "memberships",
	"notification_policy": "notification_policies",
	"sensor":              "sensors",
	"site":                "sites",
	"unit":                "units",
}

// AuditSnapshot returns the row of an entity of the organisation as JSON
// (the audit trail's "before"). ok is false for an entity type without a
// table here or a row that does not exist.
func (db *DB) AuditSnapshot(ctx context.Context, orgID, entityType, id string) (row json.RawMessage, ok bool, err error) {
	defer wrap(&err, "store.AuditSnapshot")
	row, ok, err = auditSnapshot(ctx, db.pool, orgID, entityType, id)
	return row, ok, Classify(err)
}

func auditSnapshot(ctx context.Context, q querier, orgID, entityType, id string) (row json.RawMessage, ok bool, err error) {
	var sql string
	switch entityType {
	case "organization":
		if id != orgID {
			return nil, false, nil
		}
		sql = `SELECT to_jsonb(t) FROM organizations t WHERE t.id = $1 AND t.id = $2`
	default:
		table, known := auditTables[entityType]
		if !known {
			return nil, false, nil
		}
		sql = `SELECT to_jsonb(t) FROM ` + table + ` t WHERE t.organization_id = $1 AND t.id = $2`
	}
	err = q.QueryRow(ctx, sql, orgID, id).Scan(&row)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return row, true, nil
}

// AuditEntry is one audit_log row as the api lists it.
type AuditEntry struct {
	ID          string          `json:"id"`
	ActorUserID *string         `json:"actor_user_id"`
	ActorName   *string         `json:"actor_name"`
	ActorType   string          `json:"actor_type"`
	Action      string          `json:"action"`
	EntityType  *string         `json:"entity_type"`
	EntityID    *string         `json:"entity_id"`
	Before      json.RawMessage `json:"before"`
	After       json.RawMessage `json:"after"`
	RequestID   *string         `json:"request_id"`
	At          time.Time       `json:"at"`
}

// AuditFilter selects audit_log rows, newest first.
type AuditFilter struct {
	EntityType, EntityID, ActorUserID, Action string
	From, To                                  time.Time // at in [From, To)
	AfterTime                                 time.Time
	AfterID                                   string
	Limit                                     int
}

// ListAudit lists the organisation's audit trail.
func (db *DB) ListAudit(ctx context.Context, orgID string, f AuditFilter) (_ []AuditEntry, err error) {
	defer wrap(&err, "store.ListAudit")
	where := []string{"a.organization_id = $1"}
	args := []any{orgID}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.EntityType != "" {
		add("a.entity_type = $%d", f.EntityType)
	}
	if f.EntityID != "" {
		add("a.entity_id = $%d", f.EntityID)
	}
	if f.ActorUserID != "" {
		add("a.actor_user_id = $%d", f.ActorUserID)
	}
	if f.Action != "" {
		add("a.action = $%d", f.Action)
	}
	if !f.From.IsZero() {
		add("a.at >= $%d", f.From)
	}
	if !f.To.IsZero() {
		add("a.at < $%d", f.To)
	}
	if f.AfterID != "" {
		args = append(args, f.AfterTime, f.AfterID)
		where = append(where, fmt.Sprintf("(a.at, a.id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, f.Limit)
	rows, err := db.pool.Query(ctx, `SELECT a.id, a.actor_user_id::text, coalesce(u.display_name, u.email), a.actor_type, a.action,
			a.entity_type, a.entity_id::text, a.before, a.after, a.request_id, a.at
		FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id
		WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(`
		ORDER BY a.at DESC, a.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.ActorUserID, &e.ActorName, &e.ActorType, &e.Action, &e.EntityType, &e.EntityID,
			&e.Before, &e.After, &e.RequestID, &e.At)
		e.At = e.At.UTC()
		return e, err
	})
	return out, Classify(err)
}
