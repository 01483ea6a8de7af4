package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/ttnapi"
)

// Connection statuses of a gateway, from the Gateway Server's connection
// statistics.
const (
	GatewayConnected    = "connected"
	GatewayDisconnected = "disconnected" // the statistics say it disconnected
	// GatewayNotConnected: the Gateway Server knows no connection (it
	// answers 404): never connected, or not since its statistics expired.
	GatewayNotConnected = "not_connected"
	// GatewayStatusUnknown: not registered (yet), or TTN could not be asked.
	GatewayStatusUnknown = "unknown"
)

// gatewayStatus is a gateway's live connection status.
type gatewayStatus struct {
	Status string `json:"status"`
	// LastSeenAt is the latest of the last uplink and the last status
	// message the Gateway Server received.
	LastSeenAt     *time.Time `json:"last_seen_at"`
	ConnectedAt    *time.Time `json:"connected_at"`
	DisconnectedAt *time.Time `json:"disconnected_at"`
	Protocol       *string    `json:"protocol"`
	// CheckedAt is when TTN was asked (the status may be cached up to
	// gatewayStatusTTL); null when it was not.
	CheckedAt *time.Time `json:"status_checked_at"`
}

// gatewayView is a gateway with its connection status.
type gatewayView struct {
	store.Gateway
	gatewayStatus
}

const (
	// gatewayStatusTTL: a list polled by every open dashboard asks TTN about
	// each gateway at most this often.
	gatewayStatusTTL = 30 * time.Second
	// gatewayStatusBudget bounds the time all status calls of one request
	// take: a slow TTN leaves statuses unknown instead of holding the list.
	gatewayStatusBudget = 4 * time.Second
	// gatewayStatusWorkers bounds the concurrent calls to TTN per request.
	gatewayStatusWorkers = 8
)

// gatewayStatusKey is the Redis key of a gateway's cached status. It names
// the organisation: a cached status is never shown to another tenant.
func gatewayStatusKey(orgID, gatewayID string) string {
	return "gateways:status:v1:" + orgID + ":" + gatewayID
}

// gatewayViews adds each gateway's connection status: from Redis when one
// was cached in the last gatewayStatusTTL, else from TTN's Gateway Server.
// It never fails: Redis down means asking TTN, TTN down (or no gateway key)
// means status "unknown", and the gateways are listed either way.
// Failures are not cached, so the next request asks again.
func (s *Server) gatewayViews(ctx context.Context, orgID string, gws []store.Gateway) []gatewayView {
	out := make([]gatewayView, len(gws))
	var todo []int
	for i, g := range gws {
		out[i] = gatewayView{Gateway: g, gatewayStatus: gatewayStatus{Status: GatewayStatusUnknown}}
		if g.ProvisioningStatus != store.GatewayRegistered {
			continue
		}
		if b, ok := s.Cache.Get(ctx, gatewayStatusKey(orgID, g.GatewayID)); ok {
			var st gatewayStatus
			if json.Unmarshal(b, &st) == nil && st.Status != "" {
				out[i].gatewayStatus = st
				continue
			}
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return out
	}
	_, apiKey, err := s.gatewayKey(ctx, orgID)
	if err != nil {
		slog.WarnContext(ctx, "gateway statuses unavailable", "err", err)
		return out
	}
	// Cache writes outlive the budget: a write cut by it would put the
	// cache in its failure backoff for nothing.
	cacheCtx := context.WithoutCancel(ctx)
	ctx, cancel := context.WithTimeout(ctx, gatewayStatusBudget)
	defer cancel()
	sem := make(chan struct{}, gatewayStatusWorkers)
	var wg sync.WaitGroup
	for _, i := range todo {
		v := &out[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			st, err := s.newTTNClient(v.Cluster, apiKey).GatewayStats(ctx, v.GatewayID)
			if err != nil {
				slog.WarnContext(ctx, "gateway status unavailable", "gateway_id", v.GatewayID, "err", err)
				return
			}
			v.gatewayStatus = gatewayStatusOf(st, s.Now())
			if b, err := json.Marshal(v.gatewayStatus); err == nil {
				s.Cache.Set(cacheCtx, gatewayStatusKey(orgID, v.GatewayID), b, gatewayStatusTTL)
			}
		}()
	}
	wg.Wait()
	return out
}

// gatewayStatusOf reads TTN's connection statistics (zero: not connected).
func gatewayStatusOf(st ttnapi.GatewayStats, now time.Time) gatewayStatus {
	now = now.UTC().Truncate(time.Microsecond) // like the times PostgreSQL answers
	out := gatewayStatus{Status: GatewayNotConnected, ConnectedAt: utcTime(st.ConnectedAt),
		DisconnectedAt: utcTime(st.DisconnectedAt), CheckedAt: &now}
	switch {
	case st.Connected:
		out.Status = GatewayConnected
	case st.ConnectedAt != nil || st.DisconnectedAt != nil:
		out.Status = GatewayDisconnected
	}
	out.LastSeenAt = utcTime(st.LastUplinkReceivedAt)
	if s := utcTime(st.LastStatusReceivedAt); s != nil && (out.LastSeenAt == nil || s.After(*out.LastSeenAt)) {
		out.LastSeenAt = s
	}
	if st.Protocol != "" {
		p := st.Protocol
		out.Protocol = &p
	}
	return out
}

func utcTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
