#!/usr/bin/env python3
# check_cli_limits.py LOCALAI SHARED_DIR CASE - the `localai` CLI under hostile input (issue 8):
# CASE "files": -f refuses devices, directories and unreadable or oversized files, with a
# bounded memory; "context": prompts longer than the context are refused before decoding
# and a full context is a failure; "flags": numeric flags name the library's range.
# Exit 77 while the model cannot be run yet.
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

localai, shared, case = sys.argv[1], os.environ.get("LOCALAI_SHARED_DIR", sys.argv[2]), sys.argv[3]
model = os.path.join(shared, "models", "stories260K.gguf")
failures = []

# 2 GiB of address space at most, so the old unbounded reads could not take the machine.
AS_LIMIT = 2 << 30


def limit_child():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def run(args, stdin=subprocess.DEVNULL, timeout=20):
    """Runs localai ARGS; returns (rc, stdout, stderr, seconds, peak RSS in MiB)."""
    t0 = time.monotonic()
    p = subprocess.Popen([localai] + args, stdin=stdin, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=limit_child)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out.decode(errors="replace"), err.decode(errors="replace"), timeout, 0.0
    dt = time.monotonic() - t0
    # Peak RSS of the children waited for so far: each check runs one child at a time, and
    # ru_maxrss is the largest of them, so a small value bounds this one.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), dt, rss


def check(name, cond, detail):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures.append(name)


def expect(name, args, rc, err_has=(), max_s=5.0, stdin=subprocess.DEVNULL, max_rss=None):
    got_rc, out, err, dt, rss = run(args, stdin=stdin)
    missing = [s for s in err_has if s not in err]
    ok = got_rc == rc and not missing and dt < max_s and (max_rss is None or rss < max_rss)
    detail = "rc %s (want %s), %.2f s (limit %.1f), rss %.0f MiB, missing %r, stderr: %s" % (
        got_rc, rc, dt, max_s, rss, missing, err.strip()[-400:])
    check(name, ok, detail)
    print("     %.3f s, rc %s: %s" % (dt, got_rc, err.strip().splitlines()[-1] if err.strip() else ""))
    return out


def long_prompt(repeats):
    return "Once upon a time there was a little dog. " * repeats


def n_tokens(text):
    rc, out, err, _, _ = run(["tokenize", "-m", model, "-p", text])
    if rc != 0:
        print("tokenize failed: " + err)
        sys.exit(1)
    return len(out.split())


def case_files():
    cap = "64 MiB"
    # A device is refused before it is read: /dev/zero would never end.
    expect("tokenize -f /dev/zero", ["tokenize", "-m", model, "-f", "/dev/zero"], 1,
           ["/dev/zero", "character device", cap], max_rss=256)
    # The same bytes through standard input stop at the cap, with memory near the cap.
    with open("/dev/zero", "rb") as zero:
        expect("tokenize -f - < /dev/zero", ["tokenize", "-m", model, "-f", "-"], 1,
               ["standard input", cap], max_s=20, stdin=zero, max_rss=256)
    with tempfile.TemporaryDirectory() as tmp:
        expect("tokenize -f DIR", ["tokenize", "-m", model, "-f", tmp], 1, ["directory"])
        # Larger than the cap by its size alone: refused without reading (the file is sparse).
        big = os.path.join(tmp, "big.txt")
        with open(big, "wb") as f:
            f.truncate((64 << 20) + 1)
        expect("tokenize -f (64 MiB + 1 byte file)", ["tokenize", "-m", model, "-f", big], 1,
               ["67108865 bytes", cap], max_rss=256)
        expect("tokenize -f missing", ["tokenize", "-m", model, "-f", os.path.join(tmp, "none")], 1,
               ["No such file or directory"])
        # A file whose read fails (EIO at offset 0): an error, not an empty text.
        expect("tokenize -f /proc/self/mem", ["tokenize", "-m", model, "-f", "/proc/self/mem"], 1,
               ["cannot read /proc/self/mem", "Input/output error"])
        # What is accepted still gives the tokens of -p: a file, a FIFO, standard input.
        text = "Once upon a time, there was a little dog.\n"
        want = run(["tokenize", "-m", model, "-p", text])[1]
        small = os.path.join(tmp, "small.txt")
        with open(small, "w") as f:
            f.write(text)
        out = expect("tokenize -f FILE", ["tokenize", "-m", model, "-f", small], 0)
        check("tokenize -f FILE = -p", out == want and want.strip() != "", "%r vs %r" % (out, want))
        fifo = os.path.join(tmp, "fifo")
        os.mkfifo(fifo)

        def feed():
            with open(fifo, "w") as f:
                f.write(text)
        writer = threading.Thread(target=feed)
        writer.start()
        out = expect("tokenize -f FIFO", ["tokenize", "-m", model, "-f", fifo], 0)
        writer.join()
        check("tokenize -f FIFO = -p", out == want, "%r vs %r" % (out, want))
        with open(small, "rb") as f:
            out = expect("tokenize -f - < FILE", ["tokenize", "-m", model, "-f", "-"], 0, stdin=f)
        check("tokenize -f - = -p", out == want, "%r vs %r" % (out, want))


