package domain

import (
	"slices"
	"strings"
)

// PhoneCountry is the country (ISO 3166-1 alpha-2) of an E.164 number, ""
// when unknown (an unassigned calling code or North American area code).
// Numbers of the North American plan (+1) are told apart by area code
// (+1 212 is US, +1 876 Jamaica, +1 416 Canada); other calling codes shared
// by several countries give their main one (+44 is GB, Jersey included;
// +7 is RU, Kazakhstan included). The tables are generated from
// libphonenumber's metadata (cmd/phoneregions) and tested against it.
func PhoneCountry(e164 string) string {
	digits, ok := strings.CutPrefix(e164, "+")
	if !ok {
		return ""
	}
	if rest, nanp := strings.CutPrefix(digits, "1"); nanp {
		if len(rest) < 3 {
			return ""
		}
		return nanpAreaCountry[rest[:3]]
	}
	// Calling codes are prefix-free: at most one of 1, 2 or 3 digits matches.
	for n := 1; n <= 3 && n <= len(digits); n++ {
		if c, ok := callingCodeCountry[digits[:n]]; ok {
			return c
		}
	}
	return ""
}

// SMSCountryAllowed reports whether an SMS may go to phone under an
// organisation's allowed countries: a number of unknown country never may.
func SMSCountryAllowed(phone string, allowed []string) bool {
	c := PhoneCountry(phone)
	return c != "" && slices.Contains(allowed, c)
}
