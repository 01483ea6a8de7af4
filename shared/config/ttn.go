package config

import (
	"encoding/base64"
	"errors"
	"strings"
)

// TTNStack configures The Things Stack management (connecting applications,
// configuring their webhook, provisioning end devices, gateway status).
type TTNStack struct {
	// Cluster is the default cluster of new connections: eu1, nam1 or au1.
	Cluster string `env:"TTN_CLUSTER" envDefault:"eu1"`
	// APIBase overrides every cluster's address (a local stand-in in tests).
	APIBase string `env:"TTN_API_BASE" check:"url"`
	// EncryptionKey is 32 random bytes in base64: it seals the organisations'
	// TTN API keys at rest. Empty: the management routes answer 503.
	EncryptionKey string `env:"TTN_ENCRYPTION_KEY" deploy:"TTN management"`
	// WebhookURL is our public ttn-webhook URL, which TTN webhooks call.
	WebhookURL string `env:"TTN_WEBHOOK_URL" check:"url" deploy:"TTN management"`
}

// TTNClusters are the The Things Stack Cloud clusters a connection may use.
var TTNClusters = []string{"eu1", "nam1", "au1"}

// ValidTTNCluster reports whether c is one of TTNClusters.
func ValidTTNCluster(c string) bool {
	for _, k := range TTNClusters {
		if c == k {
			return true
		}
	}
	return false
}

// Configured reports whether management is enabled (an encryption key is set).
func (t TTNStack) Configured() bool { return t.EncryptionKey != "" }

// Key decodes EncryptionKey.
func (t TTNStack) Key() ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(t.EncryptionKey))
	if err != nil || len(k) != 32 {
		return nil, errors.New("TTN_ENCRYPTION_KEY must be 32 bytes in base64")
	}
	return k, nil
}

// Validate checks what the env tags cannot: the cluster name and, when set,
// the key's length. Call it after Load.
func (t TTNStack) Validate() error {
	var problems []string
	if !ValidTTNCluster(t.Cluster) {
		problems = append(problems, "TTN_CLUSTER must be one of eu1, nam1, au1")
	}
	if t.EncryptionKey != "" {
		if _, err := t.Key(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return nil
}

// ClusterBase is the HTTP address of a cluster's Network, Application, Join
// and Gateway Servers.
func (t TTNStack) ClusterBase(cluster string) string {
	if t.APIBase != "" {
		return strings.TrimRight(t.APIBase, "/")
	}
	return "https://" + cluster + ".cloud.thethings.network"
}

// IdentityBase is the Identity Server's address. The Things Stack Cloud runs
// one Identity Server, on eu1, for every cluster: API key rights and the
// end device registry live there even for nam1 and au1 applications.
func (t TTNStack) IdentityBase() string {
	if t.APIBase != "" {
		return strings.TrimRight(t.APIBase, "/")
	}
	return "https://eu1.cloud.thethings.network"
}
