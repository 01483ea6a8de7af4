package decoders

import (
	"slices"
	"strings"
)

// byKey finds a model by its canonical id or any alias, normalised by key.
var byKey = func() map[string]*Model {
	idx := make(map[string]*Model)
	add := func(k string, m *Model) {
		k = key(k)
		if prev, dup := idx[k]; dup && prev != m {
			panic("decoders: name " + k + " selects both " + prev.ID + " and " + m.ID)
		}
		idx[k] = m
	}
	for i := range models {
		m := &models[i]
		add(m.ID, m)
		for _, a := range m.Aliases {
			add(a, m)
		}
		vendor, _, _ := strings.Cut(m.ID, "/")
		for _, r := range m.RepositoryModels {
			add("repo:"+vendor+"/"+r, m)
		}
	}
	return idx
}()

// key normalises a name: trimmed, lower case, '_' and ' ' as '-'.
func key(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '_', ' ':
			return '-'
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}

// Lookup finds a model by canonical id ("dragino/lht65n") or alias ("LHT65N", "dragino-lht65").
func Lookup(name string) (Model, bool) {
	if strings.HasPrefix(key(name), "repo:") {
		return Model{}, false
	}
	if m, ok := byKey[key(name)]; ok {
		return *m, true
	}
	return Model{}, false
}

// ByRepository finds the model of a device repository entry (TTN sends it as
// uplink_message.version_ids.brand_id / model_id).
func ByRepository(brandID, modelID string) (Model, bool) {
	if m, ok := byKey["repo:"+key(brandID)+"/"+key(modelID)]; ok {
		return *m, true
	}
	return Model{}, false
}

// Models lists every model, by id.
func Models() []Model {
	out := make([]Model, len(models))
	copy(out, models)
	slices.SortFunc(out, func(a, b Model) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Decode decodes a payload with the named model (canonical id or alias). An unknown model gives
// a reading with the payload fault FaultNoDecoder.
func Decode(model string, fport int, payload []byte) Reading {
	m, ok := Lookup(model)
	if !ok {
		return Reading{Frame: FrameInfo, Faults: []Fault{{Kind: FaultPayload, Message: FaultNoDecoder}}}
	}
	return m.Decode(fport, payload)
}

// Resolve chooses the model of a sensor from its configured decoder and its model text, the way
// sensors have named them so far (shared/lorawan/ttn DecoderFor): a canonical id or alias in either
// field, else the model text's family name ("Dragino LHT65N-E1", "EM300-TH-868M", "ELSYS ERS
// Lite"...). When the decoder names a codec family and the model text a model of that family
// (decoder "elsys", model "EMS Door"), the model text refines it. ("", false) when neither
// selects a model.
func Resolve(decoder, model string) (Model, bool) {
	d, dok := Lookup(decoder)
	m, mok := Lookup(model)
	if !mok {
		m, mok = byFamilyName(model)
	}
	switch {
	case dok && mok && d.family() == m.family():
		return m, true
	case dok:
		return d, true
	case mok:
		return m, true
	}
	return Model{}, false
}

// family groups models that share one codec (decoder names like "elsys" choose the family).
func (m Model) family() string {
	if strings.HasPrefix(m.ID, "elsys/") {
		return "elsys"
	}
	return m.ID
}

// familyNames are the free-text names sensors were registered with before canonical ids, in
// the order they are tried: a compact name (upper case, without ' ', '-' and '_') containing the
// text, or, for Elsys, a word starting with it (and, for the EMS Door, also containing DOOR).
var familyNames = []struct {
	text, also string
	word       bool
	id         string
}{
	{text: "LHT65N", id: "dragino/lht65n"},
	{text: "LHT65", id: "dragino/lht65"},
	{text: "LHT52", id: "dragino/lht52"},
	{text: "EM300MCS", id: "milesight-iot/em300-mcs"},
	{text: "EM320TH", id: "milesight-iot/em320-th"},
	{text: "EM500PT100", id: "milesight-iot/em500-pt100"},
	{text: "EM300", id: "milesight-iot/em300-th"},
	{text: "LDS02", id: "dragino/lds02"},
	{text: "LDS01", id: "dragino/lds01"},
	{text: "ELT", word: true, id: "elsys/elt-2"},
	{text: "EMS", also: "DOOR", word: true, id: "elsys/ems-door"},
	{text: "EMS", word: true, id: "elsys/ems"},
	{text: "ERS", word: true, id: "elsys/ers"},
	{text: "ELSYS", id: "elsys/ers"},
}

// byFamilyName recognises a free-text model name with the rules of shared/lorawan/ttn DecoderFor
// (case-insensitive, ignoring ' ', '-' and '_'), made precise where one family holds several
// models.
func byFamilyName(text string) (Model, bool) {
	upper := strings.ToUpper(text)
	compact := strings.NewReplacer(" ", "", "-", "", "_", "").Replace(upper)
	for _, f := range familyNames {
		match := strings.Contains(compact, f.text)
		if f.word {
			match = hasWordPrefix(upper, f.text)
		}
		if match && strings.Contains(compact, f.also) {
			return Lookup(f.id)
		}
	}
	return Model{}, false
}

// hasWordPrefix reports whether a word of s (split on non-alphanumerics) starts with p.
func hasWordPrefix(s, p string) bool {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		if strings.HasPrefix(w, p) {
			return true
		}
	}
	return false
}
