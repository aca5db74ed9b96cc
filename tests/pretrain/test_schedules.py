import math

import numpy as np
import pytest

from suite.errors import SuiteError
from suite.train.schedules import cosine, cosine_with_warmup


def test_cosine_with_warmup_endpoints():
    lr = cosine_with_warmup(3e-4, 100, 0.3)
    assert len(lr) == 100
    assert lr[0] == 0.0 and lr[29] == pytest.approx(3e-4 * 29 / 30) and lr[30] == pytest.approx(3e-4)
    assert (np.diff(lr[:31]) > 0).all() and (np.diff(lr[30:]) < 0).all()
    assert lr[65] == pytest.approx(3e-4 * 0.5 * (1 + math.cos(math.pi * 35 / 70)))
    assert 0 < lr[-1] < 1e-6


def test_cosine_with_warmup_matches_transformers_formula():
    total, warm = 37, int(0.3 * 37)
    lr = cosine_with_warmup(1.0, total, 0.3)
    for s in range(total):
        expected = s / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / (total - warm)))
        assert lr[s] == pytest.approx(expected)


def test_teacher_momentum_cosine():
    m = cosine(0.996, 1.0, 1000)
    assert m[0] == 0.996 and (np.diff(m) > 0).all() and m[-1] < 1.0
    assert m[500] == pytest.approx(0.998)
    assert m[-1] == pytest.approx(1 - 0.002 * (1 + math.cos(math.pi * 999 / 1000)))


def test_bad_schedules():
    with pytest.raises(SuiteError):
        cosine(0.996, 1.0, 0)
    with pytest.raises(SuiteError):
        cosine_with_warmup(1.0, 10, 1.0)
