//go:build linux

package faults

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/testenv"
)

// Redis only makes things faster (docs/ARCHITECTURE.md "Layers"): with the cache stopped or
// hung, every function must keep answering, from PostgreSQL and the
// providers, without paying a Redis timeout on every request. Each test
// owns its redis-server (testenv.StartRedis): the stack's shared one serves
// every other package running in parallel.

// redisWeather fakes Open-Meteo's forecast API and counts the calls, which
// tells a cache hit (no call) from a miss.
type redisWeather struct {
	*httptest.Server
	calls atomic.Int64
}

const redisWeatherC = 4.5 // the current temperature the fake reports

func redisNewWeather(t *testing.T) *redisWeather {
	f := &redisWeather{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/forecast" || r.URL.Query().Get("latitude") == "" {
			http.Error(w, `{"error":true,"reason":"bad request"}`, http.StatusBadRequest)
			return
		}
		f.calls.Add(1)
		now := time.Now().UTC().Truncate(time.Hour)
		var times []string
		var temps, hums []float64
		for i := 3; i >= 0; i-- {
			times = append(times, now.Add(-time.Duration(i)*time.Hour).Format("2006-01-02T15:04"))
			temps, hums = append(temps, redisWeatherC-float64(i)), append(hums, 80)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"current": map[string]any{"time": now.Format("2006-01-02T15:04"), "temperature_2m": redisWeatherC,
				"relative_humidity_2m": 80, "weather_code": 3},
			"hourly": map[string]any{"time": times, "temperature_2m": temps, "relative_humidity_2m": hums},
		})
	}))
	t.Cleanup(f.Close)
	return f
}

// redisNominatim fakes Nominatim's search and counts the calls.
type redisNominatim struct {
	*httptest.Server
	calls atomic.Int64
}

