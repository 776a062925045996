//go:build !linux

package insights

func prefault[T any](b []T) {}
