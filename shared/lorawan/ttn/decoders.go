package ttn

// Built-in frm_payload decoders, ported from the vendors' public payload formats. Each works on
// the raw bytes only, checks every length before reading, and leaves unit normalisation and
// plausibility to finalize.

func be16(b []byte, i int) uint16 { return uint16(b[i])<<8 | uint16(b[i+1]) }
func le16(b []byte, i int) uint16 { return uint16(b[i+1])<<8 | uint16(b[i]) }

// decodeLHT65 decodes Dragino LHT65 / LHT65N sensor data (f_port 2, 11 bytes).
//
// Source: TheThingsNetwork/lorawan-devices vendor/dragino/lht65n.js and lht65n-codec.yaml;
// Dragino LHT65N user manual §2.4 "Uplink Payload (Fport=2)"
// (https://wiki.dragino.com/xwiki/bin/view/Main/User%20Manual%20for%20LoRaWAN%20End%20Nodes/LHT65N%20--%20LoRaWAN%20Temperature%20%26%20Humidity%20Sensor%20Manual/).
//
//	bytes 0-1  BAT: top 2 bits battery status, low 14 bits battery mV (Ext=9: DS18B20 int16/100)
//	bytes 2-3  built-in SHT temperature, int16 big-endian /100 °C
//	bytes 4-5  built-in SHT humidity, (uint16 & 0x0FFF) /10 %
//	byte  6    Ext: low nibble external sensor type (0 none, 1 DS18B20 probe, 2 TMP117 probe,
//	           9 DS18B20+timestamp, 15 probe ID); bit 7 poll/datalog reply
//	bytes 7-10 external sensor value (types 1/2: int16 /100 °C, 0x7FFF = probe not connected)
func decodeLHT65(fport int, b []byte) values {
	var v values
	const name = DecoderDraginoLHT65
	if fport != 2 {
		v.fault("%s: f_port %d carries no sensor data (want 2)", name, fport)
		return v
	}
	if len(b) < 11 {
		v.fault("payload too short for %s (%d bytes, want 11)", name, len(b))
		return v
	}
	ext := b[6] & 0x0F
	if b[6]&0x80 != 0 {
		// Poll reply / datalog: 11-byte records with timestamps of past measurements; not a
		// current reading.
		v.fault("%s: datalog/poll reply not decoded", name)
		return v
	}
	if ext == 9 {
		v.probe = probe16(b, 0, &v, name)
	} else {
		v.volts = f64(float64(be16(b, 0)&0x3FFF) / 1000)
	}
	if ext != 0x0F {
		sht := int16(be16(b, 2))
		if uint16(sht) == 0x7FFF { // SHT sensor error marker, as for the probe
			v.fault("%s: internal sensor error", name)
		} else {
			v.temp = f64(float64(sht) / 100)
			v.hum = f64(float64(be16(b, 4)&0x0FFF) / 10)
		}
	}
	if ext == 1 || ext == 2 {
		v.probe = probe16(b, 7, &v, name)
	}
	return v
}

func probe16(b []byte, i int, v *values, name string) *float64 {
	raw := be16(b, i)
	if raw == 0x7FFF {
		v.fault("%s: external probe not connected", name)
		return nil
	}
	return f64(float64(int16(raw)) / 100)
}

// decodeLDS02 decodes the Dragino LDS02 door sensor (f_port 10, 10 bytes).
//
// Source: TheThingsNetwork/lorawan-devices vendor/dragino/lds02.js and lds02-codec.yaml;
// Dragino LDS02 user manual (https://wiki.dragino.com/xwiki/bin/view/Main/User%20Manual%20for%20LoRaWAN%20End%20Nodes/LDS02%20-%20LoRaWAN%20Door%20Sensor%20User%20Manual/);
// arendst/Tasmota tasmota/berry/lorawan/decoders/vendors/dragino/LDS02.be.
//
//	bytes 0-1  bit 15 door open (1 open, 0 closed), bit 14 water leak, low 14 bits battery mV
//	byte  2    MOD (1 door, 2 water leak, 3 door + leak)
//	bytes 3-5  total door-open events; bytes 6-8 last open duration (min); byte 9 bit 0 alarm
func decodeLDS02(fport int, b []byte) values {
	var v values
	const name = DecoderDraginoLDS02
	if fport != 10 {
		v.fault("%s: f_port %d carries no sensor data (want 10)", name, fport)
		return v
	}
	if len(b) < 3 {
		v.fault("payload too short for %s (%d bytes, want 10)", name, len(b))
		return v
	}
	v.volts = f64(float64(be16(b, 0)&0x3FFF) / 1000)
	if mod := b[2]; mod == 1 || mod == 3 {
		open := b[0]&0x80 != 0
		v.door = &open
	}
	return v
}

