package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"catalyst.dev/sdk/webhook"
)

// A receiver checks every delivery before acting on it, and drops the
// ones it has seen: a delivery is retried until it is answered with a 2xx,
// so the same one can arrive more than once.
func ExampleVerify() {
	secret := []byte("the secret configured on both sides")

	var mu sync.Mutex
	seen := map[string]bool{} // a real receiver keeps IDs for longer than the tolerance window
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		err = webhook.Verify(secret, r.Header, body, time.Now(), webhook.DefaultTolerance)
		switch {
		case errors.Is(err, webhook.ErrTimestamp):
			http.Error(w, "stale delivery", http.StatusBadRequest)
			return
		case err != nil:
			// ErrNoSignature or ErrSignature: not from Catalyst.
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(webhook.HeaderID)
		mu.Lock()
		dup := seen[id]
		seen[id] = true
		mu.Unlock()
		if !dup {
			fmt.Printf("received %s: %s\n", id, body)
		}
		w.WriteHeader(http.StatusNoContent) // a duplicate is answered 2xx too, or it is sent again
	})
	srv := httptest.NewServer(receiver)
	defer srv.Close()

	// The sending side, as the core and the alerts-webhook plugin do it.
	client, err := webhook.NewClient(webhook.ClientOptions{})
	if err != nil {
		panic(err)
	}
	delivery := webhook.Request{URL: srv.URL, ID: "alert-42", Body: []byte(`{"version":1,"id":"alert-42"}`), Secret: secret}
	for range 2 {
		fmt.Println("send:", webhook.Send(context.Background(), client, delivery))
	}

	// A forgery: the right headers, a signature made with another secret.
	now := time.Now()
	forged := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"version":1}`))
	forged.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	forged.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte("guess"), now, []byte(`{"version":1}`)))
	rec := httptest.NewRecorder()
	receiver.ServeHTTP(rec, forged)
	fmt.Println("forged:", rec.Code)

	// Output:
	// received alert-42: {"version":1,"id":"alert-42"}
	// send: <nil>
	// send: <nil>
	// forged: 401
}
