package decoders

// Milesight payloads are a sequence of channels: a channel id byte, a type byte, then a value of
// a length fixed by the pair; multi-byte values are little-endian. Sources: Milesight-IoT/
// SensorDecoders EM_Series/EM300_Series/{EM300-TH,EM320-TH,EM300-MCS}, EM_Series/EM500_Series/
// EM500-PT100 and WS_Series/WS301 (README payload tables and *_Decoder.js);
// TheThingsNetwork/lorawan-devices vendor/milesight-iot/*.js and -codec.yaml.
//
// Like the vendor's decoders, a channel this table does not know ends decoding (its length is
// unknown); it is a fault only when nothing was read before it.

type msKind uint8

const (
	msSkip        msKind = iota // known length, nothing we use (versions, serial number, settings)
	msBattery                   // uint8 %
	msTemperature               // int16 /10 °C
	msHumidity                  // uint8 /2 %
	msMagnet                    // uint8: 0 closed, 1 open (EM300-MCS magnet_status)
	msDoor                      // uint8: 0 closed, 1 open (WS301 door/window state)
	msTempAlarm                 // int16 /10 °C, then the change and the alarm type (EM500-PT100)
	msHistoryT                  // history: uint32 Unix time, int16 /10 °C (EM500-PT100)
	msHistoryTH                 // history: time, temperature, uint8 /2 % (EM320-TH; EM300-TH adds a reserved byte)
	msHistoryTHM                // history: time, temperature, humidity, magnet (EM300-MCS)
)

type msChannel struct {
	id, typ byte
}

type msField struct {
	size int
	kind msKind
}

// milesightCommon are the channels every model here shares: battery, temperature, humidity, the
// device information (0xFF) and the answers to configuration downlinks (0xFE/0xFF), whose lengths
// are the same in every Milesight decoder that has them.
var milesightCommon = func() map[msChannel]msField {
	t := map[msChannel]msField{
		{0x01, 0x75}: {1, msBattery},
		{0x03, 0x67}: {2, msTemperature},
		{0x04, 0x68}: {1, msHumidity},
	}
	responses := map[byte]int{0x02: 2, 0x03: 2, 0x06: 9, 0x10: 1, 0x11: 4, 0x17: 2, 0x1B: 5, 0x1C: 2, 0x27: 1, 0x28: 1,
		0x35: 8, 0x3B: 1, 0x4A: 1, 0x68: 1, 0x69: 1, 0x6A: 3, 0x6D: 1, 0x79: 6, 0x84: 1, 0x96: 8, 0xEA: 3, 0xF1: 4, 0xF2: 2, 0xF5: 1}
	for typ, n := range responses {
		t[msChannel{0xFE, typ}] = msField{n, msSkip}
		t[msChannel{0xFF, typ}] = msField{n, msSkip}
	}
	// Device information: protocol, hardware, firmware and TSL versions, serial number, LoRaWAN
	// class, reset and power-on events.
	for typ, n := range map[byte]int{0x01: 1, 0x09: 2, 0x0A: 2, 0xFF: 2, 0x16: 8, 0x0F: 1, 0xFE: 1, 0x0B: 1} {
		t[msChannel{0xFF, typ}] = msField{n, msSkip}
	}
	return t
}()

// milesight returns the decoder of a model with its own channels on top of the common ones.
func milesight(name, probe string, own map[msChannel]msField) func(int, []byte, *builder) {
	table := make(map[msChannel]msField, len(milesightCommon)+len(own))
	for k, v := range milesightCommon {
		table[k] = v
	}
	for k, v := range own {
		table[k] = v
	}
	size := func(key []byte) (int, bool) {
		f, ok := table[msChannel{key[0], key[1]}]
		return f.size, ok
	}
	return func(_ int, b []byte, out *builder) {
		if len(b) < 3 {
			out.payloadFault("payload too short for the %s (%d bytes)", name, len(b))
			return
		}
		out.walkRecords(b, 0, 2, "the "+name, "channel", size, func(key []byte, v int) {
			switch f := table[msChannel{key[0], key[1]}]; f.kind {
			case msBattery:
				out.percent(int(b[v]))
			case msTemperature, msTempAlarm:
				out.temp(probe, float64(int16(le16(b, v)))/10)
			case msHumidity:
				out.humidity(float64(b[v]) / 2)
			case msMagnet, msDoor:
				out.door(b[v] != 0)
			case msHistoryT, msHistoryTH, msHistoryTHM:
				s := Sample{At: unixSeconds(le32(b, v)), Temperatures: []ProbeTemperature{{probe, float64(int16(le16(b, v+4))) / 10}}}
				if f.kind != msHistoryT {
					h := float64(b[v+6]) / 2
					s.HumidityPct = &h
				}
				if f.kind == msHistoryTHM {
					open := b[v+7] != 0
					s.DoorOpen = &open
				}
				out.sample(s)
			}
		})
	}
}
