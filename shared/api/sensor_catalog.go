package api

import (
	"net/http"

	"github.com/frostguard/functions/shared/lorawan/decoders"
	"github.com/frostguard/functions/shared/web"
)

// The sensor model registry (shared/lorawan/decoders), read-only: what a sensor's model or
// decoder field may name, and the probes its probe setting may choose.
func (s *Server) registerSensorCatalog(mux *http.ServeMux) {
	s.handleUser(mux, "GET /api/v1/sensor-models", s.listSupportedSensorModels)
}

// supportedModel is one model of the registry in an answer.
type supportedModel struct {
	ID           string           `json:"id"`
	Vendor       string           `json:"vendor"`
	Name         string           `json:"name"`
	Measures     []string         `json:"measures"`
	Probes       []supportedProbe `json:"probes"`
	DefaultProbe *string          `json:"default_probe"`
	// LowBatteryVolts and LowBatteryPercent are the vendor's documented thresholds (null when it
	// documents none: the organisation's sensor-model setting, else 2.5 V / 10 %, applies).
	LowBatteryVolts   *float64 `json:"low_battery_volts"`
	LowBatteryPercent *int     `json:"low_battery_percent"`
	Aliases           []string `json:"aliases"`
}

type supportedProbe struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// MinC..MaxC is the documented measuring range (null when undocumented) and RangeSource
	// where it comes from.
	MinC        *float64 `json:"min_c"`
	MaxC        *float64 `json:"max_c"`
	RangeSource *string  `json:"range_source"`
}

// supportedModels is the registry as the answer shows it (it never changes while running).
var supportedModels = func() []supportedModel {
	var out []supportedModel
	for _, m := range decoders.Models() {
		sm := supportedModel{ID: m.ID, Vendor: m.Vendor, Name: m.Name, Measures: []string{}, Probes: []supportedProbe{},
			Aliases: append([]string{}, m.Aliases...)}
		for _, q := range m.Measures {
			sm.Measures = append(sm.Measures, string(q))
		}
		for _, p := range m.Probes {
			sp := supportedProbe{Name: p.Name, Description: p.Description}
			if p.Documented() {
				lo, hi, src := p.MinC, p.MaxC, p.RangeSource
				sp.MinC, sp.MaxC, sp.RangeSource = &lo, &hi, &src
			}
			sm.Probes = append(sm.Probes, sp)
		}
		if m.DefaultProbe != "" {
			d := m.DefaultProbe
			sm.DefaultProbe = &d
		}
		if v := m.Battery.LowVolts; v > 0 {
			sm.LowBatteryVolts = &v
		}
		if p := m.Battery.LowPercent; p > 0 {
			sm.LowBatteryPercent = &p
		}
		out = append(out, sm)
	}
	return out
}()

func (s *Server) listSupportedSensorModels(w http.ResponseWriter, r *http.Request, c Caller) error {
	web.JSON(w, http.StatusOK, map[string]any{"items": supportedModels})
	return nil
}
