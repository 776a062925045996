package topology

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

type tokenT = token.Token

// The decoder walks the goccy/go-yaml AST itself instead of using
// yaml.Unmarshal: that is what lets every error carry the dotted key path,
// lets AWS keys we do not need be accepted silently, and lets unknown keys
// get a "did you mean" hint. Struct fields map to the key of the same name
// (the EC2 describe-output spelling); a blank field tagged
// `aws:",ignore=A,B"` lists AWS keys accepted and ignored, and an int field
// tagged `aws:",line"` receives the line of the mapping.

type decoder struct {
	file  string
	errs  ErrorList
	lines map[string]int // key path -> line of its value, for later validation errors
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	if len(d.errs) == maxErrors {
		d.errs = append(d.errs, &Error{File: d.file, Line: line, Msg: tooMany})
	}
	if len(d.errs) > maxErrors {
		return
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func lineOf(n ast.Node) int {
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// parseDocument turns bytes into the body node of the single YAML/JSON
// document; syntax errors become positioned errors.
func (d *decoder) parseDocument(data []byte) ast.Node {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		line := 0
		msg := err.Error()
		var ye interface {
			GetMessage() string
			GetToken() *tokenT
		}
		if errors.As(err, &ye) {
			msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				line = tk.Position.Line
			}
		} else if i := strings.IndexByte(msg, '\n'); i > 0 {
			msg = msg[:i]
		}
		d.errorf(line, "", "syntax error: %s", msg)
		return nil
	}
	var body ast.Node
	n := 0
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		n++
		if n == 2 {
			d.errorf(lineOf(doc.Body), "", "a topology file holds one document; found a second one")
			return nil
		}
		body = doc.Body
	}
	if body == nil {
		d.errorf(0, "", "empty file: want a mapping with Vpcs, Subnets, NetworkInterfaces, ...")
	}
	return body
}

type fieldInfo struct {
	key   string
	index int
}

type structInfo struct {
	fields  map[string]fieldInfo
	ignored map[string]bool
	known   []string // for hints
	line    int      // index of the line field, -1 when none
}

var structCache sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if v, ok := structCache.Load(t); ok {
		return v.(*structInfo)
	}
	si := &structInfo{fields: map[string]fieldInfo{}, ignored: map[string]bool{}, line: -1}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("aws")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case strings.HasPrefix(opts, "ignore="):
			for _, k := range strings.Split(strings.TrimPrefix(opts, "ignore="), ",") {
				si.ignored[k] = true
				si.known = append(si.known, k)
			}
			continue
		case opts == "line":
			si.line = i
			continue
		case name == "-" || !f.IsExported():
			continue
		}
		if name == "" {
			name = f.Name
		}
		si.fields[name] = fieldInfo{key: name, index: i}
		si.known = append(si.known, name)
	}
	structCache.Store(t, si)
	return si
}

// unwrap strips anchors and tags, which carry no meaning for a topology.
func (d *decoder) unwrap(n ast.Node, path string) (ast.Node, bool) {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			d.errorf(lineOf(n), path, "YAML aliases (*name) are not supported; repeat the value")
			return nil, false
		default:
			return n, true
		}
	}
}

func kindName(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode:
		return "null"
	}
	return "a scalar"
}

// decode stores node n into v (addressable), reporting problems under path.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string) {
	n, ok := d.unwrap(n, path)
	if !ok {
		return
	}
	if n == nil {
		return
	}
	if path != "" {
		d.lines[path] = lineOf(n)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if _, isNull := n.(*ast.NullNode); isNull {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		switch s := n.(type) {
		case *ast.NullNode:
			return
		case *ast.SequenceNode:
			out := reflect.MakeSlice(v.Type(), len(s.Values), len(s.Values))
			for i, e := range s.Values {
				d.decode(e, out.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
			v.Set(out)
		default:
			d.errorf(lineOf(n), path, "want a list, got %s", kindName(n))
		}
	case reflect.String:
		s, ok := d.scalar(n, path, "a string")
		if ok {
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64:
		s, ok := d.scalar(n, path, "an integer")
		if !ok {
			return
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			d.errorf(lineOf(n), path, "want an integer, got %q", s)
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		s, ok := d.scalar(n, path, "true or false")
		if !ok {
			return
		}
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			d.errorf(lineOf(n), path, "want true or false, got %q", s)
		}
	default:
		panic("topology: unsupported field kind " + v.Kind().String())
	}
}

// scalar returns the text of a scalar node; numbers and booleans are
// accepted where strings are wanted because EC2 output mixes them (NACL
// Protocol is "6", users write 6).
func (d *decoder) scalar(n ast.Node, path, want string) (string, bool) {
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
	case *ast.NullNode:
		return "", true
	}
	d.errorf(lineOf(n), path, "want %s, got %s", want, kindName(n))
	return "", false
}

func keyText(k ast.MapKeyNode) string {
	switch v := k.(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.MergeKeyNode:
		return "<<"
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return k.String()
}

func (d *decoder) decodeStruct(n ast.Node, v reflect.Value, path string) {
	var pairs []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		pairs = m.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{m}
	case *ast.NullNode:
		return
	default:
		d.errorf(lineOf(n), path, "want a mapping, got %s", kindName(n))
		return
	}
	si := infoOf(v.Type())
	if si.line >= 0 {
		line := lineOf(n)
		if len(pairs) > 0 {
			line = lineOf(pairs[0].Key)
		}
		v.Field(si.line).SetInt(int64(line))
	}
	for _, p := range pairs {
		if p == nil || p.Key == nil {
			continue
		}
		key := keyText(p.Key)
		kpath := key
		if path != "" {
			kpath = path + "." + key
		}
		if key == "<<" {
			d.errorf(lineOf(p.Key), kpath, "YAML merge keys are not supported; repeat the keys")
			continue
		}
		f, ok := si.fields[key]
		if !ok {
			if si.ignored[key] {
				continue
			}
			if h := nearest(key, si.known); h != "" {
				d.errorf(lineOf(p.Key), kpath, "unknown key; did you mean %q?", h)
			} else {
				d.errorf(lineOf(p.Key), kpath, "unknown key")
			}
			continue
		}
		d.decode(p.Value, v.Field(f.index), kpath)
	}
}
