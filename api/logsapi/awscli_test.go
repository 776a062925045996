package logsapi_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// awsCLI is Debian's awscli 2; another aws may come first in PATH.
const awsCLI = "/usr/bin/aws"

// cli runs awscli against the rig's server. The test server does not
// check signatures (the front does), so any key pair serves.
func (g *rig) cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", g.srv.URL, "--region", region, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIAVPCFLOWTEST00001", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// cliJSON runs awscli, which must succeed, and decodes what it prints.
func (g *rig) cliJSON(t *testing.T, v any, args ...string) string {
	t.Helper()
	out, errOut, code := g.cli(t, args...)
	if code != 0 {
		t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("aws %s: %v in %q", strings.Join(args, " "), err, out)
		}
	}
	return out
}

func TestAWSCLI(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("awscli is not installed at " + awsCLI)
	}
	g := newRig(t, rigOpts{})
	if out := g.cliJSON(t, nil, "logs", "create-log-group", "--log-group-name", "/vpc/flows"); out != "" {
		t.Fatalf("create-log-group printed %q", out)
	}
	_, errOut, code := g.cli(t, "logs", "create-log-group", "--log-group-name", "/vpc/flows")
	if code == 0 || !strings.Contains(errOut, "An error occurred (ResourceAlreadyExistsException) when calling the CreateLogGroup operation: The specified log group already exists") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	g.cliJSON(t, nil, "logs", "create-log-stream", "--log-group-name", "/vpc/flows", "--log-stream-name", "eni-a")

	// The deprecated tag commands, in the shorthand the CLI reference shows.
	if out := g.cliJSON(t, nil, "logs", "tag-log-group", "--log-group-name", "/vpc/flows", "--tags", "Team=Network,Env=Prod"); out != "" {
		t.Fatalf("tag-log-group printed %q", out)
	}
	g.cliJSON(t, nil, "logs", "untag-log-group", "--log-group-name", "/vpc/flows", "--tags", "Env")
	if out := g.cliJSON(t, nil, "logs", "list-tags-log-group", "--log-group-name", "/vpc/flows"); out != "{\n    \"tags\": {\n        \"Team\": \"Network\"\n    }\n}\n" {
		t.Fatalf("list-tags-log-group printed %q", out)
	}
	_, errOut, code = g.cli(t, "logs", "list-tags-log-group", "--log-group-name", "/vpc/none")
	if code == 0 || !strings.Contains(errOut, "An error occurred (ResourceNotFoundException) when calling the ListTagsLogGroup operation: The specified log group does not exist.") {
		t.Fatalf("exit %d: %s", code, errOut)
	}

	recs := []string{
		flow("eni-a", "203.0.113.12", "10.0.0.5", 49152, 22, 6, "REJECT", ms(-10*time.Minute)),
		flow("eni-a", "10.0.0.5", "10.0.1.7", 40000, 443, 6, "ACCEPT", ms(-8*time.Minute)),
		flow("eni-a", "198.51.100.7", "10.0.0.5", 51000, 22, 6, "REJECT", ms(-2*time.Minute)),
		"from the future",
	}
	at := []int64{ms(-10 * time.Minute), ms(-8 * time.Minute), ms(-2 * time.Minute), ms(3 * time.Hour)}
	var evs []map[string]any
	for i := range recs {
		evs = append(evs, map[string]any{"timestamp": at[i], "message": recs[i]})
	}
	batch, _ := json.Marshal(evs)
	var put struct {
		NextSequenceToken     string         `json:"nextSequenceToken"`
		RejectedLogEventsInfo map[string]int `json:"rejectedLogEventsInfo"`
	}
	g.cliJSON(t, &put, "logs", "put-log-events", "--log-group-name", "/vpc/flows", "--log-stream-name", "eni-a", "--log-events", string(batch))
	if put.NextSequenceToken == "" || !reflect.DeepEqual(put.RejectedLogEventsInfo, map[string]int{"tooNewLogEventStartIndex": 3}) {
		t.Fatalf("%+v", put)
	}

	var filtered struct {
		Events []struct {
			LogStreamName string `json:"logStreamName"`
			Timestamp     int64  `json:"timestamp"`
			Message       string `json:"message"`
			IngestionTime int64  `json:"ingestionTime"`
			EventID       string `json:"eventId"`
		} `json:"events"`
		SearchedLogStreams []any `json:"searchedLogStreams"`
	}
	g.cliJSON(t, &filtered, "logs", "filter-log-events", "--log-group-name", "/vpc/flows", "--filter-pattern", "REJECT")
	if len(filtered.Events) != 2 || filtered.Events[0].Message != recs[0] || filtered.Events[1].Message != recs[2] ||
		filtered.Events[0].LogStreamName != "eni-a" || filtered.Events[0].Timestamp != at[0] || filtered.Events[0].IngestionTime != t0.UnixMilli() ||
		filtered.Events[0].EventID == "" || filtered.SearchedLogStreams == nil {
		t.Fatalf("%+v", filtered)
	}

	var started struct {
		QueryID string `json:"queryId"`
	}
	g.cliJSON(t, &started, "logs", "start-query", "--log-group-name", "/vpc/flows",
		"--start-time", strconv.FormatInt(t0.Add(-time.Hour).Unix(), 10), "--end-time", strconv.FormatInt(t0.Unix(), 10),
		"--query-string", `filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort srcAddr desc`)
	if started.QueryID == "" {
		t.Fatal("no queryId")
	}
	var out string
	deadline := time.Now().Add(30 * time.Second)
	for {
		out = g.cliJSON(t, nil, "logs", "get-query-results", "--query-id", started.QueryID)
		if strings.Contains(out, `"status": "Complete"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query not complete: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// awscli prints the statistics as the doubles they are.
	want := fmt.Sprintf(`{
    "results": [
        [
            {
                "field": "srcAddr",
                "value": "203.0.113.12"
            },
            {
                "field": "numRejections",
                "value": "1"
            }
        ],
        [
            {
                "field": "srcAddr",
                "value": "198.51.100.7"
            },
            {
                "field": "numRejections",
                "value": "1"
            }
        ]
    ],
    "statistics": {
        "recordsMatched": 2.0,
        "recordsScanned": 3.0,
        "bytesScanned": %d.0
    },
    "status": "Complete"
}
`, len(recs[0])+len(recs[1])+len(recs[2]))
	if out != want {
		t.Fatalf("get-query-results printed\n%s\nwant\n%s", out, want)
	}
}
