"""sgan_core.training.trainer and batches: determinism, the label-free unlabeled path, augmentation,
the (1) D then (2) G step, learning rates, and the state round trip."""
from __future__ import annotations

import copy
import dataclasses
import inspect

import pytest
import torch

from sgan_core.training import losses
from sgan_core.data.batches import UnlabeledSampler, random_shift
from sgan_core.config import ConfigError, TrainConfig
from sgan_core.data.loading import Split, load_split
from sgan_core.training.precision import autocast
from sgan_core.training.trainer import Trainer
from tiny_config import tiny_cfg as shared_tiny_cfg


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_cfg(data_dir, **changes) -> TrainConfig:
    return shared_tiny_cfg(data_dir, **{"eval_test_subset": 50, "embedding_points": 50,
                                        "embedding_fakes": 20, **changes})


@pytest.fixture
def cfg_split(idx_dataset):
    cfg = tiny_cfg(idx_dataset())
    return cfg, load_split(cfg)


def state_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in module.state_dict().items()}


def same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ----------------------------------------------------------------------------- determinism

def test_same_seed_gives_identical_losses_and_weights(cfg_split):
    cfg, split = cfg_split
    first, second = Trainer(cfg, split), Trainer(cfg, split)
    for _ in range(3):  # interleaved: the trainers share torch's global RNG
        assert first.train_step() == second.train_step()
        torch.rand(7)  # someone else using the global generator changes nothing
    for name in ("discriminator", "generator", "baseline"):
        assert same_tensors(state_tensors(getattr(first, name)),
                            state_tensors(getattr(second, name))), name


def test_different_seed_differs(cfg_split):
    cfg, split = cfg_split
    first, other = Trainer(cfg, split), Trainer(cfg.replace(seed=1), split)
    first_losses = [first.train_step() for _ in range(2)]
    other_losses = [other.train_step() for _ in range(2)]
    assert first_losses != other_losses
    assert not same_tensors(state_tensors(first.discriminator),
                            state_tensors(other.discriminator))


# ----------------------------------------------------------------------------- no labels

def test_split_and_sampler_hold_no_unlabeled_labels(cfg_split):
    cfg, split = cfg_split
    fields = {f.name for f in dataclasses.fields(Split)}
    assert "unlabeled_images" in fields
    assert not any(name.startswith("unlabeled") and name != "unlabeled_images"
                   for name in fields)
    assert list(inspect.signature(UnlabeledSampler).parameters) == \
        ["images", "batch_size", "generator"]
    trainer = Trainer(cfg, split)
    assert trainer.unlabeled.images is split.unlabeled_images
    assert not any(isinstance(v, torch.Tensor) and v.dtype == torch.int64 and v.ndim == 1
                   and v is not trainer.unlabeled.order
                   for v in vars(trainer.unlabeled).values())
    batch = trainer.unlabeled.next_batch()
    assert isinstance(batch, torch.Tensor) and batch.dtype == torch.uint8
    assert batch.shape == (cfg.batch_size, 1, 28, 28)


def test_labels_reach_only_the_supervised_losses(cfg_split, monkeypatch):
    cfg, split = cfg_split
    trainer = Trainer(cfg, split)
    calls: list[tuple[str, tuple]] = []

    def spy(name):
        original = getattr(losses, name)

        def wrapper(*args):
            calls.append((name, args))
            return original(*args)
        monkeypatch.setattr(losses, name, wrapper)

    for name in ("supervised_loss", "real_unsupervised_loss", "fake_unsupervised_loss",
                 "feature_matching_loss", "non_saturating_loss"):
        spy(name)
    drawn_targets = []
    original_next = trainer.labeled.next_batch

    def labeled_next():
        images, targets = original_next()
        drawn_targets.append(targets)
        return images, targets
    monkeypatch.setattr(trainer.labeled, "next_batch", labeled_next)

    trainer.train_step()
    names = [name for name, _ in calls]
    # D's supervised, real and fake terms, G's feature matching, the baseline's supervised
    assert names == ["supervised_loss", "real_unsupervised_loss", "fake_unsupervised_loss",
                     "feature_matching_loss", "supervised_loss"]
    n_classes = split.spec.num_classes
    for name, args in calls:
        if name == "supervised_loss":
            logits, targets = args
            assert logits.shape == (cfg.labeled_batch_size, n_classes)
            assert targets is drawn_targets[0]  # the labeled batch's own targets
        else:
            # unsupervised terms: float tensors of the unlabeled/fake batch size only
            for arg in args:
                assert arg.is_floating_point(), name
                assert arg.shape[0] == cfg.batch_size, name
    real_logits = dict(calls)["real_unsupervised_loss"][0]
    assert real_logits.shape == (cfg.batch_size, n_classes)


