//go:build !linux

package insights

func adviseHuge[T any](b []T) {}
