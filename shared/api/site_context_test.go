package api

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/cache"
	"github.com/frostguard/functions/shared/sitecontext"
	"github.com/frostguard/functions/shared/testenv"
)

// fakeMeteo stands in for Open-Meteo's forecast API: it checks the request
// the proxy sends and counts them.
type fakeMeteo struct {
	*httptest.Server
	hits  atomic.Int32
	fail  atomic.Bool  // answer 500 with a body that must not reach the caller
	delay atomic.Int64 // nanoseconds to wait before answering
}

func newFakeMeteo(t *testing.T) *fakeMeteo {
	f := &fakeMeteo{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if d := time.Duration(f.delay.Load()); d > 0 {
			time.Sleep(d)
		}
		q := r.URL.Query()
		want := map[string]string{"current": "temperature_2m,relative_humidity_2m,weather_code",
			"hourly": "temperature_2m,relative_humidity_2m", "past_days": "2", "forecast_days": "1", "timezone": "UTC"}
		bad := r.URL.Path != "/v1/forecast" || q.Get("latitude") == "" || q.Get("longitude") == ""
		for k, v := range want {
			bad = bad || q.Get(k) != v
		}
		if bad {
			t.Errorf("unexpected upstream request %s", r.URL)
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":true,"reason":"bad request"}`))
			return
		}
		if f.fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`<html>upstream secret stack trace</html>`))
			return
		}
		// 72 hours from midnight two days ago; temperature_2m is 0.1 × the
		// hour index, the newest hours are not computed yet (null).
		start := time.Now().UTC().Truncate(24 * time.Hour).Add(-48 * time.Hour)
		var times []string
		var temps, hums []any
		for i := range 72 {
			ts := start.Add(time.Duration(i) * time.Hour)
			times = append(times, ts.Format("2006-01-02T15:04"))
			if ts.After(time.Now()) {
				temps, hums = append(temps, nil), append(hums, nil)
				continue
			}
			temps, hums = append(temps, float64(i)/10), append(hums, 60)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"latitude": q.Get("latitude"), "longitude": q.Get("longitude"), "timezone": "GMT",
			"current_units": map[string]string{"temperature_2m": "°C", "relative_humidity_2m": "%"},
			"current": map[string]any{"time": time.Now().UTC().Truncate(15 * time.Minute).Format("2006-01-02T15:04"),
				"interval": 900, "temperature_2m": 20.0, "relative_humidity_2m": 55, "weather_code": 3},
			"hourly": map[string]any{"time": times, "temperature_2m": temps, "relative_humidity_2m": hums},
		})
	}))
	t.Cleanup(f.Close)
	return f
}