def test_non_saturating_generator_loss_is_used_when_asked(cfg_split, monkeypatch):
    cfg, split = cfg_split
    trainer = Trainer(cfg.replace(generator_loss="non_saturating"), split)
    used = []
    for name in ("feature_matching_loss", "non_saturating_loss"):
        original = getattr(losses, name)
        monkeypatch.setattr(losses, name,
                            lambda *a, _n=name, _o=original: used.append(_n) or _o(*a))
    trainer.train_step()
    assert used == ["non_saturating_loss"]


# ----------------------------------------------------------------------------- augmentation

def dot_images(positions: list[tuple[int, int]], size: int = 12) -> torch.Tensor:
    """(B, 1, size, size) float images at -1 with one pixel at +1 at each position."""
    images = torch.full((len(positions), 1, size, size), -1.0)
    for b, (row, col) in enumerate(positions):
        images[b, 0, row, col] = 1.0
    return images


def test_random_shift_with_zero_is_identity():
    images = torch.rand(5, 3, 10, 10) * 2 - 1
    shifted = random_shift(images, 0, torch.Generator().manual_seed(0))
    assert torch.equal(shifted, images)


@pytest.mark.parametrize("channels", [1, 3])
def test_random_shift_keeps_shape_and_moves_content_by_at_most_max_shift(channels):
    max_shift, size, batch = 2, 12, 200
    images = dot_images([(6, 5)] * batch, size).expand(batch, channels, size, size).clone()
    shifted = random_shift(images, max_shift, torch.Generator().manual_seed(0))
    assert shifted.shape == images.shape
    offsets = set()
    for b in range(batch):
        bright = (shifted[b, 0] == 1.0).nonzero()
        assert len(bright) == 1  # the dot stays inside the frame, exactly once
        dy, dx = bright[0, 0].item() - 6, bright[0, 1].item() - 5
        assert abs(dy) <= max_shift and abs(dx) <= max_shift
        offsets.add((dy, dx))
        # the whole image is the original moved by (dy, dx), padded with -1 (black)
        expected = torch.roll(images[b], shifts=(dy, dx), dims=(1, 2))
        assert torch.equal(shifted[b], expected)
        assert torch.equal(shifted[b, 0], shifted[b, -1])  # channels move together
    assert len(offsets) == (2 * max_shift + 1) ** 2  # per image, every offset happens


def test_random_shift_pads_with_black():
    images = torch.ones(50, 1, 6, 6)
    shifted = random_shift(images, 1, torch.Generator().manual_seed(1))
    assert set(shifted.unique().tolist()) == {-1.0, 1.0}
    moved = [b for b in range(50) if (shifted[b] == -1).any()]
    assert moved and all((shifted[b] == -1).sum() in (6, 11) for b in moved)


# ----------------------------------------------------------------------------- the G step

