package decoders

// Sensative Strips (one codec for Comfort, Guard, Drip...). Source: TheThingsNetwork/
// lorawan-devices vendor/sensative/strips.js and strips-codec.yaml.
//
// f_port 1: a two-byte history sequence number, then reports: a type byte (bit 7: the report is
// also stored in the history) and a value of a length fixed by the type, big-endian:
//
//	1 battery %   2 temperature int16 /10 °C   4 average temperature   6 humidity /2 %
//	80 humidity + temperature   81 humidity + average temperature   82 door + temperature
//	(alarms, lux, flood, presence... are skipped by their length)
//
// f_port 2 carries history records (seconds ago + a report): past values, not decoded.
//
// The door reports are not read: the vendor's codec contradicts itself on their polarity
// (type 9: "false = door open, true = door closed"; type 82: "true = door open, false = door
// closed"). Until Sensative's own documentation settles it, guessing would page for a closed
// door or miss an open one.
var stripsSizes = map[byte]int{
	0: 0, 1: 1, 2: 2, 3: 1, 4: 2, 5: 1, 6: 1, 7: 2, 8: 2, 9: 1, 10: 1, 11: 1, 12: 1, 13: 1, 14: 1, 15: 1,
	16: 1, 17: 2, 18: 1, 19: 2, 20: 2, 21: 1, 22: 1, 80: 3, 81: 3, 82: 3, 110: 8, 112: 2, 113: 2, 114: 2,
}

func decodeStrips(fport int, b []byte, out *builder) {
	switch fport {
	case 1:
	case 2:
		out.r.Frame = FrameHistory
		return
	default:
		out.payloadFault("unknown fPort %d", fport)
		return
	}
	if len(b) < 2 {
		out.payloadFault("payload too short for Strips (%d bytes)", len(b))
		return
	}
	size := func(key []byte) (int, bool) {
		n, ok := stripsSizes[key[0]&0x7F]
		return n, ok
	}
	out.walkRecords(b, 2, 1, "Strips", "report type", size, func(key []byte, v int) {
		switch key[0] & 0x7F {
		case 1:
			out.percent(int(b[v]))
		case 2:
			out.temp("internal", sbe16(b, v, 10))
		case 6:
			out.humidity(float64(b[v]) / 2)
		case 80:
			out.humidity(float64(b[v]) / 2)
			out.temp("internal", sbe16(b, v+1, 10))
		case 82:
			out.temp("internal", sbe16(b, v+1, 10))
		}
	})
}
