package decoders

import "time"

// Dragino payloads, big-endian. Sources: TheThingsNetwork/lorawan-devices vendor/dragino/
// lht65.js, lht65n.js, lht52.js, lsn50v2-d20.js, lsn50v2-d20-d22-d23.js, d2x-lb.js, lds02.js,
// lds01.js and their -codec.yaml examples; the Dragino wiki manuals of the LHT65N (§2.4 uplink
// payload, §2.4.2 BAT), LHT52 (§2.4) and LDS02. Dragino marks a missing or failed digital sensor
// with 0x7FFF (327.67 °C at /100, 3276.7 °C at /10): a sensor fault, never a temperature.

const draginoNoSensor = 0x7FFF

// draginoTemp reads a signed temperature and reports Dragino's "no sensor" marker as a fault.
func draginoTemp(out *builder, b []byte, i int, div float64, probe, what string) {
	if be16(b, i) == draginoNoSensor {
		out.probeFault(probe, "%s not connected or failed (0x7FFF)", what)
		return
	}
	out.temp(probe, sbe16(b, i, div))
}

// decodeLHT65 decodes the LHT65 and LHT65N (f_port 2, 11 bytes):
//
//	bytes 0-1  battery: top 2 bits status, low 14 bits mV (Ext 9: the external probe, /100 °C)
//	bytes 2-3  built-in SHT temperature, int16 /100 °C      bytes 4-5  humidity, (& 0x0FFF) /10 %
//	byte  6    Ext: bits 0-3 external sensor type (0 none, 1 DS18B20, 2 TMP117, 9 DS18B20 with
//	           timestamp, 15 probe id: no SHT values); bit 6 poll-message reply; bit 7 "sensor
//	           no connection" (the external sensor is not connected)
//	bytes 7-10 external value (types 1, 2: int16 /100 °C)
func decodeLHT65(fport int, b []byte, out *builder) {
	if !out.accept("LHT65", fport, 2, b, 11) {
		return
	}
	ext, poll, noConnect := b[6]&0x0F, b[6]&0x40 != 0, b[6]&0x80 != 0
	if poll {
		// The reply to a datalog poll: past records, not the current reading.
		out.r.Frame = FrameHistory
		return
	}
	if ext == 9 {
		if noConnect {
			out.probeFault("external", "external probe not connected")
		} else {
			draginoTemp(out, b, 0, 100, "external", "external probe")
		}
	} else {
		out.volts(float64(be16(b, 0)&0x3FFF) / 1000)
	}
	if ext != 0x0F {
		if be16(b, 2) == draginoNoSensor {
			out.probeFault("internal", "built-in sensor failed (0x7FFF)")
		} else {
			out.temp("internal", sbe16(b, 2, 100))
			out.humidity(float64(be16(b, 4)&0x0FFF) / 10)
		}
	}
	if ext == 1 || ext == 2 {
		if noConnect {
			out.probeFault("external", "external probe not connected")
		} else {
			draginoTemp(out, b, 7, 100, "external", "external probe")
		}
	}
}

// decodeLHT52 decodes the LHT52:
//
//	f_port 2 (11 bytes): 0-1 built-in temperature int16 /100 °C, 2-3 humidity int16 /10 %,
//	  4-5 external probe int16 /100 °C (0x7FFF: none), 6 Ext (0: no probe), 7-10 Unix time
//	  (any other length: "RPL data or sensor reset", nothing measured)
//	f_port 3 datalog, f_port 4 probe id: nothing current
//	f_port 5 status: 0 model, 1-2 firmware, 3 band, 4 sub-band, 5-6 battery mV
func decodeLHT52(fport int, b []byte, out *builder) {
	switch fport {
	case 2:
		if len(b) != 11 {
			out.r.Frame = FrameInfo
			return
		}
		draginoTemp(out, b, 0, 100, "internal", "built-in sensor")
		out.humidity(sbe16(b, 2, 10))
		if ext := b[6]; ext != 0 || be16(b, 4) != draginoNoSensor {
			draginoTemp(out, b, 4, 100, "external", "external probe")
		}
	case 3:
		out.r.Frame = FrameHistory
	case 4:
		out.r.Frame = FrameInfo
	case 5:
		if len(b) < 7 {
			out.payloadFault("status payload too short for the LHT52 (%d bytes, want 7)", len(b))
			return
		}
		out.volts(float64(be16(b, 5)) / 1000)
	default:
		out.payloadFault("unknown fPort %d", fport)
	}
}

