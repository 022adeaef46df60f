"""`python -m asl_gpt ...`: the same as the `asl-gpt` command."""

import sys

from asl_gpt.cli import main

if __name__ == "__main__":
    sys.exit(main())
