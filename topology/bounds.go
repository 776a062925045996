package topology

import (
	"fmt"
	"io"
	"os"
)

// Bounds of a topology document, checked on its bytes before the YAML
// parser sees them. The parser's time and memory grow with the square of
// the nesting (a 200 KB file of nested flow lists, X: [[[[...]]]], took
// 15 GB and 9.5 s before failing on its unknown key), and it keeps any
// string whole. A real topology is far inside every bound: its deepest
// value is about 6 levels down (SecurityGroups[].IpPermissions[].
// UserIdGroupPairs[].GroupId), its strings are ids, CIDRs and
// descriptions (EC2 allows 255 characters), and the describe output of an
// account with thousands of interfaces is a few MB.
const (
	// MaxFileBytes is the largest topology file (16 MiB).
	MaxFileBytes = 16 << 20
	// MaxDepth is the deepest nesting of lists and mappings.
	MaxDepth = 64
	// MaxScalarBytes is the longest string (64 KiB).
	MaxScalarBytes = 64 << 10
)

// readBounded reads a topology file, refusing one over MaxFileBytes
// without reading it all.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > MaxFileBytes {
		return nil, ErrorList{tooBig(path, st.Size(), true)}
	}
	// Not a regular file (a pipe), or one growing: read one byte past the
	// bound to know.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, ErrorList{tooBig(path, int64(len(data)), false)}
	}
	return data, nil
}

// tooBig is the error for a file of size bytes, or of more than size bytes
// when it was not read to its end.
func tooBig(name string, size int64, exact bool) *Error {
	what := fmt.Sprintf("%d bytes", size)
	if !exact {
		what = fmt.Sprintf("more than %d bytes", MaxFileBytes)
	}
	return &Error{File: name, Msg: fmt.Sprintf("file too large: %s; a topology file may have at most %d (16 MiB)", what, MaxFileBytes)}
}

// checkBounds scans data once, in linear time and constant memory (but for
// a stack as deep as the nesting it allows), and reports the first place
// where it exceeds MaxDepth or MaxScalarBytes, or nil.
//
// The scan reads the YAML structure from the bytes, as far as nesting and
// string lengths need: comments, quoted strings (single, double, over
// several lines), block scalars (| and >), flow collections ([ ] { }, with
// the one-pair mappings a flow list can hold, [a: b]), and block
// collections from indentation, "- " entries (several on one line, "- - x")
// and "key:" indicators (a list may sit at its key's indentation). Where it
// cannot tell what the parser will make of some bytes it counts the deeper
// reading: a '[' or '{' inside a flow collection always opens one, a key
// ends a list only at that list's indentation.
// So its depth is never less than the parser's (FuzzBounds checks that on
// every input it generates) and, for well-formed files, equal to it or one
// more. Strings are measured as written (escapes count as their bytes);
// a plain (unquoted) string is measured line by line, the file bound
// covering one that continues over many lines.
func checkBounds(name string, data []byte) *Error {
	_, err := scanBounds(name, data)
	return err
}

// scanBounds is checkBounds that also returns the deepest nesting seen
// (for FuzzBounds, which compares it with the parser's).
func scanBounds(name string, data []byte) (int, *Error) {
	s := boundScan{data: data, line: 1}
	s.controls()
	if s.err == "" {
		s.run()
	}
	if s.err == "" {
		return s.maxDepth, nil
	}
	return s.maxDepth, &Error{File: name, Line: s.errLine, Msg: s.err}
}

type blockLevel struct {
	indent int
	seq    bool // a block list; else a block mapping
	forced bool // opened by an explicit key or value, or after an empty entry: a level of its own
	extra  int  // levels the parser may still have open around this one (see lineBegin)
}

type flowLevel struct {
	seq    bool // '[': a one-pair mapping may open inside it
	pair   bool // that mapping is open (until the next ',' or ']')
	extra  int  // levels open inside this one until the next ',' or its end: the pair, "- " entries
	colons int  // ':' indicators since the last ','
}