// decodeLSN50v2D20 decodes the LSN50v2-D20 (f_port 2, 11 or 12 bytes). Byte 6 bits 2-6 are the
// work mode: 0 I2C (SHT temperature/humidity in 7-10), 1 distance, 2 three ADCs, 3 three
// DS18B20, 4 weight, 5 count, 31 alarm configuration. Bytes 0-1 battery mV (mode 2: byte 11
// /10 V), 2-3 the first DS18B20 int16 /10 °C (modes other than 2), 7-8 and 9-10 the second and
// third DS18B20 in mode 3. Byte 6 bit 7 is the interrupt pin the vendor's codec names
// "Door_status": it is a door only if a reed switch is wired to it, so it is not read as one.
func decodeLSN50v2D20(fport int, b []byte, out *builder) {
	if !out.accept("LSN50v2", fport, 2, b, 11) {
		return
	}
	mode := (b[6] & 0x7C) >> 2
	if mode == 2 {
		if len(b) >= 12 {
			out.volts(float64(b[11]) / 10)
		}
	} else {
		out.volts(float64(be16(b, 0)) / 1000)
		draginoTemp(out, b, 2, 10, "probe1", "DS18B20 probe 1")
	}
	switch mode {
	case 0, 2:
		// The SHT sensor is absent when its humidity word is 0 (the codec reads illuminance then).
		if be16(b, 9) != 0 {
			draginoTemp(out, b, 7, 10, "sht", "SHT sensor")
			out.humidity(float64(be16(b, 9)) / 10)
		}
	case 3:
		draginoTemp(out, b, 7, 10, "probe2", "DS18B20 probe 2")
		draginoTemp(out, b, 9, 10, "probe3", "DS18B20 probe 3")
	}
}

// decodeDraginoDS18B20x3 decodes the three-probe DS18B20 payload of the LSN50v2-D20/D22/D23 and
// the D20-LB/D22-LB/D23-LB (f_port 2, 11 bytes, work mode 3): 0-1 battery mV, 2-3, 7-8, 9-10
// the probes, int16 /10 °C, 0xFFFF where no probe is fitted (0x7FFF: failed). The vendor's codecs
// read the third probe unsigned, so a freezer at -18 °C would read 6535.6 °C; it is signed here,
// as the other two and as the DS18B20 is. Mode 31 is an alarm-configuration report. f_port 5
// (D2x-LB) is the device status, with the battery in bytes 5-6 (mV).
func decodeDraginoDS18B20x3(probes [3]string) func(int, []byte, *builder) {
	return func(fport int, b []byte, out *builder) {
		switch fport {
		case 2:
		case 5:
			if len(b) < 7 {
				out.payloadFault("status payload too short (%d bytes, want 7)", len(b))
				return
			}
			out.volts(float64(be16(b, 5)) / 1000)
			return
		default:
			out.payloadFault("unknown fPort %d (data is on fPort 2)", fport)
			return
		}
		if len(b) != 11 {
			out.payloadFault("payload of %d bytes, want 11", len(b))
			return
		}
		switch mode := (b[6] & 0x7C) >> 2; mode {
		case 3:
		case 31:
			out.r.Frame = FrameInfo
			return
		default:
			out.payloadFault("work mode %d is not the DS18B20 mode (3)", mode)
			return
		}
		out.volts(float64(be16(b, 0)) / 1000)
		for i, at := range [3]int{2, 7, 9} {
			if be16(b, at) == 0xFFFF {
				continue // no probe on this input
			}
			draginoTemp(out, b, at, 10, probes[i], probes[i]+" probe")
		}
	}
}

// decodeLDS02 decodes the LDS01/LDS02 door sensors (f_port 10, 10 bytes; the repository's
// example has 7): bytes 0-1 bit 15 door open, bit 14 water leak, low 14 bits battery mV; byte 2
// MOD (1 door, 2 water leak, 3 both); then counters, durations and the alarm flag.
func decodeLDS02(fport int, b []byte, out *builder) {
	if !out.accept("LDS01/LDS02", fport, 10, b, 3) {
		return
	}
	out.volts(float64(be16(b, 0)&0x3FFF) / 1000)
	if mod := b[2]; mod == 1 || mod == 3 {
		out.door(b[0]&0x80 != 0)
	}
}

// unixSeconds is a device time in Unix seconds, if it is plausible (after 2015, not far ahead).
func unixSeconds(s uint32) *time.Time {
	if s < 1420070400 || s > 4102444800 {
		return nil
	}
	t := time.Unix(int64(s), 0).UTC()
	return &t
}
