"""python train.py: the training command line from a checkout (installed: soccer-train).

The code is agents/cli/train.py; `python train.py --help` lists every option.
"""

import sys

from agents.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
