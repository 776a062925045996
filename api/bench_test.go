package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcflow/vpcflow/api/sigv4"
	"github.com/vpcflow/vpcflow/internal/reporter"
	"github.com/vpcflow/vpcflow/region"
)

// startFront runs a real region (the example topology, no sources) behind
// a real front on 127.0.0.1, and returns an EC2 client signed with its key.
func startFront(tb testing.TB) *ec2.Client {
	tb.Helper()
	cfg := region.DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = tb.TempDir(), "../examples/topology.yaml"
	r, err := region.New(cfg, region.Dependencies{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Stop() })
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := New(Configuration{Listener: ln}, Dependencies{Region: r, Reporter: reporter.New(nil),
		Credentials: sigv4.StaticCredentials{"AKIABENCH": "secret"}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Stop() })
	return ec2.New(ec2.Options{
		Region: r.Identity().Region, BaseEndpoint: aws.String("http://" + c.Addr()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIABENCH", "secret", ""),
		HTTPClient:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
	})
}

// BenchmarkAPIMixed: 16 clients send signed EC2 requests over loopback,
// mixed as a console would: mostly DescribeFlowLogs and DescribeVpcs, some
// CreateFlowLogs each followed by its DeleteFlowLogs. It reports the
// latency percentiles and fails on any error. Run it as
// `go test -run '^$' -bench APIMixed -benchtime 20000x ./api`.
func BenchmarkAPIMixed(b *testing.B) {
	client := startFront(b)
	const clients = 16
	ctx := context.Background()
	var next atomic.Int64
	var errs atomic.Int64
	lat := make([][]time.Duration, clients)
	b.ResetTimer()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				start := time.Now()
				var err error
				switch i % 10 {
				case 0:
					var out *ec2.CreateFlowLogsOutput
					out, err = client.CreateFlowLogs(ctx, &ec2.CreateFlowLogsInput{
						ResourceIds: []string{"vpc-0f1e2d3c4b5a69788"}, ResourceType: types.FlowLogsResourceTypeVpc,
						TrafficType: types.TrafficTypeAll, LogDestinationType: types.LogDestinationTypeS3,
						LogDestination: aws.String(fmt.Sprintf("arn:aws:s3:::bench-%d", i)),
					})
					if err == nil {
						_, err = client.DeleteFlowLogs(ctx, &ec2.DeleteFlowLogsInput{FlowLogIds: out.FlowLogIds})
					}
				case 1, 2, 3:
					_, err = client.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
				default:
					_, err = client.DescribeFlowLogs(ctx, &ec2.DescribeFlowLogsInput{})
				}
				if err != nil {
					errs.Add(1)
				}
				lat[c] = append(lat[c], time.Since(start))
			}
		}(c)
	}
	wg.Wait()
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	if n := errs.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
}
