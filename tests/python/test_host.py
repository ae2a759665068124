"""What the package promises its host process: the caller's array used in place, numpy's BLAS and
OpenMP thread settings untouched, Ctrl-C stopping a long fit cleanly."""

import signal
import subprocess
import sys
import textwrap
import time


ZERO_COPY = textwrap.dedent("""
    import sys
    import numpy as np
    import embcluster

    def status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024

    dtype = sys.argv[1]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400000, 32), dtype=np.float32)
    X = X.astype(dtype) if dtype != "float32" else X
    est = embcluster.KMeans(8, n_init=1, max_iter=3, init_sample=2000, random_state=0, threads=1)
    est.fit(X[:5000])  # loads what a first fit loads
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to the current resident size
    before = status("VmRSS")
    est.fit(X)
    est.predict(X)
    print(status("VmHWM") - before, X.astype(np.float32, copy=False).nbytes)
""")


def peak_growth(dtype):
    p = subprocess.run([sys.executable, "-c", ZERO_COPY, dtype], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    growth, nbytes = map(int, p.stdout.split())
    return growth, nbytes


def test_float32_c_contiguous_input_is_not_copied():
    growth, nbytes = peak_growth("float32")
    assert growth < 0.25 * nbytes, f"fit and predict grew the peak by {growth} of {nbytes} bytes"
    # The measurement sees a conversion: float64 input is converted to float32 once.
    growth64, _ = peak_growth("float64")
    assert growth64 > 0.9 * nbytes


def test_numpy_thread_settings_unchanged_after_import_and_fit():
    code = textwrap.dedent("""
        import numpy as np
        from threadpoolctl import threadpool_info, threadpool_limits
        def settings():
            return {(i["filepath"], i["user_api"]): i["num_threads"] for i in threadpool_info()}
        np.dot(np.ones((64, 64)), np.ones((64, 64)))
        threadpool_limits(1, user_api="blas")  # the host's own choice
        before = settings()
        assert any("numpy" in path for path, _ in before), before
        import embcluster
        after_import = settings()
        X = np.random.default_rng(0).standard_normal((5000, 16)).astype(np.float32)
        embcluster.KMeans(4, random_state=0, threads=2).fit(X)
        embcluster.DBSCAN(eps=3.0, threads=2).fit(X[:2000])
        embcluster.silhouette_score(X[:2000], np.arange(2000) % 3, threads=2)
        after_fit = settings()
        for key, n in before.items():
            assert after_import[key] == n, (key, n, after_import[key])
            assert after_fit[key] == n, (key, n, after_fit[key])
        # The libraries embcluster brings (OpenBLAS, OpenMP) keep theirs too.
        for key, n in after_import.items():
            assert after_fit[key] == n, (key, n, after_fit[key])
        print("ok", len(before), len(after_fit))
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("ok")


INTERRUPT = textwrap.dedent("""
    import sys, threading, time
    import numpy as np
    import embcluster
    X = np.random.default_rng(0).standard_normal((100000, 64), dtype=np.float32)
    def progress(info):
        if info["phase"] == "iterate" and info["iteration"] == 2:
            print("iterating", flush=True)
    t0 = time.time()
    try:
        embcluster.KMeans(256, max_iter=10000, tol=0, random_state=0, threads=2,
                          progress=progress).fit(X)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", threading.active_count(), flush=True)
    # Still usable afterwards.
    embcluster.KMeans(2, random_state=0).fit(X[:1000])
    print("done", flush=True)
""")


def test_ctrl_c_stops_a_long_fit_with_keyboard_interrupt():
    p = subprocess.Popen([sys.executable, "-c", INTERRUPT], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "iterating"
        sent = time.time()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        stopped_after = time.time() - sent
    finally:
        p.kill()
    assert p.returncode == 0, err
    assert out.split("\n")[:2] == ["interrupted 1", "done"], out + err
    assert stopped_after < 30
