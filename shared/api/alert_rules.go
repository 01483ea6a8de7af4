package api

import (
	"net/http"
	"strconv"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/alertrules"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// Alert rules with inheritance (issue 20): the organisation, a site or a
// unit sets some thresholds and timings (shared/alertrules); a unit's
// effective rule takes each field from the most specific scope that sets
// it, else from its type's default. A unit's own rule also follows what
// PATCH /units/{id} writes (the unit's changed values).
func (s *Server) registerAlertRules(mux *http.ServeMux) {
	org := ruleScope{scope: alertrules.ScopeOrganization}
	site := ruleScope{scope: alertrules.ScopeSite, param: "siteId"}
	unit := ruleScope{scope: alertrules.ScopeUnit, param: "unitId"}
	for _, sc := range []struct {
		path  string
		scope ruleScope
		write access.Permission
	}{
		{"/api/v1/orgs/{orgId}/alert-rules", org, access.ManageAlertRules},
		{"/api/v1/orgs/{orgId}/sites/{siteId}/alert-rules", site, access.ManageAlertRules},
		{"/api/v1/orgs/{orgId}/units/{unitId}/alert-rules", unit, access.ManageUnits},
	} {
		s.handleOrg(mux, "GET "+sc.path, access.ReadOrganization, sc.scope.get(s))
		s.handleOrg(mux, "PATCH "+sc.path, sc.write, sc.scope.patch(s))
		s.handleOrg(mux, "DELETE "+sc.path, sc.write, sc.scope.clear(s))
	}
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/units/{unitId}/alert-rules/effective", access.ReadOrganization, s.effectiveAlertRules)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/alert-rules/history", access.ReadOrganization, s.alertRuleHistory)
}

// ruleScope is the scope of a rules route: the organisation, or the site or
// unit its path parameter names.
type ruleScope struct {
	scope alertrules.Scope
	param string // "" for the organisation
}

func (rs ruleScope) id(r *http.Request, m Member) (string, error) {
	if rs.param == "" {
		return m.OrgID, nil
	}
	return PathID(r, rs.param)
}

func (rs ruleScope) get(s *Server) OrgHandler {
	return func(w http.ResponseWriter, r *http.Request, m Member) error {
		id, err := rs.id(r, m)
		if err != nil {
			return err
		}
		rule, err := s.DB.AlertRule(r.Context(), m.OrgID, rs.scope, id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, rule)
		return nil
	}
}

// patch sets the fields the body gives (null: inherit again) and leaves
// the others as they are.
func (rs ruleScope) patch(s *Server) OrgHandler {
	return func(w http.ResponseWriter, r *http.Request, m Member) error {
		id, err := rs.id(r, m)
		if err != nil {
			return err
		}
		var in alertRuleInput
		if err := web.DecodeJSON(r, &in); err != nil {
			return err
		}
		rule, err := s.DB.SetAlertRule(r.Context(), m.OrgID, rs.scope, id, m.UserID, func(cur *alertrules.Rule) error {
			in.apply(cur)
			return hierValidation(cur.Check())
		})
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, rule)
		return nil
	}
}