def test_generator_step_leaves_the_discriminator_unchanged(cfg_split):
    cfg, split = cfg_split
    trainer = Trainer(cfg, split)
    trainer.train_step()  # optimisers now have state, D has gradients
    d_before = state_tensors(trainer.discriminator)
    d_grads = [p.grad.clone() for p in trainer.discriminator.parameters()]
    ema_before = state_tensors(trainer.d_average.model)
    g_before = state_tensors(trainer.generator)

    labeled, targets, unlabeled = trainer._batches()
    with torch.no_grad():
        _, features_unlabeled = trainer.discriminator(unlabeled)
    trainer._update_generator(trainer._fakes(trainer._noise(cfg.batch_size)),
                              features_unlabeled)

    assert same_tensors(d_before, state_tensors(trainer.discriminator))
    assert all(torch.equal(before, p.grad)
               for before, p in zip(d_grads, trainer.discriminator.parameters()))
    assert same_tensors(ema_before, state_tensors(trainer.d_average.model))
    assert not same_tensors(g_before, state_tensors(trainer.generator))  # G did move
    assert all(p.requires_grad for p in trainer.discriminator.parameters())


def test_discriminator_step_leaves_the_generator_weights_unchanged(cfg_split):
    cfg, split = cfg_split
    trainer = Trainer(cfg, split)
    labeled, targets, unlabeled = trainer._batches()
    g_params = [p.detach().clone() for p in trainer.generator.parameters()]
    d_before = state_tensors(trainer.discriminator)
    fakes = trainer._fakes(trainer._noise(len(unlabeled)))
    trainer._update_discriminator(labeled, targets, unlabeled, fakes.detach())
    assert all(torch.equal(a, b) for a, b in zip(g_params, trainer.generator.parameters()))
    assert not same_tensors(d_before, state_tensors(trainer.discriminator))


def test_one_batch_of_fakes_serves_both_updates(cfg_split):
    """G's noise is drawn once a step, and G's update sees the very images D's did."""
    cfg, split = cfg_split
    trainer = Trainer(cfg, split)
    draws, passes = [], []
    sample_noise = trainer.generator.sample_noise
    trainer.generator.sample_noise = lambda *a, **k: draws.append(1) or sample_noise(*a, **k)
    trainer.discriminator.register_forward_hook(
        lambda _m, inputs, _out: passes.append(inputs[0].detach().float()))
    trainer.train_step()
    assert len(draws) == 1
    d_fakes = passes[0][-cfg.batch_size:]  # D's update: cat([labeled, unlabeled, fakes])
    assert torch.equal(passes[1], d_fakes)  # G's update: the same fakes


def test_a_recorded_step_holds_the_batches_noise_and_verdicts_its_losses_used(cfg_split):
    """A twin redraws the step's batches, noise and D's update pass from the same seed:
    the record holds exactly these, and its logits give exactly the step's losses."""
    cfg, split = cfg_split
    trainer, twin = Trainer(cfg, split), Trainer(cfg, split)
    weight, rates = twin.unsupervised_weight(), twin.current_learning_rates()
    record = trainer.recorded_step()
    labeled, targets, unlabeled = twin._batches()
    noise = twin._noise(cfg.batch_size)
    twin.generator.train()
    twin.discriminator.train()
    with torch.no_grad(), autocast(twin.precision, twin.device):
        fakes = twin._fakes(noise).float()  # as D's update saw them (cat promotes)
        logits, _ = twin.discriminator(torch.cat([labeled, unlabeled, fakes]))
    n = cfg.labeled_batch_size
    expected = {"labeled": labeled, "targets": targets, "unlabeled": unlabeled,
                "noise": noise, "fakes": fakes, "logits_labeled": logits[:n],
                "logits_unlabeled": logits[n:n + cfg.batch_size],
                "logits_fake": logits[n + cfg.batch_size:]}
    for name, tensor in expected.items():
        kept = getattr(record, name)
        assert kept.device.type == "cpu" and not kept.requires_grad, name
        assert torch.equal(kept, tensor), name
    terms = losses.discriminator_terms(record.logits_labeled, record.targets,
                                       record.logits_unlabeled, record.logits_fake)
    assert [term.item() for term in terms] == [record.losses.supervised,
                                               record.losses.unsupervised_real,
                                               record.losses.unsupervised_fake]
    assert record.discriminator_loss == losses.discriminator_loss(terms, weight).item()
    assert record.unsupervised_weight == weight and (record.d_lr, record.g_lr) == rates


