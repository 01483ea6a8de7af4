package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/jackc/pgx/v5"

	"github.com/frostguard/functions/shared/store/migrations"
	"github.com/frostguard/functions/shared/testenv"
)

// The migrate bootstrap, as a deploy invokes it: a custom-resource Update
// against an empty database answers SUCCESS at the pre-signed response URL
// (played by an httptest server) and leaves the schema at the release's
// version. shared/deploy covers failures, timeouts and Delete.
func TestMigrateUnderTheRuntimeInterfaceEmulator(t *testing.T) {
	dsn := testenv.NewEmptyDatabase(t)
	answers := make(chan cfn.Response, 2)
	cf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var res cfn.Response
		if r.Method != http.MethodPut || r.Header.Get("Content-Type") != "" || json.Unmarshal(body, &res) != nil {
			http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
			return
		}
		answers <- res
	}))
	defer cf.Close()

	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, "migrate", "update.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["ResponseURL"] = cf.URL + "/response?X-Amz-Signature=x"
	event, _ := json.Marshal(ev)

	em, _ := startEmulator(t, "migrate", testenv.Environment(map[string]string{"DATABASE_URL": dsn, "LOG_LEVEL": "info"}))
	em.invoke(t, event)
	select {
	case res := <-answers:
		if res.Status != cfn.StatusSuccess || res.PhysicalResourceID != "frostguard-database-schema" || res.LogicalResourceID != "DatabaseMigrations" {
			t.Fatalf("answer %+v\nlogs:\n%s", res, em.logs)
		}
	default:
		t.Fatalf("no answer reached CloudFormation\nlogs:\n%s", em.logs)
	}
	want, _ := migrations.SchemaVersion()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var got int64
	if err := conn.QueryRow(context.Background(), `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&got); err != nil || got != want {
		t.Fatalf("schema version %d (%v), want %d", got, err, want)
	}
	if strings.Contains(em.logs.String(), "password") {
		t.Error("logs mention a password")
	}
}
