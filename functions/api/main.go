// Command api is the api Lambda function (the REST API for the frontend). It only wires: its
// handler is assembled by shared/fn/apifn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/apifn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(catalog.API, apifn.New) }
