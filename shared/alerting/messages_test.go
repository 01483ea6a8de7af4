package alerting

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/frostguard/functions/shared/domain"
)

func nyc(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func asciiExceptDegree(s string) bool {
	for _, r := range s {
		if r != '°' && (r < 0x20 || r > 0x7e) {
			return false
		}
	}
	return true
}

func TestAlarmText(t *testing.T) {
	in := MessageInput{SiteName: "Main St Deli", UnitName: "Walk-in cooler", AlertType: TypeTempExcursion, Severity: SeverityCritical,
		TemperatureC: f(7.2), LimitC: f(5), TempUnit: domain.Fahrenheit, At: time.Date(2026, 1, 15, 19, 5, 0, 0, time.UTC),
		TimeZone: nyc(t), AckCode: "3F9A2C", AckURL: "https://app.frostguard.io/alerts"}
	sms, subject, email := AlarmText(in)
	want := "FrostGuard CRITICAL: Main St Deli / Walk-in cooler: temperature 45.0 °F, above the maximum of 41.0 °F at 14:05 EST. Reply ACK 3F9A2C or open https://app.frostguard.io/alerts"
	if sms != want {
		t.Errorf("sms =\n%q\nwant\n%q", sms, want)
	}
	if subject != "[CRITICAL] Main St Deli / Walk-in cooler: temperature 45.0 °F, above the maximum of 41.0 °F" {
		t.Errorf("subject = %q", subject)
	}
	for _, s := range []string{"Main St Deli", "Walk-in cooler", "45.0 °F", "41.0 °F", "Thu 15 Jan 2026 14:05 EST", "reply ACK 3F9A2C", "https://app.frostguard.io/alerts"} {
		if !strings.Contains(email, s) {
			t.Errorf("email lacks %q:\n%s", s, email)
		}
	}

	in.TempUnit, in.TemperatureC, in.LimitC = domain.Celsius, f(-34), f(-30)
	in.At = time.Date(2026, 7, 1, 12, 30, 0, 0, time.UTC)
	sms, _, _ = AlarmText(in)
	if !strings.Contains(sms, "temperature -34.0 °C, below the minimum of -30.0 °C at 08:30 EDT.") {
		t.Errorf("cold sms = %q", sms)
	}
	in.TimeZone = nil
	if sms, _, _ = AlarmText(in); !strings.Contains(sms, "at 12:30 UTC.") {
		t.Errorf("no timezone: %q", sms)
	}
}

func TestAlarmTextOtherTypes(t *testing.T) {
	for typ, want := range map[string]string{
		TypeLowBattery: "sensor battery low", TypeSensorFault: "sensor fault", TypeDoorOpen: "door open too long",
		TypeMonitoringInterrupted: "no readings received", TypeMissedManualEntry: "manual temperature log overdue",
		TypeSuspectedCooling: "suspected cooling failure", "something_new": "something new",
	} {
		sms, subject, email := AlarmText(MessageInput{SiteName: "S", UnitName: "U", AlertType: typ, Severity: SeverityWarning, AckCode: "ABCD"})
		if !strings.Contains(sms, want) || !strings.Contains(subject, want) || !strings.Contains(email, "reply ACK ABCD") ||
			!strings.HasPrefix(sms, "FrostGuard WARNING: S / U: ") {
			t.Errorf("%s: %q / %q", typ, sms, subject)
		}
	}
}

func TestResolvedText(t *testing.T) {
	in := MessageInput{SiteName: "Main St Deli", UnitName: "Walk-in cooler", AlertType: TypeTempExcursion,
		TemperatureC: f(3.9), TempUnit: domain.Fahrenheit, At: time.Date(2026, 1, 15, 19, 35, 0, 0, time.UTC),
		TimeZone: nyc(t), AckURL: "https://app.frostguard.io/alerts"}
	sms, subject, email := ResolvedText(in)
	want := "FrostGuard RESOLVED: Main St Deli / Walk-in cooler: temperature back in range at 39.0 °F at 14:35 EST. Details: https://app.frostguard.io/alerts"
	if sms != want {
		t.Errorf("sms =\n%q\nwant\n%q", sms, want)
	}
	if !strings.HasPrefix(subject, "[RESOLVED] Main St Deli / Walk-in cooler") || !strings.Contains(email, "14:35 EST") {
		t.Errorf("%q\n%s", subject, email)
	}
	in.LimitC = f(5)
	if sms, _, _ = ResolvedText(in); !strings.Contains(sms, "(limit 41.0 °F)") {
		t.Errorf("with limit: %q", sms)
	}
	in.AlertType = TypeLowBattery
	if sms, _, _ = ResolvedText(in); !strings.Contains(sms, "sensor battery recovered") {
		t.Errorf("battery: %q", sms)
	}
}

func TestSMSLimitsAndCharset(t *testing.T) {
	long := strings.Repeat("Très Grande Brasserie Ünïcödé 東京 ", 20)
	inputs := []MessageInput{
		{SiteName: long, UnitName: long, AlertType: TypeTempExcursion, Severity: SeverityCritical, TemperatureC: f(12.3), LimitC: f(5),
			TempUnit: domain.Fahrenheit, At: t0, AckCode: "ZZZZZZZZZZ", AckURL: "https://app.frostguard.io/alerts/" + strings.Repeat("x", 80)},
		{SiteName: "Café\r\nInjected: header", UnitName: "Kühlschrank\x00", AlertType: TypeSensorFault, Severity: SeverityCritical,
			At: t0, AckCode: "AB12", AckURL: "https://a.example/" + strings.Repeat("y", 400)},
		{},
	}
	for i, in := range inputs {
		for _, render := range []func(MessageInput) (string, string, string){AlarmText, ResolvedText} {
			sms, subject, email := render(in)
			if n := utf8.RuneCountInString(sms); n > SMSMaxChars {
				t.Errorf("input %d: sms has %d characters: %q", i, n, sms)
			}
			if !asciiExceptDegree(sms) {
				t.Errorf("input %d: sms not ASCII-safe: %q", i, sms)
			}
			if strings.ContainsAny(subject, "\r\n\x00") || strings.ContainsRune(email, 0) || !utf8.ValidString(email) {
				t.Errorf("input %d: unsafe subject/email %q", i, subject)
			}
		}
	}
	sms, _, _ := AlarmText(inputs[0])
	if !strings.Contains(sms, "Reply ACK ZZZZZZZZZZ") || !strings.Contains(sms, "Tres Grande") || !strings.Contains(sms, "54.1 °F") {
		t.Errorf("long names: %q", sms)
	}
	sms, subject, _ := AlarmText(inputs[1])
	if !strings.Contains(sms, "Cafe  Injected") && !strings.Contains(sms, "Cafe Injected") || !strings.Contains(subject, "Café Injected: header") {
		t.Errorf("control characters: %q / %q", sms, subject)
	}
}
