#!/usr/bin/python3 -IS
"""bocker: Docker-style containers from btrfs, namespaces, cgroups and a bridge. See README.md."""
import time

START = time.perf_counter()  # for BOCKER_TIMINGS: start-up and imports count too

import os  # noqa: E402
import sys  # noqa: E402

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
# -S skips site.py (2.5 ms): add by hand Debian's dist-packages (python3-btrfsutil) and the
# project's venv (plumbum, jq), made from /usr/bin/python3 --system-site-packages
sys.path += ["/usr/lib/python3/dist-packages",
             os.path.join(HERE, ".venv", "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}",
                          "site-packages")]

if __name__ == "__main__":
    from bocker.cli import main
    code = main(sys.argv[1:], START)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # `bocker ... | head`: the reader has gone, which is no error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)
