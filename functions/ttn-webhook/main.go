// Command ttn-webhook is the ttn-webhook Lambda function (LoRaWAN uplinks from The Things Network). It only wires: its
// configuration and handler come from shared/app, its runtime from shared/host.
package main

import (
	"github.com/frostguard/functions/shared/app"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(app.TTNWebhook, app.NewTTNWebhook) }
