package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/alerting"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerPolicies(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/notification-policies", access.ReadOrganization, s.listPolicies)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/notification-policies", access.ManagePolicies, s.createPolicy)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/notification-policies/{policyId}", access.ReadOrganization, s.getPolicy)
	s.handleOrg(mux, "PATCH /api/v1/orgs/{orgId}/notification-policies/{policyId}", access.ManagePolicies, s.patchPolicy)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/notification-policies/{policyId}", access.ManagePolicies, s.deletePolicy)
}

// Policy limits.
const (
	maxPolicySteps     = 10
	maxStepAfter       = 1440 // a day: later than that is not an escalation
	maxContactsPerStep = 20
)

// policyInput is the body of POST (steps required) and PATCH (any subset;
// null clears site_id, unit_id, alert_type, name and the quiet hours).
type policyInput struct {
	SiteID          hierOpt[string]            `json:"site_id"`
	UnitID          hierOpt[string]            `json:"unit_id"`
	AlertType       hierOpt[string]            `json:"alert_type"`
	Name            hierOpt[string]            `json:"name"`
	Steps           hierOpt[[]json.RawMessage] `json:"steps"`
	NotifyOnResolve hierOpt[bool]              `json:"notify_on_resolve"`
	QuietHoursStart hierOpt[string]            `json:"quiet_hours_start"`
	QuietHoursEnd   hierOpt[string]            `json:"quiet_hours_end"`
	Enabled         hierOpt[bool]              `json:"enabled"`
}

var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func (in policyInput) apply(p *store.NotificationPolicy, create bool) []apperr.FieldError {
	var fe []apperr.FieldError
	optID := func(field string, o hierOpt[string], dst **string) {
		switch {
		case !o.Set:
		case o.Null:
			*dst = nil
		case !domain.IsUUID(o.V):
			fe = append(fe, apperr.FieldError{Field: field, Message: "must be a UUID"})
		default:
			id := strings.ToLower(o.V)
			*dst = &id
		}
	}
	optID("site_id", in.SiteID, &p.SiteID)
	optID("unit_id", in.UnitID, &p.UnitID)
	if p.SiteID != nil && p.UnitID != nil {
		fe = append(fe, apperr.FieldError{Field: "unit_id", Message: "give site_id or unit_id, not both"})
	}
	if in.AlertType.Set {
		switch {
		case in.AlertType.Null:
			p.AlertType = nil
		case !slices.Contains(domain.AlertTypes, in.AlertType.V):
			fe = append(fe, apperr.FieldError{Field: "alert_type", Message: "must be one of " + strings.Join(domain.AlertTypes, ", ") + ", or null for every type"})
		default:
			t := in.AlertType.V
			p.AlertType = &t
		}
	}
	hierText(&fe, "name", in.Name, hierMaxName, &p.Name)
	if !in.Steps.Set && create {
		fe = append(fe, apperr.FieldError{Field: "steps", Message: "is required"})
	} else if in.Steps.value(&fe, "steps") {
		steps, errs := validSteps(in.Steps.V)
		fe = append(fe, errs...)
		p.Steps = steps
	}
	if in.NotifyOnResolve.value(&fe, "notify_on_resolve") {
		p.NotifyOnResolve = in.NotifyOnResolve.V
	}
	if in.Enabled.value(&fe, "enabled") {
		p.Enabled = in.Enabled.V
	}
	quiet := func(field string, o hierOpt[string], dst **string) {
		switch {
		case !o.Set:
		case o.Null:
			*dst = nil
		case !clockPattern.MatchString(o.V):
			fe = append(fe, apperr.FieldError{Field: field, Message: "must be a local time HH:MM, e.g. 22:00"})
		default:
			v := o.V
			*dst = &v
		}
	}
	quiet("quiet_hours_start", in.QuietHoursStart, &p.QuietHoursStart)
	quiet("quiet_hours_end", in.QuietHoursEnd, &p.QuietHoursEnd)
	if (p.QuietHoursStart == nil) != (p.QuietHoursEnd == nil) {
		fe = append(fe, apperr.FieldError{Field: "quiet_hours_end", Message: "give both quiet_hours_start and quiet_hours_end, or neither"})
	} else if p.QuietHoursStart != nil && *p.QuietHoursStart == *p.QuietHoursEnd {
		fe = append(fe, apperr.FieldError{Field: "quiet_hours_end", Message: "must differ from quiet_hours_start"})
	}
	return fe
}

