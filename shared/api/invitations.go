package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

// Invitations: POST .../members invites (always a pending invitation, an
// e-mail with a link to the frontend); the invited person, signed in with
// that address verified, sees it in GET /api/v1/me and accepts or declines
// it; owners and admins list, resend and revoke pending ones.
func (s *Server) registerInvitations(mux *http.ServeMux) {
	s.handleUser(mux, "POST /api/v1/me/invitations/{invitationId}/accept", s.acceptInvitation)
	s.handleUser(mux, "POST /api/v1/me/invitations/{invitationId}/decline", s.declineInvitation)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/invitations", access.ManageMembers, s.listInvitations)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/invitations/{invitationId}/resend", access.ManageMembers, s.resendInvitation)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/invitations/{invitationId}", access.ManageMembers, s.revokeInvitation)
}

// invitationMail renders an invitation's e-mail, linking to the frontend.
func (s *Server) invitationMail(f domain.InvitationFacts) (subject, body string) {
	return domain.InvitationEmail(f, s.FrontendURL)
}

var errEmailNotVerified = apperr.New(apperr.Forbidden,
	"verify your e-mail address with your sign-in provider first: invitations are answered only from a verified address")

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request, c Caller) error {
	if !c.EmailVerified {
		return errEmailNotVerified
	}
	id, err := PathID(r, "invitationId")
	if err != nil {
		return err
	}
	m, err := s.DB.AcceptInvitation(r.Context(), c.UserID, c.Email, id, s.Now())
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) declineInvitation(w http.ResponseWriter, r *http.Request, c Caller) error {
	if !c.EmailVerified {
		return errEmailNotVerified
	}
	id, err := PathID(r, "invitationId")
	if err != nil {
		return err
	}
	if err := s.DB.DeclineInvitation(r.Context(), c.UserID, c.Email, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, m Member) error {
	page, err := PageFrom(r)
	if err != nil {
		return err
	}
	items, err := s.DB.OrgInvitations(r.Context(), m.OrgID, page.After.Time, page.After.ID, page.Limit+1)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, page.Limit, func(i domain.OrgInvitation) Cursor {
		return Cursor{Time: i.CreatedAt, ID: i.ID}
	}))
	return nil
}

// invitationCheck: acting on an invitation is granting (resend) or taking
// back (revoke) its role, with the rules of shared/access.
func invitationCheck(grant bool) func(actor, target access.Role) error {
	return func(actor, target access.Role) error {
		ok := access.CanRemove(actor, target)
		if grant {
			ok = access.CanSetRole(actor, "", target)
		}
		if !ok {
			return apperr.New(apperr.Forbidden, "your role cannot act on an invitation as %s", target)
		}
		return nil
	}
}

func (s *Server) resendInvitation(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "invitationId")
	if err != nil {
		return err
	}
	inv, err := s.DB.ResendInvitation(r.Context(), m.OrgID, m.UserID, id, s.Now(), invitationCheck(true), s.invitationMail)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, inv)
	return nil
}

func (s *Server) revokeInvitation(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "invitationId")
	if err != nil {
		return err
	}
	if err := s.DB.RevokeInvitation(r.Context(), m.OrgID, m.UserID, id, invitationCheck(false)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
