"""The evaluate stage: score the trained generator on the test split.

Modules, one job each:

* :mod:`~sketch2color.evaluation.metrics` - per-image SSIM, PSNR, L1 and their spread;
* :mod:`~sketch2color.evaluation.baselines` - the trivial outputs the model must beat;
* :mod:`~sketch2color.evaluation.samples` - the best / median / worst grid;
* :mod:`~sketch2color.evaluation.fid` - optional FID (extra ``fid``);
* :mod:`~sketch2color.evaluation.scoring` - the model and the baselines on the test split;
* :mod:`~sketch2color.evaluation.full_resolution` - the outputs a user gets, at the originals' size.

The stage itself is :mod:`sketch2color.pipeline.evaluate`.

Nothing heavy is imported here, so ``import sketch2color.evaluation.metrics``
stays cheap for the colorize CLI and tests.
"""
