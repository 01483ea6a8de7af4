// Command ttn-webhook is the ttn-webhook Lambda function (LoRaWAN uplinks from The Things Network). It only wires: its
// handler is assembled by shared/fn/ttnwebhookfn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/ttnwebhookfn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(catalog.TTNWebhook, ttnwebhookfn.New) }
