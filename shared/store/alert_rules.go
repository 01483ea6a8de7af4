package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/alertrules"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
)

// Alert rules with inheritance (issue 20): alert_rules holds what the
// organisation, a site or a unit sets; alertrules.Resolve makes each unit's
// effective rule of them, and resolveUnits writes it into the unit's own
// columns in the transaction of the change, so that judging a reading (one
// SELECT of the unit, unitAlertingSQL) and the sweeper read the effective
// rule and nothing else. Every change of rules, of a unit's type or of its
// site takes the organisation's rules lock first, so two changes never
// resolve a unit from each other's stale layers.

// AlertRule is the rule one scope sets (the api's answer).
type AlertRule struct {
	Scope     alertrules.Scope `json:"scope"`
	ScopeID   string           `json:"scope_id"`
	Rule      alertrules.Rule  `json:"rule"`
	UpdatedAt *time.Time       `json:"updated_at"` // nil: nothing was ever set
	UpdatedBy *string          `json:"updated_by"` // the user who last changed it
}

// AlertRuleChange is one line of a scope's rule history.
type AlertRuleChange struct {
	ID        string           `json:"id"`
	Scope     alertrules.Scope `json:"scope"`
	ScopeID   string           `json:"scope_id"`
	ChangedBy *string          `json:"changed_by"`
	// ChangedByName is the user's name (or e-mail) at the time of reading.
	ChangedByName *string         `json:"changed_by_name"`
	Source        string          `json:"source"` // alert_rules (the rules api) or unit (a unit's create or update)
	Before        alertrules.Rule `json:"before"`
	After         alertrules.Rule `json:"after"`
	ChangedAt     time.Time       `json:"changed_at"`
}

// UnitAlertRules is a unit's rules: what each scope sets and the effective
// value of every field with where it came from.
type UnitAlertRules struct {
	UnitID   string          `json:"unit_id"`
	UnitType domain.UnitType `json:"unit_type"`
	// Layers are the unit's, its site's and its organisation's rules, most
	// specific first.
	Layers    []AlertRule               `json:"layers"`
	Effective map[string]EffectiveField `json:"effective"`
}

// EffectiveField is one field of a unit's effective rule.
type EffectiveField struct {
	Value  any               `json:"value"`
	Source alertrules.Source `json:"source"`
}

const alertRuleCols = `temp_min_c::float8, temp_max_c::float8, hysteresis_c::float8, confirm_seconds, door_confirm_seconds,
	checkin_interval_seconds, manual_log_interval_seconds, door_warn_minutes, door_critical_minutes, offline_multiplier`

func ruleScanArgs(r *alertrules.Rule) []any {
	return []any{&r.TempMinC, &r.TempMaxC, &r.HysteresisC, &r.ConfirmSeconds, &r.DoorConfirmSeconds,
		&r.CheckinIntervalSeconds, &r.ManualLogIntervalSeconds, &r.DoorWarnMinutes, &r.DoorCriticalMinutes, &r.OfflineMultiplier}
}

