package live

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// ParseFilter reads a classic BPF program in the form `tcpdump -ddd EXPR`
// prints: the number of instructions on the first line, then one
// instruction per line as four decimal numbers (code jt jf k). Commas may
// stand for line breaks, so a program fits in one flag. The program is
// checked (jumps inside it, a return at the end) before any socket sees it.
//
// vpcflow compiles no filter expressions itself: that needs libpcap, and
// tcpdump, which has it, prints the compiled program.
func ParseFilter(text string) ([]bpf.RawInstruction, error) {
	lines := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' || r == ';' })
	var prog []bpf.RawInstruction
	count := -1
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if count < 0 && len(f) == 1 && len(prog) == 0 {
			n, err := strconv.Atoi(f[0])
			if err != nil || n < 1 || n > maxInstructions {
				return nil, fmt.Errorf("filter line %d: want the number of instructions (1 to %d), got %q", i+1, maxInstructions, f[0])
			}
			count = n
			continue
		}
		if len(f) != 4 {
			return nil, fmt.Errorf("filter line %d: want an instruction as 4 numbers 'code jt jf k' (tcpdump -ddd), got %q", i+1, strings.TrimSpace(line))
		}
		var v [4]uint64
		for k, s := range f {
			n, err := strconv.ParseUint(s, 10, []int{16, 8, 8, 32}[k])
			if err != nil {
				return nil, fmt.Errorf("filter line %d: %s %q is not a number of %d bits", i+1, []string{"code", "jt", "jf", "k"}[k], s, []int{16, 8, 8, 32}[k])
			}
			v[k] = n
		}
		prog = append(prog, bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])})
	}
	if len(prog) == 0 {
		return nil, fmt.Errorf("filter: no instruction (want the output of tcpdump -ddd EXPR)")
	}
	if count >= 0 && count != len(prog) {
		return nil, fmt.Errorf("filter: the first line announces %d instructions, %d follow", count, len(prog))
	}
	if _, err := program(prog, maxSnapLen); err != nil {
		return nil, fmt.Errorf("filter: %v", err)
	}
	return prog, nil
}

// bpfRetK is BPF_RET|BPF_K: return the constant k (bytes to keep, 0 drops).
const bpfRetK = 0x06

// program returns the filter to attach: f (or "keep every frame") with
// every constant return capped at snapLen, so the kernel copies only the
// headers into the ring. f is checked with x/net/bpf's validator.
func program(f []bpf.RawInstruction, snapLen int) ([]bpf.RawInstruction, error) {
	if len(f) == 0 {
		return []bpf.RawInstruction{{Op: bpfRetK, K: uint32(snapLen)}}, nil
	}
	if len(f) > maxInstructions {
		return nil, fmt.Errorf("%d instructions, the kernel takes at most %d", len(f), maxInstructions)
	}
	insts, ok := bpf.Disassemble(f)
	if !ok {
		for i, ri := range f {
			if _, isRaw := ri.Disassemble().(bpf.RawInstruction); isRaw {
				return nil, fmt.Errorf("instruction %d (code %d): not a classic BPF instruction", i+1, ri.Op)
			}
		}
	}
	if _, err := bpf.NewVM(insts); err != nil {
		return nil, err
	}
	out := make([]bpf.RawInstruction, len(f))
	copy(out, f)
	for i := range out {
		if out[i].Op == bpfRetK && out[i].K > uint32(snapLen) {
			out[i].K = uint32(snapLen)
		}
	}
	return out, nil
}

// maxInstructions is the kernel's BPF_MAXINSNS.
const maxInstructions = 4096
