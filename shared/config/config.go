// Package config holds one struct per function, parsed once per cold start
// from the environment with caarlos0/env. Loading fails fast with one error
// that names every missing or malformed variable, so a misconfigured
// deployment is fixed in one round trip instead of one variable at a time.
//
// A field tagged `deploy:"<feature>"` may be empty for the program to start,
// but a deployment must set it or that feature is off (TTN management answers
// 503 without TTN_ENCRYPTION_KEY, SMS goes to the log without TELNYX_API_KEY):
// shared/app's template test requires template.yaml to set every such
// variable, as it requires the `required` ones.
package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/caarlos0/env/v10"
)

// Common is what every function needs.
type Common struct {
	// Stage names the deployment (dev, prod); it only labels logs.
	Stage    string     `env:"STAGE" envDefault:"dev"`
	LogLevel slog.Level `env:"LOG_LEVEL" envDefault:"info"`
	// DatabaseURL is a postgres:// URL. The pool connects lazily, on first use.
	DatabaseURL string `env:"DATABASE_URL,required,notEmpty" check:"postgres-url"`
	// DatabaseHost, when set, replaces the host of DatabaseURL: the RDS Proxy
	// endpoint in AWS (template.yaml), while the credentials stay in the
	// secret. Statements then run unprepared (pgx's exec mode): a named
	// prepared statement would pin each client to one proxied connection.
	DatabaseHost string `env:"DATABASE_HOST"`
	// DBMaxConns bounds each instance's pool; Lambda instances are many and
	// small, so the default is low to protect PostgreSQL's connection slots.
	DBMaxConns int32 `env:"DB_MAX_CONNS" envDefault:"4"`
	// RedisURL is optional: without it every feature works on slower paths.
	RedisURL string `env:"REDIS_URL" check:"url"`
	// MaxBodyBytes caps request bodies (413 beyond).
	MaxBodyBytes int64  `env:"MAX_BODY_BYTES" envDefault:"1048576"`
	SentryDSN    string `env:"SENTRY_DSN" check:"url"`
}

// Auth configures Stack Auth JWT verification.
type Auth struct {
	StackAuthProjectID string `env:"STACK_AUTH_PROJECT_ID,required,notEmpty"`
	// JWKSURL overrides the Stack Auth JWKS location (dev serves its own).
	JWKSURL string `env:"STACK_AUTH_JWKS_URL" check:"url"`
	// Issuer overrides the expected `iss` claim.
	Issuer string `env:"STACK_AUTH_ISSUER"`
	// AllowStackAuthOverride lets STAGE=prod start with JWKSURL or Issuer
	// set: production trusts Stack Auth's own keys and issuer unless this
	// says otherwise, explicitly.
	AllowStackAuthOverride bool `env:"ALLOW_STACK_AUTH_OVERRIDE"`
}

func (a *Auth) authConfig() *Auth { return a }

// JWKS returns the JWKS URL, defaulting to Stack Auth's per-project endpoint.
func (a Auth) JWKS() string {
	if a.JWKSURL != "" {
		return a.JWKSURL
	}
	return "https://api.stack-auth.com/api/v1/projects/" + url.PathEscape(a.StackAuthProjectID) + "/.well-known/jwks.json"
}

// ExpectedIssuer returns the `iss` every token must carry.
func (a Auth) ExpectedIssuer() string {
	if a.Issuer != "" {
		return a.Issuer
	}
	return "https://api.stack-auth.com/api/v1/projects/" + a.StackAuthProjectID
}

// Frontend is the SPA's origin: CORS and every redirect URL derive from it.
type Frontend struct {
	FrontendURL string `env:"FRONTEND_URL" envDefault:"http://localhost:5173" check:"url" deploy:"CORS and links"`
}

// Storage is the S3-compatible object store (MinIO/versitygw locally, S3 in AWS).
type Storage struct {
	// Endpoint is empty in AWS (the SDK's default S3 endpoint and the
	// function's IAM role are used).
	Endpoint     string `env:"MINIO_ENDPOINT" check:"url"`
	AccessKey    string `env:"MINIO_ROOT_USER"`
	SecretKey    string `env:"MINIO_ROOT_PASSWORD"`
	AssetsBucket string `env:"MINIO_BUCKET_ASSETS" envDefault:"frostguard-assets" deploy:"files and reports"`
	// Region defaults to the Lambda's AWS_REGION, else us-east-1.
	Region string `env:"S3_REGION"`
}

