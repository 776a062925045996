package sigv4

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Profile is the section of the credentials file that holds the server's
// key pair, so that `aws --profile vpcflow` (with AWS_SHARED_CREDENTIALS_FILE
// pointing at the file) signs requests the server accepts.
const Profile = "vpcflow"

// Where LoadOrCreate found the key pair.
const (
	SourceEnvironment = "environment"
	SourceFile        = "file"
	SourceGenerated   = "generated"
)

// CredentialsFile is the path LoadOrCreate reads and writes in dataDir.
func CredentialsFile(dataDir string) string { return filepath.Join(dataDir, "credentials") }

// LoadOrCreate returns the key pair a server accepts: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY when both are set (getenv, usually os.Getenv), else
// the pair of profile [vpcflow] in CredentialsFile(dataDir), else a new pair
// written there. source is SourceEnvironment, SourceFile or SourceGenerated.
//
// The file is awscli's shared-credentials INI format, mode 0600, and appears
// whole or not at all. An existing file without a usable [vpcflow] pair is an
// error, not something to overwrite: it may hold a user's other profiles.
func LoadOrCreate(dataDir string, getenv func(string) string) (accessKeyID, secret, source string, err error) {
	if getenv != nil {
		id, sec := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
		if id != "" && sec != "" {
			return id, sec, SourceEnvironment, nil
		}
	}
	path := CredentialsFile(dataDir)
	id, sec, err := readCredentials(path)
	switch {
	case err == nil:
		return id, sec, SourceFile, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", "", err
	}

	id, sec, err = newKeyPair()
	if err != nil {
		return "", "", "", err
	}
	created, err := writeNew(path, credentialsINI(id, sec))
	if err != nil {
		return "", "", "", fmt.Errorf("writing credentials: %w", err)
	}
	if !created {
		// Another process wrote the file first; its pair is the one.
		id, sec, err = readCredentials(path)
		if err != nil {
			return "", "", "", err
		}
		return id, sec, SourceFile, nil
	}
	return id, sec, SourceGenerated, nil
}

func credentialsINI(id, secret string) []byte {
	return []byte("# Credentials that `vpcflow serve` accepts (SigV4). Use them with\n" +
		"#   AWS_SHARED_CREDENTIALS_FILE=<this file> aws --profile " + Profile + " --endpoint-url http://127.0.0.1:4566 ...\n" +
		"[" + Profile + "]\n" +
		"aws_access_key_id = " + id + "\n" +
		"aws_secret_access_key = " + secret + "\n")
}

// readCredentials reads profile [vpcflow] of an INI credentials file the way
// awscli does: sections in brackets, "key = value" lines, # and ; comments.
func readCredentials(path string) (id, secret string, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	var section string
	found := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && line[len(line)-1] == ']' {
			section = strings.TrimSpace(line[1 : len(line)-1])
			found = found || section == Profile
			continue
		}
		if section != Profile {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("%s: %w", path, err)
	}
	if !found {
		return "", "", fmt.Errorf("%s: no [%s] profile", path, Profile)
	}
	if id == "" || secret == "" {
		return "", "", fmt.Errorf("%s: profile [%s] lacks aws_access_key_id or aws_secret_access_key", path, Profile)
	}
	return id, secret, nil
}

// Alphabets of AWS-looking keys: access key ids are "AKIA" and 16 characters
// of base32's alphabet (A-Z, 2-7); secrets are 40 characters. A secret here
// uses letters and digits only, without AWS's + and /, so it can be pasted
// into a shell or a URL unquoted.
const (
	idAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func newKeyPair() (id, secret string, err error) {
	suffix, err := randomString(idAlphabet, 16)
	if err != nil {
		return "", "", err
	}
	secret, err = randomString(secretAlphabet, 40)
	if err != nil {
		return "", "", err
	}
	return "AKIA" + suffix, secret, nil
}

// randomString draws n characters uniformly from alphabet with crypto/rand,
// rejecting bytes past the last whole multiple of len(alphabet) so that no
// character is likelier than another.
func randomString(alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// writeNew writes data to path atomically, only if path does not exist:
// a temporary file in the same directory, fsynced, then linked into place
// (a rename that refuses to replace), then the directory fsynced so the new
// name survives a crash. It reports false when path already existed. Where
// the file system has no hard links it falls back to rename.
func writeNew(path string, data []byte) (bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, ".credentials-*")
	if err != nil {
		return false, err
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Link(name, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		if _, statErr := os.Lstat(path); statErr == nil {
			return false, nil
		}
		if err := os.Rename(name, path); err != nil {
			return false, err
		}
	}
	if d, err := os.Open(dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return true, err
		}
	}
	return true, nil
}
