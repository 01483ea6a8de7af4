package testenv

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TelnyxCalls plays Telnyx's Call Control API for tests: POST /v2/calls
// (dial) and POST /v2/calls/{call_control_id}/actions/{gather_using_speak,
// speak, hangup}. It checks every command as the real API does (method,
// path, bearer key, JSON body, the fields each command requires, a
// client_state that is valid base64, a call it placed and that has not
// ended) and records the accepted ones. A refused command is answered like
// Telnyx (422 with {"errors": [...]}) and listed in Refused, which a test
// asserts empty. Its documented shapes: Telnyx's "Dial", "Speak text",
// "Gather using speak" and "Hangup call" references (developers.telnyx.com,
// api-reference/call-commands).
type TelnyxCalls struct {
	APIKey string
	URL    string

	mu       sync.Mutex
	commands []TelnyxCommand
	refused  []string
	calls    map[string]string // call_control_id -> to
	ended    map[string]bool
	seq      int
	// failNext answers the next dial with this status (0: none).
	failNext int
}

// TelnyxCommand is one accepted request.
type TelnyxCommand struct {
	Action        string // dial, gather_using_speak, speak, hangup
	CallControlID string
	Body          map[string]any
	// ClientState is the decoded client_state ("" without one).
	ClientState string
}

var (
	telnyxE164       = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)
	telnyxActionPath = regexp.MustCompile(`^/v2/calls/([^/]+)/actions/([a-z_]+)$`)
)

// NewTelnyxCalls serves the fake on loopback until the test ends.
func NewTelnyxCalls(t testing.TB, apiKey string) *TelnyxCalls {
	f := &TelnyxCalls{APIKey: apiKey, calls: map[string]string{}, ended: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Commands returns the accepted commands, in order.
func (f *TelnyxCalls) Commands() []TelnyxCommand {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]TelnyxCommand(nil), f.commands...)
}

// Refused lists why requests were refused.
func (f *TelnyxCalls) Refused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refused...)
}

// FailNextDial makes the next dial answer status (a Telnyx error body).
func (f *TelnyxCalls) FailNextDial(status int) {
	f.mu.Lock()
	f.failNext = status
	f.mu.Unlock()
}

// EndCall marks a call ended: later commands on it are refused (422, as
// Telnyx answers "Call has already ended").
func (f *TelnyxCalls) EndCall(id string) {
	f.mu.Lock()
	f.ended[id] = true
	f.mu.Unlock()
}

func (f *TelnyxCalls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	refuse := func(status int, code, title string) {
		f.refused = append(f.refused, fmt.Sprintf("%s %s: %s", r.Method, r.URL.Path, title))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"errors":[{"code":%q,"title":%q,"detail":%q}]}`, code, title, title)
	}
	if r.Header.Get("Authorization") != "Bearer "+f.APIKey {
		refuse(http.StatusUnauthorized, "10009", "Authentication failed")
		return
	}
	if r.Method != http.MethodPost {
		refuse(http.StatusMethodNotAllowed, "10015", "Method not allowed")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		refuse(http.StatusUnsupportedMediaType, "10015", "Content-Type must be application/json")
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		refuse(http.StatusBadRequest, "10015", "Malformed JSON")
		return
	}
	str := func(k string) string { s, _ := body[k].(string); return s }
	state := ""
	if cs, ok := body["client_state"]; ok {
		s, _ := cs.(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || s == "" {
			refuse(http.StatusUnprocessableEntity, "90015", "client_state must be a valid Base-64 encoded string")
			return
		}
		state = string(b)
	}
	if r.URL.Path == "/v2/calls" {
		switch {
		case str("connection_id") == "":
			refuse(http.StatusUnprocessableEntity, "10032", "connection_id is required")
		case !telnyxE164.MatchString(str("to")) || !telnyxE164.MatchString(str("from")):
			refuse(http.StatusUnprocessableEntity, "10016", "to and from must be E.164 numbers")
		case !oneOf(str("answering_machine_detection"), "", "premium", "detect", "detect_beep", "detect_words", "greeting_end", "disabled"):
			refuse(http.StatusUnprocessableEntity, "10015", "answering_machine_detection is not valid")
		case !numberIn(body, "timeout_secs", 5, 600) || !numberIn(body, "time_limit_secs", 30, 14400):
			refuse(http.StatusUnprocessableEntity, "10015", "timeout_secs or time_limit_secs out of range")
		case f.failNext != 0:
			status := f.failNext
			f.failNext = 0
			refuse(status, "90018", "Dial refused by the test")
		default:
			f.seq++
			id := fmt.Sprintf("v3:fake-call-%04d", f.seq)
			f.calls[id] = str("to")
			f.commands = append(f.commands, TelnyxCommand{Action: "dial", CallControlID: id, Body: body, ClientState: state})
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"data":{"call_control_id":%q,"call_leg_id":"leg-%04d","call_session_id":"session-%04d","is_alive":false,"record_type":"call"}}`, id, f.seq, f.seq)
		}
		return
	}
	m := telnyxActionPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		refuse(http.StatusNotFound, "10005", "Resource not found")
		return
	}
	id, action := m[1], m[2]
	if _, ok := f.calls[id]; !ok {
		refuse(http.StatusNotFound, "90015", "Call not found")
		return
	}
	if f.ended[id] {
		refuse(http.StatusUnprocessableEntity, "90018", "Call has already ended")
		return
	}
	switch action {
	case "speak", "gather_using_speak":
		p := str("payload")
		if p == "" || len(p) > 3000 || str("voice") == "" || !oneOf(str("payload_type"), "", "text", "ssml") {
			refuse(http.StatusUnprocessableEntity, "10015", "payload (at most 3,000 characters) and voice are required")
			return
		}
		if action == "gather_using_speak" && (!numberIn(body, "maximum_digits", 1, 128) || !numberIn(body, "minimum_digits", 1, 128)) {
			refuse(http.StatusUnprocessableEntity, "10015", "minimum_digits and maximum_digits must be from 1 to 128")
			return
		}
	case "hangup":
	default:
		refuse(http.StatusNotFound, "10005", "Unknown action "+action)
		return
	}
	if action == "hangup" {
		f.ended[id] = true
	}
	f.commands = append(f.commands, TelnyxCommand{Action: action, CallControlID: id, Body: body, ClientState: state})
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"data":{"result":"ok"}}`)
}

func oneOf(s string, values ...string) bool {
	for _, v := range values {
		if s == v {
			return true
		}
	}
	return false
}

// numberIn: an absent field is fine (Telnyx's default); a present one must
// be a whole number in range.
func numberIn(body map[string]any, key string, lo, hi float64) bool {
	v, ok := body[key]
	if !ok {
		return true
	}
	n, ok := v.(float64)
	return ok && n == float64(int64(n)) && n >= lo && n <= hi
}
