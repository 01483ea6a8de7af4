package decoders

// Elsys payloads (ERS, EMS, ELT...) are a sequence of a type byte and a value of a length fixed by
// the type, big-endian. Source: TheThingsNetwork/lorawan-devices vendor/elsys/elsys.js ("ELSYS
// simple payload decoder", www.elsys.se) and ers/ems/ems-door-codec.yaml. Door polarity of the
// digital input on the EMS: allthingstalk/device-types ELSYS/EMS/EMS/README.md ("digital: Door
// Closed"), as shared/lorawan/ttn decodes it.
//
//	0x01 temperature int16 /10 °C (internal)   0x02 humidity uint8 %   0x07 VDD uint16 mV
//	0x0C external temperature int16 /10 °C     0x19 external temperature 2, same
//	0x0D digital input: on the EMS the door switch, 1 closed, 0 open
//
// Other types are skipped by their length; an unknown type ends decoding (like elsys.js), a
// fault only when nothing was read before it.

var elsysSizes = [...]int8{
	0x01: 2, 0x02: 1, 0x03: 3, 0x04: 2, 0x05: 1, 0x06: 2, 0x07: 2, 0x08: 2, 0x09: 6, 0x0A: 2,
	0x0B: 4, 0x0C: 2, 0x0D: 1, 0x0E: 2, 0x0F: 1, 0x10: 4, 0x11: 1, 0x12: 1, 0x13: 65, 0x14: 4,
	0x15: 2, 0x16: 2, 0x17: 4, 0x18: 2, 0x19: 2, 0x1A: 1, 0x1B: 4, 0x1C: 2, 0x3D: 4,
}

func decodeElsys(_ int, b []byte, out *builder) {
	if len(b) < 2 {
		out.payloadFault("payload too short for an Elsys sensor (%d bytes)", len(b))
		return
	}
	size := func(key []byte) (int, bool) {
		typ := int(key[0])
		if typ < len(elsysSizes) && elsysSizes[typ] > 0 {
			return int(elsysSizes[typ]), true
		}
		return 0, false
	}
	out.walkRecords(b, 0, 1, "an Elsys sensor", "data type", size, func(key []byte, v int) {
		switch key[0] {
		case 0x01:
			out.temp("internal", sbe16(b, v, 10))
		case 0x02:
			out.humidity(float64(b[v]))
		case 0x07:
			out.volts(float64(be16(b, v)) / 1000)
		case 0x0C:
			out.temp("external", sbe16(b, v, 10))
		case 0x19:
			out.temp("external2", sbe16(b, v, 10))
		case 0x0D:
			out.door(b[v] == 0)
		}
	})
}
