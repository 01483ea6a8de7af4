//go:build linux

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/devstack"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
	"github.com/frostguard/functions/shared/web"
)

// With the S3 server stopped, the routes that need it answer 503
// UNAVAILABLE in the JSON error envelope at once (connection refused is
// classified as retryable), and everything else is unaffected.
//
// Presigning is local (SigV4 over the URL, no request to S3), so creating
// an upload and getting a ready asset's download link still answer 201 and
// 200 during the outage. That is deliberate: probing S3 first would add a
// round trip to every call and still race with an outage starting a moment
// later; the browser's PUT or GET to S3 fails visibly instead, the links
// stay valid for their TTL (15 and 5 minutes) and work once S3 is back, and
// nothing is recorded as uploaded until confirm, which asks S3 and answers
// 503 while it is down. The test checks all of that.
func TestS3StoppedAssetRoutesAnswer503(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	e := outageSetup(t, s3.Environment())

	// Before: an asset uploaded and confirmed, one uploaded but not confirmed.
	ready := e.s3Create("create ready")
	e.s3Upload(ready)
	e.expect("confirm ready", e.api(http.MethodPost, e.orgPath("/assets/"+ready.Asset.ID+"/confirm"), ""), http.StatusOK)
	pending := e.s3Create("create pending")
	e.s3Upload(pending)

	s3.Stop()
	down := func(name string, r outageResp) {
		t.Helper()
		e.s3Unavailable(name, r, outageMaxLatency)
	}
	// Presigned while S3 is down: answered, but the browser's PUT fails.
	late := e.s3Create("create, S3 stopped")
	if status, err := e.s3Send(late.Upload.Method, late.Upload.URL, late.Upload.Headers, s3PNG); err == nil {
		t.Fatalf("upload to a stopped S3 answered %d", status)
	}
	down("confirm, S3 stopped", e.api(http.MethodPost, e.orgPath("/assets/"+pending.Asset.ID+"/confirm"), ""))
	link := e.s3DownloadLink("get ready asset, S3 stopped", ready.Asset.ID)
	if _, err := e.s3Send(http.MethodGet, link, nil, nil); err == nil {
		t.Error("download from a stopped S3 succeeded")
	}
	down("delete, S3 stopped", e.api(http.MethodDelete, e.orgPath("/assets/"+ready.Asset.ID), ""))
	// The object goes first: a failed delete keeps the row (and the object).
	e.s3DownloadLink("get ready asset after the failed delete", ready.Asset.ID)

	// HACCP reports: asked as a link, or large enough to go through S3
	// (2 units x 366 days > 620 unit-days), they need S3; small inline ones
	// do not. The second unit is itself a write during the outage.
	var area string
	if err := testenv.Pool(e.db).QueryRow(context.Background(), `SELECT area_id FROM units WHERE id = $1`, e.seed.UnitID).Scan(&area); err != nil {
		t.Fatal(err)
	}
	e.expect("POST units, S3 stopped", e.api(http.MethodPost, e.orgPath("/units"),
		`{"area_id":"`+area+`","name":"Reach-in 2","temp_min_c":0,"temp_max_c":5}`), http.StatusCreated)
	today := time.Now().UTC()
	year := "from=" + today.AddDate(-1, 0, 1).Format("2006-01-02") + "&to=" + today.Format("2006-01-02")
	week := "from=" + today.AddDate(0, 0, -7).Format("2006-01-02") + "&to=" + today.Format("2006-01-02")
	down("report as a link, S3 stopped", e.api(http.MethodGet, e.orgPath("/reports/haccp?delivery=link&format=csv&"+week), ""))
	down("large report, S3 stopped", e.api(http.MethodGet, e.orgPath("/reports/haccp?format=csv&"+year), ""))
	e.expect("small inline report, S3 stopped", e.api(http.MethodGet, e.orgPath("/reports/haccp?format=csv&"+week), ""), http.StatusOK)

	// Nothing else needs S3.
	for _, p := range []string{"/dashboard", "/units", "/units/" + e.seed.UnitID + "/readings", "/readings/latest", "/alerts", "/assets", "/sites"} {
		e.expect("GET "+p+", S3 stopped", e.api(http.MethodGet, e.orgPath(p), ""), http.StatusOK)
	}
	e.expect("GET /me, S3 stopped", e.api(http.MethodGet, "/api/v1/me", ""), http.StatusOK)

	s3.Start()
	// The URL minted during the outage works now, and so does everything.
	e.s3Upload(late)
	e.expect("confirm the late upload", e.api(http.MethodPost, e.orgPath("/assets/"+late.Asset.ID+"/confirm"), ""), http.StatusOK)
	e.expect("confirm pending", e.api(http.MethodPost, e.orgPath("/assets/"+pending.Asset.ID+"/confirm"), ""), http.StatusOK)
	if status, err := e.s3Send(http.MethodGet, link, nil, nil); err != nil || status != http.StatusOK {
		t.Errorf("the download link given during the outage: %d %v", status, err)
	}
	e.expect("delete", e.api(http.MethodDelete, e.orgPath("/assets/"+ready.Asset.ID), ""), http.StatusNoContent)
	e.expect("get deleted", e.api(http.MethodGet, e.orgPath("/assets/"+ready.Asset.ID), ""), http.StatusNotFound)
	var rep struct {
		Download struct {
			URL       string `json:"url"`
			SizeBytes int    `json:"size_bytes"`
		} `json:"download"`
	}
	e.expect("large report", e.api(http.MethodGet, e.orgPath("/reports/haccp?format=csv&"+year), ""), http.StatusOK).decode(t, &rep)
	if status, err := e.s3Send(http.MethodGet, rep.Download.URL, nil, nil); err != nil || status != http.StatusOK || rep.Download.SizeBytes == 0 {
		t.Errorf("report download: %d %v (%d bytes)", status, err, rep.Download.SizeBytes)
	}
}

