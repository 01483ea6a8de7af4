package api

import (
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// PlatformAdmin is the permission of the platform routes: the caller's
// subject is in the operators' allow-list (Server.PlatformAdmins), whatever
// their roles in organisations. It is no organisation role.
const PlatformAdmin access.Permission = "platform_admin"

// Platform admin (issue 20): the service's operators list every
// organisation with its plan, usage and health, open an audited read-only
// support view of one, and suspend or reactivate it (its writes refused,
// its alarms still paging).
func (s *Server) registerPlatform(mux *http.ServeMux) {
	s.handlePlatform(mux, "GET /api/v1/platform/organizations", s.platformOrganizations)
	s.handlePlatform(mux, "GET /api/v1/platform/organizations/{organizationId}", s.platformSupportView)
	s.handlePlatform(mux, "POST /api/v1/platform/organizations/{organizationId}/suspend", s.platformSuspend)
	s.handlePlatform(mux, "POST /api/v1/platform/organizations/{organizationId}/reactivate", s.platformReactivate)
}

// handlePlatform registers a platform route: a signed-in caller who is not
// an operator gets 403.
func (s *Server) handlePlatform(mux *http.ServeMux, pattern string, h UserHandler) {
	s.routes[pattern] = PlatformAdmin
	mux.Handle(pattern, web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if c.Subject == "" || !slices.Contains(s.PlatformAdmins, c.Subject) {
			return apperr.New(apperr.Forbidden, "only the service's operators may do this")
		}
		return h(w, r, c)
	}))
}

func (s *Server) platformOrganizations(w http.ResponseWriter, r *http.Request, c Caller) error {
	page, err := PageFrom(r)
	if err != nil {
		return err
	}
	orgs, err := s.DB.PlatformOrganizations(r.Context(), page.After.Time, page.After.ID, page.Limit+1)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(orgs, page.Limit, func(o store.PlatformOrganization) Cursor {
		return Cursor{Time: o.CreatedAt, ID: o.ID}
	}))
	return nil
}

func (s *Server) platformSupportView(w http.ResponseWriter, r *http.Request, c Caller) error {
	id, err := PathID(r, "organizationId")
	if err != nil {
		return err
	}
	o, err := s.DB.PlatformSupportView(r.Context(), id, c.UserID)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, o)
	return nil
}

// maxSuspendReason bounds the reason (organizations.suspended_reason).
const maxSuspendReason = 500

func (s *Server) platformSuspend(w http.ResponseWriter, r *http.Request, c Caller) error {
	id, err := PathID(r, "organizationId")
	if err != nil {
		return err
	}
	var in struct {
		Reason string `json:"reason"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" || utf8.RuneCountInString(in.Reason) > maxSuspendReason {
		return apperr.Validation(apperr.FieldError{Field: "reason", Message: "is required, at most 500 characters"})
	}
	o, err := s.DB.SetSuspension(r.Context(), id, c.UserID, in.Reason)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) platformReactivate(w http.ResponseWriter, r *http.Request, c Caller) error {
	id, err := PathID(r, "organizationId")
	if err != nil {
		return err
	}
	o, err := s.DB.SetSuspension(r.Context(), id, c.UserID, "")
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, o)
	return nil
}
