package lorawan

import (
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Delivery is one HTTP request from a network, as much of it as a parser may read. The handler
// has already limited the body's size.
type Delivery struct {
	Query  url.Values
	Header http.Header
	Body   []byte
}

// Parser is what each network package provides, with the same shape for every network.
//
// Parse never panics and never does I/O. It answers an error wrapping ErrMalformed for a body
// that is not the network's message (the handler answers 400 and the network does not retry),
// and ErrUnsupported for a well-formed delivery we cannot read (for example ChirpStack's Protobuf
// encoding: 415 with the setting to change). Message types we do not act on are not errors: they
// parse to KindOther and are acknowledged.
//
// Secret reads the credential the delivery presents, "" when there is none; comparing it with
// the organisation's stored hash is the caller's (one path for every network).
type Parser interface {
	Network() Network
	Secret(h http.Header) string
	Parse(d Delivery) (Event, error)
}

// Errors that Parse implementations wrap (test with errors.Is).
var (
	ErrMalformed   = errors.New("lorawan: malformed delivery")
	ErrUnsupported = errors.New("lorawan: unsupported delivery encoding")
)

// HeaderSecret returns the first non-empty value of the named headers, else the token of an
// "Authorization: Bearer <token>" header, trimmed; "" when none is present. Networks let the
// integration's owner choose the header; the value is compared, never logged.
func HeaderSecret(h http.Header, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(h.Get(n)); v != "" {
			return v
		}
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}

// NormalizeEUI returns an EUI-64 as 16 upper-case hex digits, accepting ':', '-' and ' '
// separators and either case; anything else (wrong length, other characters) gives "".
func NormalizeEUI(s string) string {
	var out [16]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':' || c == '-' || c == ' ':
			continue
		case c >= 'a' && c <= 'f':
			c -= 'a' - 'A'
		case !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F'):
			return ""
		}
		if n == len(out) {
			return ""
		}
		out[n] = c
		n++
	}
	if n != len(out) {
		return ""
	}
	return string(out[:])
}

// DecodeBase64 decodes protobuf-JSON bytes: the standard alphabet (what networks emit), padded
// or not, and the URL-safe alphabet, as protobuf JSON parsers accept.
func DecodeBase64(s string) ([]byte, error) {
	for _, enc := range [...]*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// ParseTime parses an RFC 3339 time with optional fractional seconds and any offset, to UTC;
// false for "", a malformed time or the zero time.
func ParseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// GatewayRx is one gateway's reception of an uplink, as networks report it.
type GatewayRx struct {
	// ID identifies the gateway; "" when the network gave none (each such entry counts as one).
	ID   string
	RSSI *float64 // dBm
	SNR  *float64 // dB
}

// Plausible bounds of what a gateway reports; values outside are treated as absent.
const (
	minRSSI, maxRSSI = -250.0, 50.0
	minSNR, maxSNR   = -50.0, 50.0
)

// SummarizeReception fills the RSSI, SNR and GatewayCount of a Radio from the gateways that
// heard an uplink: the best gateway has the highest plausible RSSI, the SNR breaking ties.
func SummarizeReception(rx []GatewayRx) (rssi *int, snr *float64, gateways int) {
	seen := make(map[string]struct{}, len(rx))
	anonymous := 0
	best, bestSNR, found := 0.0, math.Inf(-1), false
	for _, g := range rx {
		if g.ID == "" {
			anonymous++
		} else {
			seen[g.ID] = struct{}{}
		}
		if g.RSSI == nil || !(*g.RSSI >= minRSSI && *g.RSSI <= maxRSSI) {
			continue
		}
		var s *float64
		sv := math.Inf(-1)
		if g.SNR != nil && *g.SNR >= minSNR && *g.SNR <= maxSNR {
			v := *g.SNR
			s, sv = &v, v
		}
		if !found || *g.RSSI > best || (*g.RSSI == best && sv > bestSNR) {
			found, best, bestSNR, snr = true, *g.RSSI, sv, s
		}
	}
	gateways = len(seen) + anonymous
	if !found {
		return nil, nil, gateways
	}
	r := int(math.Round(best))
	return &r, snr, gateways
}
