#!/usr/bin/env python3
"""Run a command and measure its whole process tree (Chromium forks many processes).

usage: treemon.py [-i SECS] [--pss SECS] [--csv FILE] [--json FILE] [--renders N]
                  [--tail SECS] [--grace SECS] [--kill-leaked] -- COMMAND [ARG...]

Every ~100 ms it walks /proc/*/stat ppid links from this process down and sums the
resident memory of every process in the tree: RSS (stat field 24, the same counter as
VmRSS in /proc/PID/status; shared pages such as Chromium's shared memory and libraries
are counted once per process, so the sum overstates real use) and, every --pss SECS,
the proportional set size from /proc/PID/smaps_rollup (shared pages split among
sharers: the sum is the tree's real footprint). Reading smaps_rollup of a Chromium
tree costs ~25% of a core at 10 Hz (RSS alone ~3%), hence its own, slower interval.

treemon makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so descendants
whose parent dies are re-parented to it rather than to init: the walk still finds
them, and it reaps them, so getrusage(RUSAGE_CHILDREN) at the end holds the CPU time
of every process of the tree that has exited. Processes of the tree still alive
`--grace` seconds after the command exits are reported as leaked (and killed with
--kill-leaked); their CPU time is taken from their last /proc sample.

The report (JSON, on stderr and in --json FILE):
  wall_s            command start to exit
  exit_code         the command's exit status (negative: killed by that signal)
  cpu_s             user+system CPU seconds of the whole tree (rusage + leaked samples)
  cpu_s_sampled     the same from /proc samples alone (misses processes < 1 interval)
  peak_rss_mb, mean_rss_mb, peak_procs   summed tree RSS (MB = 2^20 bytes)
  peak_pss_mb, mean_pss_mb               with --pss (over the Pss samples only)
  rss_slope_mb_per_min   least-squares slope of tree RSS over the second half of the
                         run, less its last --tail seconds (the tree's shutdown): a
                         soak shows no upward trend when this is ~0
  rss_slope_mb_per_100_renders   the same scaled by --renders N (assumes an even rate)
  peak_by_role      the peak RSS sample split by process role ({role: [processes, rss_mb]}:
                    Chromium's --type / --utility-sub-type, else the command's name)
  leaked            [{pid, comm, cmdline, rss_mb}] still alive after the grace period
  self_cpu_s        treemon's own CPU time (its sampling overhead)
  others_cores      mean cores that the rest of the machine used meanwhile (all CPU time
                    in /proc/stat less the tree's and treemon's, over wall_s): a loaded
                    machine (other builds) skews every figure, this says by how much
--csv FILE writes the series: t_s,procs,rss_mb[,pss_mb] (pss_mb empty between Pss samples).
"""
import argparse
import ctypes
import json
import os
import resource
import signal
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1 << 20
SELF = os.getpid()


def read_stat(pid):
    """(comm, ppid, cpu_ticks, starttime, rss_bytes, state) of pid, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode(errors="replace")
    except OSError:
        return None
    lp, rp = data.index("("), data.rindex(")")
    rest = data[rp + 2:].split()
    # rest[0] is field 3 (state): ppid 4, utime 14, stime 15, starttime 22, rss 24
    return (data[lp + 1:rp], int(rest[1]), int(rest[11]) + int(rest[12]),
            int(rest[19]), int(rest[21]) * PAGE, rest[0])


def read_pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree():
    """{pid: stat} of every live (non-zombie) descendant of this process."""
    stats, kids = {}, {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = read_stat(int(name))
            if st:
                stats[int(name)] = st
                kids.setdefault(st[1], []).append(int(name))
    out, todo = {}, list(kids.get(SELF, []))
    while todo:
        pid = todo.pop()
        if stats[pid][5] != "Z":
            out[pid] = stats[pid]
        todo.extend(kids.get(pid, []))
    return out


def slope_per_s(series):
    """Least-squares slope (y per second) of [(t, y)]."""
    n = len(series)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in series) / n
    my = sum(y for _, y in series) / n
    den = sum((t - mt) ** 2 for t, _ in series)
    return sum((t - mt) * (y - my) for t, y in series) / den if den else 0.0


def machine_busy_s():
    """CPU seconds all cores have spent busy since boot (/proc/stat, no idle/iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / TICK  # user..steal less idle, iowait


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:200]
    except OSError:
        return ""


