import numpy as np
import pytest

from hebbnet.continual import metrics

# R[i, j]: accuracy on task j after training task i.
R = np.array([
    [0.9, 0.2, 0.1],
    [0.5, 0.8, 0.3],
    [0.4, 0.6, 0.7],
])
B = np.array([0.1, 0.1, 0.2])


def test_average_accuracy_is_the_mean_of_the_last_row():
    assert metrics.average_accuracy(R) == pytest.approx((0.4 + 0.6 + 0.7) / 3)


def test_backward_transfer_compares_final_with_just_trained():
    assert metrics.backward_transfer(R) == pytest.approx(((0.4 - 0.9) + (0.6 - 0.8)) / 2)


def test_forward_transfer_compares_before_training_with_random_init():
    assert metrics.forward_transfer(R, B) == pytest.approx(((0.2 - 0.1) + (0.3 - 0.2)) / 2)


def test_forgetting_uses_the_best_earlier_accuracy():
    np.testing.assert_allclose(metrics.forgetting_per_task(R), [0.9 - 0.4, 0.8 - 0.6])
    assert metrics.average_forgetting(R) == pytest.approx((0.5 + 0.2) / 2)


def test_forgetting_differs_from_bwt_when_accuracy_peaks_later():
    # Task 0 keeps improving while task 1 trains, then drops: forgetting counts from the peak.
    R2 = np.array([[0.6, 0.1, 0.1], [0.9, 0.8, 0.1], [0.5, 0.7, 0.9]])
    assert metrics.backward_transfer(R2) == pytest.approx(((0.5 - 0.6) + (0.7 - 0.8)) / 2)
    assert metrics.average_forgetting(R2) == pytest.approx(((0.9 - 0.5) + (0.8 - 0.7)) / 2)


def test_single_task_has_no_transfer_or_forgetting():
    one = np.array([[0.7]])
    assert metrics.summarize(one, np.array([0.1])) == {
        "acc": 0.7, "bwt": 0.0, "fwt": 0.0, "forgetting": 0.0, "forgetting_per_task": []
    }


def test_non_square_matrix_is_rejected():
    with pytest.raises(ValueError, match="square"):
        metrics.backward_transfer(np.zeros((2, 3)))