// testCache opens the test Redis, or one that refuses connections.
func testCache(t *testing.T, url string) *cache.Cache {
	c, err := cache.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

type weatherBody struct {
	SiteID    string  `json:"site_id"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	TempUnit  string  `json:"temp_unit"`
	FetchedAt string  `json:"fetched_at"`
	Current   struct {
		Time             time.Time `json:"time"`
		TemperatureC     *float64  `json:"temperature_c"`
		Temperature      *float64  `json:"temperature"`
		RelativeHumidity *float64  `json:"relative_humidity"`
		WeatherCode      *int      `json:"weather_code"`
	} `json:"current"`
	Hourly []struct {
		Time         time.Time `json:"time"`
		TemperatureC *float64  `json:"temperature_c"`
		Temperature  *float64  `json:"temperature"`
	} `json:"hourly"`
	Attribution string `json:"attribution"`
}

// weatherSetup is an organisation with a located site, the proxy pointed
// at a fake Open-Meteo, and a random point so runs never share a cache entry.
func weatherSetup(t *testing.T, h *harness) (owner *testUser, orgID string, u unitFixture, meteo *fakeMeteo, lat, lon float64) {
	owner = h.user("owner")
	orgID = h.org("Alpha", owner)
	u = h.unit(orgID)
	meteo = newFakeMeteo(t)
	h.srv.SiteContext.WeatherBaseURL = meteo.URL
	lat, lon = float64(rand.IntN(16000)-8000)/100+0.0049, float64(rand.IntN(36000)-18000)/100
	h.exec(`UPDATE sites SET latitude = $1, longitude = $2 WHERE id = $3`, lat, lon, u.SiteID)
	return
}

func TestSiteWeather(t *testing.T) {
	h := newHarness(t)
	owner, orgID, u, meteo, lat, lon := weatherSetup(t, h)
	h.srv.Cache = testCache(t, testenv.Require(t, "REDIS_URL"))
	h.srv.Cache.Delete(context.Background(), sitecontext.WeatherCacheKey(lat, lon))
	viewer := h.user("viewer")
	h.member(orgID, viewer, access.Viewer)
	path := "/api/v1/orgs/" + orgID + "/sites/" + u.SiteID + "/weather"

	var b weatherBody
	h.do(viewer, "GET", path, nil).must(t, http.StatusOK).JSON(t, &b)
	if b.SiteID != u.SiteID || b.TempUnit != "C" || b.Latitude != sitecontext.RoundCoordinate(lat) || b.Longitude != sitecontext.RoundCoordinate(lon) {
		t.Errorf("header fields: %+v", b)
	}
	if b.Current.TemperatureC == nil || *b.Current.TemperatureC != 20 || *b.Current.Temperature != 20 ||
		*b.Current.RelativeHumidity != 55 || *b.Current.WeatherCode != 3 || b.Attribution == "" {
		t.Errorf("current: %+v", b.Current)
	}
	now := time.Now().UTC()
	if n := len(b.Hourly); n < 48 || n > 49 {
		t.Errorf("%d hourly points, want the last 48 hours", n)
	}
	for _, p := range b.Hourly {
		if p.Time.Before(now.Add(-49*time.Hour)) || p.Time.After(now) || p.Time.Location() != time.UTC {
			t.Errorf("hourly point at %s is not in the last 48 hours", p.Time)
		}
	}
	if meteo.hits.Load() != 1 {
		t.Fatalf("%d upstream requests, want 1", meteo.hits.Load())
	}

	// Cache hit, and the display unit follows the organisation.
	h.exec(`UPDATE organizations SET temp_unit = 'F' WHERE id = $1`, orgID)
	var f weatherBody
	h.do(owner, "GET", path, nil).must(t, http.StatusOK).JSON(t, &f)
	if meteo.hits.Load() != 1 {
		t.Errorf("the second request reached the upstream (%d requests)", meteo.hits.Load())
	}
	if f.TempUnit != "F" || *f.Current.TemperatureC != 20 || *f.Current.Temperature != 68 {
		t.Errorf("°F display: %+v", f.Current)
	}
	for _, p := range f.Hourly {
		if p.TemperatureC != nil && (p.Temperature == nil || *p.Temperature != float64(int(*p.TemperatureC*9/5*100+3200+0.5))/100) {
			t.Errorf("hourly %v °C shown as %v °F", *p.TemperatureC, p.Temperature)
		}
	}
}

func TestSiteWeatherWithoutRedis(t *testing.T) {
	for name, c := range map[string]func(t *testing.T) *cache.Cache{
		"redis down":    func(t *testing.T) *cache.Cache { return testCache(t, "redis://127.0.0.1:1/0") },
		"no cache conf": func(t *testing.T) *cache.Cache { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			owner, orgID, u, meteo, _, _ := weatherSetup(t, h)
			h.srv.Cache = c(t)
			path := "/api/v1/orgs/" + orgID + "/sites/" + u.SiteID + "/weather"
			for i := 1; i <= 3; i++ {
				start := time.Now()
				h.do(owner, "GET", path, nil).must(t, http.StatusOK)
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("request %d took %s without Redis", i, d)
				}
				if got := meteo.hits.Load(); got != int32(i) {
					t.Errorf("after %d requests the upstream saw %d", i, got)
				}
			}
		})
	}
}

func TestSiteWeatherErrors(t *testing.T) {
	h := newHarness(t)
	owner, orgID, u, meteo, _, _ := weatherSetup(t, h)
	path := "/api/v1/orgs/" + orgID + "/sites/" + u.SiteID + "/weather"

	t.Run("site without coordinates", func(t *testing.T) {
		var siteID string
		h.queryRow([]any{&siteID}, `INSERT INTO sites (organization_id, name) VALUES ($1, 'Nowhere') RETURNING id`, orgID)
		r := h.do(owner, "GET", "/api/v1/orgs/"+orgID+"/sites/"+siteID+"/weather", nil).must(t, http.StatusConflict)
		if !strings.Contains(string(r.Body), "no coordinates") {
			t.Errorf("message: %s", r.Body)
		}
	})
	t.Run("upstream 500", func(t *testing.T) {
		meteo.fail.Store(true)
		defer meteo.fail.Store(false)
		r := h.do(owner, "GET", path, nil).must(t, http.StatusBadGateway)
		if r.ErrorCode() != "UPSTREAM_FAILED" || strings.Contains(string(r.Body), "secret") || !strings.Contains(string(r.Body), "weather service") {
			t.Errorf("body: %s", r.Body)
		}
	})
	t.Run("upstream timeout", func(t *testing.T) {
		prev := h.srv.HTTP
		h.srv.HTTP = &http.Client{Timeout: 200 * time.Millisecond}
		meteo.delay.Store(int64(time.Second))
		defer func() { h.srv.HTTP = prev; meteo.delay.Store(0) }()
		if r := h.do(owner, "GET", path, nil).must(t, http.StatusBadGateway); r.ErrorCode() != "UPSTREAM_FAILED" {
			t.Errorf("body: %s", r.Body)
		}
	})
	t.Run("not configured", func(t *testing.T) {
		h.srv.SiteContext.WeatherBaseURL = ""
		defer func() { h.srv.SiteContext.WeatherBaseURL = meteo.URL }()
		h.do(owner, "GET", path, nil).must(t, http.StatusServiceUnavailable)
	})
	t.Run("other tenants and unknown sites", func(t *testing.T) {
		other := h.user("other")
		orgB := h.org("Beta", other)
		h.do(other, "GET", path, nil).must(t, http.StatusNotFound)
		h.do(other, "GET", "/api/v1/orgs/"+orgB+"/sites/"+u.SiteID+"/weather", nil).must(t, http.StatusNotFound)
		h.do(owner, "GET", "/api/v1/orgs/"+orgID+"/sites/not-a-uuid/weather", nil).must(t, http.StatusNotFound)
		h.exec(`UPDATE sites SET deleted_at = now() WHERE id = $1`, u.SiteID)
		h.do(owner, "GET", path, nil).must(t, http.StatusNotFound)
	})
}