type boundScan struct {
	data      []byte
	i         int
	line      int // 1-based line of data[i]
	lineStart int // offset of the line's first byte

	block []blockLevel
	flow  []flowLevel
	pairs int // the flow levels' extra levels

	begun        int     // line whose start lineBegin has handled
	valueStart   bool    // a value may start here (a quote quotes, a '[' opens)
	plainRun     int     // offset where the current plain scalar began, or -1
	afterQuote   bool    // the last token was a quoted scalar (JSON's "a":1)
	pendingMap   int     // column of the line's content: a ':' indicator opens a block mapping there
	unclosed     [2]bool // no ' (index 0) or " (1) closes a string after here
	explicitEnd  bool    // the last line was a bare value indicator ':'
	extra        int     // the block levels' extra levels
	carry        int     // levels a kept line closed, for the next level it opens
	poppedForced bool
	prop         bool // the line ended with an empty "- " entry: what the next starts may be its value
	entry        bool // that entry began the line (then a "- " line next is its sibling)

	maxDepth int
	err      string
	errLine  int
}

func (s *boundScan) fail(line, col int, format string, args ...any) {
	if s.err == "" {
		s.err = fmt.Sprintf("column %d: ", col) + fmt.Sprintf(format, args...)
		s.errLine = line
	}
}

func (s *boundScan) col() int { return s.i - s.lineStart + 1 }

func (s *boundScan) depth() int { return len(s.block) + s.extra + len(s.flow) + s.pairs }

// checkDepth checks the nesting after a level opened at column col
// (0-based) of the current line.
func (s *boundScan) checkDepth(col int) {
	d := s.depth()
	s.maxDepth = max(s.maxDepth, d)
	if d > MaxDepth {
		s.fail(s.line, col+1, "lists and mappings nested %d deep, more than %d; a topology needs about 6 (the file is not parsed)", d, MaxDepth)
	}
}

func (s *boundScan) checkLen(n, line, col int) {
	if n > MaxScalarBytes {
		s.fail(line, col, "a string of more than %d bytes (64 KiB), longer than any topology value (the file is not parsed)", MaxScalarBytes)
	}
}

