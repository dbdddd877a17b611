#!/usr/bin/env python3
"""Soak test: run the sensor for a long time under a mixed exec load.

The load is a steady stream of fork+exec of /bin/true with short bursts
at a higher rate. Every 50th exec has a 64 KiB argument list and every
1000th one past the 256 KiB capture limit. Once a second a marked
`unshare` exec runs, which the built-in rule must alert on. SIGHUP is
sent every few minutes when the sensor catches it; a sensor that does not
would die of it or ignore it.

Every minute the script samples the sensor's resident set size and open
descriptors. At the end it stops the sensor with SIGTERM and checks that:

- RSS and the descriptor count stayed flat after the warm-up;
- every marker produced an alert, or the loss counters in the sensor's
  totals line are at least as large as the number of missing markers;
- the totals add up (records received equals records the probe sent).

It writes a Markdown report to WORKDIR/report.md, prints it, and exits
with status 0 when every check passed, 1 when one failed and 2 when the
sensor could not be started. Run it as root.
"""

import argparse
import json
import os
import re
import shutil
import signal
import sys
import time

MARKER_PREFIX = "execwarden-soak-"
TRUE = "/bin/true"
UNSHARE = "/usr/bin/unshare"
# The probe captures the first 256 KiB of the argument area.
CAPTURE_LIMIT = 256 * 1024


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=".build/release/execwarden",
                        help="sensor executable (copied into WORKDIR first)")
    parser.add_argument("--seconds", type=int, default=3600,
                        help="duration of the load in seconds (default 3600)")
    parser.add_argument("--workdir", default=None,
                        help="directory for the sensor's output and the report "
                             "(default: a new /tmp/install-soak-* directory)")
    parser.add_argument("--rate", type=int, default=150,
                        help="steady execs per second outside bursts (default 150)")
    parser.add_argument("--burst-size", type=int, default=1500,
                        help="execs in each burst (default 1500)")
    parser.add_argument("--burst-every", type=int, default=120,
                        help="seconds between bursts (default 120)")
    parser.add_argument("--hup-every", type=int, default=180,
                        help="seconds between SIGHUPs, 0 for none (default 180)")
    parser.add_argument("--sample-every", type=int, default=60,
                        help="seconds between RSS and descriptor samples (default 60)")
    parser.add_argument("--warm-up", type=int, default=300,
                        help="seconds before the flatness checks start (default 300)")
    parser.add_argument("--max-rss-growth-kib", type=int, default=4096,
                        help="allowed RSS growth after the warm-up, in KiB (default 4096)")
    parser.add_argument("--sensor-arg", action="append", default=[],
                        help="extra argument for the sensor, repeatable")
    return parser.parse_args()


