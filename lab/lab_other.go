//go:build !linux

package lab

import (
	"context"
	"errors"
	"io"
)

var errLinux = errors.New("lab: needs Linux (network namespaces, veth pairs, bridges, nftables)")

// Check says what this host lacks to build a lab: Linux.
func Check() error { return errLinux }

func (l *Lab) build(context.Context) error { return errLinux }

func (l *Lab) removeLocked() error { return nil }

func (l *Lab) reconcile(context.Context, *Plan, *Plan) (Change, error) { return Change{}, errLinux }

// Down removes every namespace of lab id (Linux only).
func Down(string, io.Writer) ([]string, error) { return nil, errLinux }

// Resolve returns the namespace of a target of a lab (Linux only).
func Resolve(string, string) (string, error) { return "", errLinux }

// Do runs fn inside a lab namespace (Linux only).
func Do(string, func() error) error { return errLinux }

// Link is an interface of a lab namespace.
type Link struct {
	Name, MAC, Alias, Master, State string
	Addrs                           []string
}

// NamespaceStatus is one namespace of a lab.
type NamespaceStatus struct {
	Name  string
	Links []Link
	Err   error
}

// LabStatus is what exists of one lab.
type LabStatus struct {
	ID         string
	Namespaces []NamespaceStatus
}

// Status lists every lab on this host (Linux only).
func Status() ([]LabStatus, error) { return nil, errLinux }
