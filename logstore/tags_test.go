package logstore

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"
)

// TestTags: a group's tags are kept with it in meta.db, survive a clean
// restart, go with DeleteLogGroup and obey the limit of 50 and the
// reserved "aws:" prefix. Expected values are written from the API
// reference's TagResource and UntagResource descriptions (a known key is
// replaced, an unknown key to remove is ignored).
func TestTags(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: time.UnixMilli(t0)}
	s := openTest(t, dir, c)
	defer func() { s.Close() }()
	want := func(group string, tags map[string]string) {
		t.Helper()
		got, err := s.GroupTags(group)
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || !maps.Equal(got, tags) {
			t.Fatalf("tags of %s: %v, want %v", group, got, tags)
		}
	}
	create := map[string]string{"team": "DevOps"}
	if err := s.CreateLogGroup("app", GroupOptions{Tags: create}); err != nil {
		t.Fatal(err)
	}
	create["team"] = "changed by the caller after the call"
	want("app", map[string]string{"team": "DevOps"})
	if err := s.CreateLogGroup("bare", GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	want("bare", map[string]string{})

	if err := s.TagLogGroup("app", map[string]string{"stack": "Prod", "team": "Ops"}); err != nil {
		t.Fatal(err)
	}
	want("app", map[string]string{"stack": "Prod", "team": "Ops"})
	if err := s.UntagLogGroup("app", []string{"team", "absent"}); err != nil {
		t.Fatal(err)
	}
	want("app", map[string]string{"stack": "Prod"})

	// 49 new keys make 50: allowed; one more is refused and changes nothing.
	many := map[string]string{}
	for i := 0; i < 49; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	if err := s.TagLogGroup("app", many); err != nil {
		t.Fatal(err)
	}
	if err := s.TagLogGroup("app", map[string]string{"one-more": "v"}); !errors.Is(err, ErrTooManyTags) {
		t.Fatalf("51st tag: %v", err)
	}
	// Replacing a value of a group with 50 tags adds none.
	if err := s.TagLogGroup("app", map[string]string{"stack": "Test"}); err != nil {
		t.Fatal(err)
	}
	full := maps.Clone(many)
	full["stack"] = "Test"
	want("app", full)

	for _, err := range []error{
		s.TagLogGroup("app", map[string]string{"aws:cloudformation:stack-name": "x"}),
		s.TagLogGroup("app", map[string]string{"AWS:Owner": "x"}),
		s.UntagLogGroup("app", []string{"aws:createdBy"}),
		s.CreateLogGroup("other", GroupOptions{Tags: map[string]string{"Aws:x": "y"}}),
	} {
		if !errors.Is(err, ErrReservedTagKey) {
			t.Fatalf("reserved key: %v", err)
		}
	}
	if _, err := s.GroupTags("other"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("a refused CreateLogGroup created the group: %v", err)
	}
	for _, err := range []error{s.TagLogGroup("nope", map[string]string{"a": "b"}), s.UntagLogGroup("nope", []string{"a"})} {
		if !errors.Is(err, ErrGroupNotFound) {
			t.Fatalf("unknown group: %v", err)
		}
	}
	if _, err := s.GroupTags("nope"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatal(err)
	}

	// A restart keeps them, and other attributes keep theirs.
	if err := s.PutRetentionPolicy("app", 30); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, dir, c)
	want("app", full)
	want("bare", map[string]string{})
	if gi, err := s.GroupInfo("app"); err != nil || gi.RetentionInDays != 30 {
		t.Fatalf("retention after restart: %+v %v", gi, err)
	}

	// Deleted with the group: the same name created again has none.
	if err := s.DeleteLogGroup("app"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLogGroup("app", GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	want("app", map[string]string{})
	s = reopen(t, s, dir, c)
	want("app", map[string]string{})
}
