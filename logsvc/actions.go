package logsvc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vpcflow/vpcflow/metricfilter"
)

// Alarm actions run here because the service owns the alarms' state
// changes and their persistence; package metricfilter decides what changed
// and which actions fire, and builds the notification.
//
// An SNS topic is recorded as published at once: vpcflow has no SNS, and
// the Action history item is what a user checks on AWS to see that a
// notification left ("Successfully executed action arn:aws:sns:...").
// A webhook (a vpcflow extension, docs/api-cloudwatch.md) receives the
// notification in a POST made by a background worker, never while the
// service's lock is held: an ingestion must not wait on a slow receiver.
// Its outcome becomes an Action history item when the POST ends.

// Webhook delivery limits.
const (
	// webhookQueue is how many notifications may wait for the worker;
	// beyond it a notification is dropped and recorded as failed.
	webhookQueue = 256
	// webhookTimeout bounds one POST, connection included.
	webhookTimeout = 5 * time.Second
	// webhookReplyLimit is how much of a reply is read (and discarded) so
	// the connection can be reused.
	webhookReplyLimit = 64 << 10
)

// delivery is one notification for one webhook.
type delivery struct {
	alarm   string
	url     string
	body    string
	stateTS int64 // the state change's time (ms)
}

// actionRunner posts notifications to webhooks, one at a time, and hands
// each outcome to record.
type actionRunner struct {
	queue   chan delivery
	client  *http.Client
	record  func(alarm string, item metricfilter.StateChange)
	now     func() time.Time
	ctx     context.Context // cancelled when the drain at stop runs out of time
	cancel  context.CancelFunc
	closing chan struct{}
	wg      sync.WaitGroup
}

func newActionRunner(now func() time.Time, record func(string, metricfilter.StateChange)) *actionRunner {
	ctx, cancel := context.WithCancel(context.Background())
	r := &actionRunner{queue: make(chan delivery, webhookQueue), client: loopbackClient(), record: record, now: now,
		ctx: ctx, cancel: cancel, closing: make(chan struct{})}
	r.wg.Add(1)
	go r.run()
	return r
}

// loopbackClient is an HTTP client that can only reach this machine: it
// dials loopback addresses only (a name such as localhost is resolved and
// every address checked), uses no proxy and follows no redirect, so a
// webhook URL cannot send a notification elsewhere.
func loopbackClient() *http.Client {
	dialer := &net.Dialer{Timeout: webhookTimeout}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
			if err != nil {
				return nil, err
			}
			for _, ip := range ips {
				if ip.IP.IsLoopback() {
					return dialer.DialContext(ctx, network, net.JoinHostPort(ip.IP.String(), port))
				}
			}
			return nil, fmt.Errorf("%s is not a loopback address", host)
		},
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: webhookTimeout,
	}
	return &http.Client{Transport: tr, Timeout: webhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// enqueue hands deliveries to the worker and returns those a full queue
// refused.
func (r *actionRunner) enqueue(ds []delivery) (dropped []delivery) {
	for _, d := range ds {
		select {
		case r.queue <- d:
		default:
			dropped = append(dropped, d)
		}
	}
	return dropped
}

// errQueueFull is the outcome of a notification the queue had no room for.
var errQueueFull = errors.New("too many notifications are waiting for delivery")

func (r *actionRunner) run() {
	defer r.wg.Done()
	for {
		select {
		case d := <-r.queue:
			r.deliver(d)
		case <-r.closing:
			// What is queued still goes out, within stop's deadline.
			for {
				select {
				case d := <-r.queue:
					r.deliver(d)
				default:
					return
				}
			}
		}
	}
}

func (r *actionRunner) deliver(d delivery) {
	err := r.post(d)
	if r.ctx.Err() != nil {
		err = errors.New("vpcflow stopped before the webhook answered")
	}
	r.record(d.alarm, actionItem(d, r.now().UnixMilli(), err))
}

// post sends one notification; any status but 2xx is a failure.
func (r *actionRunner) post(d delivery) error {
	ctx, cancel := context.WithTimeout(r.ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, strings.NewReader(d.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vpcflow-alarm-action")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, webhookReplyLimit))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the webhook answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// stop ends the worker once the queued notifications are sent, giving them
// webhookTimeout in all: a short-lived process (`vpcflow logs put`) still
// notifies, and a dead webhook cannot hold Close for long.
func (r *actionRunner) stop() {
	close(r.closing)
	t := time.AfterFunc(webhookTimeout, r.cancel)
	r.wg.Wait()
	t.Stop()
	r.cancel()
}

// actionItem is the Action history item of one action's outcome at ts
// (ms), in CloudWatch's words: "Successfully executed action <action>" or
// "Failed to execute action <action>. Reason: <why>".
func actionItem(d delivery, ts int64, err error) metricfilter.StateChange {
	data := metricfilter.ActionData{ActionState: "Succeeded", StateUpdateTimestamp: d.stateTS, NotificationResource: d.url, PublishedMessage: d.body}
	summary := "Successfully executed action " + d.url
	if err != nil {
		data.ActionState, data.Error = "Failed", err.Error()
		summary = "Failed to execute action " + d.url + ". Reason: " + err.Error()
	}
	if len(summary) > 255 { // HistorySummary's maximum length
		summary = summary[:252] + "..."
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // reasons say "OK -> ALARM"
	enc.Encode(data)         // strings and a number: cannot fail
	return metricfilter.StateChange{Type: metricfilter.HistoryAction, Timestamp: ts, Summary: summary, Data: strings.TrimSuffix(b.String(), "\n")}
}

// runActions runs the actions of state changes. SNS topics are recorded as
// published in the alarm's history now; the webhook deliveries are
// returned for the caller to enqueue once the changes are saved. The
// caller holds mu.
func (s *Service) runActions(changes []metricfilter.StateChange) []delivery {
	var out []delivery
	for _, c := range changes {
		if len(c.Actions) == 0 {
			continue
		}
		ev, ok := s.eng.Alarm(c.AlarmName)
		if !ok {
			continue
		}
		body := ev.Notification(c, s.id.Account, s.id.Region, s.AlarmArn(c.AlarmName)).JSON()
		for _, act := range c.Actions {
			d := delivery{alarm: c.AlarmName, url: act, body: body, stateTS: c.Timestamp}
			p, err := metricfilter.ParseAction(act)
			switch {
			case err != nil:
				// Saved by an older vpcflow that did not check actions.
				s.eng.AddHistory(c.AlarmName, actionItem(d, c.Timestamp, err))
			case p.Kind == metricfilter.ActionSNS:
				s.eng.AddHistory(c.AlarmName, actionItem(d, c.Timestamp, nil))
			default:
				out = append(out, d)
			}
		}
	}
	return out
}

// enqueueDeliveries hands webhook deliveries to the worker; those it has
// no room for fail at once (their history items are saved with the next
// write). The caller holds mu.
func (s *Service) enqueueDeliveries(ds []delivery) {
	if len(ds) == 0 || s.actions == nil {
		return
	}
	for _, d := range s.actions.enqueue(ds) {
		s.eng.AddHistory(d.alarm, actionItem(d, s.now().UnixMilli(), errQueueFull))
	}
}

// recordAction adds an action's outcome to its alarm's history and saves
// it; the worker calls it without holding mu. An alarm deleted meanwhile
// gets nothing.
func (s *Service) recordAction(alarm string, item metricfilter.StateChange) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil || !s.eng.AddHistory(alarm, item) {
		return
	}
	// On failure the item stays in memory and is written with the next
	// successful save, like all pending metric data.
	s.saveAlarms()
}
