package domain_test

import (
	"testing"
	"time"

	"github.com/frostguard/functions/shared/domain"
)

func TestLocation(t *testing.T) {
	ny := domain.Location("America/New_York")
	if ny.String() != "America/New_York" || domain.Location("America/New_York") != ny {
		t.Fatalf("a zone must load once and be reused: %v", ny)
	}
	for _, bad := range []string{"", "Mars/Olympus", "../etc/passwd"} {
		if domain.Location(bad) != time.UTC {
			t.Errorf("%q: want UTC", bad)
		}
	}
}
