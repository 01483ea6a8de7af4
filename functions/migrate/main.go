// Command migrate is the migrate Lambda function (the database migrations a deploy runs through a custom resource). It only wires: its
// handler is assembled by shared/fn/migratefn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/migratefn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.CustomResource(catalog.Migrate, migratefn.New) }
