package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/originimport"
	"github.com/frostguard/functions/shared/originimport/origintest"
	"github.com/frostguard/functions/shared/testenv"
)

// The command: a dry run reports (and fails on the blocked organisation),
// an import writes its report, -discard removes only what it created.
func TestImportOriginCommand(t *testing.T) {
	origin := origintest.New(t, origintest.Live)
	if err := origintest.Fill(context.Background(), origin, origintest.Options{Now: time.Now(), Readings: 50}); err != nil {
		t.Fatal(err)
	}
	db, dsn := testenv.OpenDB(t)
	t.Setenv("DATABASE_URL", dsn)
	dir := t.TempDir()
	read := func(path string) originimport.Report {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var r originimport.Report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	dry := filepath.Join(dir, "dry.json")
	if err := cmdImportOrigin([]string{"--from", origin, "--dry-run", "--report", dry}); err == nil || !strings.Contains(err.Error(), "blocked") {
		t.Fatalf("a dry run with a blocked organisation: %v", err)
	}
	if r := read(dry); !r.DryRun || len(r.Organizations) != 4 {
		t.Fatalf("dry-run report: %+v", r)
	}
	real := filepath.Join(dir, "real.json")
	bistro, harbor := origintest.ID("bistro"), origintest.ID("harbor")
	if err := cmdImportOrigin([]string{"--from", origin, "--org", bistro + "," + harbor, "--report", real}); err != nil {
		t.Fatal(err)
	}
	for _, o := range read(real).Organizations {
		if o.Status != "imported" {
			t.Fatalf("%s: %s", o.Name, o.Status)
		}
	}
	if err := cmdImportOrigin([]string{"--discard", "--org", bistro}); err == nil {
		t.Fatal("-discard removed a live organisation without -live")
	}
	if err := cmdImportOrigin([]string{"--discard", "--live", "--org", bistro}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := testenv.Pool(db).QueryRow(context.Background(), `SELECT count(*) FROM organizations WHERE id = $1`, bistro).Scan(&n); err != nil || n != 0 {
		t.Fatalf("bistro still there (%d, %v)", n, err)
	}
	native := ""
	if err := testenv.Pool(db).QueryRow(context.Background(), `INSERT INTO organizations (name, slug) VALUES ('Native', 'native') RETURNING id`).Scan(&native); err != nil {
		t.Fatal(err)
	}
	if err := cmdImportOrigin([]string{"--discard", "--live", "--org", native}); err == nil {
		t.Fatal("-discard deleted an organisation import-origin did not create")
	}
}
