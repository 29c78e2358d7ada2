"""The replay buffer: reservoir uniformity and bounds, class balance, bytes, state."""

import pytest
import torch

from hebbnet.continual.benchmark import TensorSet
from hebbnet.data.packing import pack_pixels, unpack_pixels
from hebbnet.memory_systems.buffer import ReplayBuffer


def stream(n, n_classes=10, tasks=1):
    x = torch.arange(n, dtype=torch.int32).reshape(n, 1, 1, 1).to(torch.uint8)
    y = torch.arange(n) % n_classes
    t = torch.arange(n) * tasks // n
    return TensorSet(x, y, t)


def test_reservoir_keeps_every_stream_item_with_equal_probability():
    capacity, n, runs = 20, 200, 600
    counts = torch.zeros(n)
    for seed in range(runs):
        generator = torch.Generator().manual_seed(seed)
        buffer = ReplayBuffer(capacity)
        items = TensorSet(torch.zeros(n, 1), torch.arange(n), torch.zeros(n, dtype=torch.long))
        for batch in torch.arange(n).split(7):
            buffer.add_stream(items.select(batch), generator)
            assert len(buffer) <= capacity
        assert len(buffer) == capacity and len(buffer.samples().y.unique()) == capacity
        counts[buffer.samples().y] += 1
    expected = runs * capacity / n  # 60 per item
    # binomial sd ≈ 7.3; early, middle and late items alike
    for part in counts.split(50):
        assert part.mean().item() == pytest.approx(expected, rel=0.1)
    assert counts.min() > expected - 5 * 7.3 and counts.max() < expected + 5 * 7.3


def test_reservoir_fills_first_then_replaces():
    buffer = ReplayBuffer(5)
    generator = torch.Generator().manual_seed(0)
    buffer.add_stream(stream(3), generator)
    assert len(buffer) == 3 and buffer.seen == 3
    buffer.add_stream(stream(4), generator)
    assert len(buffer) == 5 and buffer.seen == 7


def test_class_balanced_buffer_splits_capacity_over_task_class_pairs():
    buffer = ReplayBuffer(40, policy="class_balanced")
    generator = torch.Generator().manual_seed(0)
    first = stream(100, n_classes=2)  # task 0, labels 0/1
    buffer.add_task(first, generator)
    assert torch.bincount(buffer.samples().y).tolist() == [20, 20]
    second = TensorSet(first.x, first.y, torch.ones_like(first.t))  # task 1, same labels
    buffer.add_task(second, generator)
    held = buffer.samples()
    keys = held.t * 2 + held.y
    assert torch.bincount(keys).tolist() == [10, 10, 10, 10]


def test_bytes_count_what_is_held_and_state_round_trips():
    buffer = ReplayBuffer(8, store_logits=True)
    data = TensorSet(torch.zeros(4, 1, 28, 28, dtype=torch.uint8), torch.zeros(4, dtype=torch.long),
                     torch.zeros(4, dtype=torch.long))
    buffer.add_stream(data, torch.Generator().manual_seed(0), logits=torch.randn(4, 10))
    assert buffer.nbytes == 8 * (784 + 8 + 8 + 10 * 4)
    copy = ReplayBuffer(8, store_logits=True)
    copy.load_state_dict(buffer.state_dict())
    assert copy.size == 4 and torch.equal(copy.logits, buffer.logits)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="buffer_size must be positive"):
        ReplayBuffer(0)
    with pytest.raises(ValueError, match="reservoir, class_balanced"):
        ReplayBuffer(10, policy="fifo")
    with pytest.raises(ValueError, match="smaller than the 10 classes"):
        ReplayBuffer(5, policy="class_balanced").add_task(stream(50), torch.Generator())
    with pytest.raises(RuntimeError, match="empty"):
        ReplayBuffer(5).sample(2, torch.Generator())


def digits(n, classes=2):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.int32).to(torch.uint8)
    return TensorSet(x, torch.arange(n) % classes, torch.zeros(n, dtype=torch.long))


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_packing_quantises_once_and_round_trips(bits):
    images = digits(5).x
    packed = pack_pixels(images, bits)
    assert packed.shape == (5, -(-784 * bits // 8)) and packed.dtype == torch.uint8
    restored = unpack_pixels(packed, bits, (1, 28, 28))
    levels = 2 ** bits - 1
    expected = ((images.float() * levels / 255).round() * 255 / levels).round().to(torch.uint8)
    assert torch.equal(restored, expected)
    assert torch.equal(pack_pixels(restored, bits), packed)  # packing again changes nothing


@pytest.mark.parametrize("policy", ["reservoir", "class_balanced"])
def test_a_packed_buffer_holds_episodes_in_the_hippocampus_format(policy):
    buffer = ReplayBuffer(10, policy, pixel_bits=1)
    data, generator = digits(40), torch.Generator().manual_seed(0)
    if policy == "reservoir":
        buffer.add_stream(data, generator)
    else:
        buffer.add_task(data, generator)
        buffer.add_task(TensorSet(data.x, data.y + 2, data.t + 1), generator)
    assert buffer.nbytes == 10 * (98 + 1 + 1)  # 784 pixels at 1 bit, a label and a task byte
    held = buffer.samples()
    assert held.y.dtype == torch.long and set(held.x.unique().tolist()) <= {0, 255}
    originals = {tuple(row.tolist()) for row in pack_pixels(data.x, 1)}
    assert all(tuple(row.tolist()) in originals for row in pack_pixels(held.x, 1))
    copy = ReplayBuffer(10, policy, pixel_bits=1)
    copy.load_state_dict(buffer.state_dict())
    assert torch.equal(copy.samples().x, held.x)


def test_packing_refuses_what_it_cannot_keep():
    with pytest.raises(ValueError, match="strategy.pixel_bits must be one of"):
        ReplayBuffer(10, pixel_bits=3)
    floats = TensorSet(torch.rand(4, 1, 2, 2), torch.zeros(4, dtype=torch.long),
                       torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="packs uint8 images.*pixel_bits=null"):
        ReplayBuffer(10, pixel_bits=1).add_stream(floats, torch.Generator())
    many = TensorSet(digits(4).x, torch.tensor([0, 1, 2, 300]), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="label 300"):
        ReplayBuffer(10, pixel_bits=1).add_stream(many, torch.Generator())