// clear removes everything the scope sets: its units inherit every field.
func (rs ruleScope) clear(s *Server) OrgHandler {
	return func(w http.ResponseWriter, r *http.Request, m Member) error {
		id, err := rs.id(r, m)
		if err != nil {
			return err
		}
		_, err = s.DB.SetAlertRule(r.Context(), m.OrgID, rs.scope, id, m.UserID, func(cur *alertrules.Rule) error {
			*cur = alertrules.Rule{}
			return nil
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// alertRuleInput is a PATCH of a scope's rule: a field absent stays, null
// inherits again, a value is set (temperatures in °C). A unit's create and
// PATCH (unitInput) take the same fields as the unit's values.
type alertRuleInput struct {
	TempMinC                 hierOpt[float64] `json:"temp_min_c"`
	TempMaxC                 hierOpt[float64] `json:"temp_max_c"`
	HysteresisC              hierOpt[float64] `json:"hysteresis_c"`
	ConfirmSeconds           hierOpt[int]     `json:"confirm_seconds"`
	DoorConfirmSeconds       hierOpt[int]     `json:"door_confirm_seconds"`
	CheckinIntervalSeconds   hierOpt[int]     `json:"checkin_interval_seconds"`
	ManualLogIntervalSeconds hierOpt[int]     `json:"manual_log_interval_seconds"`
	DoorWarnMinutes          hierOpt[int]     `json:"door_warn_minutes"`
	DoorCriticalMinutes      hierOpt[int]     `json:"door_critical_minutes"`
	OfflineMultiplier        hierOpt[int]     `json:"offline_multiplier"`
}

func (in alertRuleInput) apply(r *alertrules.Rule) {
	setTemp(&r.TempMinC, in.TempMinC)
	setTemp(&r.TempMaxC, in.TempMaxC)
	setTemp(&r.HysteresisC, in.HysteresisC)
	setOpt(&r.ConfirmSeconds, in.ConfirmSeconds)
	setOpt(&r.DoorConfirmSeconds, in.DoorConfirmSeconds)
	setOpt(&r.CheckinIntervalSeconds, in.CheckinIntervalSeconds)
	setOpt(&r.ManualLogIntervalSeconds, in.ManualLogIntervalSeconds)
	setOpt(&r.DoorWarnMinutes, in.DoorWarnMinutes)
	setOpt(&r.DoorCriticalMinutes, in.DoorCriticalMinutes)
	setOpt(&r.OfflineMultiplier, in.OfflineMultiplier)
}

func setOpt[T any](dst **T, o hierOpt[T]) {
	switch {
	case !o.Set:
	case o.Null:
		*dst = nil
	default:
		v := o.V
		*dst = &v
	}
}

// setTemp sets a temperature rounded as its numeric(6,2) column stores it.
func setTemp(dst **float64, o hierOpt[float64]) {
	if o.Set && !o.Null {
		o.V = domain.ToCelsius(o.V, domain.Celsius)
	}
	setOpt(dst, o)
}

func (s *Server) effectiveAlertRules(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	rules, err := s.DB.UnitAlertRules(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, rules)
	return nil
}

// alertRuleHistory lists one scope's rule changes, newest first: the
// organisation's, or a site's (site_id) or a unit's (unit_id).
func (s *Server) alertRuleHistory(w http.ResponseWriter, r *http.Request, m Member) error {
	siteID, err := QueryUUID(r, "site_id")
	if err != nil {
		return err
	}
	unitID, err := QueryUUID(r, "unit_id")
	if err != nil {
		return err
	}
	page, err := PageFrom(r)
	if err != nil {
		return err
	}
	f := store.AlertRuleHistoryFilter{Scope: alertrules.ScopeOrganization, ScopeID: m.OrgID, Limit: page.Limit + 1}
	switch {
	case siteID != "" && unitID != "":
		return apperr.Validation(apperr.FieldError{Field: "unit_id", Message: "give site_id or unit_id, not both"})
	case siteID != "":
		f.Scope, f.ScopeID = alertrules.ScopeSite, siteID
	case unitID != "":
		f.Scope, f.ScopeID = alertrules.ScopeUnit, unitID
	}
	// A deleted site or unit still has its history.
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"site_id", siteID, []string{store.EntitySite}},
		idFilter{"unit_id", unitID, []string{store.EntityUnit}}); err != nil {
		return err
	}
	if !page.After.IsZero() {
		if _, err := strconv.ParseInt(page.After.ID, 10, 64); err != nil {
			return apperr.Validation(apperr.FieldError{Field: "cursor", Message: "is not a cursor of this list"})
		}
		f.AfterTime, f.AfterID = page.After.Time, page.After.ID
	}
	items, err := s.DB.AlertRuleHistory(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, page.Limit, func(c store.AlertRuleChange) Cursor {
		return Cursor{Time: c.ChangedAt, ID: c.ID}
	}))
	return nil
}