func (s *boundScan) peek(k int) byte {
	if s.i+k < len(s.data) {
		return s.data[s.i+k]
	}
	return 0
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// blankAt reports whether the byte k after the current one is blank or
// past the end.
func (s *boundScan) blankAt(k int) bool { return s.i+k >= len(s.data) || isBlank(s.data[s.i+k]) }

func (s *boundScan) newline() {
	s.i++
	s.line++
	s.lineStart = s.i
}

func (s *boundScan) endPlain() {
	if s.plainRun >= 0 {
		s.checkLen(s.i-s.plainRun, s.line, s.plainRun-s.lineStart+1)
		s.plainRun = -1
	}
}

func (s *boundScan) run() {
	s.plainRun = -1
	s.pendingMap = -1
	defer s.flushCarry()
	// Every step moves on but a line's start, handled once per line: a
	// scan that stalls is a bug, reported rather than looping.
	budget := 2*len(s.data) + 2
	for s.i < len(s.data) && s.err == "" {
		if budget--; budget < 0 {
			s.fail(s.line, s.col(), "the scan of this file stalled (a bug in vpcflow; please report it)")
			return
		}
		if s.begun != s.line && s.i == s.lineStart && len(s.flow) == 0 {
			s.begun = s.line
			s.lineBegin()
			continue
		}
		c := s.data[s.i]
		if !isBlank(c) && c != '#' {
			s.prop, s.entry = false, false
		}
		switch {
		case c == '\n':
			s.endPlain()
			s.newline()
			if len(s.flow) > 0 {
				s.afterQuote = false
			}
		case c == ' ' || c == '\t' || c == '\r':
			s.i++ // a plain scalar may go on after a space
		case c == '#' && (s.i == s.lineStart || isBlank(s.data[s.i-1]) || len(s.flow) > 0 && (s.data[s.i-1] == ':' || s.data[s.i-1] == ',' || s.data[s.i-1] == '[' || s.data[s.i-1] == '{')):
			// (In a flow collection the parser starts a comment right
			// after an indicator too.)
			s.endPlain()
			s.skipLine()
		case (c == '"' || c == '\'') && s.valueStart:
			s.quoted(c)
		case len(s.flow) > 0 && (c == '[' || c == '{'):
			s.endPlain()
			s.open(c)
		case len(s.flow) > 0 && (c == ']') == s.flow[len(s.flow)-1].seq && (c == ']' || c == '}'):
			s.endPlain()
			s.close()
		case len(s.flow) > 0 && c == ',':
			s.endPlain()
			top := &s.flow[len(s.flow)-1]
			s.pairs -= top.extra
			top.pair, top.extra, top.colons = false, 0, 0
			s.i++
			s.valueStart, s.afterQuote = true, false
		case c == ':' && (s.blankAt(1) || s.afterQuote || len(s.flow) > 0):
			// In a flow collection the parser takes any ':' as a key's
			// end ([a:b] is [{a: b}] to it); so does the scan.
			s.endPlain()
			s.mapping()
			s.i++
			s.valueStart, s.afterQuote = true, false
		case s.valueStart && len(s.flow) == 0 && (c == '[' || c == '{'):
			s.open(c)
		case s.valueStart && len(s.flow) == 0 && (c == '|' || c == '>') && s.blockHeader():
			s.blockScalar()
		case s.valueStart && (c == '!' || c == '&' || c == '*'):
			// A topology has no use for tags and anchors, and the decoder
			// refuses aliases; the parser reads all three in ways no
			// scan could follow (where a name ends, what on the next
			// line the node takes in): refused here.
			s.fail(s.line, s.col(), "YAML tags, anchors and aliases (!x, &x, *x) are not supported; write the value out, or quote it")
		case len(s.flow) > 0 && (c == '-' || c == '?') && s.blankAt(1):
			// A block list entry, which YAML does not allow here but the
			// parser takes, or an explicit key, which may start a
			// mapping where a value was due ({a: ? b}): a level until
			// the next ',' or the end. (Counted inside a plain scalar
			// too: the parser may have ended it, at a '#' say.)
			top := &s.flow[len(s.flow)-1]
			top.extra++
			s.pairs++
			s.checkDepth(s.i - s.lineStart)
			s.i++
		case (s.valueStart || s.afterQuote) && (c == '?' || c == '-') && s.blankAt(1):
			// A block list entry or explicit key where YAML allows none
			// ("a" - b): counted all the same.
			s.pushBlock(s.i-s.lineStart, c == '-')
			s.i++
			for s.i < len(s.data) && (s.data[s.i] == ' ' || s.data[s.i] == '\t') {
				s.i++
			}
			if n := s.peek(0); c == '-' && (s.i >= len(s.data) || n == '\n' || n == '\r' || n == '#') {
				// An entry without a value on its line, not at the line's
				// start: whatever the next line starts may be inside it.
				s.prop, s.entry = true, false
			}
			continue
		default:
			if s.plainRun < 0 {
				s.plainRun = s.i
			}
			s.valueStart, s.afterQuote = false, false
			// The rest of a plain scalar, up to a byte that may end it.
			flow := len(s.flow) > 0
			for s.i++; s.i < len(s.data); s.i++ {
				c := s.data[s.i]
				if isBlank(c) || c == ':' || flow && isFlowIndicator(c) || c == '<' && s.peek(1) == '<' {
					break
				}
			}
		case c == '<' && s.peek(1) == '<' && s.plainRun >= 0:
			// The parser splits a merge key out of a plain scalar
			// (a<<: b): a mapping inside, which the decoder then refuses.
			s.endPlain()
			if n := len(s.flow); n > 0 {
				s.flow[n-1].extra++
				s.pairs++
				s.checkDepth(s.i - s.lineStart)
			} else {
				s.pushLevel(blockLevel{indent: s.i - s.lineStart, forced: true})
			}
			s.plainRun = s.i
			s.i += 2
		}
	}
	s.endPlain()
}

func isFlowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }

