package logsvc

// Tags of log groups, kept by the store with the group (meta.db): they
// survive a restart and are deleted with the group. Tagging touches no
// metric filter, so these forward to the store.

// ListTagsLogGroup returns a copy of the group's tags.
func (s *Service) ListTagsLogGroup(group string) (map[string]string, error) {
	return s.store.GroupTags(group)
}

// TagLogGroup adds tags to the group's or replaces their values; more than
// 50 in all is logstore.ErrTooManyTags and changes nothing.
func (s *Service) TagLogGroup(group string, tags map[string]string) error {
	return s.store.TagLogGroup(group, tags)
}

// UntagLogGroup removes the tags with these keys; unknown keys are ignored.
func (s *Service) UntagLogGroup(group string, keys []string) error {
	return s.store.UntagLogGroup(group, keys)
}
