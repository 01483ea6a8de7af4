package api

import (
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/sitecontext"
	"github.com/frostguard/functions/shared/web"
)

// geocodeLimiter is shared by every request of the process: Nominatim's
// one-request-per-second rule is per installation, not per request or per
// Server value.
var geocodeLimiter = sitecontext.NewLimiter(sitecontext.GeocodeTicketKey, sitecontext.GeocodeInterval)

// weatherHistory is how far back the hourly series goes.
const weatherHistory = 48 * time.Hour

func (s *Server) registerSiteContext(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/sites/{siteId}/weather", access.ReadOrganization, s.siteWeather)
	// Geocoding serves the site form, so it is limited to those who edit
	// sites: it spends a shared, rate-limited third-party allowance.
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/geocode", access.ManageSites, s.geocode)
}

// weatherPoint is an observation with its temperature in °C and in the
// organisation's unit.
type weatherPoint struct {
	Time             time.Time `json:"time"`
	TemperatureC     *float64  `json:"temperature_c"`
	Temperature      *float64  `json:"temperature"`
	RelativeHumidity *float64  `json:"relative_humidity"`
	WeatherCode      *int      `json:"weather_code,omitempty"`
}

type siteWeather struct {
	SiteID      string          `json:"site_id"`
	Latitude    float64         `json:"latitude"`
	Longitude   float64         `json:"longitude"`
	TempUnit    domain.TempUnit `json:"temp_unit"`
	FetchedAt   time.Time       `json:"fetched_at"`
	Current     weatherPoint    `json:"current"`
	Hourly      []weatherPoint  `json:"hourly"`
	Attribution string          `json:"attribution"`
}

func inUnit(o sitecontext.Observation, u domain.TempUnit) weatherPoint {
	p := weatherPoint{Time: o.Time.UTC(), TemperatureC: o.TemperatureC, RelativeHumidity: o.RelativeHumidity, WeatherCode: o.WeatherCode}
	if o.TemperatureC != nil {
		v := domain.FromCelsius(*o.TemperatureC, u)
		p.Temperature = &v
	}
	return p
}

func (s *Server) siteWeather(w http.ResponseWriter, r *http.Request, m Member) error {
	siteID, err := PathID(r, "siteId")
	if err != nil {
		return err
	}
	site, err := s.DB.GetSite(r.Context(), m.OrgID, siteID)
	if err != nil {
		return err
	}
	if site.Latitude == nil || site.Longitude == nil {
		return apperr.New(apperr.Conflict, "the site has no coordinates: set its latitude and longitude first")
	}
	org, err := s.DB.Organization(r.Context(), m.OrgID)
	if err != nil {
		return err
	}
	wc := sitecontext.WeatherClient{BaseURL: s.SiteContext.WeatherBaseURL, HTTP: s.HTTP, Cache: s.Cache, Now: s.Now}
	wx, err := wc.Weather(r.Context(), *site.Latitude, *site.Longitude)
	if err != nil {
		return err
	}
	unit := org.TempUnit
	if !unit.Valid() {
		unit = domain.Celsius
	}
	now := s.Now().UTC()
	out := siteWeather{SiteID: site.ID, Latitude: wx.Latitude, Longitude: wx.Longitude, TempUnit: unit,
		FetchedAt: wx.FetchedAt.UTC(), Current: inUnit(wx.Current, unit), Hourly: []weatherPoint{},
		Attribution: "Weather data by Open-Meteo.com (CC BY 4.0)"}
	for _, o := range wx.Between(now.Add(-weatherHistory), now) {
		out.Hourly = append(out.Hourly, inUnit(o, unit))
	}
	web.JSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) geocode(w http.ResponseWriter, r *http.Request, m Member) error {
	// Counted as sent upstream: whitespace runs collapsed, ends trimmed.
	q := sitecontext.NormalizeQuery(r.URL.Query().Get("q"))
	switch n := utf8.RuneCountInString(q); {
	case n == 0:
		return apperr.Validation(apperr.FieldError{Field: "q", Message: "is required"})
	case n < 3 || n > 200:
		return apperr.Validation(apperr.FieldError{Field: "q", Message: "must be 3 to 200 characters"})
	}
	g := sitecontext.Geocoder{BaseURL: s.SiteContext.GeocodeBaseURL, UserAgent: s.SiteContext.GeocodeUserAgent,
		HTTP: s.HTTP, Cache: s.Cache, Limiter: geocodeLimiter}
	// A nil *cache.Cache in the interface would still be called: only a
	// configured cache that can hand out tickets takes part.
	if s.Cache != nil {
		if t, ok := any(s.Cache).(sitecontext.Tickets); ok {
			g.Tickets = t
		}
	}
	places, err := g.Search(r.Context(), q)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, List[sitecontext.Place]{Items: places})
	return nil
}
