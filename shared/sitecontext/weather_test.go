package sitecontext_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/apperr"
	"github.com/frostguard/functions/shared/sitecontext"
)

func TestWeatherAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       apperr.Code
	}{
		{"nulls are kept", `{"current":{"time":"2026-01-31T12:15","temperature_2m":null,"relative_humidity_2m":80,"weather_code":61},
			"hourly":{"time":["2026-01-31T11:00","2026-01-31T12:00"],"temperature_2m":[1.5,null],"relative_humidity_2m":[80,null]}}`, ""},
		{"arrays of different lengths", `{"current":{"time":"2026-01-31T12:15"},
			"hourly":{"time":["2026-01-31T11:00","2026-01-31T12:00"],"temperature_2m":[1.5],"relative_humidity_2m":[80,81]}}`, apperr.BadGateway},
		{"a time that is not ISO 8601", `{"current":{"time":"yesterday"},"hourly":{}}`, apperr.BadGateway},
		{"not JSON", `<html>maintenance</html>`, apperr.BadGateway},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(tc.body)) }))
			defer srv.Close()
			c := sitecontext.WeatherClient{BaseURL: srv.URL}
			w, err := c.Weather(context.Background(), 52.5234, 13.4115)
			if apperr.CodeOf(err) != tc.want {
				t.Fatalf("err %v, want code %q", err, tc.want)
			}
			if err != nil {
				return
			}
			if w.Latitude != 52.52 || w.Longitude != 13.41 || w.Current.TemperatureC != nil || *w.Current.RelativeHumidity != 80 ||
				!w.Current.Time.Equal(time.Date(2026, 1, 31, 12, 15, 0, 0, time.UTC)) || len(w.Hourly) != 2 || *w.Hourly[0].TemperatureC != 1.5 || w.Hourly[1].TemperatureC != nil {
				t.Errorf("%+v", w)
			}
		})
	}
}

func TestNormalizeQuery(t *testing.T) {
	if got := sitecontext.NormalizeQuery("  10   Downing\tSt \n London "); got != "10 downing st london" {
		t.Errorf("%q", got)
	}
	if sitecontext.GeocodeCacheKey("10 Downing St") != sitecontext.GeocodeCacheKey(" 10 downing  ST") {
		t.Error("equivalent queries have different cache keys")
	}
	if sitecontext.WeatherCacheKey(-0.001, 13.4149) != "sitecontext:weather:v1:0.00,13.41" {
		t.Error(sitecontext.WeatherCacheKey(-0.001, 13.4149))
	}
}
