package api

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerOrganizations(mux *http.ServeMux) {
	s.handleUser(mux, "POST /api/v1/orgs", s.createOrganization)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}", access.ReadOrganization, s.getOrganization)
	s.handleOrg(mux, "PATCH /api/v1/orgs/{orgId}", access.UpdateOrgSettings, s.patchOrganization)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/ttn-connection", access.ManageIntegration, s.getTTNConnection)
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/ttn-connection/rotate-secret", access.ManageIntegration, s.rotateTTNSecret)
}

const maxOrgNameLen = 200

// ttnIDPattern is The Things Network's identifier syntax: lower-case
// letters and digits, single dashes inside (length checked apart).
var ttnIDPattern = regexp.MustCompile(`^[a-z0-9](?:-?[a-z0-9])+$`)

func validName(field string, name string) (string, *apperr.FieldError) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", &apperr.FieldError{Field: field, Message: "is required"}
	case utf8.RuneCountInString(name) > maxOrgNameLen:
		return "", &apperr.FieldError{Field: field, Message: "must be at most 200 characters"}
	}
	return name, nil
}

func validTimezone(tz string) *apperr.FieldError {
	if !domain.IsIANAZone(tz) {
		return &apperr.FieldError{Field: "timezone", Message: "must be an IANA time zone name, e.g. Europe/Paris"}
	}
	return nil
}

func validTempUnit(u string) *apperr.FieldError {
	if !domain.TempUnit(u).Valid() {
		return &apperr.FieldError{Field: "temp_unit", Message: "must be C or F"}
	}
	return nil
}

// slugify derives a URL-safe slug from a name: lower-case ASCII letters and
// digits, other runs of characters become one dash.
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			if b.Len() >= 50 {
				break
			}
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "org"
	}
	return b.String()
}

// createOrgRequest is POST /api/v1/orgs. It names no TTN application:
// an application id is bound to an organisation only once The Things Stack
// confirmed an API key's rights on it (PUT .../ttn-connection/credentials),
// so nobody can hold another customer's application.
type createOrgRequest struct {
	Name     string  `json:"name"`
	Timezone *string `json:"timezone"`
	TempUnit *string `json:"temp_unit"`
}

// ttnSecretResponse shows a webhook secret, the one time it is readable.
// ApplicationID is null until an application is connected.
type ttnSecretResponse struct {
	ApplicationID *string `json:"application_id"`
	WebhookSecret string  `json:"webhook_secret"`
	WebhookHeader string  `json:"webhook_header"`
}

// createOrgResponse is the new organisation (my_role "owner") and its TTN
// connection with the secret to paste into the TTN console.
type createOrgResponse struct {
	domain.Organization
	TTN ttnSecretResponse `json:"ttn"`
}

func (s *Server) createOrganization(w http.ResponseWriter, r *http.Request, c Caller) error {
	var req createOrgRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	in := domain.NewOrganization{Timezone: "UTC", TempUnit: domain.Celsius}
	var errs []apperr.FieldError
	name, fe := validName("name", req.Name)
	if fe != nil {
		errs = append(errs, *fe)
	}
	in.Name, in.Slug = name, slugify(name)
	if req.Timezone != nil {
		if fe := validTimezone(*req.Timezone); fe != nil {
			errs = append(errs, *fe)
		}
		in.Timezone = *req.Timezone
	}
	if req.TempUnit != nil {
		if fe := validTempUnit(*req.TempUnit); fe != nil {
			errs = append(errs, *fe)
		}
		in.TempUnit = domain.TempUnit(*req.TempUnit)
	}
	if len(errs) > 0 {
		return apperr.Validation(errs...)
	}
	secret, err := domain.NewTTNSecret()
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "could not generate a webhook secret")
	}
	org, err := s.DB.CreateOrganization(r.Context(), in, c.UserID, secret)
	if err != nil {
		return err
	}
	org.MyRole = access.Owner
	web.JSON(w, http.StatusCreated, createOrgResponse{Organization: org, TTN: ttnSecretResponse{
		WebhookSecret: secret.Value, WebhookHeader: domain.TTNWebhookHeader}})
	return nil
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request, m Member) error {
	org, err := s.DB.Organization(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	org.MyRole = m.Role
	if org.SMSCountries, err = s.effectiveSMSCountries(r.Context(), m.OrgID); err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, org)
	return nil
}

