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
		allowed bool
	}{
		{"excursion, unit ok, no note", AlertTempExcursion, UnitCondition{Status: UnitOK}, "", true},
		{"excursion, unit restoring, no note", AlertTempExcursion, UnitCondition{Status: UnitRestoring}, "", true},
		{"excursion, alarm active, no note", AlertTempExcursion, UnitCondition{Status: UnitAlarmActive}, "", false},
		{"excursion, alarm active, blank note", AlertTempExcursion, UnitCondition{Status: UnitAlarmActive}, "  \n\t", false},
		{"excursion, alarm active, note", AlertTempExcursion, UnitCondition{Status: UnitAlarmActive}, "moved stock to freezer 2", true},
		{"excursion, still in excursion, no note", AlertTempExcursion, UnitCondition{Status: UnitExcursion}, "", false},
		{"excursion, offline, no note", AlertTempExcursion, UnitCondition{Status: UnitOffline}, "", false},
		{"door closed, no note", AlertDoorOpen, UnitCondition{Status: UnitAlarmActive, DoorOpen: false}, "", true},
		{"door open, no note", AlertDoorOpen, UnitCondition{Status: UnitOK, DoorOpen: true}, "", false},
		{"door open, note", AlertDoorOpen, UnitCondition{Status: UnitOK, DoorOpen: true}, "door seal replaced", true},
		{"monitoring back, no note", AlertMonitoringInterrupted, UnitCondition{Status: UnitOK}, "", true},
		{"monitoring back in excursion, no note", AlertMonitoringInterrupted, UnitCondition{Status: UnitExcursion}, "", true},
		{"still offline, no note", AlertMonitoringInterrupted, UnitCondition{Status: UnitOffline}, "", false},
		{"still interrupted, no note", AlertMonitoringInterrupted, UnitCondition{Status: UnitMonitoringInterrupted}, "", false},
		{"still interrupted, note", AlertMonitoringInterrupted, UnitCondition{Status: UnitMonitoringInterrupted}, "gateway rebooted", true},
		{"low battery, unit ok, no note", AlertLowBattery, UnitCondition{Status: UnitOK}, "", false},
		{"low battery, note", AlertLowBattery, UnitCondition{Status: UnitOK}, "battery replaced", true},
		{"sensor fault, no note", AlertSensorFault, UnitCondition{Status: UnitOK}, "", false},
		{"missed manual entry, no note", AlertMissedManualEntry, UnitCondition{Status: UnitOK}, "", false},
		{"cooling failure, no note", AlertSuspectedCoolingFailure, UnitCondition{Status: UnitOK}, "", false},
		{"cooling failure, note", AlertSuspectedCoolingFailure, UnitCondition{Status: UnitOK}, "compressor serviced", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckResolve(tc.typ, tc.unit, tc.note)
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
