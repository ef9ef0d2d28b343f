"""The evaluate stage: score the trained generator on the test split.

Modules, one job each:

* :mod:`~sketch2color.evaluation.metrics` - per-image SSIM, PSNR, L1 and their spread;
* :mod:`~sketch2color.evaluation.baselines` - the trivial outputs the model must beat;
* :mod:`~sketch2color.evaluation.samples` - the best / median / worst grid;
* :mod:`~sketch2color.evaluation.fid` - optional FID (extra ``fid``);
* :mod:`~sketch2color.evaluation.split_reader` - reading the test split and checking the
  generator's size (shared with the export stage);
* :mod:`~sketch2color.evaluation.stage` - ``evaluate_stage(params, paths)``.

Nothing heavy is imported here, so ``import sketch2color.evaluation.metrics``
stays cheap for the colorize CLI and tests.
"""
