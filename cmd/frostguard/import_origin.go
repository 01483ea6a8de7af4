package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/frostguard/functions/shared/originimport"
	"github.com/frostguard/functions/shared/store"
)

// orgList is a repeatable (and comma-separated) -org flag.
type orgList []string

func (o *orgList) String() string { return strings.Join(*o, ",") }

func (o *orgList) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(strings.ToLower(id)); id != "" {
			*o = append(*o, id)
		}
	}
	return nil
}

// cmdImportOrigin imports organisations from the origin's database into
// DATABASE_URL's (docs/MIGRATION.md). Interrupted (Ctrl-C, a kill), it is
// run again with the same flags and resumes.
func cmdImportOrigin(args []string) error {
	fs := flag.NewFlagSet("import-origin", flag.ContinueOnError)
	from := fs.String("from", "", "the origin's database URL (opened read-only)")
	var orgs orgList
	fs.Var(&orgs, "org", "an origin organisation id (repeatable, or comma-separated; default: every organisation)")
	dry := fs.Bool("dry-run", false, "report what would be imported and every problem; write nothing")
	reportPath := fs.String("report", "origin-import-report.json", "where to write the JSON report")
	workers := fs.Int("workers", 0, fmt.Sprintf("units whose readings are copied at once (default %d)", originimport.DefaultWorkers))
	batch := fs.Int("batch", 0, fmt.Sprintf("readings per COPY transaction and checkpoint (default %d)", originimport.DefaultBatchRows))
	discard := fs.Bool("discard", false, "delete the -org organisations import-origin created that are still hidden (an abandoned import)")
	live := fs.Bool("live", false, "with -discard: also live ones (a rollback before the SPA switched)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dsn, err := databaseURL()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pool, err := store.OpenPool(dsn, int32(max(*workers, originimport.DefaultWorkers)+4))
	if err != nil {
		return err
	}
	defer pool.Close()
	if *discard {
		if len(orgs) == 0 {
			return errors.New("-discard needs -org")
		}
		for _, id := range orgs {
			if err := originimport.Discard(ctx, pool, id, *live); err != nil {
				return err
			}
			fmt.Printf("discarded %s\n", id)
		}
		return nil
	}
	if *from == "" {
		return errors.New("-from <origin database URL> is required")
	}
	origin, err := originimport.OpenOrigin(ctx, *from)
	if err != nil {
		return err
	}
	defer origin.Close(context.WithoutCancel(ctx))
	rep, err := originimport.Run(ctx, pool, origin, originimport.Options{Orgs: orgs, DryRun: *dry, Workers: *workers, BatchRows: *batch})
	if err != nil {
		return err
	}
	rep.Print(os.Stdout)
	body, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*reportPath, append(body, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	fmt.Printf("\nreport: %s\n", *reportPath)
	if rep.Failed() {
		return errors.New("an organisation was blocked or failed: see the report (a failed import resumes when run again)")
	}
	return nil
}
