package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// serverProc is an xDS server under test running in a child process of this program, so that
// its heap, RSS and CPU time are measured apart from the simulated proxies'. It is driven over
// the child's stdin and stdout, one command and one answer per line.
type serverProc struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	addr string
}

// startServerProc starts impl serving gateway(s) in a child process.
func startServerProc(impl string, s int, cpuProfile string) (*serverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program: %w", err)
	}
	cmd := exec.Command(exe, "-server", impl, "-services", strconv.Itoa(s), "-cpuprofile", cpuProfile)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the %s server: %w", impl, err)
	}
	p := &serverProc{cmd: cmd, in: in, out: bufio.NewReader(out)}
	addr, err := p.answer()
	if err != nil {
		p.stop()
		return nil, err
	}
	p.addr = addr
	return p, nil
}

// answer reads the child's next line.
func (p *serverProc) answer() (string, error) {
	line, err := p.out.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("server process: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// call sends one command and returns the answer's fields.
func (p *serverProc) call(format string, args ...any) ([]string, error) {
	if _, err := fmt.Fprintf(p.in, format+"\n", args...); err != nil {
		return nil, fmt.Errorf("server process: %w", err)
	}
	line, err := p.answer()
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(line, "error ") {
		return nil, fmt.Errorf("server process: %s", line)
	}
	return strings.Fields(line), nil
}

// change moves the first endpoint of cluster idx to port.
func (p *serverProc) change(idx int, port uint32) error {
	_, err := p.call("change %d %d", idx, port)
	return err
}

// memory is the child's settled heap and RSS, in bytes.
func (p *serverProc) memory() (heap, rss float64, err error) {
	f, err := p.call("mem")
	if err != nil || len(f) != 2 {
		return 0, 0, fmt.Errorf("mem: %v %w", f, err)
	}
	heap, _ = strconv.ParseFloat(f[0], 64)
	rss, _ = strconv.ParseFloat(f[1], 64)
	return heap, rss, nil
}

// cpu is the child's CPU time so far.
func (p *serverProc) cpu() (time.Duration, error) {
	f, err := p.call("cpu")
	if err != nil || len(f) != 1 {
		return 0, fmt.Errorf("cpu: %v %w", f, err)
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	return time.Duration(ns), err
}

// heapProfile makes the child write a heap profile to path.
func (p *serverProc) heapProfile(path string) error {
	_, err := p.call("heapprofile %s", path)
	return err
}

// startProfile and stopProfile make the child profile its CPU in between (when -cpuprofile
// does not already profile all of it).
func (p *serverProc) startProfile(path string) error {
	_, err := p.call("startprofile %s", path)
	return err
}

func (p *serverProc) stopProfile() error {
	_, err := p.call("stopprofile")
	return err
}

// stop ends the child.
func (p *serverProc) stop() {
	p.in.Close()
	_ = p.cmd.Wait()
}

// runServer is the child: it serves impl with s services and follows the commands on stdin.
func runServer(impl string, s int, cpuProfile string) error {
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	g := gateway(s)
	var t target
	var err error
	switch impl {
	case "rpcbridge":
		t, err = startRPCBridge(g)
	case "stock":
		t, err = startStock(g)
	default:
		err = fmt.Errorf("unknown impl %q", impl)
	}
	if err != nil {
		return err
	}
	defer t.stop()
	fmt.Println(t.addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "change" && len(f) == 3:
			idx, _ := strconv.Atoi(f[1])
			port, _ := strconv.Atoi(f[2])
			g.Clusters[idx].Endpoints[0].Port = uint32(port)
			if err := t.update(g); err != nil {
				fmt.Println("error", err)
				continue
			}
			fmt.Println("ok")
		case f[0] == "mem":
			heap, rss := settledMemory()
			fmt.Printf("%.0f %.0f\n", heap, rss)
		case f[0] == "cpu":
			fmt.Println(int64(cpuTime()))
		case f[0] == "startprofile" && len(f) == 2 && cpuProfile == "":
			pf, err := os.Create(f[1])
			if err == nil {
				err = pprof.StartCPUProfile(pf)
			}
			if err != nil {
				fmt.Println("error", err)
				continue
			}
			defer pf.Close()
			fmt.Println("ok")
		case f[0] == "stopprofile" && cpuProfile == "":
			pprof.StopCPUProfile()
			fmt.Println("ok")
		case f[0] == "heapprofile" && len(f) == 2:
			pf, err := os.Create(f[1])
			if err == nil {
				err = pprof.WriteHeapProfile(pf)
				pf.Close()
			}
			if err != nil {
				fmt.Println("error", err)
				continue
			}
			fmt.Println("ok")
		default:
			fmt.Println("error unknown command", in.Text())
		}
	}
	return in.Err()
}