func (s *Server) effectiveSMSCountries(ctx context.Context, orgID string) ([]string, error) {
	f, err := s.pagingFacts(ctx, orgID)
	if f.countries == nil {
		f.countries = []string{}
	}
	return f.countries, err
}

// patchOrgRequest is PATCH /api/v1/orgs/{orgId}: any of these fields.
type patchOrgRequest struct {
	Name           *string `json:"name"`
	Timezone       *string `json:"timezone"`
	TempUnit       *string `json:"temp_unit"`
	ComplianceMode *string `json:"compliance_mode"`
	// SMSAllowedCountries: ISO 3166-1 alpha-2 codes; null resets to the
	// countries of the organisation's sites.
	SMSAllowedCountries hierOpt[[]string] `json:"sms_allowed_countries"`
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// validSMSCountries checks an allow-list: up to 50 distinct country codes.
func validSMSCountries(in []string) ([]string, *apperr.FieldError) {
	fe := &apperr.FieldError{Field: "sms_allowed_countries", Message: "must be at most 50 ISO 3166-1 alpha-2 country codes, e.g. [\"US\", \"CA\"]"}
	if len(in) > 50 {
		return nil, fe
	}
	out := []string{}
	for _, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !countryCode.MatchString(c) {
			return nil, fe
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *Server) patchOrganization(w http.ResponseWriter, r *http.Request, m Member) error {
	var req patchOrgRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	var p domain.OrganizationPatch
	var errs []apperr.FieldError
	if req.Name != nil {
		name, fe := validName("name", *req.Name)
		if fe != nil {
			errs = append(errs, *fe)
		}
		p.Name = &name
	}
	if req.Timezone != nil {
		if fe := validTimezone(*req.Timezone); fe != nil {
			errs = append(errs, *fe)
		}
		p.Timezone = req.Timezone
	}
	if req.TempUnit != nil {
		if fe := validTempUnit(*req.TempUnit); fe != nil {
			errs = append(errs, *fe)
		}
		u := domain.TempUnit(*req.TempUnit)
		p.TempUnit = &u
	}
	if req.ComplianceMode != nil {
		if v := *req.ComplianceMode; v != domain.ComplianceStandard && v != domain.ComplianceHACCP {
			errs = append(errs, apperr.FieldError{Field: "compliance_mode", Message: "must be standard or haccp"})
		}
		p.ComplianceMode = req.ComplianceMode
	}
	if o := req.SMSAllowedCountries; o.Set {
		p.ResetSMSCountries = o.Null
		if !o.Null {
			list, fe := validSMSCountries(o.V)
			if fe != nil {
				errs = append(errs, *fe)
			}
			p.SMSCountries = list
		}
	}
	if len(errs) > 0 {
		return apperr.Validation(errs...)
	}
	org, err := s.DB.UpdateOrganization(r.Context(), m.OrgID, p)
	if err != nil {
		return err
	}
	org.MyRole = m.Role
	if org.SMSCountries, err = s.effectiveSMSCountries(r.Context(), m.OrgID); err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, org)
	return nil
}

func (s *Server) getTTNConnection(w http.ResponseWriter, r *http.Request, m Member) error {
	conn, err := s.DB.TTNConnection(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, conn)
	return nil
}

// rotateSecretResponse is the connection after rotation, with the new
// secret shown this once.
type rotateSecretResponse struct {
	domain.TTNConnection
	WebhookSecret string `json:"webhook_secret"`
}

func (s *Server) rotateTTNSecret(w http.ResponseWriter, r *http.Request, m Member) error {
	// Once TTN itself holds the secret (a configured webhook), rotating only
	// our hash would make TTN's deliveries fail: rotate on both sides.
	if s.TTN.Config.Configured() {
		conn, err := s.DB.TTNManagedConnection(r.Context(), m.OrgID)
		if err == nil && conn.WebhookConfiguredAt != nil {
			return s.configureTTNWebhook(w, r, m)
		}
	}
	secret, err := domain.NewTTNSecret()
	if err != nil {
		return apperr.Wrap(apperr.Internal, err, "could not generate a webhook secret")
	}
	conn, err := s.DB.RotateTTNSecret(r.Context(), m.OrgID, secret)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, rotateSecretResponse{TTNConnection: conn, WebhookSecret: secret.Value})
	return nil
}