// lockAlertRules serialises the organisation's rule resolutions.
func lockAlertRules(ctx context.Context, tx pgx.Tx, orgID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('alert-rules:' || $1::text, 0))`, orgID)
	return err
}

// checkRuleScope answers NotFound unless the scope's organisation, site or
// unit is live in the organisation.
func checkRuleScope(ctx context.Context, q querier, orgID string, scope alertrules.Scope, scopeID string) error {
	var sql, what string
	switch scope {
	case alertrules.ScopeOrganization:
		sql, what = `SELECT true FROM organizations WHERE id = $1 AND id = $2`, "organization"
	case alertrules.ScopeSite:
		sql, what = `SELECT true FROM sites WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`, "site"
	case alertrules.ScopeUnit:
		sql, what = `SELECT true FROM units WHERE organization_id = $1 AND id = $2 AND deleted_at IS NULL`, "unit"
	default:
		return fmt.Errorf("unknown alert rule scope %q", scope)
	}
	var ok bool
	err := q.QueryRow(ctx, sql, orgID, scopeID).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return apperr.New(apperr.NotFound, "%s not found", what)
	}
	return err
}

func readAlertRule(ctx context.Context, q querier, orgID string, scope alertrules.Scope, scopeID string) (AlertRule, error) {
	out := AlertRule{Scope: scope, ScopeID: scopeID}
	args := append(ruleScanArgs(&out.Rule), &out.UpdatedAt, &out.UpdatedBy)
	err := q.QueryRow(ctx, `SELECT `+alertRuleCols+`, updated_at, updated_by FROM alert_rules
		WHERE organization_id = $1 AND scope = $2 AND scope_id = $3`, orgID, scope, scopeID).Scan(args...)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if out.UpdatedAt != nil {
		t := out.UpdatedAt.UTC()
		out.UpdatedAt = &t
	}
	return out, err
}

// AlertRule returns what a scope (the organisation, one of its live sites
// or units) sets; an empty rule when it sets nothing.
func (db *DB) AlertRule(ctx context.Context, orgID string, scope alertrules.Scope, scopeID string) (_ AlertRule, err error) {
	defer wrap(&err, "store.AlertRule")
	if err := checkRuleScope(ctx, db.pool, orgID, scope, scopeID); err != nil {
		return AlertRule{}, Classify(err)
	}
	r, err := readAlertRule(ctx, db.pool, orgID, scope, scopeID)
	if err != nil {
		return AlertRule{}, Classify(err)
	}
	return r, nil
}

// SetAlertRule changes what a scope sets: change edits the stored rule
// (its error aborts). The change, a line of the scope's history and every
// affected unit's new effective configuration commit together; a change
// that would leave some unit with an invalid configuration (a band the
// hysteresis does not fit, a critical door time below the warning) is
// refused naming the unit, and nothing is written.
func (db *DB) SetAlertRule(ctx context.Context, orgID string, scope alertrules.Scope, scopeID, actorUserID string,
	change func(*alertrules.Rule) error) (_ AlertRule, err error) {
	defer wrap(&err, "store.SetAlertRule")
	var out AlertRule
	err = db.InTx(ctx, func(tx pgx.Tx) error {
		if err := lockAlertRules(ctx, tx, orgID); err != nil {
			return err
		}
		if err := checkRuleScope(ctx, tx, orgID, scope, scopeID); err != nil {
			return err
		}
		cur, err := readAlertRule(ctx, tx, orgID, scope, scopeID)
		if err != nil {
			return err
		}
		next := cur.Rule
		if err := change(&next); err != nil {
			return err
		}
		if err := writeAlertRule(ctx, tx, orgID, scope, scopeID, actorUserID, "alert_rules", cur.Rule, next); err != nil {
			return err
		}
		if err := resolveScope(ctx, tx, orgID, scope, scopeID); err != nil {
			return err
		}
		out, err = readAlertRule(ctx, tx, orgID, scope, scopeID)
		return err
	})
	if err != nil {
		return AlertRule{}, Classify(err)
	}
	return out, nil
}

// writeAlertRule stores next as the scope's rule (deleting the row when it
// sets nothing) with a line of history; nothing when it equals before.
func writeAlertRule(ctx context.Context, tx pgx.Tx, orgID string, scope alertrules.Scope, scopeID, actorUserID, source string,
	before, next alertrules.Rule) error {
	if next == before {
		return nil
	}
	if next.Empty() {
		if _, err := tx.Exec(ctx, `DELETE FROM alert_rules WHERE organization_id = $1 AND scope = $2 AND scope_id = $3`,
			orgID, scope, scopeID); err != nil {
			return err
		}
	} else {
		var siteID, unitID *string
		switch scope {
		case alertrules.ScopeSite:
			siteID = &scopeID
		case alertrules.ScopeUnit:
			unitID = &scopeID
		}
		r := next
		if _, err := tx.Exec(ctx, `INSERT INTO alert_rules (organization_id, scope, site_id, unit_id, temp_min_c, temp_max_c,
				hysteresis_c, confirm_seconds, door_confirm_seconds, checkin_interval_seconds, manual_log_interval_seconds,
				door_warn_minutes, door_critical_minutes, offline_multiplier, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15, nullif($14, '')::uuid)
			ON CONFLICT (organization_id, scope, scope_id) DO UPDATE SET temp_min_c = EXCLUDED.temp_min_c,
				temp_max_c = EXCLUDED.temp_max_c, hysteresis_c = EXCLUDED.hysteresis_c, confirm_seconds = EXCLUDED.confirm_seconds,
				door_confirm_seconds = EXCLUDED.door_confirm_seconds, checkin_interval_seconds = EXCLUDED.checkin_interval_seconds,
				manual_log_interval_seconds = EXCLUDED.manual_log_interval_seconds, door_warn_minutes = EXCLUDED.door_warn_minutes,
				door_critical_minutes = EXCLUDED.door_critical_minutes, offline_multiplier = EXCLUDED.offline_multiplier, updated_by = EXCLUDED.updated_by, updated_at = now()`,
			orgID, scope, siteID, unitID, r.TempMinC, r.TempMaxC, r.HysteresisC, r.ConfirmSeconds, r.DoorConfirmSeconds,
			r.CheckinIntervalSeconds, r.ManualLogIntervalSeconds, r.DoorWarnMinutes, r.DoorCriticalMinutes, actorUserID,
			r.OfflineMultiplier); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(before)
	a, _ := json.Marshal(next)
	_, err := tx.Exec(ctx, `INSERT INTO alert_rule_history (organization_id, scope, scope_id, changed_by, source, before, after)
		VALUES ($1, $2, $3, nullif($4, '')::uuid, $5, $6, $7)`, orgID, scope, scopeID, actorUserID, source, b, a)
	return err
}

// beginRuleChange takes the organisation's rules lock and names the
// request's user (its pending audit line's) as the author of the changes of
// a unit's own rule that the transaction's writes make (the trigger
// unit_own_alert_rule records them).
func beginRuleChange(ctx context.Context, tx pgx.Tx, orgID string) error {
	if err := lockAlertRules(ctx, tx, orgID); err != nil {
		return err
	}
	p, _ := ctx.Value(pendingAuditKey{}).(*PendingAudit)
	if p == nil || p.rec.ActorSubject == "" {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT set_config('frostguard.actor_user_id', coalesce((SELECT id::text FROM users WHERE subject = $1), ''), true)`,
		p.rec.ActorSubject)
	return err
}

