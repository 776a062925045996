package logstore

import (
	"maps"
	"strings"
)

// Tags of log groups. They are part of the group's record in meta.db, so
// they are written in the same fsync'd transaction as any other change of
// the group, survive a restart, and go with DeleteLogGroup (a group created
// again under the same name starts without tags).

// MaxTags is how many tags a log group may have
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html).
const MaxTags = 50

// CodeTooManyTags is CloudWatch Logs' TooManyTagsException.
const CodeTooManyTags = "TooManyTagsException"

// ErrTooManyTags is the answer to a change that would leave a group with
// more than MaxTags tags. TagResource answers with it as it is; the
// legacy TagLogGroup, which has no such exception, with its text under
// InvalidParameterException.
var ErrTooManyTags = &APIError{CodeTooManyTags, "A resource can have no more than 50 tags."}

// ErrReservedTagKey refuses a tag key that starts with "aws:" in any case:
// AWS reserves the prefix for the tags it sets, which users cannot assign
// (https://docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/allocation-tag-restrictions.html).
// CloudWatch Logs' own text is not documented; this one is vpcflow's.
var ErrReservedTagKey = &APIError{CodeInvalidParameter, "Tag keys beginning with 'aws:' are reserved for AWS use."}

// ReservedTagKey reports whether k uses the prefix AWS reserves.
func ReservedTagKey(k string) bool {
	return len(k) >= 4 && strings.EqualFold(k[:4], "aws:")
}

// checkReserved refuses keys with the reserved prefix.
func checkReserved[V any](tags map[string]V) error {
	for k := range tags {
		if ReservedTagKey(k) {
			return ErrReservedTagKey
		}
	}
	return nil
}

// GroupTags returns a copy of the group's tags (empty, never nil, for a
// group without any).
func (s *Store) GroupTags(name string) (map[string]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[name]
	if g == nil {
		return nil, ErrGroupNotFound
	}
	out := make(map[string]string, len(g.meta.Tags))
	maps.Copy(out, g.meta.Tags)
	return out, nil
}

// TagLogGroup adds tags to the group's, replacing the values of keys it
// already has. A group would have more than MaxTags: ErrTooManyTags, and
// nothing changes. Keys and values are checked by the caller against the
// API's patterns; only the reserved prefix is refused here.
func (s *Store) TagLogGroup(name string, tags map[string]string) error {
	if err := checkReserved(tags); err != nil {
		return err
	}
	return s.updateGroup(name, func(m *groupMeta) error {
		merged := make(map[string]string, len(m.Tags)+len(tags))
		maps.Copy(merged, m.Tags)
		maps.Copy(merged, tags)
		if len(merged) > MaxTags {
			return ErrTooManyTags
		}
		// A new map: readers may hold the old one (GroupTags copies it
		// under the lock, the write happens outside).
		m.Tags = merged
		return nil
	})
}

// UntagLogGroup removes the tags with the given keys; keys the group does
// not have are ignored, as AWS ignores them. A reserved key is refused.
func (s *Store) UntagLogGroup(name string, keys []string) error {
	for _, k := range keys {
		if ReservedTagKey(k) {
			return ErrReservedTagKey
		}
	}
	return s.updateGroup(name, func(m *groupMeta) error {
		kept := maps.Clone(m.Tags)
		for _, k := range keys {
			delete(kept, k)
		}
		if len(kept) == 0 {
			kept = nil // omitted from the record
		}
		m.Tags = kept
		return nil
	})
}
