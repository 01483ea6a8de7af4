package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/testenv"
)

type healthBody struct {
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
}

// apiHealth builds the api function as deployed (a fresh instance, so no
// cached answer) and asks its GET /healthz.
func apiHealth(t *testing.T, env map[string]string) healthBody {
	t.Helper()
	built, err := app.Build(app.API, env)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	built.HTTP.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var b healthBody
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &b) != nil {
		t.Fatalf("healthz %d %s", rec.Code, rec.Body)
	}
	return b
}

// Monitoring the monitor: the api's GET /healthz says "degraded", with the
// reason, while the alert sweeper has never run, once its last successful
// sweep is more than 3 minutes old, and while a notification has been due
// for more than 2 minutes; a real sweeper run (the function as deployed)
// writes the heartbeat that makes it "ok".
func TestAPIHealthzReportsTheSweeper(t *testing.T) {
	db, dsn := testenv.OpenDB(t)
	env := testenv.Environment(map[string]string{"DATABASE_URL": dsn})
	ctx := context.Background()

	if h := apiHealth(t, env); h.Status != "degraded" || len(h.Reasons) != 1 || !strings.Contains(h.Reasons[0], "never recorded a run") {
		t.Fatalf("before any sweep: %+v", h)
	}

	sweeper, err := app.Build(app.AlertSweeper, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := sweeper.Job(ctx); err != nil {
		t.Fatalf("sweeper run: %v", err)
	}
	if h := apiHealth(t, env); h.Status != "ok" || len(h.Reasons) != 0 {
		t.Fatalf("after a successful sweep: %+v", h)
	}
	var report string
	if err := testenv.Pool(db).QueryRow(ctx, `SELECT last_report::text FROM sweeper_heartbeat`).Scan(&report); err != nil ||
		!strings.Contains(report, `"dispatch-last"`) || !strings.Contains(report, `"checkins"`) {
		t.Fatalf("heartbeat report %s (%v)", report, err)
	}

	// The sweeper stopped 4 minutes ago, its last run failed.
	if _, err := testenv.Pool(db).Exec(ctx, `UPDATE sweeper_heartbeat SET last_success_at = now() - interval '4 minutes',
		last_finished_at = now() - interval '1 minute', last_error = 'checkins: ran out of time'`); err != nil {
		t.Fatal(err)
	}
	h := apiHealth(t, env)
	if h.Status != "degraded" || len(h.Reasons) != 1 || !strings.Contains(h.Reasons[0], "last successful sweep finished 4m") ||
		!strings.Contains(h.Reasons[0], "ran out of time") {
		t.Fatalf("stale sweep: %+v", h)
	}

	// Recent sweep, but a notification due 3 minutes ago is still waiting.
	var org string
	if err := testenv.Pool(db).QueryRow(ctx, `INSERT INTO organizations (name, slug) VALUES ('O', 'o-health') RETURNING id`).Scan(&org); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.Pool(db).Exec(ctx, `UPDATE sweeper_heartbeat SET last_success_at = now(), last_error = NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.Pool(db).Exec(ctx, `INSERT INTO notifications (organization_id, kind, recipient, channel, body, next_attempt_at, created_at)
		VALUES ($1, 'test', '+15555550101', 'sms', 'hello', $2, $2)`, org, time.Now().Add(-3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	h = apiHealth(t, env)
	if h.Status != "degraded" || len(h.Reasons) != 1 || !strings.Contains(h.Reasons[0], "notifications have been due for 3m") {
		t.Fatalf("a notification waiting: %+v", h)
	}
	// The next sweep sends it (dispatch runs first): healthy again.
	if err := sweeper.Job(ctx); err != nil {
		t.Fatal(err)
	}
	if h := apiHealth(t, env); h.Status != "ok" {
		t.Fatalf("after the sweep sent it: %+v", h)
	}
}