// s3LambdaBudget: the api's Lambda timeout is 10 s (template.yaml). An
// answer later than this would in production be the gateway's bare 503
// from a timed-out function, not our envelope.
const s3LambdaBudget = 8 * time.Second

// TestS3FrozenAnswers503WithinTheLambdaTimeout freezes the S3 server
// (SIGSTOP: connections complete, requests hang, like a partitioned or
// overloaded S3). The calls that need it must still answer 503 UNAVAILABLE
// before the api's Lambda timeout: storage bounds each call to 5 s.
func TestS3FrozenAnswers503WithinTheLambdaTimeout(t *testing.T) {
	t.Parallel()
	s3 := testenv.StartS3(t)
	e := outageSetup(t, s3.Environment())
	ready := e.s3Create("create ready")
	e.s3Upload(ready)
	e.expect("confirm ready", e.api(http.MethodPost, e.orgPath("/assets/"+ready.Asset.ID+"/confirm"), ""), http.StatusOK)
	pending := e.s3Create("create pending")
	e.s3Upload(pending)

	s3.Freeze()
	// Both at once: each waits out the storage timeout.
	calls := []struct{ name, method, path string }{
		{"confirm, S3 frozen", http.MethodPost, e.orgPath("/assets/" + pending.Asset.ID + "/confirm")},
		{"delete, S3 frozen", http.MethodDelete, e.orgPath("/assets/" + ready.Asset.ID)},
	}
	answers := make([]outageResp, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() { answers[i] = e.api(c.method, c.path, "") })
	}
	// Meanwhile nothing else waits on S3.
	e.expect("GET dashboard, S3 frozen", e.api(http.MethodGet, e.orgPath("/dashboard"), ""), http.StatusOK)
	wg.Wait()
	for i, c := range calls {
		e.s3Unavailable(c.name, answers[i], s3LambdaBudget)
	}
	s3.Thaw()
	e.expect("confirm pending, S3 thawed", e.api(http.MethodPost, e.orgPath("/assets/"+pending.Asset.ID+"/confirm"), ""), http.StatusOK)
	e.expect("delete, S3 thawed", e.api(http.MethodDelete, e.orgPath("/assets/"+ready.Asset.ID), ""), http.StatusNoContent)
}

