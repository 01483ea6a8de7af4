// Command reports is the reports Lambda function (HACCP reports in JSON,
// CSV and PDF). It only wires: its handler is assembled by
// shared/fn/reportsfn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/reportsfn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(catalog.Reports, reportsfn.New) }