def test_a_plain_step_keeps_no_record(cfg_split):
    trainer = Trainer(*cfg_split)
    recorded = []
    trainer._record = lambda *args: recorded.append(args)  # would record, if asked
    trainer.train_step()
    assert recorded == []


# ----------------------------------------------------------------------------- learning rates

def optimizer_lrs(trainer: Trainer) -> tuple[float, float, float]:
    return (trainer.d_optimizer.param_groups[0]["lr"], trainer.g_optimizer.param_groups[0]["lr"],
            trainer.baseline_optimizer.param_groups[0]["lr"])


def test_live_learning_rate_change_and_linear_decay(cfg_split):
    cfg, split = cfg_split
    trainer = Trainer(cfg.replace(d_lr=0.002, g_lr=0.001, baseline_lr=0.004,
                                  lr_decay_steps=4), split)
    assert trainer.current_learning_rates() == (0.002, 0.001)
    trainer.train_step()
    assert optimizer_lrs(trainer) == (0.002, 0.001, 0.004)  # step 0 ran at full rate
    trainer.train_step()
    assert trainer.current_learning_rates() == pytest.approx((0.001, 0.0005))  # halfway
    trainer.set_learning_rates(d_lr=0.01)
    assert trainer.current_learning_rates() == pytest.approx((0.005, 0.0005))
    # applied now; the baseline keeps its own rate under the same decay
    assert optimizer_lrs(trainer) == pytest.approx((0.005, 0.0005, 0.002))
    trainer.set_learning_rates(g_lr=0.004)
    assert trainer.current_learning_rates() == pytest.approx((0.005, 0.002))
    trainer.train_step()
    trainer.train_step()
    assert trainer.current_learning_rates() == (0.0, 0.0)
    # at learning rate 0 a step moves no weight (batch-norm running stats aside)
    d_before = state_tensors(trainer.discriminator)
    g_before = [p.detach().clone() for p in trainer.generator.parameters()]
    trainer.train_step()
    assert optimizer_lrs(trainer) == (0.0, 0.0, 0.0)
    assert same_tensors(d_before, state_tensors(trainer.discriminator))
    assert all(torch.equal(a, b) for a, b in zip(g_before, trainer.generator.parameters()))


def test_no_decay_keeps_learning_rates_constant(cfg_split):
    cfg, split = cfg_split
    trainer = Trainer(cfg.replace(d_lr=0.002, g_lr=0.001), split)
    for _ in range(3):
        trainer.train_step()
    assert trainer.current_learning_rates() == (0.002, 0.001)
    assert optimizer_lrs(trainer) == (0.002, 0.001, cfg.baseline_lr)


def test_decay_to_budget_follows_the_share_of_the_budget_used(cfg_split):
    cfg, split = cfg_split
    trainer = Trainer(cfg.replace(d_lr=0.002, g_lr=0.001, lr_decay_to_budget=True), split)
    trainer.budget_progress = 0.25
    assert trainer.current_learning_rates() == pytest.approx((0.0015, 0.00075))
    trainer.budget_progress = 1.5  # past the budget: never negative
    assert trainer.current_learning_rates() == (0.0, 0.0)


def test_hold_fraction_keeps_the_full_rate_then_decays_to_zero(cfg_split):
    cfg, split = cfg_split
    trainer = Trainer(cfg.replace(d_lr=0.002, g_lr=0.001, lr_decay_to_budget=True,
                                  lr_hold_fraction=0.5), split)
    trainer.budget_progress = 0.5  # the held half: full rate
    assert trainer.current_learning_rates() == (0.002, 0.001)
    trainer.budget_progress = 0.75  # halfway through the decaying half
    assert trainer.current_learning_rates() == pytest.approx((0.001, 0.0005))
    trainer.budget_progress = 1.0
    assert trainer.current_learning_rates() == (0.0, 0.0)


