"""The reproduction study of the source document's soccer example (DESIGN.md section 6).

    python -m experiments.study            # the full study -> docs/grpo_soccer_report.md
    python -m experiments.study --quick    # a tiny end-to-end run (minutes on a CPU)
    python -m experiments.report RESULTS.json --out REPORT.md   # the report again, from raw data
    python train.py --preset exp-grpo      # one method of the study alone

Modules: `presets` (the six methods, one budget), `grad_variance` (the gradient-variance
estimator and its probe), `passmap` (pass maps and a goal after a pass from recorded games),
`study` (settings, resumable units, training, measurements, results.json), `report` (tables,
figures and conclusions computed from results.json).
"""
