package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	testgrpc "google.golang.org/grpc/interop/grpc_testing"

	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// BenchmarkStoreConvergence measures the time from an IDL upload accepted by replica A to the
// new version being served by replicas B and C (their admin API lists it; the pipeline compiles
// it in the same step), on a real ZooKeeper and a real Consul store, against the baseline of
// the same run: one replica on the local store, from the upload to the version served by that
// replica itself. ns/op is one upload-to-served; "x-baseline" is the ratio to the baseline.
//
//	go test ./cmd/rpcbridge -run '^$' -bench BenchmarkStoreConvergence -benchtime 20x
func BenchmarkStoreConvergence(b *testing.B) {
	set, err := proto.MarshalOptions{Deterministic: true}.Marshal(descriptorSet(testgrpc.File_grpc_testing_test_proto))
	if err != nil {
		b.Fatal(err)
	}
	var baseline float64
	b.Run("local-single", func(b *testing.B) {
		r := startReplica(b, "solo", "")
		baseline = convergence(b, r, []*replica{r}, set)
	})
	b.Run("zookeeper", func(b *testing.B) {
		zk := zookeeper.Start(b)
		cfg := fmt.Sprintf("store:\n  type: zookeeper\n  zookeeper: {servers: [%q]}\n", zk.Addr())
		a, bb, c := startReplica(b, "a", cfg), startReplica(b, "b", cfg), startReplica(b, "c", cfg)
		ratio(b, convergence(b, a, []*replica{bb, c}, set), baseline)
	})
	b.Run("consul", func(b *testing.B) {
		agent := consulpeer.Start(b)
		cfg := fmt.Sprintf("store:\n  type: consul\n  consul: {address: %q}\n", agent.Addr())
		a, bb, c := startReplica(b, "a", cfg), startReplica(b, "b", cfg), startReplica(b, "c", cfg)
		ratio(b, convergence(b, a, []*replica{bb, c}, set), baseline)
	})
}

func ratio(b *testing.B, nsPerOp, baseline float64) {
	if baseline > 0 {
		b.ReportMetric(nsPerOp/baseline, "x-baseline")
	}
}

// convergence uploads b.N versions to a, each time waiting until every replica of followers
// lists it, and returns the mean ns per upload-to-served.
func convergence(b *testing.B, a *replica, followers []*replica, set []byte) float64 {
	b.Helper()
	client := &http.Client{Timeout: giveUp}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		code, body := putIDL(b, a, "bench", set)
		if code != http.StatusOK {
			b.Fatalf("upload: %d %s", code, body)
		}
		var answer struct{ Version int64 }
		if err := json.Unmarshal([]byte(body), &answer); err != nil {
			b.Fatal(err)
		}
		for _, r := range followers {
			deadline := time.Now().Add(giveUp)
			for !listsVersion(client, r, "bench", answer.Version) {
				if time.Now().After(deadline) {
					b.Fatalf("replica %s never served version %d", r.name, answer.Version)
				}
				time.Sleep(200 * time.Microsecond)
			}
		}
	}
	b.StopTimer()
	return float64(time.Since(start).Nanoseconds()) / float64(b.N)
}

func listsVersion(client *http.Client, r *replica, name string, want int64) bool {
	resp, err := client.Get("http://" + r.admin + "/api/v1/idl/" + name)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var e struct{ Version int64 }
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&e) == nil && e.Version == want
}
