// Command alert-sweeper is the alert-sweeper Lambda function (the every-minute scheduled sweep). It only wires: its
// configuration and handler come from shared/app, its runtime from shared/host.
package main

import (
	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.Scheduled(app.AlertSweeper, app.NewAlertSweeper) }
