package sitecontext

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/frostguard/functions/shared/apperr"
)

// WeatherTTL is how long a forecast answer is reused: Open-Meteo's current
// conditions move every 15 minutes, and a dashboard polled by many users
// must not turn into as many upstream calls.
const WeatherTTL = 10 * time.Minute

// Weather is the weather at a point: the current conditions and hourly
// history (temperatures in °C, humidity in %). Values the provider has not
// computed yet are nil.
type Weather struct {
	// Latitude and Longitude are the rounded point asked for (and cached).
	Latitude  float64       `json:"latitude"`
	Longitude float64       `json:"longitude"`
	FetchedAt time.Time     `json:"fetched_at"`
	Current   Observation   `json:"current"`
	Hourly    []Observation `json:"hourly"`
}

// Observation is the weather at one time.
type Observation struct {
	Time             time.Time `json:"time"`
	TemperatureC     *float64  `json:"temperature_c"`
	RelativeHumidity *float64  `json:"relative_humidity"`
	WeatherCode      *int      `json:"weather_code,omitempty"`
}

// Between returns the hourly observations with from <= time <= to.
func (w Weather) Between(from, to time.Time) []Observation {
	out := []Observation{}
	for _, o := range w.Hourly {
		if !o.Time.Before(from) && !o.Time.After(to) {
			out = append(out, o)
		}
	}
	return out
}

// WeatherClient reads Open-Meteo's forecast API.
type WeatherClient struct {
	BaseURL string // e.g. https://api.open-meteo.com
	HTTP    *http.Client
	Cache   Cache
	Now     func() time.Time
}

// RoundCoordinate rounds to 2 decimals (about 1 km): the forecast grid is
// coarser than that, and nearby sites then share one cache entry.
func RoundCoordinate(v float64) float64 { return math.Round(v*100) / 100 }

// WeatherCacheKey is the Redis key of the weather at a point.
func WeatherCacheKey(lat, lon float64) string {
	return "sitecontext:weather:v1:" + coord(RoundCoordinate(lat)) + "," + coord(RoundCoordinate(lon))
}

func coord(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if s == "-0.00" {
		s = "0.00"
	}
	return s
}

// Weather returns the weather at (lat, lon), from the cache when fresh.
func (c *WeatherClient) Weather(ctx context.Context, lat, lon float64) (Weather, error) {
	if c.BaseURL == "" {
		return Weather{}, apperr.New(apperr.Unavailable, "the weather service is not configured")
	}
	lat, lon = RoundCoordinate(lat), RoundCoordinate(lon)
	key := WeatherCacheKey(lat, lon)
	if c.Cache != nil {
		if b, ok := c.Cache.Get(ctx, key); ok {
			var w Weather
			if json.Unmarshal(b, &w) == nil {
				return w, nil
			}
		}
	}
	w, err := c.fetch(ctx, lat, lon)
	if err != nil {
		return Weather{}, err
	}
	if c.Cache != nil {
		if b, err := json.Marshal(w); err == nil {
			c.Cache.Set(ctx, key, b, WeatherTTL)
		}
	}
	return w, nil
}

// meteoAnswer is the part of Open-Meteo's answer we read. With
// timezone=UTC its times are UTC without a zone ("2026-01-31T12:00").
type meteoAnswer struct {
	Current struct {
		Time        string   `json:"time"`
		Temperature *float64 `json:"temperature_2m"`
		Humidity    *float64 `json:"relative_humidity_2m"`
		WeatherCode *int     `json:"weather_code"`
	} `json:"current"`
	Hourly struct {
		Time        []string   `json:"time"`
		Temperature []*float64 `json:"temperature_2m"`
		Humidity    []*float64 `json:"relative_humidity_2m"`
	} `json:"hourly"`
}

func (c *WeatherClient) fetch(ctx context.Context, lat, lon float64) (Weather, error) {
	q := url.Values{}
	q.Set("latitude", coord(lat))
	q.Set("longitude", coord(lon))
	q.Set("current", "temperature_2m,relative_humidity_2m,weather_code")
	q.Set("hourly", "temperature_2m,relative_humidity_2m")
	// Two past days plus today cover "the last 48 hours" at any time of day.
	q.Set("past_days", "2")
	q.Set("forecast_days", "1")
	q.Set("timezone", "UTC")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.BaseURL, "/")+"/v1/forecast?"+q.Encode(), nil)
	if err != nil {
		return Weather{}, apperr.Wrap(apperr.Unavailable, err, "the weather service is misconfigured")
	}
	req.Header.Set("Accept", "application/json")
	body, err := getJSON(client(c.HTTP), req, "weather")
	if err != nil {
		return Weather{}, err
	}
	var a meteoAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return Weather{}, apperr.Wrap(apperr.BadGateway, err, "the weather service gave an answer we cannot read; try again later")
	}
	w, err := a.weather()
	if err != nil {
		return Weather{}, apperr.Wrap(apperr.BadGateway, err, "the weather service gave an answer we cannot read; try again later")
	}
	w.Latitude, w.Longitude = lat, lon
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	w.FetchedAt = now().UTC().Truncate(time.Second)
	return w, nil
}

func (a meteoAnswer) weather() (Weather, error) {
	h := a.Hourly
	if len(h.Temperature) != len(h.Time) || len(h.Humidity) != len(h.Time) {
		return Weather{}, fmt.Errorf("hourly arrays of %d times, %d temperatures, %d humidities",
			len(h.Time), len(h.Temperature), len(h.Humidity))
	}
	var w Weather
	t, err := meteoTime(a.Current.Time)
	if err != nil {
		return Weather{}, err
	}
	w.Current = Observation{Time: t, TemperatureC: a.Current.Temperature, RelativeHumidity: a.Current.Humidity, WeatherCode: a.Current.WeatherCode}
	w.Hourly = make([]Observation, 0, len(h.Time))
	for i, s := range h.Time {
		t, err := meteoTime(s)
		if err != nil {
			return Weather{}, err
		}
		w.Hourly = append(w.Hourly, Observation{Time: t, TemperatureC: h.Temperature[i], RelativeHumidity: h.Humidity[i]})
	}
	return w, nil
}

func meteoTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not ISO 8601", s)
}
