package sigv4

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadOrCreateEnvironmentWins(t *testing.T) {
	dir := t.TempDir()
	// Even over an existing file.
	if err := os.WriteFile(CredentialsFile(dir), []byte("[vpcflow]\naws_access_key_id = AKIAFILE\naws_secret_access_key = filesecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	id, secret, source, err := LoadOrCreate(dir, env(map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret"}))
	if err != nil || id != "AKIAENV" || secret != "envsecret" || source != "environment" {
		t.Fatalf("got %q %q %q %v", id, secret, source, err)
	}
}

func TestLoadOrCreateGeneratesThenReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// Only one of the two variables: not a pair, so not used.
	id, secret, source, err := LoadOrCreate(dir, env(map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENV"}))
	if err != nil {
		t.Fatal(err)
	}
	if source != "generated" {
		t.Fatalf("source %q, want generated", source)
	}
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(id) {
		t.Fatalf("access key id %q does not look like AWS's", id)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9]{40}$`).MatchString(secret) {
		t.Fatalf("secret %q is not 40 letters and digits", secret)
	}
	path := filepath.Join(dir, "credentials")
	if CredentialsFile(dir) != path {
		t.Fatalf("CredentialsFile = %q", CredentialsFile(dir))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "[vpcflow]\naws_access_key_id = "+id+"\naws_secret_access_key = "+secret+"\n") {
		t.Fatalf("file:\n%s", data)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".credentials-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}

	id2, secret2, source2, err := LoadOrCreate(dir, env(nil))
	if err != nil || id2 != id || secret2 != secret || source2 != "file" {
		t.Fatalf("second call: %q %q %q %v", id2, secret2, source2, err)
	}

	// Another directory gets another pair.
	id3, _, _, err := LoadOrCreate(t.TempDir(), nil)
	if err != nil || id3 == id {
		t.Fatalf("another directory: %q, %v", id3, err)
	}
}

// Servers starting together on one data directory agree on one pair.
func TestLoadOrCreateConcurrent(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, _, _, err := LoadOrCreate(dir, nil)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("different pairs: %v", ids)
		}
	}
}

func TestLoadOrCreateReadsHandWrittenFile(t *testing.T) {
	dir := t.TempDir()
	ini := "; written by hand\n[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n\n[ vpcflow ]\n  aws_secret_access_key=s3cr3t/with+chars  \n# comment\naws_access_key_id= AKIAHAND\n"
	if err := os.WriteFile(CredentialsFile(dir), []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	id, secret, source, err := LoadOrCreate(dir, nil)
	if err != nil || id != "AKIAHAND" || secret != "s3cr3t/with+chars" || source != "file" {
		t.Fatalf("got %q %q %q %v", id, secret, source, err)
	}
}

// A credentials file without the [vpcflow] pair is the user's, and is left
// alone.
func TestLoadOrCreateRefusesForeignFile(t *testing.T) {
	for name, ini := range map[string]string{
		"other profile only": "[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n",
		"incomplete profile": "[vpcflow]\naws_access_key_id = AKIAHALF\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(CredentialsFile(dir), []byte(ini), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := LoadOrCreate(dir, nil); err == nil {
				t.Fatal("no error")
			}
			data, _ := os.ReadFile(CredentialsFile(dir))
			if string(data) != ini {
				t.Fatalf("the file changed:\n%s", data)
			}
		})
	}
}

// awscli reads the generated file as a shared-credentials file.
func TestLoadOrCreateFileReadByAwscli(t *testing.T) {
	needAwscli(t)
	dir := t.TempDir()
	id, secret, _, err := LoadOrCreate(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"aws_access_key_id": id, "aws_secret_access_key": secret} {
		stdout, stderr, err := awscli(t, []string{"AWS_SHARED_CREDENTIALS_FILE=" + CredentialsFile(dir)},
			"configure", "get", key, "--profile", "vpcflow")
		if err != nil {
			t.Fatalf("aws configure get %s: %v\n%s", key, err, stderr)
		}
		if got := strings.TrimSpace(stdout); got != want {
			t.Fatalf("awscli read %s = %q, want %q", key, got, want)
		}
	}
}

// The alphabets are used whole: every character turns up over many draws.
func TestRandomStringUsesWholeAlphabet(t *testing.T) {
	s, err := randomString(idAlphabet, 4096)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range idAlphabet {
		if !strings.ContainsRune(s, c) {
			t.Fatalf("%q never drawn", c)
		}
	}
	if strings.Trim(s, idAlphabet) != "" {
		t.Fatalf("drew outside the alphabet: %q", s)
	}
}
