package workflow

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseEvent(t *testing.T) {
	file := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name    string
		raw     string
		wantOK  bool
		wantErr bool
		want    InstanceEvent
	}{
		{name: "state change (AWS payload)", raw: file("ec2-state-change-running.json"), wantOK: true},
		{name: "terminated (AWS payload)", raw: file("ec2-state-change-terminated.json"), wantOK: true},
		{name: "spot interruption (AWS payload)", raw: file("ec2-spot-interruption.json"), wantOK: true},
		{name: "state change", raw: `{"id":"e1","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","time":"2026-01-02T03:04:05Z","detail":{"instance-id":"i-1","state":"stopped"}}`,
			wantOK: true, want: InstanceEvent{ID: "e1", InstanceID: "i-1", State: "stopped", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
		{name: "spot warning", raw: `{"id":"e2","detail-type":"EC2 Spot Instance Interruption Warning","source":"aws.ec2","time":"2026-01-02T03:04:05Z","detail":{"instance-id":"i-2","instance-action":"terminate"}}`,
			wantOK: true, want: InstanceEvent{ID: "e2", InstanceID: "i-2", Interrupted: true, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}},
		{name: "another source", raw: `{"detail-type":"EC2 Instance State-change Notification","source":"aws.s3","detail":{"instance-id":"i-1"}}`},
		{name: "another detail type", raw: `{"detail-type":"EC2 Instance Rebalance Recommendation","source":"aws.ec2","detail":{"instance-id":"i-1"}}`},
		{name: "no instance", raw: `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{"state":"running"}}`},
		{name: "no detail", raw: `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2"}`},
		{name: "not JSON", raw: `{`, wantErr: true},
		{name: "bad detail", raw: `{"source":"aws.ec2","detail":"x"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := ParseEvent([]byte(tt.raw))
			if (err != nil) != tt.wantErr || ok != tt.wantOK {
				t.Fatalf("ok = %v, err = %v; want ok %v, error %v", ok, err, tt.wantOK, tt.wantErr)
			}
			if ok && got.InstanceID == "" {
				t.Fatalf("no instance id in %+v", got)
			}
			if tt.want.ID != "" && got != tt.want {
				t.Errorf("event = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCauseMessageAndToken(t *testing.T) {
	tests := []struct {
		name, cause, want string
	}{
		{"a Lambda error cause", `{"errorMessage":"launch spot: boom","errorType":"TransientError"}`, "launch spot: boom"},
		{"plain text", "States.Timeout", "States.Timeout"},
		{"JSON without a message", `{"errorType":"X"}`, `{"errorType":"X"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := causeMessage(tt.cause); got != tt.want {
				t.Errorf("causeMessage = %q, want %q", got, tt.want)
			}
		})
	}
	long := token("R-0123ABCD", "r-i-0123456789abcdef0-and-a-rather-long-step-name-of-more-s")
	if len(long) != 64 || token("R-1", "prov-spot") != "R-1-prov-spot" {
		t.Errorf("token: %q (%d characters)", long, len(long))
	}
}
