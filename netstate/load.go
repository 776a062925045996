package netstate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// readTopologyFile turns a topology file (YAML or JSON) that topology.Parse
// has accepted into a Network. It walks the YAML syntax tree itself, as the
// topology package does, so that a scalar means here exactly what it means
// there: topology takes the text of a scalar whatever its YAML type (a
// NACL Protocol of 6 or "6", an AccountId written without quotes), and a
// generic YAML decoder would turn 012345678901 into a number and lose the
// zero. Keys that Network does not model are dropped (topology ignores them
// too); values whose shape does not fit a field (possible only for keys
// topology ignores) leave the field empty.
func readTopologyFile(data []byte) (*Network, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, err
	}
	var body ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			body = d.Body
			break
		}
	}
	var n Network
	fill(body, reflect.ValueOf(&n).Elem())
	return &n, nil
}

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			return nil // topology rejects aliases; never reached after Parse
		default:
			return n
		}
	}
}

func pairsOf(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

// scalarText is the text of a scalar as topology reads it.
func scalarText(n ast.Node) (string, bool) {
	switch s := n.(type) {
	case *ast.StringNode:
		return s.Value, true
	case *ast.LiteralNode:
		if s.Value != nil {
			return s.Value.Value, true
		}
		return "", true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		if tk := n.GetToken(); tk != nil {
			return tk.Value, true
		}
		return "", true
	}
	return "", false
}

func keyText(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return k.String()
}

func fill(n ast.Node, v reflect.Value) {
	n = unwrap(n)
	if n == nil {
		return
	}
	if _, null := n.(*ast.NullNode); null {
		return
	}
	if v.Type() == rawMessageType {
		var b bytes.Buffer
		writeJSON(&b, n)
		v.SetBytes(b.Bytes())
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(n, p.Elem())
		v.Set(p)
	case reflect.Struct:
		pairs, ok := pairsOf(n)
		if !ok {
			return
		}
		for _, p := range pairs {
			if p == nil || p.Key == nil {
				continue
			}
			sf, ok := v.Type().FieldByName(keyText(p.Key))
			if !ok || !sf.IsExported() || len(sf.Index) != 1 {
				continue
			}
			fill(p.Value, v.Field(sf.Index[0]))
		}
	case reflect.Slice:
		s, ok := n.(*ast.SequenceNode)
		if !ok {
			return
		}
		out := reflect.MakeSlice(v.Type(), len(s.Values), len(s.Values))
		for i, e := range s.Values {
			fill(e, out.Index(i))
		}
		v.Set(out)
	case reflect.String:
		if t, ok := scalarText(n); ok {
			v.SetString(t)
		}
	case reflect.Int:
		if t, ok := scalarText(n); ok {
			if i, err := strconv.ParseInt(t, 10, 64); err == nil {
				v.SetInt(i)
			}
		}
	case reflect.Bool:
		if t, ok := scalarText(n); ok {
			v.SetBool(strings.EqualFold(t, "true"))
		}
	}
}

var jsonInt = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// writeJSON writes a YAML node as JSON for the sections kept as written.
// Integers and booleans stay numbers and booleans when their text is valid
// JSON; any other scalar becomes a string of its text, which topology
// reads the same way.
func writeJSON(b *bytes.Buffer, n ast.Node) {
	n = unwrap(n)
	if n == nil {
		b.WriteString("null")
		return
	}
	if pairs, ok := pairsOf(n); ok {
		b.WriteByte('{')
		first := true
		for _, p := range pairs {
			if p == nil || p.Key == nil {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			k, _ := json.Marshal(keyText(p.Key))
			b.Write(k)
			b.WriteByte(':')
			writeJSON(b, p.Value)
		}
		b.WriteByte('}')
		return
	}
	switch s := n.(type) {
	case *ast.NullNode:
		b.WriteString("null")
		return
	case *ast.SequenceNode:
		b.WriteByte('[')
		for i, e := range s.Values {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
		return
	case *ast.IntegerNode:
		if t, _ := scalarText(n); jsonInt.MatchString(t) {
			b.WriteString(t)
			return
		}
	case *ast.BoolNode:
		if t, _ := scalarText(n); t == "true" || t == "false" {
			b.WriteString(t)
			return
		}
	}
	t, ok := scalarText(n)
	if !ok {
		b.WriteString("null")
		return
	}
	q, _ := json.Marshal(t)
	b.Write(q)
}

// rawID reads the id key of a section kept as written.
func rawID(m json.RawMessage, key string) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(m, &obj) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(obj[key], &s) != nil {
		return ""
	}
	return s
}

// sectionIDs lists the ids of a section kept as written.
func sectionIDs(ms []json.RawMessage, key string) []string {
	var out []string
	for _, m := range ms {
		if id := rawID(m, key); id != "" {
			out = append(out, id)
		}
	}
	return out
}
