package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// The api shows what the dispatcher will do with a contact (shared/notify
// rules): an unverified phone or address, or a phone outside the
// organisation's SMS countries, is not paged by a non-paying organisation
// and is flagged for a paying one, on the contact and on every policy that
// names it.

// pagingFacts is what the warnings depend on.
type pagingFacts struct {
	countries []string // effective SMS countries
	trial     bool
}

func (s *Server) pagingFacts(ctx context.Context, orgID string) (pagingFacts, error) {
	_, effective, trial, err := s.DB.OrgSMSCountries(ctx, orgID)
	return pagingFacts{countries: effective, trial: trial}, err
}

// consequence ends a warning: what the dispatcher does about it.
func (f pagingFacts) consequence() string {
	if f.trial {
		return "a trial organization does not page it"
	}
	return "it is paged, but check it"
}

// channelWarning is why channel of c may not be paged as written ("" if
// nothing). A call goes to the phone, under the SMS rules, and to a contact
// who takes calls.
func (f pagingFacts) channelWarning(c store.EscalationContact, channel string) string {
	phone := channel == "sms" || channel == "voice"
	switch {
	case channel == "voice" && c.Phone != nil && c.VoiceOptOut:
		return "the contact does not take calls (voice_opt_out): calls to it are skipped"
	case phone && c.Phone != nil && !c.PhoneVerified:
		return "the phone number is not verified (send it a code): " + f.consequence()
	case phone && c.Phone != nil && !domain.SMSCountryAllowed(*c.Phone, f.countries):
		country := domain.PhoneCountry(*c.Phone)
		if country == "" {
			country = "an unknown country"
		}
		return "the phone number is in " + country + ", outside the organization's SMS countries (" +
			strings.Join(f.countries, ", ") + "): " + f.consequence()
	case channel == "email" && c.Email != nil && !c.EmailVerified:
		return "the e-mail address is not verified (send it a code): " + f.consequence()
	}
	return ""
}

// annotateContact fills the contact's phone country and warnings.
func (f pagingFacts) annotateContact(c *store.EscalationContact) {
	c.Warnings = []string{}
	if c.Phone != nil {
		if cc := domain.PhoneCountry(*c.Phone); cc != "" {
			c.PhoneCountry = &cc
		}
	}
	for _, ch := range []string{"sms", "email"} {
		if w := f.channelWarning(*c, ch); w != "" {
			c.Warnings = append(c.Warnings, w)
		}
	}
}

// annotatePolicies fills each policy's warnings: one per contact and channel
// of its steps that may not be paged.
func (s *Server) annotatePolicies(ctx context.Context, orgID string, ps []store.NotificationPolicy) error {
	var ids []string
	for _, p := range ps {
		for _, st := range p.Steps {
			ids = append(ids, st.ContactIDs...)
		}
	}
	f, err := s.pagingFacts(ctx, orgID)
	if err != nil {
		return err
	}
	contacts, err := s.DB.ContactsByID(ctx, orgID, ids)
	if err != nil {
		return err
	}
	for i := range ps {
		ps[i].Warnings = []store.PolicyWarning{}
		seen := map[[2]string]bool{}
		for _, st := range ps[i].Steps {
			for _, id := range st.ContactIDs {
				c, ok := contacts[id]
				for _, ch := range st.Channels {
					key := [2]string{id, ch}
					if seen[key] {
						continue
					}
					seen[key] = true
					msg := ""
					switch {
					case !ok || !c.IsActive:
						msg = "the contact is deactivated: nobody is paged in its place"
					default:
						msg = f.channelWarning(c, ch)
					}
					if msg != "" {
						ps[i].Warnings = append(ps[i].Warnings, store.PolicyWarning{ContactID: id, Channel: ch, Message: c.Name + ": " + msg})
					}
				}
			}
		}
	}
	return nil
}

// annotatePolicy fills one policy's warnings.
func (s *Server) annotatePolicy(ctx context.Context, orgID string, p *store.NotificationPolicy) error {
	ps := []store.NotificationPolicy{*p}
	if err := s.annotatePolicies(ctx, orgID, ps); err != nil {
		return err
	}
	p.Warnings = ps[0].Warnings
	return nil
}

// verificationRequest is POST .../contacts/{contactId}/verification and its
// confirm.
type verificationRequest struct {
	Channel string `json:"channel"`
	Code    string `json:"code"`
}

func (s *Server) verificationInput(r *http.Request, confirm bool) (contactID string, req verificationRequest, err error) {
	if contactID, err = PathID(r, "contactId"); err != nil {
		return "", req, err
	}
	if err := web.DecodeJSON(r, &req); err != nil {
		return "", req, err
	}
	var fe []apperr.FieldError
	if req.Channel != "sms" && req.Channel != "email" {
		fe = append(fe, apperr.FieldError{Field: "channel", Message: "must be sms or email"})
	}
	switch {
	case confirm && (len(req.Code) != 6 || strings.Trim(req.Code, "0123456789") != ""):
		fe = append(fe, apperr.FieldError{Field: "code", Message: "must be the 6 digits that were sent"})
	case !confirm && req.Code != "":
		fe = append(fe, apperr.FieldError{Field: "code", Message: "is only sent to confirm"})
	}
	if len(fe) > 0 {
		return "", req, apperr.Validation(fe...)
	}
	return contactID, req, nil
}

// startVerification sends a one-time code to the contact's phone or
// address (through the outbox: the dispatcher sends it within a minute).
func (s *Server) startVerification(w http.ResponseWriter, r *http.Request, m Member) error {
	id, req, err := s.verificationInput(r, false)
	if err != nil {
		return err
	}
	code, err := domain.NewVerificationCode()
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "could not generate a code")
	}
	v, err := s.DB.StartContactVerification(r.Context(), m.OrgID, id, req.Channel, code, s.Now())
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusAccepted, v)
	return nil
}

func (s *Server) confirmVerification(w http.ResponseWriter, r *http.Request, m Member) error {
	id, req, err := s.verificationInput(r, true)
	if err != nil {
		return err
	}
	c, err := s.DB.ConfirmContactVerification(r.Context(), m.OrgID, id, req.Channel, req.Code, s.Now())
	if err != nil {
		return err
	}
	if err := s.annotateContact(r.Context(), m, &c); err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, c)
	return nil
}
