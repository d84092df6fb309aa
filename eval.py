"""python eval.py: the evaluation command line from a checkout (installed: soccer-eval).

The code is agents/cli/eval.py; `python eval.py --help` lists every option.
"""

import sys

from agents.cli.eval import main

if __name__ == "__main__":
    sys.exit(main())
