package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"github.com/frostguard/functions/shared/lorawan"
	"github.com/frostguard/functions/shared/store"
)

// The secret of a delivery is checked before any transaction: an
// unauthenticated caller who knows an application id and a DevEUI (both
// printed on labels or guessable) must not hold unit locks or pool
// connections. The connection a delivery names (a TTN application, any
// other network's secret hash: store.ConnectionLookup) is read once and
// kept in memory for connectionTTL; a secret the cached copy refuses is
// looked up again at most once per connectionRecheck (it may just have been
// rotated, or the connection created), so a flood of wrong secrets costs at
// most one indexed read per second per TTN application and no write (for a
// network looked up by secret, one indexed read per distinct wrong secret,
// and none for a repeated one). The transaction re-checks the connection
// (store.BeginUplink), so a cached copy that is out of date never lets a
// rotated-away secret or a deactivated connection write anything.
const (
	connectionTTL     = 30 * time.Second
	connectionRecheck = time.Second
	connectionEntries = 4096
)

type cachedConnection struct {
	conn      store.UplinkConnection
	found     bool
	fetchedAt time.Time
}

// connectionCache holds the connections of recently seen lookups.
type connectionCache struct {
	entries *expirable.LRU[string, cachedConnection]
	fetches singleflight.Group // one read per lookup at a time
}

func newConnectionCache() *connectionCache {
	return &connectionCache{entries: expirable.NewLRU[string, cachedConnection](connectionEntries, nil, connectionTTL)}
}

// credential is what a delivery presented.
type credential struct {
	hash   [sha256.Size]byte
	global bool // the installation's global secret
}

func (h *Handler) credential(secret string) credential {
	return credential{
		hash:   sha256.Sum256([]byte(secret)),
		global: h.GlobalSecret != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(h.GlobalSecret)) == 1,
	}
}

// admits reports whether an active connection accepts the credential: its
// own secret (constant-time comparison of the hashes) or the global one.
func (c credential) admits(conn store.UplinkConnection) bool {
	own := len(conn.SecretHash) == sha256.Size && subtle.ConstantTimeCompare(c.hash[:], conn.SecretHash) == 1
	return conn.Active && (own || c.global)
}

// connection returns the connection a delivery names and whether one
// exists, from memory when the cached copy admits the credential or was
// read less than connectionRecheck ago.
func (h *Handler) connection(ctx context.Context, ev lorawan.Event, cred credential) (store.UplinkConnection, bool, error) {
	h.once.Do(func() { h.connections = newConnectionCache() })
	cc := h.connections
	l := store.ConnectionLookup{Network: string(ev.Network)}
	var key string
	if ev.Network == lorawan.NetworkTTN {
		l.ApplicationID = ev.Device.ApplicationID
		key = "app:" + l.ApplicationID
	} else {
		l.SecretHash = cred.hash[:]
		key = "secret:" + hex.EncodeToString(l.SecretHash)
	}
	// An importing organisation's copy is never trusted: the import's last
	// transaction makes it live, and its uplinks must be stored from then on.
	if e, ok := cc.entries.Get(key); ok && !e.conn.Importing {
		if (e.found && cred.admits(e.conn)) || time.Since(e.fetchedAt) < connectionRecheck {
			return e.conn, e.found, nil
		}
	}
	v, err, _ := cc.fetches.Do(key, func() (any, error) {
		conn, found, err := h.DB.UplinkConnection(ctx, l)
		if err != nil {
			return nil, err
		}
		e := cachedConnection{conn: conn, found: found, fetchedAt: time.Now()}
		cc.entries.Add(key, e)
		return e, nil
	})
	if err != nil {
		return store.UplinkConnection{}, false, err
	}
	e := v.(cachedConnection)
	return e.conn, e.found, nil
}
