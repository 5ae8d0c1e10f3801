#!/usr/bin/env python3
"""kill -9 during saves: the target is always the old or the new index, and
the next save or load of it removes the temporary files the killed saves left.

    python3 Tests/KillSave/kill_save.py --cli EDGEVEC --dist DIST --work DIR
                                        [--iterations 30] [--budget 60] [--seed S]

Standard library only. Two parts, each `--iterations` kills:

* native: `edgevec build --flat` of a ~16 MB index over the target, killed
  either at a random moment of the whole run or at a random moment after its
  temporary file appeared (so most kills land inside the save);
* Node: a process that saves two indexes alternately with `saveFile` in a
  loop (Tests/KillSave/node_child.mjs), killed at a random moment.

After every kill the target must be byte-identical to one of the two known
index files (the one it held before or the one being written), and every
temporary file of it must be named `<target>.tmp-<pid>-<hex>` with the pid of
a killed child. Then, for each part, a kill that leaves a temporary file is
followed by a load of the target (`edgevec info`, `EdgeVec.loadFile`) and
another by a successful save: after each, no temporary file of the target
may remain (except one whose pid a live process has taken since: the scheme
keeps those, and this is reported). Iterations stop early when `--budget`
seconds have passed; the final checks always run.

The data is scripts/gen_fvecs.py output, tiled to make the native save long
enough to be killed in the middle.
"""
import argparse
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = "index.evx"
TEMP = re.compile(r"^" + re.escape(TARGET) + r"\.tmp-([0-9]{1,10})-[0-9a-f]{8,16}$")


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class KillSave:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = os.path.abspath(args.work)
        self.data = os.path.join(self.work, "data")
        self.dir = os.path.join(self.work, "target")
        self.target = os.path.join(self.dir, TARGET)
        self.cli = os.path.abspath(args.cli)
        self.dist = os.path.abspath(args.dist)
        self.child = os.path.join(ROOT, "Tests", "KillSave", "node_child.mjs")
        self.killed = set()      # pids of every child killed
        self.start = time.monotonic()
        self.notes = []

    # -- helpers -------------------------------------------------------------

    def run(self, argv, **kwargs):
        result = subprocess.run(argv, cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
        if result.returncode != 0:
            raise Failure("%s failed (%d):\n%s%s" % (" ".join(argv), result.returncode,
                                                     result.stdout.decode(errors="replace"),
                                                     result.stderr.decode(errors="replace")))
        return result.stdout.decode()

    def temporaries(self):
        """Entries of the target's directory that look like its temporary files."""
        return sorted(n for n in os.listdir(self.dir) if n.startswith(TARGET + ".tmp"))

    def check_temporaries(self, context):
        """Every temporary file follows the scheme and belongs to a killed child. Returns their pids."""
        pids = []
        for name in self.temporaries():
            match = TEMP.match(name)
            check(match, "%s: %s does not follow <target>.tmp-<pid>-<hex>" % (context, name))
            pid = int(match.group(1))
            check(pid in self.killed, "%s: %s belongs to pid %d, not a killed child" % (context, name, pid))
            pids.append(pid)
        return pids

    def check_clean(self, context):
        """After a save or load: no temporary file of the target, unless its pid was reused."""
        for name in self.temporaries():
            match = TEMP.match(name)
            pid = int(match.group(1)) if match else -1
            if match and pid in self.killed and alive(pid):
                self.notes.append("%s: %s kept, pid %d was reused by a live process" % (context, name, pid))
                continue
            raise Failure("%s: %s remains after the next save/load" % (context, name))

    def read_target(self):
        with open(self.target, "rb") as f:
            return f.read()

    def over_budget(self):
        return time.monotonic() - self.start > self.args.budget

    # -- setup ---------------------------------------------------------------

    def setup(self):
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.data)
        os.makedirs(self.dir)
        sets = {}
        for name, seed, base, tiles in (("a", 1, 2000, 16), ("b", 2, 1900, 16)):
            out = os.path.join(self.data, name)
            subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_fvecs.py"), "--out", out,
                            "--base", str(base), "--queries", "1", "--dim", "128", "--seed", str(seed)],
                           check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(out, "base.fvecs"), "rb") as f:
                chunk = f.read()
            big = os.path.join(self.data, name + "-big.fvecs")
            with open(big, "wb") as f:
                for _ in range(tiles):
                    f.write(chunk)
            sets[name] = (os.path.join(out, "base.fvecs"), big)
        # The known versions: native flat indexes (~16 MB), and small HNSW indexes for Node.
        self.flat = {}
        self.hnsw = {}
        for name, (small, big) in sets.items():
            path = os.path.join(self.data, "flat-%s.evx" % name)
            self.run([self.cli, "build", "--input", big, "--output", path, "--flat", "--quiet"])
            with open(path, "rb") as f:
                self.flat[name] = f.read()
            path = os.path.join(self.data, "hnsw-%s.evx" % name)
            self.run([self.cli, "build", "--input", small, "--output", path, "--m", "8",
                      "--ef-construction", "40", "--quiet"])
            self.hnsw[name] = path
        self.inputs = {name: big for name, (_, big) in sets.items()}
        check(self.flat["a"] != self.flat["b"], "the two native versions are identical")

    # -- native --------------------------------------------------------------

    def native_start(self, version):
        argv = [self.cli, "build", "--input", self.inputs[version], "--output", TARGET, "--flat", "--quiet"]
        return subprocess.Popen(argv, cwd=self.dir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_for_temporary(self, process, timeout=30):
        """Polls until `process`'s temporary file exists (True) or it exits (False)."""
        prefix = "%s.tmp-%d-" % (TARGET, process.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(n.startswith(prefix) for n in os.listdir(self.dir)):
                return True
            if process.poll() is not None:
                return False
            time.sleep(0.0005)
        raise Failure("pid %d: no temporary file after %d s" % (process.pid, timeout))

    def kill(self, process):
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        code = process.wait()
        if code == -signal.SIGKILL:
            self.killed.add(process.pid)
            return True
        if code != 0:
            raise Failure("pid %d exited with %d before the kill:\n%s"
                          % (process.pid, code, process.stderr.read().decode(errors="replace")))
        return False

    def native_kill(self, state, mode, window):
        """One killed `edgevec build`; returns the version the target holds afterwards."""
        version = "b" if state == "a" else "a"
        process = self.native_start(version)
        if mode == "in-save":
            if self.wait_for_temporary(process):
                time.sleep(self.rng.uniform(0, window))
        else:
            time.sleep(self.rng.uniform(0, window))
        self.kill(process)
        process.stderr.close()
        now = self.read_target()
        check(now in (self.flat[state], self.flat[version]),
              "native, pid %d: the target is neither the old nor the new index (%d bytes)" % (process.pid, len(now)))
        self.check_temporaries("native, pid %d" % process.pid)
        return version if now == self.flat[version] else state

    def native_debris(self, state):
        """Kills saves right after their temporary file appears until one is left behind."""
        for _ in range(20):
            state = self.native_kill(state, "in-save", 0)
            if self.temporaries():
                return state
        raise Failure("native: 20 kills right after the temporary file appeared left none behind")

    def native(self):
        shutil.copyfile(os.path.join(self.data, "flat-a.evx"), self.target)
        state = "a"
        # Calibration: one whole run, and how long its temporary file lives.
        begin = time.monotonic()
        process = self.native_start("b")
        seen = self.wait_for_temporary(process)
        appeared = time.monotonic()
        while seen and self.temporaries() and process.poll() is None:
            time.sleep(0.0005)
        renamed = time.monotonic()
        check(process.wait() == 0, "native: calibration run failed: %s" % process.stderr.read().decode())
        process.stderr.close()
        end = time.monotonic()
        check(self.read_target() == self.flat["b"], "native: the calibration run did not write version b")
        check(not self.temporaries(), "native: the calibration run left %s" % self.temporaries())
        state = "b"
        total, in_save = end - begin, max(renamed - appeared if seen else 0.01, 0.002)
        print("native: a run takes %.0f ms, its temporary file lives %.0f ms" % (total * 1e3, in_save * 1e3))

        counts = {"iterations": 0, "debris": 0, "new": 0}
        for i in range(self.args.iterations):
            if self.over_budget():
                self.notes.append("native: stopped after %d iterations (budget)" % i)
                break
            before = state
            mode = "in-save" if i % 3 else "anytime"
            state = self.native_kill(state, mode, in_save * 1.2 if mode == "in-save" else total * 1.1)
            counts["iterations"] += 1
            counts["new"] += state != before
            counts["debris"] += bool(self.temporaries())
        print("native: %(iterations)d kills, %(debris)d left a temporary file, %(new)d after the rename" % counts)
        check(counts["debris"] > 0 or counts["iterations"] < 3, "native: no kill landed inside a save")

        # A load removes the debris, then a save does.
        state = self.native_debris(state)
        left = self.temporaries()
        info = self.run([self.cli, "info", "--index", TARGET])
        check("count: " in info, "native: edgevec info printed %r" % info)
        self.check_clean("native, after edgevec info (%s)" % ", ".join(left))
        check(self.read_target() == self.flat[state], "native: edgevec info changed the target")
        state = self.native_debris(state)
        left = self.temporaries()
        version = "b" if state == "a" else "a"
        self.run([self.cli, "build", "--input", self.inputs[version], "--output", TARGET, "--flat", "--quiet"])
        self.check_clean("native, after a save (%s)" % ", ".join(left))
        check(self.read_target() == self.flat[version], "native: the final save did not write its index")

    # -- Node ----------------------------------------------------------------

    def node(self, *argv):
        return ["node", self.child, self.dist] + list(argv)

    def node_kill(self, delay):
        """One killed saveFile loop; checks the target."""
        process = subprocess.Popen(self.node("loop", self.hnsw["a"], self.hnsw["b"], TARGET), cwd=self.dir,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else b""
        if line != b"ready\n":
            process.kill()
            process.wait()
            raise Failure("node child: no ready line (%r):\n%s" % (line, process.stderr.read().decode(errors="replace")))
        time.sleep(delay)
        killed = self.kill(process)
        process.stdout.close()
        process.stderr.close()
        check(killed, "node child %d ended by itself" % process.pid)
        now = self.read_target()
        check(now in self.hnsw_bytes.values(),
              "node, pid %d: the target is neither of the two indexes (%d bytes)" % (process.pid, len(now)))
        self.check_temporaries("node, pid %d" % process.pid)

    def node_debris(self):
        for _ in range(20):
            self.node_kill(self.rng.uniform(0, self.node_window))
            if self.temporaries():
                return
        raise Failure("node: 20 kills left no temporary file behind")

    def node_part(self):
        self.hnsw_bytes = {}
        for name, path in self.hnsw.items():
            with open(path, "rb") as f:
                self.hnsw_bytes[name] = f.read()
        shutil.copyfile(self.hnsw["b"], self.target)
        mean = float(self.run(self.node("time", self.hnsw["a"], self.hnsw["b"], TARGET, "20")).strip())
        check(not self.temporaries(), "node: the timing run left %s" % self.temporaries())
        print("node: a saveFile of %d bytes takes %.1f ms" % (len(self.hnsw_bytes["a"]), mean))
        # Several saves per kill window, so the kill lands in every phase of one.
        self.node_window = max(mean, 1.0) * 1e-3 * 6
        counts = {"iterations": 0, "debris": 0}
        for i in range(self.args.iterations):
            if self.over_budget():
                self.notes.append("node: stopped after %d iterations (budget)" % i)
                break
            self.node_kill(self.rng.uniform(0, self.node_window))
            counts["iterations"] += 1
            counts["debris"] += bool(self.temporaries())
        print("node: %(iterations)d kills, %(debris)d left a temporary file" % counts)

        self.node_debris()
        left = self.temporaries()
        size = self.run(self.node("load", TARGET)).strip()
        check(size.isdigit(), "node: loadFile printed %r" % size)
        self.check_clean("node, after loadFile (%s)" % ", ".join(left))
        check(self.read_target() in self.hnsw_bytes.values(), "node: loadFile changed the target")
        self.node_debris()
        left = self.temporaries()
        self.run(self.node("save", self.hnsw["a"], TARGET))
        self.check_clean("node, after saveFile (%s)" % ", ".join(left))
        check(self.read_target() == self.hnsw_bytes["a"], "node: the final saveFile did not write its index")

    def main(self):
        self.setup()
        print("setup: %.1f s" % (time.monotonic() - self.start))
        self.native()
        self.node_part()
        for note in self.notes:
            print("note: " + note)
        print("kill-save: ok (%.1f s)" % (time.monotonic() - self.start))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True, help="the edgevec executable")
    parser.add_argument("--dist", required=True, help="the directory holding edgevec.mjs and its wasm")
    parser.add_argument("--work", required=True, help="scratch directory (recreated)")
    parser.add_argument("--iterations", type=int, default=30, help="kills per part")
    parser.add_argument("--budget", type=float, default=60, help="seconds after which iterations stop")
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill timings (default: random)")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    print("kill-save: seed %d" % args.seed)
    try:
        KillSave(args).main()
    except Failure as failure:
        print("FAIL: %s" % failure, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
