#!/usr/bin/python3 -I
"""bocker: Docker-style containers from btrfs, namespaces, cgroups and a bridge. See README.md."""
import os
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
# plumbum and jq live in the project's venv (made from /usr/bin/python3 --system-site-packages);
# appended, so that start-up does not scan it unless a command imports from it
sys.path.append(os.path.join(HERE, ".venv", "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}",
                             "site-packages"))

if __name__ == "__main__":
    from bocker.cli import main
    sys.exit(main(sys.argv[1:]))
