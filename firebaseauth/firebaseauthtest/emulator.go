package firebaseauthtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// EmulatorProjectID is the project the emulator of StartEmulator runs:
// a "demo-" project, which needs no Google account and no network.
const EmulatorProjectID = "demo-test"

// EmulatorStartTimeout bounds how long StartEmulator waits for the
// emulator: it usually takes 10 to 35 seconds on two busy cores.
const EmulatorStartTimeout = 90 * time.Second

// StartEmulator starts the Firebase Auth emulator of the module's
// node_modules (npm ci installs firebase-tools) on free ports, waits until
// it answers and returns its host:port; the emulator's whole process group
// is killed when the test ends. Without node_modules/.bin/firebase the test
// is skipped, or fails when CI=true; in -short mode it is skipped, as the
// emulator takes seconds to start.
//
// StartEmulator does not set FIREBASE_AUTH_EMULATOR_HOST: point the Admin
// SDK at the emulator with t.Setenv before making its client.
func StartEmulator(t testing.TB) (host string) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "node_modules", ".bin", "firebase")
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Firebase emulator is missing (%v): run `npm ci` in %s", err, root)
		}
		t.Skipf("the Firebase emulator is missing (%v): `npm ci` in %s installs it", err, root)
	}
	if testing.Short() {
		t.Skip("-short: the Firebase Auth emulator takes seconds to start")
	}

	dir := t.TempDir()
	ports, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	host = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	emulator := func(port int) map[string]any { return map[string]any{"host": "127.0.0.1", "port": port} }
	config, err := json.Marshal(map[string]any{"emulators": map[string]any{
		"auth":              emulator(ports[0]),
		"hub":               emulator(ports[1]),
		"logging":           emulator(ports[2]),
		"ui":                map[string]any{"enabled": false},
		"singleProjectMode": true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(dir, "firebase.json")
	if err := os.WriteFile(configFile, config, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "emulators:start", "--only", "auth", "--project", EmulatorProjectID, "--config", configFile)
	// The CLI writes firebase-debug.log to its working directory, its
	// settings under HOME, the hub's locator file to TMPDIR; it checks npm
	// for updates unless told not to.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+dir,
		"XDG_CONFIG_HOME="+filepath.Join(dir, ".config"),
		"TMPDIR="+dir,
		"NO_UPDATE_NOTIFIER=1",
	)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		killProcessGroup(cmd)
		<-exited
	})

	deadline := time.After(EmulatorStartTimeout)
	for {
		if emulatorReady(host) {
			t.Logf("Firebase Auth emulator ready on %s after %v", host, time.Since(start).Round(100*time.Millisecond))
			return host
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("the Firebase Auth emulator exited (%v) before it was ready; its output:\n%s", err, out)
		case <-deadline:
			t.Fatalf("the Firebase Auth emulator was not ready on %s after %v; its output:\n%s", host, EmulatorStartTimeout, out)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// emulatorReady says whether the emulator at host answers.
func emulatorReady(host string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Account is a user signed in through the emulator's REST API.
type Account struct {
	UID     string
	IDToken string
}

// SignUp creates a user with email and password in the emulator at host
// and returns it signed in, as a client app's sign-up does.
func SignUp(t testing.TB, host, email, password string) Account {
	t.Helper()
	return emulatorSignIn(t, host, "accounts:signUp", email, password)
}

// SignIn signs the user with email and password in again: a new ID token.
func SignIn(t testing.TB, host, email, password string) Account {
	t.Helper()
	return emulatorSignIn(t, host, "accounts:signInWithPassword", email, password)
}

func emulatorSignIn(t testing.TB, host, method, email, password string) Account {
	t.Helper()
	body, err := json.Marshal(map[string]any{"email": email, "password": password, "returnSecureToken": true})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + host + "/identitytoolkit.googleapis.com/v1/" + method + "?key=fake-api-key"
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		LocalID string `json:"localId"`
		IDToken string `json:"idToken"`
		Error   *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("%s: %s: %v", method, resp.Status, err)
	}
	if resp.StatusCode != http.StatusOK || got.Error != nil || got.IDToken == "" {
		msg := resp.Status
		if got.Error != nil {
			msg += ": " + got.Error.Message
		}
		t.Fatalf("%s %s: %s", method, email, msg)
	}
	return Account{UID: got.LocalID, IDToken: got.IDToken}
}

// moduleRoot walks up from the working directory (the package's, in a
// test) to the directory with go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("firebaseauthtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// freePorts returns n ports free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close() // held until all are chosen, so they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
