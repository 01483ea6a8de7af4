package store_test

import (
	"context"
	"testing"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/domain"
	"github.com/frostguard/functions/shared/store"
	"github.com/frostguard/functions/shared/testenv"
)

// Tenant filters of the ChirpStack connection methods: each reads, rotates and removes only the
// named organisation's connection; the webhook's lookup finds a connection by its own secret.
func TestChirpStackConnectionsAreTheOrganisations(t *testing.T) {
	db, _ := testenv.OpenDB(t)
	ctx := context.Background()
	var a, b string
	for _, org := range []*string{&a, &b} {
		if err := testenv.Pool(db).QueryRow(ctx, `INSERT INTO organizations (name, slug) VALUES ('Org', gen_random_uuid()::text) RETURNING id`).Scan(org); err != nil {
			t.Fatal(err)
		}
	}
	secretA, _ := domain.NewChirpStackSecret()
	secretB, _ := domain.NewChirpStackSecret()
	if _, created, err := db.PutChirpStackConnection(ctx, a, domain.ChirpStackBinding{}, secretA); err != nil || !created {
		t.Fatalf("A: created %v, %v", created, err)
	}
	if _, err := db.ChirpStackConnection(ctx, b); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("B reads A's connection: %v", err)
	}
	if err := db.DeleteChirpStackConnection(ctx, b); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("B deletes A's connection: %v", err)
	}
	if _, created, err := db.PutChirpStackConnection(ctx, b, domain.ChirpStackBinding{}, secretB); err != nil || !created {
		t.Fatalf("B: created %v, %v", created, err)
	}
	// Rotating A's leaves B's secret working, and the lookup by hash finds each its own.
	rotated, _ := domain.NewChirpStackSecret()
	if _, created, err := db.PutChirpStackConnection(ctx, a, domain.ChirpStackBinding{}, rotated); err != nil || created {
		t.Fatalf("A rotated: created %v, %v", created, err)
	}
	for _, c := range []struct {
		secret domain.TTNSecret
		org    string
		found  bool
	}{{secretA, "", false}, {rotated, a, true}, {secretB, b, true}} {
		conn, found, err := db.UplinkConnection(ctx, store.ConnectionLookup{Network: "chirpstack", SecretHash: c.secret.Hash[:]})
		if err != nil || found != c.found || (found && conn.OrgID != c.org) {
			t.Errorf("lookup of …%s: found %v org %s (%v), want %v %s", c.secret.Last4, found, conn.OrgID, err, c.found, c.org)
		}
	}
	if err := db.DeleteChirpStackConnection(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChirpStackConnection(ctx, b); err != nil {
		t.Fatalf("B's connection after A's removal: %v", err)
	}
}
