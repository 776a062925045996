package iam

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

// Writers and readers at once, under -race: every call sees a whole state,
// one of two CreateRole calls of the same name wins, and the file holds
// what the store holds.
func TestConcurrentUse(t *testing.T) {
	s, path := openTest(t)
	stable := roleWith(t, s, "stable", flowLogsTrust, flowLogsPermissions)

	const workers, perWorker = 4, 6
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readerErr atomic.Value
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				// The stable role never changes: readers must always see it
				// whole, whatever the writers do.
				if !s.CanAssume(stable, flowLogs) || !s.Allowed(stable, "logs:PutLogEvents", stream) {
					readerErr.Store("stable role seen without its policies")
				}
				roles, _, _, err := s.ListRoles("", "", 1000)
				if err != nil || len(roles) == 0 {
					readerErr.Store(fmt.Sprint("ListRoles: ", err))
				}
				for _, r := range roles[:min(len(roles), 4)] {
					s.Allowed(r.Arn, "logs:CreateLogStream", stream)
					s.ListRolePolicies(r.RoleName, "", 0)
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for w := range workers {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range perWorker {
				name := fmt.Sprintf("w%d-%d", w, i)
				if _, err := s.CreateRole(CreateRoleInput{RoleName: name, AssumeRolePolicyDocument: flowLogsTrust}); err != nil {
					t.Error(err)
					return
				}
				if err := s.PutRolePolicy(name, "logs", flowLogsPermissions); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 { // delete every third role again
					if err := s.DeleteRolePolicy(name, "logs"); err != nil {
						t.Error(err)
					}
					if err := s.DeleteRole(name); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	// Racing creators of one name: exactly one wins.
	var wins atomic.Int32
	for range 8 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			_, err := s.CreateRole(CreateRoleInput{RoleName: "contested", AssumeRolePolicyDocument: flowLogsTrust})
			var e *Error
			switch {
			case err == nil:
				wins.Add(1)
			case errors.As(err, &e) && e.Code == CodeEntityAlreadyExists:
			default:
				t.Error(err)
			}
		}()
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	if msg := readerErr.Load(); msg != nil {
		t.Fatal(msg)
	}
	if wins.Load() != 1 {
		t.Fatalf("%d CreateRole calls of one name succeeded", wins.Load())
	}
	roles, _, _, err := s.ListRoles("", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := 2 + workers*(perWorker-(perWorker+2)/3) // stable, contested, and two of every three
	if len(roles) != want {
		t.Fatalf("%d roles, want %d", len(roles), want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := decodeFile(data, testAccount)
	if err != nil || len(onDisk) != want {
		t.Fatalf("file: %d roles, %v", len(onDisk), err)
	}
	for _, r := range roles {
		e := onDisk[r.RoleName]
		if e == nil || e.role.RoleId != r.RoleId {
			t.Fatalf("role %s differs on disk", r.RoleName)
		}
	}
}
