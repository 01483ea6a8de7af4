package api

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/sitecontext"
	"github.com/frostguard/functions/shared/testenv"
)

// fakeNominatim stands in for Nominatim's search: it checks the request,
// refuses generic library User-Agents with 403 like the real service, and
// records when each request arrived.
type fakeNominatim struct {
	*httptest.Server
	mu       sync.Mutex
	arrivals []time.Time
	agents   []string
	queries  []string
}

func newFakeNominatim(t *testing.T) *fakeNominatim {
	f := &fakeNominatim{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.arrivals = append(f.arrivals, time.Now())
		f.agents = append(f.agents, r.UserAgent())
		f.queries = append(f.queries, r.URL.Query().Get("q"))
		f.mu.Unlock()
		ua := r.UserAgent()
		if ua == "" || strings.HasPrefix(ua, "Go-http-client") {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("<html>Access blocked: see the usage policy</html>"))
			return
		}
		q := r.URL.Query()
		if r.URL.Path != "/search" || q.Get("format") != "jsonv2" || q.Get("limit") != "5" || q.Get("addressdetails") != "1" || q.Get("q") == "" {
			t.Errorf("unexpected upstream request %s", r.URL)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if strings.HasPrefix(q.Get("q"), "fail") {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("upstream secret"))
			return
		}
		_, _ = fmt.Fprintf(w, `[{"place_id":1,"lat":"51.5033635","lon":"-0.1276248","display_name":"10 Downing Street, London, SW1A 2AA, United Kingdom",
			"address":{"house_number":"10","road":"Downing Street","city":"London","state":"England","postcode":"SW1A 2AA","country":"United Kingdom","country_code":"gb"}},
			{"place_id":2,"lat":"45.1","lon":"7.2","display_name":"Somewhere %s","address":{"village":"Somewhere","country_code":"it"}},
			{"place_id":3,"lat":"not a number","lon":"0","display_name":"Broken"}]`, url.QueryEscape(q.Get("q")))
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeNominatim) hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.arrivals)
}

