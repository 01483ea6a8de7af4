package decoders

// Laird (Ezurio) Sentrius RS1xx. Source: TheThingsNetwork/lorawan-devices vendor/laird/
// rs1xx-ext-multi-sensor.js ("Laird Protocol TTI Payload Library"; the temp-RH, 1-wire and RTD
// codecs share its message layouts) and the rs1xx-*-codec.yaml examples.
//
// Byte 0 is the message type, byte 1 option flags (0x10: the sensor reports a fault). Values:
//
//	two-byte temperature or humidity: int8(second byte) + int8(first byte) / 100
//	four-byte (RTD) temperature:       int16(bytes 2-3) + int16(bytes 0-1) / 100
//	battery capacity: 0 "0-5%", 1 "5-20%", 2 "20-40%", 3 "40-60%", 4 "60-80%", 5 "80-100%"
//
//	0x01 temperature/RH (11): 2 humidity, 4 temperature, 6 battery capacity, counts
//	0x02 aggregate (11 + 4n): 2 alarms, 3-4 backlog, 5 battery, 6 n, 7-10 time, n readings
//	     (humidity + temperature, or RTD temperature); the last is the current reading
//	0x03 one backlog reading (10), 0x04 several (3 + 8n): past readings
//	0x05, 0x06, 0x07, 0x08, 0x0C: configuration and firmware reports (nothing measured)
//	0x09 open/closed state (6): 2 mode (0 door sensor, 1 pushbutton), 3 state (1 open)
//	0x0A battery voltage (4): 2 volts, two-byte value
//	0x0B RTD temperature (11): 2-5 temperature, 6 battery capacity
//
// Message lengths are checked exactly, as the vendor's codec does. Timestamps count from the
// sensor's epoch, which the vendor's own examples disagree on (2000 or 2015): past readings are
// kept without a time.

type lairdModel struct {
	name    string
	probe   string
	rtd     bool // the RTD sensor: four-byte temperatures, no humidity
	contact bool // the multi-sensor: open/closed messages
}

func lairdTwo(b []byte, i int) float64 { return float64(int8(b[i+1])) + float64(int8(b[i]))/100 }

func lairdFour(b []byte, i int) float64 {
	return float64(int16(be16(b, i+2))) + float64(int16(be16(b, i)))/100
}

var lairdCapacityPercent = [...]int{0, 5, 20, 40, 60, 80}

func decodeLaird(lm lairdModel) func(int, []byte, *builder) {
	return func(_ int, b []byte, out *builder) {
		if len(b) < 2 {
			out.payloadFault("payload too short for the %s (%d bytes)", lm.name, len(b))
			return
		}
		typ := b[0]
		ok, known := lm.lengthOK(typ, b)
		if !known {
			out.payloadFault("unknown %s message type 0x%02X", lm.name, typ)
			return
		}
		if !ok {
			out.payloadFault("%s message 0x%02X has a wrong length (%d bytes)", lm.name, typ, len(b))
			return
		}
		if b[1]&0x10 != 0 {
			out.sensorFault("the %s reports a sensor fault", lm.name)
		}
		switch typ {
		case 0x01:
			if !lm.capacity(b[6], out) {
				return
			}
			out.humidity(lairdTwo(b, 2))
			out.temp(lm.probe, lairdTwo(b, 4))
		case 0x02:
			if !lm.capacity(b[5], out) {
				return
			}
			for i := 11; i < len(b); i += 4 {
				s := lm.reading(b, i)
				if i+4 < len(b) {
					out.sample(s)
					continue
				}
				out.r.Temperatures = append(out.r.Temperatures, s.Temperatures...)
				out.r.HumidityPct = s.HumidityPct
			}
		case 0x03:
			out.sample(lm.reading(b, 6))
			out.r.Frame = FrameHistory
		case 0x04:
			for i := 3; i+8 <= len(b); i += 8 {
				out.sample(lm.reading(b, i+4))
			}
			out.r.Frame = FrameHistory
		case 0x09:
			if b[2] > 1 || b[3] > 1 {
				out.payloadFault("%s open/closed message with mode %d, state %d", lm.name, b[2], b[3])
				return
			}
			if b[2] == 0 { // door sensor mode; a pushbutton is not a door
				out.door(b[3] == 1)
			} else {
				out.r.Frame = FrameInfo
			}
		case 0x0A:
			out.volts(lairdTwo(b, 2))
		case 0x0B:
			if !lm.capacity(b[6], out) {
				return
			}
			out.temp(lm.probe, lairdFour(b, 2))
		default: // configuration and firmware reports
			out.r.Frame = FrameInfo
		}
	}
}

// Exact lengths of the fixed-size messages (the vendor's codec rejects any other length).
var (
	lairdCommonLengths  = map[byte]int{0x03: 10, 0x05: 8, 0x07: 11, 0x0A: 4}
	lairdTHLengths      = map[byte]int{0x01: 11, 0x06: 16}
	lairdRTDLengths     = map[byte]int{0x0B: 11, 0x0C: 15}
	lairdContactLengths = map[byte]int{0x08: 10, 0x09: 6}
)

// lengthOK checks a message's length; known is false for a type this model does not send.
func (lm lairdModel) lengthOK(typ byte, b []byte) (ok, known bool) {
	n := len(b)
	switch typ {
	case 0x02: // a header and n four-byte readings, at least one
		return n > 11 && n == 11+4*int(b[6]), true
	case 0x04: // a header and eight-byte readings (time + value), at least one
		return n >= 11 && (n-3)%8 == 0, true
	}
	tables := []map[byte]int{lairdCommonLengths, lairdTHLengths}
	if lm.rtd {
		tables[1] = lairdRTDLengths
	}
	if lm.contact {
		tables = append(tables, lairdContactLengths)
	}
	for _, t := range tables {
		if want, ok := t[typ]; ok {
			return n == want, true
		}
	}
	return false, false
}

// reading reads one four-byte reading at i: humidity and temperature, or an RTD temperature.
func (lm lairdModel) reading(b []byte, i int) Sample {
	if lm.rtd {
		return Sample{Temperatures: []ProbeTemperature{{lm.probe, lairdFour(b, i)}}}
	}
	h := lairdTwo(b, i)
	return Sample{HumidityPct: &h, Temperatures: []ProbeTemperature{{lm.probe, lairdTwo(b, i+2)}}}
}

// capacity records the battery capacity as the lower bound of its range.
func (lm lairdModel) capacity(v byte, out *builder) bool {
	if int(v) >= len(lairdCapacityPercent) {
		out.payloadFault("%s battery capacity code %d is not one of 0..5", lm.name, v)
		return false
	}
	out.percent(lairdCapacityPercent[v])
	return true
}
