package ingest

import (
	"context"
	"strings"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/metrics"
)

// observe records one delivery's outcome once the answer is decided,
// labelled with the network ("ttn", "chirpstack").
func observe(ctx context.Context, network string, res Result, err error) {
	RecordUplink(ctx, network, res.Status, err)
	for _, o := range res.opened {
		metrics.Add(ctx, metrics.AlertsOpened, 1, "Type", o.Type, "Severity", o.Severity)
	}
	for _, r := range res.resolved {
		metrics.Add(ctx, metrics.AlertsResolved, 1, "Type", r.Type)
	}
}

// RecordUplink is the one place an uplink's outcome becomes metrics, for any
// network: stored (and its reading), duplicate, unclaimed (also a device
// without a unit, or an application nobody owns), or rejected by reason; a
// refused secret also counts as a webhook verification failure.
func RecordUplink(ctx context.Context, net, status string, err error) {
	if err != nil {
		reason := strings.ToLower(string(apperr.CodeOf(err)))
		if apperr.CodeOf(err) == apperr.Unauthenticated {
			reason = "bad_secret"
			metrics.Add(ctx, metrics.WebhookVerificationFailures, 1, "Provider", net)
		}
		metrics.Add(ctx, metrics.UplinksRejected, 1, "Network", net, "Reason", reason)
		return
	}
	switch status {
	case "stored":
		metrics.Add(ctx, metrics.UplinksStored, 1, "Network", net)
		metrics.Add(ctx, metrics.Readings, 1, "Network", net)
	case "duplicate":
		metrics.Add(ctx, metrics.UplinksDuplicate, 1, "Network", net)
	case "unclaimed", "no_unit", "unknown_application":
		metrics.Add(ctx, metrics.UplinksUnclaimed, 1, "Network", net, "Reason", status)
	}
}
