package insights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strconv"
	"strings"
	"unsafe"
)

// Event is one log event as the engine sees it. Message is only read while
// the event is being handed over; the engine copies what it keeps.
type Event struct {
	Timestamp     int64 // ms
	IngestionTime int64 // ms; orders events with the same timestamp
	Group         string
	Stream        string
	Message       []byte
}

// Source feeds events to fn, stopping at the first error fn returns, so the
// engine does not depend on how or where events are stored.
type Source func(fn func(ev *Event) error) error

// EventsSource serves a slice of events, for tests and small inputs.
func EventsSource(evs []Event) Source {
	return func(fn func(*Event) error) error {
		for i := range evs {
			if err := fn(&evs[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// flowFields are the names Insights discovers in default-format (version 2)
// flow-log messages, by token position (docs/aws-behaviour.md, "Logs
// Insights").
var flowFields = [...]string{"version", "accountId", "interfaceId", "srcAddr", "dstAddr", "srcPort",
	"dstPort", "protocol", "packets", "bytes", "startTime", "endTime", "action", "logStatus"}

func flowFieldIndex(name string) int {
	for i, f := range flowFields {
		if f == name {
			return i
		}
	}
	return -1
}

// loader computes a field of a record from its event.
type loader func(r *record) Value

// record is the evaluation context of one event (stream stage) or one
// materialized row (table stage, ev == nil). Fields load lazily: gen marks
// which slots hold this record's value, so nothing is cleared per event.
type record struct {
	ev      *Event
	msg     string
	vals    []Value
	gen     []uint32
	cur     uint32
	loaders []loader
	aggs    []Value // aggregate results while a stats row is finalized
	x       *runCtx
	ts, ing int64 // @timestamp and ingestion time, for earliest/latest

	flow     int8 // 0 unknown, 1 default-format flow log, -1 not
	tok      [14][2]int32
	jsonDone bool
	json     map[string]Value
	_        cacheLinePad
}

func newRecord(x *runCtx, s *schema) *record {
	n := len(s.names)
	// Workers write their records' vals and gen on every event: whole cache
	// lines each (allocations of a multiple of 64 bytes are aligned to 64),
	// or two workers' small slices share a line and the cores fight over it
	// (measured: a fifth of a 10 M-event stats query's CPU).
	return &record{x: x, vals: make([]Value, n, (n+1)&^1), gen: make([]uint32, n, (n+15)&^15), loaders: s.loaders}
}

func (r *record) reset(ev *Event) {
	r.ev = ev
	r.msg = unsafe.String(unsafe.SliceData(ev.Message), len(ev.Message))
	r.flow = 0
	r.jsonDone = false
	r.json = nil
	r.cur++
	if r.cur == 0 {
		clear(r.gen)
		r.cur = 1
	}
}

func (r *record) get(i int) Value {
	if r.ev != nil && r.gen[i] != r.cur {
		r.vals[i] = r.loaders[i](r)
		r.gen[i] = r.cur
	}
	return r.vals[i]
}

func (r *record) set(i int, v Value) {
	r.vals[i] = v
	if r.ev != nil {
		r.gen[i] = r.cur
	}
}

// isFlow tokenizes the message once: discovery applies only to exactly 14
// space-separated tokens whose first is "2" [Choice].
func (r *record) isFlow() bool {
	if r.flow != 0 {
		return r.flow > 0
	}
	r.flow = -1
	m := r.ev.Message
	n, prev := 0, -1 // tokens so far; position of the last space
	token := func(p int) bool {
		if p > prev+1 {
			if n == 14 {
				return false
			}
			r.tok[n] = [2]int32{int32(prev + 1), int32(p)}
			n++
		}
		prev = p
		return true
	}
	// Eight bytes at a time: t gets the high bit of every byte that is a
	// space (exact, no false positives), so the loop runs once per word and
	// once per space instead of once per byte.
	i := 0
	for ; i+8 <= len(m); i += 8 {
		x := binary.LittleEndian.Uint64(m[i:]) ^ 0x2020202020202020
		t := ^((x&0x7f7f7f7f7f7f7f7f + 0x7f7f7f7f7f7f7f7f) | x | 0x7f7f7f7f7f7f7f7f)
		for t != 0 {
			if !token(i + bits.TrailingZeros64(t)>>3) {
				return false
			}
			t &= t - 1
		}
	}
	for ; i < len(m); i++ {
		if m[i] == ' ' && !token(i) {
			return false
		}
	}
	if !token(len(m)) {
		return false
	}
	if n != 14 || r.tok[0][1]-r.tok[0][0] != 1 || m[r.tok[0][0]] != '2' {
		return false
	}
	r.flow = 1
	return true
}

func flowLoader(k int, name string) loader {
	return func(r *record) Value {
		if !r.isFlow() {
			return r.jsonField(name)
		}
		t := r.tok[k]
		s := r.msg[t[0]:t[1]]
		if s == "-" {
			return Value{} // [Choice] a - leaves the field absent
		}
		return Value{K: String, S: s}
	}
}

func jsonLoader(name string) loader {
	return func(r *record) Value { return r.jsonField(name) }
}

const maxJSONFields = 200

// jsonField discovers fields of JSON messages, flattened with dots.
func (r *record) jsonField(name string) Value {
	if !r.jsonDone {
		r.jsonDone = true
		b := bytes.TrimSpace(r.ev.Message)
		if len(b) > 0 && b[0] == '{' {
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber()
			var v map[string]any
			if d.Decode(&v) == nil {
				r.json = make(map[string]Value)
				flatten(r.json, "", v)
			}
		}
	}
	return r.json[name]
}

func flatten(out map[string]Value, prefix string, v any) {
	if len(out) >= maxJSONFields {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if prefix == "" && strings.HasPrefix(k, "@") {
				k = "@" + k
			}
			if prefix != "" {
				k = prefix + "." + k
			}
			flatten(out, k, x)
		}
	case []any:
		for i, x := range t {
			flatten(out, prefix+"."+strconv.Itoa(i), x)
		}
	case string:
		out[prefix] = strVal(t)
	case json.Number:
		out[prefix] = strVal(string(t))
	case bool:
		out[prefix] = boolVal(t)
	case nil:
		out[prefix] = Value{}
	}
}

// systemLoader returns the loader of an @ field, or nil.
func systemLoader(name string) loader {
	switch name {
	case "@timestamp":
		return func(r *record) Value { return timeVal(r.ev.Timestamp) }
	case "@ingestionTime":
		return func(r *record) Value { return timeVal(r.ev.IngestionTime) }
	case "@message":
		return func(r *record) Value { return Value{K: String, S: r.msg} }
	case "@logStream":
		return func(r *record) Value { return Value{K: String, S: r.ev.Stream} }
	case "@log":
		return func(r *record) Value { return strVal(r.x.logName(r.ev.Group)) }
	}
	return nil
}

func loaderFor(name string) loader {
	if l := systemLoader(name); l != nil {
		return l
	}
	if k := flowFieldIndex(name); k >= 0 {
		return flowLoader(k, name)
	}
	return jsonLoader(name)
}
