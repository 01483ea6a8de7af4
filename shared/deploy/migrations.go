// Package deploy holds what runs during a CloudFormation deploy rather than
// for users: the custom resource that brings the database to the schema
// version embedded in the release, before the functions that need it are
// updated (template.yaml orders them with DependsOn).
package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/frostguard/functions/shared/metrics"
	"github.com/frostguard/functions/shared/store/migrations"
)

// SchemaResourceID is the custom resource's physical id. It never changes,
// so CloudFormation never "replaces" the schema (a replacement would send a
// Delete for the old id after the new one was created).
const SchemaResourceID = "frostguard-database-schema"

// reportMargin is kept from the Lambda deadline to answer CloudFormation:
// a handler that times out without answering leaves the stack waiting for
// an hour before it fails.
const reportMargin = 15 * time.Second

// maxReason bounds the failure reason: CloudFormation refuses a response
// larger than 4 KB, and shows the reason in the stack's events.
const maxReason = 1000

// MigrateFunc applies the embedded migrations (migrations.Migrate, which
// takes PostgreSQL's session lock so two deploys serialise).
type MigrateFunc func(ctx context.Context, databaseURL string) ([]migrations.MigrationResult, error)

// MigrationsResource is the handler of the DatabaseMigrations custom
// resource. Create and Update migrate up: the resource's CodeVersion
// property changes with every release of the migrate function, whose binary
// embeds the migrations, so every deploy that brings new migrations sends an
// Update. A failure answers FAILED, which fails the deploy and rolls the stack
// back; the migrations that did apply stay (each runs in its own
// transaction), which is why a migration must keep the previous release
// working (expand first, contract in a later release: docs/OPERATIONS.md).
// Delete does nothing: removing the stack never drops the data.
func MigrationsResource(databaseURL string, migrate MigrateFunc) cfn.CustomResourceFunction {
	return func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		if ev.RequestType == cfn.RequestDelete {
			slog.InfoContext(ctx, "database migrations resource deleted: the schema and its data are kept", "stack", ev.StackID)
			return physicalID(ev), nil, nil
		}
		if deadline, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reportMargin))
			defer cancel()
		}
		start := time.Now()
		applied, err := migrate(ctx, databaseURL)
		for _, m := range applied {
			slog.InfoContext(ctx, "migration applied", "version", m.Version, "source", m.Source)
		}
		if err != nil {
			slog.ErrorContext(ctx, "database migrations failed: the deploy rolls back", "err", err, "applied", len(applied))
			return physicalID(ev), nil, fmt.Errorf("%s", reason(err, applied))
		}
		version, err := migrations.SchemaVersion()
		if err != nil {
			return physicalID(ev), nil, err
		}
		metrics.Add(ctx, metrics.MigrationsApplied, len(applied))
		slog.InfoContext(ctx, "database at the release's schema version", "version", version, "applied", len(applied),
			"duration_ms", time.Since(start).Milliseconds())
		return physicalID(ev), map[string]any{"SchemaVersion": version, "Applied": len(applied)}, nil
	}
}

func physicalID(ev cfn.Event) string {
	if ev.PhysicalResourceID != "" {
		return ev.PhysicalResourceID
	}
	return SchemaResourceID
}

func reason(err error, applied []migrations.MigrationResult) string {
	msg := err.Error()
	if len(applied) > 0 {
		msg = fmt.Sprintf("%s (applied before the failure, and kept: %d migrations up to %d)", msg, len(applied), applied[len(applied)-1].Version)
	}
	if len(msg) > maxReason {
		msg = msg[:maxReason] + "…"
	}
	return "database migrations failed: " + msg
}
