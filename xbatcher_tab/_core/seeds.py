"""Seeds: one draw when none is given, one scheme per epoch.

Every iterator that shuffles or augments fixes its seed once, where it is made
(:func:`drawn_seed`): each pass, worker and rank then derives the same order from it.
Epoch ``e`` of a seed uses :func:`epoch_seed` (the torch and Keras loaders' epochs and
``fit_batches``' passes alike), so a run repeats exactly and each epoch has its own
order.
"""

from __future__ import annotations

import numpy as np

__all__ = ["drawn_seed", "epoch_seed", "fixed_seed", "group_rng", "sample_rng"]

SAMPLE_KEY = 2**63 - 1  # the sample's stream, apart from every group's


def fixed_seed(random_state: object) -> object:
    """A seed that repeats: one draw from a numpy ``Generator``, other seeds as given
    (so every pass over batches seeded by it gives the same order).

    Examples
    --------
    >>> fixed_seed(3), fixed_seed(None)
    (3, None)
    >>> fixed_seed(np.random.default_rng(0)) == fixed_seed(np.random.default_rng(0))
    True
    """
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**63))
    return random_state


def drawn_seed(random_state: object, needed: bool) -> object:
    """:func:`fixed_seed`, and a seed drawn now from the operating system when
    ``random_state`` is None but one is ``needed`` (shuffling or augmenting), so that
    everything derived from it later agrees.

    Examples
    --------
    >>> drawn_seed(None, needed=False) is None
    True
    >>> isinstance(drawn_seed(None, needed=True), int)
    True
    """
    seed = fixed_seed(random_state)
    if seed is None and needed:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    return seed


def epoch_seed(seed: object, epoch: int) -> object:
    """The seed of epoch (or pass) ``epoch`` of ``seed``: epoch 0's is ``seed`` itself,
    so that the first epoch of every path is the order ``iter_batches`` gives for that
    ``random_state`` (None stays None).

    Examples
    --------
    >>> epoch_seed(0, 1) == epoch_seed(0, 1) != epoch_seed(0, 2)
    True
    >>> epoch_seed(7, 0), epoch_seed(None, 3)
    (7, None)
    """
    if seed is None or epoch == 0:
        return seed
    if isinstance(seed, np.random.SeedSequence):
        seed = seed.generate_state(1)[0]
    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1)[0])


def group_rng(seed: object, group: int) -> np.random.Generator:
    """The generator that permutes group ``group`` of a shuffled epoch seeded by
    ``seed`` (data in memory is one group, 0): one home for every path's order.

    Examples
    --------
    >>> group_rng(0, 1).permutation(4).tolist() == group_rng(0, 1).permutation(4).tolist()
    True
    """
    return np.random.default_rng([np.random.SeedSequence(seed).entropy, group])


def sample_rng(seed: object) -> np.random.Generator:
    """The generator that draws the samples of ``sample=`` for ``seed``: one stream,
    the same on every path, apart from the shuffle's.

    Examples
    --------
    >>> bool(sample_rng(3).integers(100) == sample_rng(3).integers(100))
    True
    """
    return np.random.default_rng([np.random.SeedSequence(seed).entropy, SAMPLE_KEY])
