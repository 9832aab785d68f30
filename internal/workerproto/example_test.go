package workerproto_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"stillmotion/internal/workerproto"
)

// A worker reads the lease the API lends it, then renews it on the
// heartbeat route with its progress.
func Example() {
	var l workerproto.Lease
	json.Unmarshal([]byte(`{"lease_id":"L1","generation_id":"G1","engine":"builtin","queue":"render_builtin",
		"attempt":1,"max_attempts":3,"request":{"model":"pixverse/v5/image-to-video","prompt":"zoom in"},
		"inputs":{"image_url":"/v2/worker/leases/L1/inputs/image_url"},
		"expires_at":"2026-12-02T10:00:30Z","deadline":"2026-12-02T10:10:00Z","heartbeat_interval_ms":3000}`), &l)
	fmt.Println(l.Engine, "attempt", l.Attempt, "of", l.MaxAttempts, "renewed every", time.Duration(l.HeartbeatMillis)*time.Millisecond)
	fmt.Println("image from", l.Inputs["image_url"])
	hb, _ := json.Marshal(workerproto.Heartbeat{Progress: 0.5})
	fmt.Println("POST", strings.Replace(workerproto.HeartbeatPath, "{id}", l.ID, 1), string(hb))
	// Output:
	// builtin attempt 1 of 3 renewed every 3s
	// image from /v2/worker/leases/L1/inputs/image_url
	// POST /v2/worker/leases/L1/heartbeat {"progress":0.5}
}
