"""Neurogenesis for a new class: units born when a new class arrives, excitable while young,
take it, and the older units keep what they answered."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hebbnet.layers.topographic import TopographicMap
from hebbnet.structural.neurogenesis import Neurogenesis


@dataclass
class NewClass:
    old_drift: float  # relative change of the units that existed before the new class
    new_class_won_by_new_units: float | None  # share of its test samples (None: nothing grew)
    old_accuracy_before: float  # old classes' test accuracy, units labelled by majority vote
    old_accuracy_after: float
    new_accuracy: float  # the new class's, after


def neurogenesis_for_a_new_class(grow: int, seed: int = 0, units: int = 10,
                                 excitability: float = 10.0, maturation: float = 100.0,
                                 steps: int = 200) -> NewClass:
    """A competitive layer (a :class:`TopographicMap` with a neighbourhood so narrow that only
    the winner learns) learns digits 0 and 1 (scikit-learn's 8×8 digits; every other sample
    held out for testing) with ``units − grow`` units, then digit 2 alone for ``3·steps``
    batches; ``grow`` units are born when it arrives, their weights the first ``grow`` images
    of a 2, with excitability β = ``excitability`` fading over ``maturation`` updates.
    ``grow=0``: all ``units`` exist from the start (the control). Units are labelled by the
    class they win most among the training images seen so far."""
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    images = torch.tensor(images, dtype=torch.float32) / 16
    labels = torch.tensor(labels)
    train, test = torch.arange(len(labels)) % 2 == 0, torch.arange(len(labels)) % 2 == 1
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    born = units - grow
    layer = TopographicMap(64, (units,), sigma=0.3, lr=0.1,
                           homeostasis=Neurogenesis(units, born, excitability, maturation))

    def split(classes, part):
        chosen = part & torch.isin(labels, torch.tensor(classes))
        return images[chosen], labels[chosen]

    def learn(classes, batches):
        data, _ = split(classes, train)
        for _ in range(batches):
            layer(data[torch.randint(len(data), (32,), generator=generator)])

    def winners(data):
        layer.eval()
        won = layer(data).argmax(1)
        layer.train()
        return won

    def accuracy(classes, seen):
        data, truth = split(seen, train)
        votes = torch.zeros(units, 10).index_put_((winners(data), truth), torch.ones(len(truth)),
                                                  accumulate=True)
        data, truth = split(classes, test)
        return float((votes.argmax(1)[winners(data)] == truth).float().mean())

    old_images, _ = split([0, 1], train)
    with torch.no_grad():  # units start on images, or the first winner takes all (dead units)
        layer.weight[:born] = old_images[torch.randperm(len(old_images), generator=generator)[:born]]
    learn([0, 1], steps)
    old_before = accuracy([0, 1], [0, 1])
    weights = layer.weight[:born].clone()
    if grow:
        first_twos, _ = split([2], train)
        layer.grow(grow, init=first_twos[:grow])
    learn([2], 3 * steps)
    twos, _ = split([2], test)
    return NewClass(
        old_drift=float((layer.weight[:born] - weights).norm() / weights.norm()),
        new_class_won_by_new_units=float((winners(twos) >= born).float().mean()) if grow else None,
        old_accuracy_before=old_before, old_accuracy_after=accuracy([0, 1], [0, 1, 2]),
        new_accuracy=accuracy([2], [0, 1, 2]))