type geocodeBody struct {
	Items []struct {
		DisplayName  string  `json:"display_name"`
		Latitude     float64 `json:"latitude"`
		Longitude    float64 `json:"longitude"`
		CountryCode  *string `json:"country_code"`
		City         *string `json:"city"`
		Postcode     *string `json:"postcode"`
		Region       *string `json:"region"`
		AddressLine1 *string `json:"address_line1"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func geocodeSetup(t *testing.T, h *harness) (owner *testUser, orgID string, f *fakeNominatim) {
	owner = h.user("owner")
	orgID = h.org("Alpha", owner)
	f = newFakeNominatim(t)
	h.srv.SiteContext.GeocodeBaseURL = f.URL
	h.srv.SiteContext.GeocodeUserAgent = "FrostGuard-test/1.0 (ops@example.test)"
	h.srv.Cache = testCache(t, testenv.Require(t, "REDIS_URL"))
	return
}

func geocodePath(orgID, q string) string {
	return "/api/v1/orgs/" + orgID + "/geocode?q=" + url.QueryEscape(q)
}

func TestGeocode(t *testing.T) {
	h := newHarness(t)
	owner, orgID, f := geocodeSetup(t, h)
	q := fmt.Sprintf("10 Downing Street %d", rand.Int64())
	h.srv.Cache.Delete(context.Background(), sitecontext.GeocodeCacheKey(q))

	var b geocodeBody
	h.do(owner, "GET", geocodePath(orgID, q), nil).must(t, http.StatusOK).JSON(t, &b)
	if len(b.Items) != 2 {
		t.Fatalf("%d items, want 2 (the unparseable one dropped): %+v", len(b.Items), b)
	}
	p := b.Items[0]
	if p.Latitude != 51.5033635 || p.Longitude != -0.1276248 || !strings.HasPrefix(p.DisplayName, "10 Downing Street") ||
		p.CountryCode == nil || *p.CountryCode != "GB" || p.City == nil || *p.City != "London" || p.Postcode == nil || *p.Postcode != "SW1A 2AA" ||
		p.Region == nil || *p.Region != "England" || p.AddressLine1 == nil || *p.AddressLine1 != "10 Downing Street" {
		t.Errorf("first place: %+v", p)
	}
	if v := b.Items[1]; v.City == nil || *v.City != "Somewhere" || v.Postcode != nil || *v.CountryCode != "IT" {
		t.Errorf("second place: %+v", v)
	}
	if f.agents[0] != "FrostGuard-test/1.0 (ops@example.test)" || f.queries[0] != strings.ToLower(q) {
		t.Errorf("upstream saw User-Agent %q, q %q", f.agents[0], f.queries[0])
	}

	// Cache hit: the same query in another case and spacing.
	messy := "  " + strings.ToUpper(strings.ReplaceAll(q, " ", "   ")) + " "
	var c geocodeBody
	h.do(owner, "GET", geocodePath(orgID, messy), nil).must(t, http.StatusOK).JSON(t, &c)
	if f.hits() != 1 || len(c.Items) != 2 || c.Items[0].DisplayName != p.DisplayName {
		t.Errorf("cache hit: %d upstream requests, %+v", f.hits(), c)
	}

	t.Run("no User-Agent configured: the default, never Go's", func(t *testing.T) {
		h.srv.SiteContext.GeocodeUserAgent = ""
		defer func() { h.srv.SiteContext.GeocodeUserAgent = "FrostGuard-test/1.0 (ops@example.test)" }()
		q := fmt.Sprintf("default agent %d", rand.Int64())
		h.do(owner, "GET", geocodePath(orgID, q), nil).must(t, http.StatusOK)
		if got := f.agents[len(f.agents)-1]; got != sitecontext.DefaultUserAgent {
			t.Errorf("User-Agent %q", got)
		}
	})
	t.Run("redis down", func(t *testing.T) {
		prev := h.srv.Cache
		h.srv.Cache = testCache(t, "redis://127.0.0.1:1/0")
		defer func() { h.srv.Cache = prev }()
		before := f.hits()
		for range 2 {
			h.do(owner, "GET", geocodePath(orgID, q), nil).must(t, http.StatusOK)
		}
		if f.hits() != before+2 {
			t.Errorf("without Redis each search goes upstream: %d, want %d", f.hits(), before+2)
		}
	})
	t.Run("upstream failure", func(t *testing.T) {
		r := h.do(owner, "GET", geocodePath(orgID, fmt.Sprintf("fail %d", rand.Int64())), nil).must(t, http.StatusBadGateway)
		if r.ErrorCode() != "UPSTREAM_FAILED" || strings.Contains(string(r.Body), "secret") {
			t.Errorf("body: %s", r.Body)
		}
	})
	t.Run("q validation", func(t *testing.T) {
		hits := f.hits()
		for _, bad := range []string{"", "   ", "ab", "  ab  ", strings.Repeat("x", 201)} {
			r := h.do(owner, "GET", geocodePath(orgID, bad), nil).must(t, http.StatusBadRequest)
			if !strings.Contains(string(r.Body), `"field":"q"`) {
				t.Errorf("q=%q: %s", bad, r.Body)
			}
		}
		h.do(owner, "GET", "/api/v1/orgs/"+orgID+"/geocode", nil).must(t, http.StatusBadRequest)
		if f.hits() != hits {
			t.Errorf("invalid queries reached the upstream")
		}
	})
	t.Run("roles and tenants", func(t *testing.T) {
		for _, role := range []access.Role{access.Viewer, access.Staff, access.Manager, access.Inspector} {
			u := h.user(string(role))
			h.member(orgID, u, role)
			h.do(u, "GET", geocodePath(orgID, q), nil).must(t, http.StatusForbidden)
		}
		admin := h.user("admin")
		h.member(orgID, admin, access.Admin)
		h.do(admin, "GET", geocodePath(orgID, q), nil).must(t, http.StatusOK)
		other := h.user("other")
		h.org("Beta", other)
		h.do(other, "GET", geocodePath(orgID, q), nil).must(t, http.StatusNotFound)
		h.do(nil, "GET", geocodePath(orgID, q), nil).must(t, http.StatusUnauthorized)
	})
}

// TestGeocodeOneRequestPerSecond: concurrent searches for distinct
// addresses reach Nominatim at least a second apart.
func TestGeocodeOneRequestPerSecond(t *testing.T) {
	h := newHarness(t)
	owner, orgID, f := geocodeSetup(t, h)
	const n = 5
	var wg sync.WaitGroup
	statuses := make([]int, n)
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = h.do(owner, "GET", geocodePath(orgID, fmt.Sprintf("street %d of %d", i, rand.Int64())), nil).Status
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	f.mu.Lock()
	arrivals := append([]time.Time(nil), f.arrivals...)
	f.mu.Unlock()
	if len(arrivals) != n {
		t.Fatalf("%d upstream requests, want %d", len(arrivals), n)
	}
	sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].Before(arrivals[j]) })
	for i := 1; i < n; i++ {
		if gap := arrivals[i].Sub(arrivals[i-1]); gap < 950*time.Millisecond {
			t.Errorf("requests %d and %d reached Nominatim %s apart", i-1, i, gap)
		}
	}
	if elapsed > 6*time.Second {
		t.Errorf("%d searches took %s", n, elapsed)
	}
}

// TestGeocodeWaitsForOtherInstances: another instance holding the Redis
// ticket delays this one's request until the ticket expires.
func TestGeocodeWaitsForOtherInstances(t *testing.T) {
	h := newHarness(t)
	owner, orgID, f := geocodeSetup(t, h)
	if _, ok := any(h.srv.Cache).(sitecontext.Tickets); !ok {
		t.Skip("cache.Cache has no SetNX yet: instances share no ticket (see /tmp/issue7_cache_setnx.patch)")
	}
	opts, err := redis.ParseURL(testenv.Require(t, "REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	// Past the in-process spacing left by earlier tests, so only the
	// ticket can explain a wait.
	time.Sleep(sitecontext.GeocodeInterval)
	held := time.Now()
	if err := rdb.Set(context.Background(), sitecontext.GeocodeTicketKey, "other", 1500*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	h.do(owner, "GET", geocodePath(orgID, fmt.Sprintf("ticket %d", rand.Int64())), nil).must(t, http.StatusOK)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.arrivals) != 1 || f.arrivals[0].Sub(held) < 1400*time.Millisecond {
		t.Errorf("the request reached Nominatim %s after another instance took the ticket for 1.5 s", f.arrivals[0].Sub(held))
	}
}
