package errreport

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzScrubString: free text around a credential never lets the credential
// through, and scrubbing twice changes nothing more (an event may pass the
// scrubber from two integrations).
func FuzzScrubString(f *testing.F) {
	for _, s := range [][2]string{
		{"dial tcp: postgres://app:", "hunter2secret"},
		{`{"api_key":"`, "sk_test_51Hx"},
		{"Authorization: Bearer ", "eyJhbGciOiJFUzI1NiJ9.e30.sig"},
		{"config TTN_API_KEY=", "NNSXS.ABCDEF"},
		{"user ", "someone@example.com"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, prefix, secret string) {
		once := scrubString(prefix)
		if twice := scrubString(once); twice != once {
			t.Fatalf("not stable: %q -> %q -> %q", prefix, once, twice)
		}
		// A credential-shaped value after a secret-named field never survives.
		if len(secret) < 4 || strings.IndexFunc(secret, func(r rune) bool {
			return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)))
		}) >= 0 {
			return
		}
		for _, form := range []string{" password=" + secret, ` "token": "` + secret + `"`, " api_key: " + secret} {
			out := scrubString(prefix + form + " end")
			if strings.Contains(out, form) {
				t.Fatalf("%q survived in %q", form, out)
			}
		}
	})
}