def test_hold_fraction_applies_to_a_step_schedule_too(cfg_split):
    cfg, split = cfg_split
    trainer = Trainer(cfg.replace(d_lr=0.002, g_lr=0.001, lr_decay_to_budget=False,
                                  lr_decay_steps=8, lr_hold_fraction=0.5), split)
    for _ in range(4):
        trainer.train_step()
    assert trainer.current_learning_rates() == (0.002, 0.001)  # step 4 of 8: still held
    for _ in range(2):
        trainer.train_step()
    assert trainer.current_learning_rates() == pytest.approx((0.001, 0.0005))


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_a_hold_fraction_outside_0_to_1_is_refused_with_its_range(fraction):
    with pytest.raises(ConfigError, match=r"lr_hold_fraction must be in \[0, 1\)"):
        TrainConfig(lr_hold_fraction=fraction)


# ----------------------------------------------------------------------------- state round trip

def test_state_dict_round_trip_gives_identical_next_steps(cfg_split):
    cfg, split = cfg_split
    original = Trainer(cfg, split)
    for _ in range(3):
        original.train_step()
    state = copy.deepcopy(original.state_dict())
    expected = [original.train_step() for _ in range(2)]

    restored = Trainer(cfg, split)
    restored.train_step()  # a different position, so loading must really restore
    restored.load_state_dict(state)
    assert restored.step_count == 3
    assert [restored.train_step() for _ in range(2)] == expected
    for name in ("discriminator", "generator", "baseline"):
        assert same_tensors(state_tensors(getattr(original, name)),
                            state_tensors(getattr(restored, name))), name
    assert same_tensors(state_tensors(original.d_average.model),
                        state_tensors(restored.d_average.model))


def test_step_losses_are_finite_and_step_count_advances(cfg_split):
    cfg, split = cfg_split
    trainer = Trainer(cfg, split)
    result = trainer.train_step()
    assert result.is_finite() and trainer.step_count == 1
    assert result.unsupervised == result.unsupervised_real + result.unsupervised_fake
    assert not dataclasses.replace(result, generator=float("nan")).is_finite()
    assert not dataclasses.replace(result, supervised=float("inf")).is_finite()


# ----------------------------------------------------------------------------- precision

@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_each_precision_is_deterministic_and_finite(idx_dataset, precision):
    cfg = tiny_cfg(idx_dataset(), precision=precision)
    split = load_split(cfg)
    first, second = Trainer(cfg, split), Trainer(cfg, split)
    assert first.precision == precision
    for _ in range(3):
        result = first.train_step()
        assert result == second.train_step() and result.is_finite()
    assert same_tensors(state_tensors(first.discriminator), state_tensors(second.discriminator))
    assert all(p.dtype == torch.float32 for p in first.discriminator.parameters())


def test_bfloat16_losses_still_see_float32_logits(idx_dataset, monkeypatch):
    """Autocast speeds up the matmuls; logsumexp/softplus/cross-entropy stay exact."""
    seen: list[torch.dtype] = []
    for name in ("supervised_loss", "real_unsupervised_loss", "fake_unsupervised_loss",
                 "feature_matching_loss"):
        original = getattr(losses, name)
        monkeypatch.setattr(losses, name, lambda *args, _f=original: (
            seen.extend(a.dtype for a in args if torch.is_tensor(a)) or _f(*args)))
    cfg = tiny_cfg(idx_dataset(), precision="bfloat16")
    Trainer(cfg, load_split(cfg)).train_step()
    assert seen and set(seen) <= {torch.float32, torch.int64}


def test_auto_precision_follows_the_cpu(monkeypatch):
    from sgan_core.training import precision as trainer_module

    monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda: True)
    assert trainer_module.resolve_precision("auto") == "bfloat16"
    monkeypatch.setattr(trainer_module, "cpu_has_native_bf16", lambda: False)
    assert trainer_module.resolve_precision("auto") == "float32"
    assert trainer_module.resolve_precision("bfloat16") == "bfloat16"


