"""``python -m ganlab ...``: the command line (see :mod:`ganlab.cli`)."""

from ganlab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