// resolveScope resolves every unit a scope's rule reaches.
func resolveScope(ctx context.Context, tx pgx.Tx, orgID string, scope alertrules.Scope, scopeID string) error {
	switch scope {
	case alertrules.ScopeSite:
		return resolveUnits(ctx, tx, orgID, `u.site_id = $2`, scopeID)
	case alertrules.ScopeUnit:
		return resolveUnits(ctx, tx, orgID, `u.id = $2`, scopeID)
	}
	return resolveUnits(ctx, tx, orgID, `true`)
}

// unitLayersFrom joins a unit (u) to the rules of its three scopes.
const unitLayersFrom = ` FROM units u
	LEFT JOIN alert_rules ur ON ur.organization_id = u.organization_id AND ur.scope = 'unit' AND ur.scope_id = u.id
	LEFT JOIN alert_rules sr ON sr.organization_id = u.organization_id AND sr.scope = 'site' AND sr.scope_id = u.site_id
	LEFT JOIN alert_rules orr ON orr.organization_id = u.organization_id AND orr.scope = 'organization'
		AND orr.scope_id = u.organization_id`

func layerCols(alias string) string {
	return alias + `.temp_min_c::float8, ` + alias + `.temp_max_c::float8, ` + alias + `.hysteresis_c::float8, ` +
		alias + `.confirm_seconds, ` + alias + `.door_confirm_seconds, ` + alias + `.checkin_interval_seconds, ` +
		alias + `.manual_log_interval_seconds, ` + alias + `.door_warn_minutes, ` + alias + `.door_critical_minutes, ` +
		alias + `.offline_multiplier`
}

// unitLayers is a unit's rule layers as unitLayersFrom reads them.
type unitLayers struct {
	id, orgID, siteID, name string
	typ                     domain.UnitType
	deleted                 bool
	unit, site, org         alertrules.Rule
}

func (l *unitLayers) scanArgs() []any {
	args := []any{&l.id, &l.orgID, &l.siteID, &l.name, &l.typ, &l.deleted}
	args = append(args, ruleScanArgs(&l.unit)...)
	args = append(args, ruleScanArgs(&l.site)...)
	return append(args, ruleScanArgs(&l.org)...)
}

const unitLayersCols = `u.id, u.organization_id, u.site_id, u.name, u.type, u.deleted_at IS NOT NULL, %s, %s, %s`

var unitLayersSelect = `SELECT ` + fmt.Sprintf(unitLayersCols, layerCols("ur"), layerCols("sr"), layerCols("orr")) +
	`, ` + unitConfigCols + unitLayersFrom

