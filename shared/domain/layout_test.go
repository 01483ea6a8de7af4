package domain

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckLayoutDocument(t *testing.T) {
	for doc, want := range map[string]string{
		`{"widgets":[{"i":"a"}]}`: "",
		`[{"i":"a"}]`:             "",
		` [ ]`:                    "",
		`"grid"`:                  "must be a JSON object or array",
		`{"a":`:                   "must be JSON",
		strings.Repeat("[", 17) + strings.Repeat("]", 17):                            "must not nest deeper than 16 levels",
		`{"s":"` + strings.Repeat("{", 40) + `"}`:                                    "", // brackets inside strings do not nest
		`{"s":"a\\","t":[` + strings.Repeat("[", 14) + strings.Repeat("]", 15) + `}`: "", // an escaped backslash ends the string
	} {
		if got := CheckLayoutDocument(json.RawMessage(doc), true); got != want {
			t.Errorf("%.60s: %q, want %q", doc, got, want)
		}
	}
	if got := CheckLayoutDocument(json.RawMessage(`[]`), false); got != "must be a JSON object" {
		t.Errorf("arrays refused where only objects go: %q", got)
	}
}

func FuzzCheckLayoutDocument(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{"b":"}"}]}`, `"x"`, `{"a":"\"{{{{"}`, strings.Repeat("[", 20) + strings.Repeat("]", 20), `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		msg := CheckLayoutDocument(doc, true)
		if msg == "" {
			var v any
			if err := json.Unmarshal(doc, &v); err != nil {
				t.Fatalf("accepted invalid JSON %q", doc)
			}
			switch v.(type) {
			case map[string]any, []any:
			default:
				t.Fatalf("accepted a %T", v)
			}
		}
	})
}
