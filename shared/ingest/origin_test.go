package ingest

import (
	"testing"
	"time"
)

// An organisation imported from the origin keeps its TTN webhooks as they
// were configured there: the origin's receiver read X-API-Key, and its
// provisioning sent the secret bare in Authorization.
func TestOriginWebhookHeaderForms(t *testing.T) {
	f := newFixture(t)
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(3)}.body(), "X-API-Key", secret).must(t, 200, "stored")
	f.post(uplink{At: f.now.Add(time.Minute), FCnt: 2, Decoded: temp(3)}.body(), "Authorization", secret).must(t, 200, "stored")
	if a := f.post(uplink{At: f.now.Add(2 * time.Minute), FCnt: 3, Decoded: temp(3)}.body(), "Authorization", "fgttn_wrong"); a.Status != 401 {
		t.Fatalf("a wrong bare secret: %d %s", a.Status, a.Body)
	}
	if n := f.count(`SELECT count(*) FROM sensor_readings`); n != 2 {
		t.Fatalf("%d readings, want 2", n)
	}
}

// While an import writes an organisation, its application's deliveries are
// acknowledged (TTN marks a failing webhook unhealthy) and stored nowhere;
// once the import makes it live they are stored, without waiting for the
// cached connection to expire.
func TestImportingOrganisationIsIgnored(t *testing.T) {
	f := newFixture(t)
	f.exec(`UPDATE organizations SET import_state = 'importing' WHERE id = $1`, f.orgID)
	f.post(uplink{At: f.now, FCnt: 1, Decoded: temp(9)}.body()).must(t, 202, "importing")
	f.post(uplink{At: f.now.Add(time.Minute), FCnt: 2, Decoded: temp(9)}.body()).must(t, 202, "importing")
	if a := f.post(uplink{At: f.now.Add(2 * time.Minute), FCnt: 3, Decoded: temp(9)}.body(), "X-Webhook-Secret", "fgttn_wrong"); a.Status != 401 {
		t.Fatalf("a wrong secret for an importing organisation: %d %s", a.Status, a.Body)
	}
	for table, sql := range map[string]string{
		"readings": `SELECT count(*) FROM sensor_readings`,
		"dedupe":   `SELECT count(*) FROM uplink_dedupe`,
		"alerts":   `SELECT count(*) FROM alerts`,
		"unit":     `SELECT count(*) FROM units WHERE last_reading_at IS NOT NULL OR status <> 'ok'`,
		"sensor":   `SELECT count(*) FROM sensors WHERE last_seen_at IS NOT NULL`,
	} {
		if n := f.count(sql); n != 0 {
			t.Errorf("%s: %d rows written for an importing organisation", table, n)
		}
	}
	f.exec(`UPDATE organizations SET import_state = NULL WHERE id = $1`, f.orgID)
	f.post(uplink{At: f.now.Add(3 * time.Minute), FCnt: 4, Decoded: temp(3)}.body()).must(t, 200, "stored")
}
