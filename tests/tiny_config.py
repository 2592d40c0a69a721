"""The tiny training config the engine tests share (imported by name: tests/ is on
sys.path through its conftest)."""


def tiny_cfg(data_dir, **changes):
    """A config small enough for a test to train a few steps in well under a second."""
    from sgan_core.config import TrainConfig

    values = dict(dataset="mnist", data_dir=str(data_dir), download=False,
                  labels_per_class=2, validation_size=20, seed=0, batch_size=16,
                  labeled_batch_size=8, eval_test_subset=40, sample_grid_size=16,
                  embedding_points=30, embedding_fakes=12, num_threads=1, eval_every_s=0.2)
    return TrainConfig(**{**values, **changes})

