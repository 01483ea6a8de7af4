package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/logging"
	"github.com/frostguard/functions/shared/report"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/web"
)

// Inspector share links: owners and admins make them; their holders (no
// account, a token that is not a Stack Auth JWT) reach only the
// /api/v1/inspect routes, within the link's sites and period, every use
// audited with the link as actor.
func (s *Server) registerInspectorLinks(mux *http.ServeMux) {
	s.handleOrg(mux, "POST /api/v1/orgs/{orgId}/inspector-links", access.ShareInspectorLinks, s.createInspectorLink)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/inspector-links", access.ShareInspectorLinks, s.listInspectorLinks)
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/inspector-links/{inspectorLinkId}", access.ShareInspectorLinks, s.getInspectorLink)
	s.handleOrg(mux, "DELETE /api/v1/orgs/{orgId}/inspector-links/{inspectorLinkId}", access.ShareInspectorLinks, s.revokeInspectorLink)

	s.handleInspector(mux, "GET /api/v1/inspect", s.inspectorSession)
	s.handleInspector(mux, "GET /api/v1/inspect/units", s.inspectorUnits)
	s.handleInspector(mux, "GET /api/v1/inspect/units/{unitId}/readings", s.inspectorReadings)
}

// InspectorLinkRoute marks a route for the holders of an inspector link
// (its x-permission in the OpenAPI document).
const InspectorLinkRoute access.Permission = "inspector_link"

// InspectorHandler handles a route for the holder of an inspector link.
type InspectorHandler func(w http.ResponseWriter, r *http.Request, sc domain.InspectorScope) error

// handleInspector registers a link holder's route: the token must be a
// live link's (401 otherwise, whatever else the request says), and the use
// is written to the organisation's audit trail before the route runs (a
// use that cannot be recorded is refused: 503).
func (s *Server) handleInspector(mux *http.ServeMux, pattern string, h InspectorHandler) {
	s.routes[pattern] = InspectorLinkRoute
	mux.Handle(pattern, web.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		tok := inspectorToken(r)
		if tok == "" {
			return apperr.New(apperr.Unauthenticated, "an inspector link's token is required (Authorization: Bearer fgi_...)")
		}
		detail, _ := json.Marshal(map[string]any{"path": r.URL.Path, "query": auditQuery(r.URL.Query())})
		sc, err := s.DB.UseInspectorLink(r.Context(), domain.InspectorTokenHash(tok),
			store.InspectorUse{Action: "inspect " + pattern, Detail: detail, RequestID: logging.RequestID(r.Context())}, s.Now())
		switch {
		case errors.Is(err, store.ErrInspectorLinkUnknown), errors.Is(err, store.ErrInspectorLinkExpired),
			errors.Is(err, store.ErrInspectorLinkRevoked):
			return apperr.New(apperr.Unauthenticated, "%s", err.Error())
		case err != nil:
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		return h(w, r, sc)
	}))
}

// inspectorToken is the request's bearer token when it has a link token's
// shape ("" otherwise: a Stack Auth JWT is not a link).
func inspectorToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	tok = strings.TrimSpace(tok)
	if !domain.LooksLikeInspectorToken(tok) {
		return ""
	}
	return tok
}

// auditQuery keeps the query parameters a link use is audited with (their
// names are the routes' own; values are cut short).
func auditQuery(q url.Values) map[string]string {
	out := map[string]string{}
	for k, vs := range q {
		if len(out) >= 20 || len(k) > 40 || len(vs) == 0 {
			continue
		}
		v := vs[0]
		if len(v) > 100 {
			v = v[:100]
		}
		out[k] = v
	}
	return out
}

// inspectorLinkRequest is the body of POST .../inspector-links.
type inspectorLinkRequest struct {
	Name          *string  `json:"name"`
	SiteIDs       []string `json:"site_ids"`
	PeriodFrom    *string  `json:"period_from"`
	PeriodTo      *string  `json:"period_to"`
	ExpiresInDays *int     `json:"expires_in_days"`
}

// createdInspectorLink is the answer to a new link: the only time its
// token (and the link carrying it) is shown.
type createdInspectorLink struct {
	domain.InspectorLink
	Token string `json:"token"`
	URL   string `json:"url"`
}