// validSteps checks the shape of the steps; that the contacts exist and are
// active is checked by the store, in the write's transaction.
func validSteps(raw []json.RawMessage) ([]alerting.Step, []apperr.FieldError) {
	var fe []apperr.FieldError
	add := func(i int, field, msg string) {
		fe = append(fe, apperr.FieldError{Field: fmt.Sprintf("steps[%d].%s", i, field), Message: msg})
	}
	if len(raw) < 1 || len(raw) > maxPolicySteps {
		return nil, []apperr.FieldError{{Field: "steps", Message: fmt.Sprintf("must have 1 to %d steps", maxPolicySteps)}}
	}
	in := make([]alerting.Step, len(raw))
	hasAfter := make([]bool, len(raw))
	for i, r := range raw {
		var err error
		if in[i], hasAfter[i], err = decodeStep(r); err != nil {
			fe = append(fe, apperr.FieldError{Field: fmt.Sprintf("steps[%d]", i), Message: err.Error()})
		}
	}
	if len(fe) > 0 {
		return nil, fe
	}
	out := make([]alerting.Step, len(in))
	prev := 0
	for i, s := range in {
		switch {
		case !hasAfter[i]:
			add(i, "after_minutes", "is required")
		case s.AfterMinutes < 0 || s.AfterMinutes > maxStepAfter:
			add(i, "after_minutes", fmt.Sprintf("must be from 0 to %d", maxStepAfter))
		case s.AfterMinutes < prev:
			add(i, "after_minutes", "must not be smaller than the previous step's (steps fire in order)")
		default:
			out[i].AfterMinutes = s.AfterMinutes
		}
		if hasAfter[i] && s.AfterMinutes >= prev {
			prev = s.AfterMinutes
		}
		if len(s.Channels) == 0 {
			add(i, "channels", "must name at least one channel (sms, email, voice)")
		}
		for _, c := range s.Channels {
			if !slices.Contains(domain.NotificationChannels, c) {
				add(i, "channels", "must contain only sms, email and voice")
			} else if !slices.Contains(out[i].Channels, c) {
				out[i].Channels = append(out[i].Channels, c)
			}
		}
		validRedial(i, s, &out[i], add)
		switch {
		case len(s.ContactIDs) == 0:
			add(i, "contact_ids", "must name at least one contact")
		case len(s.ContactIDs) > maxContactsPerStep:
			add(i, "contact_ids", fmt.Sprintf("must name at most %d contacts", maxContactsPerStep))
		}
		for _, id := range s.ContactIDs {
			if !domain.IsUUID(id) {
				add(i, "contact_ids", "must contain contact ids (UUIDs)")
				break
			}
			if id = strings.ToLower(id); !slices.Contains(out[i].ContactIDs, id) {
				out[i].ContactIDs = append(out[i].ContactIDs, id)
			}
		}
		if s.Repeat {
			last := i == len(in)-1
			interval := s.AfterMinutes
			if i > 0 {
				interval -= in[i-1].AfterMinutes
			}
			switch {
			case !last:
				add(i, "repeat", "only the last step may repeat")
			case interval <= 0:
				add(i, "repeat", "a repeating step must come later than the step before it (it repeats at that interval)")
			default:
				out[i].Repeat = true
			}
		}
	}
	return out, fe
}

