package domain

import "time"

// Dashboard is the organisation at a glance: every live unit with its state
// and last reading, unit counts by status, and the newest open alerts.
type Dashboard struct {
	TempUnit       TempUnit           `json:"temp_unit"`
	Units          []DashboardUnit    `json:"units"`
	CountsByStatus map[UnitStatus]int `json:"counts_by_status"`
	OpenAlerts     DashboardAlerts    `json:"open_alerts"`
}

// DashboardUnit is one unit's line on the dashboard. The *_c fields are °C;
// the fields without suffix are the same values in the organisation's
// temp_unit, ready to show.
type DashboardUnit struct {
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Type           string     `json:"type"`
	SiteID         string     `json:"site_id"`
	SiteName       string     `json:"site_name"`
	AreaID         string     `json:"area_id"`
	AreaName       string     `json:"area_name"`
	Status         UnitStatus `json:"status"`
	StatusSince    time.Time  `json:"status_since"`
	LastReadingAt  *time.Time `json:"last_reading_at"`
	LastTempC      *float64   `json:"last_temp_c"`
	LastTemp       *float64   `json:"last_temp"`
	DoorOpen       bool       `json:"door_open"`
	TempMinC       float64    `json:"temp_min_c"`
	TempMaxC       float64    `json:"temp_max_c"`
	TempMin        float64    `json:"temp_min"`
	TempMax        float64    `json:"temp_max"`
	OpenAlertCount int        `json:"open_alert_count"`
}

// DashboardAlerts is the count of open (not resolved) alerts and the newest
// of them.
type DashboardAlerts struct {
	Count  int     `json:"count"`
	Latest []Alert `json:"latest"`
}

// InUnit fills the display-unit fields from the °C ones and puts times in
// UTC.
func (u *DashboardUnit) InUnit(tu TempUnit) {
	u.StatusSince = u.StatusSince.UTC()
	if u.LastReadingAt != nil {
		*u.LastReadingAt = u.LastReadingAt.UTC()
	}
	if u.LastTempC != nil {
		v := FromCelsius(*u.LastTempC, tu)
		u.LastTemp = &v
	}
	u.TempMin, u.TempMax = FromCelsius(u.TempMinC, tu), FromCelsius(u.TempMaxC, tu)
}