// lineBegin handles the indentation and the leading "- " and "? "
// indicators of a line in block context.
func (s *boundScan) lineBegin() {
	s.flushCarry()
	s.afterQuote = false
	if s.i == 0 && len(s.data) >= 3 && string(s.data[:3]) == "\xef\xbb\xbf" {
		s.i, s.lineStart = 3, 3 // a byte order mark
	}
	ind := 0
	for s.i < len(s.data) && s.data[s.i] == ' ' {
		s.i++
		ind++
	}
	rest := s.data[s.i:]
	if s.restOfLineBlank() {
		// Blank or comment line: no structure.
		s.valueStart = false
		s.skipLine()
		return
	}
	// Lines the parser may nest inside the structure above them even
	// when they are indented less: after an empty "- " entry (-\nkey: v
	// is a list of one mapping), a line starting with a value indicator
	// (it may make the scalar above a key), a line after a bare value
	// indicator. The scan closes the levels indentation closes, as YAML
	// does, and counts them again on the level this line opens (extra),
	// so that its depth stays at least the parser's without levels
	// piling up.
	dash := rest[0] == '-' && s.blankAt(1)
	// (More indented than the level above, the line nests as YAML says.)
	forced := s.prop && !(s.entry && dash) && (len(s.block) == 0 || ind <= s.block[len(s.block)-1].indent)
	keep := forced || rest[0] == ':' && s.blankAt(1) || s.explicitEnd
	s.poppedForced = false
	popped := s.popAbove(ind)
	if keep || s.poppedForced {
		s.carry = max(s.carry, popped)
	}
	if forced {
		s.pushLevel(blockLevel{indent: ind, forced: true})
	}
	s.prop, s.entry, s.explicitEnd = false, false, false
	if ind == 0 && s.docMarker(s.i) {
		// A document marker, which the parser takes even with no blank
		// after it (and, then, maybe as text: ---: is a key to it). What
		// follows is a value; nothing closes (the decoder refuses a
		// second document anyway).
		s.i += 3
		s.valueStart, s.pendingMap = true, 0
		return
	}
	// A tab may not indent, but the parser takes one as a blank before
	// the line's first token, of no width (spaces after it count).
	col := ind
	for s.i < len(s.data) && (s.data[s.i] == ' ' || s.data[s.i] == '\t') {
		if s.data[s.i] == ' ' {
			col++
		}
		s.i++
	}
	for s.err == "" {
		c := s.peek(0)
		if (c == '-' || c == '?' || c == ':') && s.blankAt(1) {
			if c == '-' {
				s.pushBlock(col, true)
			} else {
				// An explicit key or value: a mapping here, inside a
				// list of the same indentation rather than after it
				// (the parser reads - a\n: b as a list of {a: b}). A
				// value indicator at the start of a line may make the
				// scalar above it a key: always a new level.
				s.pushLevel(blockLevel{indent: col, forced: true})
			}
			s.i++
			col++
			for s.i < len(s.data) && (s.data[s.i] == ' ' || s.data[s.i] == '\t') {
				s.i++
				col++
			}
			if n := s.peek(0); s.i >= len(s.data) || n == '\n' || n == '\r' || n == '#' {
				if c == ':' {
					s.explicitEnd = true // a value indicator without a value on its line
				} else {
					s.prop, s.entry = true, true // an entry without a value on its line
				}
			}
			continue
		}
		break
	}
	s.valueStart, s.pendingMap = true, col
}

// flushCarry gives the levels a kept line closed (lineBegin) to the
// innermost level, when no level opened on that line took them.
func (s *boundScan) flushCarry() {
	if s.carry == 0 || len(s.block) == 0 {
		return // with no level open, the next one to open takes them
	}
	top := &s.block[len(s.block)-1]
	if s.carry > top.extra {
		s.extra += s.carry - top.extra
		top.extra = s.carry
		s.checkDepth(top.indent)
	}
	s.carry = 0
}

// controls refuses control characters other than tab, newline and
// carriage return: YAML allows none (JSON escapes them), and the parser
// reads a NUL byte as a blank in some places and as text in others, which
// no scan could follow.
func (s *boundScan) controls() {
	line, start := 1, 0
	for i, c := range s.data {
		switch {
		case c == '\n':
			line, start = line+1, i+1
		case c < 0x20 && c != '\t' && c != '\r' || c == 0x7f:
			s.fail(line, i-start+1, "control character 0x%02x: a topology is text (YAML allows no control characters but tab and line breaks)", c)
			return
		case c == '\r' && (i+1 == len(s.data) || s.data[i+1] != '\n'):
			// A line break to YAML, a space to the scan: refused rather
			// than followed (no editor writes one today).
			s.fail(line, i-start+1, "a carriage return without a line feed: use \\n or \\r\\n line breaks")
			return
		}
	}
}

