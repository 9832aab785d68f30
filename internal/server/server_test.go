package server

import (
	"strings"
	"testing"
	"time"

	"stillmotion/internal/fault"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"zero config", Config{}, ""},
		{"postgres", Config{Database: "postgres://u@db/stillmotion?sslmode=disable"}, ""},
		{"postgresql scheme", Config{Database: "postgresql://u@db/stillmotion"}, ""},
		{"mysql", Config{Database: "mysql://u:secret@db/x"}, "use a postgres:// URL"},
		{"s3", Config{Storage: "s3://videos?endpoint=http://127.0.0.1:7070&region=us-east-1"}, ""},
		{"file storage", Config{Storage: "file:///var/lib/videos"}, ""},
		{"s3 with a typo", Config{Storage: "s3://videos?endpiont=x"}, `unknown parameter "endpiont"`},
		{"gcs", Config{Storage: "gs://videos"}, "use file://DIR or s3://"},
		{"rescue before timeout", Config{JobTimeout: time.Minute, RescueAfter: 30 * time.Second}, "--rescue-after (30s) must exceed --job-timeout (1m0s)"},
		{"api only", Config{Workers: 0}, ""},
		{"retention", Config{Retention: time.Hour}, ""},
		{"encoder nice", Config{EncoderNice: 19}, ""},
		{"encoder nice too high", Config{EncoderNice: 20}, "invalid --encoder-nice 20: use 0 (as this process) to 19 (yield the most)"},
		{"negative retention", Config{Retention: -time.Hour}, "invalid --retention -1h0m0s: use a duration such as 168h, or 0 to keep everything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			c.Defaults()
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if fault.KindOf(err) != fault.Invalid || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want Invalid with %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows a password: %v", err)
			}
		})
	}
}
