package record

import (
	"fmt"
	"strings"
)

// Format is an ordered list of fields: the LogFormat of a flow log.
type Format struct {
	fields  []Field
	values  []value // how AppendText reads each field
	version int
	text    string // "${a} ${b}"
	header  string // "a b"
}

// DefaultFormat is the format of flow logs created without LogFormat: the
// version 2 fields in table order.
var DefaultFormat = MustFormat(
	"${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")

// DefaultTGWFormat is the default format of transit gateway flow logs: every
// transit gateway field of versions 2 to 6, in AWS's order
// (docs/aws-behaviour.md, "Record fields and formats").
var DefaultTGWFormat = MustFormat(
	"${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-src-vpc-account-id} ${tgw-dst-vpc-account-id} ${tgw-src-vpc-id} ${tgw-dst-vpc-id} ${tgw-src-subnet-id} ${tgw-dst-subnet-id} ${tgw-src-eni} ${tgw-dst-eni} ${tgw-src-az-id} ${tgw-dst-az-id} ${tgw-pair-attachment-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${type} ${packets-lost-no-route} ${packets-lost-blackhole} ${packets-lost-mtu-exceeded} ${packets-lost-ttl-expired} ${tcp-flags} ${region} ${flow-direction} ${pkt-src-aws-service} ${pkt-dst-aws-service}")

// FormatError reports a bad format string; Pos is the 0-based byte offset of
// the offending token.
type FormatError struct {
	Pos     int
	Token   string
	Problem string
}

func (e *FormatError) Error() string {
	if e.Token == "" {
		return e.Problem
	}
	return fmt.Sprintf("%s %q at offset %d", e.Problem, e.Token, e.Pos)
}

// ParseFormat reads a format written as AWS LogFormat (`${a} ${b}`) or as a
// header line (`a b`). Fields are separated by runs of spaces; a field listed
// twice is kept twice (AWS allows it).
func ParseFormat(s string) (*Format, error) {
	var fields []Field
	var unknown []string
	var firstErr *FormatError
	i := 0
	for i < len(s) {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		tok := s[i:j]
		name := tok
		if strings.HasPrefix(tok, "${") && strings.HasSuffix(tok, "}") && len(tok) > 3 {
			name = tok[2 : len(tok)-1]
		} else if strings.ContainsAny(tok, "${}") {
			if firstErr == nil {
				firstErr = &FormatError{Pos: i, Token: tok, Problem: "malformed field, want ${name}:"}
			}
			i = j
			continue
		}
		f, ok := Lookup(name)
		if !ok {
			unknown = append(unknown, name)
			if firstErr == nil {
				firstErr = &FormatError{Pos: i, Token: name, Problem: "unknown field" + hint(name) + ":"}
			}
		}
		fields = append(fields, f)
		i = j
	}
	if len(unknown) > 1 {
		firstErr.Problem = fmt.Sprintf("unknown fields %s; first", strings.Join(quoteAll(unknown), ", "))
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if len(fields) == 0 {
		return nil, &FormatError{Problem: "empty format: want at least one field"}
	}
	return NewFormat(fields...), nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func hint(name string) string {
	if sug := Suggest(name); len(sug) > 0 {
		return " (did you mean " + strings.Join(sug, " or ") + "?)"
	}
	return ""
}

// MustFormat is ParseFormat for formats known to be valid.
func MustFormat(s string) *Format {
	f, err := ParseFormat(s)
	if err != nil {
		panic("record: bad built-in format: " + err.Error())
	}
	return f
}

// NewFormat builds a format from known fields.
func NewFormat(fields ...Field) *Format {
	f := &Format{fields: append([]Field(nil), fields...), version: 2}
	var text, header strings.Builder
	for i, fd := range fields {
		if i > 0 {
			text.WriteByte(' ')
			header.WriteByte(' ')
		}
		text.WriteString("${" + fd.Name() + "}")
		header.WriteString(fd.Name())
		f.version = max(f.version, infos[fd].Version)
		f.values = append(f.values, values[fd])
	}
	f.text, f.header = text.String(), header.String()
	return f
}

// Fields returns the fields in output order. The slice must not be modified.
func (f *Format) Fields() []Field { return f.fields }

// Len is the number of fields in a line.
func (f *Format) Len() int { return len(f.fields) }

// Version is the record version the format implies: the highest version
// among its fields; 2 at least.
func (f *Format) Version() int { return f.version }

// String returns the format as AWS LogFormat: `${a} ${b}`.
func (f *Format) String() string { return f.text }

// Header returns the header line of S3 text objects: the field names
// separated by single spaces.
func (f *Format) Header() string { return f.header }

// Has reports whether the format contains field fd.
func (f *Format) Has(fd Field) bool {
	for _, x := range f.fields {
		if x == fd {
			return true
		}
	}
	return false
}

// Extensions returns the vpcflow extension fields (x-...) of the format; AWS
// flow logs cannot carry them.
func (f *Format) Extensions() []Field {
	var out []Field
	for _, x := range f.fields {
		if infos[x].Scope == ScopeExtension {
			out = append(out, x)
		}
	}
	return out
}
