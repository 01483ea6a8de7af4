package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerContacts(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/contacts", access.ReadOrganization, s.listContacts)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/contacts", access.ManageContacts, s.createContact)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/contacts/{contactId}", access.ReadOrganization, s.getContact)
	s.handleOrg(mux, "PATCH /api/v1/orgs/{orgId}/contacts/{contactId}", access.ManageContacts, s.patchContact)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/contacts/{contactId}", access.ManageContacts, s.deleteContact)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/contacts/{contactId}/verification", access.ManageContacts, s.startVerification)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/contacts/{contactId}/verification/confirm", access.ManageContacts, s.confirmVerification)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/contacts/{contactId}/test", access.ManageContacts, s.sendTestPage)
}

// contactInput is the body of POST (name required, phone or email) and
// PATCH (any subset; null clears phone, email or user_id).
type contactInput struct {
	Name     hierOpt[string] `json:"name"`
	Phone    hierOpt[string] `json:"phone"`
	Email    hierOpt[string] `json:"email"`
	Priority hierOpt[int]    `json:"priority"`
	UserID   hierOpt[string] `json:"user_id"`
	IsActive hierOpt[bool]   `json:"is_active"`
	// VoiceOptOut: the contact does not want calls.
	VoiceOptOut hierOpt[bool] `json:"voice_opt_out"`
}

const maxContactPriority = 1000

func (in contactInput) apply(c *store.EscalationContact, create bool) []apperr.FieldError {
	var fe []apperr.FieldError
	hierName(&fe, in.Name, create, &c.Name)
	if in.Phone.Set {
		switch p, ok := domain.NormalizePhone(in.Phone.V); {
		case in.Phone.Null || strings.TrimSpace(in.Phone.V) == "":
			c.Phone = nil
		case !ok:
			fe = append(fe, apperr.FieldError{Field: "phone", Message: "must be an international number, e.g. +15555550100"})
		default:
			c.Phone = &p
		}
	}
	if in.Email.Set {
		switch e := strings.TrimSpace(in.Email.V); {
		case in.Email.Null || e == "":
			c.Email = nil
		case !domain.ValidEmail(e):
			fe = append(fe, apperr.FieldError{Field: "email", Message: "must be an e-mail address"})
		default:
			c.Email = &e
		}
	}
	if in.Priority.value(&fe, "priority") {
		if in.Priority.V < 0 || in.Priority.V > maxContactPriority {
			fe = append(fe, apperr.FieldError{Field: "priority", Message: "must be from 0 to " + strconv.Itoa(maxContactPriority)})
		} else {
			c.Priority = in.Priority.V
		}
	}
	if in.UserID.Set {
		switch {
		case in.UserID.Null:
			c.UserID = nil
		case !domain.IsUUID(in.UserID.V):
			fe = append(fe, apperr.FieldError{Field: "user_id", Message: "must be a UUID"})
		default:
			id := strings.ToLower(in.UserID.V)
			c.UserID = &id
		}
	}
	if in.IsActive.value(&fe, "is_active") {
		c.IsActive = in.IsActive.V
	}
	if in.VoiceOptOut.value(&fe, "voice_opt_out") {
		c.VoiceOptOut = in.VoiceOptOut.V
	}
	if len(fe) == 0 && c.Phone == nil && c.Email == nil {
		fe = append(fe, apperr.FieldError{Field: "phone", Message: "a phone number or an e-mail address is required"})
	}
	return fe
}

// annotateContact fills the contact's country and warnings, then masks it
// for the member.
func (s *Server) annotateContact(ctx context.Context, m Member, c *store.EscalationContact) error {
	f, err := s.pagingFacts(ctx, m.OrgID)
	if err != nil {
		return err
	}
	f.annotateContact(c)
	maskContact(m, c)
	return nil
}

// maskContact hides phone numbers from members who do not manage contacts,
// as the notification log does.
func maskContact(m Member, c *store.EscalationContact) {
	if c.Phone != nil && !m.Can(access.ManageContacts) {
		p := domain.MaskPhone(*c.Phone)
		c.Phone = &p
	}
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request, m Member) error {
	p, err := PageFrom(r)
	if err != nil {
		return err
	}
	f := store.ContactFilter{AfterCreated: p.After.Time, AfterID: p.After.ID, Limit: p.Limit + 1}
	if f.UpdatedSince, err = QueryTime(r, "updated_since"); err != nil {
		return err
	}
	if v := r.URL.Query().Get("active"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return apperr.Validation(apperr.FieldError{Field: "active", Message: "must be true or false"})
		}
		f.Active = &b
	}
	items, err := s.DB.ListContacts(r.Context(), m.OrgID, f)
	if err != nil {
		return err
	}
	facts, err := s.pagingFacts(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	for i := range items {
		facts.annotateContact(&items[i])
		maskContact(m, &items[i])
	}
	web.JSON(w, http.StatusOK, NewList(items, p.Limit, func(c store.EscalationContact) Cursor { return Cursor{Time: c.CreatedAt, ID: c.ID} }))
	return nil
}

func (s *Server) createContact(w http.ResponseWriter, r *http.Request, m Member) error {
	var in contactInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	c := store.EscalationContact{IsActive: true}
	if err := hierValidation(in.apply(&c, true)); err != nil {
		return err
	}
	c, err := s.DB.CreateContact(r.Context(), m.OrgID, c)
	if err != nil {
		return err
	}
	if err := s.annotateContact(r.Context(), m, &c); err != nil {
		return err
	}
	hierCreated(w, r, c.ID, c)
	return nil
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "contactId")
	if err != nil {
		return err
	}
	c, err := s.DB.GetContact(r.Context(), m.OrgID, id)
	if err != nil {
		return err
	}
	if err := s.annotateContact(r.Context(), m, &c); err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) patchContact(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "contactId")
	if err != nil {
		return err
	}
	var in contactInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.DB.UpdateContact(r.Context(), m.OrgID, id, func(c *store.EscalationContact) error {
		return hierValidation(in.apply(c, false))
	})
	if err != nil {
		return err
	}
	if err := s.annotateContact(r.Context(), m, &c); err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, c)
	return nil
}

// deleteContact deactivates: policies and the notification log keep
// pointing at the contact.
func (s *Server) deleteContact(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "contactId")
	if err != nil {
		return err
	}
	if err := s.DB.DeactivateContact(r.Context(), m.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