func redisNewNominatim(t *testing.T) *redisNominatim {
	f := &redisNominatim{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/search" || r.Header.Get("User-Agent") == "" {
			http.Error(w, "bad request", http.StatusForbidden)
			return
		}
		f.calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"display_name":"1 Main Street, Springfield","lat":"40.71","lon":"-74.01",
			"address":{"house_number":"1","road":"Main Street","city":"Springfield","postcode":"12345","state":"NY","country_code":"us"}}]`)
	}))
	t.Cleanup(f.Close)
	return f
}

// redisStack is the collection with a private Redis and fake providers.
type redisStack struct {
	*outageEnv
	rds     *testenv.Redis
	weather *redisWeather
	geo     *redisNominatim
}

func redisSetup(t *testing.T) *redisStack {
	t.Helper()
	rds := testenv.StartRedis(t)
	s := &redisStack{rds: rds, weather: redisNewWeather(t), geo: redisNewNominatim(t)}
	s.outageEnv = outageSetup(t, map[string]string{"REDIS_URL": rds.URL(),
		"OPEN_METEO_BASE_URL": s.weather.URL, "NOMINATIM_BASE_URL": s.geo.URL,
		"STRIPE_MOCK_URL": testenv.Require(t, "STRIPE_MOCK_URL")})
	s.exec(`UPDATE sites SET latitude = 40.7128, longitude = -74.006 WHERE id = $1`, s.seed.SiteID)
	return s
}

func (s *redisStack) weatherPath() string {
	return s.orgPath("/sites/" + s.seed.SiteID + "/weather")
}

// getWeather asks for the site's weather, checks the answer, logs the
// latency and reports whether the answer came from the provider (a miss).
func (s *redisStack) getWeather(name string) (outageResp, bool) {
	s.t.Helper()
	r, miss := s.weatherOnce(name)
	s.expect(name, r, http.StatusOK)
	return r, miss
}

// weatherOnce is getWeather without the log line (for polling).
func (s *redisStack) weatherOnce(name string) (outageResp, bool) {
	s.t.Helper()
	before := s.weather.calls.Load()
	r := s.api(http.MethodGet, s.weatherPath(), "")
	var body struct {
		SiteID  string `json:"site_id"`
		Current struct {
			TemperatureC *float64 `json:"temperature_c"`
		} `json:"current"`
		Hourly []json.RawMessage `json:"hourly"`
	}
	if r.Status != http.StatusOK {
		s.t.Fatalf("%s: status %d: %s", name, r.Status, r.Body)
	}
	r.decode(s.t, &body)
	if body.SiteID != s.seed.SiteID || body.Current.TemperatureC == nil || *body.Current.TemperatureC != redisWeatherC || len(body.Hourly) == 0 {
		s.t.Fatalf("%s: wrong weather %s", name, r.Body)
	}
	return r, s.weather.calls.Load() > before
}

// cachingResumes polls until a weather request is answered from Redis. The
// cache skips Redis for 5 s after a failure (cache.backoff), so this takes
// up to that long; the deadline is generous.
func (s *redisStack) cachingResumes() {
	s.t.Helper()
	start := time.Now()
	polls := 0
	outageEventually(s.t, 15*time.Second, "weather served from Redis again", func() bool {
		polls++
		r, miss := s.weatherOnce("weather after restart")
		if r.Took > outageMaxLatency {
			s.t.Errorf("weather after restart took %v", r.Took)
		}
		return !miss
	})
	s.t.Logf("caching resumed %v after Redis came back (%d requests)", time.Since(start).Round(time.Millisecond), polls)
}

// TestRedisStoppedEveryFunctionKeepsWorking stops Redis and drives every
// function's main routes: each answers as it would with Redis, none with a
// 5xx, within the latency bound; weather and geocoding go to the provider
// on every request. Started again, Redis is used again.
func TestRedisStoppedEveryFunctionKeepsWorking(t *testing.T) {
	t.Parallel()
	s := redisSetup(t)

	// Redis up: the second request is a cache hit.
	if _, miss := s.getWeather("weather, cold"); !miss {
		t.Fatal("the first weather request did not reach the provider")
	}
	if _, miss := s.getWeather("weather, warm"); miss {
		t.Fatal("the second weather request was not served from Redis")
	}

	s.rds.Stop()
	var worst time.Duration
	note := func(r outageResp) {
		worst = max(worst, r.Took)
	}
	// Weather: every request is a miss now, answered from the provider.
	for i := range 3 {
		r, miss := s.getWeather("weather, Redis stopped " + strconv.Itoa(i))
		note(r)
		if !miss {
			t.Fatal("weather answered from a stopped Redis?")
		}
	}
	geo := s.expect("geocode, Redis stopped", s.api(http.MethodGet, s.orgPath("/geocode?q=1+Main+Street+Springfield"), ""), http.StatusOK)
	note(geo)
	if !strings.Contains(string(geo.Body), "Main Street") || s.geo.calls.Load() != 1 {
		t.Fatalf("geocode: %s (%d provider calls)", geo.Body, s.geo.calls.Load())
	}
	for _, r := range s.redisRoutes() {
		note(r)
	}
	// The sweeper: every task, then the dispatch of what the uplink queued.
	start := time.Now()
	if err := s.local.Jobs[app.AlertSweeper](context.Background()); err != nil {
		t.Fatalf("alert-sweeper with Redis stopped: %v", err)
	}
	t.Logf("alert-sweeper run with Redis stopped: %v", time.Since(start).Round(time.Millisecond))
	t.Logf("slowest request with Redis stopped: %v", worst.Round(time.Microsecond))

	s.rds.Start()
	s.cachingResumes()
	// Geocoding answers are cached again too: one provider call for two.
	before := s.geo.calls.Load()
	for range 2 {
		s.expect("geocode after restart", s.api(http.MethodGet, s.orgPath("/geocode?q=10+Downing+Street"), ""), http.StatusOK)
	}
	if n := s.geo.calls.Load() - before; n != 1 {
		t.Errorf("geocode after restart: %d provider calls for two requests, want 1", n)
	}
}

// redisRoutes sends the main requests of each HTTP function (the api's
// reads and writes, both billing functions, the three webhooks) and checks
// their answers.
func (s *redisStack) redisRoutes() []outageResp {
	t := s.t
	var out []outageResp
	check := func(name string, r outageResp, want int, contains string) {
		t.Helper()
		s.expect(name, r, want)
		if contains != "" && !strings.Contains(string(r.Body), contains) {
			t.Errorf("%s: answer lacks %q: %s", name, contains, r.Body)
		}
		out = append(out, r)
	}
	// Every function answers; the api's own status reports the sweeper,
	// which has not run yet here (degraded), Redis or not.
	check("GET /healthz", s.do(http.MethodGet, "/healthz", "", "", nil), http.StatusOK, `"functions":`)
	check("GET /me", s.api(http.MethodGet, "/api/v1/me", ""), http.StatusOK, s.seed.OrgID)
	check("GET dashboard", s.api(http.MethodGet, s.orgPath("/dashboard"), ""), http.StatusOK, "")
	check("GET units", s.api(http.MethodGet, s.orgPath("/units"), ""), http.StatusOK, s.seed.UnitID)
	check("GET alerts", s.api(http.MethodGet, s.orgPath("/alerts"), ""), http.StatusOK, "")
	check("POST sites", s.api(http.MethodPost, s.orgPath("/sites"), `{"name":"Redis-less Depot"}`), http.StatusCreated, "Redis-less Depot")
	check("POST manual-logs", s.api(http.MethodPost, s.orgPath("/units/"+s.seed.UnitID+"/manual-logs"),
		`{"temperature":3.2,"temp_unit":"C","note":"cache down"}`), http.StatusCreated, "cache down")
	// stripe-checkout against stripe-mock
	check("POST billing/checkout", s.api(http.MethodPost, s.orgPath("/billing/checkout"), `{"plan":"pro"}`), http.StatusOK, "url")

	// ttn-webhook: an in-range uplink of the seeded sensor.
	at := time.Now().UTC().Format(time.RFC3339Nano)
	uplink := fmt.Sprintf(`{"end_device_ids":{"device_id":"probe","dev_eui":%q,"application_ids":{"application_id":%q}},
		"correlation_ids":["as:up:redis-outage"],"received_at":%q,
		"uplink_message":{"f_port":2,"f_cnt":7,"decoded_payload":{"TempC_SHT":3.4},"received_at":%q}}`,
		s.seed.SensorDevEUI, s.seed.TTNApplicationID, at, at)
	check("POST /webhooks/ttn", s.do(http.MethodPost, "/webhooks/ttn", "", uplink,
		map[string]string{"X-Webhook-Secret": s.seed.TTNWebhookSecret}), http.StatusOK, "")
	check("GET readings", s.api(http.MethodGet, s.orgPath("/readings/latest"), ""), http.StatusOK, "3.4")

	// telnyx-webhook: a signed receipt for a message we do not know.
	receipt := fmt.Sprintf(`{"data":{"record_type":"event","id":"7d3a3f1e-5b1c-4c47-9a51-2b8a0f6c1d01","event_type":"message.finalized",
		"occurred_at":%q,"payload":{"record_type":"message","direction":"outbound","id":"40318d6e-aaaa-4000-8000-000000000001",
		"type":"SMS","from":{"phone_number":"+15555550199"},"to":[{"phone_number":"+15555550100","status":"delivered"}],
		"text":"...","errors":[]}}}`, at)
	check("POST /webhooks/telnyx", s.do(http.MethodPost, "/webhooks/telnyx", "", receipt, s.telnyxSigned(receipt)),
		http.StatusOK, "unknown_message")

	// stripe-webhook: a signed event type we record and ignore.
	event := fmt.Sprintf(`{"id":"evt_redis_outage","object":"event","api_version":"2025-03-31.basil","created":%d,
		"type":"customer.created","livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},
		"data":{"object":{"id":"cus_RedisOutage","object":"customer"}}}`, time.Now().Unix())
	check("POST /webhooks/stripe", s.do(http.MethodPost, "/webhooks/stripe", "", event,
		map[string]string{"Stripe-Signature": redisStripeSignature(event, s.secrets.StripeWebhookSecret)}), http.StatusOK, "received")
	return out
}

// telnyxSigned returns the Telnyx signature headers over body.
func (s *redisStack) telnyxSigned(body string) map[string]string {
	seed, err := base64.StdEncoding.DecodeString(s.secrets.TelnyxPrivateKey)
	if err != nil {
		s.t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := ed25519.Sign(ed25519.NewKeyFromSeed(seed), []byte(ts+"|"+body))
	return map[string]string{"telnyx-timestamp": ts, "telnyx-signature-ed25519": base64.StdEncoding.EncodeToString(sig)}
}

// redisStripeSignature is Stripe's v1 scheme: HMAC-SHA256 of "t.body".
func redisStripeSignature(body, secret string) string {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + body))
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// TestRedisFrozenCostsOneTimeoutPerBackoff freezes Redis (SIGSTOP: the
// kernel still accepts connections, nothing answers, like a hung or
// partitioned server). A stopped Redis on loopback refuses at once, so it
// cannot catch a "wait out a timeout on every request" regression; a frozen
// one does: the first request pays the cache's read timeout (300 ms), then
// the cache skips Redis for its backoff. Checked without timing: Redis,
// thawed, reports how many connections arrived during the freeze.
func TestRedisFrozenCostsOneTimeoutPerBackoff(t *testing.T) {
	t.Parallel()
	s := redisSetup(t)
	s.getWeather("weather, cold")
	if _, miss := s.getWeather("weather, warm"); miss {
		t.Fatal("the second weather request was not served from Redis")
	}
	probe := redis.NewClient(&redis.Options{Addr: s.rds.Addr(), MaxRetries: 3})
	defer probe.Close()
	connsBefore := redisStat(t, probe, "total_connections_received")

	s.rds.Freeze()
	const requests = 10
	var took []string
	var worst time.Duration
	for i := range requests {
		r, miss := s.getWeather("weather, Redis frozen " + strconv.Itoa(i))
		if !miss {
			t.Fatal("weather answered from a frozen Redis?")
		}
		took = append(took, r.Took.Round(time.Millisecond).String())
		worst = max(worst, r.Took)
	}
	t.Logf("weather latencies with Redis frozen: %s (slowest %v)", strings.Join(took, " "), worst.Round(time.Millisecond))
	s.rds.Thaw()

	// The probe's connection predates the freeze. A request that finds no
	// idle connection dials one, so without the backoff each of the 10
	// would arrive here; with it, at most the first (0 or 1).
	conns := redisStat(t, probe, "total_connections_received") - connsBefore
	t.Logf("connections Redis received during %d requests while frozen: %d", requests, conns)
	if conns > 3 {
		t.Errorf("%d connections reached the frozen Redis for %d requests: the cache does not back off", conns, requests)
	}
	s.cachingResumes()
}

// redisStat reads one counter of INFO stats.
func redisStat(t *testing.T, c *redis.Client, name string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "stats").Result()
	if err != nil {
		t.Fatalf("INFO stats: %v", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("INFO stats has no %s", name)
	return 0
}
