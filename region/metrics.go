package region

import (
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vpcflow/vpcflow/pipeline"
)

// metrics are the service's Prometheus metrics. Counters of the hot path
// are read from the pipeline's published snapshot at scrape time, so the
// packet loop pays nothing for them.
type metrics struct {
	r              *Region
	latency        prometheus.Histogram
	deliveryErrors *prometheus.CounterVec
	windows        prometheus.Counter

	topoVersion, trackingResets *prometheus.Desc

	packets, bytes, dropped, excluded, flowsDropped, tableDropped, late, records, undeliverable, filtered, inputErrors, flowLogs, storeBytes *prometheus.Desc

	// per live interface (label interface)
	captureFrames, kernelPackets, kernelDrops, kernelFreezes *prometheus.Desc

	sizeMu   sync.Mutex
	size     int64
	sizeTime time.Time
}

func newMetrics(r *Region) *metrics {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("vpcflow_"+name, help, labels, nil)
	}
	return &metrics{
		r: r,
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vpcflow_window_delivery_seconds",
			Help:    "Time from the end of a capture window on the clock to the delivery of all its records (paced and live sources).",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60},
		}),
		deliveryErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vpcflow_delivery_errors_total", Help: "Windows of a flow log whose delivery failed.",
		}, []string{"flow_log_id"}),
		windows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vpcflow_windows_delivered_total", Help: "Capture windows whose records reached every destination.",
		}),
		packets:        d("packets_total", "Frames read from the sources."),
		bytes:          d("packet_bytes_total", "Bytes of the frames read, as on the wire."),
		dropped:        d("packets_dropped_total", "Frames that gave no observation, by reason: not decodable (reasons of the decoder), or no monitored interface sent or received them (unattributed).", "reason"),
		excluded:       d("packets_excluded_total", "Packets of traffic AWS never logs, by kind.", "reason"),
		flowsDropped:   d("flows_dropped_total", "Packets of new flows dropped at a bound of the flow table (the sum of vpcflow_flow_table_dropped_packets_total); each affected window got a SKIPDATA record."),
		tableDropped:   d("flow_table_dropped_packets_total", "Packets of new flows the flow table had no room for, by bound: memory (--memory) or count (--max-flows-per-window, --max-flows); the windows of their interfaces got SKIPDATA records.", "bound"),
		late:           d("packets_late_total", "Observations older than their flow's open window, joined to it."),
		records:        d("records_total", "Flow-log records made for delivery, by flow log and log-status (those their destination refused are also in vpcflow_records_undeliverable_total).", "flow_log_id", "log_status"),
		undeliverable:  d("records_undeliverable_total", "Flow-log records their destination refused (a bucket that does not exist, a role that may not write to the log group): not delivered; the flow log is FAILED for those windows.", "flow_log_id"),
		filtered:       d("records_filtered_total", "Flows left out by a flow log's traffic type.", "flow_log_id"),
		inputErrors:    d("input_errors_total", "Sources that stopped on a read error."),
		flowLogs:       d("flow_logs", "Flow logs in the registry."),
		topoVersion:    d("topology_version", "Version of the declared network: 1 at start, one more at every change."),
		trackingResets: d("tracking_resets_total", "Topology changes with other interfaces, which emptied the connection-tracking table."),
		captureFrames:  d("capture_frames_total", "Frames read from a live interface.", "interface"),
		kernelPackets:  d("capture_kernel_packets_total", "Frames the kernel passed to a live interface's capture after its filter, dropped ones included (tp_packets).", "interface"),
		kernelDrops:    d("capture_kernel_drops_total", "Frames the kernel dropped because a capture ring was full (tp_drops); the windows they fell in got SKIPDATA records.", "interface"),
		kernelFreezes:  d("capture_kernel_freezes_total", "Times a capture ring filled up (tp_freeze_q_cnt).", "interface"),
		storeBytes:     d("data_dir_bytes", "Size of the data dir on disk (log store, buckets, registry), refreshed at most every 10 s."),
	}
}

// delivered runs on the pipeline's delivery goroutine after every window.
func (m *metrics) delivered(d pipeline.Delivery) {
	m.windows.Inc()
	if d.Paced {
		m.latency.Observe(max(0, d.Latency.Seconds()))
	}
}

func (m *metrics) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(m, ch) }

func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.latency.Collect(ch)
	m.deliveryErrors.Collect(ch)
	m.windows.Collect(ch)
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	s := m.r.pipe.Snapshot()
	counter(m.packets, s.Packets)
	counter(m.bytes, s.Bytes)
	for _, c := range s.Undecodable() {
		counter(m.dropped, c.N, c.Reason)
	}
	counter(m.dropped, s.Attribute.Unattributed, "unattributed")
	for _, c := range s.Excluded() {
		counter(m.excluded, c.N, c.Reason)
	}
	counter(m.flowsDropped, s.Flow.DroppedPackets)
	counter(m.tableDropped, s.Flow.DroppedByBudget, "memory")
	counter(m.tableDropped, s.Flow.DroppedPackets-s.Flow.DroppedByBudget, "count")
	counter(m.late, s.Flow.Late)
	counter(m.inputErrors, uint64(len(s.InputErrors)))
	counter(m.trackingResets, s.TrackingResets)
	for _, c := range s.Capture {
		counter(m.captureFrames, c.Frames, c.Interface)
		counter(m.kernelPackets, c.KernelPackets, c.Interface)
		counter(m.kernelDrops, c.KernelDrops, c.Interface)
		counter(m.kernelFreezes, c.QueueFreezes, c.Interface)
	}
	_, version := m.r.Topology()
	ch <- prometheus.MustNewConstMetric(m.topoVersion, prometheus.GaugeValue, float64(version))
	for id, st := range m.r.pipe.StatsByFlowLog() {
		counter(m.records, st.OK, id, "OK")
		counter(m.records, st.NoData, id, "NODATA")
		counter(m.records, st.SkipData, id, "SKIPDATA")
		counter(m.filtered, st.Filtered, id)
	}
	for id, n := range m.r.guard.Undeliverable() {
		counter(m.undeliverable, n, id)
	}
	ch <- prometheus.MustNewConstMetric(m.flowLogs, prometheus.GaugeValue, float64(len(m.r.reg.Active())))
	ch <- prometheus.MustNewConstMetric(m.storeBytes, prometheus.GaugeValue, float64(m.dataDirSize()))
}

// dataDirSize walks the data dir at most every 10 s: a scrape must stay
// cheap however many files the store holds.
func (m *metrics) dataDirSize() int64 {
	m.sizeMu.Lock()
	defer m.sizeMu.Unlock()
	if time.Since(m.sizeTime) < 10*time.Second {
		return m.size
	}
	var n int64
	filepath.WalkDir(m.r.cfg.DataDir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	m.size, m.sizeTime = n, time.Now()
	return n
}
