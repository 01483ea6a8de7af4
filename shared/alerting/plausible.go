package alerting

import (
	"math"

	"github.com/frostguard/functions/shared/domain"
)

// Range is a closed temperature interval in °C.
type Range struct{ MinC, MaxC float64 }

// plausibleMarginC widens a unit type's band to cover its configured
// thresholds: a reading this far beyond a limit the owner chose is still an
// excursion, never a "sensor fault".
const plausibleMarginC = 20

// typeBands are the temperatures a unit of each type can truly reach,
// loaded or broken: a fridge never reaches -80 °C, a freezer whose door is
// wide open in a hot kitchen stays well under +60 °C. Blast chillers take
// food in hot (a probe in a tray may read 90 °C); ultra-low freezers
// (pharma, -80 °C) go colder than anything else.
var typeBands = map[domain.UnitType]Range{
	domain.Fridge:          {-40, 60},
	domain.DisplayCase:     {-40, 60},
	domain.WalkInCooler:    {-40, 60},
	domain.Freezer:         {-60, 60},
	domain.WalkInFreezer:   {-60, 60},
	domain.BlastChiller:    {-60, 110},
	domain.UltraLowFreezer: {-100, 60},
	domain.OtherUnitType:   {-100, 150},
}

// PlausibleRange is the one rule for which temperatures a reading of a unit
// can truly have: the unit type's band, widened to cover the unit's
// configured range (with a 20 °C margin), then narrowed to the sensor
// model's measuring range when it is known (a reading outside what the
// sensor can measure, such as 327.67 °C, the disconnected-probe value of a
// Dragino LHT65, is a fault of that sensor). A reading outside it is a
// critical sensor_fault of that sensor and never an excursion.
func PlausibleRange(t domain.UnitType, minC, maxC float64, model *Range) Range {
	band, ok := typeBands[t]
	if !ok {
		band = typeBands[domain.OtherUnitType]
	}
	if finite(minC) {
		band.MinC = math.Min(band.MinC, minC-plausibleMarginC)
	}
	if finite(maxC) {
		band.MaxC = math.Max(band.MaxC, maxC+plausibleMarginC)
	}
	if model != nil && model.MinC < model.MaxC {
		narrowed := Range{math.Max(band.MinC, model.MinC), math.Min(band.MaxC, model.MaxC)}
		if narrowed.MinC < narrowed.MaxC {
			band = narrowed
		}
	}
	return band
}

// Contains reports whether t is a finite temperature inside r.
func (r Range) Contains(t float64) bool { return finite(t) && t >= r.MinC && t <= r.MaxC }

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
