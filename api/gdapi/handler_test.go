package gdapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/detect"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/region"
	"github.com/vpcflow/vpcflow/sim"
)

// The service under these tests plays the ssh-brute-force scenario of
// examples/scenarios.yaml for 15 minutes at full speed. docs/scenarios.md
// says what it does: 198.51.100.77 tries SSH on the bastion (10.0.0.5,
// eni-0b00000000000000b) and on a web server (10.0.0.10,
// eni-0a00000000000000a), so two SSHBruteForce findings, both with the
// instance as TARGET.
const (
	attacker   = "198.51.100.77"
	bastionENI = "eni-0b00000000000000b"
	webENI     = "eni-0a00000000000000a"
)

func openRegion(t *testing.T) *region.Region {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, region.BucketsDir, "scenario-flow-bucket"), 0o755); err != nil {
		t.Fatal(err)
	}
	var sc *sim.Scenario
	cfg := region.DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = dir, "../../examples/scenarios.yaml"
	cfg.Inputs = []pipeline.Input{{Name: "scenario", Open: func() (capture.Source, error) { return sc.Source(), nil }}}
	r, err := region.New(cfg, region.Dependencies{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	topo, _ := r.Topology()
	if sc, err = sim.NewScenario(sim.ScenarioConfig{Names: []string{"ssh-brute-force"}, Topology: topo, Seed: 1, Duration: 15 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); !r.DetectionStats().Settled; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the detection never settled")
		}
	}
	return r
}

type client struct {
	t *testing.T
	h *Handler
}

// do sends one request and decodes the JSON answer.
func (c client) do(method, path, body string) (int, http.Header, map[string]any) {
	c.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	c.h.Serve(rec, req, []byte(body), "req-1")
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		c.t.Fatalf("%s %s: answer %q is not JSON: %v", method, path, rec.Body, err)
	}
	return rec.Code, rec.Header(), doc
}

