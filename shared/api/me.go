package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerMe(mux *http.ServeMux) {
	s.handleUser(mux, "GET /api/v1/me", s.getMe)
}

// meResponse is GET /api/v1/me.
type meResponse struct {
	ID            string `json:"id"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	DisplayName   string `json:"display_name,omitempty"`
	// Phone and NotificationPreferences are the user's profile (PATCH /me).
	Phone                   *string                        `json:"phone"`
	NotificationPreferences domain.NotificationPreferences `json:"notification_preferences"`
	Memberships             []domain.Membership            `json:"memberships"`
	// Invitations are the pending invitations sent to the caller's address,
	// listed only once the address is verified.
	Invitations []domain.Invitation `json:"invitations"`
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, c Caller) error {
	p, err := s.DB.Profile(r.Context(), c.UserID)
	if err != nil {
		return err
	}
	return s.writeMe(w, r, c, p)
}

// writeMe answers the caller's document with their profile p.
func (s *Server) writeMe(w http.ResponseWriter, r *http.Request, c Caller, p domain.Profile) error {
	ms, err := s.DB.Memberships(r.Context(), c.UserID)
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []domain.Membership{}
	}
	invs := []domain.Invitation{}
	if c.EmailVerified {
		if invs, err = s.DB.UserInvitations(r.Context(), c.Email); err != nil {
			return err
		}
		if invs == nil {
			invs = []domain.Invitation{}
		}
	}
	web.JSON(w, http.StatusOK, meResponse{ID: c.UserID, Email: c.Email, EmailVerified: c.EmailVerified, DisplayName: c.Name,
		Phone: p.Phone, NotificationPreferences: p.NotificationPreferences, Memberships: ms, Invitations: invs})
	return nil
}
