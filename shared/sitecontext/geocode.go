package sitecontext

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/apperr"
)

const (
	// GeocodeTTL is how long a search answer is reused: addresses barely
	// move, and Nominatim asks that results be cached.
	GeocodeTTL = 7 * 24 * time.Hour
	// GeocodeInterval is Nominatim's "absolute maximum of 1 request per
	// second" for the whole installation.
	GeocodeInterval = time.Second
	// GeocodeMaxWait bounds the queue behind the limiter: past it the
	// caller is told to retry rather than left hanging.
	GeocodeMaxWait = 8 * time.Second
	// DefaultUserAgent is sent when none is configured: Nominatim blocks
	// generic library agents.
	DefaultUserAgent = "FrostGuard/1.0 (+https://frostguard.app)"
	// GeocodeTicketKey is the Redis key every instance takes in turn.
	GeocodeTicketKey = "sitecontext:nominatim:ticket"
)

// Place is one geocoding result, shaped to fill a site form.
type Place struct {
	DisplayName  string  `json:"display_name"`
	Latitude     float64 `json:"latitude"`
	Longitude    float64 `json:"longitude"`
	CountryCode  *string `json:"country_code"` // ISO 3166-1 alpha-2, upper case like sites.country
	City         *string `json:"city"`         // city, town, village or hamlet
	Postcode     *string `json:"postcode"`
	Region       *string `json:"region"`        // state or province
	AddressLine1 *string `json:"address_line1"` // house number and road
}

// Geocoder searches Nominatim.
type Geocoder struct {
	BaseURL   string // e.g. https://nominatim.openstreetmap.org
	UserAgent string
	HTTP      *http.Client
	Cache     Cache
	Tickets   Tickets // nil: the in-process limiter alone
	Limiter   *Limiter
}

// NormalizeQuery is the form a query is sent and cached under: Nominatim
// ignores case and spacing, so "10 Downing St" and "10  downing st" share
// an answer.
func NormalizeQuery(q string) string { return strings.ToLower(strings.Join(strings.Fields(q), " ")) }

// GeocodeCacheKey is the Redis key of a query's answer (hashed: queries
// are free text).
func GeocodeCacheKey(q string) string {
	sum := sha256.Sum256([]byte(NormalizeQuery(q)))
	return "sitecontext:geocode:v1:" + hex.EncodeToString(sum[:16])
}

// Search returns up to 5 places matching q.
func (g *Geocoder) Search(ctx context.Context, q string) ([]Place, error) {
	if g.BaseURL == "" {
		return nil, apperr.New(apperr.Unavailable, "the geocoding service is not configured")
	}
	q = NormalizeQuery(q)
	key := GeocodeCacheKey(q)
	if places, ok := g.cached(ctx, key); ok {
		return places, nil
	}
	wctx, cancel := context.WithTimeout(ctx, GeocodeMaxWait)
	err := g.Limiter.Wait(wctx, g.Tickets)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, apperr.New(apperr.RateLimited, "the geocoding service is busy; try again in a few seconds")
		}
		return nil, err
	}
	// A concurrent identical search may have filled the cache while this
	// one queued.
	if places, ok := g.cached(ctx, key); ok {
		return places, nil
	}
	places, err := g.fetch(ctx, q)
	if err != nil {
		return nil, err
	}
	if g.Cache != nil {
		if b, err := json.Marshal(places); err == nil {
			g.Cache.Set(ctx, key, b, GeocodeTTL)
		}
	}
	return places, nil
}

func (g *Geocoder) cached(ctx context.Context, key string) ([]Place, bool) {
	if g.Cache == nil {
		return nil, false
	}
	b, ok := g.Cache.Get(ctx, key)
	if !ok {
		return nil, false
	}
	var places []Place
	if json.Unmarshal(b, &places) != nil || places == nil {
		return nil, false
	}
	return places, true
}

// nominatimPlace is the part of a jsonv2 search result we read.
type nominatimPlace struct {
	DisplayName string            `json:"display_name"`
	Lat         string            `json:"lat"`
	Lon         string            `json:"lon"`
	Address     map[string]string `json:"address"`
}

func (g *Geocoder) fetch(ctx context.Context, q string) ([]Place, error) {
	v := url.Values{}
	v.Set("q", q)
	v.Set("format", "jsonv2")
	v.Set("limit", "5")
	v.Set("addressdetails", "1")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(g.BaseURL, "/")+"/search?"+v.Encode(), nil)
	if err != nil {
		return nil, apperr.Wrap(apperr.Unavailable, err, "the geocoding service is misconfigured")
	}
	ua := g.UserAgent
	if strings.TrimSpace(ua) == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "application/json")
	body, err := getJSON(client(g.HTTP), req, "geocoding")
	if err != nil {
		return nil, err
	}
	var raw []nominatimPlace
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, apperr.Wrap(apperr.BadGateway, err, "the geocoding service gave an answer we cannot read; try again later")
	}
	places := make([]Place, 0, len(raw))
	for _, r := range raw {
		lat, err1 := strconv.ParseFloat(r.Lat, 64)
		lon, err2 := strconv.ParseFloat(r.Lon, 64)
		if err1 != nil || err2 != nil || lat < -90 || lat > 90 || lon < -180 || lon > 180 {
			continue
		}
		p := Place{DisplayName: r.DisplayName, Latitude: lat, Longitude: lon}
		a := r.Address
		if cc := strings.ToUpper(a["country_code"]); len(cc) == 2 {
			p.CountryCode = &cc
		}
		p.City = first(a, "city", "town", "village", "municipality", "hamlet")
		p.Postcode = first(a, "postcode")
		p.Region = first(a, "state", "province", "region")
		if road := first(a, "road", "pedestrian"); road != nil {
			line := *road
			if n := first(a, "house_number"); n != nil {
				line = *n + " " + line
			}
			p.AddressLine1 = &line
		}
		places = append(places, p)
	}
	return places, nil
}

// first returns the first non-empty value of keys in m (nil if none).
func first(m map[string]string, keys ...string) *string {
	for _, k := range keys {
		if v := strings.TrimSpace(m[k]); v != "" {
			return &v
		}
	}
	return nil
}
