package objsink

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// readSpooled never panics on a damaged file, and reads back the key and
// bytes of a file written as spool writes them.
func FuzzReadSpooled(f *testing.F) {
	f.Add("AWSLogs/a.log.gz", []byte("data"), []byte(spoolMagic+`"k"`+"\nbody"))
	f.Add("k\n\"x", []byte{}, []byte("vpcflow-spool 1\n\"unterminated"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, key string, body, raw []byte) {
		p := filepath.Join(dir, "x.obj")
		os.WriteFile(p, raw, 0o644)
		if _, fh, _, err := readSpooled(p); err == nil {
			fh.Close()
		}
		if len(strconv.Quote(key)) > 6*1024 {
			return
		}
		os.WriteFile(p, append([]byte(spoolMagic+strconv.Quote(key)+"\n"), body...), 0o644)
		k, fh, r, err := readSpooled(p)
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		defer fh.Close()
		got, _ := io.ReadAll(r)
		if k != key || string(got) != string(body) {
			t.Fatalf("key %q body %q read back as %q %q", key, body, k, got)
		}
	})
}
