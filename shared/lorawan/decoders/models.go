package decoders

// The models the registry knows: every cold-chain model of The Things Network's device
// repository that measures a temperature or a door and whose vendor examples we test against
// (testdata/lorawan-device-vectors.json), plus the two the repository has no examples for but
// FrostGuard already decoded (Milesight EM300-MCS, Elsys ELT-2).
//
// Measuring ranges are the vendor's documented ones where we could read them; RangeSource names
// the document. "device repository" is vendor/<brand>/<model>.yaml of TheThingsNetwork/
// lorawan-devices, written by the vendors: its operatingConditions are the device's operating
// range, used for sensors built into the device when no measuring range is published. A probe
// without a documented range falls back to FallbackMinC..FallbackMaxC.

const (
	srcLHT65N    = "Dragino LHT65N user manual §1.3 Specification"
	srcLHT52     = "Dragino LHT52 user manual §1.3 Specification (built-in sensor operating range)"
	srcDS18B20   = "DS18B20 probe range, as the Dragino LHT65N manual §1.3 states it for its external probe"
	srcIEC60751  = "IEC 60751 platinum RTD range (the vendor's probe range is not published in the documents available)"
	srcLHT65NBat = "Dragino LHT65N user manual §2.4.2: battery low at 2.50-2.55 V, ultra low at or below 2.50 V"
	srcRepo      = "device repository operatingConditions"
	srcRepoProbe = "device repository probeoperatingConditions"
	srcS2101     = "device repository description: \"measuring ranges from -40°C to 85°C\""
)

var draginoExternal = Probe{Name: "external", Description: "external DS18B20 or TMP117 probe", MinC: -55, MaxC: 125, RangeSource: srcDS18B20}

