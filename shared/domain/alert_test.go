package domain

import (
	"strings"
	"testing"

	"github.com/frostguard/functions/shared/apperr"
)

func TestCheckResolve(t *testing.T) {
	cases := []struct {
		name    string
		typ     string
		unit    UnitCondition
		note    string
		actions int
		allowed bool
	}{
		{"excursion, unit ok, no note", AlertTempExcursion, UnitCondition{Status: UnitOK}, "", 0, true},
		{"excursion, unit restoring, no note", AlertTempExcursion, UnitCondition{Status: UnitRestoring}, "", 0, true},
		{"excursion, alarm active, no note", AlertTempExcursion, UnitCondition{Status: UnitAlarmActive}, "", 0, false},
		{"excursion, alarm active, blank note", AlertTempExcursion, UnitCondition{Status: UnitAlarmActive}, "  \n\t", 0, false},
		{"excursion, alarm active, note", AlertTempExcursion, UnitCondition{Status: UnitAlarmActive}, "moved stock to freezer 2", 0, true},
		{"excursion, still in excursion, no note", AlertTempExcursion, UnitCondition{Status: UnitExcursion}, "", 0, false},
		{"excursion, offline, no note", AlertTempExcursion, UnitCondition{Status: UnitOffline}, "", 0, false},
		{"door closed, no note", AlertDoorOpen, UnitCondition{Status: UnitAlarmActive, DoorOpen: false}, "", 0, true},
		{"door open, no note", AlertDoorOpen, UnitCondition{Status: UnitOK, DoorOpen: true}, "", 0, false},
		{"door open, note", AlertDoorOpen, UnitCondition{Status: UnitOK, DoorOpen: true}, "door seal replaced", 0, true},
		{"monitoring back, no note", AlertMonitoringInterrupted, UnitCondition{Status: UnitOK}, "", 0, true},
		{"monitoring back in excursion, no note", AlertMonitoringInterrupted, UnitCondition{Status: UnitExcursion}, "", 0, true},
		{"still offline, no note", AlertMonitoringInterrupted, UnitCondition{Status: UnitOffline}, "", 0, false},
		{"still interrupted, no note", AlertMonitoringInterrupted, UnitCondition{Status: UnitMonitoringInterrupted}, "", 0, false},
		{"still interrupted, note", AlertMonitoringInterrupted, UnitCondition{Status: UnitMonitoringInterrupted}, "gateway rebooted", 0, true},
		{"low battery, unit ok, no note", AlertLowBattery, UnitCondition{Status: UnitOK}, "", 0, false},
		{"low battery, note", AlertLowBattery, UnitCondition{Status: UnitOK}, "battery replaced", 0, true},
		{"sensor fault, no note", AlertSensorFault, UnitCondition{Status: UnitOK}, "", 0, false},
		{"missed manual entry, no note", AlertMissedManualEntry, UnitCondition{Status: UnitOK}, "", 0, false},
		{"cooling failure, no note", AlertSuspectedCoolingFailure, UnitCondition{Status: UnitOK}, "", 0, false},
		{"cooling failure, note", AlertSuspectedCoolingFailure, UnitCondition{Status: UnitOK}, "compressor serviced", 0, true},
		{"excursion, alarm active, a corrective action", AlertTempExcursion, UnitCondition{Status: UnitAlarmActive}, "", 1, true},
		{"door open, a corrective action", AlertDoorOpen, UnitCondition{Status: UnitOK, DoorOpen: true}, "", 2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckResolve(tc.typ, tc.unit, tc.note, tc.actions)
			if tc.allowed {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e := apperr.From(err)
			if err == nil || e.Code != apperr.Invalid || len(e.Details) != 1 || e.Details[0].Field != "note" {
				t.Fatalf("want a field error on note, got %v", err)
			}
		})
	}
}

func TestAlertConditionVerifiable(t *testing.T) {
	for _, typ := range AlertTypes {
		_, v := AlertConditionCleared(typ, UnitCondition{Status: UnitOK})
		want := typ == AlertTempExcursion || typ == AlertDoorOpen || typ == AlertMonitoringInterrupted
		if v != want {
			t.Errorf("%s: verifiable = %v, want %v", typ, v, want)
		}
	}
}

func TestCheckAlertNote(t *testing.T) {
	if CheckAlertNote(strings.Repeat("é", AlertNoteMaxLen)) != nil {
		t.Error("2000 characters (multi-byte) must be accepted")
	}
	if CheckAlertNote(strings.Repeat("a", AlertNoteMaxLen+1)) == nil {
		t.Error("2001 characters must be refused")
	}
}
