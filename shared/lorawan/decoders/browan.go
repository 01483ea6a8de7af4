package decoders

// Browan TABS sensors. Sources: TheThingsNetwork/lorawan-devices vendor/browan/tbhh100.js,
// tbhv110.js, tbdw100.js and their -codec.yaml examples.
//
//	byte 1 bits 0-3: battery, (25 + n) / 10 V         temperatures: (byte & 0x7F) - 32 °C
//	TBHH100 (f_port 103): 0 status, 2 temperature, 3 humidity (& 0x7F) %
//	TBHV110 (f_port 103): 0 status, 2 circuit-board temperature, 3 humidity, 4-9 eCO2, VOC, IAQ
//	  (little-endian), 10 ambient temperature; an all-zero payload carries nothing
//	TBDW100 (f_port 100): 0 bit 0 door (1 open), 2 board temperature, 3-4 open time, 5-7 count

func browanBattery(b []byte, out *builder) { out.volts(float64(25+int(b[1]&0x0F)) / 10) }

func browanTemp(v byte) float64 { return float64(int(v&0x7F) - 32) }

func decodeTBHH100(fport int, b []byte, out *builder) {
	if !out.accept("TBHH100", fport, 103, b, 4) {
		return
	}
	browanBattery(b, out)
	out.temp("internal", browanTemp(b[2]))
	out.humidity(float64(b[3] & 0x7F))
}

func decodeTBHV110(fport int, b []byte, out *builder) {
	if fport == 103 && allZero(b) {
		out.r.Frame = FrameInfo
		return
	}
	if !out.accept("TBHV110", fport, 103, b, 11) {
		return
	}
	browanBattery(b, out)
	out.temp("board", browanTemp(b[2]))
	out.humidity(float64(b[3] & 0x7F))
	out.temp("ambient", browanTemp(b[10]))
}

func decodeTBDW100(fport int, b []byte, out *builder) {
	if !out.accept("TBDW100", fport, 100, b, 8) {
		return
	}
	out.door(b[0]&0x01 != 0)
	browanBattery(b, out)
	out.temp("board", browanTemp(b[2]))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
