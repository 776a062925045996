package logsvc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Identity is the AWS account and region a data dir answers for: they make
// every ARN (log groups, streams, alarms) and the account named in errors
// and in Insights' @log. They are configuration, chosen once: the data dir
// records them in identity.json on its first open, so ARNs never change
// under a client's feet.
type Identity struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

// IsZero reports whether neither member is set.
func (id Identity) IsZero() bool { return id == Identity{} }

func (id Identity) String() string {
	return fmt.Sprintf("account %s, region %s", id.Account, id.Region)
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2,}(-[a-z]+)+-[0-9]+$`)
)

// validate checks the members' syntax: AWS account ids are 12 digits,
// regions look like us-east-1 or us-gov-west-1.
func (id Identity) validate() error {
	if !accountRE.MatchString(id.Account) {
		return fmt.Errorf("account %q: want 12 digits", id.Account)
	}
	if !regionRE.MatchString(id.Region) {
		return fmt.Errorf("region %q: want a region name such as us-east-1", id.Region)
	}
	return nil
}

// identityFile holds the data dir's Identity as JSON.
const identityFile = "identity.json"

// readIdentity returns the identity recorded in dir, if any.
func readIdentity(dir string) (Identity, bool, error) {
	path := filepath.Join(dir, identityFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Identity{}, false, nil
	}
	if errors.Is(err, os.ErrPermission) {
		return Identity{}, false, fmt.Errorf("logsvc: data dir %s: %s is not readable by this user (an older vpcflow wrote it 0600): the data dir's owner makes it 0644 with any command that writes (vpcflow logs put), or with chmod 644 %s", dir, identityFile, path)
	}
	if err != nil {
		return Identity{}, false, fmt.Errorf("logsvc: %w", err)
	}
	var id Identity
	if err := json.Unmarshal(b, &id); err != nil {
		return Identity{}, false, fmt.Errorf("logsvc: %s: %w", path, err)
	}
	if err := id.validate(); err != nil {
		return Identity{}, false, fmt.Errorf("logsvc: %s: %w", path, err)
	}
	return id, true, nil
}

// writeIdentity records id in dir (mode 0644: readable by anyone who may
// read the data dir) so that a crash leaves either no file or
// the whole file: a temporary file, fsync'd, renamed into place, then the
// directory fsync'd so the rename itself survives.
func writeIdentity(dir string, id Identity) error {
	b, _ := json.MarshalIndent(id, "", "  ")
	b = append(b, '\n')
	f, err := os.CreateTemp(dir, identityFile+".tmp*")
	if err != nil {
		return fmt.Errorf("logsvc: record the data dir's identity: %w", err)
	}
	tmp := f.Name()
	// CreateTemp makes the file 0600; the account and region are not
	// secret, and another user reading the data dir needs them.
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, identityFile))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("logsvc: record the data dir's identity: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// shareIdentity makes an identity.json an older vpcflow wrote 0600
// readable (0644), so users who may read the data dir can open it; best
// effort, by a writer (the file's owner).
func shareIdentity(dir string) {
	path := filepath.Join(dir, identityFile)
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o044 != 0o044 {
		_ = os.Chmod(path, fi.Mode().Perm()|0o044)
	}
}

// resolveIdentity decides which identity an open uses: the explicit one,
// which must agree with what the data dir recorded; else the recorded
// one; else, for a data dir that has none yet, the caller's default.
func resolveIdentity(dir string, opts Options, stored Identity, have bool) (Identity, error) {
	switch {
	case !opts.Identity.IsZero():
		if err := opts.Identity.validate(); err != nil {
			return Identity{}, fmt.Errorf("logsvc: data dir %s: %w", dir, err)
		}
		if have && stored != opts.Identity {
			return Identity{}, &IdentityMismatchError{Dir: dir, Stored: stored, Requested: opts.Identity}
		}
		return opts.Identity, nil
	case have:
		return stored, nil
	case !opts.DefaultIdentity.IsZero():
		if err := opts.DefaultIdentity.validate(); err != nil {
			return Identity{}, fmt.Errorf("logsvc: data dir %s: default identity: %w", dir, err)
		}
		return opts.DefaultIdentity, nil
	}
	return Identity{}, fmt.Errorf("logsvc: data dir %s has no account and region yet: give them in Options.Identity", dir)
}

// IdentityMismatchError is Open's answer when the caller asks for an
// identity other than the one the data dir recorded: its ARNs would change.
type IdentityMismatchError struct {
	Dir               string
	Stored, Requested Identity
}

func (e *IdentityMismatchError) Error() string {
	return fmt.Sprintf("data dir %s belongs to account %s in region %s, not account %s in region %s: use another data dir, or the recorded account and region",
		e.Dir, e.Stored.Account, e.Stored.Region, e.Requested.Account, e.Requested.Region)
}
