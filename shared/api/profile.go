package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerProfile(mux *http.ServeMux) {
	s.handleUser(mux, "PATCH /api/v1/me", s.patchMe)
}

// profileInput is PATCH /api/v1/me: any subset; a null phone removes it.
type profileInput struct {
	DisplayName             hierOpt[string]          `json:"display_name"`
	Phone                   hierOpt[string]          `json:"phone"`
	NotificationPreferences hierOpt[json.RawMessage] `json:"notification_preferences"`
}

func (in profileInput) change() (store.ProfileChange, error) {
	var c store.ProfileChange
	var fe []apperr.FieldError
	if in.DisplayName.value(&fe, "display_name") {
		name := strings.TrimSpace(in.DisplayName.V)
		if name == "" || utf8.RuneCountInString(name) > 100 {
			fe = append(fe, apperr.FieldError{Field: "display_name", Message: "must be 1 to 100 characters"})
		}
		c.DisplayName = &name
	}
	switch {
	case !in.Phone.Set:
	case in.Phone.Null || strings.TrimSpace(in.Phone.V) == "":
		c.ClearPhone = true
	default:
		p, ok := domain.NormalizePhone(in.Phone.V)
		if !ok {
			fe = append(fe, apperr.FieldError{Field: "phone", Message: "must be an international number (E.164), e.g. +15555550100"})
		}
		c.Phone = &p
	}
	if in.NotificationPreferences.value(&fe, "notification_preferences") {
		p, ok := decodePreferences(in.NotificationPreferences.V)
		if !ok {
			fe = append(fe, apperr.FieldError{Field: "notification_preferences", Message: "must be {\"email\": bool, \"sms\": bool, \"push\": bool}, all three"})
		}
		c.Preferences = &p
	}
	if len(fe) > 0 {
		return c, apperr.Validation(fe...)
	}
	return c, nil
}

// decodePreferences reads the three channel switches strictly: every one
// given, nothing else.
func decodePreferences(raw json.RawMessage) (domain.NotificationPreferences, bool) {
	var in struct{ Email, SMS, Push *bool }
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if dec.Decode(&in) != nil || in.Email == nil || in.SMS == nil || in.Push == nil {
		return domain.NotificationPreferences{}, false
	}
	return domain.NotificationPreferences{Email: *in.Email, SMS: *in.SMS, Push: *in.Push}, true
}

// patchMe changes the caller's own profile (the SPA's users.updateProfile)
// and answers GET /me's document.
func (s *Server) patchMe(w http.ResponseWriter, r *http.Request, c Caller) error {
	var in profileInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	ch, err := in.change()
	if err != nil {
		return err
	}
	p, err := s.DB.UpdateProfile(r.Context(), c.UserID, ch)
	if err != nil {
		return err
	}
	c.Name = p.DisplayName
	return s.writeMe(w, r, c, p)
}
