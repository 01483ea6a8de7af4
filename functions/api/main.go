// Command api is the api Lambda function (the REST API for the frontend). It only wires: its
// configuration and handler come from shared/app, its runtime from shared/host.
package main

import (
	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(app.API, app.NewAPI) }