var models = []Model{
	{
		ID: "dragino/lht65", Vendor: "Dragino", Name: "LHT65",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in SHT temperature and humidity sensor", MinC: -40, MaxC: 85, RangeSource: srcLHT65N},
			draginoExternal,
		},
		DefaultProbe:     "internal",
		Battery:          BatteryThresholds{LowVolts: 2.55, Source: srcLHT65NBat},
		Aliases:          []string{"dragino-lht65", "LHT65"},
		RepositoryModels: []string{"lht65"},
		Notes:            "Ext=9 puts the external probe in bytes 0-1 (no battery voltage then). Datalog poll replies (Ext bit 6) carry past records and are not decoded; fPort 5 status frames are not decoded.",
		decode:           decodeLHT65,
	},
	{
		ID: "dragino/lht65n", Vendor: "Dragino", Name: "LHT65N",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in SHT31 temperature and humidity sensor", MinC: -40, MaxC: 85, RangeSource: srcLHT65N},
			draginoExternal,
		},
		DefaultProbe:     "internal",
		Battery:          BatteryThresholds{LowVolts: 2.55, Source: srcLHT65NBat},
		Aliases:          []string{"LHT65N", "LHT65N-E1"},
		RepositoryModels: []string{"lht65n"},
		Notes:            "Same payload as the LHT65.",
		decode:           decodeLHT65,
	},
	{
		ID: "dragino/lht52", Vendor: "Dragino", Name: "LHT52",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: -20, MaxC: 50, RangeSource: srcLHT52},
			{Name: "external", Description: "external DS18B20 probe (USB-C)", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"LHT52"},
		RepositoryModels: []string{"lht52"},
		Notes:            "The built-in sensor's specified range is -20..50 °C: in a freezer, measure with the external probe. The battery voltage comes only in fPort 5 status frames; fPort 3 datalogs are not decoded.",
		decode:           decodeLHT52,
	},
	{
		ID: "dragino/lsn50v2-d20", Vendor: "Dragino", Name: "LSN50v2-D20",
		Measures: []Quantity{Temperature, Battery},
		Probes: []Probe{
			{Name: "probe1", Description: "DS18B20 probe (the D20's probe; the first of three in mode 3)", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
			{Name: "probe2", Description: "second DS18B20 probe (work mode 3)", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
			{Name: "probe3", Description: "third DS18B20 probe (work mode 3)", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
			{Name: "sht", Description: "SHT temperature and humidity sensor on the I2C input (work mode 0)"},
		},
		DefaultProbe:     "probe1",
		Aliases:          []string{"LSN50v2-D20", "LSN50-D20"},
		RepositoryModels: []string{"lsn50v2-d20"},
		Notes:            "The interrupt pin the vendor's codec calls Door_status is not read as a door: it reads OPEN whenever nothing is wired to it.",
		decode:           decodeLSN50v2D20,
	},
	{
		ID: "dragino/lsn50v2-d20-d22-d23", Vendor: "Dragino", Name: "LSN50v2-D20/D22/D23",
		Measures: []Quantity{Temperature, Battery},
		Probes: []Probe{
			{Name: "red", Description: "first DS18B20 probe (red)", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
			{Name: "white", Description: "second DS18B20 probe (white, D22/D23)", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
			{Name: "black", Description: "third DS18B20 probe (black, D23)", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
		},
		DefaultProbe:     "red",
		Aliases:          []string{"LSN50v2-D22", "LSN50v2-D23"},
		RepositoryModels: []string{"lsn50v2-d20-d22-d23"},
		Notes:            "The third probe is read signed (the vendor's codec reads it unsigned, which turns -18 °C into 6535.6 °C).",
		decode:           decodeDraginoDS18B20x3([3]string{"red", "white", "black"}),
	},
	{
		ID: "dragino/d2x-lb", Vendor: "Dragino", Name: "D20-LB/D22-LB/D23-LB",
		Measures: []Quantity{Temperature, Battery},
		Probes: []Probe{
			{Name: "c1", Description: "first DS18B20 probe", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
			{Name: "c2", Description: "second DS18B20 probe (D22-LB, D23-LB)", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
			{Name: "c3", Description: "third DS18B20 probe (D23-LB)", MinC: -55, MaxC: 125, RangeSource: srcDS18B20},
		},
		DefaultProbe:     "c1",
		Aliases:          []string{"D2x-LB", "D20-LB", "D22-LB", "D23-LB"},
		RepositoryModels: []string{"d2x-lb"},
		Notes:            "Both repository examples are copies of the LHT65's and cannot come from this codec (see testdata/README.md).",
		decode:           decodeDraginoDS18B20x3([3]string{"c1", "c2", "c3"}),
	},
	{
		ID: "dragino/lds02", Vendor: "Dragino", Name: "LDS02",
		Measures:         []Quantity{Door, Battery},
		Aliases:          []string{"dragino-lds02", "LDS02"},
		RepositoryModels: []string{"lds02"},
		decode:           decodeLDS02,
	},
	{
		ID: "dragino/lds01", Vendor: "Dragino", Name: "LDS01",
		Measures:         []Quantity{Door, Battery},
		Aliases:          []string{"LDS01"},
		RepositoryModels: []string{"lds01"},
		decode:           decodeLDS02,
	},
	{
		ID: "milesight-iot/em300-th", Vendor: "Milesight", Name: "EM300-TH",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: -30, MaxC: 70, RangeSource: srcRepo},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"milesight-em300-th", "EM300-TH"},
		RepositoryModels: []string{"em300-th"},
		Notes:            "History records (0x20 0xCE) are past values: History. The EM300-MCS magnet channel is accepted too, as FrostGuard always has for any EM300.",
		decode: milesight("EM300-TH", "internal", map[msChannel]msField{
			{0x06, 0x00}: {1, msMagnet},
			{0x20, 0xCE}: {8, msHistoryTH},
		}),
	},
	{
		ID: "milesight-iot/em320-th", Vendor: "Milesight", Name: "EM320-TH",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: -30, MaxC: 60, RangeSource: srcRepo},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"EM320-TH"},
		RepositoryModels: []string{"em320-th"},
		Notes:            "Its history records are 7 bytes (EM300-TH: 8); read with the EM300-TH table they would misalign.",
		decode: milesight("EM320-TH", "internal", map[msChannel]msField{
			{0x20, 0xCE}: {7, msHistoryTH},
		}),
	},
	{
		ID: "milesight-iot/em300-mcs", Vendor: "Milesight", Name: "EM300-MCS",
		Measures: []Quantity{Temperature, Humidity, Door, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: -30, MaxC: 70, RangeSource: srcRepo},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"EM300-MCS"},
		RepositoryModels: []string{"em300-mcs"},
		Notes:            "No examples in the device repository; tested against the examples of Milesight's own decoder README.",
		decode: milesight("EM300-MCS", "internal", map[msChannel]msField{
			{0x06, 0x00}: {1, msMagnet},
			{0x20, 0xCE}: {8, msHistoryTHM},
		}),
	},
	{
		ID: "milesight-iot/em500-pt100", Vendor: "Milesight", Name: "EM500-PT100",
		Measures: []Quantity{Temperature, Battery},
		Probes: []Probe{
			{Name: "probe", Description: "PT100 probe", MinC: -200, MaxC: 850, RangeSource: srcIEC60751},
		},
		DefaultProbe:     "probe",
		Aliases:          []string{"EM500-PT100"},
		RepositoryModels: []string{"em500-pt100"},
		decode: milesight("EM500-PT100", "probe", map[msChannel]msField{
			{0x83, 0xD7}: {5, msTempAlarm},
			{0x20, 0xCE}: {6, msHistoryT},
		}),
	},
	{
		ID: "milesight-iot/ws301", Vendor: "Milesight", Name: "WS301",
		Measures:         []Quantity{Door, Battery},
		Aliases:          []string{"WS301"},
		RepositoryModels: []string{"ws301"},
		Notes:            "Channel 0x04 0x00 is the installation (tamper) state, not the door.",
		decode: milesight("WS301", "", map[msChannel]msField{
			{0x03, 0x00}: {1, msDoor},
			{0x04, 0x00}: {1, msSkip},
			{0xFF, 0x08}: {6, msSkip},
		}),
	},
	{
		ID: "elsys/ers", Vendor: "Elsys", Name: "ERS",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: 0, MaxC: 50, RangeSource: srcRepo},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"elsys", "ERS"},
		RepositoryModels: []string{"ers"},
		Notes:            "A room sensor specified for 0..50 °C: not for freezers.",
		decode:           decodeElsys,
	},
	{
		ID: "elsys/ems", Vendor: "Elsys", Name: "EMS",
		Measures: []Quantity{Temperature, Humidity, Door, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: 0, MaxC: 50, RangeSource: srcRepo},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"EMS"},
		RepositoryModels: []string{"ems"},
		Notes:            "The door is the digital input (1 closed); the pulse counters count openings and are not a state.",
		decode:           decodeElsys,
	},
	{
		ID: "elsys/ems-door", Vendor: "Elsys", Name: "EMS Door",
		Measures: []Quantity{Temperature, Humidity, Door, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: 0, MaxC: 50, RangeSource: srcRepo + " (EMS)"},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"EMS Door", "EMS-Door"},
		RepositoryModels: []string{"ems-door"},
		decode:           decodeElsys,
	},
	{
		ID: "elsys/elt-2", Vendor: "Elsys", Name: "ELT-2",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: -40, MaxC: 60, RangeSource: srcRepo},
			{Name: "external", Description: "external temperature probe"},
			{Name: "external2", Description: "second external temperature probe"},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"ELT-2", "ELT"},
		RepositoryModels: []string{"elt-2"},
		Notes:            "No examples in the device repository (its only one is commented out); the Elsys codec is the one tested on the ERS and EMS.",
		decode:           decodeElsys,
	},
	{
		ID: "netvox/r718a", Vendor: "Netvox", Name: "R718A",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor for low temperatures"},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"R718A"},
		RepositoryModels: []string{"r718a"},
		Notes:            "Range undocumented here: the device repository gives -20..55 °C, the operating range of every R718 it lists, for a model sold for refrigerators.",
		decode:           decodeNetvox(netvoxModel{name: "R718A", deviceType: 0x0B, readings: netvoxTempHumidity}),
	},
	{
		ID: "netvox/r718ab", Vendor: "Netvox", Name: "R718AB",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: -20, MaxC: 55, RangeSource: srcRepo},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"R718AB"},
		RepositoryModels: []string{"r718ab"},
		decode:           decodeNetvox(netvoxModel{name: "R718AB", deviceType: 0x13, readings: netvoxTempHumidity}),
	},
	{
		ID: "netvox/r718b", Vendor: "Netvox", Name: "R718B",
		Measures: []Quantity{Temperature, Battery},
		Probes: []Probe{
			{Name: "probe", Description: "external PT1000 probe", MinC: -200, MaxC: 850, RangeSource: srcIEC60751},
		},
		DefaultProbe:     "probe",
		Aliases:          []string{"R718B"},
		RepositoryModels: []string{"r718b"},
		decode:           decodeNetvox(netvoxModel{name: "R718B", deviceType: 0x95, readings: netvoxProbe}),
	},
	{
		ID: "netvox/r311a", Vendor: "Netvox", Name: "R311A",
		Measures:         []Quantity{Door, Battery},
		Aliases:          []string{"R311A"},
		RepositoryModels: []string{"r311a"},
		decode:           decodeNetvox(netvoxModel{name: "R311A", deviceType: 0x02, readings: netvoxContact}),
	},
	{
		ID: "browan/tbhh100", Vendor: "Browan", Name: "TBHH100",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor (1 °C steps)", MinC: 0, MaxC: 50, RangeSource: srcRepo},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"TBHH100"},
		RepositoryModels: []string{"tbhh100"},
		decode:           decodeTBHH100,
	},
	{
		ID: "browan/tbhv110", Vendor: "Browan", Name: "TBHV110",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "ambient", Description: "ambient temperature (1 °C steps)", MinC: 0, MaxC: 50, RangeSource: srcRepo},
			{Name: "board", Description: "circuit-board temperature (1 °C steps)", MinC: 0, MaxC: 50, RangeSource: srcRepo},
		},
		DefaultProbe:     "ambient",
		Aliases:          []string{"TBHV110"},
		RepositoryModels: []string{"tbhv110"},
		decode:           decodeTBHV110,
	},
	{
		ID: "browan/tbdw100", Vendor: "Browan", Name: "TBDW100",
		Measures: []Quantity{Door, Temperature, Battery},
		Probes: []Probe{
			{Name: "board", Description: "circuit-board temperature (1 °C steps); not the unit's unless chosen"},
		},
		Aliases:          []string{"TBDW100"},
		RepositoryModels: []string{"tbdw100"},
		decode:           decodeTBDW100,
	},
	{
		ID: "laird/rs1xx-temp-rh-sensor", Vendor: "Laird", Name: "Sentrius RS1xx Temp/RH",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: -25, MaxC: 50, RangeSource: srcRepo},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"RS1xx Temp-RH", "RS1xx-Temp-RH", "RS186"},
		RepositoryModels: []string{"rs1xx-temp-rh-sensor"},
		decode:           decodeLaird(lairdModel{name: "RS1xx Temp/RH", probe: "internal"}),
	},
	{
		ID: "laird/rs1xx-ext-temp-1w-sensor", Vendor: "Laird", Name: "Sentrius RS1xx Ext Temp 1-Wire",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "external", Description: "external 1-Wire temperature probe", MinC: -55, MaxC: 125, RangeSource: srcRepoProbe},
		},
		DefaultProbe:     "external",
		Aliases:          []string{"RS1xx Ext Temp 1W", "RS1xx-Ext-Temp-1W"},
		RepositoryModels: []string{"rs1xx-ext-temp-1w-sensor"},
		decode:           decodeLaird(lairdModel{name: "RS1xx Ext Temp 1-Wire", probe: "external"}),
	},
	{
		ID: "laird/rs1xx-ext-temp-rtd-sensor", Vendor: "Laird", Name: "Sentrius RS1xx Ext Temp RTD",
		Measures: []Quantity{Temperature, Battery},
		Probes: []Probe{
			{Name: "rtd", Description: "external RTD probe", MinC: -40, MaxC: 180, RangeSource: srcRepoProbe},
		},
		DefaultProbe:     "rtd",
		Aliases:          []string{"RS1xx Ext Temp RTD", "RS1xx-Ext-Temp-RTD"},
		RepositoryModels: []string{"rs1xx-ext-temp-rtd-sensor"},
		decode:           decodeLaird(lairdModel{name: "RS1xx Ext Temp RTD", probe: "rtd", rtd: true}),
	},
	{
		ID: "laird/rs1xx-ext-multi-sensor", Vendor: "Laird", Name: "Sentrius RS1xx Multi",
		Measures: []Quantity{Temperature, Humidity, Door, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature and humidity sensor", MinC: -25, MaxC: 50, RangeSource: srcRepo},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"RS1xx Multi", "RS1xx-Multi"},
		RepositoryModels: []string{"rs1xx-ext-multi-sensor"},
		decode:           decodeLaird(lairdModel{name: "RS1xx Multi", probe: "internal", contact: true}),
	},
	{
		ID: "sensative/strips", Vendor: "Sensative", Name: "Strips",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "internal", Description: "built-in temperature sensor"},
		},
		DefaultProbe:     "internal",
		Aliases:          []string{"Strips", "Sensative Strips"},
		RepositoryModels: []string{"strips"},
		Notes:            "Door reports are not read: the vendor's codec contradicts itself on their polarity (see sensative.go).",
		decode:           decodeStrips,
	},
	{
		ID: "sensecap/sensecaps2101-temp-humid", Vendor: "SenseCAP", Name: "S2101",
		Measures: []Quantity{Temperature, Humidity, Battery},
		Probes: []Probe{
			{Name: "air", Description: "air temperature and humidity sensor", MinC: -40, MaxC: 85, RangeSource: srcS2101},
		},
		DefaultProbe:     "air",
		Aliases:          []string{"sensecap/sensecap210x", "S2101", "SenseCAP S2101"},
		RepositoryModels: []string{"sensecaps2101-temp-humid"},
		decode:           decodeSenseCAP210x,
	},
}
