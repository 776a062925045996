package logsvc

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
	bolt "go.etcd.io/bbolt"
)

// ErrFilterNotFound is DeleteMetricFilter's answer for an unknown filter; the
// text is vpcflow's (docs/aws-behaviour.md, "CloudWatch Logs API").
var ErrFilterNotFound = &metricfilter.Error{Code: logstore.CodeResourceNotFound, Message: "The specified metric filter does not exist."}

// ErrMetricPair is DescribeMetricFilters' answer when only one of
// metricName and metricNamespace is given ([Choice] text: AWS says they
// come as a pair but does not document its message; docs/aws-behaviour.md,
// "CloudWatch Logs API").
var ErrMetricPair = &metricfilter.Error{Code: logstore.CodeInvalidParameter, Message: "metricName and metricNamespace must be specified together."}

// putFilterMem adds a definition to the engine and the index; the caller
// holds mu or is Open.
func (s *Service) putFilterMem(d metricfilter.Definition) error {
	f, err := s.eng.PutFilter(d.LogGroupName, d)
	if err != nil {
		return err
	}
	m := s.filters[d.LogGroupName]
	if m == nil {
		m = map[string]*metricfilter.Filter{}
		s.filters[d.LogGroupName] = m
	}
	m[d.FilterName] = f
	return nil
}

// PutMetricFilter is the API's PutMetricFilter (docs/aws-behaviour.md,
// "Metric filters and alarms"): the group
// (d.LogGroupName) must exist; a filter of the same name is replaced and
// keeps its creationTime. It applies to events stored from now on only.
// Errors are *logstore.APIError (missing group) or *metricfilter.Error.
func (s *Service) PutMetricFilter(d metricfilter.Definition) error {
	if err := s.refuseWrite("put metric filter"); err != nil {
		return err
	}
	if err := logstore.ValidateGroupName(d.LogGroupName); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.store.GroupInfo(d.LogGroupName); err != nil {
		return err
	}
	old := s.filters[d.LogGroupName][d.FilterName]
	if old != nil {
		d.CreationTime = old.Def.CreationTime
	} else {
		d.CreationTime = s.now().UnixMilli()
	}
	was := s.watching(d.LogGroupName)
	if err := s.putFilterMem(d); err != nil {
		return err
	}
	if !was {
		// The events stored so far are not the filter's (not
		// retroactive): the group's mark starts at its current sequence.
		s.markCurrent(d.LogGroupName)
	}
	f := s.filters[d.LogGroupName][d.FilterName]
	v, _ := json.Marshal(f.Def)
	err := s.flush(func(tx *bolt.Tx) error {
		return tx.Bucket(bFilters).Put(filterKey(d.LogGroupName, d.FilterName), v)
	})
	if err != nil {
		// Keep memory and disk in agreement.
		if old != nil {
			s.putFilterMem(old.Def)
		} else {
			s.eng.DeleteFilter(d.LogGroupName, d.FilterName)
			delete(s.filters[d.LogGroupName], d.FilterName)
		}
		if !was {
			delete(s.pending.seen, d.LogGroupName)
		}
		return fmt.Errorf("logsvc: save metric filter: %w", err)
	}
	return nil
}

// DeleteMetricFilter is the API's DeleteMetricFilter.
func (s *Service) DeleteMetricFilter(group, name string) error {
	if err := s.refuseWrite("delete metric filter"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.store.GroupInfo(group); err != nil {
		return err
	}
	if s.filters[group][name] == nil {
		return ErrFilterNotFound
	}
	err := s.flush(func(tx *bolt.Tx) error {
		return tx.Bucket(bFilters).Delete(filterKey(group, name))
	})
	if err != nil {
		return fmt.Errorf("logsvc: delete metric filter: %w", err)
	}
	s.eng.DeleteFilter(group, name)
	delete(s.filters[group], name)
	return nil
}

// DescribeFiltersInput is DescribeMetricFilters' request (without paging:
// at most 100 filters per group keep the answer small).
type DescribeFiltersInput struct {
	LogGroupName     string
	FilterNamePrefix string // needs LogGroupName; ignored otherwise, as on AWS
	MetricName       string // with MetricNamespace, or neither
	MetricNamespace  string
}

// DescribeMetricFilters lists filters sorted by group, then name, in the
// shape DescribeMetricFilters answers with.
func (s *Service) DescribeMetricFilters(in DescribeFiltersInput) ([]metricfilter.MetricFilter, error) {
	if (in.MetricName == "") != (in.MetricNamespace == "") {
		return nil, ErrMetricPair
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.LogGroupName != "" {
		if _, err := s.store.GroupInfo(in.LogGroupName); err != nil {
			return nil, err
		}
	}
	var defs []metricfilter.Definition
	for _, d := range s.eng.Filters(in.LogGroupName) {
		if in.LogGroupName != "" && !strings.HasPrefix(d.FilterName, in.FilterNamePrefix) {
			continue
		}
		if in.MetricName != "" {
			t := d.MetricTransformations[0]
			if t.MetricName != in.MetricName || t.MetricNamespace != in.MetricNamespace {
				continue
			}
		}
		defs = append(defs, d)
	}
	// The engine sorts too; make the order this API promises explicit.
	sort.SliceStable(defs, func(i, j int) bool {
		if defs[i].LogGroupName != defs[j].LogGroupName {
			return defs[i].LogGroupName < defs[j].LogGroupName
		}
		return defs[i].FilterName < defs[j].FilterName
	})
	out := make([]metricfilter.MetricFilter, len(defs))
	for i := range defs {
		out[i] = defs[i].MetricFilter()
	}
	return out, nil
}
