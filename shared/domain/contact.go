package domain

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	e164Pattern  = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	phoneNoise   = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "", "\u00a0", "")
	emailPattern = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
)

// NormalizePhone turns a typed international number ("+1 (555) 555-0100",
// "0044 20 7946 0000") into E.164, the form providers and opt-outs use.
// National numbers are refused: the country cannot be guessed. The api
// (contacts) and the origin import share it.
func NormalizePhone(s string) (string, bool) {
	p := phoneNoise.Replace(strings.TrimSpace(s))
	if strings.HasPrefix(p, "00") {
		p = "+" + p[2:]
	}
	return p, e164Pattern.MatchString(p)
}

// ValidEmail reports whether s (trimmed) looks like an e-mail address of at
// most 254 characters.
func ValidEmail(s string) bool {
	return utf8.RuneCountInString(s) <= 254 && emailPattern.MatchString(s)
}
