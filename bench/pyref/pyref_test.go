package pyref

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Why nothing could run is said plainly, naming what is missing.
func TestMissingPiecesAreNamed(t *testing.T) {
	if _, err := Interpreter("/no/such/python3"); err == nil || !strings.Contains(err.Error(), "/no/such/python3") {
		t.Errorf("missing interpreter: %v", err)
	}
	if _, err := FindScript("/no/such/script.py"); err == nil || !strings.Contains(err.Error(), "/no/such/script.py") {
		t.Errorf("missing script: %v", err)
	}
}

// The protocol: the request reaches the script on stdin, its answer comes
// back parsed, and a crash or non-JSON output is an error naming the script.
func TestRunSpeaksTheProtocol(t *testing.T) {
	exe, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3 here")
	}
	dir := t.TempDir()
	echo := filepath.Join(dir, "echo.py")
	// Answers each task with its name and the suite's budget as its time.
	os.WriteFile(echo, []byte(`import json, sys
req = json.load(sys.stdin)
print(json.dumps({"python": "3", "numpy": "n", "results": [
    {"name": t["name"], "seconds": [req["timing"]["budget"]], "check": "ok", "result": {"kind": t["kind"]}}
    for t in req["tasks"]]}))
`), 0o644)
	resp, err := Run(context.Background(), exe, echo, Timing{Budget: 2.5}, []Task{{"name": "a/b", "kind": "eigh"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Name != "a/b" || resp.Results[0].Seconds[0] != 2.5 ||
		string(resp.Results[0].Result) != `{"kind": "eigh"}` || resp.NumPy != "n" {
		t.Fatalf("response %+v", resp)
	}
	bad := filepath.Join(dir, "bad.py")
	os.WriteFile(bad, []byte("print('not json')\n"), 0o644)
	if _, err := Run(context.Background(), exe, bad, Timing{}, nil); err == nil || !strings.Contains(err.Error(), "bad.py") {
		t.Errorf("non-JSON answer: %v", err)
	}
	crash := filepath.Join(dir, "crash.py")
	os.WriteFile(crash, []byte("raise SystemExit('broken on purpose')\n"), 0o644)
	if _, err := Run(context.Background(), exe, crash, Timing{}, nil); err == nil || !strings.Contains(err.Error(), "broken on purpose") {
		t.Errorf("crash: %v", err)
	}
}
