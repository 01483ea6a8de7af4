package metrics

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"sync"
)

// Captured holds the lines emitted while a test runs (Capture).
type Captured struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *Captured) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// String is every line captured so far.
func (c *Captured) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// Reset forgets the lines captured so far.
func (c *Captured) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Reset()
}

// Sums adds the values per metric and dimensions, keyed
// "Name|Key=value|..." in the line's dimension order ("Name" alone without
// dimensions beyond Stage). A line that is not JSON is reported under
// "!invalid".
func (c *Captured) Sums() map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(c.String()), "\n") {
		if line == "" {
			continue
		}
		var root map[string]any
		if err := json.Unmarshal([]byte(line), &root); err != nil {
			out["!invalid"]++
			continue
		}
		var meta metadata
		raw, _ := json.Marshal(root["_aws"])
		if json.Unmarshal(raw, &meta) != nil || len(meta.CloudWatchMetrics) == 0 {
			out["!invalid"]++
			continue
		}
		d := meta.CloudWatchMetrics[0]
		detail := d.Dimensions[len(d.Dimensions)-1]
		for _, m := range d.Metrics {
			key := m.Name
			for _, k := range detail[1:] {
				key += "|" + k + "=" + root[k].(string)
			}
			v, _ := root[m.Name].(float64)
			out[key] += v
		}
	}
	return out
}

// Keys lists Sums' keys, sorted (for failure messages).
func (c *Captured) Keys() []string {
	var keys []string
	for k := range c.Sums() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Capture directs the lines to a buffer until the test ends (tb is a
// *testing.T or *testing.B).
func Capture(tb interface{ Cleanup(func()) }) *Captured {
	c := &Captured{}
	Setup("test", "test", c)
	tb.Cleanup(func() { Setup("local", "local", io.Discard) })
	return c
}
