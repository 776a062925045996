//go:build linux

package insights

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks Linux to back the large fresh slice b with huge pages
// (transparent huge pages are often "madvise" only). At millions of groups,
// first touching hundreds of megabytes of index one 4 KB page at a time
// (a fault each, then TLB misses) cost as much as the lookups themselves.
// Large Go allocations start on a page boundary, as madvise requires.
func adviseHuge[T any](b []T) {
	n := len(b) * int(unsafe.Sizeof(b[0]))
	if n < 4<<20 {
		return
	}
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), n), syscall.MADV_HUGEPAGE)
}