// s3Unavailable checks a 503 storage-unavailable answer in the JSON error
// envelope, within bound.
func (e *outageEnv) s3Unavailable(name string, r outageResp, bound time.Duration) {
	e.t.Helper()
	e.expectWithin(name, r, http.StatusServiceUnavailable, bound)
	var body web.ErrorBody
	r.decode(e.t, &body)
	if body.Error.Code != "UNAVAILABLE" || !strings.Contains(body.Error.Message, "file storage is unavailable") ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		e.t.Errorf("%s: not the storage-unavailable error envelope: %s", name, r.Body)
	}
}

// s3PNG is the uploaded file.
var s3PNG = []byte("\x89PNG\r\n\x1a\n fake image bytes for the outage test")

type s3Created struct {
	Asset struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"asset"`
	Upload struct {
		URL     string            `json:"url"`
		Method  string            `json:"method"`
		Headers map[string]string `json:"headers"`
	} `json:"upload"`
}

// s3Create asks for a unit photo upload.
func (e *outageEnv) s3Create(name string) s3Created {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"kind": "unit_photo", "entity_id": e.seed.UnitID,
		"content_type": "image/png", "size_bytes": len(s3PNG)})
	var c s3Created
	e.expect(name, e.api(http.MethodPost, e.orgPath("/assets"), string(body)), http.StatusCreated).decode(e.t, &c)
	if c.Asset.Status != "pending" || c.Upload.URL == "" {
		e.t.Fatalf("%s: %+v", name, c)
	}
	return c
}

// s3Upload PUTs the file to the presigned URL, as the browser does.
func (e *outageEnv) s3Upload(c s3Created) {
	e.t.Helper()
	if status, err := e.s3Send(c.Upload.Method, c.Upload.URL, c.Upload.Headers, s3PNG); err != nil || status != http.StatusOK {
		e.t.Fatalf("upload: %d %v", status, err)
	}
}

// s3DownloadLink gets a ready asset and returns its download link.
func (e *outageEnv) s3DownloadLink(name, id string) string {
	e.t.Helper()
	var a struct {
		Status   string `json:"status"`
		Download *struct {
			URL string `json:"url"`
		} `json:"download"`
	}
	e.expect(name, e.api(http.MethodGet, e.orgPath("/assets/"+id), ""), http.StatusOK).decode(e.t, &a)
	if a.Status != "ready" || a.Download == nil || a.Download.URL == "" {
		e.t.Fatalf("%s: no download link (%+v)", name, a)
	}
	return a.Download.URL
}

// s3Send sends a request straight to S3 (a presigned URL); err is a
// transport failure.
func (e *outageEnv) s3Send(method, url string, headers map[string]string, body []byte) (int, error) {
	e.t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		if k != "Content-Length" { // net/http sends the body's own
			req.Header.Set(k, v)
		}
	}
	req.ContentLength = int64(len(body))
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// --- shared by the Redis and S3 outage tests

// outageMaxLatency bounds every request during an outage: generous enough
// for a loaded CI machine, far below a timeout paid per request.
const outageMaxLatency = 2 * time.Second

// outageEnv is the whole collection as `make dev` assembles it
// (app.NewLocal: every function built from one environment, as its main
// does), over a fresh database with the demo seed, and tokens the api
// verifies against a local JWKS.
type outageEnv struct {
	t       *testing.T
	db      *store.DB
	local   *app.Local
	seed    devstack.SeedFile
	secrets devstack.Secrets
}

func outageSetup(t *testing.T, overrides map[string]string) *outageEnv {
	t.Helper()
	dsn := testenv.NewDatabase(t)
	db := testenv.Open(t, dsn, 4)
	t.Cleanup(db.Close)
	secrets, keys := testenv.DevIdentity(t)
	env := testenv.Environment(map[string]string{"DATABASE_URL": dsn, "DB_MAX_CONNS": "4"})
	// The dev identity, webhook secret and Telnyx key instead of the
	// placeholders: devstack.Environment fills what is unset.
	for _, k := range []string{"STACK_AUTH_PROJECT_ID", "STRIPE_WEBHOOK_SECRET", "TELNYX_PUBLIC_KEY"} {
		delete(env, k)
	}
	for k, v := range overrides {
		env[k] = v
	}
	env = devstack.Environment(env, secrets, keys)
	outageQuiet(t)
	var err error
	e := &outageEnv{t: t, db: db, secrets: secrets}
	if e.seed, err = devstack.Seed(context.Background(), db, secrets, devstack.SeedOptions{Environment: env, TokenTTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if e.local, err = app.NewLocal(env, nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *outageEnv) orgPath(suffix string) string { return "/api/v1/orgs/" + e.seed.OrgID + suffix }

func (e *outageEnv) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := testenv.Pool(e.db).Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatalf("%v\n%s", err, sql)
	}
}

// outageResp is an answer and how long it took.
type outageResp struct {
	Status int
	Body   []byte
	Header http.Header
	Took   time.Duration
}

func (r outageResp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("not the expected JSON (%v): %s", err, r.Body)
	}
}

// do sends a request to the collection (token "" for none).
func (e *outageEnv) do(method, path, token, body string, headers map[string]string) outageResp {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	start := time.Now()
	e.local.Handler.ServeHTTP(rec, req)
	return outageResp{Status: rec.Code, Body: rec.Body.Bytes(), Header: rec.Header(), Took: time.Since(start)}
}

// api calls the api as the demo organisation's owner.
func (e *outageEnv) api(method, path, body string) outageResp {
	return e.do(method, path, e.seed.Token, body, nil)
}

// expect fails the test unless r has status want and came within
// outageMaxLatency; it logs the latency either way.
func (e *outageEnv) expect(name string, r outageResp, want int) outageResp {
	e.t.Helper()
	return e.expectWithin(name, r, want, outageMaxLatency)
}

func (e *outageEnv) expectWithin(name string, r outageResp, want int, bound time.Duration) outageResp {
	e.t.Helper()
	e.t.Logf("%-45s %d in %v", name, r.Status, r.Took.Round(time.Microsecond))
	if r.Status != want {
		e.t.Fatalf("%s: status %d, want %d: %s", name, r.Status, want, r.Body)
	}
	if r.Took > bound {
		e.t.Errorf("%s took %v (bound %v)", name, r.Took, bound)
	}
	return r
}

// outageQuiet silences the functions' logs while any outage test runs (an
// outage logs every 503 and every cache failure; the tests log each request
// themselves). Counted, since the outage tests run in parallel: the last
// one to end restores the logger.
func outageQuiet(t *testing.T) {
	outageQuietMu.Lock()
	defer outageQuietMu.Unlock()
	if outageQuietN == 0 {
		outageQuietPrev = slog.Default()
		slog.SetDefault(slog.New(slog.DiscardHandler))
	}
	outageQuietN++
	t.Cleanup(func() {
		outageQuietMu.Lock()
		defer outageQuietMu.Unlock()
		if outageQuietN--; outageQuietN == 0 {
			slog.SetDefault(outageQuietPrev)
		}
	})
}

var (
	outageQuietMu   sync.Mutex
	outageQuietN    int
	outageQuietPrev *slog.Logger
)

// outageEventually polls cond until it holds or timeout passes.
func outageEventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(200 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
	}
}