// popAbove closes the block levels indented more than ind.
// popAbove closes the block levels indented more than ind and returns
// how deep they went (their extra levels included).
func (s *boundScan) popAbove(ind int) int {
	n := 0
	for len(s.block) > 0 && s.block[len(s.block)-1].indent > ind {
		if s.block[len(s.block)-1].forced {
			// What an empty entry or an explicit value opened, the parser may
			// keep open past the dedent.
			s.poppedForced = true
		}
		n += 1 + s.popLevel()
	}
	return n
}

// pushLevel opens a block level.
func (s *boundScan) pushLevel(l blockLevel) {
	l.extra = max(l.extra, s.carry)
	s.carry = 0
	s.block = append(s.block, l)
	s.extra += l.extra
	s.checkDepth(l.indent)
}

// popLevel closes the innermost block level and returns its extra levels.
func (s *boundScan) popLevel() int {
	e := s.block[len(s.block)-1].extra
	s.extra -= e
	s.block = s.block[:len(s.block)-1]
	return e
}

// pushBlock enters a block list (seq) or mapping at column col, unless the
// innermost level is already that one. A mapping key at a list's own
// indentation ends the list (key:\n- a\nnext: b).
func (s *boundScan) pushBlock(col int, seq bool) {
	if n := len(s.block); n > 0 && !s.block[n-1].forced {
		top := s.block[n-1]
		if top.indent == col && top.seq == seq {
			return
		}
		if top.indent == col && top.seq && !seq {
			e := s.popLevel()
			if n > 1 && s.block[n-2].indent == col && !s.block[n-2].seq && !s.block[n-2].forced {
				return
			}
			s.pushLevel(blockLevel{indent: col, extra: e})
			return
		}
	}
	s.pushLevel(blockLevel{indent: col, seq: seq})
}

// mapping handles a ':' indicator: in a flow list it opens a one-pair
// mapping; in block context it opens a mapping at the line's content
// column (once per line).
func (s *boundScan) mapping() {
	if n := len(s.flow); n > 0 {
		// In a list, the first ':' of an entry opens a one-pair
		// mapping; in a mapping the first separates key and value. Any
		// further one (a: !t b: c, which the parser takes) opens a
		// mapping inside.
		top := &s.flow[n-1]
		top.colons++
		if top.seq || top.colons > 1 {
			top.pair = true
			top.extra++
			s.pairs++
			s.checkDepth(s.i - s.lineStart)
		}
		return
	}
	if s.pendingMap >= 0 {
		s.pushBlock(s.pendingMap, false)
		s.pendingMap = -1
		return
	}
	// Another key on the same line (a: !!map b: c, which the parser
	// takes): a mapping inside the first, placed at the ':' (the key may
	// be empty) so that it is a new level.
	s.pushBlock(s.i-s.lineStart, false)
}

func (s *boundScan) open(c byte) {
	s.flow = append(s.flow, flowLevel{seq: c == '['})
	s.checkDepth(s.i - s.lineStart)
	s.i++
	s.valueStart, s.afterQuote = true, false
	s.plainRun = -1
}

func (s *boundScan) close() {
	n := len(s.flow)
	s.pairs -= s.flow[n-1].extra
	s.flow = s.flow[:n-1]
	s.i++
	s.valueStart, s.afterQuote = false, false
}

