package deploy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3/lock"

	"github.com/frostguard/functions/shared/deploy"
	"github.com/frostguard/functions/shared/host"
	"github.com/frostguard/functions/shared/store/migrations"
	"github.com/frostguard/functions/shared/testenv"
)

// fakeCloudFormation plays the pre-signed S3 URL a custom resource answers
// to. Like S3 it takes exactly one PUT to the signed path and query, refuses a
// Content-Type the URL was not signed with (403 SignatureDoesNotMatch), and
// CloudFormation refuses an answer over 4 KB or without the fields it needs.
type fakeCloudFormation struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	answers []cfn.Response
}

const signedPath = "/cloudformation-custom-resource-response-euwest1/arn%3Aaws%3Acloudformation%3Aeu-west-1%3A123456789012%3Astack/frostguard-dev/abc%7CDatabaseMigrations%7C0d4f"
const signedQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261207T120000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=7200&X-Amz-Signature=deadbeef"

func newFakeCloudFormation(t *testing.T) *fakeCloudFormation {
	f := &fakeCloudFormation{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodPut:
			http.Error(w, "MethodNotAllowed", http.StatusMethodNotAllowed)
			return
		case r.URL.EscapedPath() != signedPath || r.URL.RawQuery != signedQuery:
			http.Error(w, "NoSuchKey", http.StatusNotFound)
			return
		case r.Header.Get("Content-Type") != "":
			http.Error(w, "SignatureDoesNotMatch: content-type was not signed", http.StatusForbidden)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if len(body) > 4096 {
			http.Error(w, "EntityTooLarge", http.StatusBadRequest)
			return
		}
		var res cfn.Response
		if err := json.Unmarshal(body, &res); err != nil {
			t.Errorf("the answer is not JSON: %v: %s", err, body)
		}
		if res.RequestID == "" || res.StackID == "" || res.LogicalResourceID == "" || res.PhysicalResourceID == "" ||
			(res.Status != cfn.StatusSuccess && res.Status != cfn.StatusFailed) || (res.Status == cfn.StatusFailed && res.Reason == "") {
			t.Errorf("CloudFormation would reject this answer: %s", body)
		}
		f.mu.Lock()
		f.answers = append(f.answers, res)
		f.mu.Unlock()
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCloudFormation) event(kind cfn.RequestType, physicalID string) cfn.Event {
	return cfn.Event{
		RequestType:        kind,
		RequestID:          "7bfe2f3a-" + string(kind),
		ResponseURL:        f.srv.URL + signedPath + "?" + signedQuery,
		ResourceType:       "Custom::DatabaseMigrations",
		PhysicalResourceID: physicalID,
		LogicalResourceID:  "DatabaseMigrations",
		StackID:            "arn:aws:cloudformation:eu-west-1:123456789012:stack/frostguard-dev/abc",
		ResourceProperties: map[string]any{"ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:frostguard-dev-migrate", "CodeVersion": "3"},
	}
}

// invoke runs the handler exactly as Lambda would (host.LambdaCustomResource
// around shared/deploy) and returns CloudFormation's view of the answer.
func (f *fakeCloudFormation) invoke(ctx context.Context, databaseURL string, ev cfn.Event) cfn.Response {
	f.t.Helper()
	f.mu.Lock()
	before := len(f.answers)
	f.mu.Unlock()
	h := host.LambdaCustomResource(deploy.MigrationsResource(databaseURL, migrations.Migrate))
	if reason, err := h(ctx, ev); err != nil || reason != "" {
		f.t.Fatalf("the answer did not reach CloudFormation: %q %v", reason, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.answers) != before+1 {
		f.t.Fatalf("CloudFormation got %d answers, want exactly one", len(f.answers)-before)
	}
	return f.answers[len(f.answers)-1]
}

func schemaVersion(t *testing.T, dsn string) int64 {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v int64
	if err := conn.QueryRow(context.Background(), `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return 0
		}
		t.Fatal(err)
	}
	return v
}

func TestMigrationsResourceCreateAndUpdateBringTheSchemaToTheRelease(t *testing.T) {
	dsn := testenv.NewEmptyDatabase(t)
	cf := newFakeCloudFormation(t)
	want, err := migrations.SchemaVersion()
	if err != nil {
		t.Fatal(err)
	}

	res := cf.invoke(context.Background(), dsn, cf.event(cfn.RequestCreate, ""))
	if res.Status != cfn.StatusSuccess || res.PhysicalResourceID != deploy.SchemaResourceID {
		t.Fatalf("create: %+v", res)
	}
	if v, _ := res.Data["SchemaVersion"].(float64); int64(v) != want {
		t.Errorf("Data.SchemaVersion = %v, want %d", res.Data["SchemaVersion"], want)
	}
	if applied, _ := res.Data["Applied"].(float64); applied < 1 {
		t.Errorf("Data.Applied = %v on an empty database", res.Data["Applied"])
	}
	if got := schemaVersion(t, dsn); got != want {
		t.Errorf("database at version %d, the release embeds %d", got, want)
	}

	// The next release's deploy: nothing new to apply, still SUCCESS, same
	// physical id (a new one would make CloudFormation delete the old).
	res = cf.invoke(context.Background(), dsn, cf.event(cfn.RequestUpdate, deploy.SchemaResourceID))
	if res.Status != cfn.StatusSuccess || res.PhysicalResourceID != deploy.SchemaResourceID || res.Data["Applied"] != float64(0) {
		t.Fatalf("update: %+v", res)
	}
}

func TestMigrationsResourceFailureFailsTheDeploy(t *testing.T) {
	dsn := testenv.NewEmptyDatabase(t)
	cf := newFakeCloudFormation(t)
	// A table in the way of the first migration: it fails in its transaction.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), `CREATE TABLE organizations (id int)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())

	res := cf.invoke(context.Background(), dsn, cf.event(cfn.RequestUpdate, deploy.SchemaResourceID))
	if res.Status != cfn.StatusFailed {
		t.Fatalf("status %s, want FAILED (which rolls the deploy back): %+v", res.Status, res)
	}
	if !strings.Contains(res.Reason, "database migrations failed") || !strings.Contains(res.Reason, "organizations") {
		t.Errorf("the reason does not say what failed: %q", res.Reason)
	}
	if got := schemaVersion(t, dsn); got != 0 {
		t.Errorf("database at version %d after a failed first migration, want 0 (rolled back)", got)
	}
}

func TestMigrationsResourceAnswersBeforeTheLambdaTimeout(t *testing.T) {
	dsn := testenv.NewEmptyDatabase(t)
	cf := newFakeCloudFormation(t)
	// Another deploy holds goose's session lock and never lets go.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_lock($1)`, lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	// 18 s to the Lambda deadline: 3 s of waiting for the lock, then the
	// answer goes out with time to spare.
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Second)
	defer cancel()
	res := cf.invoke(ctx, dsn, cf.event(cfn.RequestUpdate, deploy.SchemaResourceID))
	if res.Status != cfn.StatusFailed || ctx.Err() != nil {
		t.Fatalf("status %s (context %v): want FAILED before the deadline", res.Status, ctx.Err())
	}
}

func TestMigrationsResourceDeleteKeepsTheData(t *testing.T) {
	cf := newFakeCloudFormation(t)
	// Nothing listens there: Delete must not even connect.
	res := cf.invoke(context.Background(), "postgres://frostguard@127.0.0.1:1/frostguard?sslmode=disable",
		cf.event(cfn.RequestDelete, deploy.SchemaResourceID))
	if res.Status != cfn.StatusSuccess || res.PhysicalResourceID != deploy.SchemaResourceID {
		t.Fatalf("delete: %+v", res)
	}
}

// Each issue numbers its migrations in its own range, so a release can bring
// a lower version than the database already has (00160 to a database at
// 00220): the deploy applies it instead of refusing "out of order".
func TestMigrationsResourceAppliesAnOlderNumberAddedLater(t *testing.T) {
	dsn := testenv.NewDatabase(t) // at the newest version
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Undo 00160 and 00161 by their own Down sections, as if the database
	// had been migrated by a release without them.
	for _, file := range []string{"00161_readings_retention.sql", "00160_offboarding.sql"} {
		b, err := os.ReadFile(filepath.Join("..", "store", "migrations", file))
		if err != nil {
			t.Fatal(err)
		}
		_, down, ok := strings.Cut(string(b), "-- +goose Down")
		if !ok {
			t.Fatalf("%s has no Down section", file)
		}
		if _, err := conn.Exec(ctx, down); err != nil {
			t.Fatalf("%s down: %v", file, err)
		}
	}
	if _, err := conn.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id IN (160, 161)`); err != nil {
		t.Fatal(err)
	}
	cf := newFakeCloudFormation(t)
	res := cf.invoke(ctx, dsn, cf.event(cfn.RequestUpdate, deploy.SchemaResourceID))
	if res.Status != cfn.StatusSuccess || res.Data["Applied"] != float64(2) {
		t.Fatalf("update: %+v", res)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id IN (160, 161) AND is_applied`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("160 and 161 applied: %d (%v)", n, err)
	}
}
