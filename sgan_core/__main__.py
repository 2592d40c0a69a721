"""`python -m sgan_core ...` entry point."""
import sys

from sgan_core.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
