package decoders

import (
	"strings"
	"testing"
	"time"
)

// Beyond the vendors' examples: the paths of each decoder the examples do not reach (sentinels,
// other work modes, wrong lengths, another device's payload, corruption, history records).
func TestDecoderPaths(t *testing.T) {
	type check func(t *testing.T, r Reading)
	temps := func(want ...ProbeTemperature) check {
		return func(t *testing.T, r Reading) {
			t.Helper()
			if len(r.Temperatures) != len(want) {
				t.Fatalf("temperatures %v, want %v", r.Temperatures, want)
			}
			for i := range want {
				if r.Temperatures[i] != want[i] {
					t.Fatalf("temperatures %v, want %v", r.Temperatures, want)
				}
			}
		}
	}
	fault := func(kind FaultKind, text string) check {
		return func(t *testing.T, r Reading) {
			t.Helper()
			for _, f := range r.Faults {
				if f.Kind == kind && strings.Contains(f.Message, text) {
					return
				}
			}
			t.Fatalf("no %s fault containing %q: %v", kind, text, r.Faults)
		}
	}
	frame := func(f Frame) check {
		return func(t *testing.T, r Reading) {
			t.Helper()
			if r.Frame != f {
				t.Fatalf("frame %q, want %q (%+v)", r.Frame, f, r)
			}
		}
	}
	nothing := func(t *testing.T, r Reading) {
		t.Helper()
		if measured(r) {
			t.Fatalf("measured something: %+v", r)
		}
	}
	volts := func(v float64) check {
		return func(t *testing.T, r Reading) {
			t.Helper()
			if r.BatteryVolts == nil || *r.BatteryVolts != v {
				t.Fatalf("volts %v, want %v", deref(r.BatteryVolts), v)
			}
		}
	}
	door := func(open bool) check {
		return func(t *testing.T, r Reading) {
			t.Helper()
			if r.DoorOpen == nil || *r.DoorOpen != open {
				t.Fatalf("door %v, want %v", deref(r.DoorOpen), open)
			}
		}
	}
	cases := []struct {
		name, model string
		fport       int
		hex         string
		checks      []check
	}{
		// Dragino
		{"lht65 probe in a freezer is ordered after the built-in sensor", "dragino/lht65", 2, "F8B80B0D037609 65A1B2C3",
			[]check{temps(ProbeTemperature{"internal", 28.29}, ProbeTemperature{"external", -18.64})}},
		{"lht52 status frame: battery", "dragino/lht52", 5, "0B0100010F0BB8", []check{volts(3), frame(FrameStatus)}},
		{"lht52 no probe configured and none fitted: no fault", "dragino/lht52", 2, "08CD02207FFF0061CD4EDD",
			[]check{temps(ProbeTemperature{"internal", 22.53}), func(t *testing.T, r Reading) {
				if len(r.Faults) != 0 {
					t.Fatal(r.Faults)
				}
			}}},
		{"lht52 datalog is history", "dragino/lht52", 3, "08CD02207FFF0161CD4EDD", []check{nothing, frame(FrameHistory)}},
		{"lht52 reset notice", "dragino/lht52", 2, "0001", []check{nothing, frame(FrameInfo)}},
		{"lsn50v2 probe disconnected (0x7FFF)", "dragino/lsn50v2-d20", 2, "0B547FFF000000000000 00",
			[]check{fault(FaultSensor, "DS18B20 probe 1 not connected"), volts(2.9)}},
		{"lsn50v2 three probes, negative", "dragino/lsn50v2-d20", 2, "0B54FF4C00000CFF4CFF4C",
			[]check{temps(ProbeTemperature{"probe1", -18}, ProbeTemperature{"probe2", -18}, ProbeTemperature{"probe3", -18})}},
		{"lsn50v2 3ADC mode: battery in byte 11, SHT", "dragino/lsn50v2-d20", 2, "000000000000 08 0102 0205 1E",
			[]check{temps(ProbeTemperature{"sht", 25.8}), volts(3)}},
		{"lsn50v2 short", "dragino/lsn50v2-d20", 2, "0B54", []check{nothing, fault(FaultPayload, "too short")}},
		{"d20/d22/d23: a freezer probe on the third input reads signed", "dragino/lsn50v2-d20-d22-d23", 2, "0B54FFFF00000CFFFFFF4C",
			[]check{temps(ProbeTemperature{"black", -18}), volts(2.9)}},
		{"d20/d22/d23 alarm configuration", "dragino/lsn50v2-d20-d22-d23", 2, "0B54000000007C00FC0205", []check{nothing, frame(FrameInfo)}},
		{"d2x-lb status: battery", "dragino/d2x-lb", 5, "19011101FF0CF6", []check{volts(3.318), frame(FrameStatus)}},
		{"lds01 door open", "dragino/lds01", 10, "8BDB0100002A00000300", []check{door(true), volts(3.035)}},
		// Milesight
		{"em320-th history is 7 bytes: the next channel still reads", "milesight-iot/em320-th", 85, "20CE9E74466310015D 0175 5C",
			[]check{func(t *testing.T, r Reading) {
				if len(r.History) != 1 || r.History[0].Temperatures[0].C != 27.2 || *r.History[0].HumidityPct != 46.5 ||
					!r.History[0].At.Equal(time.Unix(1665561758, 0)) || *r.BatteryPercent != 92 {
					t.Fatalf("%+v", r)
				}
			}}},
		{"em300-mcs README example", "milesight-iot/em300-mcs", 85, "01755C036734010468650600 01",
			[]check{temps(ProbeTemperature{"internal", 30.8}), door(true)}},
		{"em300-mcs history with the magnet", "milesight-iot/em300-mcs", 85, "20CE9E74466310015D01",
			[]check{frame(FrameHistory), func(t *testing.T, r Reading) {
				if len(r.History) != 1 || !*r.History[0].DoorOpen {
					t.Fatalf("%+v", r.History)
				}
			}}},
		{"em500-pt100 threshold alarm carries the temperature", "milesight-iot/em500-pt100", 85, "83D7 1901 0A00 00",
			[]check{temps(ProbeTemperature{"probe", 28.1})}},
		{"em500-pt100 configuration answer, then data", "milesight-iot/em500-pt100", 85, "FF1B010000F0FF 03671901",
			[]check{temps(ProbeTemperature{"probe", 28.1})}},
		{"ws301 closed", "milesight-iot/ws301", 85, "030000", []check{door(false)}},
		// Elsys
		{"elt-2 second external probe", "elsys/elt-2", 5, "0C00C8 19FF4C", []check{temps(ProbeTemperature{"external", 20}, ProbeTemperature{"external2", -18})}},
		// Netvox
		{"r718a below zero", "netvox/r718a", 6, "010B0124FC7C1A90000000", []check{temps(ProbeTemperature{"internal", -9})}},
		{"r718b payload sent to an r718a sensor", "netvox/r718a", 6, "0195012400FD0000000000", []check{nothing, fault(FaultPayload, "device type 0x95")}},
		{"r311a low battery and closed", "netvox/r311a", 6, "0102019700000000000000", []check{door(false), volts(2.3), func(t *testing.T, r Reading) {
			if !r.BatteryLow {
				t.Fatal("low-battery flag lost")
			}
		}}},
		{"netvox short", "netvox/r718ab", 6, "0113012409", []check{nothing, fault(FaultPayload, "too short")}},
		{"netvox unknown report type", "netvox/r718ab", 6, "0113052409EA1A90000000", []check{nothing, fault(FaultPayload, "report type 0x05")}},
		// Browan
		{"tbhv110 all zero", "browan/tbhv110", 103, "0000000000000000000000", []check{nothing, frame(FrameInfo)}},
		{"tbhh100 freezer", "browan/tbhh100", 103, "08AB0E22", []check{fault(FaultImplausible, "-18 °C")}},
		// Laird
		{"laird sensor fault flag", "laird/rs1xx-temp-rh-sensor", 1, "0110213443620501000001", []check{fault(FaultSensor, "reports a sensor fault")}},
		{"laird negative temperature", "laird/rs1xx-temp-rh-sensor", 1, "01000032F6EC0500000000", []check{temps(ProbeTemperature{"internal", -20.1})}},
		{"laird pushbutton is not a door", "laird/rs1xx-ext-multi-sensor", 1, "090001010101", []check{nothing, frame(FrameInfo)}},
		{"laird door closed", "laird/rs1xx-ext-multi-sensor", 1, "090000000101", []check{door(false)}},
		{"laird contact on a temp/RH sensor", "laird/rs1xx-temp-rh-sensor", 1, "090000010101", []check{nothing, fault(FaultPayload, "unknown")}},
		{"laird bad capacity code", "laird/rs1xx-temp-rh-sensor", 1, "0100213443620901000001", []check{nothing, fault(FaultPayload, "capacity code 9")}},
		{"laird aggregate count disagrees with the length", "laird/rs1xx-temp-rh-sensor", 1, "02000000000503000000002134436222354463", []check{nothing, fault(FaultPayload, "wrong length")}},
		{"laird backlogs not a whole reading", "laird/rs1xx-temp-rh-sensor", 1, "040102000000002A3D4C6B0000", []check{nothing, fault(FaultPayload, "wrong length")}},
		// Sensative
		{"strips humidity + temperature report", "sensative/strips", 1, "0001 50 64 FF4C", []check{temps(ProbeTemperature{"internal", -18}), func(t *testing.T, r Reading) {
			if *r.HumidityPct != 50 {
				t.Fatal(r.HumidityPct)
			}
		}}},
		{"strips unknown report", "sensative/strips", 1, "0001 7F 00", []check{nothing, fault(FaultPayload, "unknown report type")}},
		{"strips truncated", "sensative/strips", 1, "0001 01 50 02 00", []check{fault(FaultPayload, "truncated")}},
		{"strips history", "sensative/strips", 2, "00010000001E0200EA", []check{nothing, frame(FrameHistory)}},
		// SenseCAP
		{"sensecap corrupted byte", "sensecap/sensecaps2101-temp-humid", 1, "01011098540000010210A87A0000AF51", []check{nothing, fault(FaultPayload, "checksum")}},
		{"sensecap not frames", "sensecap/sensecaps2101-temp-humid", 1, "01011098530000010210", []check{nothing, fault(FaultPayload, "7-byte frames")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, ok := Lookup(c.model)
			if !ok {
				t.Fatalf("no model %s", c.model)
			}
			r := m.Decode(c.fport, mustHex(c.hex))
			for _, ck := range c.checks {
				ck(t, r)
			}
		})
	}
}
