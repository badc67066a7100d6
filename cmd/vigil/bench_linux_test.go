package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBenchServerEndsWithBench kills a process that started a server as
// the bench does (vigilCommand) with SIGKILL, and waits for the server to
// end too.
func TestBenchServerEndsWithBench(t *testing.T) {
	switch os.Getenv("VIGIL_TEST_BENCH_ROLE") {
	case "server":
		select {} // stands for vigil serve: runs until killed
	case "bench":
		cmd := vigilCommand("-test.run=^TestBenchServerEndsWithBench$")
		cmd.Env = append(cmd.Env, "VIGIL_TEST_BENCH_ROLE=server")
		if err := cmd.Start(); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
		select {}
	}
	bench := exec.Command(os.Args[0], "-test.run=^TestBenchServerEndsWithBench$") //nolint:gosec // G204: this test's own binary
	bench.Env = append(os.Environ(), "VIGIL_TEST_BENCH_ROLE=bench")
	out, err := bench.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bench.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil {
		_ = bench.Process.Kill()
		t.Fatalf("the bench child printed %q (%v, %v); want its server's pid", line, err, perr)
	}
	if err := bench.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = bench.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	for running(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the server (pid %d) still runs 2 minutes after its bench was killed", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// running reports whether pid is a live process: not gone, and not a
// zombie no one has reaped yet.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}