// Stripe is the Stripe API client configuration.
type Stripe struct {
	// SecretKey empty means billing is not configured: billing routes answer 503.
	SecretKey string `env:"STRIPE_SECRET_KEY" deploy:"billing"`
	// APIBase points the client at stripe-mock in dev and tests.
	APIBase string `env:"STRIPE_API_BASE" check:"url"`
	StripePrices
}

// StripePrices maps plans to Stripe price ids (both ways).
type StripePrices struct {
	PriceStarter string `env:"STRIPE_PRICE_STARTER" envDefault:"price_1SiUf142uQRDu0jrOM50mqeK" deploy:"billing"`
	PricePro     string `env:"STRIPE_PRICE_PRO" envDefault:"price_1SiUfF42uQRDu0jrJ8kCIn9u" deploy:"billing"`
	PriceHACCP   string `env:"STRIPE_PRICE_HACCP" envDefault:"price_1SiUfP42uQRDu0jrAlHvwYID" deploy:"billing"`
}

// Notify configures the SMS, voice and email providers. Empty keys mean a
// logging sender is used instead (dev).
type Notify struct {
	TelnyxAPIKey             string `env:"TELNYX_API_KEY" deploy:"SMS"`
	TelnyxAPIBase            string `env:"TELNYX_API_BASE" envDefault:"https://api.telnyx.com" check:"url"`
	TelnyxFromNumber         string `env:"TELNYX_FROM_NUMBER" deploy:"SMS"`
	TelnyxMessagingProfileID string `env:"TELNYX_MESSAGING_PROFILE_ID"`
	// TelnyxConnectionID is the Call Control application voice pages are
	// dialled from (with TELNYX_FROM_NUMBER as caller id); without it (and
	// with an API key) voice pages fail "channel_not_configured".
	TelnyxConnectionID string `env:"TELNYX_CONNECTION_ID" deploy:"voice calls"`
	// TelnyxWebhookURL is our telnyx-webhook's public URL: calls send their
	// events there, and sender health compares it with what Telnyx has.
	TelnyxWebhookURL string `env:"TELNYX_WEBHOOK_URL" check:"url"`
	// TelnyxTTSVoice is the text-to-speech voice of calls.
	TelnyxTTSVoice string `env:"TELNYX_TTS_VOICE" envDefault:"female"`
	ResendAPIKey   string `env:"RESEND_API_KEY" deploy:"e-mail"`
	ResendAPIBase  string `env:"RESEND_API_BASE" envDefault:"https://api.resend.com" check:"url"`
	EmailFrom      string `env:"EMAIL_FROM" envDefault:"FrostGuard Alerts <alerts@frostguard.app>"`
}

// SiteContext configures the weather and geocoding proxies.
type SiteContext struct {
	WeatherBaseURL string `env:"OPEN_METEO_BASE_URL" envDefault:"https://api.open-meteo.com" check:"url"`
	GeocodeBaseURL string `env:"NOMINATIM_BASE_URL" envDefault:"https://nominatim.openstreetmap.org" check:"url"`
	// GeocodeUserAgent identifies us to Nominatim, as its usage policy asks.
	GeocodeUserAgent string `env:"GEOCODER_USER_AGENT" envDefault:"FrostGuard/1.0 (+https://frostguard.app)"`
}

// Live is where a function publishes live events (shared/realtime): the
// WebSocket API's management endpoint. Empty: nothing is published.
type Live struct {
	RealtimeEndpoint string `env:"REALTIME_MANAGEMENT_ENDPOINT" check:"url" deploy:"live updates"`
}

// Realtime configures the `realtime` function (the WebSocket API's
// handshake and subscriptions).
type Realtime struct {
	Common
	Auth
}

// API configures the `api` function.
type API struct {
	Common
	Auth
	Frontend
	Storage
	SiteContext
	TTNStack
	Live
	// PlatformAdminSubjects are the Stack Auth user ids (JWT sub) of the
	// service's operators: they reach /api/v1/platform (every organisation's
	// plan, usage and health; suspend and reactivate; the audited support
	// view). Not an organisation role; empty: nobody.
	PlatformAdminSubjects []string `env:"PLATFORM_ADMIN_SUBJECTS" envSeparator:","`
}

// Reports configures the `reports` function (HACCP reports; large ones are
// written to the private bucket and answered with a download link).
type Reports struct {
	Common
	Auth
	Frontend
	Storage
}

