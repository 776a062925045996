//go:build !linux

package logstore

import bolt "go.etcd.io/bbolt"

func adviseScan(*bolt.Tx) {}