// unitConfigCols are the unit's materialised effective rule.
const unitConfigCols = `u.temp_min_c::float8, u.temp_max_c::float8, u.hysteresis_c::float8, u.confirm_seconds,
	u.door_confirm_seconds, u.checkin_interval_seconds, u.manual_log_interval_seconds, u.door_warn_minutes,
	u.door_critical_minutes, u.offline_multiplier, u.cooling_slope_c_per_hour::float8, u.cooling_readings, u.defrost_schedule`

func configScanArgs(c *domain.UnitConfig) []any {
	return []any{&c.TempMinC, &c.TempMaxC, &c.HysteresisC, &c.ConfirmSeconds, &c.DoorConfirmSeconds,
		&c.CheckinIntervalSeconds, &c.ManualLogIntervalSeconds, &c.DoorWarnMinutes, &c.DoorCriticalMinutes, &c.OfflineMultiplier,
		&c.CoolingSlopeCPerHour, &c.CoolingReadings, &c.DefrostSchedule}
}

// resolve is the unit's effective rule.
func (l unitLayers) resolve() alertrules.Effective {
	return alertrules.Resolve(l.typ, alertrules.Layer{Scope: alertrules.ScopeUnit, ID: l.id, Rule: l.unit},
		alertrules.Layer{Scope: alertrules.ScopeSite, ID: l.siteID, Rule: l.site},
		alertrules.Layer{Scope: alertrules.ScopeOrganization, ID: l.orgID, Rule: l.org})
}