// decodeStep reads one step of a request strictly (hierOpt decodes its value
// leniently, and a misspelt "contacts" must not silently page nobody), and
// whether it gave after_minutes (required: 0 is "at once", never a default).
func decodeStep(raw json.RawMessage) (s alerting.Step, hasAfter bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, false, fmt.Errorf("must be a step {after_minutes, channels, contact_ids, repeat, voice_retries, voice_retry_minutes}: %v", err)
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields) // an object: it decoded above
	_, hasAfter = fields["after_minutes"]
	return s, hasAfter, nil
}

// validRedial checks a step's voice retry settings: allowed only on a step
// that calls, each within its bounds, stored explicitly (the defaults when
// absent) so that the policy reads as it behaves.
func validRedial(i int, in alerting.Step, out *alerting.Step, add func(int, string, string)) {
	voice := slices.Contains(in.Channels, alerting.ChannelVoice)
	check := func(field string, v *int, lo, hi, def int) *int {
		switch {
		case v == nil && voice:
			return &def
		case v == nil:
			return nil
		case !voice:
			add(i, field, "is only for a step whose channels include voice")
		case *v < lo || *v > hi:
			add(i, field, fmt.Sprintf("must be from %d to %d", lo, hi))
		}
		return v
	}
	out.VoiceRetries = check("voice_retries", in.VoiceRetries, 0, alerting.MaxVoiceRetries, alerting.DefaultVoiceRetries)
	out.VoiceRetryMinutes = check("voice_retry_minutes", in.VoiceRetryMinutes, 1, alerting.MaxVoiceRetryMinutes, alerting.DefaultVoiceRetryMinutes)
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request, m Member) error {
	p, err := PageFrom(r)
	if err != nil {
		return err
	}
	f := store.PolicyFilter{AfterCreated: p.After.Time, AfterID: p.After.ID, Limit: p.Limit + 1}
	if f.SiteID, err = QueryUUID(r, "site_id"); err != nil {
		return err
	}
	if f.UnitID, err = QueryUUID(r, "unit_id"); err != nil {
		return err
	}
	if f.UpdatedSince, err = QueryTime(r, "updated_since"); err != nil {
		return err
	}
	if err := s.checkFilters(r.Context(), m.OrgID, idFilter{"site_id", f.SiteID, []string{store.EntitySite}},
		idFilter{"unit_id", f.UnitID, []string{store.EntityUnit}}); err != nil {
		return err
	}
	items, err := s.DB.ListPolicies(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	if err := s.annotatePolicies(r.Context(), m.OrgID, items); err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, p.Limit, func(x store.NotificationPolicy) Cursor { return Cursor{Time: x.CreatedAt, ID: x.ID} }))
	return nil
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request, m Member) error {
	var in policyInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	p := store.NotificationPolicy{NotifyOnResolve: true, Enabled: true}
	if err := hierValidation(in.apply(&p, true)); err != nil {
		return err
	}
	p, err := s.DB.CreatePolicy(r.Context(), m.OrgID, p)
	if err != nil {
		return err
	}
	if err := s.annotatePolicy(r.Context(), m.OrgID, &p); err != nil {
		return err
	}
	hierCreated(w, r, p.ID, p)
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "policyId")
	if err != nil {
		return err
	}
	p, err := s.DB.GetPolicy(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	if err := s.annotatePolicy(r.Context(), m.OrgID, &p); err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) patchPolicy(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "policyId")
	if err != nil {
		return err
	}
	var in policyInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.DB.UpdatePolicy(r.Context(), m.OrgID, id, func(p *store.NotificationPolicy) error {
		return hierValidation(in.apply(p, false))
	})
	if err != nil {
		return err
	}
	if err := s.annotatePolicy(r.Context(), m.OrgID, &p); err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "policyId")
	if err != nil {
		return err
	}
	if err := s.DB.DeletePolicy(r.Context(), m.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
