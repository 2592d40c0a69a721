"""Pure SGAN loss functions on logits relative to the fake class (fake logit = 0).

With N class logits l and a fake logit fixed at 0:
    Z(x) = sum_k exp l_k,  D(x) = P(real | x) = Z / (Z + 1) = sigmoid(logsumexp(l))
    -log D(x)       = -log sigmoid(lse)     = softplus(-lse)
    -log (1 - D(x)) = -log sigmoid(-lse)    = softplus(lse)
Written this way nothing overflows for large logits, and no softmax is ever applied
before a cross-entropy. (The equal form softplus(lse) - lse cancels two large numbers:
in float32 it is exactly 0 from lse ~ 17 on, where the true value is still e^-17.)
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F


def supervised_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over the N real classes: -log p(y | x, x is real)."""
    return F.cross_entropy(logits, targets)  # logits (B, N), targets (B,)


def real_unsupervised_loss(logits_unlabeled: torch.Tensor) -> torch.Tensor:
    """Mean -log D(x) over unlabeled real images; needs no labels by construction."""
    lse = torch.logsumexp(logits_unlabeled, dim=1)  # (B,)
    return F.softplus(-lse).mean()


def fake_unsupervised_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    """Mean -log(1 - D(G(z))) over generated images."""
    return F.softplus(torch.logsumexp(logits_fake, dim=1)).mean()


def feature_matching_loss(features_real: torch.Tensor,
                          features_fake: torch.Tensor) -> torch.Tensor:
    """Squared distance between mean real and mean fake features (Salimans et al.).

    The real statistics are a target, so they are detached: G cannot move them.
    """
    mean_real = features_real.detach().mean(dim=0)  # (F,)
    mean_fake = features_fake.mean(dim=0)  # (F,)
    return (mean_real - mean_fake).pow(2).mean()


def non_saturating_loss(logits_fake: torch.Tensor) -> torch.Tensor:
    """Mean -log D(G(z)): G is rewarded when D calls its images real."""
    lse = torch.logsumexp(logits_fake, dim=1)  # (B,)
    return F.softplus(-lse).mean()


class DiscriminatorTerms(NamedTuple):
    """D's three loss terms, each a scalar tensor."""

    supervised: torch.Tensor  # cross-entropy on the labeled batch
    real: torch.Tensor  # -log D(x) on the unlabeled batch
    fake: torch.Tensor  # -log(1 - D(G(z))) on the fakes


def discriminator_terms(logits_labeled: torch.Tensor, targets: torch.Tensor,
                        logits_unlabeled: torch.Tensor, logits_fake: torch.Tensor
                        ) -> DiscriminatorTerms:
    """D's terms on its logits of each batch: (L, N) with targets (L,), (B, N), (B, N).
    The trainer's update and slow motion's measurements both call this, so the step and
    what the page shows of it are one objective."""
    return DiscriminatorTerms(supervised_loss(logits_labeled, targets),
                              real_unsupervised_loss(logits_unlabeled),
                              fake_unsupervised_loss(logits_fake))


def discriminator_loss(terms: DiscriminatorTerms, unsupervised_weight: float) -> torch.Tensor:
    """What D's update lowers: supervised + w * (real + fake)."""
    return terms.supervised + unsupervised_weight * (terms.real + terms.fake)


def generator_loss(kind: str, logits_fake: torch.Tensor, features_fake: torch.Tensor,
                   real_features: Callable[[], torch.Tensor]) -> torch.Tensor:
    """G's objective as TrainConfig.generator_loss names it, on D's outputs for G's
    fakes: logits (B, N) and features (B, F). `real_features` gives feature matching's
    target (B', F); it is called only when the objective needs it, since a fresh target
    costs a pass of D (and random draws) that non-saturating must not make."""
    if kind == "feature_matching":
        return feature_matching_loss(real_features(), features_fake)
    if kind == "non_saturating":
        return non_saturating_loss(logits_fake)
    raise ValueError(f"unknown generator loss {kind!r}")


def fake_probability(logits: torch.Tensor) -> torch.Tensor:
    """P(fake | x) = 1 / (1 + Z) = sigmoid(-logsumexp(l)), stable for any logits."""
    return torch.sigmoid(-torch.logsumexp(logits, dim=1))  # (B,)


def class_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """Probabilities over N real classes plus fake (last column), for display only."""
    with_fake = torch.cat([logits, torch.zeros_like(logits[:, :1])], dim=1)  # (B, N+1)
    return torch.softmax(with_fake, dim=1)