// resolveUnits writes the effective rule into every unit of the
// organisation that cond selects ($1 is the organisation, args follow;
// deleted units too, so that a restored unit is right at once), and refuses
// (Validation, naming the unit) when a unit's resolved configuration is not
// valid as a whole. The caller holds the rules lock (beginRuleChange).
func resolveUnits(ctx context.Context, tx pgx.Tx, orgID, cond string, args ...any) error {
	rows, err := tx.Query(ctx, unitLayersSelect+` WHERE u.organization_id = $1 AND `+cond+`
		ORDER BY u.id`, append([]any{orgID}, args...)...)
	if err != nil {
		return err
	}
	type change struct {
		id  string
		cfg domain.UnitConfig
	}
	var changes []change
	var refused []apperr.FieldError
	for rows.Next() {
		var l unitLayers
		var cfg domain.UnitConfig
		if err := rows.Scan(append(l.scanArgs(), configScanArgs(&cfg)...)...); err != nil {
			rows.Close()
			return err
		}
		next := cfg
		l.resolve().Apply(&next)
		what := "unit"
		if l.deleted {
			what = "deleted unit" // restoring it brings its rule back as it is
		}
		for _, fe := range next.Check() {
			refused = append(refused, apperr.FieldError{Field: fe.Field,
				Message: fmt.Sprintf("%s %q (%s) would be left with %s: %s", what, l.name, l.id, fe.Field, fe.Message)})
		}
		if !sameRule(cfg, next) {
			changes = append(changes, change{l.id, next})
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(refused) > 0 {
		return apperr.Validation(refused...)
	}
	if len(changes) == 0 {
		return nil
	}
	// The resolver's writes are not the unit's own choice: the trigger
	// that keeps a unit's own rule (unit_own_alert_rule) skips them.
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('frostguard.resolving_alert_rules', 'on', true)`)
	for _, c := range changes {
		cfg := c.cfg
		b.Queue(`UPDATE units SET temp_min_c = $3, temp_max_c = $4, hysteresis_c = $5, confirm_seconds = $6,
				door_confirm_seconds = $7, checkin_interval_seconds = $8, manual_log_interval_seconds = $9,
				door_warn_minutes = $10, door_critical_minutes = $11, offline_multiplier = $12, updated_at = now()
			WHERE organization_id = $1 AND id = $2`, orgID, c.id, cfg.TempMinC, cfg.TempMaxC, cfg.HysteresisC,
			cfg.ConfirmSeconds, cfg.DoorConfirmSeconds, cfg.CheckinIntervalSeconds, cfg.ManualLogIntervalSeconds,
			cfg.DoorWarnMinutes, cfg.DoorCriticalMinutes, cfg.OfflineMultiplier)
	}
	b.Queue(`SELECT set_config('frostguard.resolving_alert_rules', 'off', true)`)
	return tx.SendBatch(ctx, b).Close()
}

// sameRule reports whether a and b agree on every field of the rule.
func sameRule(a, b domain.UnitConfig) bool {
	ma, mb := a.ManualLogIntervalSeconds, b.ManualLogIntervalSeconds
	sameManual := (ma == nil) == (mb == nil) && (ma == nil || *ma == *mb)
	return sameManual && a.TempMinC == b.TempMinC && a.TempMaxC == b.TempMaxC && a.HysteresisC == b.HysteresisC &&
		a.ConfirmSeconds == b.ConfirmSeconds && a.DoorConfirmSeconds == b.DoorConfirmSeconds &&
		a.CheckinIntervalSeconds == b.CheckinIntervalSeconds && a.DoorWarnMinutes == b.DoorWarnMinutes &&
		a.DoorCriticalMinutes == b.DoorCriticalMinutes && a.OfflineMultiplier == b.OfflineMultiplier
}

// UnitAlertRules returns a live unit's rule layers and its effective rule
// with the source of every field.
func (db *DB) UnitAlertRules(ctx context.Context, orgID, unitID string) (_ UnitAlertRules, err error) {
	defer wrap(&err, "store.UnitAlertRules")
	var l unitLayers
	var cfg domain.UnitConfig
	err = db.pool.QueryRow(ctx, unitLayersSelect+` WHERE u.organization_id = $1 AND u.id = $2 AND u.deleted_at IS NULL`,
		orgID, unitID).Scan(append(l.scanArgs(), configScanArgs(&cfg)...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return UnitAlertRules{}, (apperr.New(apperr.NotFound, "unit not found"))
	}
	if err != nil {
		return UnitAlertRules{}, Classify(err)
	}
	out := UnitAlertRules{UnitID: l.id, UnitType: l.typ, Effective: map[string]EffectiveField{}}
	for _, s := range []struct {
		scope alertrules.Scope
		id    string
	}{{alertrules.ScopeUnit, l.id}, {alertrules.ScopeSite, l.siteID}, {alertrules.ScopeOrganization, l.orgID}} {
		r, err := readAlertRule(ctx, db.pool, orgID, s.scope, s.id)
		if err != nil {
			return UnitAlertRules{}, Classify(err)
		}
		out.Layers = append(out.Layers, r)
	}
	e := l.resolve()
	for _, f := range alertrules.Fields {
		out.Effective[f] = EffectiveField{Value: e.Value(f), Source: e.Sources[f]}
	}
	return out, nil
}

// AlertRuleHistoryFilter selects a scope's history, newest first.
type AlertRuleHistoryFilter struct {
	Scope     alertrules.Scope
	ScopeID   string
	AfterTime time.Time // keyset of the previous page (zero: the first)
	AfterID   string
	Limit     int
}

// AlertRuleHistory lists a scope's rule changes (the scope may since have
// been deleted: its history stays).
func (db *DB) AlertRuleHistory(ctx context.Context, orgID string, f AlertRuleHistoryFilter) (_ []AlertRuleChange, err error) {
	defer wrap(&err, "store.AlertRuleHistory")
	sql := `SELECT h.id::text, h.scope, h.scope_id, h.changed_by, coalesce(nullif(us.display_name, ''), us.email), h.source,
			h.before, h.after, h.changed_at
		FROM alert_rule_history h LEFT JOIN users us ON us.id = h.changed_by
		WHERE h.organization_id = $1 AND h.scope = $2 AND h.scope_id = $3`
	args := []any{orgID, f.Scope, f.ScopeID, f.Limit}
	if !f.AfterTime.IsZero() {
		sql += ` AND (h.changed_at, h.id) < ($5, $6::bigint)`
		args = append(args, f.AfterTime, f.AfterID)
	}
	rows, err := db.pool.Query(ctx, sql+` ORDER BY h.changed_at DESC, h.id DESC LIMIT $4`, args...)
	if err != nil {
		return nil, Classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AlertRuleChange, error) {
		var c AlertRuleChange
		err := r.Scan(&c.ID, &c.Scope, &c.ScopeID, &c.ChangedBy, &c.ChangedByName, &c.Source, &c.Before, &c.After, &c.ChangedAt)
		c.ChangedAt = c.ChangedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, Classify(err)
	}
	return out, nil
}
