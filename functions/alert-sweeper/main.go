// Command alert-sweeper is the alert-sweeper Lambda function (the every-minute scheduled sweep). It only wires: its
// handler is assembled by shared/fn/sweeperfn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/sweeperfn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.Scheduled(catalog.AlertSweeper, sweeperfn.New) }
