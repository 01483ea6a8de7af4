package realtime

import (
	"strings"
	"testing"
)

const someID = "3f1c9a52-7b4e-4c1d-9e2a-5b8f0d6c4a71"

func TestParseAction(t *testing.T) {
	good := map[string]Action{
		`{"action":"subscribe"}`:                              {Action: Subscribe},
		`{"action":"unsubscribe","site_id":"` + someID + `"}`: {Action: Unsubscribe, SiteID: someID},
		` {"action":"subscribe","unit_id":"` + someID + `"} `: {Action: Subscribe, UnitID: someID},
	}
	for in, want := range good {
		got, err := ParseAction([]byte(in))
		if err != nil || got != want {
			t.Errorf("ParseAction(%s) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		``:                     "not a JSON action",
		`null`:                 "action must be",
		`[]`:                   "not a JSON action",
		`{"action":"publish"}`: "action must be",
		`{"action":"subscribe","organization_id":"` + someID + `"}`:                    "unknown field",
		`{"action":"subscribe","site_id":"x"}`:                                         "site_id must be a UUID",
		`{"action":"subscribe","unit_id":"` + someID + `'"}`:                           "unit_id must be a UUID",
		`{"action":"subscribe","site_id":"` + someID + `","unit_id":"` + someID + `"}`: "not both",
		`{"action":"subscribe"}{"action":"subscribe"}`:                                 "data after the object",
		`{"action":"subscribe","site_id":"` + strings.Repeat("a", 2000) + `"}`:         "at most 1024 bytes",
	}
	for in, want := range bad {
		if _, err := ParseAction([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAction(%.60s) = %v, want an error with %q", in, err, want)
		}
	}
}

// FuzzParseAction: any input either parses into an action the channel acts
// on (a known action, ids that are UUIDs, at most one of them) or is
// refused with an error; never a panic.
func FuzzParseAction(f *testing.F) {
	f.Add([]byte(`{"action":"subscribe","site_id":"` + someID + `"}`))
	f.Add([]byte(`{"action":"unsubscribe"}`))
	f.Add([]byte(`{"action":"subscribe","unit_id":null}`))
	f.Add([]byte(`{"action":"subscribe","action":"unsubscribe"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseAction(body)
		if err != nil {
			if a != (Action{}) {
				t.Fatalf("an error with a partial action %+v", a)
			}
			return
		}
		if a.Action != Subscribe && a.Action != Unsubscribe {
			t.Fatalf("accepted action %q", a.Action)
		}
		if a.SiteID != "" && a.UnitID != "" {
			t.Fatal("accepted both ids")
		}
		if len(body) > MaxActionBytes {
			t.Fatal("accepted an oversized message")
		}
	})
}
