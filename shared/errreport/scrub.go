package errreport

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/getsentry/sentry-go"
)

// filtered replaces every value that must not leave the process.
const filtered = "[Filtered]"

// secretWords mark a key (query parameter, context field, tag) whose value
// is a secret or personal data. Over-matching ("monkey") only costs a value.
var secretWords = []string{
	"auth", "secret", "password", "passwd", "token", "key", "signature",
	"dsn", "cookie", "session", "credential", "database_url", "private",
	"email", "phone",
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// filterQuery keeps a query string's parameter names and replaces the value
// of each secret-looking one; a query that does not parse is dropped whole.
func filterQuery(raw string) string {
	if raw == "" {
		return ""
	}
	if _, err := url.ParseQuery(raw); err != nil {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err != nil || secretKey(name) {
			parts[i] = k + "=" + filtered
		}
	}
	return strings.Join(parts, "&")
}

var (
	// scheme://user:password@host
	reUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@`)
	// Authorization schemes followed by their credential.
	reBearer = regexp.MustCompile(`(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}`)
	// name=value, name: value, "name":"value" where name looks secret.
	reSecretPair = regexp.MustCompile(`(?i)([a-z0-9_.-]*(?:auth|secret|passw(?:or)?d|token|key|signature|dsn|cookie|session|credential)[a-z0-9_.-]*)("?\s*[=:]\s*"?)([^\s&",;]+)`)
	reEmail      = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
)

// scrubString removes credentials and email addresses from free text (error
// messages, panic values), which may quote a URL or a configuration value.
func scrubString(s string) string {
	s = reUserinfo.ReplaceAllString(s, "${1}"+filtered+"@")
	s = reBearer.ReplaceAllString(s, "${1} "+filtered)
	s = reSecretPair.ReplaceAllString(s, "${1}${2}"+filtered)
	return reEmail.ReplaceAllString(s, filtered)
}

// beforeSend is the last word on every event: whatever an integration or a
// future caller attached, no header, cookie, body, user, breadcrumb, secret
// query value or secret-looking context field leaves.
func beforeSend(e *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	if r := e.Request; r != nil {
		r.Headers = nil
		r.Cookies = ""
		r.Data = ""
		r.Env = nil
		u, q, _ := strings.Cut(r.URL, "?")
		r.URL = scrubString(u)
		if r.QueryString == "" {
			r.QueryString = q
		}
		r.QueryString = filterQuery(r.QueryString)
	}
	e.User = sentry.User{}
	e.Breadcrumbs = nil
	e.Message = scrubString(e.Message)
	for i := range e.Exception {
		e.Exception[i].Value = scrubString(e.Exception[i].Value)
	}
	tags := make(map[string]string, len(e.Tags))
	for k, v := range e.Tags {
		if !secretKey(k) {
			tags[k] = scrubString(v)
		}
	}
	e.Tags = tags
	// Fresh maps: the originals may be shared with a scope.
	contexts := make(map[string]sentry.Context, len(e.Contexts))
	for name, c := range e.Contexts {
		if secretKey(name) {
			continue
		}
		clean := make(sentry.Context, len(c))
		for k, v := range c {
			switch s, isString := v.(string); {
			case secretKey(k):
			case isString:
				clean[k] = scrubString(s)
			default:
				clean[k] = v
			}
		}
		contexts[name] = clean
	}
	e.Contexts = contexts
	return e
}
