// Command realtime is the realtime Lambda function (the live channel's WebSocket API). It only
// wires: its handler is assembled by shared/fn/realtimefn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/realtimefn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.WebSocket(catalog.Realtime, realtimefn.New, realtimefn.Local) }
