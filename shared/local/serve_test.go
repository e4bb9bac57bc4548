package local

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestServeCutsATrickledBody (issue 7 finding 8): a client that sends its
// headers and then trickles the body is cut off at the read limit, before
// any handler (or authentication) has the whole body.
func TestServeCutsATrickledBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	reached := make(chan struct{}, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err == nil {
			reached <- struct{}{}
		}
		w.WriteHeader(http.StatusBadRequest)
	})
	go func() {
		served <- serve(ctx, io.Discard, ln, h, serverLimits{header: 200 * time.Millisecond, read: 300 * time.Millisecond, write: time.Second, idle: time.Second})
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
	start := time.Now()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c) // returns when the server closes the connection
		close(closed)
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for sent := 0; sent < 100; sent++ { // the whole body would take 5 s
		select {
		case <-closed:
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("connection held for %v", d)
			}
			select {
			case <-reached:
				t.Fatal("the handler read the whole trickled body")
			default:
			}
			return
		case <-tick.C:
			_, _ = c.Write([]byte("x"))
		}
	}
	t.Fatalf("the server kept reading a trickled body for %v", time.Since(start))
}