def test_unknown_precision_is_a_config_error(idx_dataset):
    from sgan_core.config import ConfigError

    with pytest.raises(ConfigError, match="precision must be one of auto, float32"):
        tiny_cfg(idx_dataset(), precision="float16")


# ----------------------------------------------------------------------------- honest step

def _marked_trainer(cfg_split, monkeypatch):
    """A trainer whose three batches D sees are told apart by value: labeled images are
    0 (grey), unlabeled images 1 (white) and fakes a tiny 0.25; records D's calls."""
    cfg, split = cfg_split
    trainer = Trainer(cfg.replace(augment_shift=0), split)
    monkeypatch.setattr(trainer.labeled, "next_batch", lambda: (
        torch.full((cfg.labeled_batch_size, 1, 28, 28), 128, dtype=torch.uint8),
        torch.zeros(cfg.labeled_batch_size, dtype=torch.int64)))
    for sampler in (trainer.unlabeled, trainer.feature_targets):
        monkeypatch.setattr(sampler, "next_batch", lambda: torch.full(
            (cfg.batch_size, 1, 28, 28), 255, dtype=torch.uint8))
    monkeypatch.setattr(trainer.generator, "forward", lambda noise: torch.full(
        (len(noise), 1, 28, 28), 0.25, requires_grad=True))
    calls = []
    original_forward = trainer.discriminator.forward

    def recording(images):
        logits, features = original_forward(images)
        calls.append((images.detach(), logits.detach()))
        return logits, features
    monkeypatch.setattr(trainer.discriminator, "forward", recording)
    return trainer, calls


MARKS = {round(-1.0 + 128 / 127.5, 4): "labeled", 1.0: "unlabeled", 0.25: "fake"}


def _kind_of_rows(images: torch.Tensor, logits: torch.Tensor, loss_logits: torch.Tensor):
    """Which kind of image (by its marking value) each row of a loss's logits came from."""
    kinds = set()
    for row in loss_logits:
        match = (logits == row).all(dim=1).nonzero()[0, 0]
        kinds.add(MARKS.get(round(images[match].mean().item(), 4), "?"))
    return kinds


def test_each_loss_gets_its_own_batch_a_swap_of_slices_fails(cfg_split, monkeypatch):
    """The mutation the shape-only test missed: swapping the unlabeled and fake slices."""
    trainer, calls = _marked_trainer(cfg_split, monkeypatch)
    seen = {}
    for name in ("supervised_loss", "real_unsupervised_loss", "fake_unsupervised_loss"):
        original = getattr(losses, name)
        monkeypatch.setattr(losses, name, lambda logits, *rest, _n=name, _f=original: (
            seen.setdefault(_n, logits.detach()), _f(logits, *rest))[1])
    trainer.train_step()
    images, logits = calls[0]  # D's step: one pass over all three batches
    assert _kind_of_rows(images, logits, seen["supervised_loss"]) == {"labeled"}
    assert _kind_of_rows(images, logits, seen["real_unsupervised_loss"]) == {"unlabeled"}
    assert _kind_of_rows(images, logits, seen["fake_unsupervised_loss"]) == {"fake"}


def test_feature_matching_target_is_a_fresh_unlabeled_batch_through_the_updated_d(
        cfg_split, monkeypatch):
    cfg, split = cfg_split
    trainer, calls = _marked_trainer((cfg.replace(feature_matching_target="fresh"), split),
                                     monkeypatch)
    d_before = state_tensors(trainer.discriminator)
    targets = []
    original = losses.feature_matching_loss
    monkeypatch.setattr(losses, "feature_matching_loss", lambda real, fake: (
        targets.append(real), original(real, fake))[1])
    trainer.train_step()
    # calls: D's step, G's pass over fakes, the target pass over a fresh real batch
    assert [round(c[0].mean().item(), 4) for c in calls[1:]] == [0.25, 1.0]
    assert not same_tensors(d_before, state_tensors(trainer.discriminator))  # D moved first
    assert not targets[0].requires_grad  # a target: G cannot move it


