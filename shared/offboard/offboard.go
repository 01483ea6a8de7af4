// Package offboard lets an organisation leave with its data and then go:
// an export of every table that holds its rows (a zip of CSV files in the
// bucket, the link e-mailed to the owner who asked), and its deletion after
// a grace period, every row and object removed and the deletion recorded
// outside the deleted data (organization_deletions). The sweeper runs both
// (BuildExports, DeleteDue); the api records the requests.
package offboard

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/notify"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/store"
)

// LinkTTL is the validity asked of an export's download link. A link signed
// with a Lambda role's temporary credentials ends with them (hours), so the
// export's page (GET .../exports/{id}) always signs a fresh one.
const LinkTTL = 24 * time.Hour

// ExportRetention is how long an export stays in the bucket (the bucket's
// lifecycle rule on exports/ in template.yaml).
const ExportRetention = 7 * 24 * time.Hour

// Service builds exports and carries out deletions.
type Service struct {
	DB    *store.DB
	Files *objects.Bucket
	Email notify.EmailSender
	Now   func() time.Time
}

func (s Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// exportsPerRun bounds one sweeper run's work.
const exportsPerRun = 2

// BuildExports builds the pending exports and e-mails their links; it
// returns how many became ready.
func (s Service) BuildExports(ctx context.Context) (int, error) {
	pending, err := s.DB.PendingExports(ctx, exportsPerRun)
	if err != nil {
		return 0, err
	}
	ready := 0
	for _, e := range pending {
		key, size, tables, err := s.build(ctx, e)
		if ferr := s.DB.FinishExport(context.WithoutCancel(ctx), e.ID, key, size, tables, err); ferr != nil {
			return ready, ferr
		}
		if err != nil {
			slog.ErrorContext(ctx, "organisation export failed", "export_id", e.ID, "organization_id", e.OrgID, "err", err)
			continue
		}
		ready++
		if err := s.announce(ctx, e, key); err != nil {
			slog.ErrorContext(ctx, "e-mailing the export link failed: the export page shows it", "export_id", e.ID, "err", err)
		}
	}
	return ready, nil
}

// build writes the zip: one CSV per table (header row, every column, the
// organisation's rows) and manifest.json (tables, row counts, time).
func (s Service) build(ctx context.Context, e store.OrganizationExport) (string, int64, map[string]int64, error) {
	f, err := os.CreateTemp("", "frostguard-export-*.zip")
	if err != nil {
		return "", 0, nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	tables, err := s.DB.OrgTables(ctx)
	if err != nil {
		return "", 0, nil, err
	}
	zw := zip.NewWriter(f)
	counts := map[string]int64{}
	for _, t := range tables {
		w, err := zw.Create(t + ".csv")
		if err != nil {
			return "", 0, nil, err
		}
		if counts[t], err = s.DB.CopyOrgTable(ctx, e.OrgID, t, w); err != nil {
			return "", 0, nil, err
		}
	}
	manifest, _ := json.MarshalIndent(map[string]any{
		"organization_id": e.OrgID, "export_id": e.ID, "created_at": s.now().UTC(), "format": "CSV with a header row, one file per table",
		"rows": counts,
	}, "", "  ")
	w, err := zw.Create("manifest.json")
	if err != nil {
		return "", 0, nil, err
	}
	if _, err := w.Write(manifest); err != nil {
		return "", 0, nil, err
	}
	if err := zw.Close(); err != nil {
		return "", 0, nil, err
	}
	size, err := f.Seek(0, 2)
	if err != nil {
		return "", 0, nil, err
	}
	key := objects.ExportsPrefix + e.OrgID + "/" + e.ID + ".zip"
	if err := s.Files.Put(ctx, key, "application/zip", f, size); err != nil {
		return "", 0, nil, err
	}
	return key, size, counts, nil
}

func (s Service) announce(ctx context.Context, e store.OrganizationExport, key string) error {
	if s.Email == nil || e.Email == "" {
		return nil
	}
	link, err := s.Files.PresignGet(ctx, key, LinkTTL)
	if err != nil {
		return err
	}
	body := strings.Join([]string{
		"Your FrostGuard data export is ready.",
		"",
		"Download it (a zip of CSV files, one per table): " + link.URL,
		"",
		fmt.Sprintf("The link works until %s; the export itself is kept %d days. Signed-in owners can get a fresh link from the export's page.",
			link.Expires.UTC().Format(time.RFC1123), int(ExportRetention.Hours()/24)),
	}, "\n")
	_, err = s.Email.SendEmail(ctx, e.Email, "Your FrostGuard data export is ready", body, "export-"+e.ID)
	return err
}

// deletionsPerRun bounds one sweeper run's work.
const deletionsPerRun = 1

// DeleteDue deletes the organisations whose grace period is over: their
// objects first (a retry after a failure finds fewer), then their rows and
// the audit record. It returns how many went.
func (s Service) DeleteDue(ctx context.Context) (int, error) {
	due, err := s.DB.DueDeletions(ctx, s.now(), deletionsPerRun)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, d := range due {
		deleted := 0
		for _, p := range objects.OrgPrefixes(d.OrgID) {
			n, err := s.Files.DeletePrefix(ctx, p)
			deleted += n
			if err != nil {
				return done, fmt.Errorf("deleting %s's objects: %w", d.OrgID, err)
			}
		}
		ok, err := s.DB.DeleteOrganization(ctx, d, deleted, s.now())
		if err != nil {
			return done, err
		}
		if ok {
			done++
			slog.InfoContext(ctx, "organisation deleted", "organization_id", d.OrgID, "objects", deleted)
		}
	}
	return done, nil
}
