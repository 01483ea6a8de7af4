package ttn

// MeasuringRange is the temperature range (°C) a sensor can measure, known
// by the built-in decoder its model maps to (DecoderFor): a reading outside
// it cannot be true whatever the unit (alerting.PlausibleRange). ok is false
// for a model whose range is not known (the unit type's band applies alone).
//
// ISSUE-15 SEAM: the sensor model registry of shared/lorawan/decoders carries
// each model's measuring range; once it has landed, this table is replaced
// by a lookup there.
func MeasuringRange(decoder, model string) (minC, maxC float64, ok bool) {
	switch DecoderFor(decoder, model) {
	case DecoderDraginoLHT65:
		// Built-in SHT: -40..85 °C; external DS18B20 probe: -55..125 °C
		// (Dragino LHT65N manual §1.3). The main temperature is either.
		return -55, 125, true
	case DecoderMilesightEM300TH:
		return -40, 85, true // Milesight EM300-TH datasheet
	}
	return 0, 0, false
}