func (req inspectorLinkRequest) validate(now time.Time) (store.InspectorLinkInput, error) {
	var in store.InspectorLinkInput
	var fe []apperr.FieldError
	bad := func(field, msg string) { fe = append(fe, apperr.FieldError{Field: field, Message: msg}) }
	switch {
	case req.Name == nil || strings.TrimSpace(*req.Name) == "":
		bad("name", "is required: say who the link is for (e.g. County health inspection)")
	case utf8.RuneCountInString(strings.TrimSpace(*req.Name)) > domain.InspectorLinkMaxName:
		bad("name", "must be at most 200 characters")
	case strings.ContainsFunc(*req.Name, unicode.IsControl):
		bad("name", "must not contain control characters")
	default:
		in.Name = strings.TrimSpace(*req.Name)
	}
	seen := map[string]bool{}
	switch {
	case len(req.SiteIDs) == 0:
		bad("site_ids", "must name at least one site")
	case len(req.SiteIDs) > domain.InspectorLinkMaxSites:
		bad("site_ids", "must name at most 200 sites")
	default:
		for _, id := range req.SiteIDs {
			if !domain.IsUUID(id) {
				bad("site_ids", "must be site ids (UUIDs)")
				break
			}
			if id = strings.ToLower(id); !seen[id] {
				seen[id] = true
				in.SiteIDs = append(in.SiteIDs, id)
			}
		}
	}
	date := func(field string, v *string) time.Time {
		if v == nil {
			bad(field, "is required: a date (2026-01-31)")
			return time.Time{}
		}
		d, err := time.Parse(time.DateOnly, *v)
		if err != nil {
			bad(field, "must be a date (2026-01-31)")
		}
		return d
	}
	in.PeriodFrom, in.PeriodTo = date("period_from", req.PeriodFrom), date("period_to", req.PeriodTo)
	if !in.PeriodFrom.IsZero() && !in.PeriodTo.IsZero() {
		switch days := int(in.PeriodTo.Sub(in.PeriodFrom).Hours() / 24); {
		case days < 0:
			bad("period_to", "must not be before period_from")
		case days > domain.InspectorLinkMaxPeriodDays:
			bad("period_to", "the period is at most 366 days")
		}
	}
	ttl := domain.InspectorLinkDefaultTTL
	if req.ExpiresInDays != nil {
		n := *req.ExpiresInDays
		if n < 1 || n > int(domain.InspectorLinkMaxTTL/(24*time.Hour)) {
			bad("expires_in_days", "must be from 1 to 30")
		}
		ttl = time.Duration(n) * 24 * time.Hour
	}
	in.ExpiresAt = now.Add(ttl).UTC().Truncate(time.Microsecond)
	if len(fe) > 0 {
		return in, apperr.Validation(fe...)
	}
	return in, nil
}

func (s *Server) createInspectorLink(w http.ResponseWriter, r *http.Request, m Member) error {
	var req inspectorLinkRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	in, err := req.validate(now)
	if err != nil {
		return err
	}
	token, hash := domain.NewInspectorToken()
	in.TokenHash, in.TokenLast4, in.CreatedBy = hash, token[len(token)-4:], m.UserID
	l, err := s.DB.CreateInspectorLink(r.Context(), m.OrgID, in, now)
	if err != nil {
		return err
	}
	// The token travels in the fragment: browsers never send it to a
	// server (no access log, no Referer holds it).
	web.JSON(w, http.StatusCreated, createdInspectorLink{InspectorLink: l, Token: token,
		URL: strings.TrimRight(s.FrontendURL, "/") + "/inspector#token=" + token})
	return nil
}

func (s *Server) listInspectorLinks(w http.ResponseWriter, r *http.Request, m Member) error {
	p, err := PageFrom(r)
	if err != nil {
		return err
	}
	items, err := s.DB.InspectorLinks(r.Context(), m.OrgID, p.After.Time, p.After.ID, p.Limit+1, s.Now())
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, NewList(items, p.Limit, func(l domain.InspectorLink) Cursor {
		return Cursor{Time: l.CreatedAt, ID: l.ID}
	}))
	return nil
}

