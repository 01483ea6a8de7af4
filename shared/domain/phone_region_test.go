package domain

import (
	"fmt"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func TestPhoneCountry(t *testing.T) {
	for number, want := range map[string]string{
		"+12125551234": "US", "+14165551234": "CA", "+18765551234": "JM", "+18095551234": "DO",
		"+447911123456": "GB", "+33612345678": "FR", "+4915112345678": "DE", "+79161234567": "RU",
		"+8613812345678": "CN", "+35312345678": "IE", "+1": "", "+19": "", "12125551234": "", "": "",
		"+1555": "", // area code 555 is not assigned
	} {
		if got := PhoneCountry(number); got != want {
			t.Errorf("PhoneCountry(%q) = %q, want %q", number, got, want)
		}
	}
}

// The generated tables agree with libphonenumber (the library is only a
// test dependency here): every region's example numbers map to that region,
// or, for a calling code shared outside North America, to its main region.
// After a library update, regenerate with go run ./cmd/phoneregions.
func TestPhoneCountryTablesMatchLibphonenumber(t *testing.T) {
	for region := range phonenumbers.GetSupportedRegions() {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE} {
			num := phonenumbers.GetExampleNumberForType(region, typ)
			if num == nil {
				continue
			}
			e164 := phonenumbers.Format(num, phonenumbers.E164)
			want := region
			if cc := int(num.GetCountryCode()); cc != 1 {
				want = phonenumbers.GetRegionCodeForCountryCode(cc)
			}
			if got := PhoneCountry(e164); got != want {
				t.Errorf("%s example %s: PhoneCountry = %q, libphonenumber %q", region, e164, got, want)
			}
		}
	}
	for area, country := range nanpAreaCountry {
		num, err := phonenumbers.Parse(fmt.Sprintf("+1%s2345678", area), "")
		if err != nil {
			t.Fatal(err)
		}
		if got := phonenumbers.GetRegionCodeForNumber(num); got != "" && got != country {
			t.Errorf("area code %s: table %s, libphonenumber %s", area, country, got)
		}
	}
}

// Any input: no panic, and either no country or one the tables hold.
func FuzzPhoneCountry(f *testing.F) {
	for _, s := range []string{"+12125551234", "+18765551234", "+447911123456", "+1", "+", "", "+999", "+1٢٣٤"} {
		f.Add(s)
	}
	known := map[string]bool{}
	for _, c := range callingCodeCountry {
		known[c] = true
	}
	for _, c := range nanpAreaCountry {
		known[c] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := PhoneCountry(s)
		if c != "" && !known[c] {
			t.Fatalf("PhoneCountry(%q) = %q, not a country of the tables", s, c)
		}
		if SMSCountryAllowed(s, []string{c}) != (c != "") {
			t.Fatalf("SMSCountryAllowed(%q, [%q]) disagrees with PhoneCountry", s, c)
		}
	})
}
