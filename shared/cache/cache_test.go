package cache_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/frostguard/functions/shared/cache"
	"github.com/frostguard/functions/shared/testenv"
)

func key() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test:" + hex.EncodeToString(b)
}

func TestAgainstRedis(t *testing.T) {
	c, err := cache.Open(testenv.Require(t, "REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	k := key()
	if _, ok := c.Get(ctx, k); ok {
		t.Fatal("hit on an unknown key")
	}
	c.Set(ctx, k, []byte("v"), time.Minute)
	if v, ok := c.Get(ctx, k); !ok || string(v) != "v" {
		t.Fatalf("get = %q %v", v, ok)
	}
	c.Delete(ctx, k)
	if _, ok := c.Get(ctx, k); ok {
		t.Fatal("hit after delete")
	}
	lock := key()
	if ok, err := c.SetNX(ctx, lock, []byte("1"), time.Minute); err != nil || !ok {
		t.Fatalf("first SetNX: %v %v", ok, err)
	}
	if ok, err := c.SetNX(ctx, lock, []byte("1"), time.Minute); err != nil || ok {
		t.Fatalf("second SetNX must find the key taken: %v %v", ok, err)
	}
}

func TestRedisDownDegradesInsteadOfFailing(t *testing.T) {
	for name, url := range map[string]string{"unreachable": "redis://127.0.0.1:1/0", "not configured": ""} {
		t.Run(name, func(t *testing.T) {
			c, err := cache.Open(url)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			start := time.Now()
			c.Set(ctx, "k", []byte("v"), time.Minute)
			if _, ok := c.Get(ctx, "k"); ok {
				t.Error("hit without Redis")
			}
			if _, err := c.SetNX(ctx, "k", []byte("1"), time.Minute); err == nil {
				t.Error("without Redis SetNX must report it, so callers fall back")
			}
			c.Delete(ctx, "k")
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("degraded calls took %v", d)
			}
			_ = c.Close()
		})
	}
}

func TestOpenRejectsAMalformedURL(t *testing.T) {
	if _, err := cache.Open("http://nope"); err == nil {
		t.Fatal("accepted a non-Redis URL")
	}
}
