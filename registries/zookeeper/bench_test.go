package zookeeper

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/registries"
)

const (
	benchInterfaces = 10000
	benchProviders  = 5
)

func benchIface(i int) string { return fmt.Sprintf("bench.Iface%05d", i) }

func benchProvider(i, p int) string {
	iface := benchIface(i)
	return url.QueryEscape(fmt.Sprintf("dubbo://10.%d.%d.%d:20880/%s?interface=%s&application=bench&methods=a,b,c"+
		"&version=1.0.0&side=provider&timestamp=%d", p, i/256, i%256, iface, iface, i))
}

// populate writes benchInterfaces interfaces with benchProviders providers each, in parallel
// batches of Multi creates.
func populate(b *testing.B, conn *zk.Conn) {
	b.Helper()
	acl := zk.WorldACL(zk.PermAll)
	for _, p := range []string{"/dubbo"} {
		if _, err := conn.Create(p, nil, 0, acl); err != nil && err != zk.ErrNodeExists {
			b.Fatal(err)
		}
	}
	jobs := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for start := range jobs {
				var ops []any
				for i := start; i < start+50 && i < benchInterfaces; i++ {
					base := "/dubbo/" + benchIface(i)
					ops = append(ops, &zk.CreateRequest{Path: base, Acl: acl},
						&zk.CreateRequest{Path: base + "/providers", Acl: acl})
					for p := range benchProviders {
						ops = append(ops, &zk.CreateRequest{Path: base + "/providers/" + benchProvider(i, p), Acl: acl})
					}
				}
				if _, err := conn.Multi(ops...); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for start := 0; start < benchInterfaces; start += 50 {
		jobs <- start
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatalf("populate: %v", err)
	default:
	}
}

// BenchmarkSync10kInterfaces measures a source against 10,000 interfaces × 5 providers in a
// real ZooKeeper: the time to the first synced snapshot, the delay from one provider change to
// the snapshot that has it (including the debounce), and the peak RSS of the test process.
func BenchmarkSync10kInterfaces(b *testing.B) {
	server := zkpeer.Start(b)
	w := newWriter(b, server.Addr())
	populate(b, w.conn)
	changed := benchIface(benchInterfaces / 2)
	for n := 0; n < b.N; n++ {
		src, err := New("bench", Config{Servers: []string{server.Addr()}}, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		synced := make(chan struct{})
		updated := make(chan struct{})
		var once1, once2 sync.Once
		extra := strconv.Itoa(n)
		publish := func(s registries.Snapshot) {
			if s.Synced && len(s.Services) >= benchInterfaces {
				once1.Do(func() { close(synced) })
			}
			for _, svc := range s.Services {
				if svc.Interface == changed && len(svc.Endpoints) == benchProviders+1 {
					once2.Do(func() { close(updated) })
				}
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- src.Run(ctx, publish) }()
		waitBench(b, synced, "first synced snapshot")
		firstSync := time.Since(start)

		path := "/dubbo/" + changed + "/providers/" + url.QueryEscape("dubbo://10.99.0."+extra+":20880/"+changed+"?interface="+changed+"&version=1.0.0")
		start = time.Now()
		if _, err := w.conn.Create(path, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			b.Fatal(err)
		}
		waitBench(b, updated, "the changed snapshot")
		change := time.Since(start)
		cancel()
		<-done
		if err := w.conn.Delete(path, -1); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(firstSync.Milliseconds()), "ms-first-sync")
		b.ReportMetric(float64(change.Milliseconds()), "ms-change")
	}
	b.ReportMetric(peakRSSMiB(b), "MiB-peak-rss")
}

func waitBench(b *testing.B, ch <-chan struct{}, what string) {
	b.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Minute):
		b.Fatalf("gave up waiting for %s", what)
	}
}

// peakRSSMiB reads VmHWM from /proc/self/status.
func peakRSSMiB(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
