"""The command lines: `train` (soccer-train, python train.py) and `eval` (soccer-eval,
python eval.py). They are thin: parsing, then one call into agents.runner / agents.evaluation."""
