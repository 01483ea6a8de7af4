package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/frostguard/functions/shared/access"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/report"
	"github.com/frostguard/functions/shared/web"
)

func (s *Server) registerStats(mux *http.ServeMux) {
	s.handleOrg(mux, "GET /api/v1/orgs/{orgId}/stats", access.ReadOrganization, s.getStats)
}

// complianceTTL is how long an organisation's compliance figures are
// cached: a week of readings is read to compute them, and they move slowly.
const complianceTTL = 5 * time.Minute

func (s *Server) getStats(w http.ResponseWriter, r *http.Request, m Member) error {
	now := s.Now().UTC()
	st, err := s.DB.OrganizationStats(r.Context(), m.OrgID, now)
	if err != nil {
		return err
	}
	if st.Compliance, err = s.compliance(r.Context(), m.OrgID, now); err != nil {
		return err
	}
	st.GeneratedAt = now
	web.JSON(w, http.StatusOK, st)
	return nil
}

// compliance is the time in range of the organisation's units with a
// sensor over the last 24 hours and 7 days, computed as the HACCP report
// computes it (report.TimeInRange), from one pass over a week of readings;
// cached in Redis (when there is one) for complianceTTL.
func (s *Server) compliance(ctx context.Context, orgID string, now time.Time) (domain.ComplianceStats, error) {
	key := "stats:compliance:" + orgID
	var c domain.ComplianceStats
	if b, ok := s.Cache.Get(ctx, key); ok && json.Unmarshal(b, &c) == nil {
		return c, nil
	}
	units, err := s.DB.MonitoredReportUnits(ctx, orgID)
	if err != nil {
		return c, err
	}
	day := report.NewTimeInRange(units, now.Add(-24*time.Hour), now)
	week := report.NewTimeInRange(units, now.Add(-7*24*time.Hour), now)
	from, to := week.LoadWindow()
	ids := make([]string, len(units))
	for i, u := range units {
		ids[i] = u.ID
	}
	err = s.DB.EachReportReadingOf(ctx, orgID, ids, from, to, func(unitID string, r report.Reading) {
		day.Add(unitID, r)
		week.Add(unitID, r)
	})
	if err != nil {
		return c, err
	}
	c = domain.ComplianceStats{Last24h: complianceWindow(day), Last7d: complianceWindow(week), ComputedAt: now}
	if b, err := json.Marshal(c); err == nil {
		s.Cache.Set(ctx, key, b, complianceTTL)
	} else {
		slog.WarnContext(ctx, "compliance not cached", "err", err)
	}
	return c, nil
}

func complianceWindow(t *report.TimeInRange) domain.ComplianceWindow {
	units, duration, in := t.Sum()
	w := domain.ComplianceWindow{Units: units, DurationSeconds: duration, InRangeSeconds: in}
	if duration > 0 {
		p := math.Round(float64(in)/float64(duration)*10000) / 100
		w.InRangePercent = &p
	}
	return w
}
