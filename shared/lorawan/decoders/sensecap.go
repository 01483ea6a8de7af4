package decoders

// SenseCAP S210x sensors (S2101 air temperature and humidity, and the rest of the family).
// Source: TheThingsNetwork/lorawan-devices vendor/sensecap/sensecap210x-common-decoder.js and
// sensecap210x-codec.yaml.
//
// The payload is frames of 7 bytes and a 2-byte checksum: channel, data id (uint16 LE), value
// (4 bytes LE). Data ids above 4096 are measurements, int32 / 1000: 4097 air temperature °C, 4098
// air humidity %. Id 7 is the battery (low 16 bits, %) and the upload interval (high 16 bits,
// minutes); ids 0-4 and 0x120 are versions, the sensor's EUI and a removed-sensor notice.
//
// The checksum is CRC-16/KERMIT of the frames, little-endian: it matches all three of the
// vendor's examples (the TTN codec skips the check). A payload that fails it is a payload fault:
// a corrupted frame must not become a temperature.

const (
	sensecapAirTemperature = 4097
	sensecapAirHumidity    = 4098
	sensecapBattery        = 7
)

func decodeSenseCAP210x(_ int, b []byte, out *builder) {
	if len(b) < 9 || (len(b)-2)%7 != 0 {
		out.payloadFault("SenseCAP payload of %d bytes is not 7-byte frames and a checksum", len(b))
		return
	}
	body := b[:len(b)-2]
	if got, want := crc16Kermit(body), le16(b, len(b)-2); got != want {
		out.payloadFault("SenseCAP checksum 0x%04X, computed 0x%04X: corrupted payload", want, got)
		return
	}
	for i := 0; i+7 <= len(body); i += 7 {
		id := le16(body, i+1)
		v := le32(body, i+3)
		switch {
		case id == sensecapAirTemperature:
			out.temp("air", float64(int32(v))/1000)
		case id == sensecapAirHumidity:
			out.humidity(float64(int32(v)) / 1000)
		case id == sensecapBattery:
			out.percent(int(v & 0xFFFF))
		}
	}
}

// crc16Kermit is CRC-16/KERMIT (CCITT polynomial, reflected, initial value 0).
func crc16Kermit(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x8408
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
