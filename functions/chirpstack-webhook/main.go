// Command chirpstack-webhook is the chirpstack-webhook Lambda function (LoRaWAN events from a ChirpStack v4 HTTP integration). It only wires: its
// handler is assembled by shared/fn/chirpstackwebhookfn, its runtime is shared/host.
package main

import (
	"github.com/frostguard/functions/shared/catalog"
	"github.com/frostguard/functions/shared/fn/chirpstackwebhookfn"
	"github.com/frostguard/functions/shared/host"
)

func main() { host.HTTP(catalog.ChirpStackWebhook, chirpstackwebhookfn.New) }
