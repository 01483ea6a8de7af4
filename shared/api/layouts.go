package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// A member's own saved dashboard layouts: any member (a viewer too) keeps
// their own, and only their own (the store scopes every statement to the
// caller).
func (s *Server) registerLayouts(mux *http.ServeMux) {
	const base = "/api/v1/orgs/{orgId}/dashboard-layouts"
	s.handleOrg(mux, "GET "+base, access.ReadOrganization, s.listLayouts)
	s.handleOrg(mux, "POST "+base, access.ReadOrganization, s.createLayout)
	s.handleOrg(mux, "PATCH "+base+"/{layoutId}", access.ReadOrganization, s.patchLayout)
	s.handleOrg(mux, "DELETE "+base+"/{layoutId}", access.ReadOrganization, s.deleteLayout)
	s.handleOrg(mux, "POST "+base+"/{layoutId}/default", access.ReadOrganization, s.setDefaultLayout)
}

// layoutScreen reads a screen: entity_type and entity_id (the organisation
// itself when the type is organization and no id is given).
func layoutScreen(m Member, typ, id string, fe *[]apperr.FieldError) store.LayoutScreen {
	sc := store.LayoutScreen{EntityType: typ, EntityID: strings.ToLower(strings.TrimSpace(id))}
	switch {
	case typ == "":
		*fe = append(*fe, apperr.FieldError{Field: "entity_type", Message: "is required: organization, site or unit"})
	case !slices.Contains(domain.LayoutEntityTypes, typ):
		*fe = append(*fe, apperr.FieldError{Field: "entity_type", Message: "must be organization, site or unit"})
	}
	if sc.EntityID == "" && typ == domain.LayoutOrganization {
		sc.EntityID = m.OrgID
	}
	if !domain.IsUUID(sc.EntityID) {
		*fe = append(*fe, apperr.FieldError{Field: "entity_id", Message: "must be the UUID of the organization, site or unit"})
	}
	return sc
}

// checkScreen answers 404 unless the screen is the organisation or one of
// its sites or units.
func (s *Server) checkScreen(ctx context.Context, orgID string, sc store.LayoutScreen) error {
	switch sc.EntityType {
	case domain.LayoutOrganization:
		if sc.EntityID != orgID {
			return apperr.New(apperr.NotFound, "organization not found")
		}
		return nil
	case domain.LayoutSite:
		return s.checkFilters(ctx, orgID, idFilter{"site_id", sc.EntityID, []string{store.EntitySite}})
	default:
		return s.checkFilters(ctx, orgID, idFilter{"unit_id", sc.EntityID, []string{store.EntityUnit}})
	}
}

func (s *Server) listLayouts(w http.ResponseWriter, r *http.Request, m Member) error {
	var fe []apperr.FieldError
	q := r.URL.Query()
	sc := layoutScreen(m, q.Get("entity_type"), q.Get("entity_id"), &fe)
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	// The screen is a filter naming a row: another organisation's is 404,
	// not an empty list.
	if err := s.checkScreen(r.Context(), m.OrgID, sc); err != nil {
		return err
	}
	items, err := s.DB.Layouts(r.Context(), m.OrgID, m.UserID, sc)
	if err != nil {
		return err
	}
	if items == nil {
		items = []domain.DashboardLayout{}
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

// layoutInput is the body of POST (entity, slot, name and layout required)
// and PATCH (name and documents; null clears the timeline state).
type layoutInput struct {
	EntityType        string                   `json:"entity_type"`
	EntityID          string                   `json:"entity_id"`
	Slot              hierOpt[int]             `json:"slot"`
	Name              hierOpt[string]          `json:"name"`
	Layout            hierOpt[json.RawMessage] `json:"layout"`
	WidgetPreferences hierOpt[json.RawMessage] `json:"widget_preferences"`
	TimelineState     hierOpt[json.RawMessage] `json:"timeline_state"`
}

// documents checks the name and the JSON documents into c.
func (in layoutInput) documents(fe *[]apperr.FieldError, create bool) store.LayoutChange {
	var c store.LayoutChange
	if in.Name.value(fe, "name") {
		name := strings.TrimSpace(in.Name.V)
		if name == "" || utf8.RuneCountInString(name) > 80 {
			*fe = append(*fe, apperr.FieldError{Field: "name", Message: "must be 1 to 80 characters"})
		}
		c.Name = &name
	} else if create && !in.Name.Set {
		*fe = append(*fe, apperr.FieldError{Field: "name", Message: "is required"})
	}
	doc := func(field string, o hierOpt[json.RawMessage], arrays bool) json.RawMessage {
		if !o.value(fe, field) {
			return nil
		}
		if msg := domain.CheckLayoutDocument(o.V, arrays); msg != "" {
			*fe = append(*fe, apperr.FieldError{Field: field, Message: msg})
		}
		return o.V
	}
	c.Layout = doc("layout", in.Layout, true)
	if create && !in.Layout.Set {
		*fe = append(*fe, apperr.FieldError{Field: "layout", Message: "is required"})
	}
	c.WidgetPreferences = doc("widget_preferences", in.WidgetPreferences, false)
	if in.TimelineState.Set && in.TimelineState.Null {
		c.ClearTimeline = true
	} else {
		c.TimelineState = doc("timeline_state", in.TimelineState, false)
	}
	return c
}

func (s *Server) createLayout(w http.ResponseWriter, r *http.Request, m Member) error {
	var in layoutInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	var fe []apperr.FieldError
	sc := layoutScreen(m, in.EntityType, in.EntityID, &fe)
	c := in.documents(&fe, true)
	slot := 0
	if in.Slot.value(&fe, "slot") {
		slot = in.Slot.V
	}
	if slot < 1 || slot > domain.MaxLayoutSlots {
		fe = append(fe, apperr.FieldError{Field: "slot", Message: "must be 1, 2 or 3"})
	}
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	l, err := s.DB.CreateLayout(r.Context(), m.OrgID, m.UserID, store.NewLayout{LayoutScreen: sc, Slot: slot, Name: *c.Name,
		Layout: c.Layout, WidgetPreferences: c.WidgetPreferences, TimelineState: c.TimelineState})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusCreated, l)
	return nil
}

func (s *Server) patchLayout(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "layoutId")
	if err != nil {
		return err
	}
	var in layoutInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	var fe []apperr.FieldError
	if in.EntityType != "" || in.EntityID != "" || in.Slot.Set {
		fe = append(fe, apperr.FieldError{Field: "entity_type", Message: "a layout's screen and slot do not change: create another"})
	}
	c := in.documents(&fe, false)
	if len(fe) > 0 {
		return apperr.Validation(fe...)
	}
	l, err := s.DB.UpdateLayout(r.Context(), m.OrgID, m.UserID, id, c)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) deleteLayout(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "layoutId")
	if err != nil {
		return err
	}
	if err := s.DB.DeleteLayout(r.Context(), m.OrgID, m.UserID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setDefaultLayout(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "layoutId")
	if err != nil {
		return err
	}
	l, err := s.DB.SetDefaultLayout(r.Context(), m.OrgID, m.UserID, id)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, l)
	return nil
}