// badRequest checks a BadRequestException whose message holds want.
func (c client) badRequest(method, path, body, want string) {
	c.t.Helper()
	code, h, doc := c.do(method, path, body)
	if code != 400 || h.Get("X-Amzn-ErrorType") != "BadRequestException" || doc["__type"] != "InvalidInputException" ||
		!strings.Contains(fmt.Sprint(doc["message"]), want) {
		c.t.Errorf("%s %s %s: %d %v %v, want 400 BadRequestException (InvalidInputException) saying %q",
			method, path, body, code, h.Get("X-Amzn-ErrorType"), doc, want)
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestGuardDutyAPI(t *testing.T) {
	r := openRegion(t)
	c := client{t, New(r)}
	id := r.Identity()
	detector := detect.DetectorID(id.Account, id.Region)

	// ListDetectors: the one detector, 32 hex digits.
	code, _, doc := c.do("GET", "/detector", "")
	if ids := strs(doc["detectorIds"]); code != 200 || len(ids) != 1 || ids[0] != detector || len(detector) != 32 {
		t.Fatalf("ListDetectors: %d %v, want [%s]", code, doc, detector)
	}
	c.badRequest("GET", "/detector?maxResults=51", "", "maxResults")
	code, _, doc = c.do("GET", "/detector/"+detector, "")
	if code != 200 || doc["status"] != "ENABLED" || doc["serviceRole"] != "arn:aws:iam::"+id.Account+":role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty" {
		t.Errorf("GetDetector: %d %v", code, doc)
	}
	if _, err := time.Parse(timeMillis, fmt.Sprint(doc["createdAt"])); err != nil {
		t.Errorf("GetDetector createdAt: %v", err)
	}
	other := strings.Repeat("0", 32)
	c.badRequest("GET", "/detector/"+other, "", "not owned by the current account")
	c.badRequest("POST", "/detector/"+other+"/findings", "{}", "not owned by the current account")

	base := "/detector/" + detector + "/findings"
	// ListFindings by type: the two brute forces of the scenario.
	byType := `{"findingCriteria":{"criterion":{"type":{"eq":["UnauthorizedAccess:EC2/SSHBruteForce"]}}}}`
	code, _, doc = c.do("POST", base, byType)
	sshIDs := strs(doc["findingIds"])
	if code != 200 || len(sshIDs) != 2 || doc["nextToken"] != nil {
		t.Fatalf("ListFindings by type: %d %v, want two ids", code, doc)
	}
	code, _, doc = c.do("POST", base+"/get", `{"findingIds":["`+sshIDs[0]+`","`+sshIDs[1]+`","`+other+`","`+sshIDs[0]+`"]}`)
	findings := doc["findings"].([]any)
	if code != 200 || len(findings) != 2 {
		t.Fatalf("GetFindings: %d, %d findings, want the 2 known once each (the unknown id left out)", code, len(findings))
	}
	var enis []string
	for _, x := range findings {
		f := x.(map[string]any)
		svc := f["service"].(map[string]any)
		nca := svc["action"].(map[string]any)["networkConnectionAction"].(map[string]any)
		ni := f["resource"].(map[string]any)["instanceDetails"].(map[string]any)["networkInterfaces"].([]any)[0].(map[string]any)
		enis = append(enis, ni["networkInterfaceId"].(string))
		if f["type"] != detect.TypeSSHBruteForce || svc["resourceRole"] != "TARGET" || svc["detectorId"] != detector ||
			nca["remoteIpDetails"].(map[string]any)["ipAddressV4"] != attacker || nca["connectionDirection"] != "INBOUND" ||
			nca["localPortDetails"].(map[string]any)["port"] != 22.0 || svc["archived"] != false {
			t.Errorf("finding %v", f)
		}
		// 15 minutes of attempts: two 10-minute windows report it.
		if svc["count"] != 2.0 {
			t.Errorf("count %v, want 2", svc["count"])
		}
	}
	slices.Sort(enis)
	if !slices.Equal(enis, []string{webENI, bastionENI}) {
		t.Errorf("interfaces %v, want %s and %s", enis, bastionENI, webENI)
	}

	// Every finding, a page at a time.
	code, _, doc = c.do("POST", base, "")
	all := strs(doc["findingIds"])
	if code != 200 || len(all) < 2 {
		t.Fatalf("ListFindings: %d %v", code, doc)
	}
	var paged []string
	tok := ""
	for i := 0; ; i++ {
		body := `{"maxResults":1}`
		if tok != "" {
			body = `{"maxResults":1,"nextToken":"` + tok + `"}`
		}
		_, _, doc = c.do("POST", base, body)
		paged = append(paged, strs(doc["findingIds"])...)
		next, _ := doc["nextToken"].(string)
		if next == "" {
			break
		}
		if i > len(all) {
			t.Fatal("pages never end")
		}
		tok = next
	}
	if !slices.Equal(paged, all) {
		t.Errorf("pages of one %v, want %v", paged, all)
	}

	// Sorting and ranges: by severity, and gte 5 keeps only Medium and High
	// (the brute forces are Low, 2).
	_, _, doc = c.do("POST", base, `{"findingCriteria":{"criterion":{"severity":{"gte":5}}}}`)
	for _, fid := range strs(doc["findingIds"]) {
		if slices.Contains(sshIDs, fid) {
			t.Errorf("severity gte 5 listed brute force %s (severity 2)", fid)
		}
	}
	_, _, doc = c.do("POST", base, `{"sortCriteria":{"attributeName":"severity","orderBy":"DESC"}}`)
	sorted := strs(doc["findingIds"])
	_, _, gd := c.do("POST", base+"/get", `{"findingIds":["`+strings.Join(sorted, `","`)+`"]}`)
	sev := map[string]float64{}
	for _, x := range gd["findings"].([]any) {
		f := x.(map[string]any)
		sev[f["id"].(string)] = f["severity"].(float64)
	}
	for i := 1; i < len(sorted); i++ {
		if sev[sorted[i-1]] < sev[sorted[i]] {
			t.Errorf("DESC by severity: %v then %v", sev[sorted[i-1]], sev[sorted[i]])
		}
	}

	// Archive one: it leaves the current findings, stays in the list
	// without criteria (as GuardDuty: no criterion, every finding).
	current := `{"findingCriteria":{"criterion":{"service.archived":{"eq":["false"]},"type":{"eq":["UnauthorizedAccess:EC2/SSHBruteForce"]}}}}`
	if code, _, doc = c.do("POST", base+"/archive", `{"findingIds":["`+sshIDs[0]+`"]}`); code != 200 || len(doc) != 0 {
		t.Fatalf("ArchiveFindings: %d %v", code, doc)
	}
	if _, _, doc = c.do("POST", base, current); !slices.Equal(strs(doc["findingIds"]), sshIDs[1:]) {
		t.Errorf("current after archive: %v, want %v", doc["findingIds"], sshIDs[1:])
	}
	if _, _, doc = c.do("POST", base, byType); len(strs(doc["findingIds"])) != 2 {
		t.Errorf("without the archived criterion: %v, want both", doc["findingIds"])
	}
	c.badRequest("POST", base+"/archive", `{"findingIds":["`+other+`"]}`, other)
	if code, _, _ = c.do("POST", base+"/unarchive", `{"findingIds":["`+sshIDs[0]+`"]}`); code != 200 {
		t.Fatalf("UnarchiveFindings: %d", code)
	}
	if _, _, doc = c.do("POST", base, current); len(strs(doc["findingIds"])) != 2 {
		t.Errorf("current after unarchive: %v, want both", doc["findingIds"])
	}

	// Bad requests name what is wrong.
	c.badRequest("POST", base, `{"maxResults":0}`, "maxResults 0")
	c.badRequest("POST", base, `{"maxResults":"ten"}`, "member maxResults")
	c.badRequest("POST", base, `{"findingCriteria":{"criterion":{"colour":{"eq":["red"]}}}}`, `"colour"`)
	c.badRequest("POST", base, `{"findingCriteria":{"criterion":{"type":{}}}}`, "no condition")
	c.badRequest("POST", base, `{"findingCriteria":{"criterion":{"type":{"matches":["*SSH*"]}}}}`, "not supported")
	c.badRequest("POST", base, `{"nextToken":"xyz"}`, "nextToken")
	c.badRequest("POST", base, `{"sortCriteria":{"orderBy":"UP"}}`, "ASC or DESC")
	c.badRequest("POST", base, `{`, "not JSON")
	c.badRequest("POST", base+"/get", `{}`, "findingIds: required")
	c.badRequest("POST", base+"/get", `{"findingIds":["`+strings.Repeat(`a","`, 50)+`a"]}`, "at most 50")
	if code, h, _ := c.do("DELETE", base, ""); code != 404 || h.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Errorf("DELETE findings: %d %s", code, h.Get("X-Amzn-ErrorType"))
	}
}