// decodeEM300TH decodes the Milesight EM300 series channel/type TLV (EM300-TH; also EM300-MCS's
// magnet channel). Multi-byte values are little-endian.
//
// Source: Milesight-IoT/SensorDecoders EM_Series/EM300_Series/EM300-TH/EM300-TH_Decoder.js and
// README.md; TheThingsNetwork/lorawan-devices vendor/milesight-iot/em300-th.js and
// em300-th-codec.yaml; thingsboard/data-converters VENDORS/Milesight/EM300-MCS/guide.md.
//
//	01 75  battery, uint8 %          03 67  temperature, int16 /10 °C
//	04 68  humidity, uint8 /2 %RH    06 00  magnet status (EM300-MCS): 0 closed, 1 open
//	20 CE  history record (8 bytes, past data: skipped)
//	FF xx  device info (version, serial number, class, reset/status events: skipped)
//
// A channel this decoder does not know ends decoding (its length is unknown); it is a fault only
// when nothing was decoded.
func decodeEM300TH(_ int, b []byte) values {
	var v values
	const name = DecoderMilesightEM300TH
	if len(b) < 3 {
		v.fault("payload too short for %s (%d bytes)", name, len(b))
		return v
	}
	for i := 0; i+1 < len(b); {
		ch, typ := b[i], b[i+1]
		i += 2
		n := em300Size(ch, typ)
		if n < 0 {
			if v.empty() {
				v.fault("%s: unknown channel 0x%02X 0x%02X at byte %d", name, ch, typ, i-2)
			}
			return v
		}
		if i+n > len(b) {
			v.fault("payload truncated for %s (channel 0x%02X 0x%02X at byte %d)", name, ch, typ, i-2)
			return v
		}
		switch {
		case ch == 0x01 && typ == 0x75:
			v.pct = f64(float64(b[i]))
		case ch == 0x03 && typ == 0x67:
			v.temp = f64(float64(int16(le16(b, i))) / 10)
		case ch == 0x04 && typ == 0x68:
			v.hum = f64(float64(b[i]) / 2)
		case ch == 0x06 && typ == 0x00:
			open := b[i] != 0
			v.door = &open
		}
		i += n
	}
	return v
}

func em300Size(ch, typ byte) int {
	switch {
	case ch == 0x01 && typ == 0x75, ch == 0x04 && typ == 0x68, ch == 0x06 && typ == 0x00:
		return 1
	case ch == 0x03 && typ == 0x67:
		return 2
	case ch == 0x20 && typ == 0xCE:
		return 8
	case ch == 0xFF:
		switch typ {
		case 0x01, 0x0F, 0xFE, 0x0B:
			return 1
		case 0x09, 0x0A, 0xFF:
			return 2
		case 0x16:
			return 8
		}
	}
	return -1
}

// elsysSizes is the data length of each Elsys payload type.
//
// Source: TheThingsNetwork/lorawan-devices vendor/elsys/elsys.js ("ELSYS simple payload
// decoder", www.elsys.se) and ems-door-codec.yaml. Door polarity of TYPE_EXT_DIGITAL on the EMS:
// allthingstalk/device-types ELSYS/EMS/EMS/README.md ("digital: Door Closed").
var elsysSizes = [...]int8{
	0x01: 2, 0x02: 1, 0x03: 3, 0x04: 2, 0x05: 1, 0x06: 2, 0x07: 2, 0x08: 2, 0x09: 6, 0x0A: 2,
	0x0B: 4, 0x0C: 2, 0x0D: 1, 0x0E: 2, 0x0F: 1, 0x10: 4, 0x11: 1, 0x12: 1, 0x13: 65, 0x14: 4,
	0x15: 2, 0x16: 2, 0x17: 4, 0x18: 2, 0x19: 2, 0x1A: 1, 0x1B: 4, 0x1C: 2, 0x3D: 4,
}

// decodeElsys decodes the Elsys type/value payload (ERS, ELT, EMS...), big-endian:
//
//	01 temperature int16 /10 °C   02 humidity uint8 %   07 VDD uint16 mV
//	0C external temperature int16 /10 °C (probe)        0D digital input (EMS door: 1 closed, 0 open)
//
// Other types are skipped by their documented length; an unknown type ends decoding (like
// elsys.js), a fault only when nothing was decoded.
func decodeElsys(_ int, b []byte) values {
	var v values
	const name = DecoderElsys
	if len(b) < 2 {
		v.fault("payload too short for %s (%d bytes)", name, len(b))
		return v
	}
	for i := 0; i < len(b); {
		typ := b[i]
		n := -1
		if int(typ) < len(elsysSizes) && elsysSizes[typ] > 0 {
			n = int(elsysSizes[typ])
		}
		if n < 0 {
			if v.empty() {
				v.fault("%s: unknown data type 0x%02X at byte %d", name, typ, i)
			}
			return v
		}
		if i+1+n > len(b) {
			v.fault("payload truncated for %s (type 0x%02X at byte %d)", name, typ, i)
			return v
		}
		d := i + 1
		switch typ {
		case 0x01:
			v.temp = f64(float64(int16(be16(b, d))) / 10)
		case 0x02:
			v.hum = f64(float64(b[d]))
		case 0x07:
			v.volts = f64(float64(be16(b, d)) / 1000)
		case 0x0C:
			v.probe = f64(float64(int16(be16(b, d))) / 10)
		case 0x0D:
			open := b[d] == 0
			v.door = &open
		}
		i = d + n
	}
	return v
}
