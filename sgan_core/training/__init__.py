"""The training room: the models, the losses, one training step (D, G and the baseline),
the learning-rate schedule, weight averages, precision and device, evaluation, the
loss history and the traced step that slow motion shows. No threads, no files: a run
(sgan_core.runs) drives it.
"""