def test_same_batch_target_is_d_s_features_of_the_unlabeled_batch_before_its_update(
        cfg_split, monkeypatch):
    cfg, split = cfg_split
    trainer, calls = _marked_trainer((cfg.replace(feature_matching_target="same_batch"),
                                      split), monkeypatch)
    targets = []
    original = losses.feature_matching_loss
    monkeypatch.setattr(losses, "feature_matching_loss", lambda real, fake: (
        targets.append(real), original(real, fake))[1])
    trainer.train_step()
    assert len(calls) == 2  # D's step and G's pass over fakes: no third pass
    d_step_images = calls[0][0]
    unlabeled_rows = (d_step_images.flatten(1).mean(dim=1) - 1.0).abs() < 1e-6
    assert targets[0].shape[0] == int(unlabeled_rows.sum()) == cfg.batch_size
    assert not targets[0].requires_grad


def test_fakes_are_shifted_like_real_images_in_both_steps(cfg_split, monkeypatch):
    cfg, split = cfg_split
    trainer = Trainer(cfg.replace(augment_shift=2), split)
    monkeypatch.setattr(trainer.generator, "forward", lambda noise: torch.full(
        (len(noise), 1, 28, 28), 0.25, requires_grad=True))
    seen = []
    original_forward = trainer.discriminator.forward
    monkeypatch.setattr(trainer.discriminator, "forward", lambda images: (
        seen.append(images.detach()), original_forward(images))[1])
    trainer.train_step()
    fakes_in_d_step = seen[0][cfg.labeled_batch_size + cfg.batch_size:]
    for fakes in (fakes_in_d_step, seen[1]):
        # a shifted constant image has a black (-1) padded border on some side
        padded = (fakes == -1.0).flatten(1).any(dim=1)
        assert padded.float().mean() > 0.5, "fakes reach D unshifted"


def test_two_runs_training_at_once_give_the_numbers_each_gives_alone(cfg_split):
    import threading

    cfg, split = cfg_split
    alone = Trainer(cfg, split)
    expected = [alone.train_step() for _ in range(8)]
    results: dict[int, list] = {}

    def train(key: int) -> None:
        trainer = Trainer(cfg, split)
        results[key] = [trainer.train_step() for _ in range(8)]

    threads = [threading.Thread(target=train, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results[0] == expected and results[1] == expected


def test_no_draw_comes_from_the_global_generator(cfg_split):
    cfg, split = cfg_split
    trainer = Trainer(cfg.replace(architecture="conv"), split)  # conv has dropout too
    # (building the layers draws PyTorch's default init from it, then `initialise`
    # overwrites every weight from the run's own generator: see the determinism test)
    state = torch.get_rng_state()
    trainer.train_step()
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.slow
def test_it_learns_on_real_digits(tmp_path):
    """A few hundred steps on the bundled MNIST subset: far above chance, and D tells
    real test images from fakes."""
    from sgan_core.training.evaluation import Evaluator

    cfg = TrainConfig(data_dir=str(tmp_path), download=False, labels_per_class=10,
                      batch_size=50, labeled_batch_size=50, num_threads=1, max_steps=300,
                      unsupervised_rampup_steps=100, eval_test_subset=500, seed=5)
    split = load_split(cfg)
    trainer = Trainer(cfg, split)
    for _ in range(300):
        trainer.train_step()
    evaluator = Evaluator(cfg, split, cfg.noise_dim)
    result = evaluator.evaluate(trainer)
    assert result.validation.sgan > 0.5 and result.test.sgan > 0.5  # chance is 0.1
    assert result.inspection.p_fake_real.mean() < result.inspection.p_fake_generated.mean()
