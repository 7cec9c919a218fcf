#!/usr/bin/env python3
# check_devices.py LOCALAI SHARED_DIR - the device flags and listings of the `localai` CLI
# (issue 10): `devices` / `info --devices [--self-test]`, --backend and --device on run,
# logits and bench, with or without a Vulkan device on the machine.
import json
import os
import subprocess
import sys

localai, shared = sys.argv[1], os.environ.get("LOCALAI_SHARED_DIR", sys.argv[2])
model = os.path.join(shared, "models", "stories260K.gguf")
failures = []


def run(args, timeout=120):
    p = subprocess.run([localai] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


rc, out, err = run(["devices"])
check(rc == 0 and "[0] cpu" in out, "devices lists the CPU as device 0: %r" % out)
has_vulkan = "[1] vulkan" in out
rc2, out2, _ = run(["info", "--devices"])
check(rc2 == 0 and out2 == out, "info --devices prints what devices prints")
rc, out, err = run(["devices", "--self-test"])
check(rc == 0, "devices --self-test passes on this machine's devices (exit %d): %s" % (rc, out[-400:]))
if has_vulkan:
    check("self-test of device [1]: passed" in out and ("tier portable:" in out or "tier subgroup:" in out),
          "the self-test reports its tiers: %r" % out[-400:])
rc, _, err = run(["devices", "--bogus"])
check(rc == 2, "devices refuses an unknown flag")

# --backend and --device: bad values are refused before anything runs
for args in (["--backend", "gpu"], ["--device", "-1"], ["--device", "x"]):
    for cmd in ("run", "logits", "bench"):
        extra = ["-p", "Hi"] if cmd != "bench" else ["-p", "8", "-n", "2", "-r", "1"]
        rc, _, err = run([cmd, "-m", model] + extra + args)
        check(rc == 2 and err, "%s %s is refused with exit 2 (got %d)" % (cmd, " ".join(args), rc))

# every backend choice runs the model: on Vulkan when there is a device, else on the CPU
# with a warning that says why; the greedy text is the same
texts = {}
for backend in ("cpu", "vulkan", "auto"):
    rc, out, err = run(["run", "-m", model, "-p", "Once upon a time", "-n", "16", "--temp", "0",
                        "--backend", backend])
    check(rc == 0, "run --backend %s (exit %d): %s" % (backend, rc, err[-300:]))
    texts[backend] = out
    if backend == "vulkan" and not has_vulkan:
        check("running on the CPU" in err, "run --backend vulkan without a device says why: %r" % err)
check(len(set(texts.values())) == 1, "the same greedy text on every backend: %r" % texts)
rc, out, err = run(["bench", "-m", model, "-p", "16", "-n", "4", "-r", "1", "--backend", "vulkan", "--json"])
check(rc == 0, "bench --backend vulkan (exit %d): %s" % (rc, err[-300:]))
if rc == 0:
    d = json.loads(out)
    check(d["backend"] == ("vulkan" if has_vulkan else "cpu"), "bench reports the backend it ran: %r" % d["backend"])
    check(d["ttft_cold_ms"] > 0 and d["ttft_warm_ms"] > 0, "bench reports the time to first token")
if has_vulkan:
    rc, _, err = run(["run", "-m", model, "-p", "Hi", "-n", "1", "--backend", "vulkan", "--device", "99"])
    check(rc == 1 and "no device 99" in err, "a Vulkan device that is not there is an error: %r" % err)

print("check_devices: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
