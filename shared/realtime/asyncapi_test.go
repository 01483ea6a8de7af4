package realtime

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// dataOf maps each event type to the Go type of its data.
var dataOf = map[string]any{
	AlertTriggered: AlertTriggeredData{}, AlertEscalated: AlertEscalatedData{}, AlertAcknowledged: AlertAcknowledgedData{},
	AlertResolved: AlertResolvedData{}, UnitStateChanged: UnitStateChangedData{}, ReadingsBatch: ReadingsBatchData{},
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func dig(m any, path ...string) map[string]any {
	for _, p := range path {
		mm, _ := m.(map[string]any)
		m = mm[p]
	}
	mm, _ := m.(map[string]any)
	return mm
}

// TestAsyncAPIDocumentsEveryEvent: asyncapi.yaml names one message per
// event type, and each message's data has exactly the fields the Go type
// sends (a batch's readings too), so the document cannot drift from the
// wire.
func TestAsyncAPIDocumentsEveryEvent(t *testing.T) {
	b, err := os.ReadFile("asyncapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["asyncapi"] != "3.0.0" {
		t.Fatalf("asyncapi %v", doc["asyncapi"])
	}
	byName := map[string]map[string]any{}
	for _, m := range dig(doc, "components", "messages") {
		msg, _ := m.(map[string]any)
		byName[msg["name"].(string)] = msg
	}
	schemas := dig(doc, "components", "schemas")
	if got := jsonFields(reflect.TypeOf(Event{})); !slices.Equal(got, keys(dig(schemas, "envelope", "properties"))) {
		t.Errorf("envelope: Go %q, document %q", got, keys(dig(schemas, "envelope", "properties")))
	}
	for _, typ := range Types {
		msg, ok := byName[typ]
		if !ok {
			t.Errorf("%s: no message", typ)
			continue
		}
		ref, _ := dig(msg, "payload")["$ref"].(string)
		schema := dig(schemas, strings.TrimPrefix(ref, "#/components/schemas/"))
		parts, _ := schema["allOf"].([]any)
		if len(parts) != 2 {
			t.Errorf("%s: payload %q is not the envelope and its data", typ, ref)
			continue
		}
		if c := dig(parts[1], "properties", "type")["const"]; c != typ {
			t.Errorf("%s: type const %v", typ, c)
		}
		data := dig(parts[1], "properties", "data", "properties")
		if got := jsonFields(reflect.TypeOf(dataOf[typ])); !slices.Equal(got, keys(data)) {
			t.Errorf("%s data: Go %q, document %q", typ, got, keys(data))
		}
		if typ == ReadingsBatch {
			items := dig(data, "readings", "items", "properties")
			if got := jsonFields(reflect.TypeOf(Reading{})); !slices.Equal(got, keys(items)) {
				t.Errorf("reading: Go %q, document %q", got, keys(items))
			}
		}
	}
	if got, want := jsonFields(reflect.TypeOf(Action{})), keys(dig(byName["subscribe"], "payload", "properties")); !slices.Equal(got, want) {
		t.Errorf("action: Go %q, document %q", got, want)
	}
}
