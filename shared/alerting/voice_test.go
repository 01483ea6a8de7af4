package alerting

import (
	"strings"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

func TestSpokenDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:                "less than a minute",
		time.Minute:                     "1 minute",
		25*time.Minute + 59*time.Second: "25 minutes",
		time.Hour:                       "1 hour",
		65 * time.Minute:                "1 hour and 5 minutes",
		3*time.Hour + time.Minute:       "3 hours and 1 minute",
		47*time.Hour + 59*time.Minute:   "47 hours and 59 minutes",
		48 * time.Hour:                  "2 days",
		76 * time.Hour:                  "3 days and 4 hours",
	} {
		if got := SpokenDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

// TestVoiceAlarm: a call says the severity, the site, the unit, what is
// wrong in the organisation's unit, in words, and for how long.
func TestVoiceAlarm(t *testing.T) {
	temp, limit, now := -12.0, -18.0, -11.46
	in := NewMessageInput("Main St\nDepot", "Freezer 2", "Europe/Paris", domain.Celsius, "https://app.example")
	in.AlertType, in.Severity, in.TemperatureC, in.LimitC = TypeTempExcursion, "critical", &temp, &limit
	since := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	got := VoiceAlarm(VoiceInput{MessageInput: in, Since: since, Now: since.Add(95 * time.Minute), CurrentC: &now})
	want := "FrostGuard critical alarm. Main St Depot, unit Freezer 2: temperature minus 12 degrees Celsius, above the maximum of minus 18 degrees Celsius, for 1 hour and 35 minutes. It now reads minus 11.5 degrees Celsius."
	if got != want {
		t.Fatalf("\n got %q\nwant %q", got, want)
	}
	// Fahrenheit organisations hear Fahrenheit; an unchanged temperature is
	// not said twice; no link or code is read out.
	in.TempUnit = domain.Fahrenheit
	same := temp
	got = VoiceAlarm(VoiceInput{MessageInput: in, Since: since, Now: since.Add(time.Minute), CurrentC: &same})
	if !strings.Contains(got, "10.4 degrees Fahrenheit, above the maximum of minus 0.4 degrees Fahrenheit, for 1 minute.") ||
		strings.Contains(got, "now reads") || strings.Contains(got, "http") {
		t.Fatalf("%q", got)
	}
	menu := VoiceMenu(got)
	if strings.Count(menu, got) != 2 || !strings.HasSuffix(menu, "Press 1 to acknowledge this alarm. Press 2 to hear it again.") {
		t.Fatalf("menu %q", menu)
	}
	vm := VoiceVoicemail(VoiceInput{MessageInput: in})
	if !strings.Contains(vm, "Freezer 2") || !strings.Contains(vm, "check your text messages") || strings.Contains(vm, "Press 1") {
		t.Fatalf("voicemail %q", vm)
	}
	// A door alarm has no temperature to say.
	in.AlertType, in.TemperatureC, in.LimitC = TypeDoorOpen, nil, nil
	if got := VoiceAlarm(VoiceInput{MessageInput: in}); got != "FrostGuard critical alarm. Main St Depot, unit Freezer 2: door open too long." {
		t.Fatalf("%q", got)
	}
}