// quoted skips a quoted scalar, over several lines if need be.
func (s *boundScan) quoted(q byte) {
	k := 0
	if q == '"' {
		k = 1
	}
	if s.unclosed[k] {
		s.plainQuote()
		return
	}
	line, col := s.line, s.col()
	i0, line0, start0 := s.i, s.line, s.lineStart
	s.i++
	start := s.i
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\n':
			s.newline()
			if s.docMarker(s.i) {
				// The parser ends every scalar at a document marker.
				s.checkLen(s.i-start, line, col)
				s.valueStart = false
				return
			}
			continue
		case q == '"' && c == '\\':
			s.i += 2
			continue
		case c == q:
			if q == '\'' && s.peek(1) == '\'' {
				s.i += 2
				continue
			}
			s.checkLen(s.i-start, line, col)
			s.i++
			s.valueStart, s.afterQuote = false, true
			return
		}
		s.i++
	}
	// Never closed: the parser may read on as if the quote were text, so
	// the scan does too (and, no such quote closing later either, from
	// now on at once).
	s.unclosed[k] = true
	s.i, s.line, s.lineStart = i0, line0, start0
	s.plainQuote()
}

// plainQuote reads a quote that opens no string as the start of a plain
// scalar.
func (s *boundScan) plainQuote() {
	if s.plainRun < 0 {
		s.plainRun = s.i
	}
	s.valueStart, s.afterQuote = false, false
	s.i++
}

// blockHeader reports whether a '|' or '>' at a value start begins a block
// scalar: an indentation or chomping indicator at most, then only a
// comment.
func (s *boundScan) blockHeader() bool {
	j := s.i + 1
	for j < len(s.data) && (s.data[j] == '+' || s.data[j] == '-' || s.data[j] >= '0' && s.data[j] <= '9') {
		j++
	}
	for j < len(s.data) && (s.data[j] == ' ' || s.data[j] == '\t') {
		j++
	}
	return j >= len(s.data) || s.data[j] == '\n' || s.data[j] == '\r' || s.data[j] == '#' && isBlank(s.data[j-1])
}

// blockScalar skips a block scalar: its header line, then the lines
// indented at least as much as its first line with text, which must be
// indented more than the level that holds it (and blank lines).
func (s *boundScan) blockScalar() {
	// Text at the left margin ends even a top-level block scalar, to
	// the parser.
	parent := 0
	if n := len(s.block); n > 0 {
		parent = s.block[n-1].indent
		if s.block[n-1].forced {
			// After an explicit ": " the parser wants the text past
			// the indicator's column.
			parent++
		}
	}
	line, col := s.line, s.col()
	s.skipLine()
	size := 0
	content := -1 // the indentation of the first line with text sets the block's
	for s.i < len(s.data) {
		// The parser may count tabs as indentation or not: the block's
		// indentation is taken with them, a line's without, so that the
		// scalar ends as early as either reading ends it (the scan then
		// reads more as structure, never less).
		j, spaces := s.i, 0
		for j < len(s.data) && s.data[j] == ' ' {
			j++
			spaces++
		}
		withTabs := spaces
		for j < len(s.data) && (s.data[j] == ' ' || s.data[j] == '\t') {
			j++
			withTabs++
		}
		blank := j >= len(s.data) || s.data[j] == '\n' || s.data[j] == '\r'
		ind := spaces
		first := false
		if !blank && content < 0 {
			content, first = withTabs, true
		}
		if !blank && (ind <= parent || ind < content && !first) || s.docMarker(s.i) {
			break
		}
		start := s.i
		s.skipLine()
		size += s.i - start
	}
	s.checkLen(size, line, col)
	s.valueStart = false
}

// docMarker reports whether a line starting at offset i begins with a
// document marker (--- or ...).
func (s *boundScan) docMarker(i int) bool {
	return i+3 <= len(s.data) && (string(s.data[i:i+3]) == "---" || string(s.data[i:i+3]) == "...")
}

// restOfLineBlank reports whether only blanks or a comment follow on the
// line.
func (s *boundScan) restOfLineBlank() bool {
	j := s.i
	for j < len(s.data) && (s.data[j] == ' ' || s.data[j] == '\t') {
		j++
	}
	return j >= len(s.data) || s.data[j] == '\n' || s.data[j] == '\r' || s.data[j] == '#'
}

// skipLine moves past the end of the current line.
func (s *boundScan) skipLine() {
	for s.i < len(s.data) && s.data[s.i] != '\n' {
		s.i++
	}
	if s.i < len(s.data) {
		s.newline()
	}
}