// StripeCheckout configures the `stripe-checkout` function.
type StripeCheckout struct {
	Common
	Auth
	Frontend
	Stripe
}

// StripeWebhook configures the `stripe-webhook` function. It has no API
// key: events are applied from their own payload, never by calling Stripe.
type StripeWebhook struct {
	Common
	StripePrices
	StripeWebhookSecret string `env:"STRIPE_WEBHOOK_SECRET,required,notEmpty"`
}

// TelnyxWebhook configures the `telnyx-webhook` function.
type TelnyxWebhook struct {
	Common
	Notify
	// Frontend: a page that failed for good goes out at once on the
	// contact's next channel, linking to the app like every alarm message.
	Frontend
	// Live: an acknowledgement texted back reaches the screens at once.
	Live
	// TelnyxPublicKey is the base64 Ed25519 key from the Telnyx portal.
	TelnyxPublicKey string `env:"TELNYX_PUBLIC_KEY,required,notEmpty" check:"ed25519-public-key"`
}

// LoRaWANWebhook is what every network's webhook function needs
// (shared/ingest.Function).
type LoRaWANWebhook struct {
	Common
	// Frontend: alarm messages link to the app to acknowledge.
	Frontend
	// Notify: an alarm's first notifications are sent right after the
	// reading's transaction commits, not a sweeper minute later.
	Notify
	// Live: each committed reading's live events.
	Live
}

// ChirpStackWebhook configures the `chirpstack-webhook` function. Its
// secrets are the organisations' own, hashed in network_connections.
type ChirpStackWebhook struct {
	LoRaWANWebhook
}

// TTNWebhook configures the `ttn-webhook` function.
type TTNWebhook struct {
	LoRaWANWebhook
	// TTNWebhookSecret optionally admits uplinks signed with one global secret
	// (the per-organisation secrets are in the database).
	TTNWebhookSecret string `env:"TTN_WEBHOOK_SECRET"`
	// AllowGlobalTTNSecret lets STAGE=prod start with TTNWebhookSecret set:
	// one secret that admits every organisation's deliveries is for
	// single-tenant installs, never a multi-tenant production by accident.
	AllowGlobalTTNSecret bool `env:"ALLOW_GLOBAL_TTN_WEBHOOK"`
}

// productionProblems refuses, with STAGE=prod, the global TTN secret unless
// ALLOW_GLOBAL_TTN_WEBHOOK says so.
func (t *TTNWebhook) productionProblems() []string {
	if t.Stage == "prod" && t.TTNWebhookSecret != "" && !t.AllowGlobalTTNSecret {
		return []string{"TTN_WEBHOOK_SECRET must not be set with STAGE=prod (one secret admitting every organisation); set ALLOW_GLOBAL_TTN_WEBHOOK=true to allow it"}
	}
	return nil
}

// AlertSweeper configures the scheduled `alert-sweeper` function.
type AlertSweeper struct {
	Common
	Notify
	Frontend
	// Storage: organisation exports and deletions, readings archives.
	Storage
	Live
}

// Migrate configures the `migrate` function, which a deploy invokes to
// bring the database to the release's schema version.
type Migrate struct {
	Common
}

// Load parses the process environment into dst (a pointer to one of the
// structs above).
func Load(dst any) error { return Parse(dst, environ()) }

