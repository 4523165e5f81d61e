package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// profiler saves sessiond's pprof profiles (sessiond serves net/http/pprof on loopback when
// SESSIOND_PPROF is set) next to the scenario that produced them. A nil *profiler does nothing.
type profiler struct {
	addr, dir, name string
	wg              sync.WaitGroup
}

func (b *bench) newProfiler(s *side, name string) *profiler {
	if s.pprof == "" || b.cfg.profileDir == "" {
		return nil
	}
	if err := os.MkdirAll(b.cfg.profileDir, 0o755); err != nil {
		progress("profile: %v", err)
		return nil
	}
	return &profiler{addr: s.pprof, dir: b.cfg.profileDir, name: name}
}

// startCPU collects a CPU profile of the next d (rounded up to whole seconds) in the background.
func (p *profiler) startCPU(d time.Duration) {
	if p == nil {
		return
	}
	secs := int((d + time.Second - 1) / time.Second)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.fetch(fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), p.name+".cpu.pprof", d+30*time.Second)
	}()
}

// heap saves a heap profile now.
func (p *profiler) heap() {
	if p == nil {
		return
	}
	p.fetch("/debug/pprof/heap?gc=1", p.name+".heap.pprof", 30*time.Second)
}

// finish waits for a CPU profile in flight and saves a heap profile.
func (p *profiler) finish() {
	if p == nil {
		return
	}
	p.wg.Wait()
	p.heap()
}

func (p *profiler) fetch(path, file string, timeout time.Duration) {
	client := http.Client{Timeout: timeout}
	resp, err := client.Get("http://" + p.addr + path)
	if err != nil {
		progress("profile %s: %v", file, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		progress("profile %s: %s", file, resp.Status)
		return
	}
	out := filepath.Join(p.dir, file)
	f, err := os.Create(out)
	if err != nil {
		progress("profile %s: %v", file, err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, io.LimitReader(resp.Body, 256<<20)); err != nil {
		progress("profile %s: %v", file, err)
		return
	}
	progress("profile saved: %s", out)
}
