// Package retention keeps raw readings for as long as each organisation's
// plan says (domain.ReadingsRetentionMonths, at least two years) and no
// longer: a month past it is exported to the bucket as gzipped CSV
// (archive/<org>/readings/<YYYY-MM>.csv.gz, kept), rolled up per unit and
// hour (what charts read for older ranges), and deleted; a monthly partition
// left empty is detached and dropped. The alert-sweeper runs it, one
// organisation-month per run, so no run holds the database for long.
package retention

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/objects"
	"github.com/frostguard/functions/shared/store"
)

// Service archives and drops readings past retention.
type Service struct {
	DB    *store.DB
	Files *objects.Bucket
	Now   func() time.Time
}

func (s Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Cutoff is the first month an organisation on plan still keeps: every
// month before it is past retention (whole UTC months, the current one
// counting as the first kept).
func Cutoff(plan string, now time.Time) time.Time {
	first := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	return first.AddDate(0, -domain.ReadingsRetentionMonths(plan)+1, 0)
}

// ArchiveKey is where an organisation's month of readings is archived.
func ArchiveKey(orgID string, month time.Time) string {
	return objects.ArchivePrefix + orgID + "/readings/" + month.UTC().Format("2006-01") + ".csv.gz"
}

// Run does one step: archives one organisation-month past retention, or
// drops one partition left empty. It returns how many steps it did (0 or 1).
func (s Service) Run(ctx context.Context) (int, error) {
	parts, err := s.DB.ReadingPartitions(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	// No plan keeps less than the minimum: younger partitions need no look.
	oldestCut := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -domain.MinReadingsRetentionMonths+1, 0)
	for _, p := range parts {
		if !p.Month.Before(oldestCut) {
			break
		}
		orgs, err := s.DB.PartitionOrganizations(ctx, p)
		if err != nil {
			return 0, err
		}
		for _, o := range orgs {
			if !p.Month.Before(Cutoff(o.Plan, now)) {
				continue // this organisation still keeps the month
			}
			return 1, s.archive(ctx, o.OrgID, p.Month)
		}
		if len(orgs) == 0 {
			dropped, err := s.DB.DropEmptyPartition(ctx, p)
			if err != nil || dropped {
				if dropped {
					slog.InfoContext(ctx, "dropped an empty readings partition past retention", "partition", p.Name)
				}
				return boolCount(dropped), err
			}
		}
	}
	return 0, nil
}

// archive exports, stores and then retires one organisation's month. The
// object is written before any row goes: a failure after the upload leaves
// the rows, and the next run writes the same object again.
func (s Service) archive(ctx context.Context, orgID string, month time.Time) error {
	f, err := os.CreateTemp("", "frostguard-archive-*.csv.gz")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	zw := gzip.NewWriter(f)
	rows, err := s.DB.CopyMonthReadings(ctx, orgID, month, zw)
	if err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	key := ArchiveKey(orgID, month)
	if err := s.Files.Put(ctx, key, "application/gzip", f, size); err != nil {
		return fmt.Errorf("archiving %s %s: %w", orgID, month.Format("2006-01"), err)
	}
	if err := s.DB.RetireMonthReadings(ctx, orgID, month, key, rows, size); err != nil {
		return err
	}
	slog.InfoContext(ctx, "archived a month of readings past retention", "organization_id", orgID,
		"month", month.Format("2006-01"), "rows", rows, "bytes", size, "key", key)
	return nil
}

func boolCount(b bool) int {
	if b {
		return 1
	}
	return 0
}
