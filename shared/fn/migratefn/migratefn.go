// Package migratefn assembles the migrate function: the handler of the
// DatabaseMigrations custom resource that every deploy invokes (shared/deploy).
// It is the only function binary that carries goose and the migrations.
package migratefn

import (
	"github.com/aws/aws-lambda-go/cfn"

	"github.com/frostguard/functions/shared/config"
	"github.com/frostguard/functions/shared/deploy"
	"github.com/frostguard/functions/shared/store/migrations"
)

// New builds the `migrate` function's custom-resource handler.
func New(cfg *config.Migrate) (cfn.CustomResourceFunction, error) {
	return deploy.MigrationsResource(cfg.DatabaseURL, migrations.Migrate), nil
}
