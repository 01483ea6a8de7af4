package decoders

// Netvox payloads (11 bytes, big-endian). Sources: TheThingsNetwork/lorawan-devices
// vendor/netvox/payload/r711_r718a_r718ab_r720a.js, r718cj_ck_ct_cr_ce_r718b.js,
// r311a_r718f_r730f.js (and the older r718a.js), the r718a/r718ab/r718b/r311a-codec.yaml
// examples; Netvox's R311 family manuals for the contact polarity ("status: Close: 0 (off),
// Open: 1 (on)", R311CB/R313CB user manuals §5).
//
//	f_port 6, byte 0 version, byte 1 device type, byte 2 report type:
//	  report type 0x00: startup version report (software, hardware, date code): nothing measured
//	  report type 0x01: byte 3 battery /10 V, bit 7 set when the battery is low;
//	    R718A/R718AB: 4-5 temperature int16 /100 °C, 6-7 humidity /100 %
//	    R718B:        4-5 temperature (PT1000 probe) int16 /10 °C
//	    R311A:        4 contact: 1 open, 0 closed
//	f_port 7: answers to configuration commands; f_port 14 (R718B): calibration answers
//
// Byte 1 names the device type; a report of another type than the sensor's model is a payload
// fault rather than another model's values read as this one's.

type netvoxModel struct {
	name       string
	deviceType byte
	readings   func(b []byte, out *builder) // decodes a report of type 0x01 (at least 11 bytes)
}

func decodeNetvox(nm netvoxModel) func(int, []byte, *builder) {
	return func(fport int, b []byte, out *builder) {
		switch fport {
		case 6:
		case 7, 14:
			out.r.Frame = FrameInfo
			return
		default:
			out.payloadFault("unknown fPort %d", fport)
			return
		}
		if len(b) < 11 {
			out.payloadFault("payload too short for the %s (%d bytes, want 11)", nm.name, len(b))
			return
		}
		if b[1] != nm.deviceType {
			out.payloadFault("a report of Netvox device type 0x%02X, not the %s's (0x%02X)", b[1], nm.name, nm.deviceType)
			return
		}
		switch b[2] {
		case 0x00:
			out.r.Frame = FrameInfo
		case 0x01:
			out.volts(float64(b[3]&0x7F) / 10)
			out.r.BatteryLow = b[3]&0x80 != 0
			nm.readings(b, out)
		default:
			out.payloadFault("unknown %s report type 0x%02X", nm.name, b[2])
		}
	}
}

func netvoxTempHumidity(b []byte, out *builder) {
	out.temp("internal", sbe16(b, 4, 100))
	out.humidity(float64(be16(b, 6)) / 100)
}

func netvoxProbe(b []byte, out *builder) { out.temp("probe", sbe16(b, 4, 10)) }

func netvoxContact(b []byte, out *builder) { out.door(b[4] != 0) }