// Parse parses the given environment into dst and validates it. The error
// lists every problem, each naming its variable.
func Parse(dst any, environment map[string]string) error {
	var problems []string
	err := env.ParseWithOptions(dst, env.Options{Environment: environment})
	if err != nil {
		problems = append(problems, describe(err, dst)...)
	}
	problems = append(problems, check(reflect.ValueOf(dst).Elem())...)
	if c, ok := dst.(interface{ common() *Common }); ok && len(problems) == 0 {
		if err := c.common().applyDatabaseHost(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	problems = append(problems, productionProblems(dst)...)
	// Rules env tags cannot express (a cluster name, a key's length).
	if v, ok := dst.(interface{ Validate() error }); ok && len(problems) == 0 {
		if err := v.Validate(); err != nil {
			problems = append(problems, strings.TrimPrefix(err.Error(), "configuration: "))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return errors.New("configuration: " + strings.Join(problems, "; "))
}

// productionProblems lists the settings STAGE=prod refuses unless an
// explicit ALLOW_ variable says so: overriding Stack Auth's JWKS or issuer
// (a token signed by anyone else would be accepted) and the global TTN
// webhook secret.
func productionProblems(dst any) []string {
	var out []string
	c, ok := dst.(interface{ common() *Common })
	if !ok || c.common().Stage != "prod" {
		return nil
	}
	if a, ok := dst.(interface{ authConfig() *Auth }); ok {
		auth := a.authConfig()
		if !auth.AllowStackAuthOverride {
			if auth.JWKSURL != "" {
				out = append(out, "STACK_AUTH_JWKS_URL must not be set with STAGE=prod (tokens would be checked against other keys than Stack Auth's); set ALLOW_STACK_AUTH_OVERRIDE=true to allow it")
			}
			if auth.Issuer != "" {
				out = append(out, "STACK_AUTH_ISSUER must not be set with STAGE=prod; set ALLOW_STACK_AUTH_OVERRIDE=true to allow it")
			}
		}
	}
	if t, ok := dst.(interface{ productionProblems() []string }); ok {
		out = append(out, t.productionProblems()...)
	}
	return out
}

func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// describe turns env's errors into "VAR: problem" lines.
func describe(err error, dst any) []string {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return []string{err.Error()}
	}
	keys := fieldKeys(reflect.TypeOf(dst).Elem())
	var out []string
	for _, e := range agg.Errors {
		var notSet env.EnvVarIsNotSetError
		var empty env.EmptyEnvVarError
		var parse env.ParseError
		switch {
		case errors.As(e, &notSet):
			out = append(out, notSet.Key+" is required but not set")
		case errors.As(e, &empty):
			out = append(out, empty.Key+" is required but empty")
		case errors.As(e, &parse):
			key := keys[parse.Name]
			if key == "" {
				key = parse.Name
			}
			out = append(out, fmt.Sprintf("%s is not a valid %s", key, parse.Type))
		default:
			out = append(out, e.Error())
		}
	}
	return out
}

// fieldKeys maps struct field names to their variable names (embedded
// structs included), so parse errors can name the variable, not the field.
func fieldKeys(t reflect.Type) map[string]string {
	keys := map[string]string{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for k, v := range fieldKeys(f.Type) {
				keys[k] = v
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		keys[f.Name] = name
	}
	return keys
}

// check applies the `check` tags, which env cannot express.
func check(v reflect.Value) []string {
	var out []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, check(v.Field(i))...)
			continue
		}
		rule := f.Tag.Get("check")
		if rule == "" || f.Type.Kind() != reflect.String {
			continue
		}
		value := v.Field(i).String()
		if value == "" {
			continue // presence is env's `required`
		}
		key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if msg := checkValue(rule, value); msg != "" {
			out = append(out, key+" "+msg)
		}
	}
	return out
}

func checkValue(rule, value string) string {
	switch rule {
	case "url":
		u, err := url.Parse(value)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return "must be an absolute URL (scheme://host)"
		}
	case "postgres-url":
		u, err := url.Parse(value)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			return "must be a postgres:// URL"
		}
	case "ed25519-public-key":
		key, err := base64.StdEncoding.DecodeString(value)
		if err != nil || len(key) != ed25519.PublicKeySize {
			return "must be a base64-encoded 32-byte Ed25519 public key"
		}
	default:
		return "has an unknown check rule " + rule
	}
	return ""
}

// Config is any of the function structs: they all embed Common.
type Config interface{ Base() Common }

// Base returns the part every function shares.
func (c Common) Base() Common { return c }

func (c *Common) common() *Common { return c }

// applyDatabaseHost points DatabaseURL at DatabaseHost (keeping the port when
// the host names none) and turns statement preparation off for the proxy.
func (c *Common) applyDatabaseHost() error {
	if c.DatabaseHost == "" {
		return nil
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil {
		return errors.New("DATABASE_URL must be a postgres:// URL")
	}
	host := c.DatabaseHost
	if _, _, err := net.SplitHostPort(host); err != nil {
		port := u.Port()
		if port == "" {
			port = "5432"
		}
		host = net.JoinHostPort(host, port)
	}
	if strings.ContainsAny(c.DatabaseHost, "/@?#") {
		return errors.New("DATABASE_HOST must be a host name, optionally with a port")
	}
	u.Host = host
	q := u.Query()
	if q.Get("default_query_exec_mode") == "" {
		q.Set("default_query_exec_mode", "exec")
	}
	u.RawQuery = q.Encode()
	c.DatabaseURL = u.String()
	return nil
}