def role(pid, comm):
    """What a process is: Chromium's --type (renderer, gpu-process, utility:NAME, ...),
    'browser' for Chromium's main process, else its command name."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode(errors="replace").replace("\0", " ").split()
    except OSError:
        return comm
    kv = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
    if "type" in kv:
        sub = kv.get("utility-sub-type", "").rsplit(".", 1)[-1]
        return kv["type"] + (":" + sub if sub else "")
    if "chrom" in comm or any("--user-data-dir" in a for a in args):
        return "browser"
    return comm


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("-i", "--interval", type=float, default=0.1)
    ap.add_argument("--pss", type=float, metavar="SECS", help="also sum Pss from smaps_rollup every SECS")
    ap.add_argument("--csv", help="write the time series here")
    ap.add_argument("--json", help="write the report here too")
    ap.add_argument("--renders", type=int, help="renders the command does (for the slope)")
    ap.add_argument("--grace", type=float, default=1.0,
                    help="seconds to let the tree wind down before reporting leaks")
    ap.add_argument("--tail", type=float, default=2.0,
                    help="seconds before the exit left out of the RSS slope (shutdown)")
    ap.add_argument("--kill-leaked", action="store_true")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no command")

    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    busy0, t0 = machine_busy_s(), time.monotonic()
    child = os.posix_spawnp(cmd[0], cmd, os.environ)
    status, t_exit, busy1 = None, None, None
    samples = []   # (t, procs, rss, pss or None)
    next_pss = 0.0
    cpu_last = {}  # (pid, starttime) -> cpu ticks at its last sample
    roles = {}     # (pid, starttime) -> role, read once per process
    peak = [0, {}]  # peak tree RSS and its split by role
    alive = {}

    def sample():
        nonlocal alive, next_pss
        alive = tree()
        t = time.monotonic() - t0
        rss = sum(st[4] for st in alive.values())
        pss = None
        if a.pss and t >= next_pss:
            pss, next_pss = sum(read_pss(pid) for pid in alive), t + a.pss
        for pid, st in alive.items():
            cpu_last[(pid, st[3])] = st[2]
            if (pid, st[3]) not in roles:
                roles[(pid, st[3])] = role(pid, st[0])
        if status is None and rss > peak[0]:
            split = {}
            for pid, st in alive.items():
                n, r = split.get(roles[(pid, st[3])], (0, 0))
                split[roles[(pid, st[3])]] = (n + 1, r + st[4])
            peak[:] = [rss, split]
        samples.append((t, len(alive), rss, pss))

    def reap():
        nonlocal status, t_exit, busy1
        while True:
            try:
                pid, st, _ = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == child:
                status, t_exit, busy1 = st, time.monotonic() - t0, machine_busy_s()

    signal.signal(signal.SIGINT, lambda *_: os.kill(child, signal.SIGINT))
    next_t = time.monotonic()
    while status is None:
        sample()
        reap()
        next_t += a.interval
        time.sleep(max(0.0, next_t - time.monotonic()))
    deadline = time.monotonic() + a.grace
    while True:  # let the rest of the tree exit by itself
        reap()
        sample()
        if not alive or time.monotonic() >= deadline:
            break
        time.sleep(min(a.interval, 0.05))
    leaked = [{"pid": pid, "comm": st[0], "cmdline": cmdline(pid), "rss_mb": round(st[4] / MB, 1)}
              for pid, st in sorted(alive.items())]
    leaked_ticks = sum(st[2] for st in alive.values())
    if a.kill_leaked:
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        reap()
        leaked_ticks = 0  # now reaped: in RUSAGE_CHILDREN
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    tree_cpu = ru.ru_utime + ru.ru_stime + leaked_ticks / TICK
    self_cpu = me.ru_utime + me.ru_stime

    during = [s for s in samples if s[0] <= t_exit] or samples
    end = t_exit - min(a.tail, t_exit / 4)
    half = [(t, rss / MB) for t, _, rss, _ in during if t_exit / 2 <= t <= end]
    slope = slope_per_s(half)
    rep = {
        "cmd": cmd,
        "wall_s": round(t_exit, 3),
        "exit_code": os.waitstatus_to_exitcode(status),
        "cpu_s": round(tree_cpu, 2),
        "cpu_s_sampled": round(sum(cpu_last.values()) / TICK, 2),
        "peak_rss_mb": round(max(s[2] for s in during) / MB, 1),
        "mean_rss_mb": round(sum(s[2] for s in during) / len(during) / MB, 1),
        "peak_procs": max(s[1] for s in during),
        "peak_by_role": {k: [n, round(r / MB, 1)]
                         for k, (n, r) in sorted(peak[1].items(), key=lambda kv: -kv[1][1])},
        "samples": len(during),
        "rss_slope_mb_per_min": round(slope * 60, 2),
        "leaked": leaked,
        "self_cpu_s": round(self_cpu, 2),
        "others_cores": round(max(0.0, busy1 - busy0 - tree_cpu - self_cpu) / t_exit, 2),
    }
    pss = [s[3] for s in during if s[3] is not None]
    if pss:
        rep["peak_pss_mb"] = round(max(pss) / MB, 1)
        rep["mean_pss_mb"] = round(sum(pss) / len(pss) / MB, 1)
    if a.renders:
        rep["renders"] = a.renders
        rep["rss_slope_mb_per_100_renders"] = round(slope * t_exit / a.renders * 100, 2)
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("t_s,procs,rss_mb" + (",pss_mb" if a.pss else "") + "\n")
            for t, n, rss, pss in samples:
                p = "" if pss is None else f"{pss / MB:.1f}"
                f.write(f"{t:.3f},{n},{rss / MB:.1f}" + (f",{p}" if a.pss else "") + "\n")
    out = json.dumps(rep, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(out + "\n")
    print("treemon: " + out, file=sys.stderr)
    sys.exit(0 if rep["exit_code"] == 0 else 1)


if __name__ == "__main__":
    main()