def case_context():
    # stories260K was trained on 2048 tokens, its default context.
    long_text = long_prompt(300)
    n_long = n_tokens(long_text)
    assert n_long > 3000, n_long
    short_text = long_prompt(9)
    n_short = n_tokens(short_text)
    assert 64 < n_short < 128, n_short
    expect("run -c 64, %d-token prompt" % n_long,
           ["run", "-m", model, "-c", "64", "-p", long_text, "-n", "10"], 1,
           ["%d tokens" % n_long, "holds 64", "-c"])
    # Within the default context every chunk fits, so only a check before decoding is fast.
    expect("run, %d-token prompt, default context" % n_long,
           ["run", "-m", model, "-p", long_text, "-n", "10"], 1,
           ["%d tokens" % n_long, "holds 2048", "-c"])
    # A context that fills during generation: the text so far is printed, and it fails.
    out = expect("run -c 32 -n 100: full while generating",
                 ["run", "-m", model, "-c", "32", "-p", "Once", "-n", "100", "--ignore-eos",
                  "--temp", "0"], 1, ["full after", "-c"])
    check("run -c 32 prints what was generated", len(out.split()) > 5, repr(out))
    expect("logits, %d-token prompt, no -c" % n_long, ["logits", "-m", model, "-p", long_text], 1,
           ["%d tokens" % n_long, "training context of 2048", "-c"])
    expect("logits -c 64, %d-token prompt" % n_short,
           ["logits", "-m", model, "-c", "64", "-p", short_text], 1,
           ["%d tokens" % n_short, "-c is 64"])
    out = expect("logits -c 128, %d-token prompt" % n_short,
                 ["logits", "-m", model, "-c", "128", "-p", short_text], 0)
    check("logits -c 128 prints the prompt's tokens", out.startswith('{"tokens": [1, '), out[:80])


def case_flags():
    for cmd in (["run", "-m", model, "-n", "1"], ["logits", "-m", model, "-p", "hi"]):
        name = cmd[0]
        expect(name + " -t 4096", cmd + ["-t", "4096"], 2, ["-t 4096", "[0, 1024]", "maximum is 1024"])
        expect(name + " -c 2000000000", cmd + ["-c", "2000000000"], 2,
               ["-c 2000000000", "[0, 16777216]", "maximum is 16777216"])
        expect(name + " -c -1", cmd + ["-c", "-1"], 2, ["minimum is 0"])
        expect(name + " -c abc", cmd + ["-c", "abc"], 2, ["[0, 16777216]", "'abc'"])
        expect(name + " -t 1 -c 64 accepted", cmd + ["-t", "1", "-c", "64"], 0)
    expect("run -n 99999999999", ["run", "-m", model, "-n", "99999999999"], 2,
           ["maximum is 2147483647"])
    det = ["detokenize", "-m", model]
    expect("detokenize 1 abc 2", det + ["1", "abc", "2"], 2, ["argument 4", "'abc'", "integer"])
    expect("detokenize '1,xyz'", det + ["1,xyz"], 2, ["argument 3", "'xyz'"])
    expect("detokenize 99999999999", det + ["99999999999"], 2,
           ["99999999999", "out of range", "2147483647"])
    expect("detokenize 100000 (outside the vocabulary)", det + ["100000"], 1,
           ["100000", "vocabulary of 512"])
    expect("detokenize --bogus", det + ["--bogus"], 2, ["unknown option '--bogus'"])
    out = expect("detokenize '403, 407 261'", det + ["403, 407 261"], 0)
    check("detokenize list", out == "Once upon a\n", repr(out))


if not os.path.exists(model):
    print("SKIP: no " + model)
    sys.exit(77)
rc, _, err, _, _ = run(["run", "-m", model, "-n", "1", "-p", "hi"])
if rc != 0 and "unsupported" in err:
    print("SKIP: " + err)
    sys.exit(77)
{"files": case_files, "context": case_context, "flags": case_flags}[case]()
print("%d failed" % len(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
