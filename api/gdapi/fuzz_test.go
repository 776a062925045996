package gdapi

import (
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bodies, paths and tokens to every decoder:
// none may panic, and what they accept keeps the API's bounds.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `{"maxResults":1,"nextToken":"b2Zmc2V0OjE"}`,
		`{"findingCriteria":{"criterion":{"type":{"eq":["UnauthorizedAccess:EC2/SSHBruteForce"]},"severity":{"gte":5,"lt":8}}}}`,
		`{"findingCriteria":{"criterion":{"service.archived":{"equals":["false"],"eq":["false"]}}}}`,
		`{"sortCriteria":{"attributeName":"updatedAt","orderBy":"DESC"}}`,
		`{"findingIds":["a","b","a"]}`, `{"findingIds":[]}`, `[1,2]`, `{"maxResults":1e400}`, `{"findingCriteria":null}`,
	} {
		f.Add([]byte(s), "/detector/abc/findings", "b2Zmc2V0OjE")
	}
	f.Fuzz(func(t *testing.T, body []byte, path, token string) {
		if req, err := decodeListFindings(body); err == nil {
			if req.max < 1 || req.max > maxResults || req.offset < 0 {
				t.Fatalf("accepted max %d offset %d", req.max, req.offset)
			}
			for _, c := range req.criteria {
				if c.eq == nil && c.neq == nil && c.lo == nil && c.hi == nil {
					t.Fatalf("accepted a criterion without a condition: %+v", c)
				}
				c.match(wireFinding{doc: map[string]any{"type": "x", "severity": 2.0}}.values(c.attribute))
			}
		} else if asAPIError(err).status != 400 {
			t.Fatalf("decode error %v is not a bad request", err)
		}
		if req, err := decodeGetFindings(body); err == nil {
			if len(req.ids) > maxIDs {
				t.Fatalf("accepted %d ids", len(req.ids))
			}
			for _, id := range req.ids {
				if id == "" || len(id) > maxIDLength {
					t.Fatalf("accepted id %q", id)
				}
			}
		}
		if ids, err := decodeFindingIDs(body); err == nil && len(ids) > maxIDs {
			t.Fatalf("accepted %d ids", len(ids))
		}
		if n, err := decodeToken(token); err == nil && n < 0 {
			t.Fatalf("token %q gave offset %d", token, n)
		}
		for _, m := range []string{"GET", "POST"} {
			if op, id := match(m, path); op != "" && strings.Contains(id, "/") {
				t.Fatalf("%s %q: %s with detector id %q", m, path, op, id)
			}
			Operation(m, path)
		}
	})
}