func (s *Server) getInspectorLink(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "inspectorLinkId")
	if err != nil {
		return err
	}
	l, err := s.DB.InspectorLink(r.Context(), m.OrgID, id, s.Now())
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) revokeInspectorLink(w http.ResponseWriter, r *http.Request, m Member) error {
	id, err := PathID(r, "inspectorLinkId")
	if err != nil {
		return err
	}
	l, err := s.DB.RevokeInspectorLink(r.Context(), m.OrgID, id, m.UserID, s.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, l)
	return nil
}

// inspectorSessionResponse is what a link opens on: the link, the
// organisation with the link's sites, and their units.
type inspectorSessionResponse struct {
	Link struct {
		ID         string    `json:"id"`
		Name       string    `json:"name"`
		PeriodFrom string    `json:"period_from"`
		PeriodTo   string    `json:"period_to"`
		ExpiresAt  time.Time `json:"expires_at"`
	} `json:"link"`
	Organization store.InspectorOrg `json:"organization"`
	Units        []report.UnitInfo  `json:"units"`
}

func (s *Server) inspectorSession(w http.ResponseWriter, r *http.Request, sc domain.InspectorScope) error {
	org, units, err := s.inspectorUnitList(r, sc)
	if err != nil {
		return err
	}
	var out inspectorSessionResponse
	out.Link.ID, out.Link.Name, out.Link.ExpiresAt = sc.LinkID, sc.LinkName, sc.ExpiresAt
	out.Link.PeriodFrom, out.Link.PeriodTo = sc.From.Format(time.DateOnly), sc.To.Format(time.DateOnly)
	out.Organization, out.Units = org, units
	web.JSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) inspectorUnits(w http.ResponseWriter, r *http.Request, sc domain.InspectorScope) error {
	_, units, err := s.inspectorUnitList(r, sc)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, map[string]any{"items": units})
	return nil
}

// inspectorUnitList is the organisation with the link's sites, and the
// live units of those sites (site_id narrows them to one: a site outside
// the link is 404).
func (s *Server) inspectorUnitList(r *http.Request, sc domain.InspectorScope) (store.InspectorOrg, []report.UnitInfo, error) {
	siteID, err := QueryUUID(r, "site_id")
	if err != nil {
		return store.InspectorOrg{}, nil, err
	}
	org, err := s.DB.InspectorOrg(r.Context(), sc)
	if err != nil {
		return org, nil, err
	}
	units, err := s.DB.ReportUnits(r.Context(), sc.OrgID, store.ReportScope{SiteID: siteID, Sites: sc.SiteIDs})
	if err != nil {
		return org, nil, err
	}
	out := make([]report.UnitInfo, 0, len(units))
	for _, u := range units {
		out = append(out, u.Info(domain.TempUnit(org.TempUnit)))
	}
	return org, out, nil
}

// inspectorReadings is a unit's readings, as members get them, within the
// link's sites and period (a range reaching outside the period is cut to
// it; one entirely outside is 400).
func (s *Server) inspectorReadings(w http.ResponseWriter, r *http.Request, sc domain.InspectorScope) error {
	unitID, err := PathID(r, "unitId")
	if err != nil {
		return err
	}
	unit, err := s.DB.ReadingUnit(r.Context(), sc.OrgID, unitID)
	if err != nil {
		return err
	}
	if !sc.HasSite(unit.SiteID) {
		return apperr.New(apperr.NotFound, "unit not found")
	}
	loc := domain.Location(unit.TimeZone)
	lo := time.Date(sc.From.Year(), sc.From.Month(), sc.From.Day(), 0, 0, 0, 0, loc).UTC()
	hi := time.Date(sc.To.Year(), sc.To.Month(), sc.To.Day()+1, 0, 0, 0, 0, loc).UTC()
	// the default range is the period's last day, or the last day until now
	now := s.Now()
	if hi.Before(now) {
		now = hi
	}
	q, err := readingsQueryFrom(r, now)
	if err != nil {
		return err
	}
	if q.from.Before(lo) {
		q.from = lo
	}
	if q.to.After(hi) {
		q.to = hi
	}
	if !q.from.Before(q.to) {
		return apperr.Validation(apperr.FieldError{Field: "from", Message: "the range is outside the link's period, " +
			sc.From.Format(time.DateOnly) + " to " + sc.To.Format(time.DateOnly)})
	}
	return s.answerReadings(w, r, sc.OrgID, unit, q)
}