class Load:
    """Starts execs without blocking and reaps them, at most `limit` at a time."""

    def __init__(self, limit=64):
        self.limit = limit
        self.running = {}
        self.started = 0
        self.failed_to_start = 0
        self.nonzero_exits = 0
        self.markers_started = 0
        self.markers_failed = 0
        self.long_argv = 0
        self.over_limit_argv = 0
        self.devnull = os.open(os.devnull, os.O_RDWR)

    def spawn(self, path, argv, marker=False):
        while len(self.running) >= self.limit:
            self.reap(block=True)
        try:
            pid = os.posix_spawn(
                path, argv, {"PATH": "/usr/bin:/bin"},
                file_actions=[(os.POSIX_SPAWN_DUP2, self.devnull, 0),
                              (os.POSIX_SPAWN_DUP2, self.devnull, 1),
                              (os.POSIX_SPAWN_DUP2, self.devnull, 2)])
        except OSError:
            self.failed_to_start += 1
            if marker:
                self.markers_failed += 1
            return False
        self.running[pid] = marker
        self.started += 1
        return True

    def reap(self, block=False):
        for pid in list(self.running):
            flags = 0 if block else os.WNOHANG
            done, status = os.waitpid(pid, flags)
            if done == 0:
                continue
            marker = self.running.pop(pid)
            if os.waitstatus_to_exitcode(status) != 0:
                self.nonzero_exits += 1
                if marker:
                    self.markers_failed += 1
            if block:
                return

    def reap_all(self):
        while self.running:
            self.reap(block=True)

    def plain(self, sequence):
        """Starts /bin/true, every 50th with a long argv, every 1000th
        with one past the capture limit."""
        argv = [TRUE]
        if sequence % 1000 == 999:
            argv += ["x" * 4096] * (CAPTURE_LIMIT // 4096 + 8)
            self.over_limit_argv += 1
        elif sequence % 50 == 49:
            argv += ["y" * 1024] * 64
            self.long_argv += 1
        self.spawn(TRUE, argv)

    def marker(self, number):
        self.markers_started += 1
        self.spawn(UNSHARE, [UNSHARE, "--uts", TRUE, f"{MARKER_PREFIX}{number}"],
                   marker=True)


def read_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def handles_sighup(pid):
    """True when the sensor catches SIGHUP. An ignored SIGHUP, such as one
    inherited from nohup, reopens nothing, so it does not count."""
    status = read_status(pid)
    bit = 1 << (signal.SIGHUP - 1)
    return bool(int(status["SigCgt"], 16) & bit)


def sample(pid, started):
    status = read_status(pid)
    rss_kib = int(status["VmRSS"].split()[0])
    descriptors = len(os.listdir(f"/proc/{pid}/fd"))
    return (time.monotonic() - started, rss_kib, descriptors)


def wait_until_ready(sensor, stderr_path, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sensor.poll() is not None:
            return False
        with open(stderr_path, errors="replace") as stderr:
            if "watching execs" in stderr.read():
                return True
        time.sleep(0.2)
    return False


def run_load(args, sensor_pid, report):
    load = Load()
    started = time.monotonic()
    samples = [sample(sensor_pid, started)]
    hup_supported = args.hup_every > 0 and handles_sighup(sensor_pid)
    report["sighup"] = ("sent every %d s" % args.hup_every if hup_supported
                        else "not sent: the sensor does not catch SIGHUP"
                        if args.hup_every > 0 else "disabled")
    hups = 0
    sequence = 0
    markers = 0
    next_sample = args.sample_every
    next_burst = args.burst_every
    next_hup = args.hup_every
    bursts = 0
    tick = 0.1
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= args.seconds:
            break
        tick_start = time.monotonic()
        for _ in range(max(1, int(args.rate * tick))):
            load.plain(sequence)
            sequence += 1
        if int(elapsed) >= markers:
            load.marker(markers)
            markers += 1
        if elapsed >= next_burst:
            for _ in range(args.burst_size):
                load.plain(sequence)
                sequence += 1
            bursts += 1
            next_burst += args.burst_every
        if hup_supported and elapsed >= next_hup:
            os.kill(sensor_pid, signal.SIGHUP)
            hups += 1
            next_hup += args.hup_every
        if elapsed >= next_sample:
            samples.append(sample(sensor_pid, started))
            next_sample += args.sample_every
        load.reap()
        pause = tick - (time.monotonic() - tick_start)
        if pause > 0:
            time.sleep(pause)
    load.reap_all()
    samples.append(sample(sensor_pid, started))
    report.update(
        elapsed=time.monotonic() - started, execs=load.started, bursts=bursts,
        hups=hups, markers=load.markers_started, markers_failed=load.markers_failed,
        long_argv=load.long_argv, over_limit_argv=load.over_limit_argv,
        failed_to_start=load.failed_to_start, nonzero_exits=load.nonzero_exits,
        samples=samples)


def parse_totals(stderr_path):
    totals = None
    with open(stderr_path, errors="replace") as stderr:
        for line in stderr:
            if line.startswith("execwarden: totals:"):
                totals = dict((key, int(value)) for key, value in
                              re.findall(r"(\w+)=(\d+)", line))
    return totals


def alerted_markers(alerts_path):
    found = set()
    unreadable = 0
    with open(alerts_path, "rb") as alerts:
        for line in alerts:
            try:
                document = json.loads(line)
            except ValueError:
                unreadable += 1
                continue
            for argument in document.get("process", {}).get("args", []):
                if argument.startswith(MARKER_PREFIX):
                    found.add(int(argument[len(MARKER_PREFIX):]))
    return found, unreadable


def check_flat(report, args):
    later = [s for s in report["samples"] if s[0] >= args.warm_up]
    if len(later) < 2:
        return "not checked: fewer than two samples after the warm-up", True
    rss = [s[1] for s in later]
    descriptors = [s[2] for s in later]
    rss_growth = max(rss) - rss[0]
    # One descriptor of slack for a sample taken while a file is reopened.
    descriptors_flat = max(descriptors) - min(descriptors) <= 1
    rss_flat = rss_growth <= args.max_rss_growth_kib
    text = (f"RSS after warm-up {rss[0]} KiB, max {max(rss)} KiB, last {rss[-1]} KiB "
            f"(growth {rss_growth} KiB, limit {args.max_rss_growth_kib}); "
            f"descriptors {min(descriptors)}..{max(descriptors)}")
    return text, rss_flat and descriptors_flat


def write_report(report, args, workdir):
    lines = ["# execwarden soak report", ""]
    lines.append(f"- started: {report['started']} UTC, load {report['elapsed']:.0f} s")
    lines.append(f"- sensor: `{' '.join(report['command'])}`")
    lines.append(f"- load: {report['execs']} execs ({args.rate}/s steady, "
                 f"{report['bursts']} bursts of {args.burst_size}), "
                 f"{report['long_argv']} with 64 KiB argv, "
                 f"{report['over_limit_argv']} past the 256 KiB capture limit, "
                 f"{report['failed_to_start']} failed to start, "
                 f"{report['nonzero_exits']} exited non-zero")
    lines.append(f"- SIGHUP: {report['sighup']} ({report['hups']} sent)")
    lines.append(f"- markers: {report['markers']} started, "
                 f"{report['markers_failed']} failed, "
                 f"{report['markers_alerted']} alerted, {report['markers_missing']} missing")
    lines.append(f"- totals: {report['totals_line']}")
    lines.append(f"- sensor exit status: {report['exit_status']}")
    lines.append("")
    lines.append("| minute | RSS KiB | descriptors |")
    lines.append("|---:|---:|---:|")
    for seconds, rss, descriptors in report["samples"]:
        lines.append(f"| {seconds / 60:.1f} | {rss} | {descriptors} |")
    lines.append("")
    for name, passed, detail in report["checks"]:
        lines.append(f"- {'PASS' if passed else 'FAIL'} {name}: {detail}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(workdir, "report.md"), "w") as out:
        out.write(text)
    return text


def main():
    args = parse_arguments()
    if os.geteuid() != 0:
        print("soak: run as root: the sensor loads a BPF program", file=sys.stderr)
        return 2
    workdir = args.workdir or f"/tmp/install-soak-{time.strftime('%Y%m%d-%H%M%S')}"
    os.makedirs(workdir, exist_ok=True)
    binary = os.path.join(workdir, "execwarden")
    # A copy, so a rebuild during the run does not replace the binary.
    shutil.copy2(args.binary, binary)
    alerts_path = os.path.join(workdir, "alerts.ndjson")
    stderr_path = os.path.join(workdir, "sensor.stderr")
    command = [binary, "--stats-interval", "60"] + args.sensor_arg
    report = {"started": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
              "command": command}

    import subprocess
    with open(alerts_path, "wb") as alerts, open(stderr_path, "wb") as errors:
        sensor = subprocess.Popen(command, stdout=alerts, stderr=errors,
                                  stdin=subprocess.DEVNULL)
    if not wait_until_ready(sensor, stderr_path):
        sensor.kill()
        sensor.wait()
        print(f"soak: the sensor did not start; see {stderr_path}", file=sys.stderr)
        return 2
    print(f"soak: sensor pid {sensor.pid}, output in {workdir}", file=sys.stderr)

    try:
        run_load(args, sensor.pid, report)
    finally:
        # Let the last execs reach the ring before stopping.
        time.sleep(2)
        sensor.send_signal(signal.SIGTERM)
        report["exit_status"] = sensor.wait(timeout=120)

    totals = parse_totals(stderr_path)
    found, unreadable = alerted_markers(alerts_path)
    missing = [n for n in range(report["markers"]) if n not in found]
    report["markers_alerted"] = report["markers"] - len(missing)
    report["markers_missing"] = len(missing)
    report["totals_line"] = (" ".join(f"{k}={v}" for k, v in totals.items())
                             if totals else "missing")

    checks = []
    flat_text, flat = check_flat(report, args)
    checks.append(("RSS and descriptors flat", flat, flat_text))
    if totals is None:
        checks.append(("totals line printed", False, "no totals line on stderr"))
    else:
        # Every loss the sensor counts, whichever ring or stage: keys
        # starting with "lost_", and records it could not use or write.
        explained = (sum(value for key, value in totals.items() if key.startswith("lost_"))
                     + totals.get("invalid", 0) + totals.get("discarded", 0)
                     + totals.get("output_lost", 0))
        checks.append(("every marker alerted or its loss counted",
                       len(missing) <= explained,
                       f"{len(missing)} missing, {explained} counted as lost"
                       + (f"; first missing: {missing[:10]}" if missing else "")))
        checks.append(("records equal kernel_sent",
                       totals["records"] == totals["kernel_sent"],
                       f"records={totals['records']} kernel_sent={totals['kernel_sent']}"))
    checks.append(("every alert line is JSON", unreadable == 0,
                   f"{unreadable} unreadable lines"))
    checks.append(("sensor exited with status 0", report["exit_status"] == 0,
                   f"status {report['exit_status']}"))
    report["checks"] = checks

    print(write_report(report, args, workdir))
    return 0 if all(passed for _, passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
