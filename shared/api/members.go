package api

import (
	"net/http"
	"net/mail"
	"strings"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerMembers(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/members", access.ReadOrganization, s.listMembers)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/members", access.ManageMembers, s.inviteMember)
	s.handleOrg(mux, "PATCH /api/v1/orgs/{orgId}/members/{memberId}", access.ManageMembers, s.patchMember)
	// Every member may leave: the permission to remove others is checked
	// inside, against the target.
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/members/{memberId}", access.ReadOrganization, s.removeMember)
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, m Member) error {
	page, err := PageFrom(r)
	if err != nil {
		return err
	}
	since, err := QueryTime(r, "updated_since")
	if err != nil {
		return err
	}
	items, err := s.DB.Members(r.Context(), m.OrgID, store.MemberQuery{
		AfterTime: page.After.Time, AfterID: page.After.ID, UpdatedSince: since, Limit: page.Limit})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, page.Limit, func(o domain.OrgMember) Cursor {
		return Cursor{Time: o.CreatedAt, ID: o.ID}
	}))
	return nil
}

// inviteRequest is POST /api/v1/orgs/{orgId}/members.
type inviteRequest struct {
	Email string      `json:"email"`
	Role  access.Role `json:"role"`
}

func validRole(role access.Role) *apperr.FieldError {
	if !role.Valid() {
		return &apperr.FieldError{Field: "role", Message: "must be one of owner, admin, manager, staff, viewer, inspector"}
	}
	return nil
}

// validEmail accepts a bare address (no display name, no angle brackets).
func validEmail(email string) bool {
	if len(email) > 254 {
		return false
	}
	a, err := mail.ParseAddress(email)
	return err == nil && a.Address == email
}

func (s *Server) inviteMember(w http.ResponseWriter, r *http.Request, m Member) error {
	var req inviteRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	email := strings.TrimSpace(req.Email)
	var errs []apperr.FieldError
	if !validEmail(email) {
		errs = append(errs, apperr.FieldError{Field: "email", Message: "must be an e-mail address"})
	}
	if fe := validRole(req.Role); fe != nil {
		errs = append(errs, *fe)
	}
	if len(errs) > 0 {
		return apperr.Validation(errs...)
	}
	if !access.CanSetRole(m.Role, "", req.Role) {
		return apperr.New(apperr.Forbidden, "your role cannot invite a member as %s", req.Role)
	}
	mem, err := s.DB.InviteMember(r.Context(), m.OrgID,
		store.NewInvitation{ID: domain.NewID(), Email: email, Role: req.Role, InviterID: m.UserID, Now: s.Now()}, s.invitationMail)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusCreated, mem)
	return nil
}

// patchMemberRequest is PATCH /api/v1/orgs/{orgId}/members/{memberId}.
type patchMemberRequest struct {
	Role access.Role `json:"role"`
}

func (s *Server) patchMember(w http.ResponseWriter, r *http.Request, m Member) error {
	memberID, err := PathID(r, "memberId")
	if err != nil {
		return err
	}
	var req patchMemberRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	if fe := validRole(req.Role); fe != nil {
		return apperr.Validation(*fe)
	}
	// The checks run on the actor's role as read under the organisation
	// lock, not on m.Role: a concurrent change may have demoted the actor.
	mem, err := s.DB.SetMemberRole(r.Context(), m.OrgID, m.UserID, memberID, req.Role,
		func(actor access.Role, target domain.OrgMember) error {
			self := target.UserID != nil && *target.UserID == m.UserID
			if self && req.Role != target.Role && !target.Role.AtLeast(req.Role) {
				return apperr.New(apperr.Forbidden, "you cannot raise your own role")
			}
			if !access.CanSetRole(actor, target.Role, req.Role) {
				return apperr.New(apperr.Forbidden, "your role cannot change a %s into a %s", target.Role, req.Role)
			}
			return nil
		})
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, mem)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, m Member) error {
	memberID, err := PathID(r, "memberId")
	if err != nil {
		return err
	}
	err = s.DB.RemoveMember(r.Context(), m.OrgID, m.UserID, memberID,
		func(actor access.Role, target domain.OrgMember) error {
			if target.UserID != nil && *target.UserID == m.UserID {
				return nil // leaving
			}
			if !access.CanRemove(actor, target.Role) {
				return apperr.New(apperr.Forbidden, "your role cannot remove a %s", target.Role)
			}
			return nil
		})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
